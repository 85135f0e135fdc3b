"""Run the benchmarks and write ``docs/benchmarks.md``: ``python -m bench``."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from . import (
    activity_report,
    entry_size,
    legacy_import,
    login,
    pages,
    rebuild,
    search,
    update_logging,
)
from .harness import ROOT, SCALES, Context, Figure, NotMeasured
from .report import render

log = logging.getLogger("bench")

#: Every benchmark by its command-line name, in the order of the page.
BENCHMARKS: dict[str, ModuleType] = {
    "update-logging": update_logging,
    "activity-report": activity_report,
    "rebuild": rebuild,
    "entry-size": entry_size,
    "search": search,
    "login": login,
    "pages": pages,
    "legacy-import": legacy_import,
}

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

#: Start of the reason given for a figure whose benchmark raised an error.
FAILED = "the benchmark failed"


def run_benchmark(
    module: ModuleType, context: Context, strict: bool = False
) -> list[Figure]:
    """Run one benchmark module and return its figures.

    A missing piece (:class:`NotMeasured`) marks every figure the module
    did not fill in. Any other error does the same with the error's text,
    unless *strict* is set, in which case it propagates.
    """
    figures: list[Figure] = module.planned(context)
    try:
        module.run(context, figures)
    except NotMeasured as exc:
        log.warning("%s: not measured: %s", module.__name__, exc)
        mark_missing(figures, str(exc))
    except Exception as exc:
        if strict:
            raise
        log.error("%s failed:\n%s", module.__name__, traceback.format_exc())
        mark_missing(figures, f"{FAILED}: {type(exc).__name__}: {exc}")
    return figures


def mark_missing(figures: list[Figure], reason: str) -> None:
    for figure in figures:
        if figure.ratio is None and not figure.missing:
            figure.missing = reason


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the site side by side with simpler alternatives and"
        " write the results to docs/benchmarks.md.",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="use the data sizes the goals are stated for (1,000,000 activity"
        " entries, 500,000 solutions; takes much longer)",
    )
    parser.add_argument(
        "--scale",
        choices=SCALES,
        help="data sizes by name, overriding --full; 'tiny' only checks that each"
        " benchmark runs",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help="run only this benchmark; may be repeated (names: "
        + ", ".join(BENCHMARKS)
        + ")",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="file to write the results page to (default: docs/benchmarks.md)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server to make a scratch schema in (default:"
        " $BENCH_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument(
        "--no-profile",
        dest="profile",
        action="store_false",
        help="skip the profile of a benchmark that misses its goal",
    )
    args = parser.parse_args(argv)
    if args.scale is None:
        args.scale = "full" if args.full else "default"
    return args


def main(argv: list[str] | None = None) -> int:
    # The app under test logs every request and migration at INFO; only
    # its warnings are worth seeing here.
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("bench").setLevel(logging.INFO)
    args = parse_args(argv)
    scale = args.scale
    names = args.only or list(BENCHMARKS)

    started = datetime.now(UTC)
    start = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    figures: list[Figure] = []

    with tempfile.TemporaryDirectory(prefix="crossword-bench-") as workdir:
        context = Context(
            scale=scale,
            workdir=Path(workdir),
            postgres_url=args.postgres_url,
            profile=args.profile,
        )
        for name in names:
            log.info("Running %s at %s sizes", name, scale)
            bench_start = time.perf_counter()
            figures.extend(run_benchmark(BENCHMARKS[name], context))
            log.info("%s took %.1f s", name, time.perf_counter() - bench_start)

    seconds = time.perf_counter() - start
    command = "python -m bench " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    page = render(
        figures,
        scale=scale,
        started=started,
        seconds=seconds,
        postgres_url=args.postgres_url,
        command=command.strip(),
        load_averages=(load_at_start, os.getloadavg()[0]),
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    log.info("Wrote %s in %.1f minutes", args.output, seconds / 60)

    failed = [figure for figure in figures if figure.missing.startswith(FAILED)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
