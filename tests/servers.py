"""Start the site under gunicorn, on 127.0.0.1 and a free port, for a test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: Variables that would carry the developer's own settings into a server.
SETTING_VARIABLES = ("SECRET_KEY", "DATABASE_URL", "APP_SETTINGS")

#: Seconds to wait for a server to start or stop before the test fails.
#: This bounds a hang; it is not a speed requirement.
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """Return this process's environment without settings, plus *variables*.

    The instance folder is *tmp_path*/instance and the database a SQLite
    file in *tmp_path*, unless *variables* name others.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CROSSWORD_HINTS_", "GUNICORN_"))
        and name not in SETTING_VARIABLES
        and name not in ("PORT", "WEB_CONCURRENCY")
    }
    environment["CROSSWORD_HINTS_INSTANCE_PATH"] = str(tmp_path / "instance")
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'site.db'}"
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(variables)
    return environment


@dataclass
class Server:
    """A running gunicorn and the files its output goes to."""

    process: subprocess.Popen
    url: str
    stdout: Path
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


def wait_until_serving(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"gunicorn exited with {server.process.returncode}:\n{server.log()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5):
                return
        except urllib.error.HTTPError:
            # Any HTTP response, even an error, means gunicorn is serving.
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not respond in time:\n{server.log()}")


def init_db(environment: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BIN / "crossword-hints"), "init-db"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    assert result.returncode == 0, result.stderr


@contextmanager
def gunicorn(
    tmp_path: Path, environment: dict[str, str], *arguments: str
) -> Iterator[Server]:
    """Run ``gunicorn application:application`` in the repository root.

    Gunicorn reads ``gunicorn.conf.py`` from there, as it does in
    production. The port comes from ``PORT``.
    """
    port = free_port()
    environment = {**environment, "PORT": str(port)}
    stdout = tmp_path / "gunicorn.out"
    stderr = tmp_path / "gunicorn.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), *arguments, "application:application"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=err,
        )
    server = Server(process, f"http://127.0.0.1:{port}", stdout, stderr)
    try:
        wait_until_serving(server)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STARTUP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
