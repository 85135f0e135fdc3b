"""The log's pages: report, exports, record history, restore and deleted records."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import peewee
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from markupsafe import Markup, escape
from werkzeug.exceptions import BadRequest, NotFound

from . import history, report
from .capture import logged_models, model_for
from .edits import TOKENS, EditMismatch, apply_edit, is_edit
from .models import ActivityLog

#: Item types and ids as they appear in URLs.
ITEM_TYPE = re.compile(r"[A-Za-z0-9_]{1,64}")
ITEM_ID_MAX = 64

#: Text values longer than this, or spanning lines, are shown as word diffs.
DIFF_FROM = 40


def history_url(record: peewee.Model) -> str:
    """Return the URL of *record*'s history page, for templates."""
    return url_for(
        "activity.history",
        item_type=record._meta.table_name,
        item_id=str(record.get_id()),
    )


def word_diff(old: str, new: str) -> Markup:
    """Mark the words removed from *old* with <del> and added in *new* with <ins>."""
    before, after = TOKENS.findall(old), TOKENS.findall(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    parts = []
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            parts.append(escape("".join(before[i1:i2])))
            continue
        if i2 > i1:
            parts.append(Markup("<del>{}</del>").format("".join(before[i1:i2])))
        if j2 > j1:
            parts.append(Markup("<ins>{}</ins>").format("".join(after[j1:j2])))
    return Markup("").join(parts)


def edit_marks(edit: dict[str, Any]) -> Markup:
    """Mark the steps of an edit whose text before it is unknown."""
    parts = []
    for _, removed, added in edit["edit"]:
        parts.append(Markup("… "))
        if removed:
            parts.append(Markup("<del>{}</del>").format(removed))
        if added:
            parts.append(Markup("<ins>{}</ins>").format(added))
    parts.append(Markup(" …"))
    return Markup("").join(parts)


@dataclass
class Change:
    """One changed field as the history page shows it."""

    column: str
    old: Any
    new: Any
    #: The stored edit, when the old and new text are not both known.
    edit: dict[str, Any] | None = None

    @property
    def as_words(self) -> Markup | None:
        if self.edit is not None:
            return edit_marks(self.edit)
        if not (isinstance(self.old, str) and isinstance(self.new, str)):
            return None
        long = max(len(self.old), len(self.new)) > DIFF_FROM
        if long or "\n" in self.old or "\n" in self.new:
            return word_diff(self.old, self.new)
        return None


@dataclass
class EntryView:
    """An entry with its change laid out for the history page."""

    entry: ActivityLog
    changes: list[Change]
    record: dict[str, Any] | None
    restored_version: int | None
    unparsed: str | None


def entry_view(entry: ActivityLog, before: dict[str, Any] | None = None) -> EntryView:
    """Lay out one entry for the history page.

    *before* is the record before the entry, where known. An update needs
    it to show the text around an edit.
    """
    data = entry.change_data
    changes: list[Change] = []
    record = None
    restored = None
    unparsed = None
    if isinstance(data, dict) and "unparsed" in data:
        unparsed = str(data["unparsed"])
    elif entry.action == "restore" and isinstance(data, dict):
        restored = data.get("restored_version")
        fields = data.get("fields")
        if isinstance(fields, dict):
            changes = pairs(fields)
        record = data.get("record") if isinstance(data.get("record"), dict) else None
    elif entry.action == "update" and isinstance(data, dict):
        changes = pairs(data, before)
        if not changes and entry.snapshot_data is not None:
            record = entry.snapshot_data
    elif entry.action in ("insert", "delete") and isinstance(data, dict):
        record = data
    elif entry.action == "prune" and entry.item_type:
        record = entry.snapshot_data
    return EntryView(entry, changes, record, restored, unparsed)


def pairs(data: dict, before: dict[str, Any] | None = None) -> list[Change]:
    changes = []
    for column, change in data.items():
        if isinstance(change, list) and len(change) == 2:
            changes.append(Change(column, change[0], change[1]))
        elif is_edit(change):
            old = (before or {}).get(column)
            try:
                changes.append(Change(column, old, apply_edit(old, change)))
            except EditMismatch:
                changes.append(Change(column, None, None, edit=change))
    return changes


def entry_views(entries: list[ActivityLog]) -> list[EntryView]:
    """Lay out a record's entries, oldest first, rebuilding the record
    along the way."""
    views = []
    record = None
    for entry in entries:
        views.append(entry_view(entry, record))
        record = history.apply(record, entry)
    return views


def check_item(item_type: str, item_id: str) -> None:
    # PostgreSQL rejects NUL in text, and no logged id contains one.
    if (
        not ITEM_TYPE.fullmatch(item_type)
        or len(item_id) > ITEM_ID_MAX
        or "\x00" in item_id
    ):
        raise NotFound("There is no such record in the activity log.")


def int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BadRequest(f"{name} must be a whole number, not {raw!r}.")
    return int(raw)


def per_page() -> int:
    return max(1, int(current_app.config.get("ACTIVITY_PER_PAGE", 50)))


# -- Views ---------------------------------------------------------------------


def report_view() -> str:
    filters = report.Filters.from_args(request.args)
    result = report.page(
        filters,
        before=int_arg("before"),
        after=int_arg("after"),
        per_page=per_page(),
    )
    days = int(current_app.config.get("ACTIVITY_CHART_DAYS", 30))
    return render_template(
        "activity/report.html",
        filters=filters,
        page=result,
        chart=report.chart(filters, max(1, days)),
        item_types=sorted(model._meta.table_name for model in logged_models()),
    )


def export_view(fmt: str) -> Response:
    filters = report.Filters.from_args(request.args)
    name = f"activity-{date.today().isoformat()}.{fmt}"
    if fmt == "csv":
        body = report.csv_lines(filters)
        mimetype = "text/csv"
    else:
        body = report.json_chunks(filters)
        mimetype = "application/json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def history_view(item_type: str, item_id: str) -> str:
    check_item(item_type, item_id)
    entries = history.record_entries(item_type, item_id)
    model = model_for(item_type)
    exists = model is not None and history.current_row(model, item_id) is not None
    # Rows copied by import-legacy may have no entries, yet their pages
    # link here; only a record the log and the tables both lack is a 404.
    if not entries and not exists:
        raise NotFound(f"The activity log has no entries for {item_type} {item_id}.")

    requested = int_arg("version")
    state = None
    if requested is not None:
        state = history.state_at(item_type, item_id, requested)
        if state is None:
            raise NotFound(
                f"Version {requested} of {item_type} {item_id} is not in the log."
            )

    latest = entries[-1].version if entries else None
    return render_template(
        "activity/history.html",
        item_type=item_type,
        item_id=item_id,
        entries=list(reversed(entry_views(entries))),
        state=state,
        latest=latest,
        restorable=model is not None
        and current_app.extensions["activity"].may_restore(),
        exists=exists,
    )


def render_restore(
    item_type: str,
    item_id: str,
    version: int,
    *,
    plan: history.Plan | None = None,
    error: str | None = None,
) -> str:
    return render_template(
        "activity/restore.html",
        plan=plan,
        error=error,
        item_type=item_type,
        item_id=item_id,
        version=version,
    )


def restore_view(item_type: str, item_id: str, version: int) -> Response | str | Any:
    check_item(item_type, item_id)
    try:
        if request.method == "POST":
            return do_restore(item_type, item_id, version)
        plan = history.plan_restore(item_type, item_id, version)
    except history.RestoreError as exc:
        if exc.status == 404:
            raise NotFound(exc.message) from None
        return render_restore(
            item_type, item_id, version, error=exc.message
        ), exc.status
    return render_restore(item_type, item_id, version, plan=plan)


def do_restore(item_type: str, item_id: str, version: int) -> Response:
    raw = request.form.get("expected", "")
    if not raw.isdigit() or len(raw) > 18:
        raise BadRequest("The restore form is missing the version it was made from.")

    history.restore(item_type, item_id, version, int(raw))
    flash(f"Restored version {version} of {item_type} {item_id}.", "success")
    return redirect(url_for("activity.history", item_type=item_type, item_id=item_id))


def deleted_view(item_type: str) -> str:
    check_item(item_type, "")
    model = model_for(item_type)
    if model is None:
        raise NotFound(f"Records of {item_type} are not kept in the activity log.")
    return render_template(
        "activity/deleted.html",
        item_type=item_type,
        entries=[entry_view(entry) for entry in history.deleted_records(item_type)],
    )


def create_blueprint(extension: Any) -> Blueprint:
    """Build the blueprint, with the extension's guards around every view."""
    protect = extension.protect
    bp = Blueprint(
        "activity", __name__, url_prefix="/activity", template_folder="templates"
    )
    bp.add_url_rule("/", "report", protect(report_view))
    bp.add_url_rule("/export.<any(csv, json):fmt>", "export", protect(export_view))
    bp.add_url_rule("/deleted/<item_type>", "deleted", protect(deleted_view))
    bp.add_url_rule(
        "/<item_type>/<item_id>", "history", extension.protect_history(history_view)
    )
    bp.add_url_rule(
        "/<item_type>/<item_id>/restore/<int:version>",
        "restore",
        protect(restore_view),
        methods=["GET", "POST"],
    )
    return bp
