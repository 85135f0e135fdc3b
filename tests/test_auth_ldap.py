"""Login against a real slapd loaded with the shared directory.

The backend tests run in each way of finding the person: binding through
``LDAP_BIND_DN_TEMPLATE``, searching anonymously and searching as a
service account, because DNs and filters escape user names differently
(RFC 4514 and RFC 4515). The page tests use the default, searching
anonymously.
"""

from __future__ import annotations

import logging
import socket

import pytest

from conftest import ACCOUNTS, login
from crossword_hints import create_app
from crossword_hints.auth import directory
from crossword_hints.auth.directory import DirectoryUnavailable, InvalidCredentials
from crossword_hints.auth.ldap_directory import LdapDirectory, LdapSettings
from crossword_hints.auth.views import FAILED_LOGIN
from slapd_fixtures import PEOPLE, SUFFIX, ldap_settings

BIND_MODES = {
    "template": {"LDAP_BIND_DN_TEMPLATE": f"uid={{uid}},{PEOPLE}"},
    "search": {},
    "search-as-service": {"LDAP_SERVICE_DN": f"cn=Manager,{SUFFIX}"},
}

INJECTIONS = [
    "*",
    "*)(uid=*",
    "*)(uid=*))(|(uid=*",
    "a)(b",
    "adm*",
    "xw*",
    "xword)(objectClass=*",
    "xword,ou=Groups",
    f"xword,{PEOPLE}",
    "cn=Manager",
    "#x",
    "x\\",
    "\\2a",
    "x+cn=y",
    "xword+uid=setter",
    "x\x00",
    "xword\x00",
    "xword\n",
    "xword\ncn: admin",
    "xword\r\n",
    "\txword",
    '"xword"',
    "<xword>",
    "xword;",
    "=",
    "xword=",
    " ",
    "x" * 256,
]

VARIANTS = ["XWORD", "Xword", " xword ", "xword ", "  XWord"]


def backend_for(server, mode: str, **overrides) -> LdapDirectory:
    settings = dict(BIND_MODES[mode])
    if "LDAP_SERVICE_DN" in settings:
        settings["LDAP_SERVICE_PASSWORD"] = server.root_password
    settings.update(overrides)
    config = ldap_settings(server, **settings)
    return LdapDirectory(LdapSettings.from_config(config))


@pytest.fixture(params=list(BIND_MODES))
def backend(request: pytest.FixtureRequest, slapd) -> LdapDirectory:
    return backend_for(slapd, request.param)


@pytest.fixture
def app_config(app_config, slapd):
    return {**app_config, **ldap_settings(slapd)}


def logged_in_page(client) -> str:
    return client.get("/").get_data(as_text=True)


# -- The backend -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "display_name", "groups"),
    [
        ("xword", "Crossword Hints", {"xword-users", "xword-admins"}),
        ("setter", "Sam Setter", {"xword-users"}),
        ("solver", "Sol Solver", set()),
    ],
)
def test_accounts_get_their_groups(backend, username, display_name, groups):
    person = backend.authenticate(username, ACCOUNTS[username])

    assert person.uid == username
    assert person.display_name == display_name
    assert person.groups == groups


@pytest.mark.parametrize("username", INJECTIONS)
def test_injected_user_names_match_nobody(backend, username):
    for password in ACCOUNTS.values():
        with pytest.raises(InvalidCredentials):
            backend.authenticate(username, password)


@pytest.mark.parametrize("typed", VARIANTS)
def test_user_name_variants_give_canonical_entry(backend, typed):
    canonical = backend.authenticate("xword", ACCOUNTS["xword"])

    assert backend.authenticate(typed.strip(" "), ACCOUNTS["xword"]) == canonical


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody", "admin-pass"), ("xword", "wrong-pass"), ("xword", "admin-pass ")],
)
def test_bad_credentials_raise_one_error(backend, username, password):
    with pytest.raises(InvalidCredentials):
        backend.authenticate(username, password)


