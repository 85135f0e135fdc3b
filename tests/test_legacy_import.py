"""The ``import-legacy`` command, on the real file and on built ones.

The small databases are built here in the older app's layout: tables
keyed by ``rowid``, ``*_id`` references and text timestamps.
"""

from __future__ import annotations

import hashlib
import os
import pty
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from conftest import LEGACY_DB
from crossword_hints import create_app
from crossword_hints.catalogue.models import (
    MODELS,
    CueWord,
    Setter,
    SetterType,
    Solution,
    SolutionType,
)

STAMP = "2019-03-01 10:00:00"

#: Column declarations of the older app's tables, in its own types, so
#: SQLite applies the same type affinities to what the tests store.
LAYOUT = {
    "setter_types": {
        "name": "CHAR(32) NOT NULL",
        "description": "TEXT",
        "created_at": "DATETIME",
        "updated_at": "DATETIME",
    },
    "crossword_setters": {
        "name": "CHAR(32) NOT NULL",
        "setter_type_id": "INTEGER",
        "description": "CHAR(64)",
        "created_at": "DATETIME",
        "updated_at": "DATETIME",
    },
    "solution_types": {
        "name": "CHAR(32) NOT NULL",
        "description": "TEXT",
        "created_at": "DATETIME",
        "updated_at": "DATETIME",
    },
    "crossword_solutions": {
        "crossword_setter_id": "INTEGER",
        "clue": "VARCHAR(256)",
        "solution": "VARCHAR(64)",
        "solution_hint": "VARCHAR(64)",
        "solution_type_id": "INTEGER",
        "created_at": "DATETIME",
        "updated_at": "DATETIME",
    },
    "cue_words": {
        "cue_word": "VARCHAR(32)",
        "meaning": "VARCHAR(64)",
        "created_at": "DATETIME",
        "updated_at": "DATETIME",
    },
    "users": {"username": "VARCHAR(32)", "created_at": "DATETIME"},
}

CATALOGUE_TABLES = [model._meta.table_name for model in MODELS]


def sample_rows() -> dict[str, list[dict]]:
    """Return one small catalogue of our own, rows in rowid order."""
    return {
        "setter_types": [
            {"name": "Daily", "description": "Weekday puzzles"},
            {"name": "Prize", "description": None},
        ],
        "crossword_setters": [
            {"name": "Quill", "setter_type_id": 1, "description": "Smooth"},
            {"name": "Vellum", "setter_type_id": 2, "description": None},
        ],
        "solution_types": [{"name": "Anagram", "description": "Letters moved"}],
        "crossword_solutions": [
            {
                "crossword_setter_id": 2,
                "clue": "Quiet, enlist (6)",
                "solution": "SILENT",
                "solution_hint": None,
                "solution_type_id": 1,
            },
        ],
        "cue_words": [
            {"cue_word": "broken", "meaning": "anagram indicator"},
            {"cue_word": "about", "meaning": "reversal indicator"},
        ],
        "users": [{"username": "someone"}],
    }


def build_legacy_db(
    path: Path,
    rows: dict[str, list[dict]],
    layout: dict[str, dict[str, str]] | None = None,
) -> Path:
    """Write a database in the older app's layout holding *rows*.

    Each table of *layout* (by default :data:`LAYOUT`) is created; a
    timestamp a row does not give is set to :data:`STAMP`.
    """
    layout = LAYOUT if layout is None else layout
    connection = sqlite3.connect(path)
    for table, columns in layout.items():
        declared = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        connection.execute(f"CREATE TABLE {table} ({declared})")
        for row in rows.get(table, []):
            values = {name: STAMP for name in ("created_at", "updated_at")}
            values.update(row)
            values = {name: values.get(name) for name in columns}
            marks = ", ".join("?" * len(values))
            connection.execute(
                f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks})",
                list(values.values()),
            )
    connection.commit()
    connection.close()
    return path


def import_legacy(runner, path: Path, *options: str):
    return runner.invoke(args=["import-legacy", *options, str(path)])


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        return {model._meta.table_name: model.select().count() for model in MODELS}


def snapshot(app) -> dict[str, list[tuple]]:
    """Return every catalogue row, to compare states before and after."""
    with app.app_context():
        return {
            model._meta.table_name: list(model.select().order_by(model.id).tuples())
            for model in MODELS
        }


def read_legacy(sql: str, *params) -> list[tuple]:
    uri = LEGACY_DB.resolve().as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as connection:
        return connection.execute(sql, params).fetchall()


