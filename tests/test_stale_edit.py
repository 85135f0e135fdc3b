"""Two people editing one record: a stale save gets a 409 merge page.

Edit forms carry the version they were loaded from. The update only
happens while the stored row still has that version, so no save silently
overwrites a newer one.
"""

from __future__ import annotations

import re
import threading

import pytest

from catalogue_samples import add_samples, form_values
from conftest import csrf_token, login
from crossword_hints.catalogue.models import CueWord, Solution
from crossword_hints.db import database


@pytest.fixture
def samples(app):
    return add_samples(app)


@pytest.fixture
def editor(app):
    client = app.test_client()
    assert login(client, "setter").status_code == 302
    return client


@pytest.fixture
def admin(app):
    client = app.test_client()
    assert login(client, "xword").status_code == 302
    return client


def open_form(client, path: str) -> dict[str, str]:
    return form_values(client.get(path).get_data(as_text=True))


def stored(app, row_id: int) -> Solution:
    with app.app_context():
        return Solution.get_by_id(row_id)


def test_stale_edit_gets_merge_page(app, editor, admin, samples):
    path = f"/crossword-solutions/{samples.silent}/edit"
    mine = open_form(editor, path)
    theirs = open_form(admin, path)

    saved = admin.post(path, data={**theirs, "hint": "LISTEN, rearranged."})
    assert saved.status_code == 302
    response = editor.post(path, data={**mine, "solution": "SILENT!"})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this solution while you were editing it" in page
    assert "You started from" in page
    assert "Rearrange LISTEN." in page
    assert "LISTEN, rearranged." in page
    assert "SILENT!" in page
    assert "<td>saved meanwhile</td>" in page
    assert "<td>yours</td>" in page

    row = stored(app, samples.silent)
    assert row.hint == "LISTEN, rearranged."
    assert row.solution == "SILENT"
    assert row.version == 2


def test_merge_page_resubmits_both_changes(app, editor, admin, samples):
    path = f"/crossword-solutions/{samples.silent}/edit"
    mine = open_form(editor, path)
    theirs = open_form(admin, path)
    admin.post(path, data={**theirs, "hint": "LISTEN, rearranged."})

    merge = editor.post(path, data={**mine, "solution": "SILENT!"})
    merged = form_values(merge.get_data(as_text=True))

    assert merged["version"] == "2"
    assert merged["solution"] == "SILENT!"
    assert merged["hint"] == "LISTEN, rearranged."

    response = editor.post(path, data=merged)
    assert response.status_code == 302
    row = stored(app, samples.silent)
    assert row.solution == "SILENT!"
    assert row.hint == "LISTEN, rearranged."
    assert row.version == 3


def test_field_changed_by_both_keeps_yours(app, editor, admin, samples):
    path = f"/crossword-solutions/{samples.silent}/edit"
    mine = open_form(editor, path)
    theirs = open_form(admin, path)
    admin.post(path, data={**theirs, "hint": "Theirs."})

    response = editor.post(path, data={**mine, "hint": "Mine."})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'class="conflict"' in page
    assert "yours (both changed it)" in page
    assert "the same in both" in page
    assert form_values(page)["hint"] == "Mine."
    assert stored(app, samples.silent).hint == "Theirs."


def test_merge_again_when_stale_twice(app, editor, admin, samples):
    path = f"/crossword-solutions/{samples.silent}/edit"
    mine = open_form(editor, path)
    admin.post(path, data={**open_form(admin, path), "hint": "First."})
    merge = editor.post(path, data={**mine, "solution": "SILENT!"})
    admin.post(path, data={**open_form(admin, path), "hint": "Second."})

    response = editor.post(path, data=form_values(merge.get_data(as_text=True)))

    assert response.status_code == 409
    assert form_values(response.get_data(as_text=True))["hint"] == "Second."
    assert stored(app, samples.silent).solution == "SILENT"


def test_edit_of_deleted_row_offers_add(app, editor, admin, samples):
    path = f"/crossword-solutions/{samples.silent}/edit"
    mine = open_form(editor, path)
    delete_path = f"/crossword-solutions/{samples.silent}/delete"
    token = open_form(admin, delete_path)["csrf_token"]
    assert admin.post(delete_path, data={"csrf_token": token}).status_code == 302

    response = editor.post(path, data={**mine, "hint": "Mine."})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This solution no longer exists: someone deleted it" in page
    assert 'action="/crossword-solutions/new"' in page
    values = form_values(page)
    assert values["hint"] == "Mine."

    added = editor.post("/crossword-solutions/new", data=values)
    assert added.status_code == 302
    with app.app_context():
        assert (
            Solution.get(Solution.clue == "Listen badly, being quiet (6)").hint
            == "Mine."
        )


