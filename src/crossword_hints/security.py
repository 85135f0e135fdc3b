"""The secret key, cookie flags and other settings that keep the site safe.

In development an empty ``SECRET_KEY`` is replaced by a random key that is
written once to ``instance/secret_key`` (mode 0600), so sessions survive
restarts. Production refuses to start without a strong key.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask

log = logging.getLogger(__name__)

#: Values people leave in place of a real key; production rejects them.
PLACEHOLDER_KEYS = {"changeme", "change-me", "change_me", "secret", "dev", "development"}

MIN_KEY_BYTES = 32


class ConfigurationError(SystemExit):
    """A setting makes it unsafe to start; the message names the setting."""

    def __init__(self, message: str) -> None:
        super().__init__(f"crossword-hints: {message}")


def is_production(app: Flask) -> bool:
    return str(app.config.get("ENV", "development")).lower() == "production"


def check_production_key(key: str) -> None:
    if not key:
        raise ConfigurationError(
            "SECRET_KEY is not set; production needs a random key of at least "
            f"{MIN_KEY_BYTES} bytes in SECRET_KEY or CROSSWORD_HINTS_SECRET_KEY."
        )
    if key.strip().lower() in PLACEHOLDER_KEYS or "changeme" in key.lower():
        raise ConfigurationError(
            "SECRET_KEY is still a placeholder; set SECRET_KEY to a random key "
            f"of at least {MIN_KEY_BYTES} bytes (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')."
        )
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"SECRET_KEY is {len(key.encode('utf-8'))} bytes long; production "
            f"needs at least {MIN_KEY_BYTES}."
        )


def development_key(app: Flask) -> str:
    """Return the instance folder's key, creating it on first use."""
    path = Path(app.instance_path) / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass

    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start at once, one writes and both read
    # the same key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
    log.info("Generated a new development secret key in %s", path)
    return key


def init_app(app: Flask) -> None:
    production = is_production(app)

    if production:
        check_production_key(app.config.get("SECRET_KEY") or "")
    elif not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = development_key(app)

    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = production
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
