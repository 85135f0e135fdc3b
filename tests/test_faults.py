"""Fault drills: broken parts under load cost no acknowledged data.

Each drill starts the real pieces on 127.0.0.1 itself (gunicorn, a
private PostgreSQL cluster, a directory that never replies), breaks one
of them while clients keep working, and checks what was stored. Each
prints its counts of requests, faults and records checked.

* Worker killed mid-write: workers are killed with SIGKILL during edits,
  yet every record equals the state its activity history rebuilds and the
  hash chain verifies.
* Database gone: requests get a 503 page and ``/healthz`` a 503 while
  the database is away, service resumes by itself when it is back, and
  every acknowledged save is still there.
* Database full: with ``PRAGMA max_page_count`` standing in for a full
  disk, saves get a 507 page, nothing is half written, and reads work.
* Directory slow: pages that need no login are served while a login
  hangs on a directory that accepts connections and never replies.
"""

from __future__ import annotations

import glob
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from conftest import DIRECTORY_LDIF, TEST_DATABASE, login, on_postgres
from crossword_hints import activity, create_app, db, migrations
from crossword_hints.activity.models import ActivityLog
from crossword_hints.catalogue.models import SetterType
from servers import BIN, ROOT, clean_environment, free_port, gunicorn, init_db
from test_concurrent_edits import (
    Browser,
    create_setter_type,
    csrf_token,
    edit_form_fields,
    logged_in_browser,
)

pytestmark = pytest.mark.slow

#: The server ``make test`` uses, for runs whose main database is SQLite.
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

SECRET_KEY = "fault-drill-key-" + "x" * 32

#: Upper bound in seconds on every wait for a server to come back. It
#: stops a hung drill; it is not a speed requirement.
RECOVERY_SECONDS = 90


def report(capsys: pytest.CaptureFixture, line: str) -> None:
    """Print *line* in the test output even when pytest captures output."""
    with capsys.disabled():
        print(f"\n{line}")


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """Yield the URL of a fresh schema on the shared server, dropped afterwards."""
    base = TEST_DATABASE if on_postgres() else DEFAULT_POSTGRES
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def drill_database(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'site.db'}"
    return request.getfixturevalue("postgres_schema")


def site_environment(tmp_path: Path, database_url: str, **variables: str):
    return clean_environment(
        tmp_path, DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY, **variables
    )


def worker_pids(master: int) -> list[int]:
    """Return the pids of gunicorn's workers: the master's child processes."""
    children: list[int] = []
    for path in glob.glob(f"/proc/{master}/task/*/children"):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        children.extend(int(pid) for pid in text.split())
    return children


def app_for(database_url: str, tmp_path: Path):
    return create_app(
        {"SECRET_KEY": SECRET_KEY, "DATABASE_URL": database_url},
        instance_path=str(tmp_path / "checker"),
    )


# -- Worker killed mid-write --------------------------------------------------------

WORKERS = 3
EDITORS = 4
RECORDS = 4
KILLS = 10
KILL_INTERVAL = 2.0


@dataclass
class Tally:
    """What the clients of one drill saw, shared between their threads."""

    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    accepted: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1

    def error(self, exc: Exception) -> None:
        with self.lock:
            self.errors[type(exc).__name__] += 1


def keep_editing(
    url: str, number: int, record_ids: list[int], stop: threading.Event, tally: Tally
) -> None:
    """Edit records through the real form until *stop* is set."""
    browser = logged_in_browser(url, "setter" if number % 2 else "xword")
    edit = 0
    while not stop.is_set():
        record_id = record_ids[(number + edit) % len(record_ids)]
        edit += 1
        path = f"/setter-types/{record_id}/edit"
        try:
            page = browser.get(path)
            tally.count(page.status)
            if page.status != 200:
                continue
            fields = edit_form_fields(page.text)
            description = f"editor {number} edit {edit}"
            response = browser.post(path, {**fields, "description": description})
            tally.count(response.status)
            if response.status == 302:
                with tally.lock:
                    tally.accepted.append(
                        (record_id, response.headers.get("X-Request-ID", ""))
                    )
        except (OSError, HTTPException, AssertionError) as exc:
            # A killed worker drops its connection, or sends half a page
            # (IncompleteRead is an HTTPException, not an OSError).
            tally.error(exc)


