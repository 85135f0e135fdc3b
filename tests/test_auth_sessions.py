"""Sessions, redirects, signals and secrets around login, against a real slapd."""

from __future__ import annotations

import logging

import pytest
from flask_login import user_logged_in, user_logged_out

from conftest import ACCOUNTS, csrf_token
from crossword_hints import db
from crossword_hints.auth.signals import login_failed
from crossword_hints.auth.views import FAILED_LOGIN, MAX_LOGGED_USERNAME
from slapd_fixtures import ldap_settings


@pytest.fixture
def app_config(app_config, slapd):
    return {**app_config, **ldap_settings(slapd)}


def post_login(client, username="setter", password=None, next_url=None, query=""):
    data = {
        "username": username,
        "password": ACCOUNTS.get(username, "x") if password is None else password,
        "csrf_token": csrf_token(client),
    }
    if next_url is not None:
        data["next"] = next_url
    return client.post(f"/login{query}", data=data)


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def logout(client):
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})


# -- Open redirect -------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.example",
    "///evil.example",
    "https:evil.example",
    "https://evil.example",
    "http://user@evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "/logout",
    "/login",
    "/login?next=//evil.example",
]


@pytest.mark.parametrize("next_url", HOSTILE_NEXT)
def test_hostile_next_lands_on_front_page(client, next_url):
    response = post_login(client, next_url=next_url)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "query",
    [
        "?next=%09//evil.example",
        "?next=%2F%2Fevil.example",
        "?next=%5C%5Cevil.example",
        "?next=/%5Cevil.example",
        "?next=%0A//evil.example",
    ],
)
def test_url_encoded_next_lands_on_front_page(client, query):
    response = post_login(client, query=query)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_encoded_next_in_form_body_is_refused(client):
    token = csrf_token(client)
    body = (
        f"username=setter&password=editor-pass&csrf_token={token}"
        "&next=%09//evil.example"
    )

    response = client.post(
        "/login", data=body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "next_url", ["/setter-types/", "/crossword-solutions/?page=2", "/cue-words/5/edit"]
)
def test_local_next_is_followed(client, next_url):
    response = post_login(client, next_url=next_url)

    assert response.status_code == 302
    assert response.headers["Location"] == next_url


def test_login_form_drops_hostile_next(client):
    page = client.get("/login?next=//evil.example").get_data(as_text=True)

    assert "evil.example" not in page


# -- Sessions ------------------------------------------------------------------


def test_login_renews_the_session_cookie(client):
    csrf_token(client)
    before = session_cookie(client)
    assert before is not None

    assert post_login(client).status_code == 302

    after = session_cookie(client)
    assert after is not None
    assert after != before


def test_cookie_from_before_login_stays_anonymous(app, client):
    csrf_token(client)
    planted = session_cookie(client)
    assert post_login(client).status_code == 302

    other = app.test_client()
    other.set_cookie("session", planted)
    page = other.get("/").get_data(as_text=True)

    assert "Logged in as" not in page


def test_logout_renews_the_session_cookie(client):
    assert post_login(client).status_code == 302
    logged_in = session_cookie(client)

    response = logout(client)

    assert response.status_code == 302
    assert session_cookie(client) != logged_in
    assert "Logged in as" not in client.get("/").get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client):
    response = client.post(
        "/login", data={"username": "setter", "password": "editor-pass"}
    )

    assert response.status_code == 400
    assert "Logged in as" not in client.get("/").get_data(as_text=True)


def test_logout_without_csrf_token_is_refused(client):
    assert post_login(client).status_code == 302

    response = client.post("/logout")

    assert response.status_code == 400
    assert "Logged in as" in client.get("/").get_data(as_text=True)


def test_logout_by_get_only_asks(client):
    assert post_login(client).status_code == 302

    response = client.get("/logout")

    assert response.status_code == 200
    assert "Logged in as" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("method", ["get", "post"])
def test_logout_while_logged_out_is_quiet(client, method):
    if method == "post":
        response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    else:
        response = client.get("/logout")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Please log in" not in page
    assert "logged out" not in page


def test_login_page_is_a_post_form(client):
    page = client.get("/login").get_data(as_text=True)

    assert 'method="post"' in page
    assert 'name="csrf_token"' in page
    assert client.put("/login").status_code == 405


# -- Signals -------------------------------------------------------------------


@pytest.fixture
def received(app):
    events = []

    def on_login(sender, user, **extra):
        events.append(("login", user.uid, extra))

    def on_logout(sender, user, **extra):
        events.append(("logout", user.uid, extra))

    def on_failure(sender, **extra):
        events.append(("login_failed", extra["username"], extra))

    user_logged_in.connect(on_login, app)
    user_logged_out.connect(on_logout, app)
    login_failed.connect(on_failure, app)
    yield events
    user_logged_in.disconnect(on_login, app)
    user_logged_out.disconnect(on_logout, app)
    login_failed.disconnect(on_failure, app)


def test_login_and_logout_send_signals(client, received):
    assert post_login(client).status_code == 302
    assert logout(client).status_code == 302

    assert [(kind, uid) for kind, uid, _extra in received] == [
        ("login", "setter"),
        ("logout", "setter"),
    ]


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("nobody", "admin-pass", "unknown user"),
        ("xword", "wrong-pass", "unknown user or wrong password"),
        ("solver", "reader-pass", "in no allowed group"),
        ("*)(uid=*", "admin-pass", "unknown user"),
    ],
)
def test_failed_login_sends_signal(client, received, username, password, reason):
    assert post_login(client, username, password).status_code == 401

    assert len(received) == 1
    kind, typed, extra = received[0]
    assert kind == "login_failed"
    assert typed == username
    assert extra["reason"] == reason
    assert extra["remote_addr"] == "127.0.0.1"
    assert password not in repr(extra)


def test_failed_login_signal_truncates_name(client, received):
    assert post_login(client, "n" * 200, "wrong-pass").status_code == 401

    assert received[0][1] == "n" * MAX_LOGGED_USERNAME


# -- Secrets never leak ----------------------------------------------------------


def database_text() -> str:
    database = db.database.obj
    rows = []
    for table in database.get_tables():
        cursor = database.execute_sql(f'SELECT * FROM "{table}"')
        rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def test_passwords_never_reach_logs_pages_or_database(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    attempts = [
        ("xword", "admin-pass"),
        ("xword", "Wrong-Secret-1"),
        ("nobody", "Unknown-Secret-2"),
        ("solver", "reader-pass"),
        ("setter", "editor-pass"),
    ]
    pages = []
    for username, password in attempts:
        response = post_login(client, username, password)
        pages.append(response.get_data(as_text=True))
        pages.append(client.get("/").get_data(as_text=True))
    cookie = session_cookie(client)
    logout(client)

    with app.app_context():
        stored = database_text()
    for _username, password in attempts:
        assert password not in caplog.text
        assert all(password not in page for page in pages)
        assert password not in stored
    assert cookie and cookie not in caplog.text


def test_failed_login_message_is_generic(client):
    response = post_login(client, "xword", "wrong-pass")
    page = response.get_data(as_text=True)

    assert FAILED_LOGIN in page
    assert "wrong-pass" not in page
    assert "unknown user" not in page.lower()
