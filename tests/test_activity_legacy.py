"""Importing the older app's activity log as diffs, with nothing dropped."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from flask import Flask

from activity_samples import entries
from conftest import LEGACY_DB
from crossword_hints import activity, db
from crossword_hints.activity.history import state_at
from crossword_hints.catalogue.legacy_activity import parse_fields

#: Entries in the older app's activity_logs table.
OLD_ENTRIES = 840


def import_legacy(runner, path=LEGACY_DB, *extra: str):
    result = runner.invoke(args=["import-legacy", str(path), *extra])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def imported(app: Flask, runner) -> Flask:
    import_legacy(runner)
    return app


def test_every_old_entry_is_imported(imported):
    with imported.app_context():
        rows = entries()
    assert len(rows) == OLD_ENTRIES
    assert {row.source.split(" rowid ")[0] for row in rows} == {"legacy activity_logs"}
    assert sorted(int(row.source.split()[-1]) for row in rows) == list(
        range(1, OLD_ENTRIES + 1)
    )


def test_catalogue_rows_write_no_insert_entries(imported):
    with imported.app_context():
        inserts = entries(action="insert")
    assert all(row.source.startswith("legacy activity_logs") for row in inserts)


def test_solution_336_hint_history(imported, as_admin):
    with imported.app_context():
        history = entries(item_type="crossword_solutions", item_id="336")
    assert [(e.version, e.action, e.actor) for e in history] == [
        (1, "insert", "crossword-admin"),
        (2, "update", "crossword-admin"),
    ]
    assert json.loads(history[1].changes) == {
        "solution_hint": ["Liner from a pl,ay", "Line from a play"]
    }
    assert history[0].created_at.isoformat() == "2019-02-23T19:12:10.647802"
    assert history[1].act_action.endswith("solution_type_id: 1")

    page = as_admin.get("/activity/crossword_solutions/336").get_data(as_text=True)
    assert "Liner from a pl,ay" in page
    assert "Line from a play" in page


def test_reused_id_keeps_one_history(imported):
    with imported.app_context():
        history = entries(item_type="solution_types", item_id="19")
        state = state_at("solution_types", "19", 3)
    assert [(e.version, e.action) for e in history] == [
        (1, "insert"),
        (2, "delete"),
        (3, "insert"),
    ]
    assert state.values["name"] == "Nouned verb"


def test_failed_logins_become_login_failed(imported):
    with imported.app_context():
        failed = entries(action="login_failed")
        logins = entries(action="login")
    assert len(failed) == 4
    assert {e.actor for e in failed} == {"xwordadmin", "xword-hints", "xwordhints"}
    assert json.loads(failed[0].changes)["username"] == "xwordadmin"
    assert failed[0].act_action.startswith("Failed login for xwordadmin")
    assert len(logins) == 7
    assert {e.item_type for e in failed + logins} == {"user"}


def test_update_without_earlier_state_is_a_base(imported):
    with imported.app_context():
        (entry,) = entries(item_type="crossword_setters", item_id="19")
        state = state_at("crossword_setters", "19", 1)
    assert entry.action == "update"
    assert json.loads(entry.changes) == {}
    assert json.loads(entry.snapshot)["description"] == (
        "An opportunity for some doodling practice.\r\nLots of literary references."
    )
    assert state.values["setter_type_id"] == 5


def test_reimport_adds_nothing(imported, runner):
    result = import_legacy(runner)
    assert "imported 0, skipped 840" in result.output
    with imported.app_context():
        assert len(entries()) == OLD_ENTRIES


def test_dry_run_writes_nothing(app, runner):
    result = import_legacy(runner, LEGACY_DB, "--dry-run")
    assert "imported 840" in result.output
    with app.app_context():
        assert entries() == []


def test_unlogged_imported_record_history_opens(imported, as_admin):
    with imported.app_context():
        assert entries(item_type="crossword_setters", item_id="12") == []
    detail = as_admin.get("/crossword-setters/12")
    assert 'href="/activity/crossword_setters/12"' in detail.get_data(as_text=True)
    response = as_admin.get("/activity/crossword_setters/12")
    assert response.status_code == 200
    assert "No change to this record" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/activity/crossword_setters/9999",
        "/activity/crossword_setters/99999999999999999999",
        "/activity/crossword_setters/abc",
        "/activity/crossword_setters/12?version=1",
    ],
)
def test_unlogged_missing_record_is_404(imported, as_admin, path):
    assert as_admin.get(path).status_code == 404


def test_imported_chain_verifies(imported):
    with imported.app_context():
        verdict = activity.verify(db.database)
    assert verdict.ok, verdict.problem
    assert verdict.checked == OLD_ENTRIES


def test_unreadable_entries_are_kept_verbatim(app, runner, tmp_path):
    copy = tmp_path / "legacy.db"
    shutil.copy(LEGACY_DB, copy)
    odd = [
        ("xword", "update", "crossword_solutions", 336, "hint was changed somehow"),
        ("xword", "update", "gizmos", 5, "name: Gizmo"),
        ("xword", "login", "user", 1, "Someone knocked"),
    ]
    with sqlite3.connect(copy) as connection:
        connection.executemany(
            "INSERT INTO activity_logs (actor, action, item_type, item_id,"
            " act_action, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, '2021-01-01 10:00:00', '2021-01-01 10:00:00')",
            odd,
        )
    connection.close()

    result = import_legacy(runner, copy)
    assert "unparsed 3" in result.output
    with app.app_context():
        assert len(entries()) == OLD_ENTRIES + 3
        unparsed = [e for e in entries() if e.is_unparsed]
        history = entries(item_type="crossword_solutions", item_id="336")
    assert [json.loads(e.changes)["unparsed"] for e in unparsed] == [
        text for *_, text in odd
    ]
    assert [e.act_action for e in unparsed] == [text for *_, text in odd]
    assert history[-1].version == 3
    with app.app_context():
        assert state_at("crossword_solutions", "336", 3) is None
        assert state_at("crossword_solutions", "336", 2).values["solution_hint"] == (
            "Line from a play"
        )


@pytest.mark.parametrize(
    ("item_type", "text", "expected"),
    [
        (
            "crossword_setters",
            "name: Tees\nsetter_type_id: 5\ndescription: One.\nTwo: three.",
            {"name": "Tees", "setter_type_id": 5, "description": "One.\nTwo: three."},
        ),
        (
            "solution_types",
            "name: Odd\ndescription: ",
            {"name": "Odd", "description": ""},
        ),
        (
            "solution_types",
            "name: Odd\ndescription:",
            {"name": "Odd", "description": ""},
        ),
        ("solution_types", "Odd\ndescription: x", None),
        ("crossword_setters", "name: A\nsetter_type_id: five", None),
        ("unknown_table", "name: A", None),
    ],
    ids=["continued", "empty", "bare", "no-field", "bad-id", "unknown-type"],
)
def test_parse_fields_cases(item_type, text, expected):
    assert parse_fields(item_type, text) == expected