def rebuilt_states(app, record_ids: list[int]) -> list[str]:
    """Compare each record with its rebuilt history; return the differences."""
    table = SetterType._meta.table_name
    problems = []
    with app.app_context():
        for record_id in record_ids:
            row = SetterType.get_by_id(record_id)
            state = activity.state_at(table, str(record_id), row.version)
            if state is None or not state.exists:
                problems.append(
                    f"record {record_id}: history has no version {row.version}"
                )
                continue
            for name in ("name", "description"):
                if state.values.get(name) != getattr(row, name):
                    problems.append(
                        f"record {record_id} {name}: stored {getattr(row, name)!r}, "
                        f"history {state.values.get(name)!r}"
                    )
            updates = (
                ActivityLog.select()
                .where(
                    (ActivityLog.item_type == table)
                    & (ActivityLog.item_id == str(record_id))
                    & (ActivityLog.action == "update")
                )
                .count()
            )
            if updates != row.version - 1:
                problems.append(
                    f"record {record_id}: version {row.version} but {updates} updates"
                )
    return problems


def logged_request_ids(app) -> set[str]:
    with app.app_context():
        return {
            entry.group_id
            for entry in ActivityLog.select(ActivityLog.group_id).where(
                ActivityLog.action == "update"
            )
        }


def run_verify(environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "crossword-hints"), "activity", "verify"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_killed_workers_lose_no_edit(tmp_path, drill_database, capsys):
    environment = site_environment(
        tmp_path, drill_database, WEB_CONCURRENCY=str(WORKERS)
    )
    init_db(environment)

    tally = Tally()
    stop = threading.Event()
    kills = 0
    with gunicorn(tmp_path, environment) as server:
        admin = logged_in_browser(server.url, "xword")
        record_ids = [create_setter_type(admin, number) for number in range(RECORDS)]
        threads = [
            threading.Thread(
                target=keep_editing, args=(server.url, number, record_ids, stop, tally)
            )
            for number in range(EDITORS)
        ]
        for thread in threads:
            thread.start()
        try:
            for _ in range(KILLS):
                time.sleep(KILL_INTERVAL)
                workers = worker_pids(server.process.pid)
                if workers:
                    os.kill(random.choice(workers), signal.SIGKILL)
                    kills += 1
            # Let the master replace the last worker before the edits end.
            time.sleep(KILL_INTERVAL)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=RECOVERY_SECONDS)

    verify = run_verify(environment)
    checker = app_for(drill_database, tmp_path)
    problems = rebuilt_states(checker, record_ids)
    logged = logged_request_ids(checker)
    unlogged = [
        request_id for _, request_id in tally.accepted if request_id not in logged
    ]

    requests = sum(tally.statuses.values())
    counts = (
        f"worker kills on {drill_database.split(':')[0]}: {requests} requests "
        f"{dict(tally.statuses)}, {kills} workers killed, "
        f"{sum(tally.errors.values())} dropped connections {dict(tally.errors)}, "
        f"{len(tally.accepted)} saves acknowledged, {len(record_ids)} records checked"
    )
    report(capsys, counts)
    assert kills == KILLS, counts
    assert tally.accepted, f"no edit was saved: {counts}"
    assert set(tally.statuses) <= {200, 302, 409}, counts
    assert problems == [], counts
    assert unlogged == [], counts
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "the chain is intact" in verify.stdout


# -- Database gone ------------------------------------------------------------------

#: Seconds of load before, during and after the outage.
PHASE_SECONDS = 4
LOADERS = 2


