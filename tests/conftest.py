"""Shared fixtures: an app on a fresh database for every test.

The database is a new SQLite file, or, when ``CROSSWORD_HINTS_TEST_DATABASE``
names a PostgreSQL server, a new schema in it that is dropped afterwards.
``make test`` runs the suite both ways.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from crossword_hints import create_app, db, migrations

pytest_plugins = ["slapd_fixtures"]

#: The shared data beside the repository: the older app's database and the
#: directory the site logs in against.
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LEGACY_DB = SHARED / "legacy" / "crossword_hints.db"
DIRECTORY_LDIF = [
    SHARED / "directory" / "base.ldif",
    SHARED / "directory" / "users.ldif",
]

#: The three accounts of the shared directory.
ACCOUNTS = {
    "xword": "admin-pass",
    "setter": "editor-pass",
    "solver": "reader-pass",
}

TEST_DATABASE = os.environ.get("CROSSWORD_HINTS_TEST_DATABASE", "")


def on_postgres() -> bool:
    return TEST_DATABASE.startswith("postgres")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database for one test."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(TEST_DATABASE, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in TEST_DATABASE else "?"
    yield f"{TEST_DATABASE}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(TEST_DATABASE, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def app_config(database_url: str) -> dict:
    """Settings for the test app; override this fixture to change them."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "DIRECTORY_LDIF": [str(path) for path in DIRECTORY_LDIF],
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture
def app(app_config: dict, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(app_config, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        migrations.upgrade(db.database.obj)
    yield app
    # Pooled connections would otherwise stay open until the app is
    # garbage collected, and PostgreSQL allows only so many.
    db.close_connections(app.extensions["peewee"])


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """Fetch *path* and return the CSRF token from its first form."""
    import re

    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str | None = None):
    """Log in through the real form and return the response."""
    if password is None:
        password = ACCOUNTS[username]
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
    )


@pytest.fixture
def as_editor(client: FlaskClient) -> FlaskClient:
    assert login(client, "setter").status_code == 302
    return client


@pytest.fixture
def as_admin(client: FlaskClient) -> FlaskClient:
    assert login(client, "xword").status_code == 302
    return client
