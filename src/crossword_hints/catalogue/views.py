"""The catalogue pages: list, show, add, edit and delete, for every section.

:func:`make_blueprint` builds the same views for each
:class:`~.sections.Section`, so the five sections share every view. Each
write runs inside ``database.atomic()`` through ``save()``,
``save_if_version()`` or ``delete_instance()``, so that anything recorded
alongside it commits or rolls back with it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import peewee
from flask import (
    Blueprint,
    Flask,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ..auth import admin_required, editor_required
from ..db import database
from ..errors import NotFound
from . import forms
from .models import ContentModel
from .paging import paginate
from .sections import SECTIONS, Section, define_sections

log = logging.getLogger(__name__)

#: Route for one row. Ids are 32-bit on PostgreSQL, so a larger number is
#: a missing row (404), never a database error.
ROW = f"/<int(max={forms.INT_MAX}):id>"


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
        page = paginate(section.query(), section.plural, section.count_query())
        return render_template(
            "catalogue/index.html", **template_context(section, page=page)
        )

    @bp.route(ROW)
    def detail(id: int) -> str:
        row = section.get_or_404(id)
        # One list of children is paged; the page number applies to it.
        listed = None
        if section.references:
            reference = section.references[0]
            child = SECTIONS[reference.section]
            condition = reference.field == row.get_id()
            columns = [c for c in child.columns if c.key != reference.field.name]
            page = paginate(
                child.query().where(condition),
                reference.plural,
                child.count_query().where(condition),
            )
            listed = (reference, child, columns, page)

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
            # row now holds the rejected values; the heading names the stored ones.
            stored = section.query().where(model.id == id).first() or row
            return render_form(form, stored, 409, error=message)

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
        row = section.query().where(model.id == id).first()
        if row is None and request.method == "POST":
            return already_deleted(id)
        if row is None:
            raise NotFound(f"There is no {section.label} with id {id}.")
        if request.method == "GET":
            form = forms.DeleteForm(data={"version": row.version})
        else:
            form = forms.DeleteForm()
        usage = section.usage(row)
        if usage:
            return render_delete(row, form, usage, 409)

        if request.method == "GET" or not form.validate_on_submit():
            status = 400 if request.method == "POST" else 200
            return render_delete(row, form, [], status)

        expected = form.version.data
        condition = model.id == id
        if expected is not None:
            condition &= model.version == expected
        try:
            with database.atomic():
                deleted = model.delete().where(condition).execute()
        except peewee.IntegrityError as exc:
            # A reference was added after the check above, so the foreign
            # key's RESTRICT rule stopped the delete.
            log.info("Delete of %s %s blocked: %s", section.label, id, exc)
            usage = section.usage(row) or ["rows added since this page was loaded"]
            return render_delete(row, form, usage, 409)

        if not deleted:
            return stale_delete(id, expected)

        log.info("Deleted %s %s by %s", section.label, id, current_user.uid)
        flash(f"Deleted {section.label} “{row}”.", "success")
        return redirect(url_for(".index"))

    def stale_delete(id: int, expected: int | None) -> Response | tuple[str, int]:
        """Render the confirmation again (409) for a row that changed, or
        report a row that someone else deleted first."""
        current = section.query().where(model.id == id).first()
        if current is None:
            return already_deleted(id)
        log.info(
            "Stale delete of %s %s: form version %s, stored version %s",
            section.label,
            id,
            expected,
            current.version,
        )
        form = forms.DeleteForm(formdata=None, data={"version": current.version})
        return render_delete(
            current,
            form,
            [],
            409,
            error=f"Someone changed this {section.label} after you opened this "
            "page, so it was not deleted. Check the values below and delete "
            "again if you still want to.",
        )

    def already_deleted(id: int) -> Response:
        """Report a delete that someone else's delete came before."""
        log.info("Delete of %s %s found it already deleted", section.label, id)
        flash(f"This {section.label} was already deleted by someone else.", "info")
        return redirect(url_for(".index"))

    def render_delete(
        row: ContentModel,
        form: FlaskForm,
        usage: list[str],
        status: int,
        error: str | None = None,
    ) -> tuple[str, int]:
        page = render_template(
            "catalogue/delete.html",
            **template_context(section, row=row, form=form, usage=usage, error=error),
        )
        return page, status

    return bp


def register_sections(app: Flask) -> None:
    """Register one blueprint per catalogue section."""
    if not SECTIONS:
        SECTIONS.update((section.name, section) for section in define_sections())
    for section in SECTIONS.values():
        app.register_blueprint(make_blueprint(section))
