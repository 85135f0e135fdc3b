"""Access to the activity log for the benchmarks that measure it.

The log is its own package; these helpers find its pieces, or raise
:class:`~bench.harness.NotMeasured` naming the one that is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import peewee

from .harness import NotMeasured, require

#: Actor of every change a benchmark makes with the log on.
ACTOR = "bench"


def check_solutions_logged() -> None:
    """Raise :class:`NotMeasured` unless saves of solutions are logged."""
    from crossword_hints.catalogue.models import Solution

    options_for = require("crossword_hints.activity.capture", "options_for")
    if options_for(Solution) is None:
        raise NotMeasured("the Solution model is not logged by the activity log")


@contextmanager
def logging_on() -> Iterator[None]:
    """Record the changes of the block as made by :data:`ACTOR`."""
    acting_as = require("crossword_hints.activity.context", "acting_as")
    with acting_as(ACTOR, source="python -m bench"):
        yield


@contextmanager
def logging_off() -> Iterator[None]:
    """Write no activity entries for the changes of the block."""
    suppressed = require("crossword_hints.activity.context", "suppressed")
    with suppressed():
        yield


def activity_model() -> type[peewee.Model]:
    return require("crossword_hints.activity.models", "ActivityLog")


def stored_size(values: dict[str, Any]) -> int:
    """Return the bytes of a row's values as the database stores them.

    Text counts its UTF-8 bytes, a number 8 bytes and NULL nothing. Both
    sides of a comparison are counted by this same rule; page and index
    overhead is left out of both.
    """
    size = 0
    for value in values.values():
        if value is None:
            continue
        if isinstance(value, bool | int | float):
            size += 8
        elif isinstance(value, bytes):
            size += len(value)
        else:
            size += len(str(value).encode("utf-8"))
    return size


def stored_entry(entry_id: int) -> dict[str, Any]:
    """Return the columns of one stored activity entry, as the database has them."""
    ActivityLog = activity_model()
    row = ActivityLog.select().where(ActivityLog.id == entry_id).dicts().get()
    return dict(row)


def create_solution(hint: str) -> Any:
    """Insert one solution through the model, so that the log records the insert.

    The catalogue's setters and solution types must exist already.
    """
    from crossword_hints.catalogue.models import Solution

    return Solution.create(
        clue="Benchmark clue (9)",
        solution="BENCHMARK",
        hint=hint,
        setter=1,
        solution_type=1,
    )
