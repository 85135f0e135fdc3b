"""Rebuilding a record at its 10,000th version against rebuilding its first.

One solution is saved over and over with the activity log on, a new hint
each time, until it has the number of versions asked for. Then the log
rebuilds the record as it was at its last version and at its first, in
turns, through the same call the history page uses.
"""

from __future__ import annotations

import logging

from .activity import (
    activity_model,
    check_solutions_logged,
    create_solution,
    logging_off,
    logging_on,
)
from .databases import fresh_app, peewee_database, seed_catalogue
from .harness import (
    Context,
    Figure,
    NotMeasured,
    explain_miss,
    format_count,
    format_seconds,
    p50,
    p95,
    profile_calls,
    require,
    time_alternating,
)

log = logging.getLogger(__name__)

#: (versions of the record, rebuilds per side) per scale. The tiny size
#: still passes one snapshot interval, so the rebuild starts from one.
SIZES = {"tiny": (120, 5), "default": (2_000, 300), "full": (10_000, 1000)}

MAX_RATIO = 3.0

#: Saves per transaction while the versions are written; only speeds up
#: the set-up, the rebuilds measured are unaffected.
SAVES_PER_TRANSACTION = 500


def planned(context: Context) -> list[Figure]:
    versions, rebuilds = context.pick(SIZES)
    return [
        Figure(
            title=f"Rebuilding a record at its {format_count(versions)}th version",
            compared_with="rebuilding it at its first",
            goal=f"at most {MAX_RATIO:g} times",
            size=f"{format_count(versions)} versions of one solution;"
            f" {rebuilds:,} rebuilds per side",
        )
    ]


def run(context: Context, figures: list[Figure]) -> None:
    (figure,) = figures
    state_at = require("crossword_hints.activity.history", "state_at")
    versions, rebuilds = context.pick(SIZES)

    with fresh_app(context, "sqlite", "rebuild") as app:
        check_solutions_logged()
        ActivityLog = activity_model()
        db = peewee_database(app)
        with logging_off():
            seed_catalogue(app)

        with app.app_context(), db.connection_context():
            log.info("Saving one solution %s times", format_count(versions))
            with logging_on():
                row = create_solution("Hint of version 1")
                for start in range(2, versions + 1, SAVES_PER_TRANSACTION):
                    end = min(versions + 1, start + SAVES_PER_TRANSACTION)
                    with db.atomic():
                        for number in range(start, end):
                            row.hint = f"Hint of version {number}"
                            row.save()
            item_id = str(row.id)

            latest = (
                ActivityLog.select()
                .where(ActivityLog.item_id == item_id)
                .order_by(ActivityLog.version.desc())
                .get()
            )
            item_type = latest.item_type
            last, first = latest.version, first_version(ActivityLog, item_type, item_id)
            if state_at(item_type, item_id, last) is None:
                raise RuntimeError(f"the log cannot rebuild version {last}")

            def rebuild_last(index: int) -> None:
                state_at(item_type, item_id, last)

            def rebuild_first(index: int) -> None:
                state_at(item_type, item_id, first)

            last_times, first_times = time_alternating(
                rebuild_last, rebuild_first, rebuilds
            )

            figure.ratio = p50(last_times) / p50(first_times)
            figure.met = figure.ratio <= MAX_RATIO
            figure.measured = (
                f"{format_seconds(p50(last_times))} against"
                f" {format_seconds(p50(first_times))} per rebuild (p50)"
            )
            figure.details = [
                f"Version {last:,}: p50 {format_seconds(p50(last_times))}, p95"
                f" {format_seconds(p95(last_times))}. Version {first}: p50"
                f" {format_seconds(p50(first_times))}, p95"
                f" {format_seconds(p95(first_times))}.",
                f"The log holds {ActivityLog.select().count():,} entries.",
            ]

            # The headline version may hold a snapshot itself. The version
            # just before the last snapshot is the farthest from one.
            farthest = last - 1
            if farthest > first:

                def rebuild_farthest(index: int) -> None:
                    state_at(item_type, item_id, farthest)

                far_times, first_again = time_alternating(
                    rebuild_farthest, rebuild_first, rebuilds
                )
                applied = entries_read(item_type, item_id, farthest)
                figure.details.append(
                    f"Version {farthest:,}, which is {applied} entries from its"
                    f" snapshot, the most ACTIVITY_SNAPSHOT_EVERY allows: p50"
                    f" {format_seconds(p50(far_times))} against"
                    f" {format_seconds(p50(first_again))} for version {first}"
                    f" (ratio {p50(far_times) / p50(first_again):.3g})."
                )

            if not figure.met:
                profile = None
                if context.profile:
                    profile = profile_calls(
                        lambda: state_at(item_type, item_id, last), calls=100
                    )
                applied = entries_read(item_type, item_id, last)
                explain_miss(
                    figure,
                    f"to rebuild version {last:,} the log finds the nearest"
                    " snapshot by walking the record's index back from it, then"
                    f" reads and applies the {applied} entries from there;"
                    f" version {first} needs one row.",
                    profile,
                )


def entries_read(item_type: str, item_id: str, version: int) -> int | str:
    """Return how many entries the log applies to rebuild *version*."""
    try:
        entries_from_base = require(
            "crossword_hints.activity.history", "entries_from_base"
        )
    except NotMeasured:
        return "an unknown number of"
    return len(entries_from_base(item_type, item_id, version))


def first_version(ActivityLog, item_type: str, item_id: str) -> int:
    return (
        ActivityLog.select(ActivityLog.version)
        .where((ActivityLog.item_type == item_type) & (ActivityLog.item_id == item_id))
        .order_by(ActivityLog.version)
        .scalar()
    )
