"""The ``crossword-hints`` command: the Flask CLI bound to this app.

Commands that change data run inside one transaction each and print a
one-line error (exit status 1) instead of a traceback when they fail.
"""

from __future__ import annotations

import sys

import click
import peewee
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from . import db, errors, migrations


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database or bring it up to the current schema."""
    applied = migrations.upgrade(db.database.obj)
    if applied:
        click.echo(f"Applied {len(applied)} migration(s): {', '.join(applied)}.")
    else:
        click.echo("The database is already up to date.")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)


def create_cli_app() -> Flask:
    from . import create_app

    return create_app()


def database_failure(exc: peewee.DatabaseError) -> str:
    """Describe a database error in one line, with what to do about it."""
    lines = str(exc).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    if errors.driver_codes(exc) & errors.DAMAGED_FILE:
        return (
            f"the database file is damaged or is not a SQLite database ({reason}). "
            "Restore it from a backup, or set DATABASE_URL to another file."
        )
    return (
        f"the database failed: {reason}. Check that DATABASE_URL names a "
        "database that is running and readable."
    )


def main() -> None:
    cli = FlaskGroup(
        create_app=create_cli_app,
        help="Run and manage the Crossword Hints site.",
    )
    try:
        cli.main(prog_name="crossword-hints")
    except peewee.DatabaseError as exc:
        click.echo(f"Error: {database_failure(exc)}", err=True)
        sys.exit(1)
