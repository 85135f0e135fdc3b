"""The read-only JSON API: list and item shapes, paging, search and errors."""

from __future__ import annotations

import pytest

from crossword_hints.catalogue.models import SetterType, Solution
from search_samples import HOSTILE_CLUE, add_search_rows

PAGE_KEYS = {"items", "page", "per_page", "total", "pages", "next", "previous"}
COMMON_KEYS = {"id", "created_at", "updated_at", "version", "url", "html_url"}

#: Each list, the number of sample rows in it and the fields of an item.
LISTS = [
    ("setter-types", 2, {"name", "description"}),
    ("crossword-setters", 2, {"name", "description", "setter_type"}),
    ("solution-types", 2, {"name", "description"}),
    ("crossword-solutions", 3, {"clue", "solution", "hint", "setter", "solution_type"}),
    ("cue-words", 2, {"cue_word", "meaning", "duplicate_of"}),
]

#: Each list with its web pages' prefix and the sample row to fetch.
ITEMS = [
    ("setter-types", "/setter-types", "regular"),
    ("crossword-setters", "/crossword-setters", "rufus"),
    ("solution-types", "/solution-types", "anagram"),
    ("crossword-solutions", "/crossword-solutions", "lighthouse"),
    ("cue-words", "/cue-words", "bananas"),
]


@pytest.fixture
def rows(app):
    return add_search_rows(app)


def error_of(response) -> dict:
    assert response.is_json, response.get_data(as_text=True)
    return response.get_json()["error"]


# -- Lists and items -------------------------------------------------------------


@pytest.mark.parametrize(("path", "count", "fields"), LISTS)
def test_list_has_page_shape(client, rows, path, count, fields):
    response = client.get(f"/api/{path}")
    body = response.get_json()

    assert response.status_code == 200
    assert set(body) == PAGE_KEYS
    assert body["total"] == count
    assert body["page"] == 1
    assert body["per_page"] == 25
    assert body["pages"] == 1
    assert body["next"] is None
    assert body["previous"] is None
    assert len(body["items"]) == count
    assert set(body["items"][0]) == COMMON_KEYS | fields


@pytest.mark.parametrize(("path", "prefix", "name"), ITEMS)
def test_item_matches_its_list_entry(client, rows, path, prefix, name):
    row_id = rows[name]
    listed = {
        item["id"]: item for item in client.get(f"/api/{path}").get_json()["items"]
    }

    response = client.get(f"/api/{path}/{row_id}")
    item = response.get_json()

    assert response.status_code == 200
    assert item == listed[row_id]
    assert item["url"] == f"/api/{path}/{row_id}"
    assert item["html_url"] == f"{prefix}/{row_id}"
    assert item["created_at"].endswith("Z")


def test_solution_item_names_setter_and_type(client, rows):
    item = client.get(f"/api/crossword-solutions/{rows['hostile']}").get_json()

    assert item["clue"] == HOSTILE_CLUE
    assert item["solution"] == "PAUSE"
    assert item["setter"] == {"id": rows["rufus"], "name": "Rufus"}
    assert item["solution_type"] == {"id": rows["anagram"], "name": "Anagram"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/setter-types/999",
        "/api/crossword-solutions/0",
        "/api/crossword-solutions/-1",
        "/api/crossword-solutions/abc",
        "/api/crossword-solutions/1.5",
        "/api/cue-words/99999999999999999999999999",
        "/api/no-such-list",
    ],
)
def test_missing_item_gives_json_404(client, rows, path):
    response = client.get(path)

    assert response.status_code == 404
    assert error_of(response)["status"] == 404


# -- Paging ----------------------------------------------------------------------


@pytest.fixture
def setter_types(app):
    with app.app_context():
        for number in range(5):
            SetterType.create(name=f"Type {number}")


def test_list_pages_follow_next_links(client, setter_types):
    first = client.get("/api/setter-types?per_page=2").get_json()
    second = client.get(first["next"]).get_json()
    third = client.get(second["next"]).get_json()

    assert first["pages"] == 3
    assert first["next"] == "/api/setter-types?page=2&per_page=2"
    assert second["previous"] == "/api/setter-types?page=1&per_page=2"
    assert third["next"] is None
    names = [item["name"] for page in (first, second, third) for item in page["items"]]
    assert names == [f"Type {number}" for number in range(5)]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("page=4&per_page=2", 404, "Page 4 does not exist; the last page is 3."),
        ("page=1000000000", 404, "the last page is 1"),
        ("page=" + "9" * 5000, 404, "the last page is 1"),
        ("page=0", 400, "page must be at least 1"),
        ("page=abc", 400, "page must be a whole number"),
        ("page=1.5", 400, "page must be a whole number"),
        ("page=-1", 400, "page must be a whole number"),
        ("page=", 400, "page must be a whole number"),
        ("page=%201", 400, "page must be a whole number"),
        ("page=%D9%A1", 400, "page must be a whole number"),
        ("page=1&page=2", 400, "given 2 times"),
        ("per_page=0", 400, "per_page must be at least 1"),
        ("per_page=201", 400, "per_page must be at most 200"),
    ],
)
def test_list_rejects_bad_paging(client, setter_types, query, status, message):
    response = client.get(f"/api/setter-types?{query}")

    assert response.status_code == status
    assert message in error_of(response)["message"]