@dataclass
class Outage:
    """Statuses the clients saw in each phase, and the saves acknowledged."""

    phase: str = "before"
    statuses: dict[str, Counter] = field(
        default_factory=lambda: {
            name: Counter() for name in ("before", "down", "after")
        }
    )
    errors: Counter = field(default_factory=Counter)
    saved: list[tuple[int, str]] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    slowest: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def keep_adding(url: str, number: int, stop: threading.Event, outage: Outage) -> None:
    """Add setter types through the real form until *stop* is set."""
    browser = logged_in_browser(url, "xword")
    token = csrf_token(browser.get("/setter-types/new").text)
    count = 0
    while not stop.is_set():
        count += 1
        name = f"Load {number}-{count}"
        phase = outage.phase
        started = time.monotonic()
        try:
            response = browser.post(
                "/setter-types/new", {"name": name, "csrf_token": token}
            )
        except OSError as exc:
            with outage.lock:
                outage.errors[type(exc).__name__] += 1
            continue
        elapsed = time.monotonic() - started
        if outage.phase != phase:
            # The request was in flight while the database went or came back.
            phase = "down"
        with outage.lock:
            outage.statuses[phase][response.status] += 1
            if phase == "down":
                outage.slowest = max(outage.slowest, elapsed)
            if response.status == 302:
                match = re.search(r"/setter-types/(\d+)$", response.headers["Location"])
                outage.saved.append((int(match.group(1)), name))
            elif response.status == 503 and len(outage.pages) < 3:
                outage.pages.append(response.text)


def status_of(url: str) -> int:
    return Browser(url).get("/healthz").status


def wait_for_health(url: str, expected: int) -> None:
    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline:
        try:
            if status_of(url) == expected:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"/healthz did not return {expected} in time")


def run_outage(
    url: str, take_down, bring_back, capsys, label: str
) -> tuple[Outage, dict[str, int], str]:
    """Load the site, take the database away and back; return what was seen."""
    outage = Outage()
    stop = threading.Event()
    threads = [
        threading.Thread(target=keep_adding, args=(url, number, stop, outage))
        for number in range(LOADERS)
    ]
    for thread in threads:
        thread.start()
    checks = {}
    try:
        time.sleep(PHASE_SECONDS)
        # Saves from here on may meet the database going away.
        outage.phase = "down"
        take_down()
        wait_for_health(url, 503)
        browser = Browser(url)
        checks["healthz down"] = browser.get("/healthz").status
        front = browser.get("/setter-types/")
        checks["index down"] = front.status
        front_page = front.text
        time.sleep(PHASE_SECONDS)

        bring_back()
        wait_for_health(url, 200)
        outage.phase = "after"
        checks["healthz after"] = status_of(url)
        time.sleep(PHASE_SECONDS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=RECOVERY_SECONDS)

    report(
        capsys,
        f"database gone ({label}): statuses by phase "
        f"{ {phase: dict(counts) for phase, counts in outage.statuses.items()} }, "
        f"{sum(outage.errors.values())} connection errors, "
        f"{len(outage.saved)} saves acknowledged, slowest answer while down "
        f"{outage.slowest:.2f} s, checks {checks}",
    )
    return outage, checks, front_page


def assert_outage_handled(outage: Outage, checks: dict[str, int], page: str) -> None:
    assert checks == {"healthz down": 503, "index down": 503, "healthz after": 200}
    assert set(outage.statuses["before"]) <= {302}, outage.statuses
    assert set(outage.statuses["down"]) <= {302, 503}, outage.statuses
    assert outage.statuses["down"][503] > 0, outage.statuses
    assert set(outage.statuses["after"]) == {302}, outage.statuses
    assert "database is not answering" in page
    for saved_page in outage.pages:
        assert "Nothing was saved" in saved_page


