"""Versioned schema migrations, run in file-name order by peewee-migrate.

Each migration freezes the models it creates, so that later changes to
the application's models never change what an old migration does.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import peewee
from peewee_migrate import Router

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent


class MigrationLog(logging.LoggerAdapter):
    """Logs peewee-migrate's messages, its failures without a traceback.

    A failed migration is re-raised, and ``init-db`` reports it in one
    line; a traceback in the log would bury that line.
    """

    def exception(self, msg: object, *args: object, **kwargs: object) -> None:
        kwargs.pop("exc_info", None)
        error = sys.exc_info()[1]
        self.error(f"{msg} (%s)", *args, error, **kwargs)  # type: ignore[arg-type]


def router(db: peewee.Database) -> Router:
    return Router(db, migrate_dir=MIGRATIONS_DIR, logger=MigrationLog(log, {}))


def pending(db: peewee.Database) -> list[str]:
    """Return the names of the migrations not yet applied to *db*."""
    return list(router(db).diff)


def upgrade(db: peewee.Database) -> list[str]:
    """Apply every pending migration and return their names.

    Running it on an up-to-date database does nothing, so ``init-db`` is
    safe to run twice.
    """
    names = pending(db)
    if names:
        router(db).run()
    return names
