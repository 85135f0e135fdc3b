"""Every error has a clear page, and a JSON body for API requests."""

from __future__ import annotations

import logging

import peewee
import pytest
from flask import Flask, abort
from werkzeug.exceptions import TooManyRequests

from crossword_hints import errors

TEN_MEGABYTES = b"x" * (10 * 1024 * 1024)

#: Status, title on the page, and a phrase of the message.
ERRORS = [
    (400, "Bad request", "could not be understood"),
    (403, "Forbidden", "may not do this"),
    (404, "Not found", "nothing at this address"),
    (405, "Method not allowed", "does not accept"),
    (409, "Conflict", "changed this record"),
    (413, "Request too large", "larger than the site accepts (1 MB)"),
    (429, "Too many requests", "Wait a minute"),
    (500, "Internal server error", "has been logged"),
    (503, "Service unavailable", "try again in a minute"),
]


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # Let unhandled exceptions reach the 500 handler, as in production.
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def app(app: Flask) -> Flask:
    """The test app with one view per error, at /test-error/<status> and /api/..."""

    def fail(status: int):
        if status == 409:
            raise errors.Conflict(errors.STANDARD_ERRORS[409][1])
        if status == 500:
            raise RuntimeError("a bug in a view")
        abort(status)

    app.add_url_rule("/test-error/<int:status>", "test_error", fail)
    app.add_url_rule("/api/test-error/<int:status>", "test_api_error", fail)
    return app


@pytest.mark.parametrize(("status", "title", "phrase"), ERRORS)
def test_error_page_for_status(client, status, title, phrase):
    response = client.get(f"/test-error/{status}")
    page = response.get_data(as_text=True)

    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f"<h1>{title}</h1>" in page
    assert phrase in page
    assert "Traceback" not in page


@pytest.mark.parametrize(("status", "title", "phrase"), ERRORS)
def test_error_json_for_api(client, status, title, phrase):
    response = client.get(f"/api/test-error/{status}")
    error = response.json["error"]

    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert error["status"] == status
    assert error["title"] == title
    assert phrase in error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]


def test_json_error_for_json_client(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert response.json["error"]["title"] == "Not found"


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "phrase"),
    [
        ("GET", "/no/such/page", None, 404, "nothing at this address"),
        ("PUT", "/", None, 405, "does not accept"),
        ("POST", "/login", {"username": "setter"}, 400, "CSRF token is missing"),
        ("POST", "/login", TEN_MEGABYTES, 413, "(1 MB)"),
    ],
    ids=["unknown-path", "wrong-method", "no-csrf-token", "ten-megabytes"],
)
def test_real_request_gets_error_page(client, method, path, data, status, phrase):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.open(path, method=method, data=data, headers=headers)
    page = response.get_data(as_text=True)

    assert response.status_code == status
    assert phrase in page
    assert 'class="error-message"' in page


def test_request_too_large_as_json(client):
    response = client.post(
        "/login",
        data=TEN_MEGABYTES,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )

    assert response.status_code == 413
    assert response.json["error"]["title"] == "Request too large"


def test_method_not_allowed_keeps_allow_header(client):
    response = client.put("/")

    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_too_many_requests_keeps_retry_after(app, client):
    @app.get("/test-rate-limited")
    def rate_limited():
        raise TooManyRequests("5 per 1 minute", retry_after=42)

    response = client.get("/test-rate-limited")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"
    assert "the limit is 5 per 1 minute" in response.get_data(as_text=True)


def test_database_down_gets_503(app, client):
    @app.get("/test-database-down")
    def database_down():
        raise peewee.OperationalError("connection refused")

    response = client.get("/test-database-down")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Nothing was saved" in response.get_data(as_text=True)


def test_server_error_logged_once_with_reference(client, caplog):
    caplog.set_level(logging.ERROR, logger="crossword_hints")

    response = client.get("/test-error/500")
    request_id = response.headers["X-Request-ID"]
    tracebacks = [record for record in caplog.records if record.exc_info]

    assert response.status_code == 500
    assert request_id in response.get_data(as_text=True)
    assert len(tracebacks) == 1
    assert "a bug in a view" in str(tracebacks[0].exc_info[1])
    assert tracebacks[0].request_id == request_id


def test_client_error_shows_no_reference(client):
    response = client.get("/no/such/page")

    assert response.headers["X-Request-ID"] not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (1024 * 1024, "1 MB"),
        (512 * 1024, "512 KB"),
        (1536 * 1024, "1.5 MB"),
        (10, "10 bytes"),
    ],
)
def test_size_text_is_readable(size, text):
    assert errors.size_text(size) == text
