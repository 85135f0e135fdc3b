"""Full-text search over solutions and cue words, with safe highlighting.

The index lives in the database (migration ``002_search``): FTS5 tables on
SQLite and a ``tsvector`` column with a GIN index on PostgreSQL. User input
is never passed on as query syntax. It is split into plain words, and
each word is quoted before it reaches the database, so quotes, operators,
``*``, ``:`` or ``NEAR`` are searched for as text or dropped.

Every word must occur somewhere in the row (in any searched column). The
last word also matches as a prefix when it is at least
:data:`MIN_PREFIX_LENGTH` characters long and the query does not end with
a space or punctuation, so "initi" finds "initially" while the user types.
Results come best first, or newest first when there are more than
:data:`MAX_RANKED` of them.

The functions here need no request: they use the bound database, so a
script can call them after :func:`crossword_hints.create_app`.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import peewee
from markupsafe import Markup, escape

from .. import db
from ..errors import AppError, NotFound
from .models import CueWord, Setter, Solution, SolutionType

log = logging.getLogger(__name__)

#: Maximum query length in characters. A longer query is rejected with 400.
MAX_QUERY_LENGTH = 200

#: Shortest last word that also matches as a prefix. Shorter prefixes
#: match a large share of all rows and tell the user little.
MIN_PREFIX_LENGTH = 3

#: Maximum number of matches that are sorted by relevance. Ranking reads
#: every match, so a common word in a large catalogue would cost far more
#: than the page it fills. Beyond this many matches, the newest rows come
#: first instead.
MAX_RANKED = 5000

#: Maximum number of suggestions that autocomplete returns.
MAX_SUGGESTIONS = 10

#: A word: letters and digits of any script. Everything else separates
#: words, much as in the FTS5 ``unicode61`` tokenizer and in PostgreSQL's
#: parser once the migration has blanked ASCII punctuation.
#: NOTE: unicode61 counts symbols such as emoji as word characters, so on
#: SQLite a stored "🙂bananas" is one word that "bananas" does not find.
WORD = re.compile(r"[^\W_]+")

T = TypeVar("T")
M = TypeVar("M", bound=peewee.Model)


class QueryTooLong(AppError):
    title = "Query too long"


@dataclass(frozen=True)
class Terms:
    """The words of one query, lower-cased, and whether the last is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    def __bool__(self) -> bool:
        return bool(self.words)

    def matches(self, word: str) -> bool:
        """Tell whether *word* from a text is one the query searches for."""
        # NFC leaves ASCII unchanged, so plain lower() gives the same result.
        word = word.lower() if word.isascii() else normalize(word)
        if word in self.words:
            return True
        return self.prefix and word.startswith(self.words[-1])

    def may_occur_in(self, text: str) -> bool:
        """Tell whether *text* may contain a word that :meth:`matches`.

        False is certain. For ASCII text, a matching word contains a query
        word, so the lower-cased text must contain it too. Other text
        always gives True, because normalizing can change single words.
        """
        if not text.isascii():
            return True
        lowered = text.lower()
        return any(word in lowered for word in self.words)

    def fts5(self) -> str:
        """Return an FTS5 query in which every word is a quoted string."""
        quoted = ['"' + word.replace('"', '""') + '"' for word in self.words]
        return " ".join(quoted) + ("*" if self.prefix else "")

    def tsquery(self) -> str:
        """Return a ``to_tsquery`` text in which every word is a quoted lexeme."""
        quoted = [
            "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
            for word in self.words
        ]
        return " & ".join(quoted) + (":*" if self.prefix else "")


