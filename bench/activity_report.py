"""The activity report's first page against a deep keyset page.

The log is filled with generated entries, written straight into
``activity_logs`` because a million entries through the hash chain would
take far longer than the measurement. The report is filtered by actor,
item type and the last 30 days. The benchmark reaches the deep page as a
user would, by following each page's "older" link from the first.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from datetime import timedelta

from . import data
from .activity import activity_model, logging_off
from .databases import fresh_app, load_rows, peewee_database, seed_catalogue
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

#: (entries, deep page number, page loads per side) per scale.
SIZES = {
    "tiny": (3_000, 10, 10),
    "default": (150_000, 1000, 300),
    "full": (1_000_000, 1000, 1000),
}

MAX_RATIO = 1.5
MAX_FIRST_P95 = 0.030

#: Days the generated entries span, ending at :data:`bench.data.EPOCH`.
SPAN_DAYS = 40
FILTER_DAYS = 30

#: Actors, item types and actions of the generated entries, with weights.
#: The report is filtered by the first actor and the first item type.
ACTORS = {"setter": 60, "xword": 25, "system": 10, "anonymous": 5}
ITEM_TYPES = {"crossword_solutions": 80, "cue_words": 10, "crossword_setters": 10}
ACTIONS = {"update": 70, "insert": 20, "delete": 5, "restore": 5}


def planned(context: Context) -> list[Figure]:
    entries, deep, _ = context.pick(SIZES)
    return [
        Figure(
            title=f"Activity report, filtered by actor, item type and {FILTER_DAYS}"
            f" days, over {format_count(entries)} entries",
            compared_with=f"its first page against page {deep:,} (keyset)",
            goal=f"deep page at most {MAX_RATIO} times the first; first page p95"
            f" under {MAX_FIRST_P95 * 1000:.0f} ms on SQLite",
            size=f"{format_count(entries)} entries over {SPAN_DAYS} days",
        )
    ]


def run(context: Context, figures: list[Figure]) -> None:
    (figure,) = figures
    report = require("crossword_hints.activity.report")
    entries, deep, loads = context.pick(SIZES)

    with fresh_app(context, "sqlite", "activity-report", WTF_CSRF_ENABLED=False) as app:
        with logging_off():
            seed_catalogue(app)
        log.info("Writing %s activity entries", format_count(entries))
        ActivityLog = activity_model()
        columns = [field.column_name for field in ActivityLog._meta.sorted_fields]
        rows = (
            tuple(entry.get(column) for column in columns)
            for entry in generated_entries(entries)
        )
        load_rows(app, "activity_logs", columns, rows)
        move_chain_head(app, entries)

        per_page = int(app.config.get("ACTIVITY_PER_PAGE", 50))
        newest = data.EPOCH.date()
        filters = report.Filters(
            actor=next(iter(ACTORS)),
            item_type=next(iter(ITEM_TYPES)),
            since=newest - timedelta(FILTER_DAYS - 1),
        )

        db = peewee_database(app)
        with app.app_context(), db.connection_context():
            matching = filters.query().count()
            cursor = None
            # Follow the "older" link from page 1 to the page before the deep one.
            for _ in range(1, deep):
                shown = report.page(
                    filters, before=cursor, after=None, per_page=per_page
                )
                if shown.older is None:
                    raise NotMeasured(
                        f"the filter matches only {matching:,} entries, fewer"
                        f" than {deep:,} pages of {per_page}"
                    )
                cursor = shown.older

            def first_page(index: int) -> None:
                report.page(filters, before=None, after=None, per_page=per_page)

            def deep_page(index: int) -> None:
                result = report.page(
                    filters, before=cursor, after=None, per_page=per_page
                )
                if len(result.rows) != per_page:
                    raise RuntimeError(f"page {deep} has {len(result.rows)} rows")

            deep_times, first_times = time_alternating(deep_page, first_page, loads)
            page_time = report_page_time(app, filters, loads)

        figure.ratio = p50(deep_times) / p50(first_times)
        first_p95 = p95(first_times)
        figure.met = figure.ratio <= MAX_RATIO and first_p95 < MAX_FIRST_P95
        figure.measured = (
            f"page {deep:,}: {format_seconds(p50(deep_times))} against"
            f" {format_seconds(p50(first_times))} (p50); first page p95"
            f" {format_seconds(first_p95)}"
        )
        figure.details = [
            f"The filter matches {matching:,} entries, {per_page} to a page.",
            f"First page: p50 {format_seconds(p50(first_times))}, p95"
            f" {format_seconds(first_p95)}. Page {deep:,}: p50"
            f" {format_seconds(p50(deep_times))}, p95"
            f" {format_seconds(p95(deep_times))}. Both through"
            " `crossword_hints.activity.report.page`, the query the report"
            " view runs.",
            f"The whole report page, served as HTML with its per-day chart:"
            f" p50 {format_seconds(page_time)} for the first page.",
        ]

        if not figure.met:
            profile = None
            if context.profile:
                with app.app_context(), db.connection_context():
                    profile = profile_calls(
                        lambda: first_page(0), calls=min(loads, 100)
                    )
            slower = "page" if figure.ratio > MAX_RATIO else "first page"
            explain_miss(
                figure, f"the {slower} query itself; see its profile.", profile
            )


def report_page_time(app, filters, loads: int) -> float:
    """Return the p50 time of the first report page served through the app."""
    from .harness import time_call

    client = app.test_client()
    response = client.post(
        "/login", data={"username": "xword", "password": "admin-pass"}
    )
    if response.status_code != 302:
        raise RuntimeError(f"admin login returned HTTP {response.status_code}")

    query = "&".join(f"{name}={value}" for name, value in filters.args().items())
    url = f"/activity/?{query}"

    def fetch() -> None:
        answer = client.get(url)
        if answer.status_code != 200:
            raise RuntimeError(f"{url} returned HTTP {answer.status_code}")

    fetch()
    return p50([time_call(fetch) for _ in range(max(3, loads // 10))])


def move_chain_head(app, last_id: int) -> None:
    """Point the chain's head past the generated entries.

    The admin's login is then appended as the next entry instead of
    clashing with the id of a generated one.
    """
    db = peewee_database(app)
    with app.app_context(), db.connection_context(), db.atomic():
        db.execute_sql(
            "UPDATE activity_chain SET last_id = ?, last_hash = ? WHERE id = 1",
            (last_id, entry_digest(last_id - 1)),
        )


def entry_digest(index: int) -> str:
    """Return the stand-in hash of generated entry number *index*, from 0."""
    return f"{index:064x}"


def generated_entries(count: int) -> Iterator[dict]:
    """Yield *count* entries as column values, oldest first, spread over
    :data:`SPAN_DAYS`. Columns left out are stored as NULL."""
    chooser = random.Random(11)
    source = data.WordSource(seed=11)
    start = data.EPOCH - timedelta(days=SPAN_DAYS)
    step = timedelta(days=SPAN_DAYS) / count
    actors = chooser.choices(list(ACTORS), list(ACTORS.values()), k=count)
    item_types = chooser.choices(list(ITEM_TYPES), list(ITEM_TYPES.values()), k=count)
    actions = chooser.choices(list(ACTIONS), list(ACTIONS.values()), k=count)

    for index in range(count):
        created = (start + step * (index + 1)).strftime("%Y-%m-%d %H:%M:%S.%f")
        old, new = source.word(), source.word()
        yield {
            "id": index + 1,
            "actor": actors[index],
            "action": actions[index],
            "item_type": item_types[index],
            "item_id": str(chooser.randint(1, 50_000)),
            "act_action": f"solution_hint: {old!r} -> {new!r}",
            "created_at": created,
            "updated_at": created,
            "changes": json.dumps({"solution_hint": [old, new]}),
            "version": index // 20 + 1,
            "group_id": f"{index // 3:032x}",
            "source": "POST /crossword-solutions/1/edit",
            "client_addr": "127.0.0.1",
            "hash": entry_digest(index),
        }