# The real database of the older app.


def test_real_file_imports_every_table(app, runner):
    result = import_legacy(runner, LEGACY_DB)

    assert result.exit_code == 0, result.output
    assert table_counts(app) == {
        "setter_types": 5,
        "crossword_setters": 32,
        "solution_types": 19,
        "crossword_solutions": 913,
        "cue_words": 367,
    }
    assert "Imported 1336 row(s)." in result.output
    assert "users: 1 row(s) left alone" in result.output
    assert "Importing" not in result.output


def test_real_file_keeps_clue_setter_type(app, runner):
    clue = "Recalled Hill routine ending in joke Shakespeare quotation"
    ((row_id, setter_name, type_name, created_at),) = read_legacy(
        "SELECT s.rowid, c.name, t.name, s.created_at FROM crossword_solutions s"
        " JOIN crossword_setters c ON c.rowid = s.crossword_setter_id"
        " JOIN solution_types t ON t.rowid = s.solution_type_id WHERE s.clue = ?",
        clue,
    )

    assert import_legacy(runner, LEGACY_DB).exit_code == 0

    with app.app_context():
        solution = Solution.get(Solution.clue == clue)
        assert solution.id == row_id
        assert solution.solution == "ET TU BRUTE"
        assert solution.setter.name == setter_name
        assert solution.solution_type.name == type_name
        assert solution.created_at == datetime.fromisoformat(created_at)


def test_real_file_marks_nine_duplicates(app, runner):
    result = import_legacy(runner, LEGACY_DB)

    assert "kept 9 exact duplicate(s)" in result.output
    with app.app_context():
        copies = list(CueWord.select().where(CueWord.duplicate_of.is_null(False)))
        assert len(copies) == 9
        for copy in copies:
            first = copy.duplicate_of
            assert first.id < copy.id
            assert (first.cue_word, first.meaning) == (copy.cue_word, copy.meaning)
            assert first.duplicate_of is None


def test_real_file_second_run_changes_nothing(app, runner):
    assert import_legacy(runner, LEGACY_DB).exit_code == 0
    before = snapshot(app)

    result = import_legacy(runner, LEGACY_DB)

    assert result.exit_code == 0, result.output
    assert "Nothing to import: all 1336 rows already present." in result.output
    assert snapshot(app) == before


