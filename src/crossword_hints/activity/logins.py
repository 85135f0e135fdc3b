"""Entries for logins, logouts, failed logins and password changes.

Flask-Login's ``user_logged_in`` and ``user_logged_out`` are connected by
:func:`connect_flask_login`; an application connects its own signals for
failed logins and password changes with :func:`connect_login_failed` and
:func:`connect_password_changed`. A failure to record a login event is
logged and does not stop the login.
"""

from __future__ import annotations

import logging
from typing import Any

import peewee
from blinker import Signal
from flask import current_app, has_app_context, has_request_context, request

from .chain import ActivityWriteError, NewEntry, record
from .context import ANONYMOUS, clean_name

log = logging.getLogger(__name__)

#: ``item_type`` of login events, as the older app wrote it.
USER = "user"

#: Maximum length of a stored failure reason, in characters.
REASON_MAX = 200


def client_addr() -> str | None:
    return request.remote_addr if has_request_context() else None


def record_event(entry: NewEntry) -> None:
    """Append one login event, unless this app does not use the log."""
    if not has_app_context() or "activity" not in current_app.extensions:
        return
    database = current_app.extensions["activity"].database
    try:
        record(database, [entry])
    except (ActivityWriteError, peewee.PeeweeException):
        log.error(
            "Could not record %s of %s in the activity log",
            entry.action,
            entry.item_id,
            exc_info=True,
        )


def user_id(user: Any) -> str:
    get_id = getattr(user, "get_id", None)
    return clean_name(get_id() if get_id else user) or ANONYMOUS


def on_logged_in(sender: Any, user: Any = None, **extra: Any) -> None:
    uid = user_id(user)
    record_event(
        NewEntry(
            "login",
            f"Successful login for {uid}",
            item_type=USER,
            item_id=uid,
            changes={"outcome": "success"},
            actor=uid,
            client_addr=client_addr(),
        )
    )


def on_logged_out(sender: Any, user: Any = None, **extra: Any) -> None:
    uid = user_id(user)
    record_event(
        NewEntry(
            "logout",
            f"Logout by {uid}",
            item_type=USER,
            item_id=uid,
            actor=uid,
            client_addr=client_addr(),
        )
    )


def on_login_failed(
    sender: Any,
    username: str = "",
    reason: str = "",
    remote_addr: str | None = None,
    **extra: Any,
) -> None:
    """Record a failed login under the name as typed, cleaned and shortened.

    The actor is ``anonymous``: nobody is known to have acted, and the
    typed name may belong to someone else.
    """
    name = clean_name(username or "")
    why = clean_name(reason or "unknown reason", REASON_MAX)
    record_event(
        NewEntry(
            "login_failed",
            f"Failed login for {name!r}: {why}",
            item_type=USER,
            item_id=name,
            changes={"username": name, "reason": why, "outcome": "failed"},
            actor=ANONYMOUS,
            client_addr=remote_addr or client_addr(),
        )
    )


def on_password_changed(sender: Any, uid: str = "", **extra: Any) -> None:
    name = clean_name(uid) or ANONYMOUS
    record_event(
        NewEntry(
            "password_change",
            f"Password changed by {name}",
            item_type=USER,
            item_id=name,
            actor=name,
            client_addr=client_addr(),
        )
    )


def connect_flask_login() -> None:
    from flask_login import user_logged_in, user_logged_out

    # Blinker keeps one connection per receiver, so connecting again for a
    # second app adds nothing; each call checks the current app instead.
    user_logged_in.connect(on_logged_in)
    user_logged_out.connect(on_logged_out)


def connect_login_failed(signal: Signal) -> None:
    signal.connect(on_login_failed)


def connect_password_changed(signal: Signal) -> None:
    signal.connect(on_password_changed)
