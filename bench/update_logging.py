"""Updating one field of a solution with the activity log on and off.

Both sides save the same kind of change on the same model, each in its
own transaction as a form submission would: a new hint, through
``Solution.save()``. With the log on, the save also reads the row before
and after, appends an entry to the hash chain and commits both together.
"""

from __future__ import annotations

import logging

from .activity import check_solutions_logged, create_solution, logging_off, logging_on
from .databases import BACKENDS, fresh_app, peewee_database, seed_catalogue
from .harness import (
    Context,
    Figure,
    NotMeasured,
    count_statements,
    explain_miss,
    format_seconds,
    p50,
    p95,
    profile_calls,
    time_alternating,
)

log = logging.getLogger(__name__)

#: Updates per side per scale.
SIZES = {"tiny": 10, "default": 500, "full": 5000}

#: Highest ratio allowed, per backend.
MAX_RATIO = {"sqlite": 1.15, "postgresql": 1.25}

LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def planned(context: Context) -> list[Figure]:
    updates = context.pick(SIZES)
    return [
        Figure(
            title=f"Updating one field of a solution, with the activity log"
            f" ({LABELS[backend]})",
            compared_with="the same update on the same model with logging off",
            goal=f"at most {MAX_RATIO[backend]}",
            size=f"{updates:,} updates per side, one transaction each",
        )
        for backend in BACKENDS
    ]


def run(context: Context, figures: list[Figure]) -> None:
    for backend, figure in zip(BACKENDS, figures, strict=True):
        try:
            measure(context, backend, figure)
        except NotMeasured as exc:
            figure.missing = str(exc)


def measure(context: Context, backend: str, figure: Figure) -> None:
    from crossword_hints.catalogue.models import Solution

    updates = context.pick(SIZES)

    with fresh_app(context, backend, f"update-{backend}") as app:
        check_solutions_logged()
        db = peewee_database(app)
        with logging_off():
            seed_catalogue(app)

        with app.app_context(), db.connection_context():
            # Each side gets a row of its own, inserted the way it is updated.
            with logging_on():
                logged_row = create_solution("A hint")
            with logging_off():
                plain_row = create_solution("A hint")

            def update(row: Solution, index: int) -> None:
                with db.atomic():
                    row.hint = f"Hint number {index} of the benchmark"
                    row.save()

            def with_log(index: int) -> None:
                with logging_on():
                    update(logged_row, index)

            def without_log(index: int) -> None:
                with logging_off():
                    update(plain_row, index)

            # Warm both paths before the clock starts.
            with_log(-1)
            without_log(-1)
            logged_times, plain_times = time_alternating(with_log, without_log, updates)
            counter = iter(range(updates, 10**9))
            logged_statements = count_statements(lambda: with_log(next(counter)), 10)
            plain_statements = count_statements(lambda: without_log(next(counter)), 10)

            figure.ratio = p50(logged_times) / p50(plain_times)
            figure.met = figure.ratio <= MAX_RATIO[backend]
            figure.measured = (
                f"{format_seconds(p50(logged_times))} against"
                f" {format_seconds(p50(plain_times))} per update (p50)"
            )
            figure.details = [
                f"With the log: p50 {format_seconds(p50(logged_times))}, p95"
                f" {format_seconds(p95(logged_times))}. Without: p50"
                f" {format_seconds(p50(plain_times))}, p95"
                f" {format_seconds(p95(plain_times))}.",
                f"SQL statements per update, as Peewee logs them (savepoints"
                " count; BEGIN, COMMIT and connection set-up do not):"
                f" {logged_statements:g} with the log, {plain_statements:g}"
                " without.",
            ]

            if not figure.met:
                profile = None
                if context.profile:
                    profile = profile_calls(
                        lambda: with_log(next(counter)), calls=min(updates, 100)
                    )
                explain_miss(
                    figure,
                    f"an update with the log runs {logged_statements:g} SQL"
                    f" statements where the plain update runs {plain_statements:g}."
                    " A savepoint around the update and its entry lets a failed"
                    " entry undo the update. The log also takes the chain lock,"
                    " reads the row before the update for the diff, reads the"
                    " chain head with the record's latest version, inserts the"
                    " entry and moves the chain head. Each is a round trip, and"
                    " Peewee builds the row's SELECT and UPDATE afresh every"
                    " time.",
                    profile,
                )
