"""Automatic capture: every write to a logged model leaves the right entries."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta, timezone

import peewee
import pytest
from flask import Flask

from activity_samples import add_catalogue, add_fault, entries
from crossword_hints import activity, db
from crossword_hints.activity.chain import ActivityWriteError
from crossword_hints.catalogue.models import CueWord, Setter, Solution


@pytest.fixture
def ctx(app: Flask):
    with app.app_context(), activity.acting_as("tester", source="pytest"):
        yield app


def changes(entry) -> object:
    return json.loads(entry.changes)


def test_save_records_only_changed_field(ctx):
    solution = add_catalogue().solutions[0]
    solution.hint = "LISTEN, rearranged."
    solution.save()

    updates = entries(action="update")
    assert len(updates) == 1
    assert changes(updates[0]) == {
        "solution_hint": ["Rearrange LISTEN.", "LISTEN, rearranged."]
    }
    assert updates[0].actor == "tester"
    assert updates[0].item_type == "crossword_solutions"
    assert updates[0].item_id == str(solution.id)
    assert updates[0].version == 2
    assert updates[0].act_action == (
        "solution_hint: 'Rearrange LISTEN.' -> 'LISTEN, rearranged.'"
    )


def test_save_without_change_writes_nothing(ctx):
    solution = add_catalogue().solutions[0]
    before = len(entries())
    solution.save()
    assert len(entries()) == before


def test_bookkeeping_fields_alone_write_nothing(ctx):
    solution = add_catalogue().solutions[0]
    before = len(entries())
    solution.version += 1
    solution.updated_at = datetime(2030, 1, 1)
    solution.save()
    assert len(entries()) == before
    assert Solution.get_by_id(solution.id).version == 2


def test_same_instant_in_other_zone_is_no_change(ctx):
    solution = add_catalogue().solutions[0]
    stored = Solution.get_by_id(solution.id).created_at
    before = len(entries())

    paris = timezone(timedelta(hours=1))
    solution.created_at = stored.replace(tzinfo=UTC).astimezone(paris)
    solution.save()
    assert len(entries()) == before


def test_insert_stores_whole_record_with_types(ctx):
    catalogue = add_catalogue()
    solution = catalogue.solutions[0]
    insert = entries(action="insert", item_type="crossword_solutions")[0]
    record = changes(insert)

    assert record["id"] == solution.id
    assert record["crossword_setter_id"] == catalogue.setter.id
    assert record["solution_hint"] == "Rearrange LISTEN."
    assert record["created_at"].endswith("+00:00")
    assert "updated_at" not in record
    assert "version" not in record
    assert insert.version == 1


def test_null_stays_null(ctx):
    first = CueWord.create(cue_word="initially", meaning="first letters")
    copy = CueWord.create(cue_word="initially", meaning="at first", duplicate_of=first)
    copy.duplicate_of = None
    copy.save()

    update = entries(action="update")[0]
    assert changes(update) == {"duplicate_of_id": [first.id, None]}
    assert "None" not in update.changes
    assert "null" in update.act_action


def test_delete_instance_stores_whole_record(ctx):
    solution = add_catalogue().solutions[0]
    solution.delete_instance()
    delete = entries(action="delete")[0]
    assert changes(delete)["solution"] == "SILENT0"
    assert delete.version == 2


def test_recursive_delete_records_children(ctx):
    catalogue = add_catalogue(solutions=3)
    catalogue.setter.delete_instance(recursive=True)

    deleted = [(e.item_type, e.item_id) for e in entries(action="delete")]
    assert deleted == [
        *[("crossword_solutions", str(row.id)) for row in catalogue.solutions],
        ("crossword_setters", str(catalogue.setter.id)),
    ]


def test_bulk_update_writes_entry_per_row(ctx):
    catalogue = add_catalogue(solutions=50)
    with activity.acting_as("bulk-editor") as acting:
        updated = Solution.update(hint="Anagram of LISTEN.").execute()

    assert updated == 50
    updates = entries(action="update")
    assert len(updates) == 50
    assert {e.group_id for e in updates} == {acting.group_id}
    assert {e.actor for e in updates} == {"bulk-editor"}
    assert sorted(int(e.item_id) for e in updates) == sorted(
        row.id for row in catalogue.solutions
    )
    assert all(
        changes(e) == {"solution_hint": ["Rearrange LISTEN.", "Anagram of LISTEN."]}
        for e in updates
    )


def test_bulk_update_skips_unchanged_rows(ctx):
    catalogue = add_catalogue(solutions=4)
    catalogue.solutions[0].hint = "Different."
    catalogue.solutions[0].save()
    before = len(entries(action="update"))

    Solution.update(hint="Different.").execute()
    assert len(entries(action="update")) == before + 3


@pytest.mark.parametrize("as_rowcount", [False, True])
def test_insert_many_records_each_row(ctx, as_rowcount):
    catalogue = add_catalogue(solutions=0)
    rows = [
        {
            "clue": f"Clue {number}",
            "solution": f"WORD{number}",
            "setter": catalogue.setter.id,
            "solution_type": catalogue.solution_type.id,
        }
        for number in range(5)
    ]
    query = Solution.insert_many(rows)
    if as_rowcount:
        query = query.as_rowcount()
    result = query.execute()

    inserts = entries(action="insert", item_type="crossword_solutions")
    assert [changes(e)["clue"] for e in inserts] == [f"Clue {n}" for n in range(5)]
    if as_rowcount:
        assert result == 5
    assert Solution.select().count() == 5


def test_bulk_create_sets_ids(ctx):
    catalogue = add_catalogue(solutions=0)
    rows = [
        Solution(
            clue=f"Clue {n}",
            solution=f"W{n}",
            setter=catalogue.setter,
            solution_type=catalogue.solution_type,
        )
        for n in range(3)
    ]
    Solution.bulk_create(rows)
    inserts = entries(action="insert", item_type="crossword_solutions")
    assert len(inserts) == 3
    if db.is_postgres():
        assert [str(row.id) for row in rows] == [e.item_id for e in inserts]


def test_bulk_delete_records_each_row(ctx):
    add_catalogue(solutions=6)
    Solution.delete().where(Solution.solution.in_(["SILENT1", "SILENT2"])).execute()
    deleted = entries(action="delete")
    assert sorted(changes(e)["solution"] for e in deleted) == ["SILENT1", "SILENT2"]


def test_delete_sets_null_on_logged_children(ctx):
    first = CueWord.create(cue_word="initially", meaning="first letters")
    copy = CueWord.create(cue_word="initially", meaning="at first", duplicate_of=first)
    CueWord.delete().where(CueWord.id == first.id).execute()

    assert CueWord.get_by_id(copy.id).duplicate_of_id is None
    update = entries(action="update", item_id=str(copy.id))[0]
    assert changes(update) == {"duplicate_of_id": [first.id, None]}


def test_fault_before_entry_leaves_neither(ctx, database_url):
    catalogue = add_catalogue(solutions=50)
    before = len(entries())
    add_fault(database_url)

    with pytest.raises(ActivityWriteError):
        Solution.update(hint="Never saved.").execute()

    assert Solution.select().where(Solution.hint == "Never saved.").count() == 0
    assert len(entries()) == before
    assert Solution.get_by_id(catalogue.solutions[0].id).hint == "Rearrange LISTEN."


def test_fault_rolls_back_single_save(ctx, database_url):
    solution = add_catalogue().solutions[0]
    add_fault(database_url)
    solution.hint = "Never saved."
    with pytest.raises(ActivityWriteError):
        solution.save()
    assert Solution.get_by_id(solution.id).hint == "Rearrange LISTEN."


def test_suppressed_block_writes_nothing(ctx):
    catalogue = add_catalogue()
    before = len(entries())
    with activity.suppressed():
        Solution.update(hint="Quiet.").execute()
    assert len(entries()) == before
    assert Solution.get_by_id(catalogue.solutions[0].id).hint == "Quiet."


def test_outside_acting_as_actor_is_system(app):
    with app.app_context():
        add_catalogue(solutions=0)
        actors = {e.actor for e in entries()}
    assert actors == {"system"}


def test_each_command_has_own_group(app):
    with app.app_context():
        with activity.acting_as("one") as first:
            add_catalogue(solutions=2)
        with activity.acting_as("two") as second:
            Solution.update(hint="Changed.").execute()
        groups = {(e.actor, e.group_id) for e in entries()}
    assert first.group_id != second.group_id
    assert groups == {("one", first.group_id), ("two", second.group_id)}


def test_upsert_on_logged_model_is_rejected(ctx):
    catalogue = add_catalogue(solutions=0)
    with pytest.raises(peewee.PeeweeException, match="on conflict"):
        Setter.replace(
            name="Anvil", setter_type=catalogue.setter_type, description=""
        ).execute()


def test_concurrent_writers_never_fork_chain(app):
    with app.app_context(), activity.acting_as("setup"):
        catalogue = add_catalogue(solutions=8)
        ids = [row.id for row in catalogue.solutions]
    errors: list[BaseException] = []

    def edit(solution_id: int) -> None:
        try:
            with app.app_context(), activity.acting_as(f"writer{solution_id}"):
                for round_number in range(5):
                    Solution.update(hint=f"Round {round_number}").where(
                        Solution.id == solution_id
                    ).execute()
        except BaseException as exc:  # noqa: BLE001 - reported by the assert
            errors.append(exc)
        finally:
            database = app.extensions["peewee"]
            if not database.is_closed():
                database.close()

    threads = [threading.Thread(target=edit, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with app.app_context():
        verdict = activity.verify(db.database)
        all_entries = entries()
    assert verdict.ok, verdict.problem
    assert [e.id for e in all_entries] == list(range(1, len(all_entries) + 1))
    assert len(entries_of(all_entries, "update")) == 8 * 5


def entries_of(rows, action):
    return [row for row in rows if row.action == action]


# The catalogue's models skip reading an update's rows back. These tests
# check that the rows worked out from the values match the rows stored.


def test_foreign_key_instance_logs_ids(ctx):
    catalogue = add_catalogue()
    other = Setter.create(
        name="Brock", setter_type=catalogue.setter_type, description=""
    )
    solution = catalogue.solutions[0]
    solution.setter = other
    solution.save()

    (update,) = entries(action="update")
    assert changes(update) == {"crossword_setter_id": [catalogue.setter.id, other.id]}


def test_expression_update_reads_rows_back(ctx):
    solution = add_catalogue().solutions[0]
    Solution.update(
        hint=peewee.fn.UPPER(Solution.hint), version=Solution.version + 1
    ).where(Solution.id == solution.id).execute()

    (update,) = entries(action="update")
    assert changes(update) == {
        "solution_hint": ["Rearrange LISTEN.", "REARRANGE LISTEN."]
    }


def test_update_matching_nothing_writes_nothing(ctx):
    add_catalogue()
    Solution.update(hint="Nobody").where(Solution.id == -1).execute()
    assert entries(action="update") == []


def test_update_logs_value_as_stored(ctx):
    solution = add_catalogue().solutions[0]
    # An aware date-time is stored and logged as the instant it names.
    later = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    Solution.update(clue=12345, created_at=later).where(
        Solution.id == solution.id
    ).execute()

    (update,) = entries(action="update")
    logged = changes(update)
    assert logged["clue"][1] == "12345"
    assert logged["created_at"][1] == "2030-01-02T01:04:05+00:00"
    assert Solution.get_by_id(solution.id).clue == "12345"