@dataclass(frozen=True)
class SearchPage(Generic[T]):
    """One page of results and what is needed to link to the others."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages; at least 1, so that page 1 always exists."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_number(self) -> int:
        """Position of the first item on this page among all results, from 1."""
        return (self.page - 1) * self.per_page + 1


@dataclass(frozen=True)
class SolutionHit:
    """A matching solution with its searched fields highlighted as HTML."""

    solution: Solution
    clue: Markup
    answer: Markup
    hint: Markup


@dataclass(frozen=True)
class CueWordHit:
    """A matching cue word with its fields highlighted as HTML."""

    cue_word: CueWord
    word: Markup
    meaning: Markup


def normalize(text: str) -> str:
    # NFC, so that "e" plus a combining accent equals the stored "é".
    return unicodedata.normalize("NFC", text).lower()


def parse_query(query: str) -> Terms:
    """Split a user's query into plain words.

    Raises :class:`QueryTooLong` for more than :data:`MAX_QUERY_LENGTH`
    characters. A query with no letters or digits gives empty terms.
    """
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryTooLong(
            f"The search is {len(query)} characters long; the limit is "
            f"{MAX_QUERY_LENGTH}. Please use fewer words.",
        )

    text = normalize(query)
    words = tuple(WORD.findall(text))
    if not words:
        return Terms(())

    ends_in_word = WORD.match(text[-1]) is not None
    prefix = ends_in_word and len(words[-1]) >= MIN_PREFIX_LENGTH
    return Terms(words, prefix)


def highlight(text: str, terms: Terms) -> Markup:
    """Return *text* as HTML with each matched word wrapped in ``<mark>``.

    Every piece of *text* is escaped before it is joined to the markup, so
    no part of the text is ever trusted as HTML.
    """
    if not terms.may_occur_in(text):
        return escape(text)

    # Escaped pieces are joined as plain strings and wrapped once at the end.
    pieces: list[str] = []
    position = 0

    for match in WORD.finditer(text):
        word = match.group()
        if not terms.matches(word):
            continue
        pieces.append(escape(text[position : match.start()]))
        pieces.append(f"<mark>{escape(word)}</mark>")
        position = match.end()

    pieces.append(escape(text[position:]))
    return Markup("".join(pieces))


def check_paging(page: int, per_page: int) -> None:
    if page < 1:
        raise AppError(f"Page {page} is invalid; pages are numbered from 1.")
    if per_page < 1:
        raise AppError(f"per_page {per_page} is invalid; it must be at least 1.")


def check_page_exists(page: int, total: int, per_page: int) -> None:
    """Raise :class:`NotFound` for a page past the last one."""
    pages = max(1, math.ceil(total / per_page))
    if page > pages:
        raise NotFound(
            f"Page {page} does not exist; the last page is {pages}.",
            pages=pages,
        )


def count_matches(table: str, terms: Terms) -> int:
    if db.is_postgres():
        sql = (
            f"SELECT count(*) FROM {table}"
            " WHERE search_vector @@ to_tsquery('simple', %s)"
        )
        params: tuple = (terms.tsquery(),)
    else:
        fts = f"{table}_fts"
        sql = f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ?"
        params = (terms.fts5(),)
    return db.database.execute_sql(sql, params).fetchone()[0]


def page_of_ids(
    table: str,
    weights: Sequence[float],
    terms: Terms,
    offset: int,
    limit: int,
    ranked: bool,
) -> list[int]:
    """Return ids of one page of matching rows of *table*.

    With *ranked*, rows come best first and then by id, and *weights* rank
    a match per searched column, in the migration's column order. They lie
    between 0 and 1, because PostgreSQL's ``ts_rank`` rejects others.
    Without *ranked*, the newest rows (highest ids) come first.
    """
    if db.is_postgres():
        query = terms.tsquery()
        where = "search_vector @@ to_tsquery('simple', %s)"
        if ranked:
            # ts_rank takes four weights, for labels D, C, B and A in order.
            padded = [*weights, 0.0, 0.0, 0.0][:4]
            order = (
                "ts_rank(%s::float4[], search_vector, to_tsquery('simple', %s))"
                " DESC, id"
            )
            params: tuple = (query, list(reversed(padded)), query, limit, offset)
        else:
            order = "id DESC"
            params = (query, limit, offset)
        sql = (
            f"SELECT id FROM {table} WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s"
        )
    else:
        fts = f"{table}_fts"
        if ranked:
            bm25_weights = ", ".join(str(weight) for weight in weights)
            order = f"bm25({fts}, {bm25_weights}), rowid"
        else:
            order = "rowid DESC"
        sql = (
            f"SELECT rowid FROM {fts} WHERE {fts} MATCH ?"
            f" ORDER BY {order} LIMIT ? OFFSET ?"
        )
        params = (terms.fts5(), limit, offset)
    return [row[0] for row in db.database.execute_sql(sql, params).fetchall()]


def search(
    query: str,
    page: int,
    per_page: int,
    past_end: bool,
    table: str,
    weights: Sequence[float],
    load: Callable[[list[int]], dict[int, M]],
    make_hit: Callable[[M, Terms], T],
) -> SearchPage[T]:
    check_paging(page, per_page)
    terms = parse_query(query)
    total = count_matches(table, terms) if terms else 0

    # Checking before the page query also keeps huge page numbers out of
    # OFFSET, where SQLite would overflow.
    if (page - 1) * per_page >= total:
        if not past_end:
            check_page_exists(page, total, per_page)
        return SearchPage([], total, page, per_page)

    offset = (page - 1) * per_page
    ranked = total <= MAX_RANKED
    ids = page_of_ids(table, weights, terms, offset, per_page, ranked)
    rows = load(ids)
    # A row deleted between the two queries is simply left out.
    items = [make_hit(rows[row_id], terms) for row_id in ids if row_id in rows]
    log.debug("Search of %s for %r: %d matches", table, query, total)
    return SearchPage(items, total, page, per_page)


def solutions_with_names() -> peewee.ModelSelect[Solution]:
    """Select solutions joined to their setter and solution type."""
    return (
        Solution.select(Solution, Setter, SolutionType)
        .join(Setter)
        .switch(Solution)
        .join(SolutionType)
    )


def load_solutions(ids: list[int]) -> dict[int, Solution]:
    """Load solutions by id, each with the id and name of its setter and type.

    A hit shows only those two names, so the setter and the solution type
    are partial rows whose other fields are None. One plain statement,
    with the models filled in as peewee fills them, costs far less than a
    peewee join that builds and converts all three rows in full.
    """
    if not ids:
        return {}

    fields = Solution._meta.sorted_fields
    setter_key = Solution.setter.rel_field.column_name
    type_key = Solution.solution_type.rel_field.column_name
    columns = ", ".join(f"s.{field.column_name}" for field in fields)
    placeholders = ", ".join(db.database.param for _ in ids)
    sql = (
        f"SELECT {columns}, setter.{setter_key}, setter.name, kind.{type_key},"
        f" kind.name FROM {Solution._meta.table_name} AS s"
        f" JOIN {Setter._meta.table_name} AS setter"
        f" ON setter.{setter_key} = s.{Solution.setter.column_name}"
        f" JOIN {SolutionType._meta.table_name} AS kind"
        f" ON kind.{type_key} = s.{Solution.solution_type.column_name}"
        f" WHERE s.id IN ({placeholders})"
    )

    solutions = {}
    count = len(fields)
    for row in db.database.execute_sql(sql, ids):
        solution = Solution(__no_default__=True)
        for field, value in zip(fields, row[:count], strict=True):
            setattr(solution, field.name, field.python_value(value))
        setter_id, setter_name, type_id, type_name = row[count:]
        solution.setter = partial_row(Setter, setter_id, setter_name)
        solution.solution_type = partial_row(SolutionType, type_id, type_name)
        solution._dirty.clear()
        solutions[solution.id] = solution
    return solutions


def partial_row(model: type[M], row_id: int, name: str) -> M:
    """Build a *model* instance with only its id and name set, marked unmodified."""
    row = model(__no_default__=True, id=row_id, name=name)
    row._dirty.clear()
    return row


def load_cue_words(ids: list[int]) -> dict[int, CueWord]:
    if not ids:
        return {}
    return {row.id: row for row in CueWord.select().where(CueWord.id.in_(ids))}


def solution_hit(solution: Solution, terms: Terms) -> SolutionHit:
    return SolutionHit(
        solution,
        clue=highlight(solution.clue, terms),
        answer=highlight(solution.solution, terms),
        hint=highlight(solution.hint or "", terms),
    )


def cue_word_hit(cue_word: CueWord, terms: Terms) -> CueWordHit:
    return CueWordHit(
        cue_word,
        word=highlight(cue_word.cue_word, terms),
        meaning=highlight(cue_word.meaning, terms),
    )


def search_solutions(
    query: str, page: int = 1, per_page: int = 25, *, past_end: bool = False
) -> SearchPage[SolutionHit]:
    """Find solutions whose clue, solution or hint contain every query word.

    Raises :class:`QueryTooLong` (400) for an over-long query and
    :class:`~crossword_hints.errors.NotFound` (404) for a page past the
    last, unless *past_end* is true, which returns an empty page instead.
    A query without words matches nothing.
    """
    # Weights in column order of the migration: solution, clue, hint.
    return search(
        query,
        page,
        per_page,
        past_end,
        "crossword_solutions",
        (1.0, 0.4, 0.1),
        load_solutions,
        solution_hit,
    )


def search_cue_words(
    query: str, page: int = 1, per_page: int = 25, *, past_end: bool = False
) -> SearchPage[CueWordHit]:
    """Find cue words whose word or meaning contain every query word.

    Raises as :func:`search_solutions` does.
    """
    # Weights in column order of the migration: cue word, meaning.
    return search(
        query,
        page,
        per_page,
        past_end,
        "cue_words",
        (1.0, 0.1),
        load_cue_words,
        cue_word_hit,
    )


def recent_solutions(limit: int = 5) -> list[Solution]:
    """Return the solutions added last, newest first."""
    query = solutions_with_names().order_by(
        Solution.created_at.desc(), Solution.id.desc()
    )
    return list(query.limit(limit))


def suggestion_query(prefix: str, limit: int) -> tuple[str, tuple]:
    """Return the SQL and parameters that find cue words starting with *prefix*.

    The SQL is shaped so that the ``cue_words_prefix`` index serves it.
    """
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if db.is_postgres():
        sql = (
            "SELECT cue_word FROM cue_words"
            " WHERE lower(cue_word) LIKE lower(%s) ESCAPE '\\'"
            " GROUP BY cue_word ORDER BY lower(cue_word), cue_word LIMIT %s"
        )
    else:
        # SQLite's LIKE ignores the case of ASCII letters only, as the
        # NOCASE index does. The column must stand alone on the left of
        # LIKE, or SQLite cannot use the index.
        sql = (
            "SELECT DISTINCT cue_word FROM cue_words"
            " WHERE cue_word LIKE ? ESCAPE '\\'"
            " ORDER BY cue_word COLLATE NOCASE, cue_word LIMIT ?"
        )
    return sql, (pattern, limit)


def suggest_cue_words(prefix: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Return distinct cue words that start with *prefix*, ignoring case.

    Case is ignored for every letter on PostgreSQL but for ASCII letters
    only on SQLite. Raises :class:`QueryTooLong` for a prefix over
    :data:`MAX_QUERY_LENGTH` characters. An empty prefix gives no
    suggestions.
    """
    if len(prefix) > MAX_QUERY_LENGTH:
        raise QueryTooLong(
            f"The prefix is {len(prefix)} characters long; the limit is "
            f"{MAX_QUERY_LENGTH}.",
        )

    prefix = unicodedata.normalize("NFC", prefix.strip())
    # PostgreSQL text cannot hold NUL, so no stored word contains one.
    if not prefix or "\x00" in prefix:
        return []

    sql, params = suggestion_query(prefix, limit)
    return [row[0] for row in db.database.execute_sql(sql, params).fetchall()]


