"""The five catalogue sections: list, show, add, edit and delete pages.

A :class:`Section` describes one table (its model, form, columns and the
tables that refer to it) and builds the blueprint that serves it, so the
five sections share every view. Each write runs inside
``database.atomic()`` through ``save()``, ``save_if_version()`` or
``delete_instance()``, so that anything recorded alongside it commits or
rolls back with it.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import peewee
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import fn
from werkzeug.wrappers import Response

from ..auth import admin_required, editor_required
from ..db import database
from ..errors import AppError, NotFound
from . import forms
from .models import ContentModel, CueWord, Setter, SetterType, Solution, SolutionType

log = logging.getLogger(__name__)

#: Route for one row. Ids are 32-bit on PostgreSQL, so a larger number is
#: a missing row (404), never a database error.
ROW = f"/<int(max={forms.INT_MAX}):id>"

#: Maximum number of referring rows a rejected delete names before "and N more".
NAMED_REFERENCES = 5


# -- Paging --------------------------------------------------------------------


@dataclass
class Page:
    """One page of a query's rows, with what the pager needs."""

    rows: list[Any]
    number: int
    count: int
    total: int
    per_page: int

    @property
    def first(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def requested_page() -> int:
    """Return the ``page`` query argument, or 1 when it is absent.

    Raises a 400 error for anything but a whole number from 1 up.
    """
    raw = request.args.get("page")
    if raw is None:
        return 1
    digits = raw.lstrip("0")
    if not re.fullmatch(r"[0-9]+", digits):
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise AppError(
            f"The page number must be a whole number from 1 up, not {shown!r}."
        )
    # A number too long to be a real page is simply past the end.
    return int(digits) if len(digits) <= 18 else 10**18


def per_page() -> int:
    value = current_app.config.get("PER_PAGE", 25)
    return value if isinstance(value, int) and value > 0 else 25


def paginate(query: peewee.ModelSelect, what: str) -> Page:
    """Return the requested page of *query*, or raise 404 past the last page.

    *what* names the rows in the message ("setters"). The first page of an
    empty list exists, so an empty section still has an index.
    """
    number = requested_page()
    size = per_page()
    total = query.count()
    count = max(1, math.ceil(total / size))
    if number > count:
        pages = "1 page" if count == 1 else f"{count} pages"
        raise NotFound(f"There is no page {number} of {what}. The list has {pages}.")

    rows = list(query.paginate(number, size))
    return Page(rows=rows, number=number, count=count, total=total, per_page=size)


# -- Section description ---------------------------------------------------------


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
    def url(row: Any) -> str | None:
        value = row.id if key == "id" else row_id(row, key)
        return url_for(f"{section}.detail", id=value) if value is not None else None

    return url


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
    #: Extra models selected with the rows, joined on the named fields.
    joins: list[tuple[type[Any], peewee.ForeignKeyField]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.label = self.model.label
        self.edit_form = forms.edit_form_class(self.form)

    # -- Queries ---------------------------------------------------------------

    def query(self) -> peewee.ModelSelect:
        models = [self.model] + [model for model, _ in self.joins]
        query = self.model.select(*models)
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


# -- Views -------------------------------------------------------------------------


def can_edit() -> bool:
    return current_user.is_authenticated and current_user.is_editor


def can_delete() -> bool:
    return current_user.is_authenticated and current_user.is_admin


def template_context(section: Section, **context: Any) -> dict[str, Any]:
    return {
        "section": section,
        "can_edit": can_edit(),
        "can_delete": can_delete(),
        **context,
    }


def original_values(form: FlaskForm, section: Section) -> dict[str, Any] | None:
    """Parse the edit form's hidden start values, or return ``None`` if invalid."""
    try:
        values = json.loads(form.original.data or "")
    except ValueError:
        return None
    if not isinstance(values, dict) or set(values) != set(section.fields):
        return None
    return values


def merge_rows(
    section: Section,
    form: FlaskForm,
    base: dict[str, Any] | None,
    theirs: dict[str, Any],
    yours: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Merge a stale edit field by field.

    A field the user left as it was takes the newly saved value, and a
    field the user changed keeps the user's value. Without the start
    values every field keeps the user's value. Returns the merged values
    and one row per field for the merge table.
    """
    merged = {}
    rows = []
    for name in section.fields:
        started = base[name] if base is not None else None
        changed_by_you = base is None or yours[name] != started
        changed_by_them = base is None or theirs[name] != started
        conflict = changed_by_you and changed_by_them and theirs[name] != yours[name]
        merged[name] = yours[name] if changed_by_you else theirs[name]

        if theirs[name] == yours[name]:
            outcome = "the same in both"
        elif conflict:
            outcome = "yours (both changed it)"
        elif changed_by_you:
            outcome = "yours"
        else:
            outcome = "saved meanwhile"

        rows.append(
            {
                "label": section.form_label(name),
                "started": "(unknown)"
                if base is None
                else section.display(form, name, started),
                "theirs": section.display(form, name, theirs[name]),
                "yours": section.display(form, name, yours[name]),
                "changed_by_them": changed_by_them and theirs[name] != yours[name],
                "conflict": conflict,
                "outcome": outcome,
            }
        )
    return merged, rows


def make_blueprint(section: Section) -> Blueprint:  # noqa: C901
    # The template folder also serves the front page's template.
    bp = Blueprint(
        section.name,
        __name__,
        url_prefix=section.url_prefix,
        template_folder="templates",
    )
    model = section.model

    def render_form(
        form: FlaskForm, row: ContentModel | None, status: int = 200, **context: Any
    ) -> tuple[str, int]:
        page = render_template(
            "catalogue/form.html",
            **template_context(section, form=form, row=row, **context),
        )
        return page, status

    @bp.route("/")
    def index() -> str:
        page = paginate(section.query(), section.plural)
        return render_template(
            "catalogue/index.html", **template_context(section, page=page)
        )

    @bp.route(ROW)
    def detail(id: int) -> str:
        row = section.get_or_404(id)
        children = []
        for reference in section.references:
            child = SECTIONS[reference.section]
            query = child.query().where(reference.field == row.get_id())
            columns = [c for c in child.columns if c.key != reference.field.name]
            children.append((reference, child, columns, query))

        # One list of children is paged; the page number applies to it.
        listed = None
        if children:
            reference, child, columns, query = children[0]
            listed = (reference, child, columns, paginate(query, reference.plural))

        return render_template(
            "catalogue/detail.html",
            **template_context(section, row=row, listed=listed),
        )

    @bp.route("/new", methods=["GET", "POST"])
    @editor_required
    def new() -> Response | tuple[str, int]:
        if request.method == "GET":
            # Links such as "add a setter of this type" preselect a parent.
            preset = {
                name: int(request.args[name])
                for name in section.fields
                if request.args.get(name, "").isascii()
                and request.args.get(name, "").isdigit()
                and len(request.args[name]) < 10
            }
            form = section.form(data=preset)
        else:
            form = section.form()

        if not form.validate_on_submit():
            status = 400 if request.method == "POST" else 200
            return render_form(form, None, status)

        row = model()
        section.apply(form, row)
        try:
            with database.atomic():
                row.save()
        except peewee.IntegrityError as exc:
            log.info("Rejected new %s: %s", section.label, exc)
            values = {name: form[name].data for name in section.fields}
            message = section.clash_message(values, None)
            return render_form(form, None, 409, error=message)

        flash(f"Added {section.label} “{row}”.", "success")
        return redirect(url_for(".detail", id=row.id))

    @bp.route(f"{ROW}/edit", methods=["GET", "POST"])
    @editor_required
    def edit(id: int) -> Response | tuple[str, int]:
        row = section.query().where(model.id == id).first()
        if row is None and request.method == "POST":
            # Most likely deleted while the form was open: keep the values.
            form = section.edit_form()
            form.validate()
            return deleted_edit(form, id)
        if row is None:
            raise NotFound(f"There is no {section.label} with id {id}.")
        started = section.values(row)

        if request.method == "GET":
            form = section.edit_form(
                data={
                    **started,
                    "version": row.version,
                    "original": json.dumps(started),
                }
            )
            return render_form(form, row)

        form = section.edit_form()
        if not form.validate_on_submit():
            return render_form(form, row, 400)

        expected = form.version.data
        section.apply(form, row)
        try:
            with database.atomic():
                saved = row.save_if_version(expected)
        except peewee.IntegrityError as exc:
            log.info("Rejected edit of %s %s: %s", section.label, id, exc)
            values = {name: form[name].data for name in section.fields}
            message = section.clash_message(values, id)
            return render_form(form, row, 409, error=message)

        if saved:
            flash(f"Saved {section.label} “{row}”.", "success")
            return redirect(url_for(".detail", id=id))

        return stale_edit(form, id, expected)

    def stale_edit(form: FlaskForm, id: int, expected: int) -> tuple[str, int]:
        """Render the merge page (409) for a save based on an old version."""
        yours = {name: form[name].data for name in section.fields}
        current = model.get_or_none(model.id == id)
        if current is None:
            return deleted_edit(form, id)

        theirs = section.values(current)
        merged, rows = merge_rows(
            section, form, original_values(form, section), theirs, yours
        )
        log.info(
            "Stale edit of %s %s: form version %s, stored version %s",
            section.label,
            id,
            expected,
            current.version,
        )
        fresh = section.edit_form(
            formdata=None,
            data={**merged, "version": current.version, "original": json.dumps(theirs)},
        )
        return render_form(
            fresh,
            current,
            409,
            merge=rows,
            error=f"Someone else saved this {section.label} while you were editing "
            "it, so your changes were not saved yet. Compare the values below, "
            "correct the form and save again.",
        )

    def deleted_edit(form: FlaskForm, id: int) -> tuple[str, int]:
        """Render an add form (409) for an edit of a row that no longer exists.

        The user's values come back in an add form, so nothing typed is lost.
        """
        log.info("Edit of missing %s %s", section.label, id)
        yours = {name: form[name].data for name in section.fields}
        fresh = section.form(formdata=None, data=yours)
        return render_form(
            fresh,
            None,
            409,
            error=f"This {section.label} no longer exists: someone deleted it, "
            "perhaps while you were editing it, so your changes were not saved. "
            f"They are filled in below; submit to add them as a new {section.label}.",
        )

    @bp.route(f"{ROW}/delete", methods=["GET", "POST"])
    @admin_required
    def delete(id: int) -> Response | tuple[str, int]:
        row = section.get_or_404(id)
        form = forms.DeleteForm()
        usage = section.usage(row)
        if usage:
            return render_delete(row, form, usage, 409)

        if request.method == "GET" or not form.validate_on_submit():
            status = 400 if request.method == "POST" else 200
            return render_delete(row, form, [], status)

        try:
            with database.atomic():
                row.delete_instance()
        except peewee.IntegrityError as exc:
            # A reference was added after the check above, so the foreign
            # key's RESTRICT rule stopped the delete.
            log.info("Delete of %s %s blocked: %s", section.label, id, exc)
            usage = section.usage(row) or ["rows added since this page was loaded"]
            return render_delete(row, form, usage, 409)

        log.info("Deleted %s %s by %s", section.label, id, current_user.uid)
        flash(f"Deleted {section.label} “{row}”.", "success")
        return redirect(url_for(".index"))

    def render_delete(
        row: ContentModel, form: FlaskForm, usage: list[str], status: int
    ) -> tuple[str, int]:
        page = render_template(
            "catalogue/delete.html",
            **template_context(section, row=row, form=form, usage=usage),
        )
        return page, status

    return bp


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


def register_sections(app: Flask) -> None:
    """Register one blueprint per catalogue section."""
    if not SECTIONS:
        SECTIONS.update((section.name, section) for section in define_sections())
    for section in SECTIONS.values():
        app.register_blueprint(make_blueprint(section))
