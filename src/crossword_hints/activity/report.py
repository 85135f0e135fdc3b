"""The report's filters, keyset pages, per-day chart and streamed exports.

Pages are keyset pages over ``(created_at, id)``, newest first: a page
link names the entry to continue after, so a deep page costs one index
seek instead of skipping rows with OFFSET.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import peewee
from werkzeug.exceptions import BadRequest

from .models import ActivityLog
from .values import loads

#: Maximum length of a filter's text, in characters.
FILTER_MAX = 200

#: A plain number, which a spreadsheet reads as a number, not a formula.
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")

#: Rows read per statement while exporting.
EXPORT_BATCH = 500

#: Columns of the exports, in order.
EXPORT_COLUMNS = (
    "id",
    "created_at",
    "actor",
    "action",
    "item_type",
    "item_id",
    "version",
    "act_action",
    "changes",
    "snapshot",
    "group_id",
    "source",
    "client_addr",
    "hash",
)

#: Bar colours of the chart by action; other actions are grey.
COLOURS = {
    "insert": "#2e7d32",
    "update": "#1565c0",
    "delete": "#c62828",
    "restore": "#6a1b9a",
    "login": "#00838f",
    "logout": "#607d8b",
    "login_failed": "#ef6c00",
    "password_change": "#8d6e63",
    "prune": "#424242",
}
OTHER_COLOUR = "#9e9e9e"


#: Earliest and latest days a filter may name. The report adds a day to
#: ``until`` and the chart counts back from it, which would step outside
#: what ``date`` can hold at year 1 or 9999.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9999, 12, 30)


def parse_day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            f"{name} must be a date such as 2024-05-31, not {value!r}."
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadRequest(
            f"{name} must be a day from {FIRST_DAY} to {LAST_DAY}, not {value!r}."
        )
    return day


@dataclass
class Filters:
    """The report's filters; empty strings and ``None`` filter nothing."""

    actor: str = ""
    action: str = ""
    item_type: str = ""
    item_id: str = ""
    since: date | None = None
    until: date | None = None
    text: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        """Read the filters from query arguments; a bad date is a 400."""

        def text(name: str) -> str:
            value = (args.get(name) or "").strip()
            if len(value) > FILTER_MAX:
                raise BadRequest(f"{name} is longer than {FILTER_MAX} characters.")
            # PostgreSQL rejects NUL in any text, and no entry contains one.
            if "\x00" in value:
                raise BadRequest(f"{name} must not contain a NUL character.")
            return value

        filters = cls(
            actor=text("actor"),
            action=text("action"),
            item_type=text("item_type"),
            item_id=text("item_id"),
            since=parse_day(text("since"), "since"),
            until=parse_day(text("until"), "until"),
            text=text("q"),
        )
        if filters.since and filters.until and filters.since > filters.until:
            raise BadRequest("since must not be later than until.")
        return filters

    def args(self) -> dict[str, str]:
        """Return the filters as query arguments, leaving out empty ones."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "item_type": self.item_type,
            "item_id": self.item_id,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "q": self.text,
        }
        return {name: value for name, value in values.items() if value}

    def condition(self) -> peewee.Expression | None:
        parts = []
        for name in ("actor", "action", "item_type", "item_id"):
            value = getattr(self, name)
            if value:
                parts.append(getattr(ActivityLog, name) == value)
        if self.since:
            parts.append(ActivityLog.created_at >= start_of(self.since))
        if self.until:
            parts.append(ActivityLog.created_at < start_of(self.until + timedelta(1)))
        if self.text:
            parts.append(
                ActivityLog.act_action.contains(self.text)
                | ActivityLog.changes.contains(self.text)
            )
        if not parts:
            return None
        condition = parts[0]
        for part in parts[1:]:
            condition &= part
        return condition

    def query(self) -> peewee.ModelSelect:
        query = ActivityLog.select()
        condition = self.condition()
        return query.where(condition) if condition is not None else query


def start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


# -- Pages ---------------------------------------------------------------------


@dataclass
class Page:
    """One page of entries, newest first, and the ids to page on from."""

    rows: list[ActivityLog]
    #: Id of this page's first row, when newer rows exist.
    newer: int | None = None
    #: Id of this page's last row, when older rows exist.
    older: int | None = None


def position(entry_id: int) -> tuple[datetime, int]:
    entry = (
        ActivityLog.select(ActivityLog.created_at, ActivityLog.id)
        .where(ActivityLog.id == entry_id)
        .first()
    )
    if entry is None:
        raise BadRequest(f"Entry {entry_id} does not exist; start from the first page.")
    return entry.created_at, entry.id


def key() -> peewee.Tuple:
    return peewee.Tuple(ActivityLog.created_at, ActivityLog.id)


def newest_first(query: peewee.ModelSelect) -> peewee.ModelSelect:
    return query.order_by(ActivityLog.created_at.desc(), ActivityLog.id.desc())


def page(
    filters: Filters, *, before: int | None, after: int | None, per_page: int
) -> Page:
    """Return the page that continues before (older) or after (newer) an entry."""
    query = filters.query()
    if after is not None:
        created, entry_id = position(after)
        rows = list(
            query.where(key() > peewee.Tuple(created, entry_id))
            .order_by(ActivityLog.created_at, ActivityLog.id)
            .limit(per_page + 1)
        )
        more_newer = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        result = Page(rows, newer=rows[0].id if more_newer and rows else None)
        if rows:
            result.older = rows[-1].id
        return result

    if before is not None:
        created, entry_id = position(before)
        query = query.where(key() < peewee.Tuple(created, entry_id))
    rows = list(newest_first(query).limit(per_page + 1))
    result = Page(rows[:per_page])
    if len(rows) > per_page:
        result.older = result.rows[-1].id
    if before is not None and result.rows:
        result.newer = result.rows[0].id
    return result


# -- Chart ---------------------------------------------------------------------


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass
class Chart:
    """Entries per day and action over a run of days."""

    days: list[date]
    actions: list[str]
    counts: dict[tuple[date, str], int] = field(default_factory=dict)

    width: int = 720
    height: int = 200
    margin_left: int = 40
    margin_bottom: int = 24

    def count(self, day: date, action: str) -> int:
        return self.counts.get((day, action), 0)

    def total(self, day: date) -> int:
        return sum(self.count(day, action) for action in self.actions)

    @property
    def peak(self) -> int:
        return max((self.total(day) for day in self.days), default=0)

    def colour(self, action: str) -> str:
        return COLOURS.get(action, OTHER_COLOUR)

    def bars(self) -> list[Bar]:
        """Return one stacked bar segment per day and action with entries."""
        if not self.days or not self.peak:
            return []
        plot_height = self.height - self.margin_bottom - 8
        slot = (self.width - self.margin_left) / len(self.days)
        scale = plot_height / self.peak
        bars = []
        for index, day in enumerate(self.days):
            top = self.height - self.margin_bottom
            for action in self.actions:
                number = self.count(day, action)
                if not number:
                    continue
                height = number * scale
                top -= height
                bars.append(
                    Bar(
                        x=round(self.margin_left + index * slot + slot * 0.1, 1),
                        y=round(top, 1),
                        width=round(slot * 0.8, 1),
                        height=round(height, 1),
                        colour=self.colour(action),
                        label=f"{day.isoformat()}: {number} {action}",
                    )
                )
        return bars

    def day_labels(self) -> list[tuple[float, str]]:
        """Return x positions and labels of about eight days along the axis."""
        if not self.days:
            return []
        slot = (self.width - self.margin_left) / len(self.days)
        step = max(1, len(self.days) // 8)
        return [
            (
                round(self.margin_left + index * slot + slot / 2, 1),
                day.strftime("%d %b"),
            )
            for index, day in enumerate(self.days)
            if index % step == 0
        ]


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def chart(filters: Filters, days: int) -> Chart:
    """Count the filtered entries per day and action.

    The chart covers *days* days ending with the ``until`` filter, or with
    the newest matching entry, and never starts before ``since``.
    """
    if filters.until:
        end = filters.until
    else:
        newest = newest_first(filters.query()).first()
        if newest is None:
            return Chart([], [])
        end = as_date(newest.created_at)

    start = end - timedelta(days - 1)
    if filters.since and filters.since > start:
        start = filters.since

    day = peewee.fn.DATE(ActivityLog.created_at)
    query = (
        filters.query()
        .select(day.alias("day"), ActivityLog.action, peewee.fn.COUNT(ActivityLog.id))
        .where(
            (ActivityLog.created_at >= start_of(start))
            & (ActivityLog.created_at < start_of(end + timedelta(1)))
        )
        .group_by(day, ActivityLog.action)
        .tuples()
    )
    counts = {(as_date(row_day), action): number for row_day, action, number in query}
    actions = sorted({action for _, action in counts})
    run = [start + timedelta(offset) for offset in range((end - start).days + 1)]
    return Chart(run, actions, counts)


# -- Exports -------------------------------------------------------------------


def export_rows(filters: Filters) -> Iterator[ActivityLog]:
    """Yield every filtered entry, newest first, EXPORT_BATCH per query."""
    last: tuple[datetime, int] | None = None
    while True:
        query = filters.query()
        if last is not None:
            query = query.where(key() < peewee.Tuple(*last))
        batch = list(newest_first(query).limit(EXPORT_BATCH))
        if not batch:
            return
        yield from batch
        last = (batch[-1].created_at, batch[-1].id)


def cell(value: Any) -> Any:
    """Format one CSV cell; text that a spreadsheet would run as a formula
    gets a leading apostrophe."""
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None:
        return ""
    if (
        isinstance(value, str)
        and value[:1] in ("=", "+", "-", "@", "\t", "\r")
        and not NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def csv_lines(filters: Filters) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_COLUMNS)
    yield flush()
    for entry in export_rows(filters):
        writer.writerow([cell(getattr(entry, name)) for name in EXPORT_COLUMNS])
        yield flush()


def as_json(entry: ActivityLog) -> dict[str, Any]:
    data = {name: getattr(entry, name) for name in EXPORT_COLUMNS}
    data["created_at"] = entry.created_at.isoformat()
    data["changes"] = loads(entry.changes)
    data["snapshot"] = loads(entry.snapshot)
    return data


def json_chunks(filters: Filters) -> Iterator[str]:
    yield "["
    separator = "\n"
    for entry in export_rows(filters):
        yield separator + json.dumps(as_json(entry), ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
