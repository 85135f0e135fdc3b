"""Bytes the activity log stores for a one-word edit of a 2 KB hint.

The older app wrote the whole record into ``act_action`` on every save,
one ``column: value`` line per column. The new log stores what changed
plus, every so many versions, a snapshot of the whole record. This
benchmark makes a solution with a 2 KB hint and changes one word of it at
a time. It compares the entries the log stored with the entries the older
app would have written for the same edits. Both are counted by one rule,
:func:`bench.activity.stored_size`.
"""

from __future__ import annotations

import logging
import random

from . import data
from .activity import (
    activity_model,
    check_solutions_logged,
    create_solution,
    logging_off,
    logging_on,
    stored_entry,
    stored_size,
)
from .databases import fresh_app, peewee_database, seed_catalogue
from .harness import Context, Figure, format_bytes

log = logging.getLogger(__name__)

#: Successive one-word edits per scale; the first is the headline figure,
#: all of them together give the average with snapshots included.
SIZES = {"tiny": 3, "default": 200, "full": 1000}

HINT_LENGTH = 2048
MAX_RATIO = 0.15

#: The columns the older app listed in ``act_action``, in its order.
LEGACY_COLUMNS = (
    "crossword_setter_id",
    "clue",
    "solution",
    "solution_hint",
    "solution_type_id",
)


def planned(context: Context) -> list[Figure]:
    edits = context.pick(SIZES)
    return [
        Figure(
            title="Bytes stored for a one-word edit of a 2 KB hint",
            compared_with="the older app's whole-record entry for the same edit",
            goal=f"at most {MAX_RATIO}",
            size=f"a {HINT_LENGTH:,}-character hint; {edits:,} successive edits",
        )
    ]


def run(context: Context, figures: list[Figure]) -> None:
    (figure,) = figures
    edits = context.pick(SIZES)
    source = data.WordSource(seed=5)
    chooser = random.Random(5)

    with fresh_app(context, "sqlite", "entry-size") as app:
        check_solutions_logged()
        ActivityLog = activity_model()
        db = peewee_database(app)
        with logging_off():
            seed_catalogue(app)

        new_sizes: list[int] = []
        legacy_sizes: list[int] = []
        first_entry: dict = {}
        with app.app_context(), db.connection_context():
            with logging_on(), db.atomic():
                row = create_solution(source.text_of_length(HINT_LENGTH))

            for _ in range(edits):
                with logging_on(), db.atomic():
                    row.hint = replace_one_word(row.hint, source, chooser)
                    row.save()
                latest = ActivityLog.select().order_by(ActivityLog.id.desc()).get()
                entry = stored_entry(latest.id)
                if entry["action"] != "update":
                    raise RuntimeError(f"the edit was logged as {entry['action']!r}")
                first_entry = first_entry or entry
                new_sizes.append(stored_size(entry))
                legacy_sizes.append(stored_size(legacy_entry(entry, row)))

    first_ratio = new_sizes[0] / legacy_sizes[0]
    average_new = sum(new_sizes) / len(new_sizes)
    average_legacy = sum(legacy_sizes) / len(legacy_sizes)
    average_ratio = average_new / average_legacy

    figure.ratio = first_ratio
    figure.met = first_ratio <= MAX_RATIO and average_ratio <= MAX_RATIO
    figure.measured = (
        f"{format_bytes(new_sizes[0])} against {format_bytes(legacy_sizes[0])} per"
        f" edit; {format_bytes(average_new)} on average over {edits:,} edits"
    )
    figure.details = [
        f"First edit: {format_bytes(new_sizes[0])} in the new log,"
        f" {format_bytes(legacy_sizes[0])} in the older app's layout"
        f" (ratio {first_ratio:.3g}).",
        f"Average over {edits:,} successive edits, snapshots included:"
        f" {format_bytes(average_new)} against {format_bytes(average_legacy)}"
        f" (ratio {average_ratio:.3g}); largest new entry"
        f" {format_bytes(max(new_sizes))}.",
        "Counted: the bytes of every column of the entry (text as UTF-8,"
        " numbers as 8 bytes), for both layouts; page and index overhead is"
        " left out of both.",
    ]
    if not figure.met:
        figure.bottleneck = largest_columns(first_entry, HINT_LENGTH)


def largest_columns(entry: dict, text_length: int) -> str:
    """Say which columns of an entry take its bytes."""
    sizes = sorted(
        ((stored_size({name: value}), name) for name, value in entry.items()),
        reverse=True,
    )
    parts = [f"`{name}` {format_bytes(size)}" for size, name in sizes[:3] if size]
    return (
        f"the largest columns of the first edit's entry are {', '.join(parts)},"
        f" for a change of one word in a {text_length:,}-character text. The"
        " entry stores whole values of the changed field rather than the words"
        " that changed."
    )


def replace_one_word(text: str, source: data.WordSource, chooser: random.Random) -> str:
    """Return *text* with one word, chosen at random, replaced by another."""
    words = text.split(" ")
    while True:
        index = chooser.randrange(len(words))
        replacement = source.word()
        if replacement != words[index]:
            break
    words[index] = replacement
    return " ".join(words)


def legacy_entry(entry: dict, row) -> dict:
    """Return the older app's entry for the same save, with its columns."""
    # The raw foreign-key values, without loading the rows they point to.
    values = {
        "crossword_setter_id": row.__data__["setter"],
        "clue": row.clue,
        "solution": row.solution,
        "solution_hint": row.hint,
        "solution_type_id": row.__data__["solution_type"],
    }
    act_action = "\n".join(f"{column}: {values[column]}" for column in LEGACY_COLUMNS)
    return {
        "actor": entry["actor"],
        "action": entry["action"],
        "item_type": entry["item_type"],
        "item_id": int(entry["item_id"]),
        "act_action": act_action,
        "created_at": entry["created_at"],
        "updated_at": entry["updated_at"],
    }
