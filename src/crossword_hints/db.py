"""The database connection: one Peewee database per application.

Models bind to :data:`database`, a proxy that :func:`init_app` points at
the real SQLite or PostgreSQL database named by ``DATABASE_URL``. Each
request takes a connection from the database's pool when it first needs
one and returns it at teardown, so that requests do not pay for opening
a connection. A pooled connection is checked before it is handed out.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee
from flask import Flask
from playhouse.pool import (
    PooledDatabase,
    PooledPostgresqlDatabase,
    PooledSqliteDatabase,
)

log = logging.getLogger(__name__)

#: The proxy every model binds to.
database = peewee.DatabaseProxy()

#: PRAGMAs for every SQLite connection, applied in this order. WAL lets
#: readers work while one writer commits. The busy timeout (milliseconds)
#: makes concurrent writers wait for the lock instead of failing at once.
#: It comes first so that switching to WAL waits too.
SQLITE_PRAGMAS = {
    "busy_timeout": 10_000,
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
}


class SqliteConnection(sqlite3.Connection):
    """A SQLite connection that remembers the file it opened."""

    #: ``(device, inode)`` of the file once the connection has read it, or
    #: ``None`` when there was no file at the path.
    file_id: tuple[int, int] | None = None


def file_id(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


class ClosingPoolMixin:
    """Close a pooled connection that fails its check instead of dropping it.

    Peewee's pool discards such a connection without closing it, which
    leaves the closing to the garbage collector.
    """

    def _is_closed(self, conn: Any) -> bool:
        if super()._is_closed(conn):  # type: ignore[misc]
            self._close_raw(conn)  # type: ignore[attr-defined]
            return True
        return False


class SqlitePool(ClosingPoolMixin, PooledSqliteDatabase):
    """A pool of SQLite connections that notices a moved or removed file.

    An open connection keeps using its file after the file is renamed or
    deleted, where a new connection would fail. So a pooled connection is
    reused only while the path still names the file it opened, and a
    database whose folder has been taken away fails as it does unpooled.

    NOTE: replace the file only while the site is stopped. When the last
    connection to the old file closes, SQLite deletes the ``-wal`` and
    ``-shm`` files by name, which may by then belong to the new file.
    """

    def _add_conn_hooks(self, conn: sqlite3.Connection) -> None:
        super()._add_conn_hooks(conn)
        # The PRAGMAs have read the file by now, so this is the file the
        # connection uses.
        if isinstance(conn, SqliteConnection):
            conn.file_id = file_id(self.database)

    def _is_closed(self, conn: sqlite3.Connection) -> bool:
        if self.database != ":memory:" and isinstance(conn, SqliteConnection):
            if conn.file_id is None or conn.file_id != file_id(self.database):
                log.warning(
                    "Closing a pooled connection to %s: the file was moved or removed",
                    self.database,
                )
                self._close_raw(conn)
                return True
        return super()._is_closed(conn)


class PostgresPool(ClosingPoolMixin, PooledPostgresqlDatabase):
    """A pool of PostgreSQL connections.

    Peewee runs ``SELECT 1`` on a pooled connection before handing it out,
    so a connection that a server restart has broken is replaced, not used.
    """


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


def open_database(url: str) -> peewee.Database:
    """Create a pooled Peewee database for *url* without connecting to it.

    ``sqlite:///relative/path``, ``sqlite:////absolute/path`` and
    ``postgresql://user:password@host:port/name?options`` are accepted.
    PostgreSQL query parameters are passed to psycopg as they are.

    The pool has no upper limit, as without a pool: it opens a connection
    for each request that runs while the others are in use, and keeps it
    for later requests.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]

    if scheme == "sqlite":
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else parts.path
        if not path:
            raise ValueError(f"DATABASE_URL {url!r} names no SQLite file")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqlitePool(
            path,
            pragmas=SQLITE_PRAGMAS,
            max_connections=None,
            factory=SqliteConnection,
            # A threaded server may hand a pooled connection to another
            # thread. Only one thread uses it at a time, between checkout
            # and return, so sqlite3's same-thread check is off.
            check_same_thread=False,
        )

    if scheme in ("postgres", "postgresql"):
        params = dict(parse_qsl(parts.query))
        params.setdefault("connect_timeout", "5")
        return PostgresPool(
            unquote(parts.path.lstrip("/")),
            max_connections=None,
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
    bind(db)
    app.extensions["peewee"] = db

    @app.before_request
    def bind_database() -> None:
        # Tests and commands may create several apps in one process; each
        # request must use its own app's database.
        bind(app.extensions["peewee"])

    @app.teardown_appcontext
    def close_connection(exc: BaseException | None) -> None:
        # With a pool, closing returns the connection for the next request.
        db = app.extensions["peewee"]
        if not db.is_closed():
            db.close()


def bind(db: peewee.Database) -> None:
    """Point :data:`database` at *db*.

    The database bound before keeps no idle connections, so that a process
    that creates many apps, as the tests do, keeps connections open only for
    the app in use.
    """
    previous = database.obj
    if previous is db:
        return

    database.initialize(db)
    if isinstance(previous, PooledDatabase):
        previous.close_idle()


def close_connections(db: peewee.Database | None = None) -> None:
    """Close every connection of *db*, by default the bound database.

    This is for a process about to fork and for the end of a test, because
    it also closes connections that other threads are using.
    """
    target = db if db is not None else database.obj
    if isinstance(target, PooledDatabase):
        target.close_all()
    elif target is not None and not target.is_closed():
        target.close()


def ping() -> bool:
    """Run a trivial query; return whether the database returned a row."""
    try:
        with database.connection_context():
            database.execute_sql("SELECT 1").fetchone()
    except peewee.PeeweeException as exc:
        log.warning("Database check failed: %s", exc)
        return False
    return True
