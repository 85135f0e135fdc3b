"""A record's history: its state at any version, and restoring one.

A record is rebuilt from its nearest *base* at or before the version
asked for, then forward through the diffs after it. Bases are inserts,
deletes and entries with a snapshot; a snapshot is written every
``ACTIVITY_SNAPSHOT_EVERY`` versions, so a rebuild reads at most that many
entries.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import peewee

from . import context
from .capture import logged_options, model_for, record_of
from .chain import lock
from .edits import EditMismatch, apply_edit, is_edit
from .models import ActivityLog
from .values import MASKED, from_json, short, to_json

log = logging.getLogger(__name__)


class RestoreError(Exception):
    """A restore that cannot be done; the message is safe to show."""

    status = 409

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


@dataclass
class State:
    """A record as it was at one version."""

    version: int
    exists: bool
    values: dict[str, Any] = dataclasses.field(default_factory=dict)


def record_entries(item_type: str, item_id: str) -> list[ActivityLog]:
    """Return every entry of one record, oldest version first."""
    return list(
        ActivityLog.select()
        .where((ActivityLog.item_type == item_type) & (ActivityLog.item_id == item_id))
        .order_by(ActivityLog.version, ActivityLog.id)
    )


def latest_version(item_type: str, item_id: str) -> int | None:
    return (
        ActivityLog.select(peewee.fn.MAX(ActivityLog.version))
        .where((ActivityLog.item_type == item_type) & (ActivityLog.item_id == item_id))
        .scalar()
    )


def apply(values: dict[str, Any] | None, entry: ActivityLog) -> dict[str, Any] | None:
    """Return the record after *entry*, given the record before it.

    ``None`` means the record does not exist (deleted) or is unknown.
    """
    snapshot = entry.snapshot_data
    if snapshot is not None:
        return dict(snapshot)

    changes = entry.change_data
    if entry.action == "delete":
        return None
    if entry.action == "insert":
        return dict(changes) if isinstance(changes, dict) else None
    if values is None or not isinstance(changes, dict) or "unparsed" in changes:
        return values

    updated = dict(values)
    for column, change in changes.items():
        if isinstance(change, list) and len(change) == 2:
            updated[column] = change[1]
        elif is_edit(change):
            try:
                updated[column] = apply_edit(values.get(column), change)
            except EditMismatch as exc:
                # The value before the edit is not the one the edit was
                # made on, so the value after it is unknown.
                log.warning(
                    "Entry %s failed to rebuild column %s: %s", entry.id, column, exc
                )
                updated.pop(column, None)
    return updated


def entries_from_base(item_type: str, item_id: str, version: int) -> list[ActivityLog]:
    """Return the entries from the nearest base up to *version*.

    The query for the base walks the record's index back from *version*,
    at most one snapshot interval. Then only the entries from the base on
    are read.
    """
    record = (ActivityLog.item_type == item_type) & (ActivityLog.item_id == item_id)
    base_version = (
        ActivityLog.select(ActivityLog.version)
        .where(
            record
            & (ActivityLog.version <= version)
            & (
                ActivityLog.snapshot.is_null(False)
                | ActivityLog.action.in_(("insert", "delete"))
            )
        )
        .order_by(ActivityLog.version.desc())
        .limit(1)
        .scalar()
    )
    if base_version is None:
        return []
    # Only the columns a rebuild reads, because loading dates and hashes
    # takes time.
    return list(
        ActivityLog.select(
            ActivityLog.id,
            ActivityLog.version,
            ActivityLog.action,
            ActivityLog.changes,
            ActivityLog.snapshot,
        )
        .where(
            record
            & (ActivityLog.version >= base_version)
            & (ActivityLog.version <= version)
        )
        .order_by(ActivityLog.version, ActivityLog.id)
    )


def state_at(item_type: str, item_id: str, version: int) -> State | None:
    """Rebuild one record at *version*; ``None`` if the log cannot tell."""
    entries = entries_from_base(item_type, item_id, version)
    if not entries or entries[-1].version != version or entries[-1].is_unparsed:
        return None

    values: dict[str, Any] | None = None
    for entry in entries:
        values = apply(values, entry)
    if values is None and entries[-1].action != "delete":
        return None
    return State(version, values is not None, values or {})


def deleted_records(item_type: str, limit: int = 500) -> list[ActivityLog]:
    """Return the delete entries of records that are still deleted, newest first."""
    latest = ActivityLog.alias()
    newest = latest.select(peewee.fn.MAX(latest.version)).where(
        (latest.item_type == ActivityLog.item_type)
        & (latest.item_id == ActivityLog.item_id)
    )
    return list(
        ActivityLog.select()
        .where(
            (ActivityLog.item_type == item_type)
            & (ActivityLog.action == "delete")
            & (ActivityLog.version == newest)
        )
        .order_by(ActivityLog.created_at.desc(), ActivityLog.id.desc())
        .limit(limit)
    )


# -- Restore -------------------------------------------------------------------


@dataclass
class Plan:
    """The changes a restore of one version makes, for the preview and the write."""

    item_type: str
    item_id: str
    version: int
    #: The record's latest logged version when the plan was made.
    latest: int | None
    exists: bool
    #: Field name to the value the restore writes.
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Column to (current, restored) for every value that changes.
    changes: dict[str, tuple[Any, Any]] = dataclasses.field(default_factory=dict)
    #: Column and why it is left as it is.
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    #: Column and the default it gets, for columns newer than the version.
    defaults: list[tuple[str, Any]] = dataclasses.field(default_factory=list)
    #: Reasons the restore cannot be done.
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.problems and (bool(self.changes) or not self.exists)


def field_default(field: peewee.Field) -> Any:
    default = field.default
    return default() if callable(default) else default


def current_row(model: type[peewee.Model], item_id: str) -> dict[str, Any] | None:
    try:
        key = record_key(model, item_id)
    except (TypeError, ValueError):
        return None
    pk = model._meta.primary_key
    # Peewee passes text that is not a number through unchanged, which
    # PostgreSQL rejects for an integer key; an id past 64 bits fits no
    # driver. Neither names a row.
    if isinstance(pk, peewee.IntegerField) and not isinstance(key, int):
        return None
    if isinstance(key, int) and not -(2**63) <= key < 2**63:
        return None
    return model.select().where(pk == key).dicts().first()


def plan_restore(item_type: str, item_id: str, version: int) -> Plan:
    """Work out what restoring *version* of one record would change."""
    model = model_for(item_type)
    if model is None:
        raise RestoreError(f"Records of {item_type} cannot be restored.", status=404)

    state = state_at(item_type, item_id, version)
    if state is None:
        raise RestoreError(
            f"Version {version} of {item_type} {item_id} is not in the log.",
            status=404,
        )
    if not state.exists:
        raise RestoreError(
            f"Version {version} of {item_type} {item_id} is its deletion; "
            "choose the version before it."
        )

    row = current_row(model, item_id)
    current = record_of(model, row, masking=False) if row is not None else None
    plan = Plan(
        item_type,
        item_id,
        version,
        latest_version(item_type, item_id),
        exists=row is not None,
    )
    fill_values(plan, model, state.values, current)
    if plan.exists and not plan.changes and not plan.problems:
        plan.problems.append(
            f"{item_type} {item_id} already matches version {version}; "
            "there is nothing to restore."
        )
    check_references(plan, model)
    check_unique(plan, model)
    return plan


def fill_values(
    plan: Plan,
    model: type[peewee.Model],
    target: dict[str, Any],
    current: dict[str, Any] | None,
) -> None:
    """Decide the value of every column, noting skipped and defaulted ones."""
    options = logged_options(model)
    meta = model._meta
    pk = meta.primary_key

    for column, value in target.items():
        field = meta.columns.get(column)
        if field is None:
            plan.skipped.append(
                (column, f"no longer exists, so {short(value)} is not restored")
            )
        elif current is not None and (column in options.mask or value == MASKED):
            plan.skipped.append(
                (column, "is masked in the log, so it is kept as it is")
            )

    for field in meta.sorted_fields:
        column = field.column_name
        if field is pk:
            continue
        if column in options.exclude:
            if current is None:
                plan.values[field.name] = field_default(field)
            continue
        if column in options.mask and current is not None:
            continue

        if column in target and column not in options.mask:
            try:
                value = from_json(field, target[column])
            except ValueError:
                plan.problems.append(f"The logged value of {column} is not valid.")
                continue
        elif current is not None:
            plan.skipped.append(
                (column, f"is not in version {plan.version}, so it is kept as it is")
            )
            continue
        else:
            # A column the version lacks (added later, or never logged) or
            # whose value the log masks starts from its default.
            value = field_default(field)
            if value is None and not field.null:
                why = (
                    "is masked in the log"
                    if column in options.mask
                    else f"is not in version {plan.version}"
                )
                plan.problems.append(
                    f"{column} is required, {why} and has no default, so the "
                    "record cannot be brought back."
                )
                continue
            plan.defaults.append((column, value))

        plan.values[field.name] = value
        logged = column in target and column not in options.mask
        restored = target[column] if logged else to_json(value)
        if current is None:
            plan.changes[column] = (None, restored)
        elif current.get(column) != restored:
            plan.changes[column] = (current.get(column), restored)

    if current is None:
        plan.values[pk.name] = record_key(model, plan.item_id)


def check_references(plan: Plan, model: type[peewee.Model]) -> None:
    for field in model._meta.sorted_fields:
        if not isinstance(field, peewee.ForeignKeyField):
            continue
        value = plan.values.get(field.name)
        if value is None or field.column_name not in plan.changes:
            continue
        parent = field.rel_model
        if not parent.select().where(field.rel_field == value).exists():
            plan.problems.append(
                f"{field.column_name} {value} refers to {parent._meta.table_name} "
                f"{value}, which no longer exists; restore that record first."
            )


def unique_groups(model: type[peewee.Model]) -> list[tuple[peewee.Field, ...]]:
    meta = model._meta
    groups = [(field,) for field in meta.sorted_fields if field.unique]
    for index in meta.indexes:
        if isinstance(index, tuple) and len(index) == 2 and index[1]:
            groups.append(tuple(meta.fields[name] for name in index[0]))
    return groups


def check_unique(plan: Plan, model: type[peewee.Model]) -> None:
    pk = model._meta.primary_key
    key = record_key(model, plan.item_id)
    for group in unique_groups(model):
        if not any(field.column_name in plan.changes for field in group):
            continue
        if any(field.name not in plan.values for field in group):
            continue
        condition = pk != key
        for field in group:
            condition &= field == plan.values[field.name]
        holder = model.select(pk).where(condition).first()
        if holder is not None:
            described = ", ".join(
                f"{field.column_name} {short(plan.values[field.name])}"
                for field in group
            )
            plan.problems.append(
                f"{described} is already used by {plan.item_type} "
                f"{holder.get_id()}; change that record first."
            )


def restore(item_type: str, item_id: str, version: int, expected: int | None) -> Plan:
    """Restore one record to *version* and record it as ``restore``.

    *expected* is the latest version the preview was made against; if the
    record changed since, nothing is written. The plan is made again under
    the chain lock, so it cannot go stale before the write.
    """
    model = model_for(item_type)
    if model is None:
        raise RestoreError(f"Records of {item_type} cannot be restored.", status=404)
    database = model._meta.database

    try:
        with database.atomic():
            lock(database)
            plan = plan_restore(item_type, item_id, version)
            if expected is not None and plan.latest != expected:
                raise RestoreError(
                    f"{item_type} {item_id} changed after the preview (it is now "
                    f"at version {plan.latest}); review the restore again."
                )
            if plan.problems:
                raise RestoreError(" ".join(plan.problems))
            write_restore(model, plan)
    except peewee.IntegrityError as exc:
        log.info(
            "Restore of %s %s rejected by the database: %s", item_type, item_id, exc
        )
        raise RestoreError(
            f"The database rejected the restore of {item_type} {item_id}: a value "
            "clashes with another record or refers to a missing one."
        ) from None
    return plan


def write_restore(model: type[peewee.Model], plan: Plan) -> None:
    with context.restoring(plan.item_type, plan.item_id, plan.version):
        if plan.exists:
            instance = model.get_by_id(record_key(model, plan.item_id))
            for name, value in plan.values.items():
                setattr(instance, name, value)
        else:
            instance = model(**plan.values)

        # Only a row that stayed in place can have edit forms open on it.
        options = logged_options(model)
        if plan.exists and options.on_restore is not None:
            options.on_restore(instance)
        instance.save(force_insert=not plan.exists)


def record_key(model: type[peewee.Model], item_id: str) -> Any:
    """Convert a logged item id back to the model's primary-key type."""
    pk = model._meta.primary_key
    return pk.python_value(pk.db_value(item_id))
