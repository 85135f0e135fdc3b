"""The built-in read-only directory that ``make run`` and most tests use."""

from __future__ import annotations

import pytest

from conftest import ACCOUNTS, csrf_token, login
from crossword_hints.auth import directory
from crossword_hints.auth.directory import InvalidCredentials
from crossword_hints.auth.ldif import DEMO_FILES, LdifDirectory


def test_password_change_is_read_only(client):
    assert login(client, "setter").status_code == 302

    response = client.post(
        "/password",
        data={
            "current_password": ACCOUNTS["setter"],
            "new_password": "another-pass-9",
            "confirm_password": "another-pass-9",
            "csrf_token": csrf_token(client, "/password"),
        },
    )

    assert response.status_code == 400
    assert "read-only" in response.get_data(as_text=True)
    assert login(client.application.test_client(), "setter").status_code == 302


@pytest.mark.parametrize("typed", ["XWORD", "Xword", " xword "])
def test_user_name_case_logs_in_as_canonical(client, typed):
    assert login(client, typed, ACCOUNTS["xword"]).status_code == 302

    page = client.get("/").get_data(as_text=True)
    assert "(xword)" in page


@pytest.mark.parametrize("username", ["*", "xword\n", "xword\x00", "x" * 300])
def test_odd_user_names_are_refused(app, username):
    with app.app_context(), pytest.raises(InvalidCredentials):
        directory().authenticate(username, ACCOUNTS["xword"])


@pytest.mark.parametrize(("uid", "password"), list(ACCOUNTS.items()))
def test_demo_directory_has_the_accounts(uid, password):
    person = LdifDirectory(DEMO_FILES).authenticate(uid, password)

    assert person.uid == uid
