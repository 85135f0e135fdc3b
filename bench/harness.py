"""Timing, memory and profiling helpers shared by every benchmark.

Every figure is a ratio of two things measured in the same run, with the
two sides taking turns, so that the load of a shared machine slows both
alike and cancels out of the ratio.
"""

from __future__ import annotations

import cProfile
import functools
import logging
import pstats
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

#: The repository root, where ``python -m bench`` runs.
ROOT = Path(__file__).resolve().parents[1]

#: Names of the data sizes: ``tiny`` for the smoke test, ``default`` for
#: ``make bench``, ``full`` for ``--full``.
SCALES = ("tiny", "default", "full")

T = TypeVar("T")


class NotMeasured(Exception):
    """A piece that the benchmark needs is missing; the message names it."""


@dataclass
class Figure:
    """One row of the results page."""

    title: str
    compared_with: str
    goal: str
    size: str = ""
    #: The figure the goal is about: the first side over the second.
    ratio: float | None = None
    #: The two sides in words, such as "1.2 ms against 1.0 ms per update".
    measured: str = ""
    #: Whether every part of the goal was met; ``None`` when not measured.
    met: bool | None = None
    #: Further figures of the same measurement (p95, peak memory).
    details: list[str] = field(default_factory=list)
    #: What limits the figure, written when the goal is missed.
    bottleneck: str = ""
    #: A profile summary of the slower side, when the goal is missed.
    profile: str = ""
    #: Why the row could not be measured, empty when it was.
    missing: str = ""


@dataclass
class Context:
    """The settings of the run that every benchmark reads."""

    scale: str
    workdir: Path
    postgres_url: str
    profile: bool = True

    def pick(self, sizes: dict[str, T]) -> T:
        """Return the entry of *sizes* for this run's scale."""
        return sizes[self.scale]

    def directory(self, name: str) -> Path:
        """Create and return a fresh folder under the run's temporary folder."""
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=False)
        return path


def require(module: str, attribute: str | None = None) -> object:
    """Import *module* (and fetch *attribute*) or raise :class:`NotMeasured`.

    The pieces under test are written separately from the benchmarks, so
    a row reports what is missing instead of stopping the whole run.
    """
    import importlib

    try:
        imported = importlib.import_module(module)
    except ImportError as exc:
        raise NotMeasured(f"{module} is missing ({exc})") from exc

    if attribute is None:
        return imported
    try:
        return getattr(imported, attribute)
    except AttributeError as exc:
        raise NotMeasured(f"{module}.{attribute} is missing") from exc


# -- Timing -------------------------------------------------------------------


def time_call(func: Callable[[], object]) -> float:
    """Call *func* once and return the seconds it took."""
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def time_alternating(
    first: Callable[[int], object],
    second: Callable[[int], object],
    rounds: int,
    second_every: int = 1,
) -> tuple[list[float], list[float]]:
    """Time *rounds* calls of each function, the two taking turns.

    Both functions get the round number, so that a round can give both
    sides the same input. The order flips every round, so that neither
    side always runs right after the other has warmed or filled a cache.
    With *second_every* above 1, *second* runs only in every so many
    rounds, for a slow baseline whose time hardly varies from call to
    call. Returns the seconds of every call of *first*, then of *second*.
    """
    first_times: list[float] = []
    second_times: list[float] = []

    for index in range(rounds):
        turns = [(first, first_times)]
        if index % second_every == 0:
            turns.append((second, second_times))
        if (index // second_every) % 2 == 1:
            turns.reverse()
        for func, times in turns:
            times.append(time_call(functools.partial(func, index)))

    return first_times, second_times


def count_alternating(
    first: Callable[[], object],
    second: Callable[[], object],
    rounds: int,
    seconds: float,
) -> tuple[float, float]:
    """Return calls per second of each function, the two taking turns.

    Each round calls one function as often as it can for *seconds*, then
    the other; the order flips every round.
    """
    counts = {0: 0, 1: 0}
    elapsed = {0: 0.0, 1: 0.0}
    sides = (first, second)

    for index in range(rounds):
        order = (0, 1) if index % 2 == 0 else (1, 0)
        for side in order:
            func = sides[side]
            start = time.perf_counter()
            deadline = start + seconds
            calls = 0
            while True:
                func()
                calls += 1
                now = time.perf_counter()
                if now >= deadline:
                    break
            counts[side] += calls
            elapsed[side] += now - start

    return counts[0] / elapsed[0], counts[1] / elapsed[1]


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of *samples* (``0.95`` for p95)."""
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def p50(samples: Sequence[float]) -> float:
    return percentile(samples, 0.50)


def p95(samples: Sequence[float]) -> float:
    return percentile(samples, 0.95)


def format_seconds(seconds: float) -> str:
    """Format a duration with a unit that keeps three significant digits."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def format_count(count: float) -> str:
    """Format a row count with thousands separators (``1,000,000``)."""
    return f"{round(count):,}"


def format_bytes(size: float) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{round(size)} bytes"


# -- Processes and memory ------------------------------------------------------


@dataclass
class ChildRun:
    """The outcome of one command run by :func:`run_child`."""

    seconds: float
    #: Peak resident memory of the child, in bytes (``ru_maxrss``).
    peak_rss: int
    exit_code: int
    output: str


#: A launcher that runs a command and writes its time and peak memory to
#: the file named first. The command is forked from this small process
#: rather than from the benchmark. Linux carries a parent's peak resident
#: memory over to a child through fork and exec, so a child of the large
#: benchmark process would report at least the benchmark's own peak.
LAUNCHER = """\
import os, sys, time
report, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(command[0], command)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as output:
    output.write(f"{time.perf_counter() - start} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(
    args: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> ChildRun:
    """Run *args* to the end and return its time, peak memory and output.

    The time is taken from just before the fork to the end of the child,
    and the peak memory is the child's own ``ru_maxrss`` (see
    :data:`LAUNCHER`); the launcher's start-up is not counted.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report"
        result = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, str(report), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
        seconds, peak_kib = report.read_text().split()

    output = result.stdout.decode("utf-8", "replace")
    return ChildRun(float(seconds), int(peak_kib) * 1024, result.returncode, output)