@pytest.mark.parametrize("password", ["", None])
def test_empty_password_never_binds(password):
    # The only server is a closed port: had the backend tried to bind, it
    # would raise DirectoryUnavailable instead of InvalidCredentials.
    settings = LdapSettings.from_config(
        {"LDAP_URL": "ldap://127.0.0.1:1/", "LDAP_BASE_DN": SUFFIX}
    )

    with pytest.raises(InvalidCredentials) as failure:
        LdapDirectory(settings).authenticate("xword", password or "")

    assert failure.value.reason == "empty password"


@pytest.mark.parametrize("mode", ["search", "search-as-service"])
def test_duplicate_uid_fails_and_is_logged(fresh_slapd, mode, caplog):
    caplog.set_level(logging.ERROR)
    fresh_slapd.load_text(
        f"dn: ou=Contractors,{PEOPLE}\nobjectClass: organizationalUnit\n"
        "ou: Contractors\n\n"
        f"dn: uid=xword,ou=Contractors,{PEOPLE}\nobjectClass: inetOrgPerson\n"
        "uid: xword\ncn: Second Xword\nsn: Xword\nuserPassword: admin-pass\n"
    )
    backend = backend_for(fresh_slapd, mode)

    with pytest.raises(InvalidCredentials):
        backend.authenticate("xword", ACCOUNTS["xword"])

    assert "More than one directory entry" in caplog.text


@pytest.mark.parametrize(
    ("uid", "found"),
    [("xword", True), ("XWORD", False), ("nobody", False), ("*", False)],
)
def test_lookup_finds_only_exact_uid(backend, uid, found):
    person = backend.lookup(uid)

    assert (person is not None) is found
    if found:
        assert person.groups == {"xword-users", "xword-admins"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "LDAP_URL is empty"),
        ({"LDAP_URL": "ldap://127.0.0.1:1/"}, "LDAP_BASE_DN is empty"),
        ({"LDAP_URL": "ldap://x/", "LDAP_BASE_DN": "not a dn"}, "not a valid DN"),
        (
            {
                "LDAP_URL": "ldap://x/",
                "LDAP_BASE_DN": SUFFIX,
                "LDAP_BIND_DN_TEMPLATE": "uid=x",
            },
            "must contain {uid}",
        ),
        (
            {
                "LDAP_URL": "ldap://x/",
                "LDAP_BASE_DN": SUFFIX,
                "LDAP_USER_FILTER": "(uid=*)",
            },
            "must contain {uid}",
        ),
    ],
)
def test_invalid_settings_are_named(config, message):
    with pytest.raises(ValueError, match=message):
        LdapSettings.from_config(config)


def test_bases_default_from_base_dn():
    settings = LdapSettings.from_config(
        {"LDAP_URL": "ldap://a/ ldap://b/", "LDAP_BASE_DN": SUFFIX}
    )

    assert settings.urls == ("ldap://a/", "ldap://b/")
    assert settings.people_base == f"ou=People,{SUFFIX}"
    assert settings.groups_base == f"ou=Groups,{SUFFIX}"


def test_service_password_stays_out_of_repr(slapd):
    backend = backend_for(slapd, "search-as-service")

    assert slapd.root_password not in repr(backend.settings)


# -- The pages -------------------------------------------------------------------


def test_ldap_backend_replaces_ldif(app):
    with app.app_context():
        assert isinstance(directory(), LdapDirectory)


def test_admin_may_reach_delete_page(client):
    assert login(client, "xword").status_code == 302

    response = client.get("/setter-types/1/delete")

    assert response.status_code != 403
    assert "Crossword Hints" in logged_in_page(client)


def test_editor_edits_but_cannot_delete(client):
    assert login(client, "setter").status_code == 302

    assert client.get("/setter-types/new").status_code == 200
    assert client.get("/setter-types/1/delete").status_code == 403