def assert_saved_rows_present(app, saved: list[tuple[int, str]]) -> None:
    table = SetterType._meta.table_name
    with app.app_context():
        stored = {row.id: row.name for row in SetterType.select()}
        inserts = {
            int(entry.item_id)
            for entry in ActivityLog.select(ActivityLog.item_id).where(
                (ActivityLog.item_type == table) & (ActivityLog.action == "insert")
            )
        }
    missing = [(row_id, name) for row_id, name in saved if stored.get(row_id) != name]
    unlogged = [row_id for row_id, _ in saved if row_id not in inserts]
    assert missing == [], f"acknowledged saves lost: {missing[:5]}"
    assert unlogged == [], f"acknowledged saves not logged: {unlogged[:5]}"


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this test's own, run as the postgres user."""

    directory: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *arguments: str) -> None:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                *arguments,
            ],
            check=True,
            capture_output=True,
            timeout=RECOVERY_SECONDS,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory}"
        )
        self.pg_ctl(
            "-o", options, "-l", str(self.directory / "server.log"), "-w", "start"
        )

    def stop(self, mode: str = "immediate") -> None:
        self.pg_ctl("-m", mode, "-w", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """Yield a private PostgreSQL cluster on a free port, removed afterwards.

    The shared server on port 5432 serves other tests, so this drill stops
    only a cluster of its own.
    """
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert candidates, "PostgreSQL's initdb is not installed"
    bin_dir = Path(candidates[-1]).parent
    # The postgres user must reach the directory, and pytest's own
    # temporary directories belong to root with mode 0700.
    directory = Path(tempfile.mkdtemp(prefix="crossword-hints-pg-"))
    shutil.chown(directory, "postgres", "postgres")
    cluster = PrivatePostgres(directory, free_port(), bin_dir)
    subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(bin_dir / "initdb"),
            "-D",
            str(directory / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        timeout=RECOVERY_SECONDS,
    )
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop("fast")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(directory, ignore_errors=True)


def test_postgres_outage_loses_nothing(tmp_path, private_postgres, capsys):
    environment = site_environment(tmp_path, private_postgres.url, WEB_CONCURRENCY="2")
    init_db(environment)

    with gunicorn(tmp_path, environment) as server:
        outage, checks, page = run_outage(
            server.url,
            private_postgres.stop,
            private_postgres.start,
            capsys,
            "PostgreSQL stopped with pg_ctl -m immediate",
        )
        log = server.log()

    assert_outage_handled(outage, checks, page)
    assert_saved_rows_present(app_for(private_postgres.url, tmp_path), outage.saved)
    assert "Traceback" not in log


def test_sqlite_outage_loses_nothing(tmp_path, capsys):
    folder = tmp_path / "db"
    away = tmp_path / "db-away"
    database_url = f"sqlite:///{folder / 'site.db'}"
    environment = site_environment(tmp_path, database_url, WEB_CONCURRENCY="2")
    init_db(environment)

    # Root ignores file modes, so the folder is renamed: the file and its
    # write-ahead log are then really out of reach.
    with gunicorn(tmp_path, environment) as server:
        outage, checks, page = run_outage(
            server.url,
            lambda: folder.rename(away),
            lambda: away.rename(folder),
            capsys,
            "SQLite folder renamed away",
        )
        log = server.log()

    assert_outage_handled(outage, checks, page)
    assert_saved_rows_present(app_for(database_url, tmp_path), outage.saved)
    assert "Traceback" not in log


# -- Database full ------------------------------------------------------------------

#: Bound on the saves tried before the database must be full.
FILL_ATTEMPTS = 200


def test_full_database_rejects_writes_cleanly(tmp_path, capsys):
    database_url = f"sqlite:///{tmp_path / 'full.db'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "DIRECTORY_LDIF": [str(path) for path in DIRECTORY_LDIF],
            "RATELIMIT_ENABLED": False,
        },
        instance_path=str(tmp_path / "instance"),
    )
    with app.app_context():
        migrations.upgrade(db.database.obj)
        kept = SetterType.create(
            name="Kept", description="Saved before the disk filled."
        )
        database = app.extensions["peewee"]
        pages = database.pragma("page_count")
        # A few pages of room; permanent=True applies it to every later
        # connection too, as a small filesystem would.
        database.pragma("max_page_count", pages + 4, permanent=True)
        database.close()

    client = app.test_client()
    assert login(client, "xword").status_code == 302
    token = csrf_token(client.get("/setter-types/new").get_data(as_text=True))

    statuses: Counter = Counter()
    failed_name = None
    failure = None
    for attempt in range(FILL_ATTEMPTS):
        name = f"Filler {attempt}"
        response = client.post(
            "/setter-types/new",
            data={"name": name, "description": "x" * 1900, "csrf_token": token},
        )
        statuses[response.status_code] += 1
        if response.status_code != 302:
            failed_name, failure = name, response
            break

    reads = {
        path: client.get(path).status_code
        for path in ["/", "/setter-types/", f"/setter-types/{kept.id}", "/healthz"]
    }
    reads["/api/setter-types"] = client.get("/api/setter-types").status_code
    edit = client.post(
        f"/setter-types/{kept.id}/edit",
        data={
            "name": "Kept",
            "description": "y" * 1900,
            "version": "1",
            "csrf_token": token,
        },
    )
    with app.app_context():
        half_written = SetterType.select().where(SetterType.name == failed_name).count()
        entries = (
            ActivityLog.select()
            .where(ActivityLog.changes.contains(f'"{failed_name}"'))
            .count()
        )
        stored_kept = SetterType.get_by_id(kept.id)

    report(
        capsys,
        f"database full: {sum(statuses.values())} saves {dict(statuses)}, "
        f"reads afterwards {reads}, edit afterwards {edit.status_code}, "
        f"1 record and {entries} log entries checked for the failed save",
    )
    assert failure is not None, f"{FILL_ATTEMPTS} saves fitted: {dict(statuses)}"
    assert failure.status_code == 507
    assert "The database is full" in failure.get_data(as_text=True)
    assert half_written == 0
    assert entries == 0
    assert set(reads.values()) == {200}, reads
    assert edit.status_code in (302, 507)
    if edit.status_code == 507:
        assert stored_kept.description == "Saved before the disk filled."


