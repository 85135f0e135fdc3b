"""Restore and undelete, including after the schema changed.

The log has no crossword-specific code, so these tests use two models of
their own, makers and gadgets, created in the test database. A dropped or
added column is a real ALTER TABLE, with a second model class that
describes the table after it.
"""

from __future__ import annotations

import json

import peewee
import pytest
from flask import Flask

from activity_samples import entries, run_sql
from crossword_hints import activity, db
from crossword_hints.activity import capture, history
from crossword_hints.activity.history import RestoreError, plan_restore, restore


class Maker(peewee.Model):
    name = peewee.CharField(max_length=64, unique=True)

    class Meta:
        database = db.database
        table_name = "test_makers"


class Gadget(peewee.Model):
    name = peewee.CharField(max_length=64, unique=True)
    colour = peewee.CharField(max_length=32, null=True)
    maker = peewee.ForeignKeyField(
        Maker, null=True, column_name="maker_id", on_delete="RESTRICT"
    )
    secret = peewee.CharField(max_length=64, default="")

    class Meta:
        database = db.database
        table_name = "test_gadgets"


class GadgetAfterMigration(peewee.Model):
    """The gadgets table after ``colour`` was dropped and ``size`` added."""

    name = peewee.CharField(max_length=64, unique=True)
    maker = peewee.ForeignKeyField(
        Maker, null=True, column_name="maker_id", on_delete="RESTRICT"
    )
    secret = peewee.CharField(max_length=64, default="")
    size = peewee.IntegerField(default=3)

    class Meta:
        database = db.database
        table_name = "test_gadgets"


class GadgetWithWeight(peewee.Model):
    """The gadgets table after a required ``weight`` without a default."""

    name = peewee.CharField(max_length=64, unique=True)
    colour = peewee.CharField(max_length=32, null=True)
    maker = peewee.ForeignKeyField(
        Maker, null=True, column_name="maker_id", on_delete="RESTRICT"
    )
    secret = peewee.CharField(max_length=64, default="")
    weight = peewee.IntegerField()

    class Meta:
        database = db.database
        table_name = "test_gadgets"


for model in (GadgetAfterMigration, GadgetWithWeight, Maker, Gadget):
    activity.logged(model, mask=("secret",) if model is not Maker else ())


GADGETS = "test_gadgets"


@pytest.fixture
def ctx(app: Flask):
    with app.app_context():
        db.database.create_tables([Maker, Gadget])
        with activity.acting_as("tester"):
            yield app
    capture._by_table[GADGETS] = Gadget


def use_model(model: type[peewee.Model]) -> None:
    capture._by_table[GADGETS] = model


def versions(item_id: int) -> list[tuple[int, str]]:
    return [
        (e.version, e.action) for e in entries(item_type=GADGETS, item_id=str(item_id))
    ]


def test_restore_brings_back_old_values(ctx):
    gadget = Gadget.create(name="kettle", colour="red")
    gadget.colour = "blue"
    gadget.save()

    plan = restore(GADGETS, str(gadget.id), 1, expected=2)
    assert plan.changes == {"colour": ("blue", "red")}
    assert Gadget.get_by_id(gadget.id).colour == "red"

    entry = entries(item_type=GADGETS)[-1]
    assert entry.action == "restore"
    assert json.loads(entry.changes) == {
        "restored_version": 1,
        "fields": {"colour": ["blue", "red"]},
    }
    assert entry.actor == "tester"
    assert json.loads(entry.snapshot)["colour"] == "red"


def test_restore_can_be_undone(ctx):
    gadget = Gadget.create(name="kettle", colour="red")
    gadget.colour = "blue"
    gadget.save()
    restore(GADGETS, str(gadget.id), 1, expected=2)

    restore(GADGETS, str(gadget.id), 2, expected=3)
    assert Gadget.get_by_id(gadget.id).colour == "blue"
    assert versions(gadget.id) == [
        (1, "insert"),
        (2, "update"),
        (3, "restore"),
        (4, "restore"),
    ]


def test_undelete_keeps_id_and_history(ctx):
    gadget = Gadget.create(name="kettle", colour="red")
    gadget_id = gadget.id
    gadget.delete_instance()

    restore(GADGETS, str(gadget_id), 1, expected=2)
    back = Gadget.get_by_id(gadget_id)
    assert (back.name, back.colour) == ("kettle", "red")
    assert versions(gadget_id) == [(1, "insert"), (2, "delete"), (3, "restore")]


def test_dropped_column_is_skipped(ctx, database_url):
    gadget = Gadget.create(name="kettle", colour="red")
    gadget.name = "teapot"
    gadget.colour = "blue"
    gadget.save()

    run_sql(
        database_url,
        "ALTER TABLE test_gadgets DROP COLUMN colour",
        "ALTER TABLE test_gadgets ADD COLUMN size INTEGER NOT NULL DEFAULT 3",
    )
    use_model(GadgetAfterMigration)

    plan = plan_restore(GADGETS, str(gadget.id), 1)
    assert plan.changes == {"name": ("teapot", "kettle")}
    skipped = dict(plan.skipped)
    assert "no longer exists" in skipped["colour"]
    assert "is not in version 1" in skipped["size"]
    assert plan.problems == []

    restore(GADGETS, str(gadget.id), 1, expected=2)
    assert GadgetAfterMigration.get_by_id(gadget.id).name == "kettle"


