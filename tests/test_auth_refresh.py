"""Group changes in a real slapd reach sessions that are already logged in."""

from __future__ import annotations

import pytest

from conftest import login
from slapd_fixtures import GROUPS, PEOPLE, ldap_settings

REFRESH = {"short": 0, "default": 300}


@pytest.fixture
def refresh() -> int:
    return REFRESH["short"]


@pytest.fixture
def app_config(app_config, fresh_slapd, refresh):
    return {**app_config, **ldap_settings(fresh_slapd, LDAP_GROUP_REFRESH=refresh)}


def remove_member(server, group: str, uid: str) -> None:
    server.load_text(
        f"dn: cn={group},{GROUPS}\nchangetype: modify\n"
        f"delete: memberUid\nmemberUid: {uid}\n"
    )


def add_member(server, group: str, uid: str) -> None:
    server.load_text(
        f"dn: cn={group},{GROUPS}\nchangetype: modify\n"
        f"add: memberUid\nmemberUid: {uid}\n"
    )


def test_removed_editor_is_logged_out(client, fresh_slapd):
    assert login(client, "setter").status_code == 302
    assert client.get("/setter-types/new").status_code == 200

    remove_member(fresh_slapd, "xword-users", "setter")

    response = client.get("/setter-types/new")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "no longer has access" in page
    assert "Logged in as" not in page


def test_removed_admin_keeps_editing(client, fresh_slapd):
    assert login(client, "xword").status_code == 302
    assert client.get("/setter-types/1/delete").status_code != 403

    remove_member(fresh_slapd, "xword-admins", "xword")

    assert client.get("/setter-types/1/delete").status_code == 403
    assert client.get("/setter-types/new").status_code == 200


def test_added_admin_gains_delete(client, fresh_slapd):
    assert login(client, "setter").status_code == 302
    assert client.get("/setter-types/1/delete").status_code == 403

    add_member(fresh_slapd, "xword-admins", "setter")

    assert client.get("/setter-types/1/delete").status_code != 403


def test_deleted_person_is_logged_out(client, fresh_slapd):
    assert login(client, "setter").status_code == 302

    fresh_slapd.load_text(f"dn: uid=setter,{PEOPLE}\nchangetype: delete\n")

    assert client.get("/setter-types/new").status_code == 302
    assert "Logged in as" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("refresh", [REFRESH["default"]])
def test_groups_kept_until_refresh_interval(client, fresh_slapd):
    assert login(client, "setter").status_code == 302

    remove_member(fresh_slapd, "xword-users", "setter")

    assert client.get("/setter-types/new").status_code == 200
