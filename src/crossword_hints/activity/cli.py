"""The ``activity verify`` and ``activity prune`` commands."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .chain import verify
from .context import acting_as
from .retention import prune


def database():
    return current_app.extensions["activity"].database


@click.group("activity")
def activity_command() -> None:
    """Check or prune the activity log."""


@activity_command.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check the hash chain of the activity log.

    \b
    Exit status:
      0  every entry is intact and in place
      1  an entry was changed, removed or inserted out of place; the
         message names the first one
    """
    verdict = verify(database())
    if not verdict.ok:
        raise click.ClickException(
            f"{verdict.problem} Entries intact before it: {verdict.checked}."
        )
    if verdict.checked:
        click.echo(
            f"Checked {verdict.checked} entries (ids {verdict.first_id} to "
            f"{verdict.last_id}): the chain is intact."
        )
    else:
        click.echo("The activity log is empty: nothing to check.")


class PastDay(click.ParamType):
    """A calendar day written YYYY-MM-DD, no later than today in UTC.

    A later day would remove entries written up to this moment, which is
    never what a retention policy means.
    """

    name = "day"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a valid date in the form YYYY-MM-DD.")
        today = datetime.now(UTC).date()
        if day > today:
            self.fail(f"{day.isoformat()} is after today ({today.isoformat()}, UTC).")
        return datetime(day.year, day.month, day.day)


@activity_command.command("prune")
@click.option(
    "--before",
    required=True,
    type=PastDay(),
    metavar="YYYY-MM-DD",
    help="Remove entries written before this day (midnight UTC).",
)
@click.option(
    "--actor",
    default="system",
    show_default=True,
    metavar="NAME",
    help="User id recorded as the actor of the prune.",
)
@click.option("--dry-run", is_flag=True, help="Report what would go; remove nothing.")
@with_appcontext
def prune_command(before: datetime, actor: str, dry_run: bool) -> None:
    """Remove old entries, keeping each record's state at the cut-off.

    Records that existed at the cut-off get an entry containing their
    state then, so their history still rebuilds. The chain stays
    verifiable from the first kept entry, and the prune itself is recorded.
    """
    source = f"activity prune --before {before.date().isoformat()}"
    with acting_as(actor, source=source):
        result = prune(database(), before, dry_run=dry_run)

    if not result.removed:
        click.echo(
            f"No entries older than {before.date().isoformat()}: nothing pruned."
        )
        return
    verb = "Would remove" if dry_run else "Removed"
    click.echo(
        f"{verb} {result.removed} entries older than {before.date().isoformat()}; "
        f"kept the state of {result.bases} records at the cut-off. The chain now "
        f"starts at entry {result.first_kept}."
    )
