"""Several gunicorn workers on one PostgreSQL database lose no edit.

Gunicorn runs 4 worker processes on a fresh PostgreSQL schema, with login
rate limits counted in Redis, as several servers would share them. Then
8 clients edit the same 5 setter types 200 times each through the real
edit form, each save carrying the version its form was loaded from. Every
save must be accepted (302) or rejected as stale (409). The accepted ones
must form one unbroken run of versions per record, each with its entry in
the activity log, and the log's hash chain must verify.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import threading
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import psycopg
import pytest

from conftest import ACCOUNTS, TEST_DATABASE, on_postgres
from servers import BIN, ROOT, clean_environment, gunicorn, init_db

pytestmark = pytest.mark.slow

WORKERS = 4
CLIENTS = 8
EDITS_PER_CLIENT = 200
RECORDS = 5

#: The server ``make test`` uses, for runs whose main database is SQLite.
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class Edit:
    """One save of the edit form and how the server responded."""

    record_id: int
    version: int
    description: str
    status: int
    request_id: str


class FormParser(HTMLParser):
    """Collects the fields of the form whose action ends with ``/edit``."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.in_form = False
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and attributes.get("action", "").endswith("/edit"):
            self.in_form = True
        elif self.in_form and tag == "input" and "name" in attributes:
            if attributes.get("type") not in ("submit", "button", "checkbox", "radio"):
                self.fields[attributes["name"]] = attributes.get("value", "")
        elif self.in_form and tag == "textarea" and "name" in attributes:
            self.textarea = attributes["name"]
            self.fields[self.textarea] = ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.in_form = False


def edit_form_fields(page: str) -> dict[str, str]:
    parser = FormParser()
    parser.feed(page)
    # Browsers drop the newline that directly follows <textarea>.
    for name, value in parser.fields.items():
        if value.startswith("\n"):
            parser.fields[name] = value[1:]
    assert "version" in parser.fields, "the edit form has no version field"
    assert "csrf_token" in parser.fields, "the edit form has no CSRF token"
    return parser.fields


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str


class Browser:
    """A minimal HTTP client that keeps the session cookie.

    It is built on http.client because the test makes thousands of requests
    on the CPUs that the server uses too, so the client should use as
    little of them as it can.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.cookie = ""

    def request(self, method: str, path: str, data: dict | None = None) -> Response:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"

        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            reply = connection.getresponse()
            text = reply.read().decode("utf-8")
        finally:
            connection.close()

        for header in reply.headers.get_all("Set-Cookie") or []:
            if header.startswith("session="):
                self.cookie = header.split(";", 1)[0]
        return Response(reply.status, dict(reply.headers.items()), text)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict) -> Response:
        return self.request("POST", path, data)


def logged_in_browser(url: str, username: str) -> Browser:
    browser = Browser(url)
    token = csrf_token(browser.get("/login").text)
    response = browser.post(
        "/login",
        {"username": username, "password": ACCOUNTS[username], "csrf_token": token},
    )
    assert response.status == 302, response.text
    return browser


def create_setter_type(browser: Browser, number: int) -> int:
    token = csrf_token(browser.get("/setter-types/new").text)
    response = browser.post(
        "/setter-types/new",
        {
            "name": f"Concurrent type {number}",
            "description": "before the edits",
            "csrf_token": token,
        },
    )
    assert response.status == 302, response.text
    match = re.search(r"/setter-types/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def edit_many(
    url: str,
    username: str,
    client: int,
    record_ids: list[int],
    edits: list[Edit],
    failures: list[str],
) -> None:
    """Make this client's edits, one after another, round the records."""
    try:
        browser = logged_in_browser(url, username)
        for number in range(EDITS_PER_CLIENT):
            record_id = record_ids[(client + number) % len(record_ids)]
            edit_path = f"/setter-types/{record_id}/edit"
            page = browser.get(edit_path)
            if page.status != 200:
                failures.append(f"GET {edit_path}: {page.status}")
                continue

            fields = edit_form_fields(page.text)
            description = f"client {client} edit {number}"
            response = browser.post(edit_path, {**fields, "description": description})
            edits.append(
                Edit(
                    record_id,
                    int(fields["version"]),
                    description,
                    response.status,
                    response.headers.get("X-Request-ID", ""),
                )
            )
    except Exception as exc:  # noqa: BLE001 - reported by the main thread
        failures.append(f"client {client}: {exc!r}")


