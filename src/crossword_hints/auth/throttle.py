"""Brute-force protection for the login form, on Flask-Limiter's storage.

Only failed logins count, per user name and per client address, in the
limits of ``LOGIN_LIMIT_PER_USER`` and ``LOGIN_LIMIT_PER_ADDRESS`` (each
such as ``"5 per minute; 20 per hour"``). The short window slows guessing
down and the long one stops it for a while. A user name that does not exist
counts exactly like one that does. A successful login clears the count for
its user name, but not for the address.

Flask-Limiter reads ``RATELIMIT_ENABLED``, ``RATELIMIT_STORAGE_URI``
(``memory://`` or ``redis://...`` when several servers share the work) and
``RATELIMIT_STRATEGY``. When the storage fails, logins are let through and
the fault is logged, because the directory still checks every password.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.errors import StorageError

log = logging.getLogger(__name__)


def normalize_username(username: str) -> str:
    """Return the form of *username* that failures are counted under."""
    return username.strip().casefold()


class LoginThrottle:
    """Failed-login counter that decides when another attempt must wait."""

    def __init__(self, app: Flask) -> None:
        self.limiter = Limiter(key_func=get_remote_address, app=app)
        self.per_user = parse_many(app.config["LOGIN_LIMIT_PER_USER"])
        self.per_address = parse_many(app.config["LOGIN_LIMIT_PER_ADDRESS"])
        # Flask-Limiter's own prefix, so that sites sharing one Redis can
        # keep their counts apart.
        self.prefix = str(app.config.get("RATELIMIT_KEY_PREFIX") or "")

    @property
    def enabled(self) -> bool:
        return bool(self.limiter.enabled and self.limiter.initialized)

    def _keys(
        self, username: str, address: str | None
    ) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        # A digest keeps user names out of the storage and makes any
        # character safe in a key.
        name = hashlib.sha256(normalize_username(username).encode("utf-8")).hexdigest()
        user: tuple[str, ...] = (self.prefix, "login-user", name)
        client: tuple[str, ...] = (self.prefix, "login-address", address or "-")
        keys = [(item, user) for item in self.per_user]
        keys += [(item, client) for item in self.per_address]
        return keys

    def _storage_errors(self) -> tuple[type[Exception], ...]:
        base = self.limiter.storage.base_exceptions
        return (StorageError, *(base if isinstance(base, tuple) else (base,)))

    def retry_after(self, username: str, address: str | None) -> int | None:
        """Return seconds until *username* from *address* may try again.

        ``None`` means it may try now.
        """
        if not self.enabled:
            return None

        waits = []
        try:
            for item, identifiers in self._keys(username, address):
                if not self.limiter.limiter.test(item, *identifiers):
                    stats = self.limiter.limiter.get_window_stats(item, *identifiers)
                    waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        except self._storage_errors() as exc:
            log.warning("Login rate-limit storage failed; not limiting: %s", exc)
            return None
        return max(waits) if waits else None

    def record_failure(self, username: str, address: str | None) -> None:
        if not self.enabled:
            return
        try:
            for item, identifiers in self._keys(username, address):
                self.limiter.limiter.hit(item, *identifiers)
        except self._storage_errors() as exc:
            log.warning("Login rate-limit storage failed; failure not counted: %s", exc)

    def record_success(self, username: str) -> None:
        if not self.enabled:
            return
        try:
            for item, identifiers in self._keys(username, None)[: len(self.per_user)]:
                self.limiter.limiter.clear(item, *identifiers)
        except self._storage_errors() as exc:
            log.warning("Login rate-limit storage failed; count not cleared: %s", exc)


def throttle() -> LoginThrottle:
    """Return the current app's login throttle."""
    return current_app.extensions["login_throttle"]
