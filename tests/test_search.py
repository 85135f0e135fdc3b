"""Full-text search: what matches, how it is highlighted, and hostile input."""

from __future__ import annotations

import html
import re
import sqlite3

import hypothesis
import pytest
from hypothesis import strategies
from markupsafe import Markup

from conftest import LEGACY_DB
from crossword_hints import create_app, db, migrations
from crossword_hints.catalogue import search
from crossword_hints.catalogue.models import CueWord, Setter, Solution, SolutionType
from search_samples import HOSTILE_CLUE, add_search_rows


@pytest.fixture
def rows(app):
    return add_search_rows(app)


def solution_ids(app, query: str) -> list[int]:
    with app.app_context():
        return [hit.solution.id for hit in search.search_solutions(query).items]


def cue_word_ids(app, query: str) -> list[int]:
    with app.app_context():
        return [hit.cue_word.id for hit in search.search_cue_words(query).items]


# -- What matches --------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lighthouse", "lighthouse"),  # a word in a clue
        ("MARMALADE", "marmalade"),  # a solution
        ("telescoped", "lighthouse"),  # a word in a hint
        ("Quietly", "hostile"),  # case is ignored
        ("keeper island", "lighthouse"),  # every word, in any order
        ("oranges marmalade", "marmalade"),  # words from two fields
        ("lighth", "lighthouse"),  # the last word as a prefix
        ("island lighth", "lighthouse"),
    ],
)
def test_search_finds_solution_by_word(app, rows, query, expected):
    assert solution_ids(app, query) == [rows[expected]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bananas", "bananas"),  # the cue word
        ("reversal", "backwards"),  # a word in its meaning
        ("BACK", "backwards"),  # prefix, ignoring case
        ("indicator anagram", "bananas"),
    ],
)
def test_search_finds_cue_word_by_word(app, rows, query, expected):
    assert cue_word_ids(app, query) == [rows[expected]]


@pytest.mark.parametrize(
    "query",
    [
        "lighthouse marmalade",  # two words never in one row
        "lighthouses",  # a longer word does not match a shorter one
        "lighth ",  # a trailing space ends the word, so no prefix
        "li",  # too short to match as a prefix
        "ighthouse",  # the middle of a word
        "rufus",  # setter names are not searched
        "",
        "   ",
        "?!",
    ],
)
def test_search_skips_non_matching_query(app, rows, query):
    assert solution_ids(app, query) == []


def test_search_ranks_solution_above_clue(app, rows):
    with app.app_context():
        setter = Setter.get_by_id(rows["rufus"])
        kind = SolutionType.get_by_id(rows["anagram"])
        in_clue = Solution.create(
            clue="Treacle for a dozen",
            solution="SYRUP",
            setter=setter,
            solution_type=kind,
        )
        in_solution = Solution.create(
            clue="Sweet stuff", solution="TREACLE", setter=setter, solution_type=kind
        )

    assert solution_ids(app, "treacle") == [in_solution.id, in_clue.id]


# -- The index follows every change ------------------------------------------------


def test_index_follows_bulk_changes(app, rows):
    with app.app_context():
        Solution.update(clue="Beacon on the rocks (4)").where(
            Solution.id == rows["lighthouse"]
        ).execute()
        Solution.delete().where(Solution.id == rows["marmalade"]).execute()
        Solution.insert_many(
            [
                {
                    "clue": "Drumbeat heard at dawn",
                    "solution": "TATTOO",
                    "setter": rows["rufus"],
                    "solution_type": rows["anagram"],
                }
            ]
        ).execute()
        CueWord.update(meaning="sounds like").where(
            CueWord.id == rows["backwards"]
        ).execute()

    assert solution_ids(app, "beacon") == [rows["lighthouse"]]
    assert solution_ids(app, "lighthouse") == []
    assert solution_ids(app, "marmalade") == []
    assert len(solution_ids(app, "drumbeat")) == 1
    assert cue_word_ids(app, "sounds") == [rows["backwards"]]
    assert cue_word_ids(app, "reversal") == []