@pytest.fixture
def postgres_url():
    """Yield the URL of a fresh PostgreSQL schema, dropped afterwards."""
    base = TEST_DATABASE if on_postgres() else DEFAULT_POSTGRES
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    # Commits need not wait for the disk: the schema is dropped afterwards,
    # and the test checks isolation between servers, not durability.
    options = f"-csearch_path={schema} -csynchronous_commit=off"
    yield f"{base}{separator}options={quote(options)}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def activity_updates(postgres_url: str) -> dict[str, dict]:
    """Return the activity log's update entries, by request (group) id."""
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            "SELECT group_id, item_id, changes FROM activity_logs "
            "WHERE action = 'update'"
        ).fetchall()
    updates: dict[str, dict] = {}
    for group_id, item_id, changes in rows:
        assert group_id not in updates, f"two update entries for request {group_id}"
        updates[group_id] = {"item_id": item_id, "changes": json.loads(changes)}
    return updates


def stored_rows(postgres_url: str, record_ids: list[int]) -> dict[int, tuple]:
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            "SELECT id, version, description FROM setter_types WHERE id = ANY(%s)",
            (record_ids,),
        ).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def test_concurrent_edits_lose_nothing(tmp_path: Path, postgres_url: str):
    environment = clean_environment(
        tmp_path,
        DATABASE_URL=postgres_url,
        SECRET_KEY="concurrent-test-key-" + "x" * 32,
        WEB_CONCURRENCY=str(WORKERS),
        CROSSWORD_HINTS_RATELIMIT_STORAGE_URI=REDIS,
    )
    init_db(environment)

    edits: list[Edit] = []
    failures: list[str] = []
    with gunicorn(tmp_path, environment) as server:
        admin = logged_in_browser(server.url, "xword")
        record_ids = [create_setter_type(admin, number) for number in range(RECORDS)]
        initial = stored_rows(postgres_url, record_ids)

        users = ["setter", "xword"]
        threads = [
            threading.Thread(
                target=edit_many,
                args=(
                    server.url,
                    users[client % 2],
                    client,
                    record_ids,
                    edits,
                    failures,
                ),
            )
            for client in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        log = server.log()

    verify = subprocess.run(
        [str(BIN / "crossword-hints"), "activity", "verify"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    final = stored_rows(postgres_url, record_ids)
    updates = activity_updates(postgres_url)
    accepted = [edit for edit in edits if edit.status == 302]
    rejected = [edit for edit in edits if edit.status == 409]
    unexpected = [edit for edit in edits if edit.status not in (302, 409)]

    assert failures == []
    assert len(edits) == CLIENTS * EDITS_PER_CLIENT
    assert unexpected == []
    assert rejected, "no save was stale, so the test did not exercise conflicts"
    assert "Traceback" not in log

    for record_id in record_ids:
        start_version = initial[record_id][0]
        saved = sorted(
            (edit for edit in accepted if edit.record_id == record_id),
            key=lambda edit: edit.version,
        )
        final_version, final_description = final[record_id]
        # Each accepted save moved the version on by one, from the version
        # its form was loaded from, so no two accepted saves overlap.
        assert [edit.version for edit in saved] == list(
            range(start_version, final_version)
        )
        assert final_description == saved[-1].description

    for edit in accepted:
        entry = updates.get(edit.request_id)
        assert entry is not None, f"accepted edit {edit} is not in the activity log"
        assert entry["item_id"] == str(edit.record_id)
        assert entry["changes"]["description"][1] == edit.description

    rejected_ids = {edit.request_id for edit in rejected}
    assert rejected_ids.isdisjoint(updates), "a rejected edit was logged"
    assert len(updates) == len(accepted)

    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "the chain is intact" in verify.stdout


def test_default_postgres_matches_makefile():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")

    assert f"PG_TEST_URL ?= {DEFAULT_POSTGRES}" in makefile
