"""The database connection: one Peewee database per application.

Models bind to :data:`database`, a proxy that :func:`init_app` points at
the real SQLite or PostgreSQL database named by ``DATABASE_URL``. Each
request opens a connection when it first needs one and closes it at
teardown.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee
from flask import Flask

log = logging.getLogger(__name__)

#: The proxy every model binds to.
database = peewee.DatabaseProxy()

#: PRAGMAs for every SQLite connection. WAL lets readers work while one
#: writer commits; the busy timeout makes concurrent writers wait for the
#: lock instead of failing at once.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "synchronous": "normal",
}


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


def open_database(url: str) -> peewee.Database:
    """Create a Peewee database for *url* without connecting to it.

    ``sqlite:///relative/path``, ``sqlite:////absolute/path`` and
    ``postgresql://user:password@host:port/name?options`` are accepted.
    PostgreSQL query parameters are passed to psycopg as they are.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]

    if scheme == "sqlite":
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else parts.path
        if not path:
            raise ValueError(f"DATABASE_URL {url!r} names no SQLite file")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=10)

    if scheme in ("postgres", "postgresql"):
        params = dict(parse_qsl(parts.query))
        params.setdefault("connect_timeout", "5")
        return peewee.PostgresqlDatabase(
            unquote(parts.path.lstrip("/")),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname,
            port=parts.port,
            **params,
        )

    raise ValueError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, not {url!r}"
    )


def is_postgres(db: peewee.Database | None = None) -> bool:
    """Tell whether *db* (by default the bound one) is PostgreSQL."""
    target = db if db is not None else database.obj
    return isinstance(target, peewee.PostgresqlDatabase)


def default_url(app: Flask) -> str:
    return "sqlite:///" + os.path.join(app.instance_path, "crossword_hints.db")


def init_app(app: Flask) -> None:
    """Bind :data:`database` to the app's database and manage connections."""
    url = app.config.get("DATABASE_URL") or default_url(app)
    app.config["DATABASE_URL"] = url
    db = open_database(url)
    database.initialize(db)
    app.extensions["peewee"] = db

    @app.before_request
    def bind_database() -> None:
        # Tests and commands may create several apps in one process; each
        # request must use its own app's database.
        if database.obj is not app.extensions["peewee"]:
            database.initialize(app.extensions["peewee"])

    @app.teardown_appcontext
    def close_connection(exc: BaseException | None) -> None:
        db = app.extensions["peewee"]
        if not db.is_closed():
            db.close()


def ping() -> bool:
    """Run a trivial query; return whether the database returned a row."""
    try:
        with database.connection_context():
            database.execute_sql("SELECT 1").fetchone()
    except peewee.PeeweeException as exc:
        log.warning("Database check failed: %s", exc)
        return False
    return True
