"""The secret key, cookie flags, security headers and proxy trust.

In development an empty ``SECRET_KEY`` is replaced by a random key that is
written once to ``instance/secret_key`` (mode 0600), so sessions survive
restarts. Production refuses to start without a strong key, marks cookies
Secure and sends HSTS. Client address and scheme come from ``X-Forwarded-*``
headers only for as many proxy hops as ``PROXY_FIX_X_FOR`` and
``PROXY_FIX_X_PROTO`` allow.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

from flask import Flask, Response, request, session
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

#: Values people leave in place of a real key; production rejects them.
PLACEHOLDER_KEYS = {
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "dev",
    "development",
}

MIN_KEY_BYTES = 32


class ConfigurationError(SystemExit):
    """A setting makes it unsafe to start; the message names the setting.

    It is a :class:`SystemExit`, so the command line and gunicorn (with
    ``preload_app``) print the one-line message and exit with status 1
    instead of showing a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"crossword-hints: {message}")


def is_production(app: Flask) -> bool:
    return str(app.config.get("ENV", "development")).lower() == "production"


def is_placeholder(key: str) -> bool:
    return key.strip().lower() in PLACEHOLDER_KEYS or "changeme" in key.lower()


def check_production_key(key: str, name: str = "SECRET_KEY") -> None:
    """Raise :class:`ConfigurationError` unless *key* is fit for production."""
    if not key:
        raise ConfigurationError(
            f"{name} is not set; production needs a random key of at least "
            f"{MIN_KEY_BYTES} bytes in SECRET_KEY or CROSSWORD_HINTS_SECRET_KEY."
        )
    if is_placeholder(key):
        raise ConfigurationError(
            f"{name} is still a placeholder; set it to a random key of at least "
            f"{MIN_KEY_BYTES} bytes (python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')."
        )
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"{name} is {len(key.encode('utf-8'))} bytes long; production "
            f"needs at least {MIN_KEY_BYTES}."
        )


def development_key(app: Flask) -> str:
    """Return the instance folder's key, creating it on first use."""
    path = Path(app.instance_path) / "secret_key"
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key

    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)

    # The key is written to a private temporary file and then linked into
    # place. When several workers start at once, exactly one link succeeds
    # and every process reads a complete key, never a half-written file.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(key + "\n")
        os.link(temporary, path)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    finally:
        os.unlink(temporary)

    log.info("Generated a new development secret key in %s", path)
    return key


def key_list(value: Any) -> list[str]:
    """Return *value* as a list of keys.

    An environment variable holds one string, and Flask would read each of
    its characters as a key, so a string is split on commas and whitespace.
    """
    if not value:
        return []
    if isinstance(value, str):
        return [key for key in re.split(r"[\s,]+", value) if key]
    return [str(key) for key in value]


def configure_secret_key(app: Flask) -> None:
    # A key of digits arrives from the environment parsed as a number.
    key = str(app.config.get("SECRET_KEY") or "")
    fallbacks = key_list(app.config.get("SECRET_KEY_FALLBACKS"))

    if is_production(app):
        check_production_key(key)
        for number, old_key in enumerate(fallbacks, start=1):
            check_production_key(old_key, f"SECRET_KEY_FALLBACKS entry {number}")
    elif not key:
        key = development_key(app)

    app.config["SECRET_KEY"] = key
    app.config["SECRET_KEY_FALLBACKS"] = fallbacks


def configure_cookies(app: Flask) -> None:
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = is_production(app)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = app.config["SESSION_COOKIE_SAMESITE"]


def security_headers(app: Flask) -> dict[str, str]:
    """Return the headers that every response carries."""
    headers = {
        "Content-Security-Policy": app.config["CONTENT_SECURITY_POLICY"],
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": app.config["REFERRER_POLICY"],
    }
    max_age = int(app.config.get("HSTS_MAX_AGE") or 0)
    if is_production(app) and max_age > 0:
        headers["Strict-Transport-Security"] = f"max-age={max_age}"
    return headers


def configure_proxy(app: Flask) -> None:
    hops_for = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    hops_proto = int(app.config.get("PROXY_FIX_X_PROTO") or 0)
    if hops_for < 0 or hops_proto < 0:
        raise ConfigurationError(
            "PROXY_FIX_X_FOR and PROXY_FIX_X_PROTO must be 0 or a positive "
            "number of trusted proxy hops."
        )
    if hops_for or hops_proto:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops_for, x_proto=hops_proto, x_host=0, x_port=0
        )


#: Query-string characters passed on as they are: printable ASCII but space.
QUERY_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))


def percent_encode_query(wsgi_app: Callable) -> Callable:
    """Wrap *wsgi_app* so that raw bytes in the query string arrive percent-encoded.

    Browsers percent-encode them, but a hand-made request need not, and
    Werkzeug decodes a raw query string as strict UTF-8, so an invalid byte
    there would end the request in a 500 instead of a 400.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable) -> Any:
        query = environ.get("QUERY_STRING", "")
        if not query.isascii() or not query.isprintable():
            try:
                raw = query.encode("latin-1")
            except UnicodeEncodeError:
                # PEP 3333 servers pass bytes as latin-1 text; others may not.
                raw = query.encode("utf-8", errors="surrogateescape")
            environ["QUERY_STRING"] = quote_from_bytes(raw, safe=QUERY_SAFE)
        return wsgi_app(environ, start_response)

    return wrapped


def check_environment_name(app: Flask) -> None:
    # A misspelt "production" would otherwise run with development defaults:
    # a key generated on the spot and cookies without the Secure flag.
    name = str(app.config.get("ENV", "development")).lower()
    if name not in ("development", "production"):
        raise ConfigurationError(
            f"ENV must be development or production, not {name!r}; set "
            "CROSSWORD_HINTS_ENV accordingly."
        )


def init_app(app: Flask) -> None:
    check_environment_name(app)
    configure_secret_key(app)
    configure_cookies(app)
    configure_proxy(app)
    app.wsgi_app = percent_encode_query(app.wsgi_app)  # type: ignore[method-assign]
    headers = security_headers(app)

    @app.before_request
    def reject_uploads() -> None:
        # No form takes a file, yet Flask-WTF hands an uploaded one to the
        # text field of that name, whose checks then fail with a TypeError.
        if request.files:
            raise BadRequest("This site takes no file uploads; send the form as text.")

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)

        # Login clears the session, which also clears its permanent flag, so
        # the flag is set here, once the view is done. An empty session is
        # left alone: it sends no cookie.
        if session and not session.permanent:
            session.permanent = True
        return response
