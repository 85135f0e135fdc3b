"""The log's two tables: the entries and the head of their hash chain.

``activity_logs`` keeps the columns an older app's table of that name had
(``actor``, ``action``, ``item_type``, ``item_id``, ``act_action``,
``created_at``, ``updated_at``), so that ``select *`` reads as before;
the other columns hold the structured change and the chain. Entry ids are
assigned under the chain lock, one after another with no gaps, so a
missing id is a removed entry. The models are bound to the application's
database by :func:`crossword_hints.activity.init_app`.
"""

from __future__ import annotations

import peewee

from .values import loads

#: The hash the very first entry follows.
GENESIS = "0" * 64

#: Actions with a meaning of their own; an application may add more.
ACTIONS = (
    "insert",
    "update",
    "delete",
    "restore",
    "login",
    "logout",
    "login_failed",
    "password_change",
    "prune",
)


class ActivityLog(peewee.Model):
    """One entry: who did what to which record, and how it changed it.

    ``changes`` is JSON: ``{column: [old, new]}`` for an update, the whole
    record for an insert or a delete, ``{"restored_version": n, "fields":
    {...}}`` or ``{"restored_version": n, "record": {...}}`` for a
    restore, and ``{"unparsed": text}`` for an imported entry that could
    not be read. ``snapshot`` is the whole record after the entry, stored
    every N versions and wherever ``changes`` is not a diff against the
    version before.
    """

    id = peewee.IntegerField(primary_key=True)
    actor = peewee.CharField(max_length=64, default="system")
    action = peewee.CharField(max_length=16)
    item_type = peewee.CharField(max_length=64, null=True)
    item_id = peewee.CharField(max_length=64, null=True)
    act_action = peewee.TextField(default="")
    created_at = peewee.DateTimeField()
    updated_at = peewee.DateTimeField()
    changes = peewee.TextField(null=True)
    version = peewee.IntegerField(null=True)
    snapshot = peewee.TextField(null=True)
    group_id = peewee.CharField(max_length=64, null=True)
    source = peewee.TextField(null=True)
    client_addr = peewee.CharField(max_length=64, null=True)
    hash = peewee.CharField(max_length=64)

    class Meta:
        table_name = "activity_logs"

    @property
    def change_data(self) -> object:
        return loads(self.changes)

    @property
    def snapshot_data(self) -> dict | None:
        data = loads(self.snapshot)
        return data if isinstance(data, dict) else None

    @property
    def is_unparsed(self) -> bool:
        data = self.change_data
        return isinstance(data, dict) and "unparsed" in data


class ChainHead(peewee.Model):
    """The one row that locks appends and records both ends of the chain.

    Every append first updates this row, which serializes writers on
    PostgreSQL (row lock) and on SQLite (write lock). ``first_id`` and
    ``anchor_hash`` move forward when old entries are pruned.
    """

    id = peewee.IntegerField(primary_key=True)
    first_id = peewee.IntegerField(default=1)
    anchor_hash = peewee.CharField(max_length=64, default=GENESIS)
    last_id = peewee.IntegerField(default=0)
    last_hash = peewee.CharField(max_length=64, default=GENESIS)

    class Meta:
        table_name = "activity_chain"


MODELS = (ActivityLog, ChainHead)


def bind(database: peewee.Database | peewee.DatabaseProxy) -> None:
    for model in MODELS:
        model._meta.set_database(database)
