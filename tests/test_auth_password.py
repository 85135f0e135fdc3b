"""Changing one's own password through the LDAP Password Modify operation."""

from __future__ import annotations

import logging

import ldap
import pytest

from conftest import ACCOUNTS, csrf_token, login
from crossword_hints.auth.signals import password_changed
from slapd_fixtures import PEOPLE, ldap_settings

NEW_PASSWORD = "a-new-Editor-pass-7"


@pytest.fixture
def app_config(app_config, fresh_slapd):
    return {**app_config, **ldap_settings(fresh_slapd)}


def change(client, current, new, confirm=None):
    return client.post(
        "/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
            "csrf_token": csrf_token(client, "/password"),
        },
    )


def can_bind(server, uid: str, password: str) -> bool:
    conn = ldap.initialize(server.url)
    try:
        conn.simple_bind_s(f"uid={uid},{PEOPLE}", password)
        return True
    except ldap.INVALID_CREDENTIALS:
        return False
    finally:
        conn.unbind_s()


@pytest.fixture
def changed(app):
    events = []

    def on_change(sender, **extra):
        events.append(extra)

    password_changed.connect(on_change, app)
    yield events
    password_changed.disconnect(on_change, app)


def test_password_change_reaches_directory(client, fresh_slapd, changed, caplog):
    caplog.set_level(logging.DEBUG)
    assert login(client, "setter").status_code == 302

    response = change(client, ACCOUNTS["setter"], NEW_PASSWORD)

    assert response.status_code == 302
    assert "password has been changed" in client.get("/").get_data(as_text=True)
    assert can_bind(fresh_slapd, "setter", NEW_PASSWORD)
    assert not can_bind(fresh_slapd, "setter", ACCOUNTS["setter"])
    assert changed == [{"uid": "setter"}]
    assert NEW_PASSWORD not in caplog.text
    assert ACCOUNTS["setter"] not in caplog.text


def test_new_password_works_for_login(app, client, fresh_slapd):
    assert login(client, "setter").status_code == 302
    assert change(client, ACCOUNTS["setter"], NEW_PASSWORD).status_code == 302

    other = app.test_client()
    assert login(other, "setter", ACCOUNTS["setter"]).status_code == 401
    assert login(other, "setter", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong-pass", NEW_PASSWORD, None, "The current password is wrong."),
        (
            ACCOUNTS["setter"],
            NEW_PASSWORD,
            NEW_PASSWORD + "x",
            "The two new passwords differ.",
        ),
        (ACCOUNTS["setter"], "short", None, "too short"),
        (ACCOUNTS["setter"], ACCOUNTS["setter"], None, "used before"),
        ("", NEW_PASSWORD, None, "This field is required."),
        (ACCOUNTS["setter"], "", "", "This field is required."),
    ],
    ids=["wrong-current", "mismatch", "too-short", "unchanged", "no-current", "no-new"],
)
def test_rejected_change_says_why(client, fresh_slapd, current, new, confirm, message):
    assert login(client, "setter").status_code == 302

    response = change(client, current, new, confirm)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert can_bind(fresh_slapd, "setter", ACCOUNTS["setter"])


def test_password_in_history_is_rejected(client, fresh_slapd):
    assert login(client, "setter").status_code == 302
    assert change(client, ACCOUNTS["setter"], NEW_PASSWORD).status_code == 302

    response = change(client, NEW_PASSWORD, ACCOUNTS["setter"])

    assert response.status_code == 400
    assert "used before" in response.get_data(as_text=True)


def test_password_page_needs_login(client):
    response = client.get("/password")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_password_change_without_csrf_is_refused(client, fresh_slapd):
    assert login(client, "setter").status_code == 302

    response = client.post(
        "/password",
        data={
            "current_password": ACCOUNTS["setter"],
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 400
    assert can_bind(fresh_slapd, "setter", ACCOUNTS["setter"])
