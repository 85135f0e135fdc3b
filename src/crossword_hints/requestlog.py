"""Request ids and one log line per request.

Every request gets an id in ``flask.g.request_id``: the client's or the
proxy's ``X-Request-ID`` when it is a short token of safe characters, else
a new UUID. The id is sent back in the ``X-Request-ID`` response header,
added to every log line written during the request and used by the
activity log as the group id of the changes one request makes.

The request line holds the request id, method, path, status, time in
milliseconds, client address and user. It never holds the query string,
headers, cookies or the request body, so no password, session cookie or
``Authorization`` value reaches the log. With ``LOG_FORMAT = "json"`` each
line is one JSON object.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from flask_login import current_user

log = logging.getLogger(__name__)

#: Header that carries the request id in both directions.
REQUEST_ID_HEADER = "X-Request-ID"

#: An incoming request id is accepted only when it matches this, so that it
#: cannot break a log line or a response header.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

#: Record attributes that the JSON format writes as fields of their own.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "remote_addr", "user")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class RequestIdFilter(logging.Filter):
    """Adds the current request id, or ``-`` outside requests, to a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = g.get("request_id") if has_request_context() else None
            record.request_id = request_id or "-"
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(app: Flask) -> None:
    """Send the package's log records to stderr in the configured format.

    The handler replaces the one a previous :func:`create_app` in the same
    process installed, so tests that build many apps get one line per record.
    """
    log_format = str(app.config.get("LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        from .security import ConfigurationError

        raise ConfigurationError(
            f"LOG_FORMAT must be text or json, not {log_format!r}."
        )

    level = str(app.config.get("LOG_LEVEL") or "INFO").upper()
    if not isinstance(logging.getLevelNamesMapping().get(level), int):
        from .security import ConfigurationError

        raise ConfigurationError(
            f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}."
        )

    handler = logging.StreamHandler()
    handler.set_name("crossword_hints")
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))

    package_logger = logging.getLogger("crossword_hints")
    for old in list(package_logger.handlers):
        if old.get_name() == "crossword_hints":
            package_logger.removeHandler(old)
    package_logger.addHandler(handler)
    package_logger.setLevel(level)


def incoming_request_id() -> str | None:
    # NOTE: a client that reaches the app directly chooses its own request
    # id, and with it the activity-log group of its changes. Behind a proxy
    # that sets X-Request-ID itself, as the README's nginx sample does, it
    # cannot.
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if SAFE_REQUEST_ID.fullmatch(value) else None


def loggable_path(path: str) -> str:
    """Return *path* with control characters escaped, so it stays one line."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match[0]):02x}", path)


def user_id() -> str | None:
    if current_user and current_user.is_authenticated:
        return current_user.get_id()
    return None


def init_app(app: Flask) -> None:
    """Install the log handler and the request id; call before other hooks.

    Flask runs ``before_request`` functions in the order they were added,
    so this must come before CSRF protection, whose check may end the
    request early.
    """
    configure_logging(app)

    @app.before_request
    def start_request() -> None:
        g.request_id = incoming_request_id() or uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = request_id

        started = g.get("request_started")
        duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        fields = {
            "request_id": request_id,
            "method": request.method,
            "path": loggable_path(request.path),
            "status": response.status_code,
            "duration_ms": round(duration_ms, 1),
            "remote_addr": request.remote_addr,
            "user": user_id(),
        }
        log.info(
            "%s %s %s %.1f ms %s user=%s",
            fields["method"],
            fields["path"],
            fields["status"],
            duration_ms,
            fields["remote_addr"],
            fields["user"] or "-",
            extra=fields,
        )
        return response
