"""The five catalogue sections, described as data for the generic views.

A :class:`Section` names one table's model, form, list columns, detail
lines and the tables that refer to it. The :mod:`.views` module builds one
blueprint from each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import peewee
from flask import g, request, url_for
from flask_wtf import FlaskForm
from peewee import SQL, fn

from ..errors import NotFound
from . import forms
from .models import ContentModel, CueWord, Setter, SetterType, Solution, SolutionType

#: Maximum number of referring rows a rejected delete names before "and N more".
NAMED_REFERENCES = 5


@dataclass(frozen=True)
class Column:
    """One column of a list, or one line of a detail page.

    *key* names the model field it shows, so that a list of a row's
    children can leave out the column pointing back at the row.
    """

    label: str
    value: Callable[[Any], Any]
    url: Callable[[Any], str | None] | None = None
    key: str = ""
    multiline: bool = False
    numeric: bool = False
    #: Leave the line out of a detail page when it has no value.
    hide_empty: bool = False

    def link(self, row: Any) -> str | None:
        return self.url(row) if self.url else None


@dataclass(frozen=True)
class Reference:
    """A foreign key from section *section* that blocks deleting its target."""

    field: peewee.ForeignKeyField
    section: str
    #: Plural noun for the referring rows ("setters").
    plural: str
    singular: str


def row_id(row: ContentModel, name: str) -> Any:
    """Return the raw stored value of field *name*: the id for a foreign key."""
    return row.__data__.get(name)


def detail_url(section: str, key: str = "id") -> Callable[[Any], str | None]:
    endpoint = f"{section}.detail"

    def url(row: Any) -> str | None:
        value = row.id if key == "id" else row_id(row, key)
        return row_url(endpoint, value) if value is not None else None

    return url


def row_url(endpoint: str, id: int) -> str:
    """Return ``url_for(endpoint, id=id)`` for a route that ends in the id.

    A list page links to dozens of rows, and building each URL through the
    URL map costs more than the rest of its cell. So the URL of id 0 is
    built once per application context (one per request) and script root,
    and the other ids replace its 0.
    """
    prefixes = g.setdefault("row_url_prefixes", {})
    key = (endpoint, request.script_root)
    prefix = prefixes.get(key)
    if prefix is None:
        prefix = prefixes[key] = url_for(endpoint, id=0).removesuffix("0")
    return f"{prefix}{id}"


def related_name(key: str) -> Callable[[Any], str]:
    def value(row: Any) -> str:
        return getattr(row, key).name if row_id(row, key) is not None else ""

    return value


@dataclass
class Section:
    """Everything the generic views need to know about one table."""

    name: str
    url_prefix: str
    model: type[Any]
    form: type[FlaskForm]
    #: Title of the index page ("Setter types").
    title: str
    plural: str
    columns: list[Column]
    details: list[Column]
    order_by: Callable[[], list[Any]]
    #: Model field names the form edits, in form order.
    fields: list[str]
    #: Field names whose values together must be unique.
    unique: tuple[str, ...] = ("name",)
    references: list[Reference] = field(default_factory=list)
    #: Models joined to the rows on the named fields. Of each, only the id
    #: and the name are selected, because the pages show only the name.
    joins: list[tuple[type[Any], peewee.ForeignKeyField]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.label = self.model.label
        self.edit_form = forms.edit_form_class(self.form)

    # -- Queries ---------------------------------------------------------------

    def query(self) -> peewee.ModelSelect:
        # Turning a row's values into model fields costs more than the query
        # itself, so no more columns are read than the pages show.
        columns = [self.model]
        for model, _ in self.joins:
            columns += [model.id, model.name]
        query = self.model.select(*columns)
        for model, foreign_key in self.joins:
            query = query.switch(self.model).join(
                model, peewee.JOIN.LEFT_OUTER, on=foreign_key
            )
        if self.references:
            # The first reference is the one worth counting in the list.
            reference = self.references[0]
            child = reference.field.model
            usage = (
                child.select(fn.COUNT(child.id))
                .where(reference.field == self.model.id)
                .alias("usage_count")
            )
            query = query.select_extend(usage)
        return query.order_by(*self.order_by())

    def count_query(self) -> peewee.ModelSelect:
        """Select the number of rows that :meth:`query` returns.

        The joins of :meth:`query` are left outer joins on foreign keys,
        which match at most one row each, so they never change the number of
        rows. SQLite would still run them for every row it counts.
        """
        return self.model.select(fn.COUNT(SQL("*")))

    def get_or_404(self, id: int) -> ContentModel:
        row = self.query().where(self.model.id == id).first()
        if row is None:
            raise NotFound(f"There is no {self.label} with id {id}.")
        return row

    def values(self, row: ContentModel) -> dict[str, Any]:
        """Return the form-edited fields of *row*, foreign keys as ids."""
        return {name: row_id(row, name) for name in self.fields}

    def usage(self, row: ContentModel) -> list[str]:
        """Describe the rows that still refer to *row*, one line per table."""
        lines = []
        for reference in self.references:
            child = reference.field.model
            referring = child.select().where(reference.field == row.get_id())
            count = referring.count()
            if not count:
                continue

            section = SECTIONS[reference.section]
            names = [
                str(item)
                for item in referring.order_by(*section.order_by()).limit(
                    NAMED_REFERENCES
                )
            ]
            if count > len(names):
                names.append(f"and {count - len(names)} more")
            noun = reference.singular if count == 1 else reference.plural
            lines.append(f"{count} {noun}: {', '.join(names)}")
        return lines

    def clash(self, values: dict[str, Any], exclude: int | None) -> ContentModel | None:
        """Find another row that already has *values* in the unique fields."""
        if not self.unique:
            return None
        query = self.model.select()
        for name in self.unique:
            query = query.where(getattr(self.model, name) == values[name])
        if "duplicate_of" in self.model._meta.fields:
            query = query.where(self.model.duplicate_of.is_null())
        if exclude is not None:
            query = query.where(self.model.id != exclude)
        return query.first()

    def clash_message(self, values: dict[str, Any], exclude: int | None) -> str:
        existing = self.clash(values, exclude)
        if existing is None:
            # No unique value clashes, so a referenced row vanished or a
            # constraint the form does not know about failed.
            return (
                f"The {self.label} could not be saved because it conflicts with "
                "the current data; a row it refers to may have been deleted "
                "meanwhile. Reload the page and try again."
            )

        described = " and ".join(
            f"{self.form_label(name).lower()} “{values[name]}”" for name in self.unique
        )
        return (
            f"Another {self.label} (#{existing.get_id()}) already has the {described}."
        )

    def form_label(self, name: str) -> str:
        return getattr(self.form, name).args[0]

    # -- Forms -----------------------------------------------------------------

    def apply(self, form: FlaskForm, row: ContentModel) -> None:
        for name in self.fields:
            setattr(row, name, form[name].data)

    def display(self, form: FlaskForm, name: str, value: Any) -> str:
        """Return *value* of field *name* as the user reads it in the form."""
        if value is None:
            return ""
        choices = getattr(form[name], "choices", None)
        if choices:
            return next(
                (label for key, label in choices if key == value), f"#{value} (deleted)"
            )
        return str(value)


# -- The five sections ------------------------------------------------------------


def by_name(model: type[Any]) -> Callable[[], list[Any]]:
    return lambda: [fn.LOWER(model.name), model.name, model.id]


def usage_column(label: str) -> Column:
    return Column(label, lambda row: row.usage_count, numeric=True)


def name_column(section: str | None = None) -> Column:
    """Build the name column, linked to the row's page when *section* is given."""
    url = detail_url(section) if section else None
    return Column("Name", lambda row: row.name, url=url, key="name")


