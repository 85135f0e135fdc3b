"""Brute-force limits on the login form, in memory and in a real Redis."""

from __future__ import annotations

import logging
import uuid

import pytest

from conftest import ACCOUNTS, csrf_token
from crossword_hints.auth.signals import login_failed
from crossword_hints.auth.views import FAILED_LOGIN
from slapd_fixtures import ldap_settings

STORAGES = {
    "memory": "memory://",
    "redis": "redis://127.0.0.1:6379",
}

TOO_MANY = "Too many failed logins"


@pytest.fixture(params=list(STORAGES))
def storage(request: pytest.FixtureRequest) -> str:
    return STORAGES[request.param]


@pytest.fixture
def app_config(app_config, slapd, storage):
    return {
        **app_config,
        **ldap_settings(slapd),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": storage,
        # A prefix of its own keeps this test's counts apart from every
        # other test's in the shared Redis.
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "LOGIN_LIMIT_PER_USER": "3 per minute; 10 per hour",
        "LOGIN_LIMIT_PER_ADDRESS": "8 per minute",
    }


def attempt(client, username, password=None, address="127.0.0.1"):
    client.environ_base["REMOTE_ADDR"] = address
    return client.post(
        "/login",
        data={
            "username": username,
            "password": ACCOUNTS.get(username, "x") if password is None else password,
            "csrf_token": csrf_token(client),
        },
    )


def fail(client, username, times, address="127.0.0.1"):
    for _ in range(times):
        response = attempt(client, username, "wrong-pass", address)
        assert response.status_code == 401


@pytest.mark.parametrize("username", ["xword", "nobody", "*)(uid=*"])
def test_repeated_failures_get_429(client, username):
    fail(client, username, 3)

    response = attempt(client, username, "wrong-pass")

    assert response.status_code == 429
    assert TOO_MANY in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def test_limited_user_is_refused_with_right_password(client):
    fail(client, "xword", 3)

    response = attempt(client, "xword")

    assert response.status_code == 429
    assert "Logged in as" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "variants", [["xword", "XWORD", " Xword "], ["Nobody", "NOBODY", "nobody"]]
)
def test_user_name_variants_count_together(client, variants):
    for typed in variants:
        fail(client, typed, 1)

    assert attempt(client, variants[0].strip().lower(), "wrong-pass").status_code == 429


def test_other_user_names_stay_allowed(client):
    fail(client, "xword", 3)

    assert attempt(client, "setter").status_code == 302


def test_success_resets_user_count(client):
    fail(client, "setter", 2)
    assert attempt(client, "setter").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})

    fail(client, "setter", 2)

    response = attempt(client, "setter", "wrong-pass")
    assert response.status_code == 401
    assert FAILED_LOGIN in response.get_data(as_text=True)


def test_one_address_is_limited_across_names(client):
    for number in range(8):
        fail(client, f"guess{number}", 1)

    assert attempt(client, "guess-next", "wrong-pass").status_code == 429
    assert attempt(client, "setter", address="127.0.0.2").status_code == 302


def test_throttled_attempt_sends_signal(app, client):
    events = []

    def on_failure(sender, **extra):
        events.append(extra["reason"])

    login_failed.connect(on_failure, app)
    try:
        fail(client, "xword", 3)
        attempt(client, "xword", "wrong-pass")
    finally:
        login_failed.disconnect(on_failure, app)

    assert events[-1] == "too many failures"
    assert events.count("unknown user or wrong password") == 3


@pytest.mark.parametrize("storage", ["redis://127.0.0.1:1"], indirect=False)
def test_broken_storage_lets_logins_through(client, caplog):
    caplog.set_level(logging.WARNING)

    assert attempt(client, "xword", "wrong-pass").status_code == 401
    assert attempt(client, "setter").status_code == 302
    assert "rate-limit storage failed" in caplog.text


def test_wrong_current_passwords_get_429(client):
    assert attempt(client, "setter").status_code == 302
    statuses = []
    for _ in range(4):
        response = client.post(
            "/password",
            data={
                "current_password": "wrong-pass",
                "new_password": "a-new-Editor-pass-7",
                "confirm_password": "a-new-Editor-pass-7",
                "csrf_token": csrf_token(client, "/password"),
            },
        )
        statuses.append(response.status_code)

    assert statuses == [400, 400, 400, 429]
    assert TOO_MANY in response.get_data(as_text=True)
