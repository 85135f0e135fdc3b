"""Pruning old entries without breaking histories or the chain.

Only a prefix of the chain can go: the entries, in id order, up to the
first one written at or after the cut-off. An entry older than the
cut-off that follows a newer one (an imported entry, say) stays, so the
remaining entries are still one unbroken chain. Each record that existed
at the cut-off gets a ``prune`` entry holding its state then, with the
version of its last removed entry, as the new base of its history. The
chain head remembers the hash of the last removed entry as its anchor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import peewee

from .chain import ActivityWriteError, NewEntry, append, lock, read_head
from .history import state_at
from .models import ActivityLog, ChainHead

log = logging.getLogger(__name__)


@dataclass
class Pruned:
    """The outcome of a prune: entries removed and records kept."""

    before: datetime
    removed: int = 0
    first_kept: int | None = None
    #: Records whose state at the cut-off was written as a new base.
    bases: int = 0


def prune(
    database: peewee.Database, before: datetime, *, dry_run: bool = False
) -> Pruned:
    """Remove the entries older than *before* and record the prune.

    With *dry_run* everything is rolled back and the result reports
    what would have been removed.
    """
    result = Pruned(before)
    with database.atomic() as transaction:
        lock(database)
        head = read_head(database)
        if head is None:
            raise ActivityWriteError("its chain head row is missing")
        kept_from = (
            ActivityLog.select(peewee.fn.MIN(ActivityLog.id))
            .where(ActivityLog.created_at >= before)
            .scalar()
        )
        cut = kept_from if kept_from is not None else head.last_id + 1
        result.first_kept = cut
        result.removed = ActivityLog.select().where(ActivityLog.id < cut).count()
        if not result.removed:
            return result

        bases = base_entries(cut, before)
        result.bases = len(bases)
        anchor = (
            ActivityLog.select(ActivityLog.hash)
            .where(ActivityLog.id == cut - 1)
            .scalar()
        )
        first = head.first_id
        day = before.date().isoformat()
        summary = NewEntry(
            "prune",
            f"Removed {result.removed} entries older than {day} (ids {first} to "
            f"{cut - 1}); kept the state of {len(bases)} records at the cut-off",
            changes={
                "before": before.isoformat(),
                "removed": result.removed,
                "first_kept": cut,
                "bases": len(bases),
            },
        )
        append(database, [*bases, summary])
        ActivityLog.delete().where(ActivityLog.id < cut).execute(database)
        (
            ChainHead.update(first_id=cut, anchor_hash=anchor)
            .where(ChainHead.id == 1)
            .execute(database)
        )
        if dry_run:
            transaction.rollback()

    log.info(
        "Pruned %d activity entries older than %s%s",
        result.removed,
        before.isoformat(),
        " (dry run)" if dry_run else "",
    )
    return result


def base_entries(cut: int, before: datetime) -> list[NewEntry]:
    """Return a base entry for each record alive at the last removed entry."""
    records = (
        ActivityLog.select(
            ActivityLog.item_type,
            ActivityLog.item_id,
            peewee.fn.MAX(ActivityLog.version),
        )
        .where(
            (ActivityLog.id < cut)
            & ActivityLog.version.is_null(False)
            & ActivityLog.item_type.is_null(False)
        )
        .group_by(ActivityLog.item_type, ActivityLog.item_id)
        .order_by(ActivityLog.item_type, ActivityLog.item_id)
        .tuples()
    )

    bases = []
    day = before.date().isoformat()
    for item_type, item_id, version in records:
        state = state_at(item_type, item_id, version)
        if state is None or not state.exists:
            continue
        bases.append(
            NewEntry(
                "prune",
                f"The record as it was at version {version}, kept when the "
                f"entries before {day} were pruned",
                item_type=item_type,
                item_id=item_id,
                state_after=state.values,
                versioned=True,
                version=version,
                force_snapshot=True,
            )
        )
    return bases
