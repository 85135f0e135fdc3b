"""The hash chain: verify finds tampering; prune keeps histories and the chain."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from activity_samples import add_catalogue, entries, run_sql
from crossword_hints import activity, db
from crossword_hints.activity.history import state_at
from crossword_hints.activity.models import ActivityLog, ChainHead
from crossword_hints.catalogue.models import Solution


@pytest.fixture
def logged(app: Flask) -> Flask:
    """An app whose log contains eleven entries: four inserts, seven edits."""
    with app.app_context(), activity.acting_as("tester"):
        solution = add_catalogue().solutions[0]
        for number in range(7):
            solution.hint = f"Hint number {number}."
            solution.save()
    return app


def verify(runner) -> tuple[int, str]:
    result = runner.invoke(args=["activity", "verify"])
    return result.exit_code, result.output


def test_verify_passes_untouched_chain(logged, runner):
    code, output = verify(runner)
    assert code == 0, output
    assert "Checked 11 entries (ids 1 to 11): the chain is intact." in output


def test_verify_passes_empty_log(runner):
    code, output = verify(runner)
    assert code == 0
    assert "empty" in output


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE activity_logs SET act_action = 'solution_hint: nothing' WHERE id = 6",
        "UPDATE activity_logs SET actor = 'someone-else' WHERE id = 6",
        "UPDATE activity_logs SET changes = '{}' WHERE id = 6",
    ],
    ids=["text", "actor", "changes"],
)
def test_verify_names_changed_entry(logged, runner, database_url, statement):
    run_sql(database_url, statement)
    code, output = verify(runner)
    assert code == 1
    assert "Entry 6 was changed after it was written" in output


def test_verify_names_removed_entry(logged, runner, database_url):
    run_sql(database_url, "DELETE FROM activity_logs WHERE id = 7")
    code, output = verify(runner)
    assert code == 1
    assert "Entry 7 was removed" in output


def test_verify_names_removed_last_entry(logged, runner, database_url):
    run_sql(database_url, "DELETE FROM activity_logs WHERE id = 11")
    code, output = verify(runner)
    assert code == 1
    assert "Entry 11 was removed" in output


def test_verify_names_every_removed_entry(logged, runner, database_url):
    run_sql(database_url, "DELETE FROM activity_logs")
    code, output = verify(runner)
    assert code == 1
    assert "Entries 1 to 11 were removed: the log holds none of the chain." in output
    assert "Entries intact before it: 0." in output


def test_verify_names_rehashed_entry(logged, runner, database_url):
    # Someone rewrites entry 6 and gives it a hash that fits its new
    # content. Entry 7 was hashed after the old hash, so it fails the check.
    from crossword_hints.activity.chain import HASHED, entry_hash

    with logged.app_context():
        before, rewritten = entries()[4:6]
        values = {name: getattr(rewritten, name, None) for name in HASHED}
        values["actor"] = "someone-else"
        values["prev_hash"] = before.hash
        digest = entry_hash(values)
    run_sql(
        database_url,
        f"UPDATE activity_logs SET actor = 'someone-else', hash = '{digest}'"
        " WHERE id = 6",
    )
    code, output = verify(runner)
    assert code == 1
    assert "Entry 7 was changed after it was written, or the entry before it" in (
        output
    )


def test_verify_names_appended_entry(logged, runner, database_url):
    run_sql(
        database_url,
        "INSERT INTO activity_logs (id, actor, action, act_action, created_at,"
        " updated_at, hash) SELECT 12, 'intruder', 'update', 'x',"
        " created_at, updated_at, hash FROM activity_logs WHERE id = 11",
    )
    code, output = verify(runner)
    assert code == 1
    assert "Entry 12 was inserted out of place" in output


def prune(runner, day: str, *extra: str):
    return runner.invoke(args=["activity", "prune", "--before", day, *extra])


def test_prune_without_old_entries_removes_nothing(logged, runner):
    result = prune(runner, "2001-01-01")
    assert result.exit_code == 0, result.output
    assert "nothing pruned" in result.output
    with logged.app_context():
        assert len(entries()) == 11


def backdate(database_url: str, last_id: int, when: str) -> None:
    """Move entries up to *last_id* into the past, then re-seal the chain.

    Re-sealing recomputes the hashes the way the application would have
    written them at that time, so only the dates differ.
    """
    run_sql(
        database_url,
        f"UPDATE activity_logs SET created_at = '{when}', updated_at = '{when}'"
        f" WHERE id <= {last_id}",
    )


def reseal(app: Flask) -> None:
    from crossword_hints.activity.chain import HASHED, entry_hash

    with app.app_context():
        previous = "0" * 64
        for entry in entries():
            values = {name: getattr(entry, name, None) for name in HASHED}
            values["prev_hash"] = previous
            digest = entry_hash(values)
            ActivityLog.update(hash=digest).where(ActivityLog.id == entry.id).execute()
            previous = digest
        ChainHead.update(last_hash=previous).where(ChainHead.id == 1).execute()


def test_prune_keeps_state_and_chain(logged, runner, database_url):
    backdate(database_url, 8, "2020-01-01 10:00:00")
    reseal(logged)
    with logged.app_context():
        solution_id = str(Solution.select().first().id)
        expected = state_at("crossword_solutions", solution_id, 8).values

    result = prune(runner, "2021-01-01", "--actor", "archivist")
    assert result.exit_code == 0, result.output
    assert "Removed 8 entries" in result.output

    with logged.app_context():
        kept = entries()
        assert [e.id for e in kept][:3] == [9, 10, 11]
        bases = [e for e in kept if e.action == "prune" and e.item_type]
        summary = [e for e in kept if e.action == "prune" and not e.item_type]
        assert {(e.item_type, e.version) for e in bases} == {
            ("setter_types", 1),
            ("crossword_setters", 1),
            ("solution_types", 1),
            ("crossword_solutions", 5),
        }
        assert len(summary) == 1
        assert summary[0].actor == "archivist"
        assert state_at("crossword_solutions", solution_id, 8).values == expected
        assert state_at("crossword_solutions", solution_id, 5).values[
            "solution_hint"
        ] == ("Hint number 3.")
        assert state_at("crossword_solutions", solution_id, 4) is None

        solution = Solution.get_by_id(int(solution_id))
        with activity.acting_as("tester"):
            solution.hint = "After the prune."
            solution.save()
        assert entries(action="update")[-1].version == 9

    code, output = verify(runner)
    assert code == 0, output
    assert "ids 9 to" in output


def test_prune_dry_run_changes_nothing(logged, runner, database_url):
    backdate(database_url, 8, "2020-01-01 10:00:00")
    reseal(logged)
    result = prune(runner, "2021-01-01", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would remove 8 entries" in result.output
    with logged.app_context():
        assert len(entries()) == 11


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("last tuesday", "not a valid date in the form YYYY-MM-DD"),
        ("2024-02-30", "not a valid date in the form YYYY-MM-DD"),
        ("2999-01-01", "is after today"),
    ],
)
def test_prune_rejects_bad_date(logged, runner, day, message):
    result = prune(runner, day)
    assert result.exit_code == 2
    assert message in result.output


def test_entry_hash_covers_every_column(logged):
    from crossword_hints.activity.chain import HASHED

    columns = set(ActivityLog._meta.columns) - {"hash"}
    assert columns | {"prev_hash"} == set(HASHED)


def test_prev_hash_migration_rolls_back(app):
    from crossword_hints import migrations

    with app.app_context(), activity.acting_as("tester"):
        add_catalogue()
        database = db.database.obj
        hashes = [entry.hash for entry in entries()]
        router = migrations.router(database)
        router.rollback()
        columns = {column.name for column in database.get_columns("activity_logs")}
        assert "prev_hash" in columns
        linked = [
            row[0]
            for row in database.execute_sql(
                "SELECT prev_hash FROM activity_logs ORDER BY id"
            )
        ]
        assert linked == ["0" * 64, *hashes[:-1]]

        assert migrations.upgrade(database) == ["004_unstored_prev_hash"]
        assert activity.verify(database).ok


def test_entry_ids_follow_without_gaps(logged):
    with logged.app_context():
        ids = [e.id for e in entries()]
        head = ChainHead.get_by_id(1)
    assert ids == list(range(1, 12))
    assert head.last_id == 11
    assert head.last_hash == entries_last_hash(logged)


def entries_last_hash(app: Flask) -> str:
    with app.app_context():
        return ActivityLog.select().order_by(ActivityLog.id.desc()).first().hash


def test_verify_function_reports_first_problem(logged, database_url):
    run_sql(
        database_url,
        "UPDATE activity_logs SET act_action = 'x' WHERE id IN (4, 9)",
    )
    with logged.app_context():
        verdict = activity.verify(db.database)
    assert not verdict.ok
    assert verdict.entry_id == 4
    assert verdict.checked == 3


def test_created_at_is_utc_now(logged):
    with logged.app_context():
        newest = entries()[-1]
    assert (
        abs(
            (datetime.now(UTC).replace(tzinfo=None) - newest.created_at).total_seconds()
        )
        < 3600
    )
