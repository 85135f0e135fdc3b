"""Import the older app's ``activity_logs`` table into the activity log.

:func:`crossword_hints.catalogue.legacy.import_legacy` calls
:func:`import_activity_logs` inside its own transaction, after the
catalogue tables, so the history and the rows it describes commit together.

The older app wrote the whole record on every change, as ``field: value``
lines. A value may span lines, so a line that does not start with one of
the table's field names and ``": "`` continues the value before it.
Consecutive entries of one record become real diffs here. Actors, times
and the old text (``act_action``) are kept as they were. An entry that
cannot be read is kept verbatim, flagged as ``{"unparsed": text}``.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import activity
from ..activity.chain import NewEntry
from ..db import database

#: The fields the older app wrote for each table, in its order.
FIELDS = {
    "setter_types": ("name", "description"),
    "crossword_setters": ("name", "setter_type_id", "description"),
    "solution_types": ("name", "description"),
    "crossword_solutions": (
        "crossword_setter_id",
        "clue",
        "solution",
        "solution_hint",
        "solution_type_id",
    ),
    "cue_words": ("cue_word", "meaning"),
}

#: ``source`` of an imported entry; the row id makes a re-run skip it.
SOURCE = "legacy activity_logs rowid {}"
SOURCE_PREFIX = "legacy activity_logs rowid "

FAILED_LOGIN = re.compile(r"Failed login for (.*?): (.*)", re.DOTALL)
SUCCESSFUL_LOGIN = re.compile(r"Successful login for (.*)", re.DOTALL)

#: Actions the older app wrote that map one to one.
RECORD_ACTIONS = ("insert", "update", "delete")


@dataclass
class OldEntry:
    rowid: int
    actor: str
    action: str
    item_type: str
    item_id: str
    text: str
    created_at: datetime | None


def parse_fields(item_type: str, text: str) -> dict[str, Any] | None:
    """Parse ``field: value`` lines; ``None`` if *text* is not in that form."""
    names = FIELDS.get(item_type)
    if names is None or not text:
        return None

    start = re.compile(rf"({'|'.join(map(re.escape, names))}):(?: (.*)|)$", re.DOTALL)
    record: dict[str, Any] = {}
    current = None
    for line in text.split("\n"):
        match = start.match(line)
        if match and match.group(1) not in record:
            current = match.group(1)
            record[current] = match.group(2) or ""
        elif current is None:
            return None
        else:
            record[current] += "\n" + line

    for name, value in record.items():
        if name.endswith("_id"):
            if not value.strip().isdigit():
                return None
            record[name] = int(value)
    return record


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def read_entries(source: sqlite3.Connection) -> list[OldEntry]:
    rows = source.execute(
        "SELECT rowid, actor, action, item_type, item_id, act_action, created_at"
        " FROM activity_logs ORDER BY rowid"
    )
    return [
        OldEntry(
            rowid=row[0],
            actor=str(row[1] or "system"),
            action=str(row[2] or ""),
            item_type=str(row[3] or ""),
            item_id="" if row[4] is None else str(row[4]),
            text="" if row[5] is None else str(row[5]),
            created_at=parse_time(row[6]),
        )
        for row in rows
    ]


def imported_rowids() -> set[int]:
    query = activity.ActivityLog.select(activity.ActivityLog.source).where(
        activity.ActivityLog.source.startswith(SOURCE_PREFIX)
    )
    return {int(row.source[len(SOURCE_PREFIX) :]) for row in query}


class Converter:
    """Turns old entries into new ones, remembering each record's last state."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.counts = {"unparsed": 0, "login_failed": 0}

    def convert(self, old: OldEntry) -> NewEntry:
        entry = NewEntry(
            old.action[:16] or "update",
            old.text,
            item_type=old.item_type or None,
            item_id=old.item_id or None,
            actor=activity.context.clean_name(old.actor) or "system",
            created_at=old.created_at,
            source=SOURCE.format(old.rowid),
        )
        if old.item_type == "user":
            return self.login(old, entry)
        if old.action not in RECORD_ACTIONS:
            return self.unparsed(old, entry)

        record = parse_fields(old.item_type, old.text)
        if record is None:
            return self.unparsed(old, entry, versioned=True)

        entry.versioned = True
        key = (old.item_type, old.item_id)
        before = self.states.get(key)
        if old.action == "delete":
            entry.changes = record
            self.states[key] = None
        elif old.action == "insert" or before is None:
            # An update whose earlier state the old log lacks becomes a base:
            # the whole record is stored as the snapshot.
            entry.changes = record if old.action == "insert" else {}
            entry.state_after = record
            entry.force_snapshot = old.action != "insert"
            self.states[key] = record
        else:
            after = {**before, **record}
            entry.changes = {
                name: [before.get(name), value]
                for name, value in record.items()
                if before.get(name) != value
            }
            entry.state_after = after
            self.states[key] = after
        return entry

    def login(self, old: OldEntry, entry: NewEntry) -> NewEntry:
        failed = FAILED_LOGIN.fullmatch(old.text)
        if failed:
            self.counts["login_failed"] += 1
            entry.action = "login_failed"
            entry.changes = {
                "username": activity.context.clean_name(failed.group(1)),
                "reason": failed.group(2),
                "outcome": "failed",
            }
            return entry
        if old.action == "login" and SUCCESSFUL_LOGIN.fullmatch(old.text):
            entry.changes = {"outcome": "success"}
            return entry
        return self.unparsed(old, entry)

    def unparsed(
        self, old: OldEntry, entry: NewEntry, versioned: bool = False
    ) -> NewEntry:
        self.counts["unparsed"] += 1
        entry.changes = {"unparsed": old.text}
        entry.versioned = versioned
        if versioned:
            # The record's state is unknown from here until its next base.
            self.states[(old.item_type, old.item_id)] = None
        return entry


def import_activity_logs(
    source: sqlite3.Connection, *, actor: str, dry_run: bool
) -> dict:
    """Copy the older app's activity entries; return counts by outcome.

    *actor* is recorded as the actor of the import's group; the entries
    keep their own actors. Entries already imported by an earlier run are
    skipped. With *dry_run* the caller rolls back afterwards, so the
    counts describe what would be written.
    """
    old_entries = read_entries(source)
    done = imported_rowids()
    converter = Converter()
    new_entries = []
    for old in old_entries:
        entry = converter.convert(old)
        if old.rowid not in done:
            new_entries.append(entry)

    source_line = f"import-legacy by {activity.context.clean_name(actor) or 'system'}"
    with activity.acting_as(actor, source=source_line):
        activity.record(database, new_entries)

    return {
        "entries": len(old_entries),
        "imported": len(new_entries),
        "skipped": len(old_entries) - len(new_entries),
        "unparsed": converter.counts["unparsed"],
        "login_failed": converter.counts["login_failed"],
    }