def test_list_accepts_largest_page_size(client, setter_types):
    body = client.get("/api/setter-types?per_page=200&page=001").get_json()

    assert body["per_page"] == 200
    assert body["page"] == 1
    assert len(body["items"]) == 5


# -- Search and autocomplete -----------------------------------------------------


def test_search_returns_highlighted_solution(client, rows):
    response = client.get("/api/search?q=quietly")
    body = response.get_json()

    assert response.status_code == 200
    assert set(body) == PAGE_KEYS | {"query", "kind"}
    assert body["total"] == 1
    assert body["kind"] == "solutions"
    item = body["items"][0]
    assert item["id"] == rows["hostile"]
    assert item["clue"] == HOSTILE_CLUE
    assert item["highlight"]["clue"].startswith(
        "Stop <mark>quietly</mark> &lt;script&gt;"
    )
    assert item["highlight"]["hint"] == "P (<mark>quietly</mark>) around A USE"
    assert item["highlight"]["solution"] == "PAUSE"


def test_search_returns_highlighted_cue_word(client, rows):
    body = client.get("/api/search?q=reversal&kind=cue-words").get_json()

    assert body["total"] == 1
    item = body["items"][0]
    assert item["id"] == rows["backwards"]
    assert item["highlight"] == {
        "cue_word": "backwards",
        "meaning": "<mark>reversal</mark> indicator",
    }


@pytest.fixture
def pendulums(app, rows):
    with app.app_context():
        for number in range(3):
            Solution.create(
                clue=f"Pendulum swing {number}",
                solution=f"SWING{number}",
                setter=rows["rufus"],
                solution_type=rows["anagram"],
            )


def test_search_pages_with_links(client, pendulums):
    first = client.get("/api/search?q=pendulum&per_page=2").get_json()
    second = client.get(first["next"]).get_json()

    assert first["total"] == 3
    assert first["pages"] == 2
    assert "q=pendulum" in first["next"]
    assert "kind=solutions" in first["next"]
    assert len(second["items"]) == 1
    assert second["next"] is None
    assert {item["id"] for item in first["items"] + second["items"]} == {
        item["id"] for item in client.get("/api/search?q=pendulum").get_json()["items"]
    }


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("", 400, "q is missing or empty"),
        ("q=", 400, "q is missing or empty"),
        ("q=" + "a" * 201, 400, "the limit is 200"),
        ("q=a&kind=setters", 400, "kind must be one of solutions, cue-words"),
        ("q=a&q=b", 400, "given 2 times"),
        ("q=pendulum&page=9", 404, "Page 9 does not exist"),
    ],
)
def test_search_rejects_bad_parameters(client, pendulums, query, status, message):
    response = client.get(f"/api/search?{query}")

    assert response.status_code == status
    assert message in error_of(response)["message"]


@pytest.mark.parametrize(
    "query",
    ['"', "AND(", "*", "NEAR", "-x", ":", "%00", "%F0%9F%99%82", "%FF%FE", "a" * 200],
)
def test_search_survives_hostile_query(client, rows, query):
    response = client.get(f"/api/search?q={query}")

    assert response.status_code == 200
    assert isinstance(response.get_json()["items"], list)


def test_autocomplete_suggests_cue_words(client, rows):
    response = client.get("/api/cue-words/autocomplete?q=BA")

    assert response.status_code == 200
    assert response.get_json() == {
        "query": "BA",
        "suggestions": ["backwards", "bananas"],
    }


@pytest.mark.parametrize(
    ("query", "status"),
    [("", 400), ("q=", 400), ("q=" + "b" * 201, 400), ("q=%00", 200), ("q=%25", 200)],
)
def test_autocomplete_checks_its_query(client, rows, query, status):
    response = client.get(f"/api/cue-words/autocomplete?{query}")

    assert response.status_code == status
    if status == 200:
        assert response.get_json()["suggestions"] == []


# -- Methods ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path",
    ["/api/setter-types", "/api/crossword-solutions/1", "/api/search?q=a"],
)
def test_api_rejects_writes_with_405(client, rows, method, path):
    response = client.open(path, method=method)

    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert error_of(response)["status"] == 405
