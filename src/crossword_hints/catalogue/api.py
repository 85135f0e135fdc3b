"""The read-only JSON API under ``/api/``, and the ``/healthz`` check.

Every list has the same body: ``items``, ``page``, ``per_page``, ``total``,
``pages`` and the paths of the ``next`` and ``previous`` pages (``null`` at
either end). Invalid parameters get a JSON 400 and a page past the last
gets a JSON 404, both rendered by :mod:`crossword_hints.errors`. The
OpenAPI document at ``/api/openapi.json`` describes every endpoint.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import peewee
from flask import Blueprint, Flask, Response, current_app, jsonify, request, url_for

from .. import db
from ..errors import AppError, NotFound
from . import search
from .models import CueWord, Setter, SetterType, Solution, SolutionType

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")

health = Blueprint("health", __name__)

#: Largest id a path may name: SQLite's 64-bit integer limit. Larger ids
#: would overflow the database driver, so the URL rule rejects them (404).
MAX_ID = 2**63 - 1

#: Values of the ``kind`` parameter of ``/api/search``.
SEARCH_KINDS = ("solutions", "cue-words")

DIGITS = re.compile(r"[0-9]+", re.ASCII)


# -- Request parameters ----------------------------------------------------------


def shown(value: str, limit: int = 20) -> str:
    """Return *value* quoted for an error message, cut to *limit* characters."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def single_argument(name: str) -> str | None:
    """Return query parameter *name*, rejecting one that is given twice."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise AppError(
            f"The parameter {name} is given {len(values)} times; give it once."
        )
    return values[0] if values else None


def int_argument(name: str, default: int, maximum: int | None = None) -> int:
    """Parse a positive whole-number query parameter.

    Only ASCII digits are accepted, so ``1.0``, ``+1``, ``1_0`` and values
    with spaces are rejected rather than read in some lenient way.
    """
    raw = single_argument(name)
    if raw is None:
        return default

    if not DIGITS.fullmatch(raw):
        raise AppError(f"{name} must be a whole number, not {shown(raw)}.")

    # Python refuses to convert integers of thousands of digits, and any
    # value this long is past every limit anyway.
    digits = raw.lstrip("0") or "0"
    value = int(digits) if len(digits) <= 30 else 10**30

    if value < 1:
        raise AppError(f"{name} must be at least 1, not {value}.")
    if maximum is not None and value > maximum:
        raise AppError(f"{name} must be at most {maximum}, not {value}.")
    return value


def paging_arguments() -> tuple[int, int]:
    """Return ``page`` and ``per_page`` from the query string."""
    config = current_app.config
    page = int_argument("page", 1)
    per_page = int_argument("per_page", config["PER_PAGE"], config["MAX_PER_PAGE"])
    return page, per_page


def text_argument(name: str) -> str:
    """Return a required, non-empty text parameter."""
    value = single_argument(name)
    if not value:
        raise AppError(f"The parameter {name} is missing or empty.")
    return value


def choice_argument(name: str, choices: tuple[str, ...]) -> str:
    """Return a parameter that must be one of *choices*; the first is the default."""
    value = single_argument(name)
    if value is None:
        return choices[0]
    if value not in choices:
        raise AppError(
            f"{name} must be one of {', '.join(choices)}, not {shown(value)}."
        )
    return value


# -- Serialization -------------------------------------------------------------


def timestamp(value: datetime | str | None) -> str | None:
    """Format a stored UTC time as RFC 3339, such as ``2024-05-01T09:30:00Z``.

    Peewee returns text it cannot parse as it is; such a value, which only
    hand-edited or imported rows can hold, becomes ``None``.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def page_url(section: str, row_id: int) -> str:
    """Return the path of a row's HTML page, such as ``/crossword-solutions/7``."""
    return url_for(f"{section}.detail", id=row_id)


def common_fields(row: peewee.Model, section: str, item_endpoint: str) -> dict:
    return {
        "id": row.id,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "version": row.version,
        "url": url_for(f"api.{item_endpoint}", row_id=row.id),
        "html_url": page_url(section, row.id),
    }


def reference(row: peewee.Model) -> dict:
    return {"id": row.id, "name": row.name}


def setter_type_json(row: SetterType) -> dict:
    return {
        **common_fields(row, "setter_types", "setter_type"),
        "name": row.name,
        "description": row.description,
    }


def setter_json(row: Setter) -> dict:
    return {
        **common_fields(row, "setters", "setter"),
        "name": row.name,
        "description": row.description,
        "setter_type": reference(row.setter_type),
    }


def solution_type_json(row: SolutionType) -> dict:
    return {
        **common_fields(row, "solution_types", "solution_type"),
        "name": row.name,
        "description": row.description,
    }


def solution_json(row: Solution) -> dict:
    return {
        **common_fields(row, "solutions", "solution"),
        "clue": row.clue,
        "solution": row.solution,
        "hint": row.hint,
        "setter": reference(row.setter),
        "solution_type": reference(row.solution_type),
    }


def cue_word_json(row: CueWord) -> dict:
    return {
        **common_fields(row, "cue_words", "cue_word"),
        "cue_word": row.cue_word,
        "meaning": row.meaning,
        "duplicate_of": row.duplicate_of_id,
    }