# -- Directory slow -----------------------------------------------------------------


class SilentDirectory:
    """A listener that accepts connections and never sends a byte."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.running = True
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self) -> None:
        while self.running:
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.running = False
        self.thread.join()
        for connection in self.connections:
            connection.close()
        self.socket.close()


@contextmanager
def silent_directory() -> Iterator[SilentDirectory]:
    directory = SilentDirectory()
    try:
        yield directory
    finally:
        directory.close()


FREE_PAGES = ["/", "/?q=anagram", "/setter-types/", "/api/setter-types", "/healthz"]


def test_slow_directory_blocks_no_page(tmp_path, drill_database, capsys):
    with silent_directory() as directory:
        environment = site_environment(
            tmp_path,
            drill_database,
            WEB_CONCURRENCY="2",
            CROSSWORD_HINTS_LDAP_URL=f"ldap://127.0.0.1:{directory.port}/",
            CROSSWORD_HINTS_LDAP_BASE_DN="dc=example,dc=org",
            # Long enough that the pages below are all served while the
            # login still waits.
            CROSSWORD_HINTS_LDAP_CONNECT_TIMEOUT="60",
            CROSSWORD_HINTS_LDAP_TIMEOUT="60",
        )
        init_db(environment)

        with gunicorn(tmp_path, environment) as server:
            browser = Browser(server.url)
            token = csrf_token(browser.get("/login").text)
            login_result: dict[str, int] = {}

            def log_in() -> None:
                response = browser.post(
                    "/login",
                    {"username": "xword", "password": "x", "csrf_token": token},
                )
                login_result["status"] = response.status

            hanging = threading.Thread(target=log_in)
            hanging.start()
            deadline = time.monotonic() + RECOVERY_SECONDS
            while not directory.connections and time.monotonic() < deadline:
                time.sleep(0.05)

            served = {}
            for path in FREE_PAGES:
                served[path] = (
                    Browser(server.url).get(path).status,
                    "status" not in login_result,
                )

            directory.close()
            hanging.join(timeout=RECOVERY_SECONDS)
            log = server.log()

    report(
        capsys,
        f"directory slow on {drill_database.split(':')[0]}: "
        f"{len(directory.connections)} directory connections held, pages "
        f"(status, login still waiting) {served}, login then {login_result}",
    )
    assert directory.connections, "the login never reached the directory"
    for path, (status, waiting) in served.items():
        assert status == 200, f"{path} answered {status}"
        assert waiting, f"the login finished before {path} was served"
    assert login_result.get("status") == 503
    assert "Traceback" not in log
