"""/healthz returns 200 while the database responds and 503 when it does not."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from crossword_hints import create_app


def test_healthz_reports_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_sets_no_cookie(client):
    response = client.get("/healthz")

    assert response.headers.get("Set-Cookie") is None
    assert client.get_cookie("session") is None


def test_healthz_needs_no_login(client):
    response = client.get("/healthz", follow_redirects=False)

    assert response.status_code == 200
    assert "Location" not in response.headers


def closed_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sqlite_in_removed_folder(tmp_path: Path) -> tuple[str, Callable[[], None]]:
    folder = tmp_path / "gone"
    url = f"sqlite:///{folder / 'test.db'}"
    # The app creates the folder as it starts; it is removed afterwards.
    return url, lambda: shutil.rmtree(folder)


def postgres_on_closed_port(tmp_path: Path) -> tuple[str, Callable[[], None]]:
    return f"postgresql://postgres@127.0.0.1:{closed_port()}/test", lambda: None


@pytest.mark.parametrize(
    "unreachable", [sqlite_in_removed_folder, postgres_on_closed_port]
)
def test_healthz_reports_unreachable_database(app_config, tmp_path, unreachable):
    url, break_database = unreachable(tmp_path)
    app = create_app(
        {**app_config, "DATABASE_URL": url}, instance_path=str(tmp_path / "instance")
    )
    break_database()

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    assert response.headers["Retry-After"] == "30"
    assert response.headers.get("Set-Cookie") is None
