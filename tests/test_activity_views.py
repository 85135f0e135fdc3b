"""The log's pages, its exports, and the entries that requests write."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from flask import Flask

from activity_samples import add_catalogue, add_fault, entries
from catalogue_samples import form_values
from conftest import csrf_token, login
from crossword_hints import activity
from crossword_hints.activity.views import word_diff
from crossword_hints.catalogue.models import Setter, Solution


@pytest.fixture
def catalogue(app: Flask):
    with app.app_context(), activity.acting_as("seed"):
        return add_catalogue(solutions=3)


def page_text(response) -> str:
    return response.get_data(as_text=True)


def test_editing_hint_writes_one_update(catalogue, as_editor, app):
    solution_id = catalogue.solutions[0].id
    edit = f"/crossword-solutions/{solution_id}/edit"
    values = form_values(page_text(as_editor.get(edit)))
    values["hint"] = "LISTEN, rearranged."

    response = as_editor.post(edit, data=values)
    assert response.status_code == 302

    with app.app_context():
        updates = entries(action="update")
    assert len(updates) == 1
    update = updates[0]
    assert update.actor == "setter"
    assert update.item_type == "crossword_solutions"
    assert update.item_id == str(solution_id)
    assert json.loads(update.changes) == {
        "solution_hint": ["Rearrange LISTEN.", "LISTEN, rearranged."]
    }
    assert update.act_action == (
        "solution_hint: 'Rearrange LISTEN.' -> 'LISTEN, rearranged.'"
    )
    assert update.source == f"POST {edit}"
    assert update.client_addr == "127.0.0.1"


def test_unchanged_edit_form_writes_nothing(catalogue, as_editor, app):
    edit = f"/crossword-solutions/{catalogue.solutions[0].id}/edit"
    values = form_values(page_text(as_editor.get(edit)))
    with app.app_context():
        before = len(entries())
    assert as_editor.post(edit, data=values).status_code == 302
    with app.app_context():
        assert len(entries()) == before


def test_delete_and_undelete_setter(app, as_admin):
    with app.app_context(), activity.acting_as("seed"):
        catalogue = add_catalogue(solutions=0)
        spare = Setter.create(
            name="Cinder", setter_type=catalogue.setter_type, description="Rare."
        )
        original = Setter.select().where(Setter.id == spare.id).dicts().get()

    delete = f"/crossword-setters/{spare.id}/delete"
    token = csrf_token(as_admin, delete)
    assert as_admin.post(delete, data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert Setter.get_or_none(Setter.id == spare.id) is None

    deleted_page = as_admin.get("/activity/deleted/crossword_setters")
    assert deleted_page.status_code == 200
    text = page_text(deleted_page)
    assert f'id="deleted-{spare.id}"' in text
    assert "deleted by <strong>xword</strong>" in text
    form = re.search(
        rf'<form method="post" action="(/activity/crossword_setters/{spare.id}'
        r'/restore/\d+)">(.*?)</form>',
        text,
        re.S,
    )
    assert form, "no undelete form on the deleted-records page"
    values = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))

    response = as_admin.post(form.group(1), data=values)
    assert response.status_code == 302

    with app.app_context():
        back = Setter.select().where(Setter.id == spare.id).dicts().get()
        history = entries(item_type="crossword_setters", item_id=str(spare.id))
    for name in ("id", "name", "setter_type", "description", "created_at"):
        assert back[name] == original[name]
    assert [(e.version, e.action, e.actor) for e in history] == [
        (1, "insert", "seed"),
        (2, "delete", "xword"),
        (3, "restore", "xword"),
    ]

    page = page_text(as_admin.get(f"/activity/crossword_setters/{spare.id}"))
    assert page.index("Version 3: restore") < page.index("Version 2: delete")
    assert page.index("Version 2: delete") < page.index("Version 1: insert")
    assert f'id="deleted-{spare.id}"' not in page_text(
        as_admin.get("/activity/deleted/crossword_setters")
    )


def test_restore_preview_then_post(catalogue, as_admin, app):
    solution_id = catalogue.solutions[0].id
    with app.app_context(), activity.acting_as("seed"):
        solution = Solution.get_by_id(solution_id)
        solution.hint = "Second thoughts."
        solution.save()
        edit_version = solution.version

    preview = as_admin.get(f"/activity/crossword_solutions/{solution_id}/restore/1")
    assert preview.status_code == 200
    text = page_text(preview)
    assert "Second thoughts." in text
    assert "Rearrange LISTEN." in text
    values = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', text))
    assert values["expected"] == "2"

    url = f"/activity/crossword_solutions/{solution_id}/restore/1"
    response = as_admin.post(url, data=values)
    assert response.status_code == 302
    with app.app_context():
        restored = Solution.get_by_id(solution_id)
        assert restored.hint == "Rearrange LISTEN."
        assert restored.version == edit_version + 1
        assert entries()[-1].action == "restore"

    again = as_admin.post(url, data=values)
    assert again.status_code == 409
    assert "changed after the preview" in page_text(again)


def test_restore_of_current_version_lists_nothing(catalogue, as_admin, app):
    solution_id = catalogue.solutions[0].id
    url = f"/activity/crossword_solutions/{solution_id}/restore/1"

    text = page_text(as_admin.get(url))

    assert "already matches version 1" in text
    assert "will change" not in text
    assert '<table class="changes">' not in text
    assert 'name="expected"' not in text


def test_history_shows_word_diff_and_state(catalogue, as_admin, app):
    solution_id = catalogue.solutions[0].id
    with app.app_context(), activity.acting_as("seed"):
        solution = Solution.get_by_id(solution_id)
        solution.hint = "Rearrange the letters of LISTEN <carefully> to find it."
        solution.save()

    page = page_text(as_admin.get(f"/activity/crossword_solutions/{solution_id}"))
    assert "<ins>the letters of </ins>" in page or "<ins>" in page
    assert "&lt;carefully&gt;" in page
    assert "<carefully>" not in page

    old = page_text(
        as_admin.get(f"/activity/crossword_solutions/{solution_id}?version=1")
    )
    assert "As it was at version 1" in old
    assert "Rearrange LISTEN." in old


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "Line from a pl,ay",
            "Line from a play",
            "Line from a <del>pl,ay</del><ins>play</ins>",
        ),
        ("a <b>", "a <i>", "a <del>&lt;b&gt;</del><ins>&lt;i&gt;</ins>"),
        ("same words", "same words", "same words"),
    ],
)
def test_word_diff_marks_words(old, new, expected):
    assert str(word_diff(old, new)) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/activity/",
        "/activity/export.csv",
        "/activity/deleted/crossword_setters",
    ],
)
def test_pages_need_admin(client, path):
    assert client.get(path).status_code == 302
    login(client, "setter")
    assert client.get(path).status_code == 403


def test_editor_reads_history_without_restore(catalogue, as_editor):
    path = f"/activity/crossword_solutions/{catalogue.solutions[0].id}"
    response = as_editor.get(path)
    assert response.status_code == 200
    assert "/restore/" not in response.get_data(as_text=True)
    assert as_editor.get(f"{path}/restore/1").status_code == 403


def test_history_needs_login(client, catalogue):
    path = f"/activity/crossword_solutions/{catalogue.solutions[0].id}"
    assert client.get(path).status_code == 302


def test_report_lists_newest_first(catalogue, as_admin):
    text = page_text(as_admin.get("/activity/"))
    ids = [int(n) for n in re.findall(r'<tr id="entry-(\d+)">', text)]
    assert ids == sorted(ids, reverse=True)
    assert "<svg" in text
    assert "The chart&#39;s numbers" in text or "The chart's numbers" in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "insert", "item_type": "crossword_solutions"}, 3),
        ({"actor": "seed"}, None),
        ({"actor": "nobody"}, 0),
        ({"q": "SILENT1"}, 1),
        ({"item_type": "setter_types", "item_id": "1"}, 1),
        ({"since": "2001-01-01", "until": "2001-12-31"}, 0),
    ],
)
def test_report_filters(catalogue, as_admin, app, query, expected):
    text = page_text(as_admin.get("/activity/", query_string=query))
    shown = len(re.findall(r'<tr id="entry-\d+">', text))
    if expected is None:
        with app.app_context():
            expected = len(entries(actor="seed"))
    assert shown == expected


@pytest.mark.parametrize(
    "query",
    [
        {"since": "yesterday"},
        {"until": "2024-13-01"},
        {"before": "abc"},
        {"since": "2024-05-02", "until": "2024-05-01"},
        {"before": "999999"},
        {"q": "a\x00b"},
        {"actor": "\x00"},
        {"until": "9999-12-31"},
        {"until": "0001-01-01"},
        {"since": "0001-01-01"},
    ],
)
def test_report_rejects_bad_input(as_admin, query):
    assert as_admin.get("/activity/", query_string=query).status_code == 400


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_rejects_last_possible_day(as_admin, fmt):
    response = as_admin.get(f"/activity/export.{fmt}?until=9999-12-31")
    assert response.status_code == 400


def test_keyset_pages_cover_every_entry(catalogue, as_admin, app):
    app.config["ACTIVITY_PER_PAGE"] = 2
    seen = []
    text = page_text(as_admin.get("/activity/"))
    pages = 0
    while True:
        pages += 1
        seen += [int(n) for n in re.findall(r'<tr id="entry-(\d+)">', text)]
        older = re.search(r'rel="next" href="([^"]+)"', text)
        if not older:
            break
        text = page_text(as_admin.get(older.group(1).replace("&amp;", "&")))
        assert "OFFSET" not in text

    with app.app_context():
        total = len(entries())
    assert sorted(seen, reverse=True) == seen
    assert len(seen) == len(set(seen)) == total
    assert pages == (total + 1) // 2

    newer = re.search(r'rel="prev" href="([^"]+)"', text)
    assert newer
    back = page_text(as_admin.get(newer.group(1).replace("&amp;", "&")))
    assert [int(n) for n in re.findall(r'<tr id="entry-(\d+)">', back)] == seen[
        -4:-2
    ] or len(re.findall(r'<tr id="entry-(\d+)">', back)) == 2


def test_csv_export_matches_filter(catalogue, as_admin, app):
    response = as_admin.get(
        "/activity/export.csv", query_string={"item_type": "crossword_solutions"}
    )
    assert response.status_code == 200
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(page_text(response))))
    with app.app_context():
        expected = [e.id for e in entries(item_type="crossword_solutions")]
    assert sorted(int(row["id"]) for row in rows) == expected
    assert {row["item_type"] for row in rows} == {"crossword_solutions"}


def test_json_export_matches_filter(catalogue, as_admin, app):
    response = as_admin.get("/activity/export.json", query_string={"action": "insert"})
    assert response.status_code == 200
    assert response.is_streamed
    data = json.loads(page_text(response))
    with app.app_context():
        expected = sorted(e.id for e in entries(action="insert"))
    assert sorted(item["id"] for item in data) == expected
    assert all(isinstance(item["changes"], dict) for item in data)


def test_csv_export_defuses_formulas(app, as_admin):
    with app.app_context(), activity.acting_as("seed"):
        add_catalogue(solutions=0)
        Setter.update(description='=HYPERLINK("http://x")').execute()
    rows = list(
        csv.reader(io.StringIO(page_text(as_admin.get("/activity/export.csv"))))
    )
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith("=") for cell in cells)


def test_login_history_shows_no_versions(client):
    login(client, "xword", "wrong")
    assert login(client, "xword").status_code == 302
    text = page_text(client.get("/activity/user/xword"))
    assert "None" not in text
    assert "<h2>Login</h2>" in text
    assert "<h2>Login failed</h2>" in text
    assert "Show as it was" not in text


def test_login_and_logout_are_recorded(client, app):
    assert login(client, "xword").status_code == 302
    token = csrf_token(client, "/logout")
    client.post("/logout", data={"csrf_token": token})

    with app.app_context():
        events = [(e.action, e.actor, e.item_id) for e in entries(item_type="user")]
        login_entry = entries(action="login")[0]
    assert events == [("login", "xword", "xword"), ("logout", "xword", "xword")]
    assert login_entry.client_addr == "127.0.0.1"


def test_failed_login_records_cleaned_name(client, app):
    typed = "xw\x07ord\u202e" + "z" * 100
    response = login(client, typed, "wrong-password")
    assert response.status_code == 401

    with app.app_context():
        failed = entries(action="login_failed")
    assert len(failed) == 1
    entry = failed[0]
    assert entry.actor == "anonymous"
    assert entry.item_id.startswith("xwordzzz")
    assert len(entry.item_id) <= 64
    assert "\x07" not in entry.act_action
    assert "wrong-password" not in (entry.changes + entry.act_action)
    assert json.loads(entry.changes)["outcome"] == "failed"


def test_entry_never_names_earlier_user(client, catalogue, app):
    login(client, "setter")
    token = csrf_token(client, "/logout")
    client.post("/logout", data={"csrf_token": token})

    with app.app_context():
        solution = Solution.get_by_id(catalogue.solutions[0].id)
        solution.hint = "Changed by a script."
        solution.save()
        update = entries(action="update")[-1]
    assert update.actor == "system"


def test_request_shares_one_group(catalogue, as_admin, app):
    response = as_admin.get("/activity/")
    assert response.status_code == 200
    with app.app_context(), app.test_request_context("/bulk", method="POST"):
        from flask import g

        g.request_id = "req-123"
        Solution.update(hint="In one request.").execute()
        groups = {e.group_id for e in entries(action="update")}
        actors = {e.actor for e in entries(action="update")}
    assert groups == {"req-123"}
    assert actors == {"anonymous"}


def test_history_of_unknown_record_is_404(as_admin):
    assert as_admin.get("/activity/crossword_solutions/999").status_code == 404
    assert as_admin.get("/activity/no-such-type!/1").status_code == 404
    assert as_admin.get("/activity/deleted/unknown_table").status_code == 404
    assert as_admin.get("/activity/crossword_solutions/%00").status_code == 404
    assert (
        as_admin.get("/activity/crossword_solutions/%00/restore/1").status_code == 404
    )
    assert as_admin.get("/activity/crossword_solutions/" + "9" * 65).status_code == 404


def test_restore_of_missing_version_is_404(catalogue, as_admin):
    solution_id = catalogue.solutions[0].id
    url = f"/activity/crossword_solutions/{solution_id}/restore/99"
    assert as_admin.get(url).status_code == 404
    token = csrf_token(as_admin, "/activity/")
    assert (
        as_admin.post(url, data={"csrf_token": token, "expected": "1"}).status_code
        == 404
    )
    assert as_admin.post(url, data={"csrf_token": token}).status_code == 400


def test_history_link_helper(catalogue, app):
    with app.test_request_context():
        from flask import render_template_string

        html = render_template_string(
            '{% from "activity/_macros.html" import history_link %}'
            "{{ history_link(row) }}",
            row=catalogue.setter,
        )
    assert (
        html
        == f'<a href="/activity/crossword_setters/{catalogue.setter.id}">History</a>'
    )


def test_password_change_is_recorded(app):
    from crossword_hints.auth import signals

    with app.test_request_context(
        "/password", method="POST", environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        signals.password_changed.send(app, uid="setter")

    with app.app_context():
        (entry,) = entries(action="password_change")
    assert (entry.actor, entry.item_type, entry.item_id) == ("setter", "user", "setter")
    assert entry.client_addr == "127.0.0.1"


def test_failed_entry_write_tells_user(catalogue, as_editor, app, database_url):
    solution_id = catalogue.solutions[0].id
    edit = f"/crossword-solutions/{solution_id}/edit"
    values = form_values(page_text(as_editor.get(edit)))
    values["hint"] = "Never saved."
    add_fault(database_url)

    response = as_editor.post(edit, data=values)
    assert response.status_code == 503
    assert "activity log could not record it" in page_text(response)
    with app.app_context():
        assert Solution.get_by_id(solution_id).hint == "Rearrange LISTEN."


def test_unique_clash_restore_is_409(catalogue, as_admin, app):
    setter_id = catalogue.setter.id
    with app.app_context(), activity.acting_as("seed"):
        setter = Setter.get_by_id(setter_id)
        setter.name = "Bellows"
        setter.save()
        other = Setter.create(name="Anvil", setter_type=catalogue.setter_type)

    url = f"/activity/crossword_setters/{setter_id}/restore/1"
    preview = as_admin.get(url)
    assert preview.status_code == 200
    assert f"is already used by crossword_setters {other.id}" in page_text(preview)
    assert "<button" not in page_text(preview).split("<main", 1)[1].split("</main>")[0]

    token = csrf_token(as_admin, "/activity/")
    response = as_admin.post(url, data={"csrf_token": token, "expected": "2"})
    assert response.status_code == 409
    assert f"is already used by crossword_setters {other.id}" in page_text(response)
    with app.app_context():
        assert Setter.get_by_id(setter_id).name == "Bellows"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("@cmd", "'@cmd"),
        ("-1", "-1"),
        ("-2.5", "-2.5"),
        ("- item", "'- item"),
        ("plain", "plain"),
        (None, ""),
    ],
)
def test_csv_cell_defuses_formulas(value, expected):
    from crossword_hints.activity.report import cell

    assert cell(value) == expected