def test_new_required_column_takes_default(ctx, database_url):
    gadget = Gadget.create(name="kettle", colour="red")
    gadget_id = gadget.id
    gadget.delete_instance()

    run_sql(
        database_url,
        "ALTER TABLE test_gadgets DROP COLUMN colour",
        "ALTER TABLE test_gadgets ADD COLUMN size INTEGER NOT NULL DEFAULT 3",
    )
    use_model(GadgetAfterMigration)

    plan = plan_restore(GADGETS, str(gadget_id), 1)
    assert ("size", 3) in plan.defaults
    restore(GADGETS, str(gadget_id), 1, expected=2)
    back = GadgetAfterMigration.get_by_id(gadget_id)
    assert (back.name, back.size) == ("kettle", 3)


def test_required_column_without_default_stops(ctx, database_url):
    gadget = Gadget.create(name="kettle", colour="red")
    gadget_id = gadget.id
    gadget.delete_instance()

    run_sql(database_url, "ALTER TABLE test_gadgets ADD COLUMN weight INTEGER")
    use_model(GadgetWithWeight)

    with pytest.raises(RestoreError, match="weight is required, is not in version 1"):
        restore(GADGETS, str(gadget_id), 1, expected=2)
    assert GadgetWithWeight.get_or_none(GadgetWithWeight.id == gadget_id) is None


def test_missing_referenced_row_stops(ctx):
    maker = Maker.create(name="Acme")
    gadget = Gadget.create(name="kettle", maker=maker)
    gadget.maker = None
    gadget.save()
    maker.delete_instance()
    before = len(entries())

    with pytest.raises(RestoreError, match="maker_id .* no longer exists") as caught:
        restore(GADGETS, str(gadget.id), 1, expected=2)
    assert caught.value.status == 409
    assert Gadget.get_by_id(gadget.id).maker_id is None
    assert len(entries()) == before


def test_unique_clash_stops(ctx):
    gadget = Gadget.create(name="kettle")
    gadget.name = "teapot"
    gadget.save()
    other = Gadget.create(name="kettle")

    with pytest.raises(RestoreError, match=f"already used by {GADGETS} {other.id}"):
        restore(GADGETS, str(gadget.id), 1, expected=2)
    assert Gadget.get_by_id(gadget.id).name == "teapot"


def test_change_after_preview_stops(ctx):
    gadget = Gadget.create(name="kettle", colour="red")
    gadget.colour = "blue"
    gadget.save()
    plan = plan_restore(GADGETS, str(gadget.id), 1)
    gadget.colour = "green"
    gadget.save()

    with pytest.raises(RestoreError, match="changed after the preview"):
        restore(GADGETS, str(gadget.id), 1, expected=plan.latest)
    assert Gadget.get_by_id(gadget.id).colour == "green"


def test_restore_to_same_values_stops(ctx):
    gadget = Gadget.create(name="kettle", colour="red")
    gadget.name = "teapot"
    gadget.save()
    gadget.name = "kettle"
    gadget.save()

    with pytest.raises(RestoreError, match="already matches version 1"):
        restore(GADGETS, str(gadget.id), 1, expected=3)


def test_deletion_version_cannot_be_restored(ctx):
    gadget = Gadget.create(name="kettle")
    gadget.delete_instance()
    with pytest.raises(RestoreError, match="is its deletion"):
        plan_restore(GADGETS, str(gadget.id), 2)


def test_masked_field_hides_values(ctx):
    gadget = Gadget.create(name="kettle", secret="open sesame")
    gadget.secret = "swordfish"
    gadget.save()

    insert, update = entries(item_type=GADGETS)
    assert json.loads(insert.changes)["secret"] == "[masked]"
    assert json.loads(update.changes) == {"secret": ["[masked]", "[masked]"]}
    assert "sesame" not in insert.act_action + update.act_action


def test_masked_field_is_kept_on_restore(ctx):
    gadget = Gadget.create(name="kettle", secret="open sesame")
    gadget.name = "teapot"
    gadget.secret = "swordfish"
    gadget.save()

    plan = plan_restore(GADGETS, str(gadget.id), 1)
    assert "masked" in dict(plan.skipped)["secret"]
    restore(GADGETS, str(gadget.id), 1, expected=2)
    back = Gadget.get_by_id(gadget.id)
    assert (back.name, back.secret) == ("kettle", "swordfish")


def test_rebuild_uses_snapshots(ctx, app):
    app.config["ACTIVITY_SNAPSHOT_EVERY"] = 5
    gadget = Gadget.create(name="kettle", colour="c0")
    for number in range(1, 13):
        gadget.colour = f"c{number}"
        gadget.save()

    snapshots = [e.version for e in entries(item_type=GADGETS) if e.snapshot]
    assert snapshots == [5, 10]
    window = history.entries_from_base(GADGETS, str(gadget.id), 13)
    assert [e.version for e in window] == [10, 11, 12, 13]
    assert history.state_at(GADGETS, str(gadget.id), 13).values["colour"] == "c12"
    assert history.state_at(GADGETS, str(gadget.id), 7).values["colour"] == "c6"
    assert history.state_at(GADGETS, str(gadget.id), 14) is None


def test_rebuild_finds_base_outside_window(ctx, app):
    gadget = Gadget.create(name="kettle", colour="c0")
    for number in range(1, 8):
        gadget.colour = f"c{number}"
        gadget.save()

    # A smaller interval than the one the entries were written with.
    app.config["ACTIVITY_SNAPSHOT_EVERY"] = 3
    assert history.state_at(GADGETS, str(gadget.id), 8).values["colour"] == "c7"