def test_real_file_dry_run_writes_nothing(app, runner):
    result = import_legacy(runner, LEGACY_DB, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "Dry run: 1336 row(s) would be imported" in result.output
    assert "913" in result.output
    assert table_counts(app) == dict.fromkeys(CATALOGUE_TABLES, 0)
    with app.app_context():
        assert SetterType.create(name="First after dry run").id == 1


def test_real_file_left_unchanged(app, runner):
    before = (hashlib.sha256(LEGACY_DB.read_bytes()).hexdigest(), LEGACY_DB.stat())

    assert import_legacy(runner, LEGACY_DB).exit_code == 0

    after = (hashlib.sha256(LEGACY_DB.read_bytes()).hexdigest(), LEGACY_DB.stat())
    assert after[0] == before[0]
    assert after[1].st_mtime_ns == before[1].st_mtime_ns


def test_new_rows_get_ids_after_imported(app, runner):
    assert import_legacy(runner, LEGACY_DB).exit_code == 0

    with app.app_context():
        setter_type = SetterType.create(name="Brand new type")
        solution = Solution.create(
            clue="A fresh clue (5)",
            solution="FRESH",
            setter=Setter.get_by_id(1),
            solution_type=SolutionType.get_by_id(1),
        )
        cue_word = CueWord.create(cue_word="fresh", meaning="new")

    assert setter_type.id == 6
    assert solution.id == 914
    assert cue_word.id == 368


# Small databases in the legacy layout.


def test_small_file_keeps_ids_and_times(app, runner, tmp_path):
    rows = sample_rows()
    rows["crossword_solutions"][0]["created_at"] = "2019-02-14 19:01:40.013503"
    rows["crossword_solutions"][0]["updated_at"] = "2019-02-15T08:00:00+02:00"
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    with app.app_context():
        solution = Solution.get_by_id(1)
        assert solution.setter.name == "Vellum"
        assert solution.hint == ""
        assert solution.created_at == datetime(2019, 2, 14, 19, 1, 40, 13503)
        assert solution.updated_at == datetime(2019, 2, 15, 6, 0, 0)
        assert solution.version == 1
        assert SetterType.get_by_id(2).description == ""
        assert Setter.get_by_id(1).created_at == datetime.fromisoformat(STAMP)


def test_missing_tables_skipped_with_note(app, runner, tmp_path):
    layout = {table: LAYOUT[table] for table in ("setter_types", "cue_words")}
    path = build_legacy_db(tmp_path / "old.db", sample_rows(), layout)

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    assert "crossword_setters    not in this file, skipped" in result.output
    assert "crossword_solutions  not in this file, skipped" in result.output
    assert table_counts(app) == {
        "setter_types": 2,
        "crossword_setters": 0,
        "solution_types": 0,
        "crossword_solutions": 0,
        "cue_words": 2,
    }


def test_missing_optional_columns_take_defaults(app, runner, tmp_path):
    layout = {table: dict(columns) for table, columns in LAYOUT.items()}
    for columns in layout.values():
        columns.pop("created_at")
        columns.pop("updated_at", None)
    del layout["setter_types"]["description"]
    del layout["crossword_solutions"]["solution_hint"]
    path = build_legacy_db(tmp_path / "old.db", sample_rows(), layout)

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    assert "setter_types: no description column, left empty" in result.output
    assert "cue_words: no created_at column, set to the import time" in result.output
    with app.app_context():
        setter_type = SetterType.get_by_id(1)
        assert setter_type.description == ""
        assert setter_type.updated_at == setter_type.created_at
        assert setter_type.created_at.year >= 2026
        assert Solution.get_by_id(1).hint == ""

    again = import_legacy(runner, path)
    assert again.exit_code == 0, again.output
    assert "Nothing to import: all 8 rows already present." in again.output


def test_missing_required_column_rejects_file(app, runner, tmp_path):
    layout = {table: dict(columns) for table, columns in LAYOUT.items()}
    del layout["cue_words"]["meaning"]
    path = build_legacy_db(tmp_path / "old.db", {}, layout)

    result = import_legacy(runner, path)

    assert result.exit_code == 1
    assert "table cue_words has no column meaning" in result.output
    assert table_counts(app) == dict.fromkeys(CATALOGUE_TABLES, 0)


def test_duplicate_cue_words_kept_and_marked(app, runner, tmp_path):
    rows = {
        "cue_words": [
            {"cue_word": "about", "meaning": "reversal indicator"},
            {"cue_word": "about", "meaning": "around"},
            {"cue_word": "about", "meaning": "reversal indicator"},
            {"cue_word": "About", "meaning": "reversal indicator"},
        ]
    }
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    assert "kept 1 exact duplicate(s), marked with duplicate_of: 3 (copy of 1)" in (
        result.output
    )
    with app.app_context():
        marks = dict(CueWord.select(CueWord.id, CueWord.duplicate_of).tuples())
    assert marks == {1: None, 2: None, 3: 1, 4: None}

    again = import_legacy(runner, path)
    assert "Nothing to import: all 4 rows already present." in again.output


def test_rows_already_present_are_skipped(app, runner, tmp_path):
    rows = sample_rows()
    assert (
        import_legacy(runner, build_legacy_db(tmp_path / "a.db", rows)).exit_code == 0
    )
    rows["cue_words"].append({"cue_word": "wild", "meaning": "anagram indicator"})
    rows["crossword_setters"].append(
        {"name": "Inkwell", "setter_type_id": 1, "description": "New"}
    )

    result = import_legacy(runner, build_legacy_db(tmp_path / "b.db", rows))

    assert result.exit_code == 0, result.output
    assert "Imported 2 row(s)." in result.output
    assert table_counts(app)["cue_words"] == 3
    assert table_counts(app)["crossword_setters"] == 3


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (
            {"id": 1, "name": "Daily", "description": "Changed since"},
            "setter_types id 1: differs from the existing row in description",
        ),
        (
            {"id": 1, "name": "Weekend", "description": "Weekday puzzles"},
            "setter_types id 1: differs from the existing row in name",
        ),
        (
            {"id": 7, "name": "Prize", "description": ""},
            "setter_types id 2: name 'Prize' already belongs to id 7",
        ),
    ],
    ids=["same-id-other-description", "same-id-other-name", "same-name-other-id"],
)
def test_clash_reported_and_nothing_imported(app, runner, tmp_path, existing, expected):
    with app.app_context():
        SetterType.create(**existing)
    before = snapshot(app)
    path = build_legacy_db(tmp_path / "old.db", sample_rows())

    result = import_legacy(runner, path)

    assert result.exit_code == 1
    assert expected in result.output
    assert "Nothing was imported: 1 row(s) clash with existing data" in result.output
    assert snapshot(app) == before