def test_unreadable_start_values_keep_yours(app, editor, admin, samples):
    path = f"/crossword-solutions/{samples.silent}/edit"
    mine = open_form(editor, path)
    admin.post(path, data={**open_form(admin, path), "hint": "Theirs."})

    response = editor.post(path, data={**mine, "original": "{not json"})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "(unknown)" in page
    assert form_values(page)["hint"] == "Rearrange LISTEN."


@pytest.mark.parametrize("version", ["", "abc", "0", "-1", "1.5", "9" * 30, "9" * 5000])
def test_invalid_version_gets_400(app, editor, samples, version):
    path = f"/crossword-solutions/{samples.silent}/edit"
    mine = open_form(editor, path)

    response = editor.post(path, data={**mine, "version": version, "hint": "Mine."})

    assert response.status_code == 400
    assert stored(app, samples.silent).hint == "Rearrange LISTEN."
    page = response.get_data(as_text=True)
    assert "Not a valid integer" not in page
    messages = ["lost its version number", "version is invalid"]
    assert sum(message in page for message in messages) == 1


def test_future_version_gets_409(app, editor, samples):
    path = f"/crossword-solutions/{samples.silent}/edit"
    mine = open_form(editor, path)

    response = editor.post(path, data={**mine, "version": "7", "hint": "Mine."})

    assert response.status_code == 409
    row = stored(app, samples.silent)
    assert row.hint == "Rearrange LISTEN."
    assert row.version == 1


def test_save_if_version_rejects_stale(app, samples):
    with app.app_context():
        first = CueWord.get_by_id(samples.initially)
        second = CueWord.get_by_id(samples.initially)

        first.meaning = "the first letters"
        with database.atomic():
            assert first.save_if_version(1) is True
        second.meaning = "starting letters"
        with database.atomic():
            assert second.save_if_version(1) is False

        row = CueWord.get_by_id(samples.initially)
        assert row.meaning == "the first letters"
        assert row.version == 2
        assert first.version == 2


def test_concurrent_saves_one_wins(app, samples):
    writers = 8
    results: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def write(number: int) -> None:
        try:
            with database.connection_context():
                row = Solution.get_by_id(samples.silent)
                row.hint = f"Writer {number}"
                barrier.wait()
                with database.atomic():
                    results.append(row.save_if_version(1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with app.app_context():
        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert results.count(True) == 1
    assert results.count(False) == writers - 1
    row = stored(app, samples.silent)
    assert row.version == 2
    assert row.hint.startswith("Writer ")


def delete_page_version(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', page)
    assert match, "the delete page carries no version"
    return match.group(1)


def test_delete_of_changed_row_asks_again(app, editor, admin, samples):
    path = f"/crossword-solutions/{samples.silent}/delete"
    version = delete_page_version(admin, path)

    # An editor saves a new hint while the admin's confirmation is open.
    edit = f"/crossword-solutions/{samples.silent}/edit"
    values = form_values(editor.get(edit).get_data(as_text=True))
    values["hint"] = "A better hint."
    assert editor.post(edit, data=values).status_code == 302

    token = csrf_token(admin, path)
    response = admin.post(path, data={"csrf_token": token, "version": version})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone changed this solution after you opened this page" in text
    assert admin.get(f"/crossword-solutions/{samples.silent}").status_code == 200

    # The page shows the new version, and confirming it deletes the row.
    fresh = re.search(r'name="version" type="hidden" value="(\d+)"', text).group(1)
    assert fresh != version
    response = admin.post(path, data={"csrf_token": token, "version": fresh})
    assert response.status_code == 302
    assert admin.get(f"/crossword-solutions/{samples.silent}").status_code == 404


def test_delete_with_invalid_version_rejected(admin, samples):
    path = f"/crossword-solutions/{samples.silent}/delete"
    token = csrf_token(admin, path)
    response = admin.post(path, data={"csrf_token": token, "version": "abc"})
    assert response.status_code == 400
    assert "Nothing was deleted" in response.get_data(as_text=True)
    assert admin.get(f"/crossword-solutions/{samples.silent}").status_code == 200


def test_delete_of_deleted_row_reports_it(admin, samples):
    path = f"/crossword-solutions/{samples.silent}/delete"
    token = csrf_token(admin, path)
    assert admin.post(path, data={"csrf_token": token}).status_code == 302

    response = admin.post(path, data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    assert "was already deleted by someone else" in response.get_data(as_text=True)
