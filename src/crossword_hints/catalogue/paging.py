"""Paging of index pages: the ``page`` query argument and one page of rows."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import peewee
from flask import current_app, request

from ..errors import AppError, NotFound


@dataclass
class Page:
    """One page of a query's rows, with what the pager needs."""

    rows: list[Any]
    number: int
    count: int
    total: int
    per_page: int

    @property
    def first(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def requested_page() -> int:
    """Return the ``page`` query argument, or 1 when it is absent.

    Raises a 400 error for anything but a whole number from 1 up.
    """
    raw = request.args.get("page")
    if raw is None:
        return 1
    digits = raw.lstrip("0")
    if not re.fullmatch(r"[0-9]+", digits):
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise AppError(
            f"The page number must be a whole number from 1 up, not {shown!r}."
        )
    # A number too long to be a real page is simply past the end.
    return int(digits) if len(digits) <= 18 else 10**18


def per_page() -> int:
    value = current_app.config.get("PER_PAGE", 25)
    return value if isinstance(value, int) and value > 0 else 25


#: Name of the extra column that carries the row count on a page's rows.
TOTAL_COLUMN = "total_rows"

#: One past the largest OFFSET that SQLite and PostgreSQL accept, which is
#: a signed 64-bit integer in both.
MAX_OFFSET = 2**63


def paginate(
    query: peewee.ModelSelect, what: str, count_query: peewee.ModelSelect
) -> Page:
    """Return the requested page of *query*, or raise 404 past the last page.

    *what* names the rows in the message ("setters"). *count_query* selects
    the number of rows of *query*. The first page of an empty list exists,
    so an empty section still has an index.
    """
    number = requested_page()
    size = per_page()

    # The count comes with the rows as one more column, which saves a
    # statement. A page past the end has no row to carry it, and one whose
    # offset is past the 64-bit range of OFFSET is not selected at all.
    rows: list[Any] = []
    if (number - 1) * size < MAX_OFFSET:
        counted = query.select_extend(count_query.alias(TOTAL_COLUMN))
        rows = list(counted.paginate(number, size))
    total = getattr(rows[0], TOTAL_COLUMN) if rows else count_query.scalar()

    count = max(1, math.ceil(total / size))
    if number > count:
        pages = "1 page" if count == 1 else f"{count} pages"
        raise NotFound(f"There is no page {number} of {what}. The list has {pages}.")

    return Page(rows=rows, number=number, count=count, total=total, per_page=size)
