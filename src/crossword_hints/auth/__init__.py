"""Directory login: Flask-Login sessions for people who live in a directory.

Nothing here knows about crosswords. An app calls :func:`init_app`, then
protects views with :func:`editor_required` or :func:`admin_required`.
Roles map to directory groups through the ``EDITOR_GROUP`` and
``ADMIN_GROUP`` settings; admins may do everything editors may.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, flash, session
from flask_login import LoginManager, UserMixin, current_user, logout_user

from .directory import Directory, DirectoryUnavailable, Person

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to do that."
login_manager.login_message_category = "info"
# Flask-Login's own "strong" protection deletes the session on a changed
# address; we renew the session at login and logout instead.
login_manager.session_protection = None


class User(UserMixin):
    """The logged-in person, rebuilt from the session on every request."""

    def __init__(self, person: Person) -> None:
        self.person = person

    def get_id(self) -> str:
        return self.person.uid

    @property
    def uid(self) -> str:
        return self.person.uid

    @property
    def display_name(self) -> str:
        return self.person.display_name

    @property
    def is_editor(self) -> bool:
        groups = self.person.groups
        config = current_app.config
        return config["EDITOR_GROUP"] in groups or config["ADMIN_GROUP"] in groups

    @property
    def is_admin(self) -> bool:
        return current_app.config["ADMIN_GROUP"] in self.person.groups


def directory() -> Directory:
    """Return the app's directory backend."""
    return current_app.extensions["directory"]


def may_log_in(person: Person) -> bool:
    """Tell whether *person* is in a group that the site lets in."""
    allowed = {current_app.config["EDITOR_GROUP"], current_app.config["ADMIN_GROUP"]}
    return bool(allowed & person.groups)


def remember_person(person: Person) -> None:
    """Store *person* in the session, with the time its groups were read."""
    session["person"] = {
        "uid": person.uid,
        "display_name": person.display_name,
        "groups": sorted(person.groups),
        "checked_at": time.time(),
    }


def refresh_person() -> None:
    """Read the logged-in person's groups again once ``LDAP_GROUP_REFRESH`` passed.

    Someone removed from every allowed group, or from the directory, is
    logged out. While the directory is down the session keeps its groups
    and the next check comes one interval later, so browsing goes on.
    """
    data = session.get("person")
    if not data or "_user_id" not in session:
        return

    interval = float(current_app.config["LDAP_GROUP_REFRESH"])
    if time.time() - float(data.get("checked_at", 0)) < interval:
        return

    try:
        person = directory().lookup(data["uid"])
    except DirectoryUnavailable as exc:
        log.warning("Could not refresh the groups of %s: %s", data["uid"], exc)
        session["person"] = {**data, "checked_at": time.time()}
        return

    if person is None or not may_log_in(person):
        log.info(
            "Logged out %s: no longer in the directory or an allowed group", data["uid"]
        )
        logout_user()
        session.clear()
        flash(
            "You have been logged out because your account no longer has "
            "access to this site.",
            "info",
        )
        return

    remember_person(person)
    # Flask-Login may have loaded the user from the old session data
    # already in this request; replace it with the fresh one.
    login_manager._update_request_context_with_user(User(person))


@login_manager.user_loader
def load_user(uid: str) -> User | None:
    data = session.get("person")
    if not data or data.get("uid") != uid:
        return None
    person = Person(data["uid"], data["display_name"], frozenset(data["groups"]))
    return User(person)


def role_required(check: Callable[[User], bool]) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not check(current_user):
                abort(403, "Your account may not do this.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


#: Views that add or edit content.
editor_required = role_required(lambda user: user.is_editor)

#: Views that delete, restore or show the activity log.
admin_required = role_required(lambda user: user.is_admin)


def create_directory(app: Flask) -> Directory:
    """Build the backend the settings ask for.

    An LDAP server when ``LDAP_URL`` is set, else the read-only directory
    loaded from ``DIRECTORY_LDIF``.

    :raises SystemExit: an ``LDAP_*`` setting is invalid; the message names
        it, and the command line prints it without a traceback.
    """
    if app.config.get("LDAP_URL"):
        from .ldap_directory import LdapDirectory, LdapSettings

        try:
            settings = LdapSettings.from_config(app.config)
        except ValueError as exc:
            raise SystemExit(f"Invalid LDAP settings: {exc}") from exc
        return LdapDirectory(settings)

    from .ldif import DEMO_FILES, LdifDirectory

    files = app.config.get("DIRECTORY_LDIF") or DEMO_FILES
    if isinstance(files, str):
        files = files.split()
    return LdifDirectory(files)


def init_app(app: Flask) -> None:
    from .cli import directory_command
    from .throttle import LoginThrottle
    from .views import bp

    app.extensions["directory"] = create_directory(app)
    app.extensions["login_throttle"] = LoginThrottle(app)
    login_manager.init_app(app)
    app.before_request(refresh_person)
    app.register_blueprint(bp)
    app.cli.add_command(directory_command)
