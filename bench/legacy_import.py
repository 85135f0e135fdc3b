"""Importing a database in the older app's layout against a plain copy.

The older app kept its data in SQLite tables keyed by ``rowid``, with text
timestamps and ``*_id`` references. This benchmark builds such a database
from the word list. Then it takes turns running ``crossword-hints
import-legacy`` into a new database and a plain ``sqlite3`` copy of the
same rows into tables of the same shape. Each runs in a process of its
own, so that its peak memory can be read.

Run as ``python -m bench.legacy_import copy SOURCE TARGET`` it is that
plain copy.
"""

from __future__ import annotations

import logging
import os
import pstats
import random
import sqlite3
import sys
import time
from datetime import timedelta
from pathlib import Path

from . import data
from .activity import logging_off
from .databases import (
    SOLUTION_COLUMNS,
    fresh_app,
    load_rows,
    peewee_database,
    seed_catalogue,
)
from .harness import (
    ROOT,
    ChildRun,
    Context,
    Figure,
    NotMeasured,
    Profile,
    explain_miss,
    format_bytes,
    format_count,
    format_seconds,
    python_command,
    require,
    run_child,
    summarize_stats,
)

log = logging.getLogger(__name__)

#: Rows in the legacy database per scale, over all tables.
SIZES = {
    "tiny": 500,
    "default": 50_000,
    "full": 1_000_000,
}

#: Turns of each side per scale; the figure is the median time of each.
ROUNDS = {"tiny": 1, "default": 2, "full": 2}

MAX_RATIO = 3.0
MAX_PEAK_RSS = 200 * 1024 * 1024

#: The older app's tables, as that app created them in SQLite: no declared
#: primary key, so ``rowid`` is the id.
LEGACY_SCHEMA = """
CREATE TABLE setter_types (
    name CHAR(32) NOT NULL, description TEXT,
    created_at DATETIME, updated_at DATETIME);
CREATE TABLE crossword_setters (
    name CHAR(32) NOT NULL, setter_type_id INTEGER, description CHAR(64),
    created_at DATETIME, updated_at DATETIME);
CREATE TABLE solution_types (
    name CHAR(32) NOT NULL, description TEXT,
    created_at DATETIME, updated_at DATETIME);
CREATE TABLE crossword_solutions (
    crossword_setter_id INTEGER NOT NULL, clue VARCHAR(256) NOT NULL,
    solution VARCHAR(64) NOT NULL, solution_hint VARCHAR(64),
    solution_type_id INTEGER NOT NULL, created_at DATETIME, updated_at DATETIME);
CREATE TABLE users (username VARCHAR(32), created_at DATETIME, updated_at DATETIME);
CREATE TABLE activity_logs (
    actor CHAR(32) NOT NULL, action CHAR(6) NOT NULL, item_type VARCHAR,
    item_id INTEGER NOT NULL, act_action TEXT,
    created_at DATETIME, updated_at DATETIME);
CREATE TABLE cue_words (
    cue_word VARCHAR(32), meaning VARCHAR(64),
    created_at DATETIME, updated_at DATETIME);
"""

SETTER_TYPES = 5
SETTERS = 100
SOLUTION_TYPES = 20


def planned(context: Context) -> list[Figure]:
    rows = context.pick(SIZES)
    return [
        Figure(
            title=f"Importing a {format_count(rows)}-row database in the older"
            " app's layout",
            compared_with="a plain `sqlite3` copy of the same rows",
            goal=f"at most {MAX_RATIO:g} times; peak memory under"
            f" {format_bytes(MAX_PEAK_RSS)}",
            size=f"{format_count(rows)} rows (90% solutions, 10% cue words)",
        )
    ]


