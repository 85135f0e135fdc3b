"""Arbitrary text in every form field and query parameter never breaks the site.

Hypothesis feeds each input empty, very long and mixed text: NUL and other
control characters, right-to-left marks, combining characters, emoji, and
HTML and SQL fragments. Every answer must be a page or a clear 4xx, never
a 5xx. Text a form accepts must read back exactly through the detail page,
the edit form and the JSON API, and no HTML from the input may reach a page
unescaped.

What the catalogue forms accept, as the tests below predict it:

* outer white space (as :meth:`str.strip` defines it) is dropped, and a
  text area's CR LF and lone CR line ends become LF;
* a one-line field (names, solutions, cue words) rejects every control
  character: U+0000 to U+001F and U+007F;
* a text area (descriptions, clues, hints, meanings) rejects the same
  characters except tab and line feed;
* every other character, format characters and emoji included, is stored
  as entered, up to the field's length limit in code points.

Raw requests with invalid UTF-8 in the path, the query string or a form
body get a page or a 4xx as well, through the test client and through a
live gunicorn reached over a plain socket.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_from_bytes

import hypothesis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies
from markupsafe import escape
from werkzeug.test import EnvironBuilder, run_wsgi_app

from catalogue_samples import Samples, add_samples, form_values
from conftest import ACCOUNTS, csrf_token, login
from crossword_hints.catalogue.models import (
    CLUE_MAX,
    CUE_WORD_MAX,
    DESCRIPTION_MAX,
    HINT_MAX,
    MEANING_MAX,
    NAME_MAX,
    SOLUTION_MAX,
)
from servers import clean_environment, gunicorn, init_db

#: Bounded so that the whole file runs in one to two minutes on two busy cores.
PROPERTY_SETTINGS = hypothesis.settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.data_too_large,
    ],
)

#: Pieces that hostile or careless input is made of.
FRAGMENTS = [
    "\x00",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\u00a0",
    "\u2028",
    "\u202e",
    "\u200f",
    "\u200b",
    "\ufeff",
    "e\u0301",
    "\u0301",
    "\U0001f600",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</textarea><script>alert(2)</script>",
    '" onmouseover="alert(3)',
    "' OR '1'='1",
    "'; DROP TABLE setter_types; --",
    "{{ 7 * 7 }}",
    "%00",
    "&amp;",
    "\\",
    " ",
]

#: Raw markup from FRAGMENTS that must never appear in a page unescaped.
RAW_MARKUP = ["<script>alert", "<img src=x", 'onmouseover="alert']

hostile_text = strategies.one_of(
    strategies.text(max_size=60),
    strategies.lists(
        strategies.one_of(
            strategies.sampled_from(FRAGMENTS), strategies.text(max_size=4)
        ),
        max_size=8,
    ).map("".join),
    strategies.builds(
        lambda piece, count: piece * count,
        strategies.sampled_from(["a", "é", "\U0001f600", "<", "\x00"]),
        strategies.integers(min_value=0, max_value=5000),
    ),
)

#: Control characters: C0, DEL and C1.
CONTROL = {chr(code) for code in (*range(32), *range(0x7F, 0xA0))}
#: Characters that end a line without being control characters.
SEPARATORS = {"\u2028", "\u2029"}


def assert_no_raw_markup(body: str, what: str) -> None:
    for markup in RAW_MARKUP:
        assert markup not in body, f"{what} contains unescaped {markup!r}"


def assert_answered(response, what: str, allowed: tuple[int, ...]) -> None:
    assert response.status_code < 500, f"{what} answered {response.status_code}"
    assert response.status_code in allowed, (
        f"{what} answered {response.status_code}, expected one of {allowed}"
    )


# -- What a form accepts ------------------------------------------------------------


@dataclass(frozen=True)
class TextField:
    """One text field of a catalogue form and the rules it enforces."""

    name: str
    multiline: bool
    limit: int
    required: bool

    def expected(self, raw: str) -> str | None:
        """Return the text stored for *raw*, or ``None`` if the form rejects it."""
        value = raw
        if self.multiline:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        value = value.strip()

        if not value:
            return None if self.required else ""
        if self.multiline:
            rejected = CONTROL - {"\t", "\n"}
        else:
            rejected = CONTROL | SEPARATORS
        if any(char in rejected for char in value):
            return None
        if len(value) > self.limit:
            return None
        return value


@dataclass(frozen=True)
class FormSection:
    name: str
    prefix: str
    api: str
    fields: tuple[TextField, ...]
    #: Drop-down fields and the sample row each one is set to.
    choices: tuple[tuple[str, str], ...] = ()

    def fixed_values(self, samples: Samples) -> dict[str, str]:
        return {name: str(getattr(samples, sample)) for name, sample in self.choices}


def line(name: str, limit: int) -> TextField:
    return TextField(name, multiline=False, limit=limit, required=True)


def text(name: str, limit: int, required: bool = False) -> TextField:
    return TextField(name, multiline=True, limit=limit, required=required)


FORM_SECTIONS = [
    FormSection(
        "setter_types",
        "/setter-types",
        "/api/setter-types",
        (line("name", NAME_MAX), text("description", DESCRIPTION_MAX)),
    ),
    FormSection(
        "setters",
        "/crossword-setters",
        "/api/crossword-setters",
        (line("name", NAME_MAX), text("description", DESCRIPTION_MAX)),
        choices=(("setter_type", "regular"),),
    ),
    FormSection(
        "solution_types",
        "/solution-types",
        "/api/solution-types",
        (line("name", NAME_MAX), text("description", DESCRIPTION_MAX)),
    ),
    FormSection(
        "solutions",
        "/crossword-solutions",
        "/api/crossword-solutions",
        (
            text("clue", CLUE_MAX, required=True),
            line("solution", SOLUTION_MAX),
            text("hint", HINT_MAX),
        ),
        choices=(("setter", "anvil"), ("solution_type", "anagram")),
    ),
    FormSection(
        "cue_words",
        "/cue-words",
        "/api/cue-words",
        (line("cue_word", CUE_WORD_MAX), text("meaning", MEANING_MAX, required=True)),
    ),
]

SECTION_IDS = [section.name for section in FORM_SECTIONS]


@pytest.fixture
def samples(app: Flask) -> Samples:
    return add_samples(app)


def check_saved(
    client: FlaskClient, section: FormSection, row_id: int, expected: dict[str, str]
) -> None:
    """Check that row *row_id* reads back as *expected* on every surface."""
    stored = client.get(f"{section.api}/{row_id}").get_json()
    detail = client.get(f"{section.prefix}/{row_id}").get_data(as_text=True)
    edit_form = form_values(client.get(f"{section.prefix}/{row_id}/edit").text)

    for name, value in expected.items():
        assert (stored[name] or "") == value, f"API {name} differs from the input"
        assert edit_form[name] == value, f"edit form {name} differs from the input"
        if value:
            assert str(escape(value)) in detail, f"detail page lacks {name}"
    assert_no_raw_markup(detail, "the detail page")


def submit(
    client: FlaskClient, section: FormSection, path: str, values: dict[str, str]
) -> tuple[object, dict[str, str | None]]:
    """Post *values* to *path*; return the response and the predicted storage."""
    response = client.post(path, data=values)
    expected = {
        field.name: field.expected(values[field.name]) for field in section.fields
    }
    page = response.get_data(as_text=True)
    assert_no_raw_markup(page, f"POST {path}")

    if any(value is None for value in expected.values()):
        assert_answered(response, f"POST {path} with invalid text", (400,))
    else:
        assert_answered(response, f"POST {path} with valid text", (302, 409))
        if response.status_code == 409:
            # Only a clash with an existing row may stop valid text.
            assert "already has" in page, f"POST {path} gave 409 without a clash"
    return response, expected


@pytest.mark.parametrize("section", FORM_SECTIONS, ids=SECTION_IDS)
@PROPERTY_SETTINGS
@hypothesis.given(data=strategies.data())
def test_new_form_stores_text_exactly(as_admin, samples, section, data):
    path = f"{section.prefix}/new"
    values = {
        field.name: data.draw(hostile_text, label=field.name)
        for field in section.fields
    }
    values.update(section.fixed_values(samples))
    values["csrf_token"] = csrf_token(as_admin, path)

    response, expected = submit(as_admin, section, path, values)

    if response.status_code == 302:
        row_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        check_saved(as_admin, section, row_id, expected)


@pytest.mark.parametrize("section", FORM_SECTIONS, ids=SECTION_IDS)
@PROPERTY_SETTINGS
@hypothesis.given(data=strategies.data())
def test_edit_form_stores_text_exactly(as_admin, samples, section, data):
    row_id = {
        "setter_types": samples.spare,
        "setters": samples.cinder,
        "solution_types": samples.charade,
        "solutions": samples.silent,
        "cue_words": samples.initially,
    }[section.name]
    path = f"{section.prefix}/{row_id}/edit"
    values = form_values(as_admin.get(path).get_data(as_text=True))
    field = data.draw(strategies.sampled_from(section.fields), label="field")
    values[field.name] = data.draw(hostile_text, label=field.name)

    response, expected = submit(as_admin, section, path, values)

    if response.status_code == 302:
        check_saved(as_admin, section, row_id, {field.name: expected[field.name]})


@pytest.mark.parametrize("section", FORM_SECTIONS, ids=SECTION_IDS)
def test_missing_optional_field_stores_empty(as_admin, samples, section):
    # A hand-made request may leave out an optional field entirely.
    path = f"{section.prefix}/new"
    values = {
        field.name: f"Only {field.name}" for field in section.fields if field.required
    }
    values.update(section.fixed_values(samples))
    values["csrf_token"] = csrf_token(as_admin, path)

    response = as_admin.post(path, data=values)

    assert response.status_code == 302, response.get_data(as_text=True)
    row_id = int(response.headers["Location"].rsplit("/", 1)[1])
    stored = as_admin.get(f"{section.api}/{row_id}").get_json()
    for field in section.fields:
        if not field.required:
            assert stored[field.name] == "", field.name


@PROPERTY_SETTINGS
@hypothesis.given(choice=hostile_text)
def test_drop_down_rejects_unknown_choice(as_admin, samples, choice):
    path = "/crossword-setters/new"
    values = {
        "name": "Drop-down probe",
        "description": "",
        "setter_type": choice,
        "csrf_token": csrf_token(as_admin, path),
    }

    response = as_admin.post(path, data=values)

    assert_answered(response, f"setter_type={choice!r}", (302, 400, 409))
    if response.status_code == 302:
        stored = as_admin.get(response.headers["Location"].replace("/", "/api/", 1))
        assert stored.get_json()["setter_type"]["id"] in (
            samples.regular,
            samples.guest,
            samples.spare,
        )


# -- Query parameters ---------------------------------------------------------------


@PROPERTY_SETTINGS
@hypothesis.given(query=hostile_text, page=hostile_text)
def test_front_page_search_never_fails(client, samples, query, page):
    response = client.get("/", query_string={"q": query, "page": page})
    body = response.get_data(as_text=True)

    assert_answered(response, f"/?q={query!r}&page={page!r}", (200, 400, 404))
    assert_no_raw_markup(body, "the search page")
    if response.status_code == 200 and query:
        assert f'value="{escape(query)}"' in body, "the search box lost the query"


SECTION_PAGES = [
    "/setter-types/",
    "/crossword-setters/",
    "/solution-types/",
    "/crossword-solutions/",
    "/cue-words/",
]


@pytest.mark.parametrize("path", SECTION_PAGES)
@PROPERTY_SETTINGS
@hypothesis.given(page=hostile_text)
def test_index_page_number_never_fails(client, samples, path, page):
    response = client.get(path, query_string={"page": page})

    assert_answered(response, f"{path}?page={page!r}", (200, 400, 404))
    assert_no_raw_markup(response.get_data(as_text=True), path)


@PROPERTY_SETTINGS
@hypothesis.given(page=hostile_text, preset=hostile_text)
def test_detail_and_preset_never_fail(as_admin, samples, page, preset):
    detail = as_admin.get(
        f"/setter-types/{samples.regular}", query_string={"page": page}
    )
    new = as_admin.get("/crossword-setters/new", query_string={"setter_type": preset})

    assert_answered(detail, f"detail ?page={page!r}", (200, 400, 404))
    assert_answered(new, f"new ?setter_type={preset!r}", (200,))
    assert_no_raw_markup(detail.get_data(as_text=True), "the detail page")
    assert_no_raw_markup(new.get_data(as_text=True), "the add form")


API_PATHS = [
    "/api/search",
    "/api/cue-words/autocomplete",
    "/api/setter-types",
    "/api/crossword-solutions",
]


@pytest.mark.parametrize("path", API_PATHS)
@PROPERTY_SETTINGS
@hypothesis.given(
    query=hostile_text,
    kind=strategies.one_of(
        strategies.sampled_from(["solutions", "cue-words"]), hostile_text
    ),
    page=hostile_text,
    per_page=hostile_text,
)
def test_api_parameters_get_json_answer(
    client, samples, path, query, kind, page, per_page
):
    arguments = {"q": query, "kind": kind, "page": page, "per_page": per_page}

    response = client.get(path, query_string=arguments)

    assert_answered(response, f"{path} with {arguments!r}", (200, 400, 404))
    assert response.is_json, f"{path} answered {response.content_type}"
    body = response.get_json()
    if response.status_code != 200:
        assert body["error"]["message"], "the error has no message"
    elif "query" in body:
        assert body["query"] == query, "the API changed the query it echoes"


@PROPERTY_SETTINGS
@hypothesis.given(username=hostile_text, password=hostile_text)
def test_login_form_never_fails(client, username, password):
    token = csrf_token(client, "/login")

    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
    )

    allowed = (
        (302, 400, 401) if (username, password) in ACCOUNTS.items() else (400, 401)
    )
    assert_answered(response, f"login as {username!r}", allowed)
    assert_no_raw_markup(response.get_data(as_text=True), "the login page")


ACTIVITY_FILTERS = ["actor", "action", "item_type", "item_id", "since", "until", "q"]


@pytest.mark.parametrize(
    "path", ["/activity/", "/activity/export.csv", "/activity/export.json"]
)
@PROPERTY_SETTINGS
@hypothesis.given(
    name=strategies.sampled_from(ACTIVITY_FILTERS + ["page", "per_page", "before"]),
    value=hostile_text,
)
def test_activity_filters_never_fail(as_admin, samples, path, name, value):
    response = as_admin.get(path, query_string={name: value})

    assert_answered(response, f"{path}?{name}={value!r}", (200, 400, 404))
    assert_no_raw_markup(response.get_data(as_text=True), path)


@PROPERTY_SETTINGS
@hypothesis.given(item_type=hostile_text, item_id=hostile_text)
def test_activity_history_path_never_fails(as_admin, item_type, item_id):
    path = f"/activity/{quote_from_bytes(item_type.encode())}/"
    path += quote_from_bytes(item_id.encode())

    response = as_admin.get(path)

    assert_answered(response, f"GET {path}", (200, 308, 400, 404))
    assert_no_raw_markup(response.get_data(as_text=True), path)


# -- Invalid UTF-8 in the raw request -----------------------------------------------


def raw_environ(
    client: FlaskClient, method: str, path: bytes, query: bytes = b"", body: bytes = b""
) -> dict:
    """Build a WSGI environ carrying *path* and *query* as undecoded bytes."""
    builder = EnvironBuilder(
        method=method,
        data=body,
        content_type="application/x-www-form-urlencoded" if body else None,
    )
    environ = builder.get_environ()
    # WSGI passes the raw bytes of the path and query string as latin-1 text.
    environ["PATH_INFO"] = path.decode("latin-1")
    environ["QUERY_STRING"] = query.decode("latin-1")
    cookie = client.get_cookie("session")
    if cookie is not None:
        environ["HTTP_COOKIE"] = f"session={cookie.value}"
    return environ


INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf"]

RAW_GETS = [
    (b"/\xff", b""),
    (b"/setter-types/\xc3\x28", b""),
    (b"/activity/setter_types/\xff", b""),
    (b"/", b"q=\xff\xfe"),
    (b"/", b"q=%ff%fe&page=\xff"),
    (b"/setter-types/", b"page=%c3%28"),
    (b"/api/search", b"q=%ed%a0%80"),
    (b"/api/search", b"q=\xc0\xaf&kind=\xff"),
    (b"/api/setter-types", b"per_page=\xff"),
    (b"/api/cue-words/autocomplete", b"q=%e2%82"),
    (b"/activity/", b"actor=%ff&q=\xc3\x28"),
]


@pytest.mark.parametrize(("path", "query"), RAW_GETS)
def test_invalid_utf8_get_answers_clearly(as_admin, path, query):
    environ = raw_environ(as_admin, "GET", path, query)

    _, status, _ = run_wsgi_app(as_admin.application, environ, buffered=True)

    code = int(status.split()[0])
    assert code < 500, f"GET {path!r}?{query!r} answered {status}"


@pytest.mark.parametrize("garbage", INVALID_UTF8)
@pytest.mark.parametrize("encoded", [False, True], ids=["raw", "percent"])
def test_invalid_utf8_form_body_answers_clearly(as_admin, samples, garbage, encoded):
    token = csrf_token(as_admin, "/setter-types/new")
    name = quote_from_bytes(garbage).encode() if encoded else garbage
    body = (
        b"name=Bad" + name + b"&description=" + name + b"&csrf_token=" + token.encode()
    )
    environ = raw_environ(as_admin, "POST", b"/setter-types/new", body=body)

    app_iter, status, headers = run_wsgi_app(as_admin.application, environ, True)

    code = int(status.split()[0])
    assert code in (302, 400), f"POST with {garbage!r} answered {status}"
    if code == 302:
        # Werkzeug 3.1 turns invalid raw bytes into U+FFFD and keeps an
        # invalid percent-escaped sequence as its escape text, so the stored
        # name is valid Unicode either way.
        location = dict(headers)["Location"]
        stored = as_admin.get(location.replace("/setter-types", "/api/setter-types"))
        name = stored.get_json()["name"]
        assert name.startswith("Bad")
        assert "\ufffd" in name or "%" in name, f"stored {name!r}"
        name.encode("utf-8")  # strict: no lone surrogates slipped through


def test_invalid_utf8_login_answers_clearly(client):
    token = csrf_token(client, "/login")
    body = b"username=\xff\xfe&password=%c3%28&csrf_token=" + token.encode()
    environ = raw_environ(client, "POST", b"/login", body=body)

    _, status, _ = run_wsgi_app(client.application, environ, buffered=True)

    assert int(status.split()[0]) in (400, 401), status


# -- Raw bytes to a live server ----------------------------------------------------


LOGIN_BODY = b"username=\xff\xfe&password=\x00\x01"

RAW_REQUESTS = [
    b"GET /\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"GET /?q=\xc3\x28&page=\xff HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Connection: close\r\n\r\n",
    b"GET /api/search?q=%ff%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Connection: close\r\n\r\n",
    b"GET /setter-types/%ed%a0%80 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Connection: close\r\n\r\n",
    b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n"
    + b"Content-Length: %d\r\n\r\n%s"
    % (len(LOGIN_BODY), LOGIN_BODY),
    b"GET /\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"\xff\xfe\xfd / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
]


def send_raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply


@pytest.mark.slow
def test_live_server_answers_raw_bytes(tmp_path: Path, database_url: str):
    environment = clean_environment(
        tmp_path,
        DATABASE_URL=database_url,
        SECRET_KEY="hostile-input-key-" + "x" * 32,
        WEB_CONCURRENCY="1",
    )
    init_db(environment)

    with gunicorn(tmp_path, environment) as server:
        replies = [send_raw(server.url, request) for request in RAW_REQUESTS]
        log = server.log()

    for request, reply in zip(RAW_REQUESTS, replies, strict=True):
        status_line = reply.split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 "), f"{request!r}: {status_line!r}"
        code = int(status_line.split()[1])
        assert 200 <= code < 500, f"{request!r} answered {status_line!r}"
    assert "Traceback" not in log


def test_login_logs_in_after_hostile_attempts(client):
    # The failed attempts above count towards no lock-out here, because each
    # test has its own app; a real login still works after hostile ones.
    for username in ["\x00", "<script>alert(1)</script>", "\u202exword"]:
        login(client, username, "wrong")

    assert login(client, "xword").status_code == 302