def test_index_follows_single_row_saves(app, rows):
    with app.app_context():
        solution = Solution.get_by_id(rows["marmalade"])
        solution.hint = "Seville fruit cooked down"
        solution.save()
        CueWord.get_by_id(rows["bananas"]).delete_instance()

    assert solution_ids(app, "seville") == [rows["marmalade"]]
    assert solution_ids(app, "charade") == []
    assert cue_word_ids(app, "bananas") == []


def insert_rows_by_sql(database) -> None:
    """Add one solution and one cue word with plain SQL.

    Plain SQL works before later migrations have created the tables that
    the models' change tracking writes to.
    """
    now = "2024-01-01 00:00:00"
    statements = [
        "INSERT INTO setter_types (id, name, description, created_at, updated_at,"
        " version) VALUES (1, 'Regular', '', '{now}', '{now}', 1)",
        "INSERT INTO crossword_setters (id, name, setter_type_id, description,"
        " created_at, updated_at, version)"
        " VALUES (1, 'Rufus', 1, '', '{now}', '{now}', 1)",
        "INSERT INTO solution_types (id, name, description, created_at, updated_at,"
        " version) VALUES (1, 'Anagram', '', '{now}', '{now}', 1)",
        "INSERT INTO crossword_solutions (id, clue, solution, solution_hint,"
        " crossword_setter_id, solution_type_id, created_at, updated_at, version)"
        " VALUES (1, 'Lighthouse keeper leaves (4)', 'ISLE', '', 1, 1,"
        " '{now}', '{now}', 1)",
        "INSERT INTO cue_words (id, cue_word, meaning, created_at, updated_at,"
        " version) VALUES (1, 'bananas', 'anagram indicator', '{now}', '{now}', 1)",
    ]
    for statement in statements:
        database.execute_sql(statement.format(now=now))


