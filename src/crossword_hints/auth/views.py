"""The login and logout pages."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from . import directory, may_log_in, remember_person, User
from .directory import DirectoryUnavailable, InvalidCredentials

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, template_folder="templates")

#: The one message for every failed login, whatever the cause.
FAILED_LOGIN = "Invalid user name or password."


class LoginForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=256)])
    # No strip filter: a password is used exactly as typed.
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class LogoutForm(FlaskForm):
    pass


def safe_next(target: str | None) -> str | None:
    """Return *target* if it is a path on this site, else ``None``.

    Browsers read ``/\\host``, ``//host`` and ``\\t//host`` as other sites,
    so only a plain absolute path with no scheme, host or backslash passes.
    Login and logout pages are refused, so a login never loops.
    """
    if not target or target != target.strip() or "\\" in target:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None

    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    if target.startswith("//"):
        return None
    if parts.path in (url_for("auth.login"), url_for("auth.logout")):
        return None

    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))

    if form.validate_on_submit():
        try:
            person = directory().authenticate(form.username.data, form.password.data)
            if not may_log_in(person):
                raise InvalidCredentials("in no allowed group")
        except InvalidCredentials as exc:
            log.info("Failed login for %r: %s", form.username.data[:64], exc.reason)
            flash(FAILED_LOGIN, "error")
            return render_template("auth/login.html", form=form, next=next_url), 401
        except DirectoryUnavailable as exc:
            log.warning("Directory unavailable at login: %s", exc)
            return render_template(
                "auth/unavailable.html", form=form, next=next_url
            ), 503

        # A fresh session at login, so that a session id planted before
        # login never becomes an authenticated one.
        session.clear()
        remember_person(person)
        login_user(User(person))
        log.info("Login by %s", person.uid)
        flash(f"Logged in as {person.display_name}.", "success")
        return redirect(next_url or url_for("index"))

    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form, next=next_url), status


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    if not current_user.is_authenticated:
        return redirect(url_for("index"))

    form = LogoutForm()
    if request.method == "GET":
        return render_template("auth/logout.html", form=form)

    if form.validate_on_submit():
        log.info("Logout by %s", current_user.uid)
        logout_user()
        session.clear()
        flash("You have been logged out.", "success")
    return redirect(url_for("index"))
