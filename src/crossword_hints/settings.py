"""Default settings and the order in which they are overridden.

Every upper-case name in this module is a setting. Each one can be
overridden, in this order, by ``instance/config.py``, by the Python file
named in the ``APP_SETTINGS`` environment variable, and finally by an
environment variable ``CROSSWORD_HINTS_<NAME>``. Environment values are
parsed as JSON when they can be (``5``, ``true``, ``["a", "b"]``) and are
taken as plain strings otherwise. The platform names ``SECRET_KEY`` and
``DATABASE_URL`` are read as well, because hosts such as Elastic Beanstalk
and Heroku set them.

The README lists the same settings; ``tests/test_settings.py`` checks
that the two lists agree.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

#: Prefix of the environment variables that override settings.
ENV_PREFIX = "CROSSWORD_HINTS"

# -- Core --------------------------------------------------------------------

#: ``development`` or ``production``. Production refuses to start without a
#: strong ``SECRET_KEY`` and marks cookies Secure.
ENV = "development"

#: Key that signs sessions and CSRF tokens. In development an empty value
#: means a random key kept in ``instance/secret_key``; production requires
#: one of at least 32 bytes.
SECRET_KEY = ""

#: Older secret keys, still accepted when reading sessions, so that a key
#: can be rotated without logging everybody out. A list of strings.
SECRET_KEY_FALLBACKS: list[str] = []

#: ``sqlite:///path/to/file.db`` or ``postgresql://user@host/db``. Empty
#: means ``instance/crossword_hints.db``.
DATABASE_URL = ""

#: Rows on each page of an index and of the JSON lists.
PER_PAGE = 25

#: Largest page size a JSON client may ask for with ``per_page``.
MAX_PER_PAGE = 200

#: Largest request body in bytes; a larger one gets 413.
MAX_CONTENT_LENGTH = 1024 * 1024

# -- Directory login ----------------------------------------------------------

#: LDIF files of the built-in read-only directory, separated by spaces or as
#: a list. Empty means the demo directory that ships with the package. Used
#: only while ``LDAP_URL`` is empty.
DIRECTORY_LDIF: str | list[str] = ""

#: Directory group whose members may add and edit.
EDITOR_GROUP = "xword-users"

#: Directory group whose members may also delete, restore and read the
#: activity log.
ADMIN_GROUP = "xword-admins"

#: Seconds after which a logged-in person's groups are read again from the
#: directory; someone removed from every allowed group is then logged out.
LDAP_GROUP_REFRESH = 300

# -- LDAP server ---------------------------------------------------------------

#: One or more LDAP server URIs separated by spaces, such as
#: ``ldaps://ldap1.example.org ldaps://ldap2.example.org``, tried in order.
#: Empty means the built-in LDIF directory instead.
LDAP_URL = ""

#: Base DN of the directory, such as ``dc=example,dc=org``.
LDAP_BASE_DN = ""

#: Search base of the people entries. Empty means ``ou=People,<LDAP_BASE_DN>``.
LDAP_PEOPLE_BASE = ""

#: Search base of the ``posixGroup`` entries. Empty means
#: ``ou=Groups,<LDAP_BASE_DN>``.
LDAP_GROUPS_BASE = ""

#: DN to bind as, with ``{uid}`` standing for the user name (escaped by
#: RFC 4514), such as ``uid={uid},ou=People,dc=example,dc=org``. Empty means
#: search for the person under ``LDAP_PEOPLE_BASE`` first, then bind.
LDAP_BIND_DN_TEMPLATE = ""

#: Filter that finds a person, with ``{uid}`` standing for the user name
#: (escaped by RFC 4515). Also checked against the entry after a bind.
LDAP_USER_FILTER = "(&(objectClass=inetOrgPerson)(uid={uid}))"

#: DN of the account that searches for people and refreshes groups. Empty
#: means anonymous searches.
LDAP_SERVICE_DN = ""

#: Password of ``LDAP_SERVICE_DN``.
LDAP_SERVICE_PASSWORD = ""

#: Send StartTLS on ``ldap://`` URIs before anything else.
LDAP_START_TLS = False

#: File of CA certificates (PEM) that the server's certificate must chain
#: to. Empty means the system's CA list.
LDAP_CA_FILE = ""

#: Check the server's TLS certificate. Turning this off is logged as a
#: warning, because anyone on the network path could then read passwords.
LDAP_TLS_VERIFY = True

#: Seconds to wait for a TCP connection to each server.
LDAP_CONNECT_TIMEOUT = 3

#: Seconds to wait for the result of each LDAP operation.
LDAP_TIMEOUT = 5

# -- Login rate limits ---------------------------------------------------------

#: Turn the login rate limits on or off (Flask-Limiter).
RATELIMIT_ENABLED = True

#: Storage of the failed-login counts: ``memory://`` for one process, or
#: ``redis://host:6379`` when several processes or servers share the work.
RATELIMIT_STORAGE_URI = "memory://"

#: Failed logins allowed for one user name, in any letter case, before
#: further attempts get 429. Limits separated by ``;``; the short one slows
#: guessing down and the long one stops it for a while.
LOGIN_LIMIT_PER_USER = "5 per minute; 20 per hour"

#: Failed logins allowed from one client address, whatever the user name.
LOGIN_LIMIT_PER_ADDRESS = "30 per minute; 200 per hour"

# -- Sessions and cookies -----------------------------------------------------

#: Seconds a login lasts.
PERMANENT_SESSION_LIFETIME = 14 * 24 * 3600

#: Keep the session cookie away from scripts in the page.
SESSION_COOKIE_HTTPONLY = True

#: Withhold the session cookie from cross-site POSTs and subrequests.
SESSION_COOKIE_SAMESITE = "Lax"

#: ``None`` means Secure in production and not in development.
SESSION_COOKIE_SECURE: bool | None = None

#: Seconds a CSRF token stays valid; ``None`` ties it to the session.
WTF_CSRF_TIME_LIMIT: int | None = None

# -- Response headers and proxies -------------------------------------------

#: Content-Security-Policy header of every response. The default allows
#: scripts, styles and images from the site itself only, so inline scripts
#: and inline styles are blocked.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'"
)

#: Referrer-Policy header of every response.
REFERRER_POLICY = "same-origin"

#: ``max-age`` in seconds of the Strict-Transport-Security header, sent in
#: production only; 0 sends none.
HSTS_MAX_AGE = 365 * 24 * 3600

#: Number of proxies in front of the site whose ``X-Forwarded-For`` entry is
#: trusted for the client address. 0 ignores the header.
PROXY_FIX_X_FOR = 0

#: Number of proxies whose ``X-Forwarded-Proto`` entry is trusted for the
#: scheme (http or https). 0 ignores the header.
PROXY_FIX_X_PROTO = 0

# -- Logging -----------------------------------------------------------------

#: ``text`` for readable log lines, ``json`` for one JSON object a line.
LOG_FORMAT = "text"

#: Lowest level logged: ``DEBUG``, ``INFO``, ``WARNING`` or ``ERROR``.
LOG_LEVEL = "INFO"

# -- Activity log ------------------------------------------------------------

#: Versions between two full snapshots of a record in the activity log.
#: Rebuilding a record reads at most this many entries, as long as the
#: value has not been raised since the entries were written.
ACTIVITY_SNAPSHOT_EVERY = 100

#: Entries on each page of the activity report.
ACTIVITY_PER_PAGE = 50

#: Days shown in the activity report's per-day chart.
ACTIVITY_CHART_DAYS = 30


def load(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` from the defaults and every override source.

    *overrides* come last, so tests can pin any setting.
    """
    app.config.from_object(__name__)
    app.config.from_pyfile("config.py", silent=True)

    if os.environ.get("APP_SETTINGS"):
        app.config.from_envvar("APP_SETTINGS")

    for name in ("SECRET_KEY", "DATABASE_URL"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]

    app.config.from_prefixed_env(ENV_PREFIX)

    if overrides:
        app.config.update(overrides)


def setting_names() -> list[str]:
    """Return the names of every setting defined in this module."""
    return [name for name in globals() if name.isupper() and name != "ENV_PREFIX"]