def test_migration_indexes_existing_rows(app_config, tmp_path):
    app = create_app(app_config, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        database = db.database.obj
        migrations.router(database).run("001_catalogue")
        insert_rows_by_sql(database)

        applied = migrations.upgrade(database)

        assert "002_search" in applied
    assert solution_ids(app, "lighthouse") == [1]
    assert cue_word_ids(app, "bananas") == [1]
    app.extensions["peewee"].close()


def test_migration_rollback_removes_index(app_config, tmp_path):
    app = create_app(app_config, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        database = db.database.obj
        router = migrations.router(database)
        router.run("002_search")
        router.rollback()

        tables = set(database.get_tables())
        columns = {column.name for column in database.get_columns("cue_words")}
        assert "crossword_solutions_fts" not in tables
        assert "search_vector" not in columns

        insert_rows_by_sql(database)
        router.run("002_search")
    assert cue_word_ids(app, "bananas") == [1]
    app.extensions["peewee"].close()


def legacy_rows_with_prefix(table: str, columns: str, prefix: str) -> int:
    """Count rows of the older app's database with a word starting with *prefix*."""
    word = re.compile(rf"(?<![^\W_]){re.escape(prefix)}", re.IGNORECASE)
    with sqlite3.connect(f"file:{LEGACY_DB}?mode=ro", uri=True) as legacy:
        rows = legacy.execute(f"SELECT {columns} FROM {table}").fetchall()
    return sum(1 for row in rows if any(word.search(value or "") for value in row))


def test_search_finds_initially_in_legacy_data(runner, client):
    result = runner.invoke(args=["import-legacy", str(LEGACY_DB)])
    assert result.exit_code == 0, result.output

    solutions = client.get("/api/search?q=initially&per_page=200").get_json()
    cue_words = client.get(
        "/api/search?q=initially&kind=cue-words&per_page=200"
    ).get_json()
    page = client.get("/?q=initially").get_data(as_text=True)

    expected_solutions = legacy_rows_with_prefix(
        "crossword_solutions", "clue, solution, solution_hint", "initially"
    )
    expected_cue_words = legacy_rows_with_prefix(
        "cue_words", "cue_word, meaning", "initially"
    )
    assert expected_solutions > 0
    assert solutions["total"] == expected_solutions
    assert cue_words["total"] == expected_cue_words
    for item in solutions["items"] + cue_words["items"]:
        assert "<mark>" in "".join(item["highlight"].values())
    assert f"{expected_solutions} solutions and" in page
    # This module's app shows 5 results of each group per page.
    shown = min(expected_solutions, 5) + min(expected_cue_words, 5)
    assert page.count('class="result"') == shown
    assert page.count("<mark>") >= shown


# -- Highlighting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "query", "expected"),
    [
        ("Lighthouse keeper", "lighthouse", "<mark>Lighthouse</mark> keeper"),
        ("Lighthouse keeper", "light", "<mark>Lighthouse</mark> keeper"),
        ("Lighthouse keeper", "light ", "Lighthouse keeper"),
        ("a <b>bold</b> word", "bold", "a &lt;b&gt;<mark>bold</mark>&lt;/b&gt; word"),
        ("x < y & z", "y", "x &lt; <mark>y</mark> &amp; z"),
        # A word inside an entity that escaping creates is not matched.
        ("1 < 2", "lt", "1 &lt; 2"),
        ('say "hi"', "hi", "say &#34;<mark>hi</mark>&#34;"),
        ("two words, two", "two", "<mark>two</mark> words, <mark>two</mark>"),
        ("café", "cafe\u0301", "<mark>café</mark>"),
        ("no match here", "absent", "no match here"),
    ],
)
def test_highlight_escapes_then_marks(text, query, expected):
    result = search.highlight(text, search.parse_query(query))

    assert isinstance(result, Markup)
    assert str(result) == expected


@hypothesis.given(text=strategies.text(), query=strategies.text(max_size=50))
def test_highlight_keeps_any_text_escaped(text, query):
    result = str(search.highlight(text, search.parse_query(query)))
    unmarked = result.replace("<mark>", "").replace("</mark>", "")

    assert "<" not in unmarked
    assert ">" not in unmarked
    assert html.unescape(unmarked) == text


def test_search_escapes_hostile_clue(app, rows):
    with app.app_context():
        hit = search.search_solutions("quietly").items[0]

    assert hit.solution.clue == HOSTILE_CLUE
    assert str(hit.clue) == (
        "Stop <mark>quietly</mark> &lt;script&gt;alert(&#39;x&#39;)"
        "&lt;/script&gt; &amp; rest"
    )


def test_search_marks_word_inside_markup(app, rows):
    with app.app_context():
        hit = search.search_solutions("script").items[0]

    assert "&lt;<mark>script</mark>&gt;" in hit.clue
    assert "<script>" not in hit.clue


# -- Hostile queries -------------------------------------------------------------

HOSTILE_QUERIES = [
    '"',
    '""',
    "AND(",
    "*",
    "NEAR",
    "NEAR(lighthouse keeper)",
    "-lighthouse",
    "lighthouse:",
    "clue: lighthouse",
    "{clue solution}: isle",
    "^lighthouse",
    "lighthouse*",
    "'",
    "' OR 1=1 --",
    "x:* & !y | (z",
    "\\",
    "%_",
    "\x00",
    "light\x00house",
    "\x01\x1f\x7f",
    "\u202eesuohthgil",
    "e\u0301\u0301\u0301",
    "🙂",
    "🙂 lighthouse",
    "<script>alert(1)</script>",
    "a" * 200,
    " ".join(["x"] * 100),
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_search_survives_hostile_query(app, client, rows, query):
    with app.app_context():
        solutions = search.search_solutions(query)
        cue_words = search.search_cue_words(query)
    response = client.get("/", query_string={"q": query})

    assert solutions.total >= 0
    assert cue_words.total >= 0
    assert response.status_code == 200
    assert b"<script>alert" not in response.data


@hypothesis.settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(query=strategies.text(max_size=search.MAX_QUERY_LENGTH))
def test_search_accepts_any_short_text(app, rows, query):
    with app.app_context():
        solutions = search.search_solutions(query)
        cue_words = search.search_cue_words(query)
        suggestions = search.suggest_cue_words(query)

    assert solutions.total >= 0
    assert cue_words.total >= 0
    assert len(suggestions) <= search.MAX_SUGGESTIONS


@pytest.mark.parametrize("length", [201, 5000])
def test_search_rejects_overlong_query(app, client, length):
    with app.app_context(), pytest.raises(search.QueryTooLong) as raised:
        search.search_solutions("a" * length)
    assert raised.value.status == 400

    response = client.get("/", query_string={"q": "a" * length})
    assert response.status_code == 400
    assert b"the limit is 200" in response.data


def test_search_rejects_invalid_paging(app):
    with app.app_context():
        with pytest.raises(search.AppError):
            search.search_solutions("isle", page=0)
        with pytest.raises(search.AppError):
            search.search_solutions("isle", per_page=0)


# -- The front page ----------------------------------------------------------------


def test_front_page_lists_recent_solutions(client, rows):
    page = client.get("/").get_data(as_text=True)

    assert 'for="q"' in page
    assert 'id="q"' in page
    assert "Recently added solutions" in page
    assert f'href="/crossword-solutions/{rows["marmalade"]}"' in page
    assert "MARMALADE" in page


def test_front_page_groups_highlighted_results(client, rows):
    page = client.get("/?q=anagram").get_data(as_text=True)

    assert "1 solution and" in page
    assert "1 cue word match" in page
    assert f'href="/crossword-solutions/{rows["lighthouse"]}"' in page
    assert f'href="/cue-words/{rows["bananas"]}"' in page
    assert "<mark>Anagram</mark> of LIES" in page
    assert "<mark>anagram</mark> indicator" in page
    assert "Set by Rufus" in page


def test_front_page_escapes_hostile_clue(client, rows):
    page = client.get("/?q=quietly").get_data(as_text=True)

    assert "<script>alert" not in page
    assert "Stop <mark>quietly</mark> &lt;script&gt;" in page


def test_front_page_reports_no_match(client, rows):
    page = client.get("/?q=zeppelin").get_data(as_text=True)

    assert "Nothing matches" in page
    assert "zeppelin" in page


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PER_PAGE": 5}


@pytest.fixture
def many_rows(app, rows):
    with app.app_context():
        Solution.insert_many(
            [
                {
                    "clue": f"Pendulum clue number {number}",
                    "solution": f"ANSWER{number}",
                    "setter": rows["rufus"],
                    "solution_type": rows["anagram"],
                }
                for number in range(12)
            ]
        ).execute()


def test_front_page_pages_results(client, many_rows):
    first = client.get("/?q=pendulum").get_data(as_text=True)
    second = client.get("/?q=pendulum&page=2").get_data(as_text=True)
    last = client.get("/?q=pendulum&page=3").get_data(as_text=True)

    assert "12 solutions and" in first
    assert first.count('class="result"') == 5
    assert second.count('class="result"') == 5
    assert last.count('class="result"') == 2
    assert 'start="6"' in second
    assert 'href="/?q=pendulum&amp;page=3"' in second
    assert '<span aria-current="page">2</span>' in second


@pytest.mark.parametrize(
    ("page", "status"),
    [("4", 404), ("1000000000", 404), ("0", 400), ("abc", 400), ("-1", 400)],
)
def test_front_page_rejects_bad_page(client, many_rows, page, status):
    response = client.get(f"/?q=pendulum&page={page}")

    assert response.status_code == status


def test_search_pages_solutions(app, many_rows):
    with app.app_context():
        pages = [search.search_solutions("pendulum", n, 5) for n in (1, 2, 3)]

    ids = [hit.solution.id for page in pages for hit in page.items]
    assert len(ids) == 12
    assert len(set(ids)) == 12
    assert [page.pages for page in pages] == [3, 3, 3]


def test_search_lists_many_matches_newest_first(app, many_rows, monkeypatch):
    monkeypatch.setattr(search, "MAX_RANKED", 11)
    with app.app_context():
        pages = [search.search_solutions("pendulum", n, 5) for n in (1, 2, 3)]

    ids = [hit.solution.id for page in pages for hit in page.items]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 12


def test_search_past_end_raises_not_found(app, many_rows):
    with app.app_context():
        with pytest.raises(search.NotFound):
            search.search_solutions("pendulum", 4, 5)
        empty = search.search_solutions("pendulum", 4, 5, past_end=True)

    assert empty.items == []
    assert empty.total == 12


# -- Autocomplete ----------------------------------------------------------------


@pytest.fixture
def cue_words(app):
    with app.app_context():
        for word, meaning in [
            ("Initial", "first letter"),
            ("initially", "first letters"),
            ("initially", "at the start"),
            ("in", "contained"),
            ("100%", "a whole"),
            ("a_b", "joined"),
            ("about", "around"),
        ]:
            CueWord.create(cue_word=word, meaning=meaning)
        for number in range(12):
            CueWord.create(cue_word=f"zed{number:02}", meaning="filler")


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("ini", ["Initial", "initially"]),
        ("INI", ["Initial", "initially"]),
        ("initially", ["initially"]),
        ("in", ["in", "Initial", "initially"]),
        ("  ini  ", ["Initial", "initially"]),
        ("100%", ["100%"]),
        ("%", []),
        ("_", []),
        ("a_", ["a_b"]),
        ("a%", []),
        ("\\", []),
        ("\x00", []),
        ("", []),
        ("nothing", []),
    ],
)
def test_autocomplete_matches_prefix(app, cue_words, prefix, expected):
    with app.app_context():
        assert search.suggest_cue_words(prefix) == expected


