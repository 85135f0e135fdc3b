"""Import the older app's SQLite database: the ``import-legacy`` command.

The older app keyed every table by SQLite's ``rowid`` and stored times as
text such as ``2018-10-27 08:09:33``, in UTC. The import keeps each
``rowid`` as the new ``id`` and keeps both timestamps, so that the old
activity history still matches the rows.

The whole import is one transaction. Every row is checked first, and rows
already present with the same data are skipped. If any row is invalid or
clashes with different data already in the database, everything is rolled
back and the problems are listed, so an import never stops half-way.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any

import click
import peewee
from flask import Flask
from flask.cli import with_appcontext

from .. import activity, migrations
from ..db import database, is_postgres
from . import legacy_activity
from .models import (
    CLUE_MAX,
    CUE_WORD_MAX,
    DESCRIPTION_MAX,
    HINT_MAX,
    MEANING_MAX,
    NAME_MAX,
    SOLUTION_MAX,
    CueWord,
    Setter,
    SetterType,
    Solution,
    SolutionType,
    utcnow,
)
from .search import deferred_index

log = logging.getLogger(__name__)

#: Rows read, checked and inserted per round trip. Only one chunk of a table
#: is in memory at a time, and 1,000 rows of nine columns stay well below
#: the bound-parameter limits of SQLite (32,766) and PostgreSQL (65,535).
CHUNK_SIZE = 1000

#: Problems listed per table; the rest are only counted.
MAX_LISTED = 20

#: The largest id that fits the ``serial`` (32-bit) id columns on PostgreSQL.
MAX_ID = 2**31 - 1

SQLITE_HEADER = b"SQLite format 3\x00"


class LegacyImportError(click.ClickException):
    """The file cannot be imported; the message is one line, safe to show."""


class RowError(ValueError):
    """One value of a legacy row is invalid; the message names the column."""


# Converters from a raw SQLite value to the value stored in our tables.


def convert_text(value: Any, column: str, limit: int, *, required: bool) -> str:
    if value is None:
        if required:
            raise RowError(f"{column} is missing (NULL)")
        return ""

    if isinstance(value, bytes):
        raise RowError(f"{column} contains binary data, not text")

    text = value if isinstance(value, str) else str(value)
    if required and not text.strip():
        raise RowError(f"{column} is empty")

    if len(text) > limit:
        raise RowError(
            f"{column} is {len(text)} characters long, over the limit of {limit}"
        )

    # PostgreSQL text cannot contain NUL, so reject it on SQLite as well.
    if "\x00" in text:
        raise RowError(f"{column} contains a NUL character")

    return text


def convert_id(value: Any, column: str) -> int:
    """Convert a reference to an id, accepting whole numbers stored as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.isascii() and value.strip().isdigit():
        number = int(value)
    elif value is None:
        raise RowError(f"{column} is missing (NULL)")
    else:
        raise RowError(f"{column} {value!r} is not a whole number")

    if not 1 <= number <= MAX_ID:
        raise RowError(f"{column} {number} is outside 1 to {MAX_ID}")

    return number


def convert_timestamp(value: Any, column: str) -> datetime | None:
    """Convert a legacy time, read as UTC, to a naive UTC datetime.

    A missing time is returned as None; the caller supplies the default.
    """
    if value is None or value == "":
        return None

    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            parsed = datetime.fromtimestamp(value, UTC)
        else:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise RowError(f"{column} {value!r} is not a date and time") from None

    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)

    return parsed


# The import converts every value of every row, so each column gets a
# function that accepts the common valid value with one test and passes
# anything else to the converter above, which checks it in full.


def text_converter(column: str, limit: int, *, required: bool) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if (
            type(value) is str
            and len(value) <= limit
            and "\x00" not in value
            and (not required or not (value == "" or value.isspace()))
        ):
            return value
        return convert_text(value, column, limit, required=required)

    return convert