def test_row_saved_since_import_still_present(app, runner, tmp_path):
    path = build_legacy_db(tmp_path / "old.db", sample_rows())
    assert import_legacy(runner, path).exit_code == 0
    with app.app_context():
        SetterType.update(updated_at=datetime(2030, 1, 1), version=2).execute()

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    assert "Nothing to import: all 8 rows already present." in result.output


def test_other_creation_time_clashes(app, runner, tmp_path):
    rows = sample_rows()
    assert (
        import_legacy(runner, build_legacy_db(tmp_path / "a.db", rows)).exit_code == 0
    )
    rows["cue_words"][1]["created_at"] = "2020-01-01 00:00:00"

    result = import_legacy(runner, build_legacy_db(tmp_path / "b.db", rows))

    assert result.exit_code == 1
    assert "cue_words id 2: differs from the existing row in created_at" in (
        result.output
    )


def test_outdated_schema_rejected(app_config, tmp_path):
    app = create_app(app_config, instance_path=str(tmp_path / "instance"))
    path = build_legacy_db(tmp_path / "old.db", sample_rows())

    result = app.test_cli_runner().invoke(args=["import-legacy", str(path)])

    assert result.exit_code == 1
    assert "run `crossword-hints init-db` first" in result.output


def test_clash_fails_dry_run_too(app, runner, tmp_path):
    with app.app_context():
        SetterType.create(id=7, name="Prize")
    path = build_legacy_db(tmp_path / "old.db", sample_rows())

    result = import_legacy(runner, path, "--dry-run")

    assert result.exit_code == 1
    assert "name 'Prize' already belongs to id 7" in result.output


def test_setter_name_repeated_in_file_clashes(app, runner, tmp_path):
    rows = sample_rows()
    rows["crossword_setters"][1]["name"] = "Quill"
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 1
    assert "crossword_setters id 2: name 'Quill' already belongs to id 1" in (
        result.output
    )
    assert table_counts(app) == dict.fromkeys(CATALOGUE_TABLES, 0)


@pytest.mark.parametrize(
    ("table", "column", "value", "expected"),
    [
        (
            "crossword_setters",
            "setter_type_id",
            9,
            "crossword_setters id 1: setter_type_id 9 refers to no row in setter_types",
        ),
        (
            "crossword_solutions",
            "solution_type_id",
            5,
            "crossword_solutions id 1: solution_type_id 5 refers to no row in"
            " solution_types",
        ),
        (
            "crossword_setters",
            "setter_type_id",
            "two",
            "crossword_setters id 1: setter_type_id 'two' is not a whole number",
        ),
        (
            "crossword_setters",
            "setter_type_id",
            None,
            "crossword_setters id 1: setter_type_id is missing (NULL)",
        ),
        (
            "crossword_setters",
            "setter_type_id",
            -3,
            "crossword_setters id 1: setter_type_id -3 is outside 1 to",
        ),
        (
            "cue_words",
            "cue_word",
            "x" * 65,
            "cue_words id 1: cue_word is 65 characters long, over the limit of 64",
        ),
        (
            "crossword_solutions",
            "clue",
            None,
            "crossword_solutions id 1: clue is missing (NULL)",
        ),
        ("cue_words", "meaning", "  ", "cue_words id 1: meaning is empty"),
        (
            "cue_words",
            "cue_word",
            "tab\x00le",
            "cue_words id 1: cue_word contains a NUL character",
        ),
        (
            "crossword_solutions",
            "solution_hint",
            b"\x89PNG",
            "crossword_solutions id 1: solution_hint contains binary data, not text",
        ),
        (
            "crossword_solutions",
            "created_at",
            "yesterday",
            "crossword_solutions id 1: created_at 'yesterday' is not a date and time",
        ),
    ],
    ids=[
        "dangling-setter-type",
        "dangling-solution-type",
        "text-in-id-column",
        "null-reference",
        "negative-reference",
        "name-too-long",
        "null-clue",
        "blank-meaning",
        "nul-character",
        "binary-description",
        "bad-timestamp",
    ],
)
def test_invalid_row_fails_whole_import(
    app, runner, tmp_path, table, column, value, expected
):
    rows = sample_rows()
    rows[table][0][column] = value
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 1
    assert expected in result.output
    assert "1 row(s) are invalid" in result.output
    assert "Traceback" not in result.output
    assert table_counts(app) == dict.fromkeys(CATALOGUE_TABLES, 0)


