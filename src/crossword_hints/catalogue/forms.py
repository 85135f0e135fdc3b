"""Add and edit forms for the catalogue sections.

Each form's data fields carry the names of the model fields they fill, so
one view can copy values between a form and a row. Limits come from the
model constants, so a form never accepts what the database would reject.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_wtf import FlaskForm
from peewee import fn
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from .models import (
    CLUE_MAX,
    CUE_WORD_MAX,
    DESCRIPTION_MAX,
    HINT_MAX,
    MEANING_MAX,
    NAME_MAX,
    SOLUTION_MAX,
    Setter,
    SetterType,
    SolutionType,
)

#: Largest value of a 32-bit ``INTEGER`` column (ids and versions on
#: PostgreSQL); a larger number in a form is invalid, not a database error.
INT_MAX = 2**31 - 1

TOO_LONG = "Use at most %(max)d characters; this has %(length)d."


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def normalize_newlines(value: Any) -> Any:
    # Browsers send textarea lines ending in CRLF. Stored text uses LF, so
    # an untouched field compares equal to the stored value.
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


#: Unicode categories a one-line field rejects: control characters (the
#: C0 and C1 sets and DEL, so NEL, U+0085, too) and the line and
#: paragraph separators U+2028 and U+2029.
NOT_IN_A_LINE = frozenset({"Cc", "Zl", "Zp"})


def single_line(form: FlaskForm, field: Any) -> None:
    """Reject control characters, line breaks included, in a one-line field."""
    if field.data and any(
        unicodedata.category(char) in NOT_IN_A_LINE for char in field.data
    ):
        raise ValidationError("Use one line of plain text, without control characters.")


def plain_text(form: FlaskForm, field: Any) -> None:
    """Reject control characters other than tabs and line feeds.

    PostgreSQL cannot store a NUL character at all, so it must never reach
    the database.
    """
    allowed = {"\t", "\n"}
    if field.data and any(
        unicodedata.category(char) == "Cc" and char not in allowed
        for char in field.data
    ):
        raise ValidationError("Use plain text, without control characters.")


def optional_id(value: Any) -> int | None:
    """Coerce a submitted option to a row id, or ``None`` for the empty option."""
    if value is None or value == "":
        return None
    return int(value)


def line_field(label: str, limit: int, *, required: bool = True) -> StringField:
    presence = DataRequired(f"Enter the {label.lower()}.") if required else Optional()
    return StringField(
        label,
        filters=[strip],
        validators=[presence, Length(max=limit, message=TOO_LONG), single_line],
        description=f"Up to {limit} characters.",
    )


def empty_if_missing(value: Any) -> Any:
    # A request that leaves an optional text area out entirely stores an
    # empty text, as a browser sending it empty does, never NULL.
    return "" if value is None else value


def text_field(label: str, limit: int, *, required: bool = False) -> TextAreaField:
    presence = DataRequired(f"Enter the {label.lower()}.") if required else Optional()
    return TextAreaField(
        label,
        filters=[normalize_newlines, strip, empty_if_missing],
        validators=[presence, Length(max=limit, message=TOO_LONG), plain_text],
        description=f"Up to {limit} characters.",
    )


def row_field(label: str, model: type[Any], plural: str) -> SelectField:
    """Build a drop-down of every row of *model* by name, with an empty first option."""

    def choices() -> list[tuple[Any, str]]:
        rows = model.select(model.id, model.name).order_by(fn.LOWER(model.name))
        return [("", f"Choose a {label.lower()}")] + [
            (row.id, row.name) for row in rows
        ]

    return SelectField(
        label,
        coerce=optional_id,
        choices=choices,
        validators=[InputRequired(f"Choose a {label.lower()}.")],
        invalid_value_message=f"Choose one of the listed {plural}.",
        invalid_choice_message=f"Choose one of the listed {plural}; "
        "the one you chose may have been deleted.",
    )


class SetterTypeForm(FlaskForm):
    name = line_field("Name", NAME_MAX)
    description = text_field("Description", DESCRIPTION_MAX)


class SetterForm(FlaskForm):
    name = line_field("Name", NAME_MAX)
    setter_type = row_field("Setter type", SetterType, "setter types")
    description = text_field("Description", DESCRIPTION_MAX)


class SolutionTypeForm(FlaskForm):
    name = line_field("Name", NAME_MAX)
    description = text_field("Description", DESCRIPTION_MAX)


class SolutionForm(FlaskForm):
    clue = text_field("Clue", CLUE_MAX, required=True)
    solution = line_field("Solution", SOLUTION_MAX)
    hint = text_field("Hint", HINT_MAX)
    setter = row_field("Setter", Setter, "setters")
    solution_type = row_field("Solution type", SolutionType, "solution types")


class CueWordForm(FlaskForm):
    cue_word = line_field("Cue word", CUE_WORD_MAX)
    meaning = text_field("Meaning", MEANING_MAX, required=True)


class VersionField(IntegerField):
    """A hidden version number whose only errors are the validators' own.

    IntegerField adds "Not a valid integer value." for text that is not a
    number, in front of the validator's clearer message about the version.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


class VersionFields:
    """Hidden fields that an edit form adds to its data fields.

    ``version`` is the row's version when the form was loaded. ``original``
    is a JSON object of the values the form started from, so a stale save
    can show what the user changed as well as what others changed.
    """

    version = VersionField(
        widget=HiddenInput(),
        validators=[
            InputRequired("The form lost its version number; reload the edit page."),
            NumberRange(min=1, max=INT_MAX, message="The form's version is invalid."),
        ],
    )
    original = HiddenField()


def edit_form_class(form_class: type[FlaskForm]) -> type[FlaskForm]:
    """Return *form_class* with the hidden version fields added."""
    return type("Edit" + form_class.__name__, (form_class, VersionFields), {})


class DeleteForm(FlaskForm):
    """The delete confirmation: its CSRF token and the row's version.

    The confirmation page sends the version it showed, so a row changed
    after the page loaded is not deleted unseen. A post without a version
    deletes whatever version is stored, as a script may do.
    """

    version = VersionField(
        widget=HiddenInput(),
        validators=[
            Optional(),
            NumberRange(min=1, max=INT_MAX, message="The form's version is invalid."),
        ],
    )
