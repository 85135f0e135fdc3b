"""Appending entries to the hash chain, and checking the chain.

Each entry's ``hash`` is SHA-256 over its canonical JSON content and
``prev_hash``, the hash of the entry before it. ``prev_hash`` is not
stored, because entry ids follow each other with no gaps: the entry
before has the id before. For the oldest kept entry, the chain head keeps
the hash it follows. Appends run
inside the caller's transaction after :func:`lock`, so concurrent writers
queue up instead of forking the chain, and entry ids follow each other
with no gaps.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import peewee
from flask import current_app, has_app_context
from werkzeug.exceptions import ServiceUnavailable

from . import context
from .models import GENESIS, ActivityLog, ChainHead
from .values import canonical

log = logging.getLogger(__name__)

#: Default number of versions between two full snapshots of a record.
SNAPSHOT_EVERY = 100

#: Entries written or read per statement; 16 columns x 500 rows stays below
#: SQLite's limit of 32,766 bound parameters.
BATCH = 500

#: What the hash covers: every stored column but ``hash``, and the hash
#: of the entry before as ``prev_hash``.
HASHED = (
    "id",
    "actor",
    "action",
    "item_type",
    "item_id",
    "act_action",
    "created_at",
    "updated_at",
    "changes",
    "version",
    "snapshot",
    "group_id",
    "source",
    "client_addr",
    "prev_hash",
)


class ActivityWriteError(ServiceUnavailable):
    """The log could not record a change, so the change was not made.

    It is an HTTP 503, so a request that raises it shows the user that
    nothing was saved. Commands see an ordinary exception.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(
            "The change was not saved, because the activity log could not "
            f"record it ({reason}). Please try again."
        )
        self.reason = reason


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def snapshot_every() -> int:
    """Return the configured snapshot interval (at least 1)."""
    if has_app_context():
        value = current_app.config.get("ACTIVITY_SNAPSHOT_EVERY", SNAPSHOT_EVERY)
        return max(1, int(value))
    return SNAPSHOT_EVERY