def description_column() -> Column:
    return Column(
        "Description", lambda row: row.description, key="description", multiline=True
    )


SECTIONS: dict[str, Section] = {}


def define_sections() -> list[Section]:
    setter_type_link = Column(
        "Setter type",
        related_name("setter_type"),
        url=detail_url("setter_types", "setter_type"),
        key="setter_type",
    )
    setter_link = Column(
        "Setter",
        related_name("setter"),
        url=detail_url("setters", "setter"),
        key="setter",
    )
    solution_type_link = Column(
        "Solution type",
        related_name("solution_type"),
        url=detail_url("solution_types", "solution_type"),
        key="solution_type",
    )
    duplicate_link = Column(
        "Duplicate of",
        lambda row: (
            f"#{row_id(row, 'duplicate_of')}" if row_id(row, "duplicate_of") else ""
        ),
        url=detail_url("cue_words", "duplicate_of"),
        key="duplicate_of",
        hide_empty=True,
    )
    clue_column = Column("Clue", lambda row: row.clue, url=detail_url("solutions"))
    solution_column = Column("Solution", lambda row: row.solution, key="solution")

    return [
        Section(
            name="setter_types",
            url_prefix="/setter-types",
            model=SetterType,
            form=forms.SetterTypeForm,
            title="Setter types",
            plural="setter types",
            columns=[
                name_column("setter_types"),
                description_column(),
                usage_column("Setters"),
            ],
            details=[name_column(), description_column()],
            order_by=by_name(SetterType),
            fields=["name", "description"],
            references=[Reference(Setter.setter_type, "setters", "setters", "setter")],
        ),
        Section(
            name="setters",
            url_prefix="/crossword-setters",
            model=Setter,
            form=forms.SetterForm,
            title="Setters",
            plural="setters",
            columns=[
                name_column("setters"),
                setter_type_link,
                usage_column("Solutions"),
            ],
            details=[name_column(), setter_type_link, description_column()],
            order_by=by_name(Setter),
            fields=["name", "setter_type", "description"],
            references=[
                Reference(Solution.setter, "solutions", "solutions", "solution")
            ],
            joins=[(SetterType, Setter.setter_type)],
        ),
        Section(
            name="solution_types",
            url_prefix="/solution-types",
            model=SolutionType,
            form=forms.SolutionTypeForm,
            title="Solution types",
            plural="solution types",
            columns=[
                name_column("solution_types"),
                description_column(),
                usage_column("Solutions"),
            ],
            details=[name_column(), description_column()],
            order_by=by_name(SolutionType),
            fields=["name", "description"],
            references=[
                Reference(Solution.solution_type, "solutions", "solutions", "solution")
            ],
        ),
        Section(
            name="solutions",
            url_prefix="/crossword-solutions",
            model=Solution,
            form=forms.SolutionForm,
            title="Solutions",
            plural="solutions",
            columns=[clue_column, solution_column, setter_link, solution_type_link],
            details=[
                Column("Clue", lambda row: row.clue, multiline=True),
                solution_column,
                Column("Hint", lambda row: row.hint, multiline=True),
                setter_link,
                solution_type_link,
            ],
            # Ids grow with every insert, and the legacy import keeps the
            # older app's ids, so the highest id is the newest solution.
            order_by=lambda: [Solution.id.desc()],  # type: ignore[attr-defined]
            fields=["clue", "solution", "hint", "setter", "solution_type"],
            unique=(),
            joins=[(Setter, Solution.setter), (SolutionType, Solution.solution_type)],
        ),
        Section(
            name="cue_words",
            url_prefix="/cue-words",
            model=CueWord,
            form=forms.CueWordForm,
            title="Cue words",
            plural="cue words",
            columns=[
                Column(
                    "Cue word",
                    lambda row: row.cue_word,
                    url=detail_url("cue_words"),
                    key="cue_word",
                ),
                Column("Meaning", lambda row: row.meaning, key="meaning"),
                duplicate_link,
            ],
            details=[
                Column("Cue word", lambda row: row.cue_word),
                Column("Meaning", lambda row: row.meaning, multiline=True),
                duplicate_link,
            ],
            order_by=lambda: [
                fn.LOWER(CueWord.cue_word),
                CueWord.cue_word,
                CueWord.meaning,
                CueWord.id,  # type: ignore[attr-defined]
            ],
            fields=["cue_word", "meaning"],
            unique=("cue_word", "meaning"),
            references=[
                Reference(
                    CueWord.duplicate_of,
                    "cue_words",
                    "cue words marked as its duplicates",
                    "cue word marked as its duplicate",
                )
            ],
        ),
    ]