def test_autocomplete_returns_ten_at_most(app, cue_words):
    with app.app_context():
        suggestions = search.suggest_cue_words("zed")

    assert suggestions == [f"zed{number:02}" for number in range(10)]


def test_autocomplete_uses_prefix_index(app, cue_words):
    with app.app_context():
        sql, params = search.suggestion_query("ini", 10)
        with db.database.atomic():
            if db.is_postgres():
                # The table is tiny, so the planner would rather scan it.
                db.database.execute_sql("SET LOCAL enable_seqscan = off")
                plan = db.database.execute_sql("EXPLAIN " + sql, params).fetchall()
            else:
                plan = db.database.execute_sql(
                    "EXPLAIN QUERY PLAN " + sql, params
                ).fetchall()

    text = " ".join(str(part) for row in plan for part in row)
    assert re.search(r"\bcue_words_prefix\b", text), text


# -- Bulk loads ----------------------------------------------------------------


def add_word_solution(word: str) -> None:
    setter = Setter.get()
    kind = SolutionType.get()
    Solution.create(
        clue=f"{word} clue", solution="X", hint="", setter=setter, solution_type=kind
    )


def test_deferred_index_finds_bulk_rows(app, rows):
    with app.app_context():
        with db.database.atomic(), search.deferred_index():
            add_word_solution("zeppelin")
        # The insert triggers are back: a later row is indexed at once.
        add_word_solution("xylophone")

    assert len(solution_ids(app, "zeppelin")) == 1
    assert len(solution_ids(app, "xylophone")) == 1
    assert solution_ids(app, "lighthouse") == [rows["lighthouse"]]


def test_deferred_index_rollback_keeps_triggers(app, rows):
    with app.app_context():
        with db.database.atomic() as transaction, search.deferred_index():
            add_word_solution("zeppelin")
            transaction.rollback()
        add_word_solution("xylophone")

    assert solution_ids(app, "zeppelin") == []
    assert len(solution_ids(app, "xylophone")) == 1
