"""Field values as they are stored in the log: JSON with their types kept.

``None`` stays ``null``, numbers stay numbers, and every date-time becomes
ISO 8601 in UTC, so that the same instant saved from another time zone
compares equal and is no change.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import peewee

#: Text the log stores in place of a masked field's value.
MASKED = "[masked]"


def utc_iso(value: datetime) -> str:
    """Return *value* as ISO 8601 in UTC; a naive value is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def to_json(value: Any) -> Any:
    """Convert one Python field value to a JSON value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        # A string keeps every digit of a Decimal, which a JSON float would not.
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, peewee.Model):
        return to_json(value.get_id())
    return str(value)


def field_to_json(field: peewee.Field, value: Any) -> Any:
    """Convert a value read from *field*'s column to a JSON value.

    SQLite hands back a date-time with a UTC offset as text, because
    Peewee cannot parse it; such text is read as the instant it names.
    """
    if isinstance(field, peewee.DateTimeField) and isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return to_json(value)


def from_json(field: peewee.Field, value: Any) -> Any:
    """Convert a logged JSON value back to what *field* expects.

    Date-times come back as naive UTC, the way the models store them.
    """
    if value is None:
        return None
    if isinstance(field, peewee.DateTimeField) and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed
    if isinstance(field, peewee.DateField) and isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(field, peewee.DecimalField) and isinstance(value, str):
        return Decimal(value)
    return value


def canonical(value: Any) -> str:
    """Serialize *value* the one way the hash chain and the columns use."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    """Parse a stored JSON column; ``None`` and invalid JSON give ``None``."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def short(value: Any, limit: int = 120) -> str:
    """Show a JSON value in a one-line summary, quoted and cut to *limit*."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value).replace("\r", " ").replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"
