"""The crossword content: setters, solution types, solutions and cue words.

Table and column names are those of the older app, so that its database,
its activity log and any SQL people wrote against it keep working.
Length limits are checked by the database itself (``CHECK`` constraints),
so bulk queries cannot store what a form would reject.
"""

from __future__ import annotations

from datetime import UTC, datetime

import peewee
from peewee import SQL, Check

from .. import activity
from ..db import BaseModel

#: Maximum lengths in characters. The older app's longest values are far
#: below these: 25 for a name, 132 for a description, 117 for a clue, 41
#: for a solution, 106 for a hint, 15 for a cue word and 71 for a meaning.
NAME_MAX = 64
DESCRIPTION_MAX = 2000
CLUE_MAX = 500
SOLUTION_MAX = 100
HINT_MAX = 4000
CUE_WORD_MAX = 64
MEANING_MAX = 500


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def length_check(column: str, limit: int) -> Check:
    return Check(f"length({column}) <= {limit}")


class ContentModel(BaseModel):
    """Base for every catalogue table: timestamps and an edit version.

    ``version`` goes up by one on every save; edit forms carry it so that a
    save based on an older version is detected instead of overwriting a
    newer one.
    """

    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    version = peewee.IntegerField(default=1, constraints=[SQL("DEFAULT 1")])

    #: Human name of one row, for messages ("setter type").
    label = "record"

    def __str__(self) -> str:
        return str(getattr(self, "name", self.get_id()))

    def save_if_version(self, expected: int) -> bool:
        """Write this row's fields only if its stored version is *expected*.

        One conditional ``UPDATE ... WHERE id = ? AND version = ?`` sets
        every field, ``updated_at`` and ``version = expected + 1``. Returns
        ``False`` and changes nothing when another save came first or the
        row is gone. Call it inside ``database.atomic()``.
        """
        model = type(self)
        meta = model._meta
        now = utcnow()
        values: dict[peewee.Field, object] = {
            field: self.__data__.get(field.name)
            for field in meta.sorted_fields
            if field is not meta.primary_key
            and field.name not in ("created_at", "updated_at", "version")
        }
        values[model.updated_at] = now
        values[model.version] = expected + 1

        updated = (
            model.update(values)
            .where((meta.primary_key == self.get_id()) & (model.version == expected))
            .execute()
        )
        if not updated:
            return False

        self.updated_at = now
        self.version = expected + 1
        return True


class SetterType(ContentModel):
    name = peewee.CharField(
        max_length=NAME_MAX, unique=True, constraints=[length_check("name", NAME_MAX)]
    )
    description = peewee.TextField(
        default="", constraints=[length_check("description", DESCRIPTION_MAX)]
    )
    label = "setter type"

    class Meta:
        table_name = "setter_types"


class Setter(ContentModel):
    name = peewee.CharField(
        max_length=NAME_MAX, unique=True, constraints=[length_check("name", NAME_MAX)]
    )
    setter_type = peewee.ForeignKeyField(
        SetterType,
        column_name="setter_type_id",
        backref="setters",
        on_delete="RESTRICT",
    )
    description = peewee.TextField(
        default="", constraints=[length_check("description", DESCRIPTION_MAX)]
    )
    label = "setter"

    class Meta:
        table_name = "crossword_setters"


class SolutionType(ContentModel):
    name = peewee.CharField(
        max_length=NAME_MAX, unique=True, constraints=[length_check("name", NAME_MAX)]
    )
    description = peewee.TextField(
        default="", constraints=[length_check("description", DESCRIPTION_MAX)]
    )
    label = "solution type"

    class Meta:
        table_name = "solution_types"


class Solution(ContentModel):
    clue = peewee.TextField(constraints=[length_check("clue", CLUE_MAX)])
    solution = peewee.CharField(
        max_length=SOLUTION_MAX, constraints=[length_check("solution", SOLUTION_MAX)]
    )
    hint = peewee.TextField(
        column_name="solution_hint",
        default="",
        constraints=[length_check("solution_hint", HINT_MAX)],
    )
    setter = peewee.ForeignKeyField(
        Setter,
        column_name="crossword_setter_id",
        backref="solutions",
        on_delete="RESTRICT",
    )
    solution_type = peewee.ForeignKeyField(
        SolutionType,
        column_name="solution_type_id",
        backref="solutions",
        on_delete="RESTRICT",
    )
    label = "solution"

    class Meta:
        table_name = "crossword_solutions"

    def __str__(self) -> str:
        return self.solution


class CueWord(ContentModel):
    """An indicator word and one thing it can signal.

    A word may have several meanings, so ``(cue_word, meaning)`` is unique
    rather than the word alone. The older app's database holds a few exact
    duplicates; the import keeps them, with ``duplicate_of`` pointing at the
    first copy, and the unique index skips rows marked that way.
    """

    cue_word = peewee.CharField(
        max_length=CUE_WORD_MAX, constraints=[length_check("cue_word", CUE_WORD_MAX)]
    )
    meaning = peewee.TextField(constraints=[length_check("meaning", MEANING_MAX)])
    duplicate_of = peewee.ForeignKeyField(
        "self",
        null=True,
        column_name="duplicate_of_id",
        backref="duplicates",
        on_delete="SET NULL",
    )
    label = "cue word"

    class Meta:
        table_name = "cue_words"

    def __str__(self) -> str:
        return self.cue_word


#: Every catalogue model, parents before children.
MODELS = [SetterType, Setter, SolutionType, Solution, CueWord]


def touch(row: ContentModel) -> None:
    """Mark a restored row as a new version, so that open edit forms see it."""
    row.version = (row.version or 0) + 1
    row.updated_at = utcnow()


# Every write to these tables is recorded in the activity log. The time of
# the last save and the edit version change on every save, so they are
# bookkeeping: a save that changes nothing else writes no entry. The
# search triggers and generated columns of these tables change other
# tables or columns outside the models, never a model's own fields, so an
# update's rows need not be read back.
for _model in MODELS:
    activity.logged(
        _model,
        exclude=("updated_at", "version"),
        on_restore=touch,
        reread=False,
    )