def id_converter(column: str) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        # type() rather than isinstance(), so that True is not taken as 1.
        if type(value) is int and 1 <= value <= MAX_ID:
            return value
        return convert_id(value, column)

    return convert


def timestamp_converter(
    column: str, *, as_sqlite_text: bool
) -> Callable[[Any], datetime | str | None]:
    """Return the converter of one timestamp column.

    With *as_sqlite_text* a time is returned as the text that Python's
    sqlite3 module stores for a naive datetime, ``datetime.isoformat(" ")``.
    Text already in that form is passed on unchanged once it has parsed,
    which spares formatting it again for the insert.
    """

    def convert(value: Any) -> datetime | str | None:
        if type(value) is str:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                if not as_sqlite_text:
                    return parsed
                # Only YYYY-MM-DD HH:MM:SS is its own isoformat(" "): a
                # fraction, a "T" or an ISO week date is not.
                if (
                    len(value) == 19
                    and value[4] == "-"
                    and value[7] == "-"
                    and value[10] == " "
                    and value[13] == ":"
                    and value[16] == ":"
                ):
                    return value
                return parsed.isoformat(" ")

        parsed = convert_timestamp(value, column)
        if parsed is None or not as_sqlite_text:
            return parsed
        return parsed.isoformat(" ")

    return convert


# What each legacy table contains and how it maps to our models.


@dataclass(frozen=True)
class Column:
    """One legacy column; our table has a column of the same name."""

    name: str
    limit: int = 0
    required: bool = False
    #: The model a reference column points at, or None for text.
    parent: type[Any] | None = None

    def converter(self) -> Callable[[Any], Any]:
        """Return the function that converts this column's values."""
        if self.parent is not None:
            return id_converter(self.name)
        return text_converter(self.name, self.limit, required=self.required)


@dataclass(frozen=True)
class TableSpec:
    """A legacy table, the model it goes into and its unique key."""

    model: type[Any]
    columns: tuple[Column, ...]
    #: Columns whose values must be unique together among our rows.
    unique: tuple[str, ...]
    #: Whether rows repeating the unique key are kept and marked with
    #: ``duplicate_of`` instead of being reported as clashes.
    keeps_duplicates: bool = False

    @property
    def table(self) -> str:
        return self.model._meta.table_name


TIMESTAMPS = ("created_at", "updated_at")

#: The catalogue tables in import order: parents before children.
TABLES = (
    TableSpec(
        SetterType,
        (
            Column("name", NAME_MAX, required=True),
            Column("description", DESCRIPTION_MAX),
        ),
        unique=("name",),
    ),
    TableSpec(
        Setter,
        (
            Column("name", NAME_MAX, required=True),
            Column("setter_type_id", required=True, parent=SetterType),
            Column("description", DESCRIPTION_MAX),
        ),
        unique=("name",),
    ),
    TableSpec(
        SolutionType,
        (
            Column("name", NAME_MAX, required=True),
            Column("description", DESCRIPTION_MAX),
        ),
        unique=("name",),
    ),
    TableSpec(
        Solution,
        (
            Column("crossword_setter_id", required=True, parent=Setter),
            Column("clue", CLUE_MAX, required=True),
            Column("solution", SOLUTION_MAX, required=True),
            Column("solution_hint", HINT_MAX),
            Column("solution_type_id", required=True, parent=SolutionType),
        ),
        unique=(),
    ),
    TableSpec(
        CueWord,
        (
            Column("cue_word", CUE_WORD_MAX, required=True),
            Column("meaning", MEANING_MAX, required=True),
        ),
        unique=("cue_word", "meaning"),
        keeps_duplicates=True,
    ),
)

#: Legacy tables the import reads but does not copy into the catalogue.
OTHER_TABLES = ("users", "activity_logs")


# The summary.


