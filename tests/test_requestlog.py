"""Request ids and the one log line written for each request."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest
from flask import Flask, g

from conftest import ACCOUNTS, login
from crossword_hints import create_app, requestlog, security

REQUEST_LOGGER = "crossword_hints.requestlog"


@pytest.fixture
def app(app: Flask) -> Flask:
    @app.get("/test-request-id")
    def show_request_id() -> dict:
        logging.getLogger("crossword_hints.test").info("inside the view")
        return {"request_id": g.request_id}

    return app


def request_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == REQUEST_LOGGER]


def test_one_line_per_request(client, caplog):
    caplog.set_level(logging.INFO, logger="crossword_hints")

    client.get("/")
    client.get("/no/such/page")
    client.put("/")
    records = request_records(caplog)

    assert [(record.method, record.path, record.status) for record in records] == [
        ("GET", "/", 200),
        ("GET", "/no/such/page", 404),
        ("PUT", "/", 405),
    ]


def test_request_line_fields(client, caplog):
    caplog.set_level(logging.INFO, logger="crossword_hints")
    assert login(client, "setter").status_code == 302
    caplog.clear()

    response = client.get("/test-request-id")
    (record,) = request_records(caplog)

    assert record.request_id == response.headers["X-Request-ID"]
    assert record.method == "GET"
    assert record.path == "/test-request-id"
    assert record.status == 200
    assert record.user == "setter"
    assert record.remote_addr == "127.0.0.1"
    assert record.duration_ms >= 0
    assert record.getMessage().startswith("GET /test-request-id 200 ")
    assert record.getMessage().endswith(" 127.0.0.1 user=setter")


def test_request_id_reaches_view_and_logs(client, caplog):
    caplog.set_level(logging.INFO, logger="crossword_hints")

    response = client.get("/test-request-id")
    (inside,) = [r for r in caplog.records if r.name == "crossword_hints.test"]

    assert response.json["request_id"] == response.headers["X-Request-ID"]
    assert inside.request_id == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("incoming", "accepted"),
    [
        ("abc-123", True),
        ("9f1c2b4e-0d6a-4c3e-8a51-2f7b9d0e6c11", True),
        ("trace.id_7", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("", False),
        ("-starts-with-dash", False),
        ("has space", False),
        ("<script>", False),
        ("a/b", False),
        ("tab\there", False),
        ("é-accent", False),
    ],
)
def test_incoming_request_id_checked(client, incoming, accepted):
    response = client.get("/test-request-id", headers={"X-Request-ID": incoming})
    echoed = response.headers["X-Request-ID"]

    assert response.json["request_id"] == echoed
    if accepted:
        assert echoed == incoming
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_every_request_gets_new_id(client):
    first = client.get("/test-request-id").headers["X-Request-ID"]
    second = client.get("/test-request-id").headers["X-Request-ID"]

    assert first != second


def test_error_response_carries_request_id(client):
    response = client.post("/login", data={"username": "setter"})

    assert response.status_code == 400
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_log_omits_secrets(client, caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="crossword_hints")

    login(client, "setter")
    cookie = client.get_cookie("session").value
    client.get(
        "/?q=query-text-not-logged",
        headers={"Authorization": "Basic c2V0dGVyOmVkaXRvci1wYXNz"},
    )
    logged = caplog.text + capsys.readouterr().err

    assert "GET / 200" in logged
    assert ACCOUNTS["setter"] not in logged
    assert cookie not in logged
    assert "query-text-not-logged" not in logged
    assert "c2V0dGVyOmVkaXRvci1wYXNz" not in logged


def test_control_characters_in_path_escaped(client, caplog):
    caplog.set_level(logging.INFO, logger="crossword_hints")

    client.get("/no/such%0Apage%1B")
    (record,) = request_records(caplog)

    assert record.path == "/no/such\\x0apage\\x1b"
    assert "\n" not in record.getMessage()


def test_json_format_writes_objects(app_config, tmp_path, capsys):
    app = create_app(
        {**app_config, "LOG_FORMAT": "json"}, instance_path=str(tmp_path / "instance")
    )
    capsys.readouterr()

    response = app.test_client().get("/no/such/page")
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    entries = [json.loads(line) for line in lines]
    (entry,) = [entry for entry in entries if entry["logger"] == REQUEST_LOGGER]

    assert entry["request_id"] == response.headers["X-Request-ID"]
    assert entry["method"] == "GET"
    assert entry["path"] == "/no/such/page"
    assert entry["status"] == 404
    assert entry["user"] is None
    assert entry["level"] == "INFO"
    assert entry["time"].endswith("+00:00")


def test_json_format_includes_traceback():
    formatter = requestlog.JsonFormatter()
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.getLogger("crossword_hints.test").makeRecord(
            "crossword_hints.test",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("once",),
            exc_info=sys.exc_info(),
        )

    entry = json.loads(formatter.format(record))

    assert entry["message"] == "failed once"
    assert "ValueError: broken" in entry["exception"]
    assert entry["request_id"] == "-"


def test_text_format_is_default(app_config, tmp_path, capsys):
    app = create_app(app_config, instance_path=str(tmp_path / "instance"))
    capsys.readouterr()

    response = app.test_client().get("/no/such/page")
    err = capsys.readouterr().err

    assert f"[{response.headers['X-Request-ID']}] GET /no/such/page 404" in err


def test_repeated_apps_log_once(app_config, tmp_path, capsys):
    for number in range(3):
        create_app(app_config, instance_path=str(tmp_path / f"instance{number}"))
    app = create_app(app_config, instance_path=str(tmp_path / "instance"))
    capsys.readouterr()

    app.test_client().get("/no/such/page")
    err = capsys.readouterr().err

    assert err.count("GET /no/such/page 404") == 1


@pytest.mark.parametrize(
    ("setting", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")]
)
def test_invalid_log_setting_rejected(app_config, tmp_path, setting, value):
    with pytest.raises(security.ConfigurationError) as raised:
        create_app(
            {**app_config, setting: value}, instance_path=str(tmp_path / "instance")
        )

    assert setting in str(raised.value.code)
    assert value in str(raised.value.code)
