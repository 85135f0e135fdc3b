"""The login, logout and change-password pages."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from . import User, directory, may_log_in, remember_person
from .directory import DirectoryUnavailable, InvalidCredentials, PasswordChangeRejected
from .signals import login_failed, password_changed
from .throttle import throttle

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, template_folder="templates")

#: The one message for every failed login, whatever the cause.
FAILED_LOGIN = "Invalid user name or password."

#: Characters of a typed user name kept in logs and signals.
MAX_LOGGED_USERNAME = 64

#: Maximum length of a user name or password in the forms.
MAX_CREDENTIAL = 256


class LoginForm(FlaskForm):
    username = StringField(
        "User name", validators=[DataRequired(), Length(max=MAX_CREDENTIAL)]
    )
    # No strip filter: a password is used exactly as typed. DataRequired
    # rejects an empty or all-blank password before the directory sees it.
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_CREDENTIAL)]
    )


class LogoutForm(FlaskForm):
    pass


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_CREDENTIAL)]
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(max=MAX_CREDENTIAL)]
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            DataRequired(),
            EqualTo("new_password", message="The two new passwords differ."),
        ],
    )


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


def report_failure(typed: str, reason: str) -> None:
    """Log a failed login and send :data:`~.signals.login_failed`."""
    truncated = typed[:MAX_LOGGED_USERNAME]
    log.info("Failed login for %r from %s: %s", truncated, request.remote_addr, reason)
    login_failed.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        username=truncated,
        reason=reason,
        remote_addr=request.remote_addr,
    )


def too_many_attempts(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (
        "Too many failed logins for this user name or from your address. "
        f"Try again in {wait}."
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))

    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("auth/login.html", form=form, next=next_url), status

    typed = form.username.data or ""
    # Outer spaces are a typing slip; other white space such as a newline
    # is kept, so that the directory backend rejects the name.
    username = typed.strip(" ")
    password = form.password.data or ""
    address = request.remote_addr

    wait = throttle().retry_after(username, address)
    if wait is not None:
        report_failure(typed, "too many failures")
        page = render_template(
            "auth/login.html", form=form, next=next_url, error=too_many_attempts(wait)
        )
        return page, 429, {"Retry-After": str(wait)}

    try:
        person = directory().authenticate(username, password)
        if not may_log_in(person):
            raise InvalidCredentials("in no allowed group")
    except InvalidCredentials as exc:
        throttle().record_failure(username, address)
        report_failure(typed, exc.reason)
        page = render_template(
            "auth/login.html", form=form, next=next_url, error=FAILED_LOGIN
        )
        return page, 401
    except DirectoryUnavailable as exc:
        log.warning("Directory unavailable at login: %s", exc)
        report_failure(typed, "directory unavailable")
        return render_template("auth/unavailable.html"), 503, {"Retry-After": "60"}

    throttle().record_success(username)

    # A fresh session at login, so that a session planted before login
    # never becomes an authenticated one.
    session.clear()
    remember_person(person)
    login_user(User(person))
    log.info("Login by %s from %s", person.uid, address)
    flash(f"Logged in as {person.display_name}.", "success")
    return redirect(next_url or url_for("index"))


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
        # NOTE: Flask keeps the session in a signed cookie, so a copy of the
        # logged-in cookie taken before logout stays valid until it expires
        # (PERMANENT_SESSION_LIFETIME); only this browser's copy is cleared.
        session.clear()
        flash("You have been logged out.", "success")
    return redirect(url_for("index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | tuple[str, int]:
    form = PasswordForm()
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("auth/password.html", form=form), status

    uid = current_user.uid
    wait = throttle().retry_after(uid, request.remote_addr)
    if wait is not None:
        form.current_password.errors.append(too_many_attempts(wait))
        return render_template("auth/password.html", form=form), 429

    try:
        directory().change_password(
            uid, form.current_password.data or "", form.new_password.data or ""
        )
    except InvalidCredentials as exc:
        throttle().record_failure(uid, request.remote_addr)
        log.info("Password change by %s rejected: %s", uid, exc.reason)
        form.current_password.errors.append("The current password is wrong.")
        return render_template("auth/password.html", form=form), 400
    except PasswordChangeRejected as exc:
        log.info("Password change by %s rejected by the directory: %s", uid, exc)
        return render_template("auth/password.html", form=form, error=str(exc)), 400
    except DirectoryUnavailable as exc:
        log.warning("Directory unavailable at password change: %s", exc)
        return render_template("auth/unavailable.html"), 503

    log.info("Password changed by %s", uid)
    password_changed.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        uid=uid,
    )
    flash("Your password has been changed.", "success")
    return redirect(url_for("index"))
