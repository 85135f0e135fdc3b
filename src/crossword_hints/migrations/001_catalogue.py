"""Create the catalogue tables with the older app's table and column names."""

import peewee as pw
from peewee import SQL, Check
from peewee_migrate import Migrator


def _len(column, limit):
    return Check(f"length({column}) <= {limit}")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    class Content(pw.Model):
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()
        version = pw.IntegerField(constraints=[SQL("DEFAULT 1")])

    @migrator.create_model
    class SetterType(Content):
        name = pw.CharField(max_length=64, unique=True, constraints=[_len("name", 64)])
        description = pw.TextField(constraints=[_len("description", 2000)])

        class Meta:
            table_name = "setter_types"

    @migrator.create_model
    class Setter(Content):
        name = pw.CharField(max_length=64, unique=True, constraints=[_len("name", 64)])
        setter_type = pw.ForeignKeyField(
            SetterType, column_name="setter_type_id", on_delete="RESTRICT"
        )
        description = pw.TextField(constraints=[_len("description", 2000)])

        class Meta:
            table_name = "crossword_setters"

    @migrator.create_model
    class SolutionType(Content):
        name = pw.CharField(max_length=64, unique=True, constraints=[_len("name", 64)])
        description = pw.TextField(constraints=[_len("description", 2000)])

        class Meta:
            table_name = "solution_types"

    @migrator.create_model
    class Solution(Content):
        clue = pw.TextField(constraints=[_len("clue", 500)])
        solution = pw.CharField(max_length=100, constraints=[_len("solution", 100)])
        hint = pw.TextField(
            column_name="solution_hint", constraints=[_len("solution_hint", 4000)]
        )
        setter = pw.ForeignKeyField(
            Setter, column_name="crossword_setter_id", on_delete="RESTRICT"
        )
        solution_type = pw.ForeignKeyField(
            SolutionType, column_name="solution_type_id", on_delete="RESTRICT"
        )

        class Meta:
            table_name = "crossword_solutions"

    @migrator.create_model
    class CueWord(Content):
        cue_word = pw.CharField(max_length=64, constraints=[_len("cue_word", 64)])
        meaning = pw.TextField(constraints=[_len("meaning", 500)])
        duplicate_of = pw.ForeignKeyField(
            "self", null=True, column_name="duplicate_of_id", on_delete="SET NULL"
        )

        class Meta:
            table_name = "cue_words"

    # A partial index, so that the older app's exact duplicates can be kept
    # (marked with duplicate_of) while new rows stay unique.
    migrator.sql(
        "CREATE UNIQUE INDEX cue_words_word_meaning ON cue_words (cue_word, meaning)"
        " WHERE duplicate_of_id IS NULL"
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in (
        "cue_words",
        "crossword_solutions",
        "solution_types",
        "crossword_setters",
        "setter_types",
    ):
        migrator.sql(f"DROP TABLE IF EXISTS {table}")
