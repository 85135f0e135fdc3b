"""Helpers for the activity-log tests: a small catalogue, entries, raw SQL."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import psycopg

from crossword_hints.activity.models import ActivityLog
from crossword_hints.catalogue.models import Setter, SetterType, Solution, SolutionType


@dataclass
class Catalogue:
    setter_type: SetterType
    setter: Setter
    solution_type: SolutionType
    solutions: list[Solution]


def add_catalogue(solutions: int = 1) -> Catalogue:
    """Create one setter type, setter and solution type, and *solutions* rows."""
    setter_type = SetterType.create(name="Regular", description="Sets every week.")
    setter = Setter.create(name="Anvil", setter_type=setter_type, description="Wry.")
    solution_type = SolutionType.create(name="Anagram", description="Letters mixed.")
    rows = [
        Solution.create(
            clue=f"Listen badly, being quiet ({number})",
            solution=f"SILENT{number}",
            hint="Rearrange LISTEN.",
            setter=setter,
            solution_type=solution_type,
        )
        for number in range(solutions)
    ]
    return Catalogue(setter_type, setter, solution_type, rows)


def entries(**where: object) -> list[ActivityLog]:
    """Return the entries matching column=value filters, in chain order."""
    query = ActivityLog.select().order_by(ActivityLog.id)
    for name, value in where.items():
        query = query.where(getattr(ActivityLog, name) == value)
    return list(query)


def run_sql(database_url: str, *statements: str) -> None:
    """Run SQL on the test database through a connection of its own.

    Tests use it to tamper with the log the way someone with database
    access could, bypassing the application.
    """
    if database_url.startswith("sqlite:///"):
        connection = sqlite3.connect(database_url[len("sqlite:///") :])
        try:
            for statement in statements:
                connection.execute(statement)
            connection.commit()
        finally:
            connection.close()
        return

    with psycopg.connect(database_url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def add_fault(database_url: str) -> None:
    """Make every insert into activity_logs fail, as a broken log would."""
    if database_url.startswith("sqlite:///"):
        run_sql(
            database_url,
            "CREATE TRIGGER activity_fault BEFORE INSERT ON activity_logs"
            " BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
        )
        return
    run_sql(
        database_url,
        "CREATE FUNCTION activity_fault() RETURNS trigger AS"
        " $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER activity_fault BEFORE INSERT ON activity_logs"
        " FOR EACH ROW EXECUTE FUNCTION activity_fault()",
    )
