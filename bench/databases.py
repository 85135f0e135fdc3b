"""Apps on fresh databases, and fast bulk loading of generated rows.

A SQLite database is a new file in the run's temporary folder; a
PostgreSQL database is a new schema, dropped when the benchmark ends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import peewee
from flask import Flask

from . import data
from .harness import Context, NotMeasured

log = logging.getLogger(__name__)

#: Backends a benchmark can run on.
BACKENDS = ("sqlite", "postgresql")

#: Rows per batch when loading generated data.
BATCH = 5000

SOLUTION_COLUMNS = (
    "clue",
    "solution",
    "solution_hint",
    "crossword_setter_id",
    "solution_type_id",
    "created_at",
    "updated_at",
)


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """Create a schema on *server_url*, yield a URL that uses it, drop it."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        raise NotMeasured(f"PostgreSQL at {server_url} is not reachable") from exc

    separator = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def database_url(context: Context, backend: str, name: str) -> Iterator[str]:
    """Yield the URL of an empty database of *backend* for one benchmark."""
    if backend == "sqlite":
        folder = context.directory(name)
        yield f"sqlite:///{folder / 'bench.db'}"
    elif backend == "postgresql":
        with postgres_schema(context.postgres_url) as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")


def app_config(url: str, **overrides: Any) -> dict[str, Any]:
    """Settings for a benchmark app run in this process.

    ``TESTING`` stays off, so that the app behaves as it does when served.
    The rate limit is off, and the app logs only warnings, so that its
    line per request does not flood the benchmark's own output.
    """
    config = {
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "DATABASE_URL": url,
        "RATELIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }
    config.update(overrides)
    return config


@contextmanager
def fresh_app(
    context: Context, backend: str, name: str, **overrides: Any
) -> Iterator[Flask]:
    """Yield an app on an empty, migrated database of *backend*."""
    from crossword_hints import create_app, db, migrations

    with database_url(context, backend, name) as url:
        instance = context.workdir / f"{name}-instance"
        app = create_app(app_config(url, **overrides), instance_path=str(instance))
        with app.app_context():
            migrations.upgrade(db.database.obj)
        try:
            yield app
        finally:
            peewee_db = app.extensions["peewee"]
            if not peewee_db.is_closed():
                peewee_db.close()


def peewee_database(app: Flask) -> peewee.Database:
    return app.extensions["peewee"]


def seed_catalogue(
    app: Flask, setter_types: int = 3, setters: int = 20, solution_types: int = 10
) -> None:
    """Insert the setter types, setters and solution types solutions need."""
    from crossword_hints.catalogue.models import Setter, SetterType, SolutionType

    with app.app_context(), peewee_database(app).atomic():
        SetterType.insert_many(
            [{"name": name} for name in data.setter_type_names(setter_types)]
        ).execute()
        Setter.insert_many(
            [
                {"name": name, "setter_type": index % setter_types + 1}
                for index, name in enumerate(data.setter_names(setters))
            ]
        ).execute()
        SolutionType.insert_many(
            [{"name": name} for name in data.solution_type_names(solution_types)]
        ).execute()


def load_rows(
    app: Flask, table: str, columns: Iterable[str], rows: Iterable[tuple]
) -> int:
    """Insert *rows* into *table* in batches, bypassing the models.

    Raw inserts are far faster than model saves for millions of rows and
    skip the activity log on purpose. Database triggers still fire.
    Returns the number of rows inserted.
    """
    columns = list(columns)
    db = peewee_database(app)
    count = 0

    with app.app_context(), db.connection_context():
        connection = db.connection()
        if isinstance(db, peewee.PostgresqlDatabase):
            column_list = ", ".join(columns)
            with db.atomic(), connection.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
        else:
            placeholders = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
            with db.atomic():
                batch: list[tuple] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= BATCH:
                        connection.executemany(sql, batch)
                        count += len(batch)
                        batch.clear()
                if batch:
                    connection.executemany(sql, batch)
                    count += len(batch)

    return count


def load_solutions(app: Flask, count: int, seed: int = 1) -> int:
    """Seed the catalogue and insert *count* generated solutions."""
    setters, solution_types = 20, 10
    seed_catalogue(app, setters=setters, solution_types=solution_types)
    rows = data.solution_rows(count, setters, solution_types, seed)
    return load_rows(app, "crossword_solutions", SOLUTION_COLUMNS, rows)


def connection_cost(app: Flask, fetch: Callable[[], object]) -> str:
    """Describe what opening and closing a connection costs the app.

    Calls *fetch* (one request) and checks whether the app closed its
    connection afterwards; if it did, every request pays for opening one.
    Returns an empty string when the app keeps its connection open.
    """
    from .harness import format_seconds, p50, time_call

    db = peewee_database(app)
    if not db.is_closed():
        db.close()
    fetch()
    if not db.is_closed():
        return ""

    def cycle() -> None:
        with app.app_context():
            db.connect()
            db.close()

    cycle()
    seconds = p50([time_call(cycle) for _ in range(20)])
    return (
        f"the app opens and closes its database connection on every request,"
        f" which takes {format_seconds(seconds)} (p50) here for a connection"
        " that wrote nothing"
    )