def test_child_of_invalid_parent_is_reported(app, runner, tmp_path):
    rows = sample_rows()
    rows["crossword_setters"][1]["name"] = ""
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 1
    assert "crossword_setters id 2: name is empty" in result.output
    assert (
        "crossword_solutions id 1: crossword_setter_id 2 refers to no row in"
        " crossword_setters"
    ) in result.output


def test_whole_number_text_accepted_as_id(app, runner, tmp_path):
    layout = {table: dict(columns) for table, columns in LAYOUT.items()}
    # Without a declared type SQLite keeps the text '2' as text.
    layout["crossword_setters"]["setter_type_id"] = ""
    rows = sample_rows()
    rows["crossword_setters"][0]["setter_type_id"] = "2"
    path = build_legacy_db(tmp_path / "old.db", rows, layout)

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    with app.app_context():
        assert Setter.get_by_id(1).setter_type_id == 2


def test_many_problems_listed_up_to_limit(app, runner, tmp_path):
    rows = {"cue_words": [{"cue_word": None, "meaning": "x"} for _ in range(25)]}
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 1
    assert "cue_words id 20: cue_word is missing (NULL)" in result.output
    assert "cue_words id 21:" not in result.output
    assert "cue_words: 5 more not listed" in result.output
    assert "25 row(s) are invalid" in result.output


def test_empty_tables_have_nothing_to_import(app, runner, tmp_path):
    path = build_legacy_db(tmp_path / "old.db", {})

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    assert "Nothing to import: the catalogue tables in this file are empty." in (
        result.output
    )


# Files that are not databases of the older app.


def text_file(path: Path) -> Path:
    path.write_text("setter_types,crossword_setters\nDaily,Quill\n")
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def png_file(path: Path) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    return path


def unrelated_database(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE recipes (title TEXT, serves INTEGER)")
        connection.execute("INSERT INTO recipes VALUES ('Soup', 4)")
    return path


def large_legacy_database(path: Path) -> Path:
    rows = sample_rows()
    rows["crossword_solutions"] = [
        dict(rows["crossword_solutions"][0], clue=f"Clue number {n} " + "x" * 200)
        for n in range(2000)
    ]
    return build_legacy_db(path, rows)


def truncated_database(path: Path) -> Path:
    large_legacy_database(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupt_database(path: Path) -> Path:
    large_legacy_database(path)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    # Overwrite pages in the middle, keeping the header intact.
    middle = len(data) // page_size // 2 * page_size
    data[middle : middle + 4 * page_size] = b"\xa5" * (4 * page_size)
    path.write_bytes(bytes(data))
    return path


def header_only(path: Path) -> Path:
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)
    return path


def missing_path(path: Path) -> Path:
    return path / "nowhere.db"


def directory(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("make_file", "expected"),
    [
        (text_file, "is not an SQLite database"),
        (empty_file, "is empty, not a database of the older app"),
        (png_file, "is not an SQLite database"),
        (unrelated_database, "is not a database of the older app"),
        (truncated_database, "is damaged"),
        (corrupt_database, "is damaged"),
        (header_only, "is damaged or not a database"),
        (missing_path, "file not found"),
        (directory, "is a directory"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_unusable_file_rejected_in_one_line(app, runner, tmp_path, make_file, expected):
    path = make_file(tmp_path / "given")

    result = import_legacy(runner, path)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert expected in lines[0]
    assert table_counts(app) == dict.fromkeys(CATALOGUE_TABLES, 0)


def test_terminal_shows_progress_bar(app, app_config, tmp_path):
    path = build_legacy_db(tmp_path / "old.db", sample_rows())
    environment = dict(
        os.environ,
        DATABASE_URL=app_config["DATABASE_URL"],
        SECRET_KEY=app_config["SECRET_KEY"],
        CROSSWORD_HINTS_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    script = Path(sys.executable).with_name("crossword-hints")
    controller, terminal = pty.openpty()
    with subprocess.Popen(
        [str(script), "import-legacy", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        env=environment,
    ) as process:
        os.close(terminal)
        output = b""
        while True:
            try:
                data = os.read(controller, 4096)
            except OSError:
                break
            if not data:
                break
            output += data
    os.close(controller)

    assert process.returncode == 0
    text = output.decode()
    assert "Importing" in text
    assert "100%" in text
    assert "Imported 8 row(s)." in text