def test_user_in_no_group_is_refused(client):
    response = login(client, "solver")

    assert response.status_code == 401
    assert FAILED_LOGIN in response.get_data(as_text=True)
    assert client.get("/setter-types/new").status_code == 302


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("nobody", "admin-pass"),
        ("xword", "wrong-pass"),
        ("solver", "reader-pass"),
        ("xword", "admin-pass "),
        ("xword", " admin-pass"),
        ("xword", "ADMIN-PASS"),
    ],
    ids=[
        "unknown-user",
        "wrong-password",
        "no-group",
        "trailing-space",
        "leading-space",
        "password-case",
    ],
)
def test_failed_logins_look_identical(client, username, password):
    response = login(client, username, password)

    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert FAILED_LOGIN in page
    assert "Logged in as" not in logged_in_page(client)


@pytest.mark.parametrize("password", ["", " ", "   ", "\t"])
def test_blank_password_is_rejected(client, password):
    response = login(client, "xword", password)

    assert response.status_code == 400
    assert "Logged in as" not in logged_in_page(client)


@pytest.mark.parametrize("username", INJECTIONS)
def test_injected_user_names_fail_cleanly(client, username):
    response = login(client, username, "admin-pass")

    assert response.status_code in (400, 401)
    assert "Logged in as" not in logged_in_page(client)


@pytest.mark.parametrize("typed", VARIANTS)
def test_user_name_variants_log_in_as_canonical(client, typed):
    response = login(client, typed, "admin-pass")

    assert response.status_code == 302
    page = logged_in_page(client)
    assert "(xword)" in page
    assert f"({typed})" not in page


@pytest.mark.parametrize("mode", list(BIND_MODES))
def test_user_filter_limits_who_logs_in(slapd, mode):
    only_xword = "(&(objectClass=inetOrgPerson)(uid={uid})(description=Crossword*))"
    backend = backend_for(slapd, mode, LDAP_USER_FILTER=only_xword)

    assert backend.authenticate("xword", ACCOUNTS["xword"]).uid == "xword"
    with pytest.raises(InvalidCredentials):
        backend.authenticate("setter", ACCOUNTS["setter"])


def test_wrong_service_password_is_unavailable(slapd, caplog):
    caplog.set_level(logging.ERROR)
    backend = backend_for(
        slapd, "search-as-service", LDAP_SERVICE_PASSWORD="not-the-password"
    )

    with pytest.raises(DirectoryUnavailable):
        backend.authenticate("xword", ACCOUNTS["xword"])

    assert "Invalid credentials" in caplog.text
    assert "not-the-password" not in caplog.text


def test_app_stops_on_invalid_ldap_settings(app_config, tmp_path):
    config = {**app_config, "LDAP_URL": "ldap://127.0.0.1:1/", "LDAP_BASE_DN": ""}

    with pytest.raises(SystemExit, match="Invalid LDAP settings: LDAP_BASE_DN"):
        create_app(config, instance_path=str(tmp_path / "instance"))


@pytest.mark.parametrize("mode", ["search", "search-as-service"])
def test_referrals_are_never_followed(fresh_slapd, mode):
    with socket.socket() as target:
        target.bind(("127.0.0.1", 0))
        target.listen(4)
        target.settimeout(0.5)
        port = target.getsockname()[1]
        fresh_slapd.load_text(
            f"dn: ou=Elsewhere,{PEOPLE}\nobjectClass: referral\n"
            "objectClass: extensibleObject\nou: Elsewhere\n"
            f"ref: ldap://127.0.0.1:{port}/ou=Elsewhere,{PEOPLE}\n"
        )
        backend = backend_for(fresh_slapd, mode)

        assert backend.authenticate("xword", ACCOUNTS["xword"]).uid == "xword"
        with pytest.raises(InvalidCredentials):
            backend.authenticate("nobody", "admin-pass")
        with pytest.raises(TimeoutError):
            target.accept()
