"""Write the results page, ``docs/benchmarks.md``."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from .harness import Figure

INTRO = """\
# Benchmarks

Each figure is a ratio of two things measured side by side in the same
run, taking turns, so that the load of a shared machine slows both sides
alike and cancels out. `make bench` (or `.venv/bin/python -m bench`) runs
the default sizes in a few minutes and rewrites this page; `--full` runs
the sizes the goals are stated for; `--only NAME` runs some benchmarks
alone. Each benchmark makes its data in a temporary folder, from the
Debian word list `/usr/share/dict/words` (package `wamerican`), and a
PostgreSQL figure uses a fresh schema that is dropped afterwards. The code
is in [`bench/`](../bench/); `tests/test_bench_smoke.py` runs every
benchmark at a tiny size so that none of them stops working unnoticed.
"""


def machine_lines(postgres_version: str) -> list[str]:
    """Describe the machine and the software versions the run used."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return [
        f"CPU: {cpu_model()}, {os.cpu_count()} cores",
        f"Memory: {memory / 2**30:.0f} GiB",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
        f" {postgres_version}",
        f"Flask {package_version('flask')}, Peewee {package_version('peewee')},"
        f" gunicorn {package_version('gunicorn')},"
        f" python-ldap {package_version('python-ldap')}, {slapd_version()}",
    ]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def slapd_version() -> str:
    for path in ("/usr/sbin/slapd", "slapd"):
        try:
            result = subprocess.run(
                [path, "-VV"], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        for line in (result.stdout + result.stderr).splitlines():
            if "slapd" in line and "OpenLDAP" in line:
                return "OpenLDAP slapd " + line.split("slapd", 1)[1].split()[0]
    return "slapd not installed"


def postgres_version(url: str) -> str:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except Exception as exc:  # noqa: BLE001 - the page says why instead
        return f"PostgreSQL not reachable ({type(exc).__name__})"
    return f"PostgreSQL {row[0].split()[0]}" if row else "PostgreSQL"


def result_word(figure: Figure) -> str:
    if figure.missing:
        return "not measured"
    if figure.met is None:
        return "measured"
    return "met" if figure.met else "**missed**"


def format_ratio(figure: Figure) -> str:
    if figure.ratio is None:
        return "–"
    return f"{figure.ratio:.3g}"


def table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(
    figures: Sequence[Figure],
    *,
    scale: str,
    started: datetime,
    seconds: float,
    postgres_url: str,
    command: str,
    load_averages: tuple[float, float] | None = None,
) -> str:
    """Return the whole page as Markdown.

    *load_averages* are the machine's 1-minute load averages at the start
    and the end of the run: other work on the machine shows there.
    """
    lines = [INTRO]

    lines.append("## This run\n")
    lines.append(f"- Date: {started.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    lines.append(f"- Command: `{command}` ({scale} sizes), {seconds / 60:.1f} minutes")
    for line in machine_lines(postgres_version(postgres_url)):
        lines.append(f"- {line}")
    if load_averages is not None:
        start, end = load_averages
        lines.append(
            f"- Load average (1 minute) at the start and the end of the run:"
            f" {start:.1f} and {end:.1f}"
        )
    lines.append("")

    lines.append("## Results\n")
    lines.append(
        "| What | Compared with | Goal | Measured | Ratio | Data size | Result |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for figure in figures:
        measured = figure.measured
        if figure.missing:
            measured = f"not measured: {figure.missing}"
        cells = [
            figure.title,
            figure.compared_with,
            figure.goal,
            measured,
            format_ratio(figure),
            figure.size,
            result_word(figure),
        ]
        lines.append("| " + " | ".join(table_cell(cell) for cell in cells) + " |")
    lines.append("")

    detailed = [figure for figure in figures if figure.details or figure.bottleneck]
    if detailed:
        lines.append("## Details\n")
    for figure in detailed:
        lines.append(f"### {figure.title}\n")
        for detail in figure.details:
            lines.append(f"- {detail}")
        if figure.bottleneck:
            if figure.details:
                lines.append("")
            lines.append(f"What limits it: {figure.bottleneck}")
        if figure.profile:
            lines.append("")
            lines.append("```text")
            lines.append(figure.profile)
            lines.append("```")
        lines.append("")

    return "\n".join(lines).rstrip() + "\n"