def run(context: Context, figures: list[Figure]) -> None:
    (figure,) = figures
    require("crossword_hints.catalogue.legacy")
    command = Path(sys.executable).with_name("crossword-hints")
    if not command.exists():
        raise NotMeasured(f"the console script {command} is missing")

    rows = context.pick(SIZES)
    folder = context.directory("legacy-import")
    source = folder / "legacy.db"
    log.info("Writing a legacy database of %s rows", format_count(rows))
    write_legacy_database(source, rows)

    imports: list[ChildRun] = []
    copies: list[ChildRun] = []
    for index in range(context.pick(ROUNDS)):
        target = folder / f"round-{index}"
        target.mkdir()
        sides = [
            lambda target=target: imports.append(run_import(command, source, target)),
            lambda target=target: copies.append(run_copy(source, target / "copy.db")),
        ]
        if index % 2:
            sides.reverse()
        for side in sides:
            side()

    import_seconds = median([run.seconds for run in imports])
    copy_seconds = median([run.seconds for run in copies])
    peak = max(run.peak_rss for run in imports)

    figure.ratio = import_seconds / copy_seconds
    figure.met = figure.ratio <= MAX_RATIO and peak < MAX_PEAK_RSS
    figure.measured = (
        f"{format_seconds(import_seconds)} against {format_seconds(copy_seconds)};"
        f" import peak memory {format_bytes(peak)}"
    )
    figure.details = [
        f"Import: {format_seconds(import_seconds)} (median of {len(imports)}),"
        f" {format_count(rows / import_seconds)} rows/s, peak resident memory"
        f" {format_bytes(peak)}.",
        f"Plain copy: {format_seconds(copy_seconds)}, peak resident memory"
        f" {format_bytes(max(run.peak_rss for run in copies))}.",
        "Each side runs in its own process; the time includes starting Python"
        " and, for the import, loading the app. The target database was"
        " created with `crossword-hints init-db` before the clock started.",
    ]

    if not figure.met:
        profile = profile_import(context, command, source) if context.profile else None
        reason = (
            "the import's own work: starting Python and loading the app, then"
            " checking and converting every row in Python; see its profile."
        )
        index_cost = search_index_cost(context, rows)
        if index_cost is not None:
            _, without, rebuild = index_cost
            reason = (
                "the import's own work: starting Python and loading the app,"
                " checking and converting every row in Python, and the one"
                " rebuild of the full-text index at the end, since the import"
                " sets the index triggers aside. For the same number of"
                " generated solutions, inserting them without the triggers takes"
                f" {format_seconds(without)} and the rebuild"
                f" {format_seconds(rebuild)}."
            )
        explain_miss(figure, reason, profile)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def import_environment(target: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{target / 'imported.db'}",
            "CROSSWORD_HINTS_INSTANCE_PATH": str(target / "instance"),
            "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        }
    )
    return env


def run_import(command: Path, source: Path, target: Path) -> ChildRun:
    env = import_environment(target)
    prepared = run_child([str(command), "init-db"], env=env, cwd=target)
    if prepared.exit_code != 0:
        raise RuntimeError(f"crossword-hints init-db failed: {prepared.output}")

    result = run_child(
        [str(command), "import-legacy", str(source)], env=env, cwd=target
    )
    if result.exit_code != 0:
        raise RuntimeError(
            f"crossword-hints import-legacy failed ({result.exit_code}):"
            f" {result.output[-2000:]}"
        )
    log.info("Import took %s", format_seconds(result.seconds))
    return result


def run_copy(source: Path, target: Path) -> ChildRun:
    args = [*python_command(), "-m", "bench.legacy_import", "copy", str(source)]
    result = run_child([*args, str(target)], cwd=ROOT)
    if result.exit_code != 0:
        raise RuntimeError(f"the plain copy failed: {result.output[-2000:]}")
    log.info("Plain copy took %s", format_seconds(result.seconds))
    return result


def profile_import(context: Context, command: Path, source: Path) -> Profile | None:
    """Run one import under cProfile in its own process; summarize it."""
    target = context.directory("legacy-import-profile")
    env = import_environment(target)
    run_child([str(command), "init-db"], env=env, cwd=target)
    output = target / "import.prof"
    run_child(
        [
            *python_command(),
            "-m",
            "cProfile",
            "-o",
            str(output),
            str(command),
            "import-legacy",
            str(source),
        ],
        env=env,
        cwd=target,
    )
    if not output.exists():
        log.warning("The profiled import wrote no profile")
        return None
    return summarize_stats(pstats.Stats(str(output)), calls=1)


