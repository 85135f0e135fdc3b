"""Gunicorn servers on 127.0.0.1 and ``wrk`` load against them."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .harness import ROOT, NotMeasured, children_of, free_port, wait_for_port

log = logging.getLogger(__name__)

#: The project's gunicorn settings, used for both servers of a comparison.
GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"

STOP_TIMEOUT = 20


@dataclass
class Server:
    """A running gunicorn master and the port it serves on."""

    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)


@contextmanager
def gunicorn(
    app_spec: str, workers: int, env: dict[str, str], log_path: Path
) -> Iterator[Server]:
    """Serve *app_spec* with gunicorn on a free port of 127.0.0.1.

    The project's ``gunicorn.conf.py`` is read when it exists; the worker
    count and the address given here override it.
    """
    executable = Path(sys.executable).with_name("gunicorn")
    if not executable.exists():
        raise NotMeasured(f"gunicorn is not installed ({executable} is missing)")

    port = free_port()
    args = [str(executable), "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    if GUNICORN_CONFIG.exists():
        args += ["--config", str(GUNICORN_CONFIG)]
    args.append(app_spec)

    with open(log_path, "ab") as output:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port)
    try:
        try:
            wait_for_port(port)
        except TimeoutError:
            raise RuntimeError(
                f"gunicorn did not start; its log {log_path} ends:\n"
                + log_path.read_text(errors="replace")[-2000:]
            ) from None
        log.info("gunicorn %s serves %s (pid %d)", app_spec, server.url, process.pid)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Load:
    """The figures of one ``wrk`` run."""

    requests_per_second: float
    requests: int
    #: Responses with a status other than 2xx or 3xx, and socket errors.
    failures: int
    latency_p50: float
    latency_p99: float


def wrk_executable() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise NotMeasured("wrk is not installed; install Debian's wrk package")
    return path


def run_wrk(url: str, seconds: float, connections: int, threads: int = 1) -> Load:
    """Load *url* with ``wrk`` for *seconds* and return what it measured."""
    result = subprocess.run(
        [
            wrk_executable(),
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed on {url}: {result.stderr.strip()}")
    return parse_wrk(result.stdout)


def parse_wrk(output: str) -> Load:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rate is None or total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")

    failures = 0
    non_success = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_success:
        failures += int(non_success.group(1))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        failures += sum(int(group) for group in errors.groups())

    return Load(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        failures=failures,
        latency_p50=latency(output, "50%"),
        latency_p99=latency(output, "99%"),
    )


def latency(output: str, label: str) -> float:
    """Return the latency percentile *label* of wrk's output, in seconds."""
    match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", output, re.M)
    if match is None:
        return float("nan")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[match.group(2)]
    return float(match.group(1)) * scale
