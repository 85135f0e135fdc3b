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
from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
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


#: Titles and messages shown in place of Werkzeug's generic texts.
STANDARD_ERRORS = {
    400: (
        "Bad request",
        "The request could not be understood. Check what you entered and try again.",
    ),
    403: ("Forbidden", "Your account may not do this."),
    404: (
        "Not found",
        "There is nothing at this address. The link may be wrong, "
        "or the page may have been deleted.",
    ),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    409: (
        "Conflict",
        "Someone else changed this record while you were editing "
        "it. Nothing was saved; reload it and make your change again.",
    ),
    429: (
        "Too many requests",
        "Too many requests in a short time. Wait a minute and try again.",
    ),
    500: (
        "Internal server error",
        "Something went wrong on our side and has "
        "been logged. Nothing was saved by this request.",
    ),
    503: (
        "Service unavailable",
        "The site cannot answer just now. Nothing was "
        "saved by this request; please try again in a minute.",
    ),
}


#: Driver error codes meaning the database cannot grow: SQLite's result
#: code name and PostgreSQL's SQLSTATE ``disk_full``.
STORAGE_FULL = {"SQLITE_FULL", "53100"}

#: SQLite result codes of a file that is damaged or is no database at all.
DAMAGED_FILE = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


def driver_codes(exc: BaseException | None) -> set[str]:
    """Collect the driver error codes of *exc* and the exceptions behind it.

    Peewee re-raises driver errors as its own classes, and the activity
    log raises its own error from those, so the code sits further down.
    """
    codes = set()
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for name in ("sqlite_errorname", "sqlstate"):
            code = getattr(exc, name, None)
            if code:
                codes.add(code)
        exc = exc.__cause__ or exc.__context__
    return codes


def storage_full_response() -> Response:
    response = render_error(
        507,
        "Database full",
        "The database is full, so nothing was saved by this request. You can "
        "still read the site; an operator must free space before anyone can "
        "save changes.",
    )
    response.headers["Retry-After"] = "300"
    return response


def size_text(size: int) -> str:
    """Return *size* bytes as a short text such as ``1 MB`` or ``512 KB``."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


def describe(exc: HTTPException) -> tuple[str, str]:
    """Return the title and the message to show for *exc*."""
    status = exc.code or 500
    title, message = STANDARD_ERRORS.get(status, (exc.name, exc.description or ""))
    custom = exc.description and exc.description != type(exc).description

    if isinstance(exc, CSRFError):
        message = (
            f"{exc.description} The form may have been open too long; reload the "
            "page and submit it again. Nothing was saved."
        )
    elif status == 413:
        title = "Request too large"
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = "The request is larger than the site accepts"
        message += f" ({size_text(limit)})." if limit else "."
        message += " Nothing was saved."
    elif status == 429 and custom:
        message = (
            f"Too many requests: the limit is {exc.description}. Wait a "
            "little and try again."
        )
    elif custom:
        message = exc.description or message
    return title, message or title


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def render_error(status: int, title: str, message: str, **details: Any) -> Response:
    """Render an error as an HTML page, or as JSON for API clients.

    Both carry the request id, which lets an operator find the request's
    log line from a user's report.
    """
    request_id = g.get("request_id")
    if wants_json():
        body = {
            "error": {
                "status": status,
                "title": title,
                "message": message,
                "request_id": request_id,
            }
        }
        body["error"].update(details)
        response = jsonify(body)
    else:
        response = Response(
            render_template(
                "error.html",
                status=status,
                title=title,
                message=message,
                request_id=request_id,
                **details,
            )
        )
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError) -> Response:
        if exc.status == 503 and driver_codes(exc) & STORAGE_FULL:
            log.warning(
                "Database full during %s %s: %s", request.method, request.path, exc
            )
            return storage_full_response()
        return render_error(exc.status, exc.title, exc.message, **exc.details)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException) -> Response:
        title, message = describe(exc)
        response = render_error(exc.code or 500, title, message)
        # Keep headers such as Allow (405) and Retry-After (429, 503).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(peewee.OperationalError)
    @app.errorhandler(peewee.InterfaceError)
    def handle_database_down(exc: Exception) -> Response:
        if driver_codes(exc) & STORAGE_FULL:
            log.warning(
                "Database full during %s %s: %s", request.method, request.path, exc
            )
            return storage_full_response()

        log.warning(
            "Database unavailable during %s %s: %s", request.method, request.path, exc
        )
        response = render_error(
            503,
            "Service unavailable",
            "The database is not answering. Nothing was saved by this request; "
            "please try again in a minute.",
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(peewee.DatabaseError)
    def handle_database_error(exc: peewee.DatabaseError) -> Response:
        if not driver_codes(exc) & DAMAGED_FILE:
            # Any other database error is a fault in the code: Flask logs it
            # with its traceback and answers 500, as for any other exception.
            raise exc

        log.error("The database file is damaged: %s", exc)
        response = render_error(
            503,
            "Service unavailable",
            "The database file is damaged, so the site cannot read or save "
            "anything. Nothing was saved by this request; an operator must "
            "restore the database from a backup.",
        )
        response.headers["Retry-After"] = "300"
        return response

    @app.errorhandler(InternalServerError)
    def handle_unexpected(exc: InternalServerError) -> Response:
        # Flask has already logged the traceback of an unhandled exception
        # through app.logger, so it is not logged again here.
        title, message = STANDARD_ERRORS[500]
        return render_error(500, title, message)