#: Tables with an FTS5 index on SQLite, kept in step by triggers.
INDEXED_TABLES = (Solution._meta.table_name, CueWord._meta.table_name)


@contextmanager
def deferred_index() -> Iterator[None]:
    """Index the rows a bulk load inserts once, at the end of the block.

    On SQLite each inserted row otherwise fires an FTS5 trigger, which
    costs more than indexing every row in one pass. Inside the caller's
    transaction the insert triggers are set aside, then put back exactly
    as stored and the indexes rebuilt if any row changed. A rollback
    undoes all of it, since SQLite's DDL is transactional. PostgreSQL
    computes its ``tsvector`` columns itself and needs nothing here.
    """
    if db.is_postgres():
        yield
        return

    names = [f"{table}_fts_insert" for table in INDEXED_TABLES]
    triggers = db.database.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        f" AND name IN ({', '.join('?' for _ in names)})",
        names,
    ).fetchall()
    changes_before = db.database.execute_sql("SELECT total_changes()").fetchone()[0]

    for name, _ in triggers:
        db.database.execute_sql(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        # A rollback inside the block has already brought them back.
        present = {
            row[0]
            for row in db.database.execute_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            )
        }
        for name, sql in triggers:
            if name not in present:
                db.database.execute_sql(sql)

    changes_after = db.database.execute_sql("SELECT total_changes()").fetchone()[0]
    if changes_after != changes_before:
        for table in INDEXED_TABLES:
            fts = f"{table}_fts"
            db.database.execute_sql(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")
