"""Add full-text search over solutions and cue words, and a cue-word prefix index.

SQLite gets FTS5 tables with external content: they store only the index
and read the text from the base tables. Triggers keep them in step with
every insert, update and delete, including bulk statements that bypass
the models. PostgreSQL gets a generated ``tsvector`` column per table with
a GIN index, so the database itself keeps the index current.

Both use the same word rules: words are split on anything that is not a
letter or digit, case is ignored, accents are kept (PostgreSQL's
``simple`` configuration has no accent folding), and no word is dropped
as a stop word, so "initially" matches exactly as typed.
"""

import string

import peewee as pw
from peewee_migrate import Migrator

#: Indexed columns per table, most telling first; the weights rank a match
#: in a solution above one in a clue, and one in a clue above one in a hint.
SEARCHED = {
    "crossword_solutions": [("solution", "A"), ("clue", "B"), ("solution_hint", "C")],
    "cue_words": [("cue_word", "A"), ("meaning", "B")],
}


def is_postgres(database: pw.Database) -> bool:
    # The router may hand over the proxy rather than the database itself.
    return isinstance(getattr(database, "obj", database), pw.PostgresqlDatabase)


def sqlite_statements(table: str, columns: list[str]) -> list[str]:
    fts = f"{table}_fts"
    names = ", ".join(columns)
    new_values = ", ".join(f"new.{column}" for column in columns)
    old_values = ", ".join(f"old.{column}" for column in columns)
    # External-content FTS5 tables delete a row by being sent its old values.
    remove_old = (
        f"INSERT INTO {fts} ({fts}, rowid, {names})"
        f" VALUES ('delete', old.id, {old_values});"
    )
    add_new = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.id, {new_values});"

    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}',"
        " content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add_new} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {remove_old} END",
        # Listing the columns skips the index for updates that only touch
        # timestamps, versions or foreign keys.
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF id, {names} ON {table}"
        f" BEGIN {remove_old} {add_new} END",
        # Index the rows that exist already.
        f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
    ]


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


#: ASCII punctuation that PostgreSQL's parser gives meaning to. "%" is left
#: out because psycopg would read it as a placeholder, and the parser
#: treats it as a space anyway.
PUNCTUATION = string.punctuation.replace("%", "")


def postgres_words(column: str) -> str:
    """Return an SQL expression of *column* with ASCII punctuation blanked.

    PostgreSQL's parser reads "<b>" as an HTML tag and drops it (and all
    of "<script>...</script>"), and reads "a.b", "a/b" or "a@b" as host
    names, paths or addresses. Blanking the punctuation first makes it
    split words as SQLite's tokenizer and the highlighter do.
    """
    return (
        f"translate(coalesce({column}, ''), {sql_text(PUNCTUATION)},"
        f" {sql_text(' ' * len(PUNCTUATION))})"
    )


def postgres_statements(table: str, weighted: list[tuple[str, str]]) -> list[str]:
    vector = " || ".join(
        f"setweight(to_tsvector('simple'::regconfig, {postgres_words(column)}),"
        f" '{weight}')"
        for column, weight in weighted
    )
    # A stored generated column is filled for existing rows as it is added.
    return [
        f"ALTER TABLE {table} ADD COLUMN search_vector tsvector"
        f" GENERATED ALWAYS AS ({vector}) STORED",
        f"CREATE INDEX {table}_search ON {table} USING gin (search_vector)",
    ]


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    postgres = is_postgres(database)

    for table, weighted in SEARCHED.items():
        if postgres:
            statements = postgres_statements(table, weighted)
        else:
            statements = sqlite_statements(table, [column for column, _ in weighted])
        for statement in statements:
            migrator.sql(statement)

    # Autocomplete looks cue words up by a case-insensitive prefix. SQLite
    # serves LIKE 'pre%' from a NOCASE index on the column itself;
    # PostgreSQL serves lower(cue_word) LIKE 'pre%' from a pattern-ops index.
    if postgres:
        migrator.sql(
            "CREATE INDEX cue_words_prefix ON cue_words"
            " (lower(cue_word) text_pattern_ops)"
        )
    else:
        migrator.sql(
            "CREATE INDEX cue_words_prefix ON cue_words (cue_word COLLATE NOCASE)"
        )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP INDEX IF EXISTS cue_words_prefix")

    for table in SEARCHED:
        if is_postgres(database):
            migrator.sql(f"DROP INDEX IF EXISTS {table}_search")
            migrator.sql(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
        else:
            for event in ("insert", "delete", "update"):
                migrator.sql(f"DROP TRIGGER IF EXISTS {table}_fts_{event}")
            migrator.sql(f"DROP TABLE IF EXISTS {table}_fts")
