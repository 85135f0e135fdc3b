"""The application's exception family and the one handler that renders errors.

Every error a user can cause is an :class:`AppError` (or a Werkzeug HTTP
exception) with a status and a message that is safe to show. The handler
renders it as an HTML page, or as JSON for ``/api/`` requests and clients
that ask for JSON.
"""

from __future__ import annotations

import logging
from typing import Any

import peewee
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error with an HTTP status, a title and a message safe to show."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, status: int | None = None, **details: Any):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.details = details


class NotFound(AppError):
    status = 404
    title = "Not found"


class Conflict(AppError):
    status = 409
    title = "Conflict"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service unavailable"


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def render_error(status: int, title: str, message: str, **details: Any) -> Response:
    if wants_json():
        body = {"error": {"status": status, "title": title, "message": message}}
        body["error"].update(details)
        response = jsonify(body)
    else:
        response = Response(
            render_template(
                "error.html", status=status, title=title, message=message, **details
            )
        )
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError) -> Response:
        return render_error(exc.status, exc.title, exc.message, **exc.details)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException) -> Response:
        response = render_error(
            exc.code or 500, exc.name, exc.description or exc.name
        )
        # Keep headers such as Allow (405) and Retry-After (429, 503).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(peewee.OperationalError)
    @app.errorhandler(peewee.InterfaceError)
    def handle_database_down(exc: Exception) -> Response:
        log.warning("Database unavailable during %s %s: %s",
                    request.method, request.path, exc)
        response = render_error(
            503,
            "Service unavailable",
            "The database is not answering. Nothing was saved by this request; "
            "please try again in a minute.",
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(InternalServerError)
    def handle_unexpected(exc: InternalServerError) -> Response:
        original = getattr(exc, "original_exception", None)
        if original is not None:
            log.error("Unhandled error during %s %s", request.method, request.path,
                      exc_info=original)
        return render_error(
            500,
            "Internal server error",
            "Something went wrong on our side and has been logged. "
            "Nothing was saved by this request.",
        )
