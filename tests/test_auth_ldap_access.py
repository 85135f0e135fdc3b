"""Login against a slapd whose access rules hide names from anonymous users.

Anonymous users may search by ``uid`` but not read ``uid``, ``cn`` or
``displayName``, so the search that finds a person returns the entry
without its names. The login must then read them bound as the person.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ldap
import pytest

from conftest import ACCOUNTS
from crossword_hints.auth.directory import InvalidCredentials
from crossword_hints.auth.ldap_directory import LdapDirectory, LdapSettings
from crossword_hints.auth.slapd import Slapd
from slapd_fixtures import PEOPLE, SHARED_LDIF, SUFFIX, ldap_settings

HIDDEN_NAMES = (
    "access to attrs=userPassword by self write by anonymous auth by * none",
    "access to attrs=uid,cn,displayName by users read by anonymous search",
    "access to * by * read",
)


@pytest.fixture(scope="module")
def hiding_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    workdir = tmp_path_factory.mktemp("hiding-slapd")
    with Slapd(
        SUFFIX, SHARED_LDIF, access=HIDDEN_NAMES, workdir=Path(workdir)
    ) as server:
        yield server


@pytest.fixture(params=["search", "template"])
def backend(request: pytest.FixtureRequest, hiding_slapd: Slapd) -> LdapDirectory:
    overrides = {}
    if request.param == "template":
        overrides["LDAP_BIND_DN_TEMPLATE"] = f"uid={{uid}},{PEOPLE}"
    config = ldap_settings(hiding_slapd, **overrides)
    return LdapDirectory(LdapSettings.from_config(config))


def test_anonymous_search_hides_names(hiding_slapd):
    conn = ldap.initialize(hiding_slapd.url)
    try:
        results = conn.search_s(
            PEOPLE, ldap.SCOPE_SUBTREE, "(uid=xword)", ["uid", "cn", "displayName"]
        )
    finally:
        conn.unbind_s()

    assert [dn for dn, _attrs in results] == [f"uid=xword,{PEOPLE}"]
    assert results[0][1] == {}


@pytest.mark.parametrize("typed", ["xword", "XWORD"])
def test_hidden_names_are_read_as_person(backend, typed):
    person = backend.authenticate(typed, ACCOUNTS["xword"])

    assert person.uid == "xword"
    assert person.display_name == "Crossword Hints"
    assert person.groups == {"xword-users", "xword-admins"}


@pytest.mark.parametrize(
    ("username", "password"),
    [("xword", "wrong-pass"), ("nobody", "admin-pass"), ("xw*", "admin-pass")],
)
def test_hidden_names_keep_failures_failing(backend, username, password):
    with pytest.raises(InvalidCredentials):
        backend.authenticate(username, password)
