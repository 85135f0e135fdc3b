"""The legacy import across several chunks, and the forms of its timestamps.

The import reads a table a chunk at a time and takes quick paths for
common values. Each parent id is looked up once per table, and existing
rows are found by the id range of the chunk. On SQLite a time already in
the stored form is passed on as text. These tests check that each quick
path stores and reports what the full checks would.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from crossword_hints import db
from crossword_hints.catalogue import legacy
from crossword_hints.catalogue.models import Setter, SetterType, Solution
from test_legacy_import import build_legacy_db, import_legacy, sample_rows

#: (how the older app may have written a time, the UTC time it means)
TIME_FORMS = [
    ("2019-02-14 19:01:40", datetime(2019, 2, 14, 19, 1, 40)),
    ("2019-02-14T19:01:40", datetime(2019, 2, 14, 19, 1, 40)),
    ("2019-02-14 19:01:40.000000", datetime(2019, 2, 14, 19, 1, 40)),
    ("2019-02-14 19:01:40.5", datetime(2019, 2, 14, 19, 1, 40, 500000)),
    (" 2019-02-14 19:01:40 ", datetime(2019, 2, 14, 19, 1, 40)),
    ("2019-02-14 21:01:40+02:00", datetime(2019, 2, 14, 19, 1, 40)),
    ("2019-W07-4 19:01:40", datetime(2019, 2, 14, 19, 1, 40)),
    (1550171000, datetime(2019, 2, 14, 19, 3, 20)),
]


def solutions(count: int, setter_ids: dict[int, int] | None = None) -> list[dict]:
    """Return *count* solution rows, with setters 1 and 2 taking turns.

    *setter_ids* maps a row index to another setter id for that row.
    """
    setter_ids = setter_ids or {}
    return [
        {
            "crossword_setter_id": setter_ids.get(index, 1 + index % 2),
            "clue": f"Clue number {index} (5)",
            "solution": f"WORD{index}",
            "solution_hint": None,
            "solution_type_id": 1,
        }
        for index in range(count)
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    TIME_FORMS,
    ids=[
        "plain",
        "t-separator",
        "zero-fraction",
        "fraction",
        "spaces",
        "offset",
        "week-date",
        "unix-seconds",
    ],
)
def test_time_forms_stored_as_parsed(app, runner, tmp_path, written, expected):
    rows = sample_rows()
    rows["crossword_solutions"][0]["created_at"] = written
    rows["crossword_solutions"][0]["updated_at"] = written
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    with app.app_context():
        solution = Solution.get_by_id(1)
        assert solution.created_at == expected
        assert solution.updated_at == expected
        if not db.is_postgres():
            # The text Python's sqlite3 module stores for the datetime.
            stored = db.database.execute_sql(
                "SELECT created_at, updated_at FROM crossword_solutions WHERE id = 1"
            ).fetchone()
            assert stored == (expected.isoformat(" "), expected.isoformat(" "))

    again = import_legacy(runner, path)
    assert again.exit_code == 0, again.output
    assert "Nothing to import: all 8 rows already present." in again.output


def test_time_in_other_form_still_clashes(app, runner, tmp_path):
    rows = sample_rows()
    rows["crossword_solutions"][0]["created_at"] = "2019-02-14 19:01:40"
    assert (
        import_legacy(runner, build_legacy_db(tmp_path / "a.db", rows)).exit_code == 0
    )
    rows["crossword_solutions"][0]["created_at"] = "2019-02-14T19:01:41"

    result = import_legacy(runner, build_legacy_db(tmp_path / "b.db", rows))

    assert result.exit_code == 1
    assert "crossword_solutions id 1: differs from the existing row in created_at" in (
        result.output
    )


def test_rows_across_chunks_all_imported(app, runner, tmp_path, monkeypatch):
    monkeypatch.setattr(legacy, "CHUNK_SIZE", 2)
    rows = sample_rows()
    rows["crossword_solutions"] = solutions(7)
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    assert "Imported 14 row(s)." in result.output
    with app.app_context():
        setters = dict(Solution.select(Solution.id, Solution.setter).tuples())
    assert setters == {index + 1: 1 + index % 2 for index in range(7)}

    again = import_legacy(runner, path)
    assert again.exit_code == 0, again.output
    assert "Nothing to import: all 14 rows already present." in again.output


def test_dangling_reference_reported_in_each_chunk(app, runner, tmp_path, monkeypatch):
    monkeypatch.setattr(legacy, "CHUNK_SIZE", 2)
    rows = sample_rows()
    # Rows 1 and 6 fall into the first and the third chunk.
    rows["crossword_solutions"] = solutions(7, setter_ids={0: 9, 5: 9})
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 1
    for row_id in (1, 6):
        assert (
            f"crossword_solutions id {row_id}: crossword_setter_id 9 refers to no"
            " row in crossword_setters"
        ) in result.output
    assert "2 row(s) are invalid" in result.output
    with app.app_context():
        assert Solution.select().count() == 0


def test_invalid_row_among_valid_ones_reported(app, runner, tmp_path, monkeypatch):
    monkeypatch.setattr(legacy, "CHUNK_SIZE", 3)
    rows = sample_rows()
    rows["crossword_solutions"] = solutions(5)
    rows["crossword_solutions"][1]["clue"] = "   "
    rows["crossword_solutions"][4]["created_at"] = "soon"
    path = build_legacy_db(tmp_path / "old.db", rows)

    result = import_legacy(runner, path)

    assert result.exit_code == 1
    assert "crossword_solutions id 2: clue is empty" in result.output
    assert "crossword_solutions id 5: created_at 'soon' is not a date and time" in (
        result.output
    )
    assert "2 row(s) are invalid" in result.output


def test_our_row_between_imported_ids_kept(app, runner, tmp_path):
    rows = sample_rows()
    rows["setter_types"].append({"name": "Weekend", "description": "Long ones"})
    path = build_legacy_db(tmp_path / "old.db", rows)
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM setter_types WHERE rowid = 2")
        connection.execute("UPDATE crossword_setters SET setter_type_id = 1")
    with app.app_context():
        SetterType.create(id=2, name="Prize", description="Ours")

    result = import_legacy(runner, path)

    assert result.exit_code == 0, result.output
    with app.app_context():
        names = dict(SetterType.select(SetterType.id, SetterType.name).tuples())
        assert names == {1: "Daily", 2: "Prize", 3: "Weekend"}
        assert SetterType.get_by_id(2).description == "Ours"
        assert Setter.select().count() == 2

    again = import_legacy(runner, path)
    assert again.exit_code == 0, again.output
    assert "Nothing to import: all 8 rows already present." in again.output
