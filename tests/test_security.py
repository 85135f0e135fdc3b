"""Secret keys, cookie flags, security headers and proxy trust."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from flask import Flask, request

from conftest import DIRECTORY_LDIF, login
from crossword_hints import create_app, db, migrations, security

STRONG_KEY = "k" * 48
OLD_KEY = "o" * 48
NEW_KEY = "n" * 48

PRODUCTION = {"ENV": "production", "SECRET_KEY": STRONG_KEY}

REQUIRED_CSP_DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'self'",
]

#: Environment variables that would leak the developer's settings into a
#: subprocess under test.
SETTING_VARIABLES = ("SECRET_KEY", "DATABASE_URL", "APP_SETTINGS")


@pytest.fixture
def clean_environment(monkeypatch):
    """Remove every setting from the environment of this test."""
    for name in list(os.environ):
        if name.startswith("CROSSWORD_HINTS_") or name in SETTING_VARIABLES:
            monkeypatch.delenv(name)


def make_app(database_url: str, instance: Path, **config) -> Flask:
    """Create an app on *database_url* with the shared directory and *config*."""
    settings = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "DIRECTORY_LDIF": [str(path) for path in DIRECTORY_LDIF],
        "RATELIMIT_ENABLED": False,
    }
    settings.update(config)
    app = create_app(settings, instance_path=str(instance))
    with app.app_context():
        migrations.upgrade(db.database.obj)
    return app


def is_logged_in(client) -> bool:
    return b"Logged in as" in client.get("/").data


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie was set"
    return cookie.value


def set_cookie_header(response) -> str:
    headers = [
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith("session=")
    ]
    assert headers, "the response set no session cookie"
    return headers[-1]


def subprocess_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("CROSSWORD_HINTS_") and name not in SETTING_VARIABLES
    }
    environment["CROSSWORD_HINTS_INSTANCE_PATH"] = str(tmp_path / "instance")
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'subprocess.db'}"
    environment.update(variables)
    return environment


# -- Secret key ----------------------------------------------------------------


def test_development_key_survives_restart(clean_environment, database_url, tmp_path):
    instance = tmp_path / "instance"
    first = make_app(database_url, instance, SECRET_KEY="")
    client = first.test_client()
    assert login(client, "setter").status_code == 302
    cookie = session_cookie(client)

    restarted = make_app(database_url, instance, SECRET_KEY="")
    other_client = restarted.test_client()
    other_client.set_cookie("session", cookie)

    assert restarted.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert is_logged_in(other_client)


def test_development_key_file_is_private(clean_environment, database_url, tmp_path):
    instance = tmp_path / "instance"
    app = make_app(database_url, instance, SECRET_KEY="")
    key_file = instance / "secret_key"

    assert key_file.read_text().strip() == app.config["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(app.config["SECRET_KEY"]) >= security.MIN_KEY_BYTES


def test_development_key_is_one_under_race(tmp_path):
    app = Flask("race", instance_path=str(tmp_path / "instance"))
    keys: list[str] = []
    start = threading.Barrier(8)

    def read_key() -> None:
        start.wait()
        keys.append(security.development_key(app))

    threads = [threading.Thread(target=read_key) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 8
    assert len(set(keys)) == 1
    assert list((tmp_path / "instance").iterdir()) == [
        tmp_path / "instance" / "secret_key"
    ]


def test_environment_key_is_used(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("CROSSWORD_HINTS_SECRET_KEY", NEW_KEY)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": database_url}, instance_path=str(tmp_path))

    assert app.config["SECRET_KEY"] == NEW_KEY
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("key", "complaint"),
    [
        ("", "SECRET_KEY is not set"),
        ("ChangeMe", "SECRET_KEY is still a placeholder"),
        ("changeme-" + "x" * 40, "SECRET_KEY is still a placeholder"),
        ("secret", "SECRET_KEY is still a placeholder"),
        ("too-short-key", "SECRET_KEY is 13 bytes long"),
        ("d" * 31, "SECRET_KEY is 31 bytes long"),
    ],
)
def test_production_rejects_weak_key(key, complaint):
    with pytest.raises(security.ConfigurationError) as raised:
        security.check_production_key(key)

    message = str(raised.value.code)
    assert complaint in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"SECRET_KEY": "ChangeMe"},
        {"CROSSWORD_HINTS_SECRET_KEY": "ChangeMe"},
        {"SECRET_KEY": "short"},
    ],
    ids=["missing", "placeholder", "prefixed-placeholder", "short"],
)
@pytest.mark.parametrize(
    "command",
    [
        ["crossword-hints", "init-db"],
        [sys.executable, "-c", "from crossword_hints import create_app; create_app()"],
    ],
    ids=["cli", "python"],
)
def test_production_start_exits_naming_key(tmp_path, variables, command):
    if command[0] == "crossword-hints":
        command = [str(Path(sys.executable).parent / "crossword-hints"), *command[1:]]
    environment = subprocess_environment(
        tmp_path, CROSSWORD_HINTS_ENV="production", **variables
    )

    result = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=120
    )

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY" in lines[0]
    assert not (tmp_path / "instance" / "secret_key").exists()


@pytest.mark.parametrize("name", ["prod", "Prodution", "staging", ""])
def test_unknown_environment_name_rejected(database_url, tmp_path, name):
    with pytest.raises(security.ConfigurationError) as raised:
        create_app(
            {"ENV": name, "SECRET_KEY": STRONG_KEY, "DATABASE_URL": database_url},
            instance_path=str(tmp_path),
        )

    assert "CROSSWORD_HINTS_ENV" in str(raised.value.code)


@pytest.mark.parametrize("name", ["development", "production", "Production"])
def test_known_environment_name_accepted(database_url, tmp_path, name):
    app = create_app(
        {"ENV": name, "SECRET_KEY": STRONG_KEY, "DATABASE_URL": database_url},
        instance_path=str(tmp_path),
    )

    assert app.config["SESSION_COOKIE_SECURE"] is (name.lower() == "production")


def test_production_accepts_strong_key(database_url, tmp_path):
    app = create_app(
        {**PRODUCTION, "DATABASE_URL": database_url}, instance_path=str(tmp_path)
    )

    assert app.config["SECRET_KEY"] == STRONG_KEY
    assert not (tmp_path / "secret_key").exists()


def test_production_rejects_placeholder_fallback(database_url, tmp_path):
    with pytest.raises(security.ConfigurationError) as raised:
        create_app(
            {
                **PRODUCTION,
                "DATABASE_URL": database_url,
                "SECRET_KEY_FALLBACKS": [OLD_KEY, "ChangeMe"],
            },
            instance_path=str(tmp_path),
        )

    assert "SECRET_KEY_FALLBACKS entry 2" in str(raised.value.code)


@pytest.mark.parametrize(
    ("value", "keys"),
    [
        (None, []),
        ("", []),
        ([], []),
        ("one", ["one"]),
        ("one two", ["one", "two"]),
        ("one, two,three", ["one", "two", "three"]),
        (["one", "two"], ["one", "two"]),
    ],
)
def test_key_list_parses_fallbacks(value, keys):
    assert security.key_list(value) == keys


def test_rotated_key_keeps_sessions(database_url, tmp_path):
    old_app = make_app(database_url, tmp_path / "old", SECRET_KEY=OLD_KEY)
    client = old_app.test_client()
    assert login(client, "setter").status_code == 302
    cookie = session_cookie(client)

    rotated = make_app(
        database_url,
        tmp_path / "rotated",
        SECRET_KEY=NEW_KEY,
        SECRET_KEY_FALLBACKS=[OLD_KEY],
    )
    rotated_client = rotated.test_client()
    rotated_client.set_cookie("session", cookie)

    dropped = make_app(database_url, tmp_path / "dropped", SECRET_KEY=NEW_KEY)
    dropped_client = dropped.test_client()
    dropped_client.set_cookie("session", cookie)

    assert is_logged_in(rotated_client)
    assert not is_logged_in(dropped_client)


def test_fallbacks_read_from_environment(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv(
        "CROSSWORD_HINTS_SECRET_KEY_FALLBACKS", f"{OLD_KEY} {STRONG_KEY}"
    )
    app = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": NEW_KEY},
        instance_path=str(tmp_path),
    )

    assert app.config["SECRET_KEY_FALLBACKS"] == [OLD_KEY, STRONG_KEY]


# -- Cookies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "secure"),
    [({}, False), (PRODUCTION, True)],
    ids=["development", "production"],
)
def test_session_cookie_flags(mode, secure, database_url, tmp_path):
    app = make_app(
        database_url, tmp_path / "instance", PERMANENT_SESSION_LIFETIME=3600, **mode
    )
    client = app.test_client()

    response = login(client, "setter")
    header = set_cookie_header(response)
    attributes = [part.strip().lower() for part in header.split(";")]
    expires = next(part for part in attributes if part.startswith("expires="))
    expiry = parsedate_to_datetime(expires.split("=", 1)[1])
    now = datetime.now(UTC)

    assert response.status_code == 302
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert ("secure" in attributes) is secure
    assert now + timedelta(minutes=50) < expiry <= now + timedelta(minutes=61)


def test_session_lifetime_is_configurable(database_url, tmp_path):
    app = make_app(
        database_url, tmp_path / "instance", PERMANENT_SESSION_LIFETIME=7 * 24 * 3600
    )
    client = app.test_client()

    header = set_cookie_header(login(client, "setter"))
    expires = re.search(r"Expires=([^;]+)", header)
    assert expires, header
    expiry = parsedate_to_datetime(expires.group(1))

    assert expiry > datetime.now(UTC) + timedelta(days=6)
    assert expiry <= datetime.now(UTC) + timedelta(days=7, minutes=1)


def test_anonymous_page_sets_no_cookie(client):
    response = client.get("/static/site.css")

    assert response.headers.getlist("Set-Cookie") == []


# -- Security headers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/login", 200),
        ("GET", "/static/site.css", 200),
        ("GET", "/no/such/page", 404),
        ("PUT", "/", 405),
        ("POST", "/login", 400),
    ],
)
@pytest.mark.parametrize("mode", [{}, PRODUCTION], ids=["development", "production"])
def test_security_headers_on_every_response(
    mode, method, path, status, database_url, tmp_path
):
    app = make_app(database_url, tmp_path / "instance", **mode)
    response = app.test_client().open(path, method=method)
    headers = response.headers
    policy = [part.strip() for part in headers["Content-Security-Policy"].split(";")]

    assert response.status_code == status
    for directive in REQUIRED_CSP_DIRECTIVES:
        assert directive in policy
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "unsafe-eval" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in (
        "same-origin",
        "strict-origin-when-cross-origin",
    )
    if mode:
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
    else:
        assert "Strict-Transport-Security" not in headers


def test_hsts_off_when_max_age_zero(database_url, tmp_path):
    app = make_app(database_url, tmp_path / "instance", HSTS_MAX_AGE=0, **PRODUCTION)

    response = app.test_client().get("/")

    assert "Strict-Transport-Security" not in response.headers


INLINE_CODE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "inline <script>"),
    (re.compile(r"<style\b", re.IGNORECASE), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "event handler attribute"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/login", 200),
        ("/no/such/page", 404),
        ("/crossword-solutions/", 200),
        ("/cue-words/", 200),
        ("/crossword-setters/", 200),
        ("/setter-types/", 200),
        ("/solution-types/", 200),
        ("/setter-types/new", 200),
        ("/crossword-solutions/new", 200),
        ("/activity/", 200),
        ("/password", 200),
        ("/logout", 200),
    ],
)
def test_pages_have_no_inline_code(as_admin, path, status):
    response = as_admin.get(path)
    page = response.get_data(as_text=True)

    assert response.status_code == status
    for pattern, name in INLINE_CODE:
        match = pattern.search(page)
        assert match is None, f"{path} has an {name}, which the CSP blocks: {match}"


# -- Proxies -------------------------------------------------------------------


def add_client_view(app: Flask) -> None:
    @app.get("/test-client-address")
    def client_address() -> dict:
        return {"address": request.remote_addr, "scheme": request.scheme}


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "forwarded_proto", "address", "scheme"),
    [
        (0, "203.0.113.9", "https", "127.0.0.1", "http"),
        (1, "203.0.113.9", "https", "203.0.113.9", "https"),
        (1, "198.51.100.66, 203.0.113.9", "https", "203.0.113.9", "https"),
        (2, "198.51.100.66, 203.0.113.9", "http, https", "198.51.100.66", "http"),
    ],
    ids=["trust-nothing", "one-hop", "one-hop-spoofed", "two-hops"],
)
def test_proxy_headers_trusted_per_hop(
    hops, forwarded_for, forwarded_proto, address, scheme, database_url, tmp_path
):
    app = make_app(
        database_url,
        tmp_path / "instance",
        PROXY_FIX_X_FOR=hops,
        PROXY_FIX_X_PROTO=hops,
    )
    add_client_view(app)

    response = app.test_client().get(
        "/test-client-address",
        headers={
            "X-Forwarded-For": forwarded_for,
            "X-Forwarded-Proto": forwarded_proto,
        },
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )

    assert response.json == {"address": address, "scheme": scheme}


def test_negative_proxy_hops_rejected(database_url, tmp_path):
    with pytest.raises(security.ConfigurationError) as raised:
        create_app(
            {
                "DATABASE_URL": database_url,
                "SECRET_KEY": STRONG_KEY,
                "PROXY_FIX_X_FOR": -1,
            },
            instance_path=str(tmp_path),
        )

    assert "PROXY_FIX_X_FOR" in str(raised.value.code)
