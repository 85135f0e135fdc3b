"""Full-text search over solutions against a ``LIKE '%word%'`` scan.

Both sides return what a search page needs: the number of matching
solutions and the first page of them, loaded with their setter
and solution type. The search ranks by relevance; the scan returns the
first rows by id, which is cheaper, so the comparison favours the scan.

Query words come from the clues of randomly chosen solutions, leaving out
the 100 most frequent words of the generator. They stand in for words
such as "the" and "of", which people rarely search for alone.
"""

from __future__ import annotations

import logging
import random

import peewee
from flask import Flask

from . import data
from .databases import BACKENDS, fresh_app, load_solutions, peewee_database
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
    time_call,
)

log = logging.getLogger(__name__)

#: (solutions, queries) per scale.
SIZES = {
    "tiny": (300, 6),
    "default": (100_000, 200),
    "full": (500_000, 300),
}

MAX_RATIO = 0.05
MAX_P95 = 0.020
PER_PAGE = 25

#: The LIKE scan runs in one round of this many.
SCAN_EVERY = 4


def planned(context: Context) -> list[Figure]:
    solutions, queries = context.pick(SIZES)
    return [
        Figure(
            title=f"Search over {format_count(solutions)} solutions ({label})",
            compared_with="a `LIKE '%word%'` scan of the same table (count and"
            " first page)",
            goal=f"at most {MAX_RATIO}; p95 under {MAX_P95 * 1000:.0f} ms",
            size=f"{format_count(solutions)} solutions, {queries} one-word queries"
            f" (a scan for every {SCAN_EVERY}th)",
        )
        for label in ("SQLite", "PostgreSQL")
    ]


def run(context: Context, figures: list[Figure]) -> None:
    search_solutions = require("crossword_hints.catalogue.search", "search_solutions")

    for backend, figure in zip(BACKENDS, figures, strict=True):
        try:
            measure(context, backend, figure, search_solutions)
        except NotMeasured as exc:
            figure.missing = str(exc)


def measure(context: Context, backend: str, figure: Figure, search_solutions) -> None:
    solutions, queries = context.pick(SIZES)

    with fresh_app(context, backend, f"search-{backend}") as app:
        log.info("Loading %s solutions into %s", format_count(solutions), backend)
        load_solutions(app, solutions)

        with app.app_context(), peewee_database(app).connection_context():
            words = query_words(app, queries)
            # One call of each first, so that neither side pays for the
            # first query's cold caches.
            search_solutions(words[0], 1, PER_PAGE)
            like_scan(words[0])

            matches: list[int] = []

            def search(index: int) -> None:
                matches.append(search_solutions(words[index], 1, PER_PAGE).total)

            def scan(index: int) -> None:
                like_scan(words[index])

            # A scan reads the whole table whatever the word, so a quarter of
            # the queries are enough to time it.
            search_times, scan_times = time_alternating(
                search, scan, queries, second_every=SCAN_EVERY
            )

            common = data.WordSource().words[0]
            common_page = search_solutions(common, 1, PER_PAGE)
            common_time = min(
                time_call(lambda: search_solutions(common, 1, PER_PAGE))
                for _ in range(3)
            )

            figure.ratio = p50(search_times) / p50(scan_times)
            search_p95 = p95(search_times)
            figure.met = figure.ratio <= MAX_RATIO and search_p95 < MAX_P95
            figure.measured = (
                f"{format_seconds(p50(search_times))} against"
                f" {format_seconds(p50(scan_times))} per query (p50);"
                f" search p95 {format_seconds(search_p95)}"
            )
            ordered_matches = sorted(matches)
            figure.details = [
                f"Search p50 {format_seconds(p50(search_times))}, p95"
                f" {format_seconds(search_p95)}; LIKE scan p50"
                f" {format_seconds(p50(scan_times))}, p95"
                f" {format_seconds(p95(scan_times))}.",
                f"Matching solutions per query: median"
                f" {format_count(p50(ordered_matches))}, largest"
                f" {format_count(ordered_matches[-1])}.",
                f"The most frequent word, {common!r}, matches"
                f" {format_count(common_page.total)} solutions; its search takes"
                f" {format_seconds(common_time)} (best of 3).",
            ]

            if not figure.met:
                profile = None
                if context.profile:
                    cycle = iter(words * 2)
                    profile = profile_calls(
                        lambda: search_solutions(next(cycle), 1, PER_PAGE),
                        calls=min(len(words), 50),
                    )
                explain_miss(figure, slow_queries(search_times, matches), profile)


def slow_queries(times: list[float], matches: list[int]) -> str:
    """Say how many rows the slowest twentieth of the queries matched."""
    pairs = sorted(zip(times, matches, strict=True), reverse=True)
    slowest = pairs[: max(1, len(pairs) // 20)]
    median_matches = p50([count for _, count in slowest])
    return (
        f"the search's time grows with the number of matching solutions: the"
        f" slowest 5% of the queries match a median of"
        f" {format_count(median_matches)} (all queries:"
        f" {format_count(p50(matches))}). The search counts every match before"
        " it returns the first page."
    )


def query_words(app: Flask, count: int) -> list[str]:
    """Pick *count* query words from the clues of random solutions."""
    from crossword_hints.catalogue.models import Solution

    chooser = random.Random(7)
    skipped = data.WordSource().common_words(100)
    highest = Solution.select(peewee.fn.MAX(Solution.id)).scalar()
    if not highest:
        raise NotMeasured("no solutions were loaded")

    words: list[str] = []
    while len(words) < count:
        row = Solution.get_or_none(Solution.id == chooser.randint(1, highest))
        if row is None:
            continue
        candidates = [word for word in row.clue.lower().split() if word not in skipped]
        if candidates:
            words.append(chooser.choice(candidates))
    return words


def like_scan(word: str) -> tuple[int, list]:
    """Count the solutions containing *word* and load the first page of them."""
    from crossword_hints import db
    from crossword_hints.catalogue.models import Setter, Solution, SolutionType

    # LIKE ignores ASCII case on SQLite; ILIKE does the same on PostgreSQL.
    operator = "ILIKE" if db.is_postgres() else "LIKE"
    placeholder = "%s" if db.is_postgres() else "?"
    condition = " OR ".join(
        f"{column} {operator} {placeholder}"
        for column in ("clue", "solution", "solution_hint")
    )
    pattern = f"%{word}%"

    total = db.database.execute_sql(
        f"SELECT count(*) FROM crossword_solutions WHERE {condition}",
        (pattern, pattern, pattern),
    ).fetchone()[0]
    ids = [
        row[0]
        for row in db.database.execute_sql(
            f"SELECT id FROM crossword_solutions WHERE {condition}"
            f" ORDER BY id LIMIT {PER_PAGE}",
            (pattern, pattern, pattern),
        ).fetchall()
    ]
    rows = list(
        Solution.select(Solution, Setter, SolutionType)
        .join(Setter)
        .switch(Solution)
        .join(SolutionType)
        .where(Solution.id.in_(ids or [0]))
    )
    return total, rows