def solution_hit_json(hit: search.SolutionHit) -> dict:
    highlight = {"clue": hit.clue, "solution": hit.answer, "hint": hit.hint}
    return {**solution_json(hit.solution), "highlight": highlight}


def cue_word_hit_json(hit: search.CueWordHit) -> dict:
    highlight = {"cue_word": hit.word, "meaning": hit.meaning}
    return {**cue_word_json(hit.cue_word), "highlight": highlight}


def page_body(
    items: list[dict], page: int, per_page: int, total: int, **url_arguments: Any
) -> dict:
    """Build the body of one page of a list, with links to its neighbours."""
    pages = max(1, math.ceil(total / per_page))

    def link(number: int) -> str:
        return url_for(
            request.endpoint, page=number, per_page=per_page, **url_arguments
        )

    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "next": link(page + 1) if page < pages else None,
        "previous": link(page - 1) if page > 1 else None,
    }


# -- Lists and items -----------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One table served as a list at ``/api/<path>`` and by id below it."""

    path: str
    list_endpoint: str
    item_endpoint: str
    model: type[peewee.Model]
    select: Callable[[], peewee.ModelSelect]
    to_json: Callable[[Any], dict]


RESOURCES = [
    Resource(
        path="setter-types",
        list_endpoint="setter_types",
        item_endpoint="setter_type",
        model=SetterType,
        select=SetterType.select,
        to_json=setter_type_json,
    ),
    Resource(
        path="crossword-setters",
        list_endpoint="setters",
        item_endpoint="setter",
        model=Setter,
        select=lambda: Setter.select(Setter, SetterType).join(SetterType),
        to_json=setter_json,
    ),
    Resource(
        path="solution-types",
        list_endpoint="solution_types",
        item_endpoint="solution_type",
        model=SolutionType,
        select=SolutionType.select,
        to_json=solution_type_json,
    ),
    Resource(
        path="crossword-solutions",
        list_endpoint="solutions",
        item_endpoint="solution",
        model=Solution,
        select=search.solutions_with_names,
        to_json=solution_json,
    ),
    Resource(
        path="cue-words",
        list_endpoint="cue_words",
        item_endpoint="cue_word",
        model=CueWord,
        select=CueWord.select,
        to_json=cue_word_json,
    ),
]


def list_view(resource: Resource) -> Callable[[], Response]:
    def view() -> Response:
        page, per_page = paging_arguments()
        query = resource.select().order_by(resource.model.id)
        total = query.count()
        search.check_page_exists(page, total, per_page)

        items = [resource.to_json(row) for row in query.paginate(page, per_page)]
        return jsonify(page_body(items, page, per_page, total))

    return view


def item_view(resource: Resource) -> Callable[[int], Response]:
    def view(row_id: int) -> Response:
        model = resource.model
        row = resource.select().where(model.id == row_id).first()
        if row is None:
            raise NotFound(f"There is no {model.label} with id {row_id}.")
        return jsonify(resource.to_json(row))

    return view


for _resource in RESOURCES:
    bp.add_url_rule(
        f"/{_resource.path}",
        _resource.list_endpoint,
        list_view(_resource),
        methods=["GET"],
    )
    bp.add_url_rule(
        f"/{_resource.path}/<int(min=1, max={MAX_ID}):row_id>",
        _resource.item_endpoint,
        item_view(_resource),
        methods=["GET"],
    )


# -- Search, autocomplete and the document ----------------------------------------


@bp.get("/search")
def search_view() -> Response:
    query = text_argument("q")
    kind = choice_argument("kind", SEARCH_KINDS)
    page, per_page = paging_arguments()

    if kind == "solutions":
        solutions = search.search_solutions(query, page, per_page)
        items = [solution_hit_json(hit) for hit in solutions.items]
        total = solutions.total
    else:
        cue_words = search.search_cue_words(query, page, per_page)
        items = [cue_word_hit_json(hit) for hit in cue_words.items]
        total = cue_words.total

    body = page_body(items, page, per_page, total, q=query, kind=kind)
    body["query"] = query
    body["kind"] = kind
    return jsonify(body)


@bp.get("/cue-words/autocomplete")
def autocomplete_view() -> Response:
    prefix = text_argument("q")
    return jsonify({"query": prefix, "suggestions": search.suggest_cue_words(prefix)})


@bp.get("/openapi.json")
def openapi_view() -> Response:
    # Imported here because the document reads this module's limits.
    from . import openapi

    config = current_app.config
    return jsonify(openapi.document(config["PER_PAGE"], config["MAX_PER_PAGE"]))


# -- Health ----------------------------------------------------------------------


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the database responds, for load balancers and monitors.

    The view reads no session and sets no cookie, so probes stay cheap.
    """
    if db.ping():
        response, status = jsonify({"status": "ok"}), 200
    else:
        response, status = jsonify({"status": "unavailable"}), 503
        response.headers["Retry-After"] = "30"
    response.headers["Cache-Control"] = "no-store"
    return response, status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(health)
