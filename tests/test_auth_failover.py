"""Directory servers that are down, silent or untrusted; all on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from conftest import ACCOUNTS, csrf_token, login
from crossword_hints.auth.slapd import free_port, make_certificates
from slapd_fixtures import ldap_settings


class SilentServer:
    """A TCP listener on 127.0.0.1 that accepts connections and never responds."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}/"

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _address = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.running = False
        self.thread.join()
        for conn in self.connections:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def closed_url() -> str:
    return f"ldap://127.0.0.1:{free_port()}/"


def test_second_server_takes_over(make_app, slapd, caplog):
    caplog.set_level(logging.WARNING)
    app = make_app(**ldap_settings(slapd, LDAP_URL=f"{closed_url()} {slapd.url}"))
    client = app.test_client()

    response = login(client, "xword")

    assert response.status_code == 302
    assert "did not respond" in caplog.text


def test_silent_server_gives_503(make_app, slapd, silent_server, caplog):
    caplog.set_level(logging.WARNING)
    app = make_app(
        **ldap_settings(slapd, LDAP_URL=silent_server.url, LDAP_TIMEOUT=1),
    )
    client = app.test_client()

    response = login(client, "xword")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "Directory unavailable" in response.get_data(as_text=True)
    assert "Directory unavailable at login" in caplog.text
    assert silent_server.connections


def test_silent_then_real_server_logs_in(make_app, slapd, silent_server):
    app = make_app(
        **ldap_settings(
            slapd, LDAP_URL=f"{silent_server.url} {slapd.url}", LDAP_TIMEOUT=1
        ),
    )

    assert login(app.test_client(), "setter").status_code == 302


def test_all_servers_down_gives_503(make_app, slapd):
    app = make_app(
        **ldap_settings(slapd, LDAP_URL=f"{closed_url()} {closed_url()}"),
    )

    response = login(app.test_client(), "xword")

    assert response.status_code == 503
    assert "Directory unavailable" in response.get_data(as_text=True)


def test_logged_in_users_browse_while_directory_down(make_app, fresh_slapd):
    app = make_app(**ldap_settings(fresh_slapd, LDAP_GROUP_REFRESH=0))
    client = app.test_client()
    assert login(client, "setter").status_code == 302

    fresh_slapd.stop()

    for _ in range(2):
        page = client.get("/")
        assert page.status_code == 200
        assert "Logged in as" in page.get_data(as_text=True)
    assert client.get("/setter-types/new").status_code == 200


# -- TLS -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def foreign_ca(tmp_path_factory) -> str:
    """A CA that did not sign the test server's certificate."""
    return str(make_certificates(tmp_path_factory.mktemp("foreign"), "foreign")["ca"])


def tls_cases(slapd, foreign_ca):
    ca = str(slapd.ca_file)
    return {
        "starttls": {"LDAP_URL": slapd.url, "LDAP_START_TLS": True, "LDAP_CA_FILE": ca},
        "ldaps": {"LDAP_URL": slapd.ldaps_url, "LDAP_CA_FILE": ca},
        "starttls-foreign-ca": {
            "LDAP_URL": slapd.url,
            "LDAP_START_TLS": True,
            "LDAP_CA_FILE": foreign_ca,
        },
        "ldaps-foreign-ca": {"LDAP_URL": slapd.ldaps_url, "LDAP_CA_FILE": foreign_ca},
        "ldaps-system-ca": {"LDAP_URL": slapd.ldaps_url},
    }


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("starttls", 302),
        ("ldaps", 302),
        ("starttls-foreign-ca", 503),
        ("ldaps-foreign-ca", 503),
        ("ldaps-system-ca", 503),
    ],
)
def test_tls_certificate_is_checked(make_app, slapd, foreign_ca, case, status, caplog):
    caplog.set_level(logging.WARNING)
    settings = ldap_settings(slapd, **tls_cases(slapd, foreign_ca)[case])
    app = make_app(**settings)

    response = login(app.test_client(), "xword")

    assert response.status_code == status
    if status == 503:
        assert "Directory unavailable" in response.get_data(as_text=True)
        assert "did not respond" in caplog.text


@pytest.mark.parametrize("tls", ["starttls", "ldaps"])
def test_tls_check_off_is_explicit_and_logged(make_app, slapd, foreign_ca, tls, caplog):
    caplog.set_level(logging.WARNING)
    settings = tls_cases(slapd, foreign_ca)[f"{tls}-foreign-ca"]
    app = make_app(**ldap_settings(slapd, **settings, LDAP_TLS_VERIFY=False))

    assert "LDAP_TLS_VERIFY is off" in caplog.text
    assert login(app.test_client(), "xword").status_code == 302


def test_unavailable_page_keeps_password_out(make_app, silent_server):
    app = make_app(
        LDAP_URL=silent_server.url,
        LDAP_BASE_DN="dc=my-domain,dc=com",
        LDAP_TIMEOUT=1,
    )
    client = app.test_client()
    token = csrf_token(client)

    response = client.post(
        "/login",
        data={"username": "xword", "password": ACCOUNTS["xword"], "csrf_token": token},
    )

    assert response.status_code == 503
    assert ACCOUNTS["xword"] not in response.get_data(as_text=True)