def peak_rss_of(pid: int) -> int:
    """Return the peak resident memory of a running process, in bytes.

    Reads ``VmHWM`` from ``/proc/PID/status`` (Linux), the high-water mark
    the kernel keeps, so no sampling can miss a short peak.
    """
    status = Path(f"/proc/{pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")


def children_of(pid: int) -> list[int]:
    """Return the ids of the direct children of process *pid* (Linux)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:*port*."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s"
                ) from None
            time.sleep(0.1)


def python_command() -> list[str]:
    """Return the command that starts this same Python interpreter."""
    return [sys.executable]


# -- Profiles ----------------------------------------------------------------


@dataclass
class Profile:
    """A profile summary: a table of the top functions and the leading few."""

    table: str
    #: The three functions with the most own time, in words.
    leaders: str
    #: Calls per profiled call, by function name.
    calls: dict[str, float] = field(default_factory=dict)
    #: Own seconds per profiled call, by function and where it is defined.
    own_times: dict[str, float] = field(default_factory=dict)

    def share(self, pattern: str) -> float:
        """Return the fraction of own time in functions matching *pattern*."""
        total = sum(self.own_times.values())
        matching = sum(
            seconds
            for where, seconds in self.own_times.items()
            if re.search(pattern, where)
        )
        return matching / total if total else 0.0


def profile_calls(func: Callable[[], object], calls: int, top: int = 12) -> Profile:
    """Profile *calls* calls of *func* and summarize where the time went.

    Functions are ranked by their own time, not counting callees, because
    that points at the code that is slow rather than at its callers. The
    cumulative time is shown beside it.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        for _ in range(calls):
            func()
    finally:
        profiler.disable()

    return summarize_stats(pstats.Stats(profiler), calls, top)


def summarize_stats(stats: pstats.Stats, calls: int, top: int = 12) -> Profile:
    """Summarize the *top* entries of *stats* by own time, per profiled call."""
    rows = []
    call_counts: dict[str, float] = {}
    for (filename, line, name), entry in stats.stats.items():  # type: ignore[attr-defined]
        _, call_count, own, cumulative, _ = entry
        where = f"{_short_path(filename)}:{line}({name})" if line else name
        rows.append((own, cumulative, call_count, where))
        call_counts[name] = call_counts.get(name, 0) + call_count / calls
    rows.sort(reverse=True)

    header = f"{'own/call':>10} {'cum/call':>10} {'ncalls':>8}  function"
    lines = [f"cProfile over {calls} calls, top {top} by own time", header]
    for own, cumulative, call_count, where in rows[:top]:
        own_time = format_seconds(own / calls)
        cumulative_time = format_seconds(cumulative / calls)
        lines.append(f"{own_time:>10} {cumulative_time:>10} {call_count:>8}  {where}")

    leaders = ", ".join(
        f"`{where}` ({format_seconds(own / calls)} per call)"
        for own, _, _, where in rows[:3]
    )
    own_times = {where: own / calls for own, _, _, where in rows}
    return Profile("\n".join(lines), leaders, call_counts, own_times)


def explain_miss(figure: Figure, reason: str, profile: Profile | None) -> None:
    """Write what limits a figure that missed its goal, with its profile."""
    figure.bottleneck = reason
    if profile is not None:
        figure.bottleneck += f" Most own time in the profile: {profile.leaders}."
        figure.profile = profile.table


def _short_path(filename: str) -> str:
    """Cut a profiled file name down to its package or repository path."""
    if filename.startswith(str(ROOT) + "/"):
        filename = filename[len(str(ROOT)) + 1 :]
    return re.sub(r"^.*/(site-packages|lib/python3\.\d+)/", "", filename)


class _StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        # Child loggers, such as the connection pool's ``peewee.pool``,
        # log other things than statements.
        if record.name == "peewee":
            self.count += 1


def count_statements(func: Callable[[], object], calls: int) -> float:
    """Return the SQL statements per call that Peewee runs for *func*.

    Peewee logs each statement it executes at DEBUG on the ``peewee``
    logger. Its records are counted here, not those of its child loggers,
    and none are passed on.
    """
    logger = logging.getLogger("peewee")
    counter = _StatementCounter()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        for _ in range(calls):
            func()
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
        logger.propagate = propagate
    return counter.count / calls
