"""Who may browse, add, edit and delete in the catalogue sections."""

from __future__ import annotations

import pytest

from catalogue_samples import PREFIXES, add_samples
from conftest import csrf_token, login
from crossword_hints.catalogue.models import SetterType

#: (account, action) -> expected status, where account None is an anonymous visitor.
#: Anonymous visitors are sent to the login page (302), editors may add
#: and edit but not delete (403), admins may do everything.
EXPECTED = {
    (None, "index"): 200,
    (None, "detail"): 200,
    (None, "new"): 302,
    (None, "edit"): 302,
    (None, "delete"): 302,
    ("setter", "index"): 200,
    ("setter", "detail"): 200,
    ("setter", "new"): 200,
    ("setter", "edit"): 200,
    ("setter", "delete"): 403,
    ("xword", "index"): 200,
    ("xword", "detail"): 200,
    ("xword", "new"): 200,
    ("xword", "edit"): 200,
    ("xword", "delete"): 200,
}


@pytest.fixture
def samples(app):
    return add_samples(app)


def action_path(section: str, action: str, row_id: int) -> str:
    prefix = PREFIXES[section]
    return {
        "index": f"{prefix}/",
        "detail": f"{prefix}/{row_id}",
        "new": f"{prefix}/new",
        "edit": f"{prefix}/{row_id}/edit",
        "delete": f"{prefix}/{row_id}/delete",
    }[action]


@pytest.mark.parametrize("section", list(PREFIXES))
@pytest.mark.parametrize(("account", "action"), list(EXPECTED))
def test_get_status_per_account(client, samples, section, account, action):
    if account:
        assert login(client, account).status_code == 302
    path = action_path(section, action, samples.id_in(section))

    response = client.get(path)

    assert response.status_code == EXPECTED[account, action]
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("section", list(PREFIXES))
@pytest.mark.parametrize(
    ("account", "status"), [(None, 302), ("setter", 403), ("xword", 302)]
)
def test_post_delete_per_account(app, client, samples, section, account, status):
    if account:
        assert login(client, account).status_code == 302
    path = action_path(section, "delete", samples.id_in(section))
    token = csrf_token(client, "/login" if account is None else "/")

    response = client.post(path, data={"csrf_token": token})

    assert response.status_code == status
    still_there = client.get(action_path(section, "detail", samples.id_in(section)))
    assert still_there.status_code == (404 if account == "xword" else 200)


def test_anonymous_add_saves_nothing(app, client, samples):
    token = csrf_token(client, "/login")
    response = client.post(
        "/setter-types/new", data={"name": "Prize", "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    with app.app_context():
        assert not SetterType.select().where(SetterType.name == "Prize").exists()


def test_anonymous_edit_saves_nothing(app, client, samples):
    token = csrf_token(client, "/login")
    response = client.post(
        f"/setter-types/{samples.guest}/edit",
        data={"name": "Renamed", "version": "1", "csrf_token": token},
    )

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    with app.app_context():
        assert SetterType.get_by_id(samples.guest).name == "Guest"


def test_login_returns_to_edit_page(client, samples):
    path = f"/setter-types/{samples.guest}/edit"
    redirect = client.get(path).headers["Location"]
    token = csrf_token(client, redirect)

    response = client.post(
        redirect,
        data={"username": "setter", "password": "editor-pass", "csrf_token": token},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == path
