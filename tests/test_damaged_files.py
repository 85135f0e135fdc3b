"""A damaged or hand-edited database file gets a clear message, never a traceback.

``DATABASE_URL`` points at a file that is garbage, cut short, overwritten
in the middle, only a header, or edited by hand. Every page returns a
page or a clear 503, ``/healthz`` says 503 when nothing can be read, and
every command prints one ``Error:`` line and exits with status 1 when it
cannot work. A damaged file given to ``import-legacy`` as its *source* is
covered by the legacy import tests; here the site's own database is
damaged.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import LEGACY_DB
from crossword_hints import create_app
from servers import BIN, ROOT, clean_environment, gunicorn

#: The start of a log record: date, time, level and logger.
LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ [\w.]+ ")

#: Pages that read the database.
PAGES = [
    "/",
    "/?q=anagram",
    "/setter-types/",
    "/crossword-solutions/",
    "/cue-words/1",
    "/api/setter-types",
    "/api/search?q=anagram",
]


def site_environment(tmp_path: Path, database: Path) -> dict[str, str]:
    return clean_environment(
        tmp_path,
        DATABASE_URL=f"sqlite:///{database}",
        SECRET_KEY="damaged-file-key-" + "x" * 32,
    )


def run_command(environment: dict[str, str], *arguments: str):
    return subprocess.run(
        [str(BIN / "crossword-hints"), *arguments],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def working_database(tmp_path: Path) -> Path:
    """Build a site database with the demo catalogue in it; return its path."""
    path = tmp_path / "built" / "site.db"
    environment = site_environment(tmp_path, path)
    for command in (["init-db"], ["load-demo"]):
        result = run_command(environment, *command)
        assert result.returncode == 0, result.stderr
    # Fold the write-ahead log into the file, so that the file alone is
    # the whole database and damaging it damages the data.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    return path


def garbage(tmp_path: Path, target: Path) -> None:
    target.write_bytes(bytes(range(256)) * 64)


def truncated(tmp_path: Path, target: Path) -> None:
    data = working_database(tmp_path).read_bytes()
    target.write_bytes(data[: len(data) // 3])


def overwritten_pages(tmp_path: Path, target: Path) -> None:
    data = bytearray(working_database(tmp_path).read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    # Keep the header and the schema page; wipe pages from the second on.
    data[page_size : page_size * 8] = b"\x5a" * (page_size * 7)
    target.write_bytes(bytes(data))


def header_only(tmp_path: Path, target: Path) -> None:
    target.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)


def legacy_file(tmp_path: Path, target: Path) -> None:
    # The older app's database is a valid SQLite file with other tables.
    target.write_bytes(LEGACY_DB.read_bytes())


def table_dropped(tmp_path: Path, target: Path) -> None:
    target.write_bytes(working_database(tmp_path).read_bytes())
    with sqlite3.connect(target) as connection:
        connection.execute("PRAGMA foreign_keys=OFF")
        connection.execute("DROP TABLE cue_words")


DAMAGES: list[Callable[[Path, Path], None]] = [
    garbage,
    truncated,
    overwritten_pages,
    header_only,
    legacy_file,
    table_dropped,
]


@pytest.fixture(params=DAMAGES, ids=lambda damage: damage.__name__)
def damaged_file(request, tmp_path: Path) -> Path:
    target = tmp_path / "damaged" / "site.db"
    target.parent.mkdir()
    request.param(tmp_path, target)
    return target


def assert_one_line_error(result) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    if result.returncode != 0:
        assert result.returncode == 1, output
        # Log records go to stderr too; apart from them, one line is left.
        lines = [
            line
            for line in result.stderr.strip().splitlines()
            if not LOG_RECORD.match(line)
        ]
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: "), result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["init-db"],
        ["activity", "verify"],
        ["load-demo", "--if-empty"],
        ["import-legacy", str(LEGACY_DB)],
    ],
    ids=lambda command: command[0] if len(command) == 1 else " ".join(command[:2]),
)
def test_command_on_damaged_file_fails_cleanly(tmp_path, damaged_file, command):
    environment = site_environment(tmp_path, damaged_file)

    result = run_command(environment, *command)

    assert_one_line_error(result)


@pytest.mark.parametrize("damage", [garbage, truncated, header_only], ids=str)
def test_init_db_names_damaged_file(tmp_path, damage):
    target = tmp_path / "site.db"
    damage(tmp_path, target)
    environment = site_environment(tmp_path, target)

    result = run_command(environment, "init-db")

    assert result.returncode == 1
    assert "damaged or is not a SQLite database" in result.stderr
    assert "Restore it from a backup" in result.stderr


def test_pages_on_damaged_file_answer_clearly(tmp_path, damaged_file):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "damaged-file-key-" + "x" * 32,
            "DATABASE_URL": f"sqlite:///{damaged_file}",
            "RATELIMIT_ENABLED": False,
        },
        instance_path=str(tmp_path / "instance"),
    )
    # A fault in the code must reach the test as a 500, not as an exception.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()

    for path in PAGES:
        response = client.get(path)
        body = response.get_data(as_text=True)

        assert response.status_code in (200, 404, 503), f"{path}: {response.status}"
        assert "Traceback" not in body
        if response.status_code == 503:
            assert "Nothing was saved" in body or "nothing was saved" in body, path
            assert response.headers.get("Retry-After"), path

    # /healthz runs only SELECT 1, so a file damaged past its first page
    # can pass it while the pages that read the tables answer 503.
    health = client.get("/healthz")
    assert health.status_code in (200, 503)
    if health.status_code == 503:
        assert client.get("/").status_code == 503


@pytest.mark.parametrize("damage", [garbage, truncated], ids=str)
def test_damaged_file_page_says_damaged(tmp_path, damage):
    target = tmp_path / "site.db"
    damage(tmp_path, target)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "damaged-file-key-" + "x" * 32,
            "DATABASE_URL": f"sqlite:///{target}",
        },
        instance_path=str(tmp_path / "instance"),
    )

    client = app.test_client()
    response = client.get("/setter-types/")

    assert client.get("/healthz").status_code == 503
    assert response.status_code == 503
    assert "The database file is damaged" in response.get_data(as_text=True)


@pytest.mark.slow
def test_gunicorn_on_damaged_file_serves_503(tmp_path):
    target = tmp_path / "site.db"
    truncated(tmp_path, target)
    environment = clean_environment(
        tmp_path,
        DATABASE_URL=f"sqlite:///{target}",
        SECRET_KEY="damaged-file-key-" + "x" * 32,
        WEB_CONCURRENCY="2",
    )

    import urllib.error
    import urllib.request

    statuses = {}
    with gunicorn(tmp_path, environment) as server:
        for path in ["/healthz", *PAGES]:
            try:
                with urllib.request.urlopen(server.url + path, timeout=30) as reply:
                    statuses[path] = reply.status
            except urllib.error.HTTPError as error:
                statuses[path] = error.code
        log = server.log()

    print(f"\ngunicorn on a truncated file: {statuses}")
    assert statuses["/healthz"] == 503
    assert set(statuses.values()) <= {200, 404, 503}, statuses
    assert "Traceback" not in log
