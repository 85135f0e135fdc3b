"""Crossword Hints: keep and share hints for solved cryptic-crossword clues."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import db, errors, settings

__version__ = "2.0.0"

log = logging.getLogger(__name__)

csrf = CSRFProtect()


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Create and configure the application.

    *test_config* overrides every other settings source. The instance
    folder, which holds ``config.py``, the development key and the default
    SQLite database, is *instance_path*, else ``CROSSWORD_HINTS_INSTANCE_PATH``,
    else ``instance`` in the current directory.
    """
    instance_path = (
        instance_path
        or os.environ.get("CROSSWORD_HINTS_INSTANCE_PATH")
        or os.path.join(os.getcwd(), "instance")
    )
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path),
        instance_relative_config=True,
    )
    settings.load(app, test_config)

    from . import requestlog, security

    # The request log comes first: its request id must exist before any
    # other hook, such as the CSRF check, can end a request.
    requestlog.init_app(app)
    security.init_app(app)
    db.init_app(app)
    errors.init_app(app)
    csrf.init_app(app)

    from . import auth, catalogue, cli

    auth.init_app(app)
    catalogue.init_app(app)
    cli.init_app(app)
    init_activity(app)

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        return {"url_rules": app.view_functions}

    return app


def init_activity(app: Flask) -> None:
    """Record content changes and login events; admins read the log."""
    from flask_login import current_user

    from . import activity
    from .auth import admin_required, editor_required, signals

    activity.init_app(
        app,
        db.database,
        protect=admin_required,
        # Editors see a record's history, to check their own edits; only
        # admins read the whole log and restore.
        protect_history=editor_required,
        may_restore=lambda: current_user.is_authenticated and current_user.is_admin,
        login_failed=signals.login_failed,
        password_changed=signals.password_changed,
    )
