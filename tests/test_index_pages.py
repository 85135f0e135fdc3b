"""Index pages: the queries they run, the links they build, pooled connections."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import psycopg
import pytest

from catalogue_samples import PREFIXES, add_samples
from crossword_hints import create_app, db, migrations
from crossword_hints.catalogue.sections import SECTIONS
from test_faults import postgres_schema  # noqa: F401  (a fixture)

SECTION_NAMES = list(PREFIXES)


@pytest.fixture
def samples(app):
    return add_samples(app)


class StatementLog(logging.Handler):
    """The SQL statements Peewee runs, from its DEBUG records."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Child loggers, such as the pool's, log other things.
        if record.name == "peewee":
            self.statements.append(record.msg[0])


@pytest.fixture
def statements() -> list[str]:
    logger = logging.getLogger("peewee")
    handler = StatementLog()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.statements
    logger.removeHandler(handler)
    logger.setLevel(level)


def app_on(app_config: dict, url: str, tmp_path: Path):
    """Create an app on the database at *url* and migrate it."""
    app = create_app(
        {**app_config, "DATABASE_URL": url}, instance_path=str(tmp_path / "instance")
    )
    with app.app_context():
        migrations.upgrade(db.database.obj)
    return app


# -- Counting -----------------------------------------------------------------


@pytest.mark.parametrize("name", SECTION_NAMES)
def test_count_query_counts_listed_rows(app, samples, name):
    section = SECTIONS[name]
    with app.app_context():
        listed = len(list(section.query()))
        counted = section.count_query().scalar()

    assert listed > 0
    assert counted == listed


#: Sections whose detail page lists the rows that refer to a row.
PARENT_SECTIONS = ["setter_types", "setters", "solution_types", "cue_words"]


@pytest.mark.parametrize("name", PARENT_SECTIONS)
def test_count_query_counts_children(app, samples, name):
    section = SECTIONS[name]
    assert section.references
    reference = section.references[0]
    child = SECTIONS[reference.section]
    with app.app_context():
        for row in section.model.select():
            condition = reference.field == row.get_id()
            listed = len(list(child.query().where(condition)))
            counted = child.count_query().where(condition).scalar()
            assert counted == listed, f"{name} {row.get_id()}"


@pytest.mark.parametrize("name", SECTION_NAMES)
def test_index_runs_one_statement(client, samples, statements, name):
    client.get(PREFIXES[name] + "/")
    statements.clear()

    response = client.get(PREFIXES[name] + "/")

    assert response.status_code == 200
    assert len(statements) == 1, statements
    assert "(SELECT COUNT(*) FROM" in statements[0]


@pytest.mark.parametrize(
    ("page", "status", "text"),
    [
        ("1", 200, "There are no solutions yet."),
        ("2", 404, "The list has 1 page."),
        # An offset of (10**18 - 1) * 25 rows is past the 64-bit range.
        ("9" * 40, 404, "The list has 1 page."),
    ],
)
def test_empty_index_pages(client, page, status, text):
    response = client.get("/crossword-solutions/", query_string={"page": page})

    assert response.status_code == status
    assert text in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["3", "9" * 40])
def test_page_past_end_counts_rows(app, client, samples, page):
    app.config["PER_PAGE"] = 1

    response = client.get("/crossword-solutions/", query_string={"page": page})

    assert response.status_code == 404
    assert "The list has 2 pages." in response.get_data(as_text=True)


def test_index_total_matches_rows(app, client, samples):
    app.config["PER_PAGE"] = 1

    first = client.get("/crossword-solutions/").get_data(as_text=True)
    second = client.get("/crossword-solutions/?page=2").get_data(as_text=True)

    assert "1–1 of 2 solutions" in first
    assert "2–2 of 2 solutions" in second


# -- Links ----------------------------------------------------------------------


