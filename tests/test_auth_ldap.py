"""Login against a real slapd loaded with the shared directory.

Every test runs twice: once binding through ``LDAP_BIND_DN_TEMPLATE`` and
once searching for the person first, because the two paths escape user
names differently (RFC 4514 for DNs, RFC 4515 for filters).
"""

from __future__ import annotations

import pytest

from conftest import ACCOUNTS, login
from crossword_hints.auth import directory
from crossword_hints.auth.directory import InvalidCredentials
from crossword_hints.auth.ldap_directory import LdapDirectory, LdapSettings
from crossword_hints.auth.views import FAILED_LOGIN
from slapd_fixtures import PEOPLE, SUFFIX, ldap_settings

BIND_MODES = {
    "template": {"LDAP_BIND_DN_TEMPLATE": f"uid={{uid}},{PEOPLE}"},
    "search": {},
    "search-as-service": {
        "LDAP_SERVICE_DN": f"cn=Manager,{SUFFIX}",
        "LDAP_SERVICE_PASSWORD": None,
    },
}


@pytest.fixture(params=list(BIND_MODES))
def bind_mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app_config(app_config, slapd, bind_mode):
    mode = dict(BIND_MODES[bind_mode])
    if "LDAP_SERVICE_PASSWORD" in mode:
        mode["LDAP_SERVICE_PASSWORD"] = slapd.root_password
    return {**app_config, **ldap_settings(slapd, **mode)}


def logged_in_page(client) -> str:
    return client.get("/").get_data(as_text=True)


def test_ldap_backend_replaces_ldif(app):
    with app.app_context():
        assert isinstance(directory(), LdapDirectory)


@pytest.mark.parametrize(
    ("username", "display_name", "is_editor", "is_admin"),
    [
        ("xword", "Crossword Hints", True, True),
        ("setter", "Sam Setter", True, False),
    ],
)
def test_accounts_get_their_roles(app, username, display_name, is_editor, is_admin):
    with app.app_context():
        person = directory().authenticate(username, ACCOUNTS[username])

    assert person.uid == username
    assert person.display_name == display_name
    assert ("xword-users" in person.groups) is is_editor
    assert ("xword-admins" in person.groups) is is_admin


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


def test_empty_password_never_binds():
    # The only server is a closed port: had the backend tried to bind, it
    # would raise DirectoryUnavailable instead of InvalidCredentials.
    settings = LdapSettings.from_config(
        {"LDAP_URL": "ldap://127.0.0.1:1/", "LDAP_BASE_DN": SUFFIX}
    )

    with pytest.raises(InvalidCredentials) as failure:
        LdapDirectory(settings).authenticate("xword", "")

    assert failure.value.reason == "empty password"


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


@pytest.mark.parametrize("username", INJECTIONS)
def test_injected_user_names_fail_cleanly(client, username):
    response = login(client, username, "admin-pass")

    assert response.status_code in (400, 401)
    assert "Logged in as" not in logged_in_page(client)


@pytest.mark.parametrize("username", INJECTIONS)
def test_injected_user_names_match_nobody(app_config, username):
    backend = LdapDirectory(LdapSettings.from_config(app_config))

    for password in ACCOUNTS.values():
        with pytest.raises(InvalidCredentials):
            backend.authenticate(username, password)


@pytest.mark.parametrize("typed", ["XWORD", "Xword", " xword ", "xword ", "  XWord"])
def test_user_name_variants_log_in_as_canonical(client, typed):
    response = login(client, typed, "admin-pass")

    assert response.status_code == 302
    page = logged_in_page(client)
    assert "(xword)" in page
    assert "(XWORD)" not in page
    assert f"({typed})" not in page or typed == "xword"


@pytest.mark.parametrize("typed", ["XWORD", " xword "])
def test_user_name_variants_keep_the_groups(app, typed):
    with app.app_context():
        canonical = directory().authenticate("xword", "admin-pass")
        variant = directory().authenticate(typed.strip(), "admin-pass")

    assert variant == canonical