@dataclass
class TableResult:
    """Counts and listed problems for one legacy table."""

    table: str
    present_in_file: bool = True
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    clashes: int = 0
    invalid: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    #: (id, id of the first copy) of kept duplicates, up to MAX_LISTED.
    duplicate_ids: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_problem(self, row_id: int, message: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(f"{self.table} id {row_id}: {message}")

    def reject(self, row_id: int, message: str) -> None:
        self.invalid += 1
        self.add_problem(row_id, message)

    def clash(self, row_id: int, message: str) -> None:
        self.clashes += 1
        self.add_problem(row_id, message)

    def unlisted_problems(self) -> int:
        return self.invalid + self.clashes - len(self.problems)


@dataclass
class LegacyImport:
    """The outcome of an import, or of a dry run, table by table."""

    path: str
    dry_run: bool = False
    tables: list[TableResult] = field(default_factory=list)
    #: Rows of ``users``, which stay in the file because users live in
    #: the directory.
    users: int | None = None
    #: The counts returned by the activity-log import, None if not run.
    activity: dict | None = None
    has_activity_logs: bool = True

    @property
    def rows(self) -> int:
        return sum(result.rows for result in self.tables)

    @property
    def imported(self) -> int:
        return sum(result.imported for result in self.tables)

    @property
    def clashes(self) -> int:
        return sum(result.clashes for result in self.tables)

    @property
    def invalid(self) -> int:
        return sum(result.invalid for result in self.tables)

    @property
    def failed(self) -> bool:
        return bool(self.clashes or self.invalid)

    def report(self) -> list[str]:
        """Return the summary as lines of text, without the final verdict."""
        lines = [f"Legacy database: {self.path}"]
        header = ("table", "rows", "imported", "already present", "clashes", "invalid")
        lines.append("{:<20} {:>7} {:>9} {:>16} {:>8} {:>8}".format(*header))
        for result in self.tables:
            if not result.present_in_file:
                lines.append(f"{result.table:<20} not in this file, skipped")
                continue
            lines.append(
                f"{result.table:<20} {result.rows:>7} {result.imported:>9}"
                f" {result.already_present:>16} {result.clashes:>8}"
                f" {result.invalid:>8}"
            )

        for result in self.tables:
            lines.extend(f"{result.table}: {note}" for note in result.notes)
            if result.duplicates:
                pairs = ", ".join(
                    f"{row_id} (copy of {first})"
                    for row_id, first in result.duplicate_ids
                )
                more = result.duplicates - len(result.duplicate_ids)
                if more:
                    pairs += f" and {more} more"
                lines.append(
                    f"{result.table}: kept {result.duplicates} exact duplicate(s),"
                    f" marked with duplicate_of: {pairs}"
                )

        if self.users is not None:
            lines.append(
                f"users: {self.users} row(s) left alone, because users live"
                " in the directory"
            )
        if self.activity is not None:
            counts = ", ".join(f"{key} {value}" for key, value in self.activity.items())
            lines.append(f"activity_logs: {counts}")
        elif not self.has_activity_logs:
            lines.append("activity_logs: not in this file, skipped")

        problems = [line for result in self.tables for line in result.problems]
        if problems:
            lines.append("Problems:")
            lines.extend(f"  {line}" for line in problems)
            for result in self.tables:
                if result.unlisted_problems():
                    lines.append(
                        f"  {result.table}: {result.unlisted_problems()} more"
                        " not listed"
                    )

        return lines

    def verdict(self) -> str:
        """Return the one-line outcome printed after the summary."""
        if self.failed:
            return (
                f"Nothing was imported: {self.clashes} row(s) clash with existing"
                f" data and {self.invalid} row(s) are invalid (listed above)."
                " Fix them and run the import again."
            )
        if self.rows == 0:
            return "Nothing to import: the catalogue tables in this file are empty."
        if self.imported == 0:
            return f"Nothing to import: all {self.rows} rows already present."
        if self.dry_run:
            return (
                f"Dry run: {self.imported} row(s) would be imported;"
                " nothing was written."
            )
        return f"Imported {self.imported} row(s)."


# Opening and recognising the legacy file.


@dataclass
class LegacySource:
    """An open, checked legacy database and the columns each table has."""

    path: Path
    connection: sqlite3.Connection
    #: Lower-case column names of each legacy table in the file.
    columns: dict[str, set[str]]

    def count_rows(self, table: str) -> int:
        try:
            cursor = self.connection.execute(f'SELECT count(*) FROM "{table}"')
            return cursor.fetchone()[0]
        except sqlite3.Error as exc:
            raise LegacyImportError(
                f"Failed to read table {table} of {self.path}: {exc}"
            ) from None

    def close(self) -> None:
        self.connection.close()


def check_file(path: Path) -> None:
    """Raise LegacyImportError unless *path* is a non-empty SQLite file."""
    if not path.exists():
        raise LegacyImportError(f"{path}: file not found")
    if path.is_dir():
        raise LegacyImportError(f"{path} is a directory, not an SQLite database file")

    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise LegacyImportError(f"Failed to read {path}: {exc.strerror}") from None

    if not header:
        raise LegacyImportError(f"{path} is empty, not a database of the older app")
    if header != SQLITE_HEADER:
        raise LegacyImportError(f"{path} is not an SQLite database")


def open_legacy_database(path: Path | str) -> LegacySource:
    """Open the file read-only, check its integrity and read its layout.

    Raises LegacyImportError with a one-line message for a file that is
    missing, not SQLite, damaged, or without any of the catalogue tables.
    """
    path = Path(path)
    check_file(path)

    # mode=ro makes SQLite itself refuse every write to the file. A file in
    # WAL mode still gets its -wal and -shm files created beside it.
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise LegacyImportError(f"Failed to open {path}: {exc}") from None

    try:
        check_integrity(connection, path)
        columns = read_layout(connection, path)
    except BaseException:
        connection.close()
        raise

    return LegacySource(path, connection, columns)


def check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    try:
        result = connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise LegacyImportError(f"{path} is damaged or not a database: {exc}") from None

    if result != "ok":
        raise LegacyImportError(f"{path} is damaged; SQLite's check found: {result}")


def read_layout(connection: sqlite3.Connection, path: Path) -> dict[str, set[str]]:
    """Return the columns of each known legacy table in the file."""
    known = [spec.table for spec in TABLES] + list(OTHER_TABLES)
    try:
        names = {
            row[0].lower()
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        columns = {
            table: {
                row[1].lower()
                for row in connection.execute(f'PRAGMA table_info("{table}")')
            }
            for table in known
            if table in names
        }
    except sqlite3.Error as exc:
        raise LegacyImportError(f"Failed to read the tables of {path}: {exc}") from None

    if not any(spec.table in columns for spec in TABLES):
        expected = ", ".join(spec.table for spec in TABLES)
        raise LegacyImportError(
            f"{path} is not a database of the older app: it has none of the"
            f" tables {expected}"
        )

    for spec in TABLES:
        if spec.table not in columns:
            continue
        missing = [
            column.name
            for column in spec.columns
            if column.required and column.name not in columns[spec.table]
        ]
        if missing:
            raise LegacyImportError(
                f"{path} is not in the older app's layout: table {spec.table}"
                f" has no column {', '.join(missing)}"
            )

    return columns


# Importing.


@dataclass
class TableImport:
    """The state of one table's import while its chunks are processed."""

    spec: TableSpec
    result: TableResult
    #: The legacy columns this file has, in the order they are selected.
    columns: list[Column]
    #: The timestamp columns this file has.
    timestamps: list[str]
    now: datetime
    #: Whether each parent id looked up so far exists, by reference column.
    parent_ids: dict[str, dict[int, bool]] = field(default_factory=dict)
    #: (our column name, converter) for each selected column, rowid first.
    converters: list[tuple[str, Callable[[Any], Any]]] = field(init=False)

    #: Whether timestamps are kept as the text SQLite stores, not as datetimes.
    sqlite_times: bool = field(init=False)

    #: Empty text for each column of the model that the file lacks.
    missing: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.sqlite_times = not is_postgres()
        selected = {column.name for column in self.columns}
        self.missing = {
            column.name: ""
            for column in self.spec.columns
            if column.name not in selected
        }
        self.converters = [("id", id_converter("rowid"))]
        self.converters += [
            (column.name, column.converter()) for column in self.columns
        ]
        self.converters += [
            (name, timestamp_converter(name, as_sqlite_text=self.sqlite_times))
            for name in self.timestamps
        ]

    @cached_property
    def insert_statement(self) -> tuple[str, list[str]]:
        """The INSERT for new rows, and the row keys it takes after ``id``."""
        names = [column.name for column in self.spec.columns]
        if self.spec.keeps_duplicates:
            names.append("duplicate_of_id")
        columns = ["created_at", "updated_at", "version", "id", *names]
        statement = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
            self.spec.table,
            ", ".join(f'"{name}"' for name in columns),
            ", ".join([database.param] * len(columns)),
        )
        return statement, names

    def select_sql(self) -> str:
        names = [column.name for column in self.columns] + self.timestamps
        return (
            f'SELECT rowid, {", ".join(names)} FROM "{self.spec.table}" ORDER BY rowid'
        )

    def convert(self, raw: tuple) -> dict[str, Any]:
        """Turn one selected row into our column values, or raise RowError.

        Columns the file lacks get their default, empty text.
        """
        values = dict(self.missing)
        for (name, converter), value in zip(self.converters, raw, strict=True):
            values[name] = converter(value)
        return values

    def convert_chunk(self, chunk: list[tuple]) -> list[dict[str, Any]]:
        """Convert every row of *chunk*, or raise RowError if any is invalid.

        Converting column by column runs each converter through ``map``,
        which costs less per value than a loop over rows.
        """
        if not chunk:
            return []

        names = [name for name, _ in self.converters]
        columns = [
            list(map(converter, values))
            for (_, converter), values in zip(
                self.converters, zip(*chunk, strict=True), strict=True
            )
        ]
        rows = [
            dict(zip(names, values, strict=True))
            for values in zip(*columns, strict=True)
        ]
        if self.missing:
            for row in rows:
                row.update(self.missing)
        return rows


def import_legacy(
    source: LegacySource,
    *,
    actor: str = "system",
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> LegacyImport:
    """Import the catalogue tables of *source* in one transaction.

    The transaction is rolled back on a dry run and whenever a row is
    invalid or clashes, so either every row is imported or none is.
    *progress* is called with the number of rows handled after each chunk.
    Errors of the target database are raised as LegacyImportError.
    """
    try:
        outdated = bool(migrations.pending(database.obj))
    except peewee.PeeweeException as exc:
        raise LegacyImportError(f"Failed to reach the database: {exc}") from None
    if outdated:
        raise LegacyImportError(
            "The database schema is not up to date; run `crossword-hints init-db`"
            " first."
        )

    summary = LegacyImport(str(source.path), dry_run=dry_run)
    if "users" in source.columns:
        summary.users = source.count_rows("users")
    summary.has_activity_logs = "activity_logs" in source.columns

    try:
        with database.atomic() as transaction:
            # The rows' history comes from the old activity log below, so
            # the bulk inserts themselves write no "insert" entries.
            with activity.suppressed(), deferred_index():
                for spec in TABLES:
                    summary.tables.append(import_table(source, spec, progress))

            if not summary.failed:
                summary.activity = import_activity(source, actor=actor, dry_run=dry_run)

            if dry_run or summary.failed:
                transaction.rollback()
            else:
                advance_sequences()
    except peewee.PeeweeException as exc:
        # No traceback: the command prints this error as its one-line message.
        log.error("Legacy import from %s failed: %s", source.path, exc)
        raise LegacyImportError(
            f"The import failed and was rolled back, nothing was written: {exc}"
        ) from None

    log.info(
        "Legacy import from %s: %d imported, %d clashes, %d invalid%s",
        source.path,
        summary.imported,
        summary.clashes,
        summary.invalid,
        " (dry run)" if dry_run else "",
    )
    return summary


def import_activity(source: LegacySource, *, actor: str, dry_run: bool) -> dict | None:
    """Hand the old activity log, if the file has one, to its own import."""
    if "activity_logs" not in source.columns:
        return None

    try:
        return legacy_activity.import_activity_logs(
            source.connection, actor=actor, dry_run=dry_run
        )
    except sqlite3.Error as exc:
        raise LegacyImportError(
            f"Failed to read table activity_logs of {source.path}: {exc}"
        ) from None


def import_table(
    source: LegacySource,
    spec: TableSpec,
    progress: Callable[[int], None] | None = None,
) -> TableResult:
    """Import one legacy table, chunk by chunk, into *spec*'s model."""
    result = TableResult(spec.table)
    available = source.columns.get(spec.table)
    if available is None:
        result.present_in_file = False
        return result

    step = TableImport(
        spec,
        result,
        columns=[column for column in spec.columns if column.name in available],
        timestamps=[name for name in TIMESTAMPS if name in available],
        now=utcnow(),
    )
    for column in spec.columns:
        if column.name not in available:
            result.notes.append(f"no {column.name} column, left empty")
    for name in TIMESTAMPS:
        if name not in available:
            result.notes.append(f"no {name} column, set to the import time")

    for chunk in read_chunks(source, step):
        result.rows += len(chunk)
        import_chunk(step, chunk)
        if progress is not None:
            progress(len(chunk))

    return result


def read_chunks(source: LegacySource, step: TableImport) -> Iterator[list[tuple]]:
    """Yield the table's rows in rowid order, CHUNK_SIZE at a time."""
    last_id = None
    try:
        cursor = source.connection.execute(step.select_sql())
        while chunk := cursor.fetchmany(CHUNK_SIZE):
            last_id = chunk[-1][0]
            yield chunk
    except sqlite3.Error as exc:
        where = f" after rowid {last_id}" if last_id is not None else ""
        raise LegacyImportError(
            f"Failed to read table {step.spec.table} of {source.path}{where}: {exc}"
        ) from None


def import_chunk(step: TableImport, chunk: list[tuple]) -> None:
    """Check one chunk of legacy rows and insert those that are new."""
    result = step.result
    try:
        rows = step.convert_chunk(chunk)
    except RowError:
        # Convert the rows one at a time to report each invalid one.
        rows = []
        for raw in chunk:
            try:
                rows.append(step.convert(raw))
            except RowError as exc:
                result.reject(raw[0], str(exc))

    rows = drop_dangling_references(step, rows)
    existing = fetch_existing(step, [row["id"] for row in rows])
    holders = fetch_key_holders(step, rows)

    new_rows = []
    for row in rows:
        current = existing.get(row["id"])
        if current is not None:
            differing = [
                name
                for name, value in current.items()
                if row[name] is not None and row[name] != value
            ]
            if differing:
                result.clash(
                    row["id"],
                    "differs from the existing row in " + ", ".join(differing),
                )
            else:
                result.already_present += 1
            continue

        if not claim_unique_key(step, row, holders):
            continue

        new_rows.append(row)

    insert_rows(step, new_rows)


def drop_dangling_references(
    step: TableImport, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Reject rows whose references match no row of the parent table.

    The check runs against our database, which by now contains the parent
    rows imported earlier in this transaction as well as older ones. The
    parent tables are complete before their children are read, so each
    referenced id is looked up once per table and the result is stored in
    ``step.parent_ids`` for later chunks.
    """
    for column in step.columns:
        if column.parent is None or not rows:
            continue

        parent = column.parent
        known = step.parent_ids.setdefault(column.name, {})
        unknown = {row[column.name] for row in rows} - known.keys()
        if unknown:
            found = {
                row_id
                for (row_id,) in parent.select(parent.id)
                .where(parent.id.in_(list(unknown)))
                .tuples()
            }
            for row_id in unknown:
                known[row_id] = row_id in found

        kept = []
        for row in rows:
            if known[row[column.name]]:
                kept.append(row)
            else:
                step.result.reject(
                    row["id"],
                    f"{column.name} {row[column.name]} refers to no row in"
                    f" {parent._meta.table_name}",
                )
        rows = kept

    return rows


def fetch_existing(step: TableImport, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the compared values of our rows that have one of *ids*.

    The rows are selected by the range from the lowest to the highest id,
    which takes two query parameters where an ``IN`` list takes one per
    id, and Peewee builds a node for each of those. Chunks are read in
    rowid order, so their ranges do not overlap and no row of ours is read
    for more than one chunk. Rows in the range that have none of *ids* are
    skipped as they arrive.
    """
    if not ids:
        return {}

    model = step.spec.model
    names = [column.name for column in step.columns]
    # Saving a row in the app moves updated_at without changing its data,
    # so only created_at is compared.
    if "created_at" in step.timestamps:
        names.append("created_at")
    fields = [model._meta.columns[name] for name in names]
    requested = set(ids)
    query = (
        model.select(model.id, *fields)
        .where(model.id.between(min(ids), max(ids)))
        .tuples()
        .iterator()
    )
    existing = {
        row[0]: dict(zip(names, row[1:], strict=True))
        for row in query
        if row[0] in requested
    }

    # Compare times in the form the converted rows have them.
    if step.sqlite_times and "created_at" in names:
        for values in existing.values():
            created = values["created_at"]
            if isinstance(created, datetime):
                values["created_at"] = created.isoformat(" ")

    return existing


def fetch_key_holders(
    step: TableImport, rows: list[dict[str, Any]]
) -> dict[tuple, int]:
    """Map each unique key used by *rows* to the id of our row that has it.

    Each column of the key is matched against the values *rows* have in
    it. Matching the first column alone would also read back every earlier
    row that shares a common cue word, and those grow chunk by chunk.
    """
    spec = step.spec
    if not spec.unique or not rows:
        return {}

    model = spec.model
    fields = [model._meta.columns[name] for name in spec.unique]
    query = model.select(model.id, *fields)
    for name, column in zip(spec.unique, fields, strict=True):
        query = query.where(column.in_(list({row[name] for row in rows})))
    if spec.keeps_duplicates:
        # Only first copies hold a key; marked copies point at them.
        query = query.where(model.duplicate_of.is_null())
    return {tuple(row[1:]): row[0] for row in query.tuples()}


def claim_unique_key(
    step: TableImport, row: dict[str, Any], holders: dict[tuple, int]
) -> bool:
    """Record *row* as the holder of its unique key, or handle the clash.

    Returns False when the row clashes and must not be inserted. A table
    that keeps duplicates marks the row as a copy of the holder instead.
    """
    spec = step.spec
    if spec.keeps_duplicates:
        row["duplicate_of_id"] = None
    if not spec.unique:
        return True

    key = tuple(row[name] for name in spec.unique)
    holder = holders.get(key)
    if holder is None:
        holders[key] = row["id"]
        return True

    if spec.keeps_duplicates:
        row["duplicate_of_id"] = holder
        step.result.duplicates += 1
        if len(step.result.duplicate_ids) < MAX_LISTED:
            step.result.duplicate_ids.append((row["id"], holder))
        return True

    described = ", ".join(f"{name} {row[name]!r}" for name in spec.unique)
    step.result.clash(row["id"], f"{described} already belongs to id {holder}")
    return False


def insert_rows(step: TableImport, rows: list[dict[str, Any]]) -> None:
    """Insert new rows with one prepared statement run for every row.

    Peewee's ``insert_many`` builds a parameter node for every value. That
    made it several times slower than the statement itself: 100,000
    solutions took 35 s against 7 s for sqlite3's ``executemany`` on the
    same SQLite file. So the statement is written once per table and run
    through the connection's ``executemany``, with the values Peewee
    itself would pass (ints, strings and datetimes, or on SQLite the text
    that sqlite3 stores for a datetime).
    """
    if not rows:
        return

    statement, names = step.insert_statement
    # With "id" there are always two keys or more, so this returns a tuple.
    pick = itemgetter("id", *names)
    now = step.now
    values = []
    for row in rows:
        created = row.get("created_at") or row.get("updated_at") or now
        updated = row.get("updated_at") or created
        values.append((created, updated, 1, *pick(row)))

    # The wrapper turns driver errors into Peewee's, as execute_sql does.
    with peewee.__exception_wrapper__:  # type: ignore[attr-defined]
        database.cursor().executemany(statement, values)
    step.result.imported += len(rows)


def advance_sequences() -> None:
    """Move PostgreSQL's id sequences past the imported ids.

    Rows inserted with explicit ids do not advance a sequence, so without
    this the next new row would get an id that is already taken. SQLite
    needs nothing: it gives a new row the largest id plus one.
    """
    if not is_postgres():
        return

    for spec in TABLES:
        table = spec.table
        sequence = database.execute_sql(
            "SELECT pg_get_serial_sequence(%s, 'id')", (table,)
        ).fetchone()[0]
        max_id = spec.model.select(peewee.fn.MAX(spec.model.id)).scalar()
        if sequence is None or max_id is None:
            continue

        # The sequence never moves back, so ids of deleted rows are not reused.
        last_value, is_called = database.execute_sql(
            f"SELECT last_value, is_called FROM {sequence}"
        ).fetchone()
        next_value = last_value + 1 if is_called else last_value
        if max_id >= next_value:
            database.execute_sql("SELECT setval(%s, %s)", (sequence, max_id))


# The command.


@contextmanager
def progress_bar(source: LegacySource) -> Iterator[Callable[[int], None] | None]:
    """Yield a callback that advances a progress bar, or None off a terminal."""
    if not sys.stdout.isatty():
        yield None
        return

    total = sum(
        source.count_rows(spec.table) for spec in TABLES if spec.table in source.columns
    )
    with click.progressbar(length=total, label="Importing") as bar:
        yield bar.update


@click.command("import-legacy")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--dry-run",
    is_flag=True,
    help="Run the whole import and print its summary, then roll it back.",
)
@click.option(
    "--actor",
    default="system",
    show_default=True,
    metavar="NAME",
    help="User id recorded as the actor of the import in the activity log.",
)
@with_appcontext
def import_legacy_command(path: Path, dry_run: bool, actor: str) -> None:
    """Import the older app's SQLite database from PATH.

    Ids and created/updated times are kept. Rows already present with the
    same data are skipped, so running the import again changes nothing.
    The users table is left alone, because users live in the directory.
    PATH is opened read-only.

    \b
    Exit status:
      0  the rows were imported, or all of them were already present
      1  nothing was imported: PATH is not a readable database of the
         older app, or rows are invalid (a missing or too long value, a
         reference to no row) or clash with different data already in
         the database under the same id or name; the summary lists them
    """
    source = open_legacy_database(path)
    try:
        with progress_bar(source) as progress:
            summary = import_legacy(
                source, actor=actor, dry_run=dry_run, progress=progress
            )
    finally:
        source.close()

    for line in summary.report():
        click.echo(line)
    if summary.failed:
        raise LegacyImportError(summary.verdict())
    click.echo(summary.verdict())


def init_app(app: Flask) -> None:
    app.cli.add_command(import_legacy_command)
