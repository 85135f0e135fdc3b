"""The directory commands and scripts/dev-slapd, checked against real slapd."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import ldap
import pytest

from conftest import login
from crossword_hints.auth.slapd import Slapd, SlapdError, process_alive
from servers import BIN, clean_environment
from slapd_fixtures import PEOPLE, ldap_settings

ROOT = Path(__file__).resolve().parents[1]
DEV_SLAPD = ROOT / "scripts" / "dev-slapd"


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_hash_password_is_accepted_by_slapd(runner, fresh_slapd):
    result = runner.invoke(
        args=["directory", "hash-password"], input="Pa55 word:é\nPa55 word:é\n"
    )

    assert result.exit_code == 0
    hashed = last_line(result.stdout)
    assert hashed.startswith("{SSHA}")
    assert "Pa55" not in result.stdout

    fresh_slapd.load_text(
        f"dn: uid=newcomer,{PEOPLE}\nobjectClass: inetOrgPerson\n"
        f"uid: newcomer\ncn: New Comer\nsn: Comer\nuserPassword: {hashed}\n"
    )
    conn = ldap.initialize(fresh_slapd.url)
    conn.simple_bind_s(f"uid=newcomer,{PEOPLE}", "Pa55 word:é")
    assert conn.whoami_s() == f"dn:uid=newcomer,{PEOPLE}"
    conn.unbind_s()


def test_hash_password_needs_matching_confirmation(runner):
    result = runner.invoke(args=["directory", "hash-password"], input="one\ntwo\n")

    assert result.exit_code != 0
    assert "{SSHA}" not in result.output


def test_hash_password_differs_each_time(runner):
    first = runner.invoke(args=["directory", "hash-password"], input="pw\npw\n")
    second = runner.invoke(args=["directory", "hash-password"], input="pw\npw\n")

    assert last_line(first.stdout) != last_line(second.stdout)


def test_hash_password_rejects_non_utf8_bytes(tmp_path):
    result = subprocess.run(
        [str(BIN / "crossword-hints"), "directory", "hash-password"],
        input=b"\xff\xfe\n\xff\xfe\n",
        env=clean_environment(tmp_path),
        capture_output=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    assert b"Error: the password is not UTF-8 text" in result.stderr
    assert b"{SSHA}" not in result.stdout


def test_ldif_builds_a_working_directory(runner, make_app, tmp_path):
    result = runner.invoke(
        args=[
            "directory",
            "ldif",
            "--suffix",
            "dc=example,dc=org",
            "--admin",
            "alice",
            "--admin-name",
            "Alice Adminsson",
        ],
        input="alice-pass-1\nalice-pass-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "alice-pass-1" not in result.stdout

    with Slapd(
        "dc=example,dc=org", password_policy=False, workdir=tmp_path / "slapd"
    ) as server:
        server.load_text(result.stdout)
        client = make_app(**ldap_settings(server)).test_client()

        assert login(client, "alice", "alice-pass-1").status_code == 302
        page = client.get("/").get_data(as_text=True)
        assert "Alice Adminsson" in page
        assert client.get("/setter-types/1/delete").status_code != 403


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--suffix", "not a dn", "--admin", "alice"], "is not a DN"),
        (["--suffix", "cn=x,dc=org", "--admin", "alice"], "dc=, o= or ou="),
        (["--suffix", "dc=example,dc=org", "--admin", "Alice Smith"], "lower-case"),
        (["--suffix", "dc=example,dc=org", "--admin", "a,ou=x"], "lower-case"),
        (["--admin", "alice"], "Missing option"),
    ],
)
def test_ldif_rejects_bad_options(runner, arguments, message):
    result = runner.invoke(args=["directory", "ldif", *arguments], input="p\np\n")

    assert result.exit_code == 2
    assert message in result.output


def test_ldif_takes_a_ready_hash(runner):
    result = runner.invoke(
        args=[
            "directory",
            "ldif",
            "--suffix",
            "o=Puzzles",
            "--admin",
            "bob",
            "--password-hash",
            "{SSHA}abc",
        ]
    )

    assert result.exit_code == 0
    assert "dn: o=Puzzles" in result.stdout
    assert "userPassword: {SSHA}abc" in result.stdout
    assert "memberUid: bob" in result.stdout


def test_dev_slapd_starts_and_stops():
    started = subprocess.run(
        [str(DEV_SLAPD), "start"], capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0, started.stderr
    pid = int(re.search(r"pid (\d+)", started.stdout).group(1))
    url = re.search(r"LDAP_URL=(\S+)", started.stdout).group(1)
    workdir = Path(re.search(r"data in (\S+)", started.stdout).group(1))

    try:
        assert url.startswith("ldap://127.0.0.1:")
        conn = ldap.initialize(url)
        conn.simple_bind_s("uid=setter,ou=People,dc=example,dc=org", "editor-pass")
        conn.unbind_s()
    finally:
        stopped = subprocess.run(
            [str(DEV_SLAPD), "stop", str(pid)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert stopped.returncode == 0, stopped.stderr
    assert not process_alive(pid)
    assert not workdir.exists()


def test_dev_slapd_stops_only_its_own(tmp_path):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        result = subprocess.run(
            [str(DEV_SLAPD), "stop", str(sleeper.pid)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert "not a slapd" in result.stderr
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_failed_load_leaves_nothing_running(tmp_path):
    broken = tmp_path / "broken.ldif"
    broken.write_text("dn: uid=x,ou=Nowhere,dc=example,dc=org\nobjectClass: top\n")
    server = Slapd("dc=example,dc=org", [broken], workdir=tmp_path / "slapd")

    with pytest.raises(SlapdError, match="ldapmodify"):
        server.start()

    assert server.process is None
    assert not (tmp_path / "slapd").exists()


def test_dev_slapd_reports_bad_ldif(tmp_path):
    broken = tmp_path / "broken.ldif"
    broken.write_text("dn: uid=x,ou=Nowhere,dc=example,dc=org\nobjectClass: top\n")

    result = subprocess.run(
        [str(DEV_SLAPD), "start", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("dev-slapd: ldapmodify")