def test_index_links_under_script_root(app, client, samples):
    with app.app_context():
        first = client.get("/crossword-solutions/").get_data(as_text=True)
        mounted = client.get(
            "/crossword-solutions/", base_url="http://localhost/hints/"
        ).get_data(as_text=True)

    assert f'href="/crossword-solutions/{samples.silent}"' in first
    assert f'href="/crossword-setters/{samples.anvil}"' in first
    assert f'href="/hints/crossword-solutions/{samples.silent}"' in mounted
    assert f'href="/hints/crossword-setters/{samples.anvil}"' in mounted
    assert f'href="/hints/solution-types/{samples.anagram}"' in mounted


def test_index_cells_escape_values(app, client, samples):
    with app.app_context():
        SECTIONS["solutions"].model.update(clue="<b>Bold</b> & (4)").where(
            SECTIONS["solutions"].model.id == samples.silent
        ).execute()

    page = client.get("/crossword-solutions/").get_data(as_text=True)

    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; (4)" in page
    assert "<b>Bold</b>" not in page


# -- Pooled connections -----------------------------------------------------------


def test_requests_reuse_one_connection(app):
    peewee_db = app.extensions["peewee"]
    with app.app_context():
        first = peewee_db.connection()
    with app.app_context():
        second = peewee_db.connection()

    assert second is first


def test_pooled_connection_serves_another_thread(client):
    # A threaded server hands the connection of one request to the next,
    # whichever thread serves it.
    assert client.get("/setter-types/").status_code == 200
    statuses = []

    def fetch() -> None:
        statuses.append(client.get("/setter-types/").status_code)

    thread = threading.Thread(target=fetch)
    thread.start()
    thread.join()

    assert statuses == [200]


def test_closed_pool_opens_new_connection(app, client):
    peewee_db = app.extensions["peewee"]
    with app.app_context():
        first = peewee_db.connection()

    db.close_connections(peewee_db)

    assert peewee_db.is_closed()
    with app.app_context():
        assert peewee_db.connection() is not first
    assert client.get("/healthz").status_code == 200


def is_open(connection) -> bool:
    """Tell whether a sqlite3 or psycopg connection is still open."""
    if isinstance(connection, sqlite3.Connection):
        try:
            connection.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            return False
        return True
    return not connection.closed


def test_new_app_closes_idle_connections_of_old(app, app_config, tmp_path):
    old_db = app.extensions["peewee"]
    with app.app_context():
        idle = old_db.connection()
    assert is_open(idle)

    other_url = f"sqlite:///{tmp_path / 'other' / 'other.db'}"
    other = app_on(app_config, other_url, tmp_path / "other")
    db.close_connections(other.extensions["peewee"])

    assert not is_open(idle)


def test_moved_sqlite_file_not_reused(app_config, tmp_path):
    folder = tmp_path / "db"
    away = tmp_path / "db-away"
    app = app_on(app_config, f"sqlite:///{folder / 'site.db'}", tmp_path)
    client = app.test_client()
    assert client.get("/setter-types/").status_code == 200

    folder.rename(away)
    healthz_away = client.get("/healthz").status_code
    index_away = client.get("/setter-types/").status_code
    away.rename(folder)
    healthz_back = client.get("/healthz").status_code
    db.close_connections(app.extensions["peewee"])

    assert healthz_away == 503
    assert index_away == 503
    assert healthz_back == 200


def test_broken_postgres_connection_replaced(
    app_config,
    tmp_path,
    postgres_schema,  # noqa: F811
):
    app = app_on(app_config, postgres_schema, tmp_path)
    client = app.test_client()
    assert client.get("/setter-types/").status_code == 200
    peewee_db = app.extensions["peewee"]
    with app.app_context():
        backend = peewee_db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]

    with psycopg.connect(postgres_schema, autocommit=True) as admin:
        # Waits up to 5 s for the backend to end.
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (backend,))
    after = client.get("/setter-types/").status_code
    db.close_connections(peewee_db)

    assert after == 200
