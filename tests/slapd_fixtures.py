"""Real slapd servers for the login tests, loaded with the shared directory.

``slapd`` is one server for the whole run; tests must not change it.
``fresh_slapd`` is a new server for one test that changes passwords or
groups. Both listen on 127.0.0.1 only; the shared one also offers StartTLS
and ldaps:// with a certificate from a throwaway CA.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from crossword_hints import create_app, db, migrations
from crossword_hints.auth.slapd import Slapd

SHARED_DIRECTORY = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / ("directory")
)
SHARED_LDIF = [SHARED_DIRECTORY / "base.ldif", SHARED_DIRECTORY / "users.ldif"]

#: Suffix of the shared directory.
SUFFIX = "dc=my-domain,dc=com"
PEOPLE = f"ou=People,{SUFFIX}"
GROUPS = f"ou=Groups,{SUFFIX}"


def ldap_settings(server: Slapd, **overrides: object) -> dict[str, object]:
    """Return the settings that point the app at *server*."""
    settings: dict[str, object] = {
        "LDAP_URL": server.url,
        "LDAP_BASE_DN": server.suffix,
        "LDAP_CONNECT_TIMEOUT": 2,
        "LDAP_TIMEOUT": 2,
    }
    settings.update(overrides)
    return settings


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """Yield the shared directory in a slapd that lives for the whole run."""
    with Slapd(
        SUFFIX, SHARED_LDIF, tls=True, workdir=tmp_path_factory.mktemp("slapd")
    ) as server:
        yield server


@pytest.fixture
def fresh_slapd(tmp_path: Path) -> Iterator[Slapd]:
    """Yield a new slapd with the shared directory, for one test to change."""
    with Slapd(SUFFIX, SHARED_LDIF, workdir=tmp_path / "slapd") as server:
        yield server


@pytest.fixture
def make_app(app_config: dict, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Yield a function that creates an app with extra settings.

    Each app gets the test's migrated database, as the ``app`` fixture
    does, and its database connection is closed after the test.
    """
    apps: list[Flask] = []

    def factory(**settings: object) -> Flask:
        instance = tmp_path / f"instance-{len(apps)}"
        app = create_app({**app_config, **settings}, instance_path=str(instance))
        with app.app_context():
            migrations.upgrade(db.database.obj)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        database = app.extensions["peewee"]
        if not database.is_closed():
            database.close()
