"""Signals about logins and passwords, for audit logs and the like.

Successful logins and logouts use Flask-Login's ``user_logged_in`` and
``user_logged_out``. The signals here cover what Flask-Login does not. Each
is sent with the app as sender and never carries a password.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A login attempt failed. Keyword arguments: ``username`` (as typed, cut to
#: :data:`~crossword_hints.auth.views.MAX_LOGGED_USERNAME` characters),
#: ``reason`` (an internal reason such as ``"unknown user or wrong
#: password"``, ``"in no allowed group"``, ``"too many failures"`` or
#: ``"directory unavailable"``; never shown to the user) and
#: ``remote_addr``.
login_failed = _signals.signal("login-failed")

#: A person changed their own directory password. Keyword argument:
#: ``uid``, the canonical user id.
password_changed = _signals.signal("password-changed")
