"""Solutions index pages per second through gunicorn, against a bare route.

Both servers run with the project's ``gunicorn.conf.py`` and 2 workers on
127.0.0.1, and ``wrk`` loads them in turns. The site serves the first page
of ``/crossword-solutions/`` from a database of generated solutions. The
baseline is a Flask app whose one route returns a constant string.
"""

from __future__ import annotations

import logging

from playhouse.pool import PooledDatabase

from .databases import (
    BACKENDS,
    connection_cost,
    fresh_app,
    load_solutions,
    peewee_database,
)
from .harness import (
    Context,
    Figure,
    NotMeasured,
    count_statements,
    explain_miss,
    format_bytes,
    format_count,
    format_seconds,
    peak_rss_of,
    profile_calls,
)
from .servers import Load, gunicorn, run_wrk, wrk_executable

log = logging.getLogger(__name__)

#: (solutions, rounds, seconds of load per side and round) per scale.
SIZES = {
    "tiny": (100, 1, 1),
    "default": (10_000, 3, 5),
    "full": (100_000, 5, 10),
}

WORKERS = 2
CONNECTIONS = 8
MIN_RATIO = 0.4
INDEX_PATH = "/crossword-solutions/"


def planned(context: Context) -> list[Figure]:
    solutions, rounds, seconds = context.pick(SIZES)
    return [
        Figure(
            title=f"Solutions index pages per second, gunicorn with {WORKERS}"
            f" workers ({label})",
            compared_with="a bare Flask route returning a constant, same server"
            " settings",
            goal=f"at least {MIN_RATIO}",
            size=f"{format_count(solutions)} solutions; {rounds} rounds of"
            f" {seconds} s per side, {CONNECTIONS} connections",
        )
        for label in ("SQLite", "PostgreSQL")
    ]


def run(context: Context, figures: list[Figure]) -> None:
    wrk_executable()
    for backend, figure in zip(BACKENDS, figures, strict=True):
        try:
            measure(context, backend, figure)
        except NotMeasured as exc:
            figure.missing = str(exc)


def measure(context: Context, backend: str, figure: Figure) -> None:
    solutions, rounds, seconds = context.pick(SIZES)

    with fresh_app(context, backend, f"pages-{backend}") as app:
        load_solutions(app, solutions)
        url = app.config["DATABASE_URL"]
        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "CROSSWORD_HINTS_INSTANCE_PATH": app.instance_path,
            "CROSSWORD_HINTS_RATELIMIT_ENABLED": "false",
        }
        log_path = context.workdir / f"pages-{backend}-gunicorn.log"

        with (
            gunicorn("application:application", WORKERS, env, log_path) as site,
            gunicorn("bench.bare_app:app", WORKERS, {}, log_path) as bare,
        ):
            site_loads: list[Load] = []
            bare_loads: list[Load] = []
            # A short warm-up, so that both have loaded templates and opened
            # their database connections before the clock starts.
            run_wrk(site.url + INDEX_PATH, 1, CONNECTIONS)
            run_wrk(bare.url + "/", 1, CONNECTIONS)

            for index in range(rounds):
                turns = [
                    lambda: site_loads.append(
                        run_wrk(site.url + INDEX_PATH, seconds, CONNECTIONS)
                    ),
                    lambda: bare_loads.append(
                        run_wrk(bare.url + "/", seconds, CONNECTIONS)
                    ),
                ]
                if index % 2:
                    turns.reverse()
                for turn in turns:
                    turn()

            site_peak = max(peak_rss_of(pid) for pid in site.worker_pids())
            bare_peak = max(peak_rss_of(pid) for pid in bare.worker_pids())

        failures = sum(load.failures for load in site_loads + bare_loads)
        if failures:
            raise RuntimeError(f"{failures} requests failed under load; see {log_path}")

        site_rate = rate(site_loads)
        bare_rate = rate(bare_loads)
        figure.ratio = site_rate / bare_rate
        figure.met = figure.ratio >= MIN_RATIO
        figure.measured = (
            f"{site_rate:,.0f} against {bare_rate:,.0f} requests/s;"
            f" worker peak memory {format_bytes(site_peak)}"
        )
        figure.details = [
            f"Index page: {site_rate:,.0f} requests/s, latency p50"
            f" {format_seconds(median_of(site_loads, 'latency_p50'))}, p99"
            f" {format_seconds(median_of(site_loads, 'latency_p99'))}.",
            f"Bare route: {bare_rate:,.0f} requests/s, latency p50"
            f" {format_seconds(median_of(bare_loads, 'latency_p50'))}.",
            f"Peak resident memory of a site worker under this load:"
            f" {format_bytes(site_peak)} (bare Flask worker:"
            f" {format_bytes(bare_peak)}).",
            f"Load from `wrk`, 1 thread and {CONNECTIONS} connections, on the same"
            " 2 cores as the server.",
        ]

        if not figure.met:
            fetch = index_fetcher(app)
            statements = count_statements(fetch, 10)
            profile = profile_calls(fetch, calls=100)
            database_share = profile.share(
                r"sqlite3\.|^psycopg/|^peewee\.py|^playhouse/"
            )
            template_share = profile.share(r"^jinja2/|^markupsafe/|templates/")
            noun = "statement" if statements == 1 else "statements"
            reason = (
                f"each index page runs {statements:g} SQL {noun} and renders"
                " 25 rows through a template, against a constant string."
                f" In the profile of the page, {database_share:.0%} of the time"
                " goes to the database, Peewee's building of queries and"
                f" models included, and {template_share:.0%} to templates"
            )
            if isinstance(peewee_database(app), PooledDatabase):
                reason += (
                    ". Each request takes a connection from a pool, which on"
                    " PostgreSQL checks it with one `SELECT 1` round trip"
                )
            else:
                cost = connection_cost(app, fetch)
                if cost:
                    reason += f". Besides, {cost}"
            explain_miss(
                figure,
                reason + ". The profile is of the page served in this process.",
                profile if context.profile else None,
            )


def rate(loads: list[Load]) -> float:
    """Return the requests per second over all rounds together."""
    return sum(load.requests_per_second for load in loads) / len(loads)


def median_of(loads: list[Load], attribute: str) -> float:
    values = sorted(getattr(load, attribute) for load in loads)
    return values[len(values) // 2]


def index_fetcher(app):
    """Return a function that fetches the index page in this process."""
    client = app.test_client()

    def fetch() -> None:
        response = client.get(INDEX_PATH)
        if response.status_code != 200:
            raise RuntimeError(f"{INDEX_PATH} returned HTTP {response.status_code}")

    fetch()
    return fetch