def search_index_cost(context: Context, rows: int) -> tuple[float, float, float] | None:
    """Time loading solutions with the full-text triggers and without them.

    Returns the seconds with the triggers, without them, and of the one
    index rebuild that replaces them. Returns ``None`` when the schema has
    no SQLite FTS5 table over solutions.
    """
    count = int(rows * 0.9)
    seconds = []
    for variant in ("with-triggers", "without-triggers"):
        with fresh_app(context, "sqlite", f"legacy-index-{variant}") as app:
            db = peewee_database(app)
            with logging_off():
                seed_catalogue(app)
            with app.app_context(), db.connection_context():
                index = db.execute_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'"
                    " AND sql LIKE '%content=''crossword_solutions''%'"
                ).fetchone()
                if index is None:
                    return None
                if variant == "without-triggers":
                    triggers = db.execute_sql(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                        " AND tbl_name = 'crossword_solutions'"
                    ).fetchall()
                    for (name,) in triggers:
                        db.execute_sql(f'DROP TRIGGER "{name}"')

            generated = data.solution_rows(count, 20, 10, seed=3)
            start = time.perf_counter()
            load_rows(app, "crossword_solutions", SOLUTION_COLUMNS, generated)
            seconds.append(time.perf_counter() - start)

            if variant == "without-triggers":
                with app.app_context(), db.connection_context(), db.atomic():
                    start = time.perf_counter()
                    db.execute_sql(
                        f'INSERT INTO "{index[0]}" ("{index[0]}") VALUES (\'rebuild\')'
                    )
                    seconds.append(time.perf_counter() - start)

    return seconds[0], seconds[1], seconds[2]


def write_legacy_database(path: Path, rows: int) -> None:
    """Write a database in the older app's layout with *rows* rows in all."""
    small = SETTER_TYPES + SETTERS + SOLUTION_TYPES + 1
    cue_words = max(1, (rows - small) // 10)
    solutions = max(1, rows - small - cue_words)
    source = data.WordSource(seed=3)
    chooser = random.Random(3)

    def stamp(minutes: int) -> str:
        return (data.EPOCH - timedelta(minutes=minutes)).isoformat(" ")

    connection = sqlite3.connect(path)
    try:
        connection.executescript(LEGACY_SCHEMA)
        with connection:
            connection.executemany(
                "INSERT INTO setter_types VALUES (?, ?, ?, ?)",
                [
                    (name, source.sentence(3, 8), stamp(9000), stamp(9000))
                    for name in data.setter_type_names(SETTER_TYPES)
                ],
            )
            connection.executemany(
                "INSERT INTO crossword_setters VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        name,
                        index % SETTER_TYPES + 1,
                        source.sentence(3, 8),
                        stamp(8000),
                        stamp(8000),
                    )
                    for index, name in enumerate(data.setter_names(SETTERS))
                ],
            )
            connection.executemany(
                "INSERT INTO solution_types VALUES (?, ?, ?, ?)",
                [
                    (name, source.sentence(3, 8), stamp(7000), stamp(7000))
                    for name in data.solution_type_names(SOLUTION_TYPES)
                ],
            )
            connection.execute(
                "INSERT INTO users VALUES ('xword', ?, ?)", (stamp(9500), stamp(9500))
            )
            generated = data.solution_rows(solutions, SETTERS, SOLUTION_TYPES, seed=3)
            connection.executemany(
                "INSERT INTO crossword_solutions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        chooser.randint(1, SETTERS),
                        clue,
                        answer,
                        hint,
                        chooser.randint(1, SOLUTION_TYPES),
                        created,
                        updated,
                    )
                    for clue, answer, hint, *_, created, updated in generated
                ),
            )
            connection.executemany(
                "INSERT INTO cue_words VALUES (?, ?, ?, ?)",
                (
                    (
                        source.word(),
                        f"{source.sentence(3, 9)} ({index})",
                        stamp(index),
                        stamp(index),
                    )
                    for index in range(cue_words)
                ),
            )
    finally:
        connection.close()


def copy_plain(source: Path, target: Path) -> None:
    """Copy every table of *source* into the same tables in a new *target*.

    This is the baseline: the least work that moves the same rows from one
    SQLite file to another through Python, row by row in one transaction.
    """
    source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    target_db = sqlite3.connect(target)
    try:
        target_db.executescript(LEGACY_SCHEMA)
        tables = [
            row[0]
            for row in source_db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        ]
        with target_db:
            for table in tables:
                cursor = source_db.execute(f'SELECT rowid, * FROM "{table}"')
                width = len(cursor.description)
                placeholders = ", ".join("?" for _ in range(width))
                columns = ", ".join(
                    ["rowid"] + [f'"{column[0]}"' for column in cursor.description[1:]]
                )
                target_db.executemany(
                    f'INSERT INTO "{table}" ({columns}) VALUES ({placeholders})',
                    cursor,
                )
    finally:
        source_db.close()
        target_db.close()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "copy":
        sys.exit("usage: python -m bench.legacy_import copy SOURCE TARGET")
    copy_plain(Path(sys.argv[2]), Path(sys.argv[3]))