def chunks(items: list, size: int = BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class NewEntry:
    """An entry waiting to be appended; unset context fields come from
    :func:`crossword_hints.activity.context.current`."""

    action: str
    act_action: str
    item_type: str | None = None
    item_id: str | None = None
    changes: Any = None
    #: The whole record after this entry, ``None`` when it is deleted.
    state_after: dict | None = None
    #: Whether the entry gets the record's next version number.
    versioned: bool = False
    #: A version fixed by the caller instead of the next one.
    version: int | None = None
    #: Whether to store ``state_after`` as a snapshot whatever the version.
    force_snapshot: bool = False
    actor: str | None = None
    group_id: str | None = None
    source: str | None = None
    client_addr: str | None = None
    created_at: datetime | None = None
    extra: dict = field(default_factory=dict)


def real_database(database: Any) -> peewee.Database:
    """Return the database behind any number of proxies."""
    while isinstance(database, peewee.DatabaseProxy):
        database = database.obj
    return database


@dataclass(frozen=True)
class ChainSQL:
    """The statements every append runs, as SQL text for one database.

    Appends run on every logged write, and building these statements with
    Peewee's query builder each time took longer than running them. The
    text depends only on the database's quoting and parameter style.
    """

    lock: str
    head: str
    head_and_version: str
    insert: str
    move_head: str


#: The fields of an entry in the order of :attr:`ChainSQL.insert`.
INSERTED = tuple(ActivityLog._meta.sorted_fields)

_chain_sql: dict[tuple[str, str], ChainSQL] = {}


def chain_sql(database: Any) -> ChainSQL:
    """Return the append statements for *database*, built on first use."""
    real = real_database(database)
    key = (real.quote, real.param)
    found = _chain_sql.get(key)
    if found is not None:
        return found

    def name(text: str) -> str:
        return f"{real.quote[0]}{text}{real.quote[1]}"

    param = real.param
    logs = name(ActivityLog._meta.table_name)
    head = name(ChainHead._meta.table_name)
    last_id, last_hash = name("last_id"), name("last_hash")
    head_row = f"WHERE {name('id')} = 1"
    latest = (
        f"SELECT MAX({name('version')}) FROM {logs}"
        f" WHERE {name('item_type')} = {param} AND {name('item_id')} = {param}"
    )
    columns = ", ".join(name(field.column_name) for field in INSERTED)
    params = ", ".join([param] * len(INSERTED))
    found = ChainSQL(
        lock=f"UPDATE {head} SET {last_id} = {last_id} {head_row}",
        head=f"SELECT {last_id}, {last_hash} FROM {head} {head_row}",
        head_and_version=(
            f"SELECT {last_id}, {last_hash}, ({latest}) FROM {head} {head_row}"
        ),
        insert=f"INSERT INTO {logs} ({columns}) VALUES ({params})",
        move_head=(
            f"UPDATE {head} SET {last_id} = {param}, {last_hash} = {param} {head_row}"
        ),
    )
    _chain_sql[key] = found
    return found


def lock(database: peewee.Database) -> None:
    """Take the chain lock for the rest of the current transaction.

    The update of the head row is the first write of the transaction, so
    SQLite takes its write lock here, before anything is read, and
    PostgreSQL holds the row lock until commit.

    NOTE: on SQLite, a caller whose own transaction read rows before this
    point gets "database is locked" if another connection committed in
    between, because SQLite cannot turn a stale read into a write.
    Transactions that write should start with their first write.
    """
    cursor = database.execute_sql(chain_sql(database).lock)
    if not cursor.rowcount:
        raise ActivityWriteError("its chain head row is missing")


def read_head(database: peewee.Database) -> ChainHead | None:
    query = ChainHead.select().where(ChainHead.id == 1)
    return next(iter(query.execute(database)), None)


def entry_hash(values: dict[str, Any]) -> str:
    """Return the hash of one entry given as a column-to-value mapping."""
    content = {}
    for name in HASHED:
        value = values.get(name)
        if isinstance(value, datetime):
            value = value.replace(tzinfo=None).isoformat(timespec="microseconds")
        content[name] = value
    return hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()


def latest_versions(
    database: peewee.Database, records: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Return the highest logged version of each (item_type, item_id)."""
    by_type: dict[str, set[str]] = {}
    for item_type, item_id in records:
        by_type.setdefault(item_type, set()).add(item_id)

    versions: dict[tuple[str, str], int] = {}
    for item_type, ids in by_type.items():
        for part in chunks(sorted(ids)):
            query = (
                ActivityLog.select(
                    ActivityLog.item_id, peewee.fn.MAX(ActivityLog.version)
                )
                .where(
                    (ActivityLog.item_type == item_type) & ActivityLog.item_id.in_(part)
                )
                .group_by(ActivityLog.item_id)
                .tuples()
            )
            for item_id, version in query.execute(database):
                versions[(item_type, item_id)] = version or 0
    return versions


def append(database: peewee.Database, entries: list[NewEntry]) -> list[dict]:
    """Append *entries* after the chain's last entry; return their rows.

    The caller must hold :func:`lock` in the same transaction. A failure
    is raised as :class:`ActivityWriteError`, which rolls back the
    caller's change with it.
    """
    if not entries:
        return []

    try:
        return write(database, entries)
    except peewee.DatabaseError as exc:
        log.error("Activity entries could not be written: %s", exc)
        raise ActivityWriteError("the database rejected the entry") from exc


def read_head_and_versions(
    database: peewee.Database, records: list[tuple[str, str]]
) -> tuple[int, str, dict[tuple[str, str], int]]:
    """Return the chain's last id and hash, and the latest version of each
    record.

    For a single record, the usual case, one statement reads all three.
    """
    sql = chain_sql(database)
    if len(set(records)) == 1:
        row = database.execute_sql(sql.head_and_version, records[0]).fetchone()
        if row is None:
            raise ActivityWriteError("its chain head row is missing")
        return row[0], row[1], {records[0]: row[2] or 0}

    row = database.execute_sql(sql.head).fetchone()
    if row is None:
        raise ActivityWriteError("its chain head row is missing")
    versions = latest_versions(database, records) if records else {}
    return row[0], row[1], versions


def write(database: peewee.Database, entries: list[NewEntry]) -> list[dict]:
    records = [
        (entry.item_type, entry.item_id)
        for entry in entries
        if entry.versioned and entry.version is None
    ]
    last_id, last_hash, versions = read_head_and_versions(database, records)
    every = snapshot_every()
    now = utcnow()
    acting = context.current()

    rows = []
    previous = last_hash
    next_id = last_id + 1
    for entry in entries:
        version = entry.version
        if entry.versioned and version is None:
            key = (entry.item_type, entry.item_id)
            version = versions.get(key, 0) + 1
            versions[key] = version

        store_snapshot = entry.state_after is not None and (
            entry.force_snapshot
            or (
                version is not None
                and version % every == 0
                and entry.action not in ("insert", "delete")
            )
        )
        created = entry.created_at or now
        row = {
            "id": next_id,
            "actor": entry.actor or acting.actor,
            "action": entry.action,
            "item_type": entry.item_type,
            "item_id": entry.item_id,
            "act_action": entry.act_action,
            "created_at": created,
            "updated_at": created,
            "changes": None if entry.changes is None else canonical(entry.changes),
            "version": version,
            "snapshot": canonical(entry.state_after) if store_snapshot else None,
            "group_id": entry.group_id or acting.group_id,
            "source": entry.source if entry.source is not None else acting.source,
            "client_addr": entry.client_addr or acting.client_addr,
            "prev_hash": previous,
        }
        row["hash"] = entry_hash(row)
        del row["prev_hash"]
        previous = row["hash"]
        rows.append(row)
        next_id += 1

    sql = chain_sql(database)
    if len(rows) == 1:
        values = [field.db_value(rows[0][field.name]) for field in INSERTED]
        database.execute_sql(sql.insert, values)
    else:
        for part in chunks(rows):
            ActivityLog.insert_many(part).as_rowcount().execute(database)

    database.execute_sql(sql.move_head, (next_id - 1, previous))
    return rows


def record(database: peewee.Database, entries: list[NewEntry]) -> list[dict]:
    """Append *entries* in a transaction of their own (or a savepoint)."""
    with database.atomic():
        lock(database)
        return append(database, entries)


# -- Checking ------------------------------------------------------------------


@dataclass
class Verdict:
    """The outcome of :func:`verify`."""

    checked: int = 0
    first_id: int | None = None
    last_id: int | None = None
    #: The id of the first entry found changed, removed or out of place.
    entry_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def stored_entries(database: peewee.Database) -> Iterator[ActivityLog]:
    """Yield every entry in id order, reading BATCH at a time."""
    last = None
    while True:
        query = ActivityLog.select().order_by(ActivityLog.id).limit(BATCH)
        if last is not None:
            query = query.where(ActivityLog.id > last)
        batch = list(query.execute(database))
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def verify(database: peewee.Database) -> Verdict:
    """Walk the chain and report the first entry that breaks it."""
    verdict = Verdict()
    head = read_head(database)
    if head is None:
        verdict.problem = "The chain head row (activity_chain id 1) is missing."
        return verdict

    expected_id = head.first_id
    previous = head.anchor_hash
    verdict.first_id = head.first_id

    def fail(entry_id: int, problem: str) -> Verdict:
        verdict.entry_id = entry_id
        verdict.problem = problem
        return verdict

    for entry in stored_entries(database):
        if entry.id < head.first_id:
            return fail(
                entry.id,
                f"Entry {entry.id} was inserted out of place: the chain starts "
                f"at entry {head.first_id}.",
            )
        if entry.id > expected_id:
            return fail(
                expected_id,
                f"Entry {expected_id} was removed: entry {entry.id} follows "
                f"entry {expected_id - 1}.",
            )

        if entry.id > head.last_id:
            return fail(
                entry.id,
                f"Entry {entry.id} was inserted out of place: the chain ends "
                f"at entry {head.last_id}.",
            )

        values = {name: getattr(entry, name, None) for name in HASHED}
        values["prev_hash"] = previous
        if entry_hash(values) != entry.hash:
            # The entries before it passed, so either this one changed or
            # the one before it was rewritten together with its hash.
            return fail(
                entry.id,
                f"Entry {entry.id} was changed after it was written, or the "
                "entry before it was rewritten.",
            )

        previous = entry.hash
        verdict.checked += 1
        verdict.last_id = entry.id
        expected_id += 1

    last_id = expected_id - 1
    if verdict.checked == 0 and head.last_id >= head.first_id:
        return fail(
            head.first_id,
            f"Entries {head.first_id} to {head.last_id} were removed: the log "
            "holds none of the chain.",
        )
    if last_id < head.last_id:
        return fail(
            expected_id,
            f"Entry {expected_id} was removed: the chain ends at entry "
            f"{head.last_id}, but the log stops at entry {last_id}.",
        )
    if last_id > head.last_id:
        return fail(
            head.last_id + 1,
            f"Entry {head.last_id + 1} was inserted out of place: the chain ends "
            f"at entry {head.last_id}.",
        )
    if previous != head.last_hash:
        return fail(
            last_id,
            f"Entry {last_id} does not match the hash recorded for the end of "
            f"the chain.",
        )
    return verdict


__all__ = [
    "GENESIS",
    "ActivityWriteError",
    "NewEntry",
    "append",
    "lock",
    "record",
    "verify",
]
