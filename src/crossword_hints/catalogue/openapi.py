"""The OpenAPI 3.0 document of the JSON API, served at ``/api/openapi.json``.

The document is built per app, because page sizes come from its settings.
Schemas forbid unknown fields, so that schemathesis notices when the API
and this description drift apart.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from . import models, search
from .api import MAX_ID, SEARCH_KINDS

JSON = "application/json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def text(max_length: int | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def strict_object(properties: dict[str, dict]) -> dict:
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def content_fields(item_description: str) -> dict[str, dict]:
    """Return the fields every catalogue row has."""
    return {
        "id": {"type": "integer", "minimum": 1},
        "created_at": {"type": "string", "format": "date-time", "nullable": True},
        "updated_at": {"type": "string", "format": "date-time", "nullable": True},
        "version": {
            "type": "integer",
            "description": "Goes up by one on every change.",
        },
        "url": {
            "type": "string",
            "format": "uri-reference",
            "description": f"Path of this {item_description} in the API.",
        },
        "html_url": {
            "type": "string",
            "format": "uri-reference",
            "description": f"Path of this {item_description}'s web page.",
        },
    }


def named_fields() -> dict[str, dict]:
    return {
        "name": text(models.NAME_MAX),
        "description": text(models.DESCRIPTION_MAX),
    }


def highlighted(fields: list[str]) -> dict:
    schema = strict_object({name: {"type": "string"} for name in fields})
    schema["description"] = (
        "The same fields as HTML: the text is escaped and each matched word "
        "is wrapped in <mark>."
    )
    return schema


def schemas() -> dict[str, dict]:
    solution = {
        **content_fields("solution"),
        "clue": text(models.CLUE_MAX),
        "solution": text(models.SOLUTION_MAX),
        "hint": text(models.HINT_MAX),
        "setter": ref("Reference"),
        "solution_type": ref("Reference"),
    }
    cue_word = {
        **content_fields("cue word"),
        "cue_word": text(models.CUE_WORD_MAX),
        "meaning": text(models.MEANING_MAX),
        "duplicate_of": {
            "type": "integer",
            "nullable": True,
            "description": "Id of the cue word this row is an exact copy of.",
        },
    }

    result = {
        "Reference": strict_object(
            {"id": {"type": "integer", "minimum": 1}, "name": text(models.NAME_MAX)}
        ),
        "SetterType": strict_object(
            {**content_fields("setter type"), **named_fields()}
        ),
        "Setter": strict_object(
            {
                **content_fields("setter"),
                **named_fields(),
                "setter_type": ref("Reference"),
            }
        ),
        "SolutionType": strict_object(
            {**content_fields("solution type"), **named_fields()}
        ),
        "Solution": strict_object(solution),
        "CueWord": strict_object(cue_word),
        "SolutionHit": strict_object(
            {**solution, "highlight": highlighted(["clue", "solution", "hint"])}
        ),
        "CueWordHit": strict_object(
            {**cue_word, "highlight": highlighted(["cue_word", "meaning"])}
        ),
        "Suggestions": strict_object(
            {
                "query": {"type": "string"},
                "suggestions": {
                    "type": "array",
                    "maxItems": search.MAX_SUGGESTIONS,
                    "items": text(models.CUE_WORD_MAX),
                },
            }
        ),
        "Health": strict_object(
            {"status": {"type": "string", "enum": ["ok", "unavailable"]}}
        ),
        "Error": strict_object(
            {
                "error": {
                    "type": "object",
                    "required": ["status", "title", "message"],
                    "properties": {
                        "status": {"type": "integer"},
                        "title": {"type": "string"},
                        "message": {"type": "string"},
                    },
                    "description": "Some errors add details, such as the "
                    "number of pages for a page past the last.",
                }
            }
        ),
    }

    for name in ("SetterType", "Setter", "SolutionType", "Solution", "CueWord"):
        result[f"{name}Page"] = page_schema(name)
    search_page = page_schema("SolutionHit")
    search_page["properties"]["items"]["items"] = {
        "oneOf": [ref("SolutionHit"), ref("CueWordHit")]
    }
    search_page["properties"]["query"] = {"type": "string"}
    search_page["properties"]["kind"] = {"type": "string", "enum": list(SEARCH_KINDS)}
    search_page["required"] += ["query", "kind"]
    result["SearchPage"] = search_page
    return result


def page_schema(item: str) -> dict:
    link = {"type": "string", "format": "uri-reference", "nullable": True}
    return strict_object(
        {
            "items": {"type": "array", "items": ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "next": link,
            "previous": link,
        }
    )


def parameters(per_page: int, max_per_page: int) -> dict[str, dict]:
    return {
        "page": {
            "name": "page",
            "in": "query",
            "description": "Page number, from 1. A page past the last gets 404.",
            "schema": {"type": "integer", "minimum": 1, "default": 1},
        },
        "per_page": {
            "name": "per_page",
            "in": "query",
            "description": "Items per page.",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": max_per_page,
                "default": per_page,
            },
        },
        "id": {
            "name": "row_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        },
    }


def error_response(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}}


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


COMMON_ERRORS = {
    "400": error_response("An invalid parameter."),
    "503": error_response("The database is not responding."),
}


def paged_operation(summary: str, schema: str, extra: list[dict]) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": [
                *extra,
                {"$ref": "#/components/parameters/page"},
                {"$ref": "#/components/parameters/per_page"},
            ],
            "responses": {
                "200": json_response("One page of results.", ref(schema)),
                "404": error_response("A page past the last."),
                **COMMON_ERRORS,
            },
        }
    }


def item_operation(summary: str, schema: str) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "responses": {
                "200": json_response("The item.", ref(schema)),
                "404": error_response("No item has this id."),
                "503": COMMON_ERRORS["503"],
            },
        }
    }


def query_parameter(description: str) -> dict:
    return {
        "name": "q",
        "in": "query",
        "required": True,
        "description": description,
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": search.MAX_QUERY_LENGTH,
        },
    }


def paths() -> dict[str, dict]:
    result: dict[str, dict] = {}
    for path, schema, label in [
        ("setter-types", "SetterType", "setter types"),
        ("crossword-setters", "Setter", "setters"),
        ("solution-types", "SolutionType", "solution types"),
        ("crossword-solutions", "Solution", "solutions"),
        ("cue-words", "CueWord", "cue words"),
    ]:
        result[f"/api/{path}"] = paged_operation(
            f"List {label} by id.", f"{schema}Page", []
        )
        result[f"/api/{path}/{{row_id}}"] = item_operation(
            f"Get one of the {label}.", schema
        )

    result["/api/search"] = paged_operation(
        "Search solutions or cue words for every word of a query.",
        "SearchPage",
        [
            query_parameter(
                "Words to find. Every word must occur; the last also matches "
                f"as a prefix when it has at least {search.MIN_PREFIX_LENGTH} "
                "letters and the query does not end with a space."
            ),
            {
                "name": "kind",
                "in": "query",
                "description": "What to search.",
                "schema": {
                    "type": "string",
                    "enum": list(SEARCH_KINDS),
                    "default": SEARCH_KINDS[0],
                },
            },
        ],
    )
    result["/api/cue-words/autocomplete"] = {
        "get": {
            "summary": "Suggest cue words that start with a prefix, ignoring case.",
            "parameters": [query_parameter("The start of a cue word.")],
            "responses": {
                "200": json_response(
                    f"Up to {search.MAX_SUGGESTIONS} distinct cue words.",
                    ref("Suggestions"),
                ),
                **COMMON_ERRORS,
            },
        }
    }
    result["/api/openapi.json"] = {
        "get": {
            "summary": "This document.",
            "responses": {
                "200": json_response("An OpenAPI 3.0 document.", {"type": "object"})
            },
        }
    }
    result["/healthz"] = {
        "get": {
            "summary": "Report whether the database responds.",
            "responses": {
                "200": json_response("The database responds.", ref("Health")),
                "503": json_response("The database does not respond.", ref("Health")),
            },
        }
    }
    return result


def document(per_page: int, max_per_page: int) -> dict:
    """Build the OpenAPI document for the given default and largest page size."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Crossword Hints API",
            "version": __version__,
            "description": "Read-only access to setters, solution types, "
            "solutions and cue words, with full-text search. Every endpoint "
            "accepts GET only.",
        },
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "parameters": parameters(per_page, max_per_page),
        },
    }
