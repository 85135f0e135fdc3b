"""Search hits: the rows they carry and highlighting checked against a reference."""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import strategies
from markupsafe import Markup, escape

from crossword_hints.catalogue import search
from crossword_hints.catalogue.models import Solution
from search_samples import add_search_rows


def mark_word_by_word(text: str, terms: search.Terms) -> str:
    """Mark matching words by normalizing every word, with no shortcut."""
    pieces = []
    position = 0
    for match in search.WORD.finditer(text):
        word = search.normalize(match.group())
        prefix_match = terms.prefix and word.startswith(terms.words[-1])
        if word not in terms.words and not prefix_match:
            continue
        pieces.append(str(escape(text[position : match.start()])))
        pieces.append(f"<mark>{escape(match.group())}</mark>")
        position = match.end()

    pieces.append(str(escape(text[position:])))
    return "".join(pieces)


#: Mostly ASCII with markup, accents and letters that NFC changes, so that
#: both the ASCII shortcut and the general path run. NFC composes the Hangul
#: jamo U+1100 U+1161 into U+AC00 and turns the ohm sign U+2126 into U+03A9.
MIXED_TEXT = strategies.lists(
    strategies.sampled_from(
        [*"abcLIGHTxyz019 <>&\"'.,-_", "é", "e\u0301", "İ", "ß"]
        + ["\u1100", "\u1161", "\uac00", "\u2126", "\u03c9"]
    ),
    max_size=60,
).map("".join)


@pytest.mark.parametrize(
    ("text", "query", "expected"),
    [
        # Jamo that compose into the query's syllable only once normalized.
        ("\u1100\u1161 x", "\uac00", "<mark>\u1100\u1161</mark> x"),
        ("\u2126 & \u03c9", "\u03c9", "<mark>\u2126</mark> &amp; <mark>\u03c9</mark>"),
        (
            "LIGHT <b>light</b>",
            "Light",
            "<mark>LIGHT</mark> &lt;b&gt;<mark>light</mark>&lt;/b&gt;",
        ),
        ("Lighthouse & keeper", "lig", "<mark>Lighthouse</mark> &amp; keeper"),
        ("a <b> & c", "absent", "a &lt;b&gt; &amp; c"),
        ("", "word", ""),
    ],
)
def test_highlight_marks_normalized_words(text, query, expected):
    terms = search.parse_query(query)
    result = search.highlight(text, terms)

    assert str(result) == expected
    assert str(result) == mark_word_by_word(text, terms)


@hypothesis.given(text=MIXED_TEXT, query=MIXED_TEXT)
def test_highlight_agrees_with_reference(text, query):
    terms = search.parse_query(query)
    result = search.highlight(text, terms)

    assert isinstance(result, Markup)
    assert str(result) == mark_word_by_word(text, terms)


@hypothesis.given(text=strategies.text(), query=strategies.text(max_size=50))
def test_highlight_agrees_on_any_text(text, query):
    terms = search.parse_query(query)

    assert str(search.highlight(text, terms)) == mark_word_by_word(text, terms)


def test_hit_carries_stored_solution(app):
    rows = add_search_rows(app)
    with app.app_context():
        hit = search.search_solutions("quietly").items[0]
        stored = Solution.get_by_id(rows["hostile"])

        assert hit.solution.id == stored.id
        assert hit.solution.__data__ == stored.__data__
        assert hit.solution.created_at == stored.created_at
        assert hit.solution.updated_at == stored.updated_at
        assert hit.solution.setter.id == stored.setter.id
        assert hit.solution.setter.name == stored.setter.name
        assert hit.solution.solution_type.id == stored.solution_type.id
        assert hit.solution.solution_type.name == stored.solution_type.name
        assert not hit.solution.is_dirty()
        assert not hit.solution.setter.is_dirty()
