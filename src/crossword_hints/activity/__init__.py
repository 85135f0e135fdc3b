"""The activity log: who changed what, as diffs, in a verifiable chain.

Any Flask app with Peewee models can use it:

* opt models in with :func:`logged` (``exclude=`` and ``mask=`` options);
  every insert, update and delete on them, single or bulk, is then
  recorded in the same transaction as the change;
* call :func:`init_app` with the app and its database, which adds the
  ``/activity`` pages and the ``activity verify`` and ``activity prune``
  commands and records Flask-Login's logins and logouts;
* commands and scripts name their actor with :func:`acting_as`, and bulk
  loads that bring their own history use :func:`suppressed`.

The tables are ``activity_logs`` and ``activity_chain``; the application
creates them in its migrations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee
from blinker import Signal
from flask import Flask

from . import logins, models
from .capture import CaptureError, logged, logged_models, model_for
from .chain import ActivityWriteError, NewEntry, record, verify
from .context import acting_as, suppressed
from .history import RestoreError, state_at
from .models import ActivityLog, ChainHead

#: Defaults of the settings this package reads.
DEFAULTS = {
    "ACTIVITY_SNAPSHOT_EVERY": 100,
    "ACTIVITY_PER_PAGE": 50,
    "ACTIVITY_CHART_DAYS": 30,
}


@dataclass
class Extension:
    """What :func:`init_app` keeps in ``app.extensions["activity"]``."""

    database: Any
    #: Decorator that guards every page of the log.
    protect: Callable
    #: Decorator that guards the record history pages, which people who
    #: may edit a record often need to see; defaults to *protect*.
    protect_history: Callable
    #: Tells whether the current user may restore, so that history pages
    #: offer restore links only to them.
    may_restore: Callable[[], bool]


def init_app(
    app: Flask,
    database: peewee.Database | peewee.DatabaseProxy,
    *,
    protect: Callable | None = None,
    protect_history: Callable | None = None,
    may_restore: Callable[[], bool] | None = None,
    login_failed: Signal | None = None,
    password_changed: Signal | None = None,
) -> None:
    """Bind the log to *database* and add its pages and commands to *app*.

    *protect* decorates every page, typically an admin check; without it
    the pages answer 403 to everybody. *protect_history* replaces it on
    record history pages, and *may_restore* hides restore links from
    people who would get 403 following them. *login_failed* and
    *password_changed* are the app's signals for those events.
    """
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)

    models.bind(database)
    protect = protect or forbid_all
    app.extensions["activity"] = Extension(
        database,
        protect,
        protect_history or protect,
        may_restore or (lambda: True),
    )

    from . import cli, views

    app.register_blueprint(views.create_blueprint(app.extensions["activity"]))
    app.cli.add_command(cli.activity_command)
    app.jinja_env.globals["activity_history_url"] = views.history_url

    logins.connect_flask_login()
    if login_failed is not None:
        logins.connect_login_failed(login_failed)
    if password_changed is not None:
        logins.connect_password_changed(password_changed)


def forbid_all(view: Callable) -> Callable:
    from functools import wraps

    from flask import abort

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        abort(403, "The activity log is not open to anyone on this site.")

    return wrapper


__all__ = [
    "ActivityLog",
    "ActivityWriteError",
    "CaptureError",
    "ChainHead",
    "NewEntry",
    "RestoreError",
    "acting_as",
    "init_app",
    "logged",
    "logged_models",
    "model_for",
    "record",
    "state_at",
    "suppressed",
    "verify",
]
