"""Logins through the app against raw python-ldap calls, on one local slapd.

A private slapd on 127.0.0.1 serves the demo directory that ships with
the package. The app side posts the real login form through Flask's test
client, so a login runs the form, the brute-force throttle, the LDAP
directory backend (search, bind, entry and group look-ups), the session
and the login event. The baseline opens a connection, binds as the same
person with the DN known in advance, searches the groups, and unbinds.
Both run in this one process, in turns.
"""

from __future__ import annotations

import logging

from .databases import connection_cost, fresh_app, peewee_database
from .harness import (
    Context,
    Figure,
    NotMeasured,
    count_alternating,
    explain_miss,
    profile_calls,
    require,
)

log = logging.getLogger(__name__)

#: (rounds, seconds per side and round) per scale.
SIZES = {
    "tiny": (1, 0.3),
    "default": (4, 3.0),
    "full": (6, 5.0),
}

MIN_RATIO = 0.3

#: The demo directory's editor account.
USERNAME = "setter"
PASSWORD = "editor-pass"
SUFFIX = "dc=example,dc=org"


def planned(context: Context) -> list[Figure]:
    rounds, seconds = context.pick(SIZES)
    return [
        Figure(
            title="Login requests per second through the app against a local `slapd`",
            compared_with="raw python-ldap bind and group search per second"
            " against the same server",
            goal=f"at least {MIN_RATIO}",
            size=f"{rounds} rounds of {seconds:g} s per side, one client at a time",
        )
    ]


def run(context: Context, figures: list[Figure]) -> None:
    (figure,) = figures
    slapd_module = require("crossword_hints.auth.slapd")
    require("crossword_hints.auth.ldap_directory")
    demo_files = require("crossword_hints.auth.ldif", "DEMO_FILES")
    import ldap

    rounds, seconds = context.pick(SIZES)
    workdir = context.directory("login-slapd")

    with slapd_module.Slapd(SUFFIX, demo_files, workdir=workdir) as server:
        settings = {
            "LDAP_URL": server.url,
            "LDAP_BASE_DN": SUFFIX,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
        }
        with fresh_app(context, "sqlite", "login", **settings) as app:

            def app_login() -> None:
                # A new client has no session, as a visitor who logs in has not.
                client = app.test_client()
                response = client.post(
                    "/login", data={"username": USERNAME, "password": PASSWORD}
                )
                if response.status_code != 302:
                    raise RuntimeError(
                        f"login through the app returned HTTP {response.status_code}"
                    )

            person_dn = f"uid={USERNAME},ou=People,{SUFFIX}"
            group_filter = f"(&(objectClass=posixGroup)(memberUid={USERNAME}))"

            def raw_login() -> None:
                conn = ldap.initialize(server.url)
                conn.set_option(ldap.OPT_REFERRALS, 0)
                conn.protocol_version = 3
                try:
                    conn.simple_bind_s(person_dn, PASSWORD)
                    groups = conn.search_s(
                        f"ou=Groups,{SUFFIX}", ldap.SCOPE_ONELEVEL, group_filter, ["cn"]
                    )
                finally:
                    conn.unbind_s()
                if not groups:
                    raise RuntimeError(f"{USERNAME} is in no group of the directory")

            with app.app_context(), peewee_database(app).connection_context():
                app_login()
                raw_login()
            app_rate, raw_rate = count_alternating(
                app_login, raw_login, rounds, seconds
            )

            figure.ratio = app_rate / raw_rate
            figure.met = figure.ratio >= MIN_RATIO
            figure.measured = f"{app_rate:,.0f} against {raw_rate:,.0f} logins/s"
            figure.details = [
                f"Through the app: {app_rate:,.0f} logins/s"
                f" ({1000 / app_rate:.2f} ms each); raw python-ldap:"
                f" {raw_rate:,.0f}/s ({1000 / raw_rate:.2f} ms each).",
                "Each app login is a POST of the login form (CSRF off, so that no"
                " token has to be fetched first) with a new client, on SQLite;"
                " slapd runs on the same 2 cores.",
            ]

            if not figure.met:
                explain_login(figure, app_login, raw_login, context.profile)
                cost = connection_cost(app, app_login)
                if cost:
                    figure.details.append(f"On SQLite, {cost}.")

    if figure.ratio is None:
        raise NotMeasured("no login was measured")


def explain_login(figure: Figure, app_login, raw_login, with_profile: bool) -> None:
    """Split an app login's time between LDAP and the database, and count
    the LDAP replies of both sides."""
    app_profile = profile_calls(app_login, calls=50)
    raw_profile = profile_calls(raw_login, calls=50)
    # Every LDAP operation's reply is read through LDAPObject.result4.
    app_trips = app_profile.calls.get("result4", 0)
    raw_trips = raw_profile.calls.get("result4", 0)

    # python-ldap's C methods show as "<method 'result4' of 'LDAP' objects>",
    # the sqlite3 and psycopg ones by their module.
    ldap_share = app_profile.share(r"of 'LDAP' objects|^ldap/")
    database_share = app_profile.share(r"sqlite3\.|^psycopg/|^peewee\.py")
    rest_share = max(0.0, 1.0 - ldap_share - database_share)
    reason = (
        f"in the profile of an app login, {ldap_share:.0%} of the time goes to"
        f" LDAP calls and {database_share:.0%} to the database"
    )
    if app_profile.calls.get("entry_hash"):
        reason += " (the login entry of the activity log and its commit)"
    reason += (
        f". The other {rest_share:.0%} is the request around them, which the"
        " baseline does not make: the test client, the hooks that run on every"
        " request, the form, the throttle and the session cookie."
        f" The login reads {app_trips:g} LDAP replies where the baseline reads"
        f" {raw_trips:g}, because it searches for the person's entry before the"
        " bind. The group search is sent with that search, so each side waits"
        " for two round trips after connecting."
    )
    explain_miss(figure, reason, app_profile if with_profile else None)
