"""Who is acting, for which request or command, and whether to record.

State lives in ``flask.g`` (one request or command) and in context
variables (one ``with`` block), never in module globals, so an entry can
never name the user of an earlier request.
"""

from __future__ import annotations

import shlex
import sys
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, g, has_app_context, has_request_context, request

#: Maximum length of a stored actor or user name, in characters.
NAME_MAX = 64

#: Maximum length of a stored source (request or command line), in characters.
SOURCE_MAX = 500

#: Actor of commands, imports and scripts that name no other.
SYSTEM = "system"

#: Actor of requests made without logging in.
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Acting:
    """Who makes the changes of a ``with acting_as(...)`` block and from where."""

    actor: str
    group_id: str
    source: str | None
    client_addr: str | None


@dataclass(frozen=True)
class Restoring:
    """The record a restore is writing, and the version it brings back."""

    item_type: str
    item_id: str
    version: int


_acting: ContextVar[Acting | None] = ContextVar("activity_acting", default=None)
_suppressed: ContextVar[bool] = ContextVar("activity_suppressed", default=False)
_restoring: ContextVar[Restoring | None] = ContextVar(
    "activity_restoring", default=None
)


def clean_name(text: object, limit: int = NAME_MAX) -> str:
    """Remove control and format characters from *text* and cut it to *limit*."""
    visible = "".join(
        char for char in str(text) if not unicodedata.category(char).startswith("C")
    )
    return visible.strip()[:limit]


def command_line() -> str:
    """Return the running program's command line, as a shell would read it."""
    words = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else ["python"]
    return shlex.join(words)[:SOURCE_MAX]


@contextmanager
def acting_as(
    actor: str,
    *,
    source: str | None = None,
    group_id: str | None = None,
    client_addr: str | None = None,
) -> Iterator[Acting]:
    """Record every change inside the block as made by *actor*.

    Commands, imports and tests use it; all entries of the block share one
    group id. *source* defaults to the command line.
    """
    acting = Acting(
        actor=clean_name(actor) or SYSTEM,
        group_id=group_id or uuid.uuid4().hex,
        source=(source or command_line())[:SOURCE_MAX],
        client_addr=client_addr,
    )
    token = _acting.set(acting)
    try:
        yield acting
    finally:
        _acting.reset(token)


@contextmanager
def suppressed() -> Iterator[None]:
    """Write no entries for changes made inside the block.

    For bulk loads whose history is imported separately, such as an import
    of an older app's rows together with its own log.
    """
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def is_suppressed() -> bool:
    return _suppressed.get()


@contextmanager
def restoring(item_type: str, item_id: str, version: int) -> Iterator[None]:
    """Record the writes to one record inside the block as a ``restore``."""
    token = _restoring.set(Restoring(item_type, item_id, version))
    try:
        yield
    finally:
        _restoring.reset(token)


def current_restore() -> Restoring | None:
    return _restoring.get()


def request_actor() -> str:
    """Return the logged-in user's id, or ``anonymous``."""
    if not hasattr(current_app, "login_manager"):
        return ANONYMOUS

    from flask_login import current_user

    if current_user and current_user.is_authenticated:
        return clean_name(current_user.get_id()) or ANONYMOUS
    return ANONYMOUS


def group_id() -> str:
    """Return the id shared by every entry of this request or command.

    A request uses the request id that the request log set in
    ``g.request_id``, when there is one.
    """
    acting = _acting.get()
    if acting is not None:
        return acting.group_id
    if not has_app_context():
        return uuid.uuid4().hex

    if "_activity_group_id" not in g:
        g._activity_group_id = (
            str(g.get("request_id") or "")[:NAME_MAX] or uuid.uuid4().hex
        )
    return g._activity_group_id


def current() -> Acting:
    """Return the actor, group, source and client address to record now.

    The actor is read again on every call, because logging in or out
    changes it in the middle of a request.
    """
    acting = _acting.get()
    if acting is not None:
        return acting

    if has_request_context():
        return Acting(
            actor=request_actor(),
            group_id=group_id(),
            source=f"{request.method} {request.path}"[:SOURCE_MAX],
            client_addr=request.remote_addr,
        )

    return Acting(
        actor=SYSTEM, group_id=group_id(), source=command_line(), client_addr=None
    )
