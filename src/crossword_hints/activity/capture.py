"""Automatic capture: every write to an opted-in model leaves entries.

:func:`logged` makes a model's ``insert``, ``insert_many``,
``insert_from``, ``update`` and ``delete`` return the query classes below.
Peewee's ``save()``, ``create()``, ``delete_instance()`` (recursive too),
``bulk_create()`` and ``bulk_update()`` all build their statements through
those class methods, so they are captured as well; Peewee's own
``playhouse.signals`` see only ``save()`` and ``delete_instance()``.

Each captured statement runs in ``database.atomic()``: take the chain
lock, read the rows it will touch, run it, read them again, append the
entries. If any step fails, the statement's change is rolled back too.
Raw SQL (``execute_sql``, ``Model.raw``) is not captured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import peewee
from peewee import ROW, Insert, ModelDelete, ModelInsert, ModelUpdate

from . import context
from .chain import NewEntry, append, chunks, lock, real_database
from .edits import compact, describe, is_edit
from .values import MASKED, field_to_json, short

log = logging.getLogger(__name__)

M = TypeVar("M", bound=type[peewee.Model])


class CaptureError(peewee.PeeweeException):
    """A statement on a logged model that the log cannot describe."""


@dataclass(frozen=True)
class Options:
    """Logging options of one model; both sets contain column names."""

    #: Columns left out of entries; a change only to them writes nothing.
    exclude: frozenset[str]
    #: Columns whose changes are recorded without their values.
    mask: frozenset[str]
    #: Called with the instance before a restore saves over it, so that
    #: the model can update its bookkeeping fields (an edit version, say).
    on_restore: Callable[[peewee.Model], None] | None = None
    #: Whether an update that sets plain values reads its rows back. A
    #: model whose rows no trigger or column default changes on update can
    #: skip that read, because the values it sets are the values stored.
    reread: bool = True


_options: dict[type[peewee.Model], Options] = {}
_by_table: dict[str, type[peewee.Model]] = {}


def options_for(model: type[peewee.Model]) -> Options | None:
    return _options.get(model)


def logged_options(model: type[peewee.Model]) -> Options:
    """Return the options of a model known to be logged."""
    options = _options.get(model)
    if options is None:
        raise TypeError(f"{model.__name__} is not logged in the activity log")
    return options


def model_for(item_type: str) -> type[peewee.Model] | None:
    """Return the logged model whose table is *item_type*, if any."""
    return _by_table.get(item_type)


def logged_models() -> list[type[peewee.Model]]:
    return list(_by_table.values())


def column_names(model: type[peewee.Model], names: tuple[str, ...]) -> frozenset:
    """Map field or column names of *model* to column names."""
    columns = set()
    for name in names:
        field = model._meta.fields.get(name) or model._meta.columns.get(name)
        if field is None:
            raise ValueError(f"{model.__name__} has no field or column {name!r}")
        columns.add(field.column_name)
    return frozenset(columns)


def logged(
    model: M | None = None,
    *,
    exclude: tuple[str, ...] = (),
    mask: tuple[str, ...] = (),
    on_restore: Callable[[peewee.Model], None] | None = None,
    reread: bool = True,
) -> M | Callable[[M], M]:
    """Record every write to a model class in the activity log.

    Use as ``@logged`` or ``@logged(exclude=("updated_at",), mask=(...))``.
    *exclude* names bookkeeping fields, such as a modification time or an
    edit counter, that are left out of entries: a save that changes only
    those writes nothing. *mask* names fields whose changes are recorded
    as ``[masked]`` instead of their values. *on_restore* is called with
    the instance just before a restore saves over it. With *reread* false,
    an update that sets plain values works out the new rows from the old
    ones instead of reading them again. Pass it only for a table where no
    trigger changes the row being updated. The model must have a primary
    key of one column.
    """

    def decorate(cls: M) -> M:
        meta = cls._meta
        if meta.primary_key is False or meta.composite_key:
            raise TypeError(
                f"{cls.__name__} cannot be logged: it needs a primary key of one column"
            )

        _options[cls] = Options(
            exclude=column_names(cls, exclude),
            mask=column_names(cls, mask),
            on_restore=on_restore,
            reread=reread,
        )
        _by_table[meta.table_name] = cls
        cls.insert = classmethod(_insert)
        cls.insert_many = classmethod(_insert_many)
        cls.insert_from = classmethod(_insert_from)
        cls.update = classmethod(_update)
        cls.delete = peewee.classmethod_only(_delete)
        return cls

    if model is not None:
        return decorate(model)
    return decorate


def _insert(cls, __data=None, **insert):
    return LoggedInsert(cls, cls._normalize_data(__data, insert))


def _insert_many(cls, rows, fields=None):
    return LoggedInsert(cls, insert=rows, columns=fields)


def _insert_from(cls, query, fields):
    columns = [getattr(cls, name) if isinstance(name, str) else name for name in fields]
    return LoggedInsert(cls, insert=query, columns=columns)


def _update(cls, __data=None, **update):
    return LoggedUpdate(cls, cls._normalize_data(__data, update))


def _delete(cls):
    return LoggedDelete(cls)


# -- Reading rows --------------------------------------------------------------


def record_of(
    model: type[peewee.Model], row: dict[str, Any], *, masking: bool = True
) -> dict[str, Any]:
    """Turn a row (keyed by field name) into the logged record.

    The record is keyed by column name, leaves out excluded columns and,
    unless *masking* is false, masks masked ones.
    """
    options = _options.get(model) or Options(frozenset(), frozenset())
    record = {}
    for field in model._meta.sorted_fields:
        column = field.column_name
        if column in options.exclude:
            continue
        value = field_to_json(field, row.get(field.name))
        if masking and column in options.mask and value is not None:
            value = MASKED
        record[column] = value
    return record


def select_where(
    model: type[peewee.Model], where: Any, database: Any, *, lock_rows: bool
) -> dict[Any, dict[str, Any]]:
    """Return the rows matching *where*, keyed by primary key."""
    query = model.select().dicts()
    if where is not None:
        query = query.where(where)
    if lock_rows and isinstance(real_database(database), peewee.PostgresqlDatabase):
        query = query.for_update()
    pk = model._meta.primary_key.name
    return {row[pk]: row for row in query.execute(database)}


def select_keys(
    model: type[peewee.Model], keys: list[Any], database: Any
) -> dict[Any, dict[str, Any]]:
    """Return the rows whose primary keys are *keys*."""
    pk = model._meta.primary_key
    rows = {}
    for part in chunks(keys):
        query = model.select().where(pk.in_(part)).dicts()
        rows.update({row[pk.name]: row for row in query.execute(database)})
    return rows


# -- Building entries ----------------------------------------------------------


def describe_record(record: dict[str, Any]) -> str:
    return ", ".join(f"{column}: {short(value)}" for column, value in record.items())


def describe_changes(changes: dict[str, Any]) -> str:
    return "; ".join(
        describe(column, change)
        if is_edit(change)
        else f"{column}: {short(change[0])} -> {short(change[1])}"
        for column, change in changes.items()
    )


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list]:
    """Return ``{column: [old, new]}`` for the columns whose values differ.

    A masked column counts as changed when its real values differ, which
    the caller compares before masking.
    """
    return {
        column: [old.get(column), new.get(column)]
        for column in new
        if old.get(column) != new.get(column)
    }


def masked_diff(
    model: type[peewee.Model], old_row: dict[str, Any], new_row: dict[str, Any]
) -> dict[str, list]:
    """Diff two rows on their real values, then mask what must not be shown."""
    old = record_of(model, old_row, masking=False)
    new = record_of(model, new_row, masking=False)
    changes = diff(old, new)
    for column in changes.keys() & _options[model].mask:
        changes[column] = [MASKED, MASKED]
    return changes


class Batch:
    """The entries of one captured statement, appended when it succeeds."""

    def __init__(self, model: type[peewee.Model]) -> None:
        self.model = model
        self.item_type = model._meta.table_name
        self.entries: list[NewEntry] = []

    def restore_of(self, item_id: str) -> int | None:
        restoring = context.current_restore()
        if restoring and (restoring.item_type, restoring.item_id) == (
            self.item_type,
            item_id,
        ):
            return restoring.version
        return None

    def inserted(self, rows: dict[Any, dict[str, Any]]) -> None:
        for key, row in rows.items():
            item_id = str(key)
            record = record_of(self.model, row)
            restored = self.restore_of(item_id)
            if restored is not None:
                entry = NewEntry(
                    "restore",
                    f"Undeleted, restoring version {restored}: "
                    + describe_record(record),
                    changes={"restored_version": restored, "record": record},
                    force_snapshot=True,
                )
            else:
                entry = NewEntry(
                    "insert", f"Inserted {describe_record(record)}", changes=record
                )
            self.add(entry, item_id, record)

    def updated(
        self, before: dict[Any, dict[str, Any]], after: dict[Any, dict[str, Any]]
    ) -> None:
        for key, old_row in before.items():
            new_row = after.get(key)
            if new_row is None:
                continue
            changes = masked_diff(self.model, old_row, new_row)
            if not changes:
                continue

            item_id = str(key)
            record = record_of(self.model, new_row)
            restored = self.restore_of(item_id)
            if restored is not None:
                entry = NewEntry(
                    "restore",
                    f"Restored version {restored}: {describe_changes(changes)}",
                    changes={"restored_version": restored, "fields": changes},
                    force_snapshot=True,
                )
            else:
                stored = compact(changes)
                entry = NewEntry("update", describe_changes(stored), changes=stored)
            self.add(entry, item_id, record)

    def deleted(self, before: dict[Any, dict[str, Any]]) -> None:
        for key, row in before.items():
            record = record_of(self.model, row)
            entry = NewEntry(
                "delete", f"Deleted {describe_record(record)}", changes=record
            )
            self.add(entry, str(key), None)

    def add(self, entry: NewEntry, item_id: str, state_after: dict | None) -> None:
        entry.item_type = self.item_type
        entry.item_id = item_id
        entry.state_after = state_after
        entry.versioned = True
        self.entries.append(entry)


@contextmanager
def recording(model: type[peewee.Model], database: Any) -> Iterator[Batch]:
    """Run the block and append its entries in one transaction, locked."""
    with database.atomic():
        lock(database)
        batch = Batch(model)
        yield batch
        append(database, batch.entries)


def capturing(model: type[peewee.Model]) -> bool:
    return model in _options and not context.is_suppressed()


# -- The query classes ---------------------------------------------------------


def ignores_conflicts(on_conflict: Any) -> bool:
    action = (getattr(on_conflict, "_action", None) or "").upper()
    return action in ("IGNORE", "NOTHING") or (
        not action
        and getattr(on_conflict, "_update", None) is None
        and getattr(on_conflict, "_preserve", None) is None
    )


class LoggedInsert(ModelInsert):
    """An INSERT that records each new row, whole, as an ``insert``."""

    def _execute(self, database):
        if not capturing(self.model):
            return super()._execute(database)
        if self._on_conflict is not None and not ignores_conflicts(self._on_conflict):
            raise CaptureError(
                f"{self.model.__name__} is logged, so its inserts cannot replace "
                "or update rows on conflict; update those rows instead"
            )
        if self._return_cursor:
            raise CaptureError(
                f"{self.model.__name__} is logged, so its inserts cannot take a "
                "RETURNING clause"
            )

        with recording(self.model, database) as batch:
            keys, result = self.insert_returning_keys(database)
            batch.inserted(select_keys(self.model, keys, database))
        return result

    def insert_returning_keys(self, database) -> tuple[list[Any], Any]:
        """Run the insert with RETURNING of the key on either database.

        Returns the new keys and what the plain insert would have returned:
        the row count, the new key, or on PostgreSQL a cursor of keys.
        """
        query = self.clone()
        query._returning = (self.model._meta.primary_key,)
        query._return_cursor = True
        query._row_type = ROW.TUPLE
        cursor = ModelInsert._execute(query, database)
        keys = [row[0] for row in cursor] if cursor is not None else []

        if self._as_rowcount:
            return keys, len(keys)
        if real_database(database).returning_clause:
            if query._query_type == Insert.SIMPLE:
                return keys, keys[0] if keys else None
            return keys, cursor
        return keys, keys[-1] if keys else None


class LoggedUpdate(ModelUpdate):
    """An UPDATE that records, per row, only the columns it changed."""

    def _execute(self, database):
        if not capturing(self.model):
            return super()._execute(database)
        if self._from:
            raise CaptureError(
                f"{self.model.__name__} is logged, so its updates cannot use "
                "UPDATE ... FROM; select the keys first and update by key"
            )
        pk = self.model._meta.primary_key
        if any(
            key is pk or (isinstance(key, str) and key == pk.name)
            for key in self._update
        ):
            raise CaptureError(
                f"{self.model.__name__} is logged, so its primary key cannot change"
            )

        with recording(self.model, database) as batch:
            before = select_where(self.model, self._where, database, lock_rows=True)
            result = super()._execute(database)
            after = self.rows_after(before, result)
            if after is None:
                after = select_keys(self.model, list(before), database)
            batch.updated(before, after)
        return result

    def rows_after(
        self, before: dict[Any, dict[str, Any]], updated: Any
    ) -> dict[Any, dict[str, Any]] | None:
        """Work out the updated rows from *before*, or return ``None`` when
        they must be read again.

        That takes a model logged with ``reread=False``, an update that
        sets only plain values (no expressions) and a row count showing it
        changed exactly the rows read before it. Each value goes through
        the field's conversion to the database and back, as a read would.
        """
        if _options[self.model].reread or updated != len(before):
            return None
        values = {}
        for field, value in self._update.items():
            if not isinstance(field, peewee.Field) or isinstance(value, peewee.Node):
                return None
            values[field.name] = field.python_value(field.db_value(value))
        return {key: {**row, **values} for key, row in before.items()}


class LoggedDelete(ModelDelete):
    """A DELETE that records each removed row, whole, as a ``delete``."""

    def _execute(self, database):
        if not capturing(self.model):
            return super()._execute(database)

        with recording(self.model, database) as batch:
            before = select_where(self.model, self._where, database, lock_rows=True)
            apply_cascades(self.model, before, database)
            result = super()._execute(database)
            # A LIMIT may have spared some of the matching rows.
            remaining = select_keys(self.model, list(before), database)
            batch.deleted({k: row for k, row in before.items() if k not in remaining})
        return result


def apply_cascades(
    model: type[peewee.Model], rows: dict[Any, dict[str, Any]], database: Any
) -> None:
    """Run ON DELETE CASCADE and SET NULL of logged children as logged queries.

    The database would otherwise change those children itself, out of the
    log's sight. Doing it first leaves the database nothing to do.
    """
    if not rows:
        return

    for fk, child in model._meta.backrefs.items():
        action = (fk.on_delete or "").upper()
        if action not in ("CASCADE", "SET NULL") or not capturing(child):
            continue

        targets = [row[fk.rel_field.name] for row in rows.values()]
        for part in chunks(targets):
            condition = fk.in_(part)
            if child is model:
                condition &= child._meta.primary_key.not_in(list(rows))
            if action == "CASCADE":
                child.delete().where(condition).execute(database)
            else:
                child.update({fk: None}).where(condition).execute(database)
