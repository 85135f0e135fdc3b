"""Add and edit forms: saving, validation, duplicates and CSRF."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from catalogue_samples import PREFIXES, add_samples, form_values, post_form
from crossword_hints.catalogue.models import (
    CueWord,
    Setter,
    SetterType,
    Solution,
    SolutionType,
)

MODELS = {
    "setter_types": SetterType,
    "setters": Setter,
    "solution_types": SolutionType,
    "solutions": Solution,
    "cue_words": CueWord,
}


@pytest.fixture
def samples(app):
    return add_samples(app)


def valid_data(section: str, samples) -> dict:
    """Return form data that adds a new, valid row to *section*."""
    return {
        "setter_types": {"name": "Prize", "description": "Weekend puzzles."},
        "setters": {"name": "Dorado", "setter_type": samples.guest, "description": ""},
        "solution_types": {"name": "Reversal", "description": "Read it backwards."},
        "solutions": {
            "clue": "Rats come back as a celebrity (4)",
            "solution": "STAR",
            "hint": "RATS reversed.",
            "setter": samples.cinder,
            "solution_type": samples.charade,
        },
        "cue_words": {"cue_word": "back", "meaning": "reversal"},
    }[section]


def row_count(app, section: str) -> int:
    with app.app_context():
        return MODELS[section].select().count()


@pytest.mark.parametrize("section", list(PREFIXES))
def test_add_form_saves_row(app, as_editor, samples, section):
    before = row_count(app, section)
    path = PREFIXES[section] + "/new"

    assert as_editor.get(path).status_code == 200
    response = post_form(as_editor, path, valid_data(section, samples))

    assert response.status_code == 302
    assert row_count(app, section) == before + 1
    detail = as_editor.get(response.headers["Location"])
    assert detail.status_code == 200
    assert "Added" in detail.get_data(as_text=True)


@pytest.mark.parametrize("section", list(PREFIXES))
def test_edit_form_saves_and_bumps_version(app, as_editor, samples, section):
    row_id = samples.id_in(section)
    path = f"{PREFIXES[section]}/{row_id}/edit"
    with app.app_context():
        before = MODELS[section].get_by_id(row_id)

    values = form_values(as_editor.get(path).get_data(as_text=True))
    assert values["version"] == str(before.version)
    changed = {**values, **valid_data(section, samples)}
    response = as_editor.post(path, data=changed)

    assert response.status_code == 302
    with app.app_context():
        after = MODELS[section].get_by_id(row_id)
    assert after.version == before.version + 1
    assert after.updated_at > before.updated_at
    assert after.created_at == before.created_at
    assert after.updated_at <= datetime.now(UTC).replace(tzinfo=None)
    for name, value in valid_data(section, samples).items():
        stored = after.__data__[name]
        assert stored == value, name


def test_edit_form_starts_with_stored_values(as_editor, samples):
    page = as_editor.get(f"/crossword-solutions/{samples.silent}/edit")
    values = form_values(page.get_data(as_text=True))
    assert values["clue"] == "Listen badly, being quiet (6)"
    assert values["solution"] == "SILENT"
    assert values["hint"] == "Rearrange LISTEN."
    assert values["setter"] == str(samples.anvil)
    assert values["solution_type"] == str(samples.anagram)


LONG = "x" * 300

INVALID = [
    ("setter_types", {"name": ""}, "Enter the name."),
    ("setter_types", {"name": "   "}, "Enter the name."),
    ("setter_types", {"name": LONG}, "Use at most 64 characters; this has 300."),
    ("setter_types", {"name": "Tab\tname"}, "without control characters"),
    ("setter_types", {"name": "Nul\x00name"}, "without control characters"),
    ("setter_types", {"name": "Next\x85line"}, "without control characters"),
    ("setter_types", {"name": "Line\u2028separator"}, "without control characters"),
    ("setter_types", {"name": "Escape\x9bcode"}, "without control characters"),
    ("setter_types", {"description": "y" * 2001}, "Use at most 2000 characters"),
    ("setter_types", {"description": "bell\x07"}, "without control characters"),
    ("setter_types", {"description": "csi\x9b31m"}, "without control characters"),
    ("setters", {"setter_type": ""}, "Choose a setter type."),
    ("setters", {"setter_type": "abc"}, "Choose one of the listed setter types."),
    ("setters", {"setter_type": "999999"}, "may have been deleted"),
    ("setters", {"setter_type": "9" * 5000}, "Choose one of the listed setter types"),
    ("solution_types", {"name": LONG}, "Use at most 64 characters"),
    ("solutions", {"clue": ""}, "Enter the clue."),
    ("solutions", {"clue": "c" * 501}, "Use at most 500 characters"),
    ("solutions", {"solution": "s" * 101}, "Use at most 100 characters"),
    ("solutions", {"hint": "h" * 4001}, "Use at most 4000 characters"),
    ("solutions", {"setter": "-1"}, "Choose one of the listed setters"),
    ("solutions", {"solution_type": ""}, "Choose a solution type."),
    ("cue_words", {"cue_word": ""}, "Enter the cue word."),
    ("cue_words", {"cue_word": LONG}, "Use at most 64 characters"),
    ("cue_words", {"meaning": ""}, "Enter the meaning."),
    ("cue_words", {"meaning": "m" * 501}, "Use at most 500 characters"),
]


@pytest.mark.parametrize(("section", "change", "message"), INVALID)
def test_invalid_add_rejected_with_400(
    app, as_editor, samples, section, change, message
):
    before = row_count(app, section)
    data = {**valid_data(section, samples), **change}

    response = post_form(as_editor, PREFIXES[section] + "/new", data)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'class="field-error"' in page
    assert row_count(app, section) == before


@pytest.mark.parametrize(("section", "change", "message"), INVALID)
def test_invalid_edit_changes_nothing(
    app, as_editor, samples, section, change, message
):
    row_id = samples.id_in(section)
    path = f"{PREFIXES[section]}/{row_id}/edit"
    with app.app_context():
        before = MODELS[section].get_by_id(row_id).__data__.copy()

    values = form_values(as_editor.get(path).get_data(as_text=True))
    response = as_editor.post(path, data={**values, **change})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert MODELS[section].get_by_id(row_id).__data__ == before


def test_error_is_tied_to_its_field(as_editor, samples):
    response = post_form(as_editor, "/setter-types/new", {"name": ""})
    page = response.get_data(as_text=True)
    assert 'aria-describedby="name-hint name-error"' in page
    assert 'id="name-error"' in page


def test_names_are_stripped(app, as_editor, samples):
    response = post_form(
        as_editor, "/setter-types/new", {"name": "  Prize  ", "description": " x \r\n"}
    )
    assert response.status_code == 302
    with app.app_context():
        row = SetterType.get(SetterType.name == "Prize")
    assert row.description == "x"


def test_textarea_newlines_stored_as_lf(app, as_editor, samples):
    data = {**valid_data("solutions", samples), "hint": "Line one\r\nLine two"}
    assert post_form(as_editor, "/crossword-solutions/new", data).status_code == 302
    with app.app_context():
        assert Solution.get(Solution.solution == "STAR").hint == "Line one\nLine two"


DUPLICATES = [
    ("setter_types", {"name": "Regular"}, "Another setter type", "name “Regular”"),
    ("setter_types", {"name": " Regular "}, "Another setter type", "name “Regular”"),
    ("setters", {"name": "Anvil"}, "Another setter", "name “Anvil”"),
    ("solution_types", {"name": "Anagram"}, "Another solution type", "“Anagram”"),
    (
        "cue_words",
        {"cue_word": "initially", "meaning": "first letters"},
        "Another cue word",
        "cue word “initially” and meaning “first letters”",
    ),
]


@pytest.mark.parametrize(("section", "change", "who", "what"), DUPLICATES)
def test_duplicate_add_gets_409(app, as_editor, samples, section, change, who, what):
    before = row_count(app, section)
    data = {**valid_data(section, samples), **change}

    response = post_form(as_editor, PREFIXES[section] + "/new", data)

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert who in page
    assert what in page
    assert row_count(app, section) == before


@pytest.mark.parametrize(("section", "change", "who", "what"), DUPLICATES)
def test_duplicate_edit_gets_409(app, as_editor, samples, section, change, who, what):
    # The row edited is another one than the one whose values are copied.
    row_id = {
        "setter_types": samples.guest,
        "setters": samples.cinder,
        "solution_types": samples.charade,
        "cue_words": None,
    }[section]
    if row_id is None:
        with app.app_context():
            row_id = CueWord.create(cue_word="back", meaning="reversal").id
    path = f"{PREFIXES[section]}/{row_id}/edit"
    with app.app_context():
        stored = MODELS[section].get_by_id(row_id)
        before = stored.__data__.copy()

    values = form_values(as_editor.get(path).get_data(as_text=True))
    response = as_editor.post(path, data={**values, **change})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert what in page
    # The heading names the row as stored, not the rejected values.
    assert f"“{stored}”</h1>" in page
    with app.app_context():
        assert MODELS[section].get_by_id(row_id).__data__ == before


def test_cue_word_may_have_several_meanings(app, as_editor, samples):
    data = {"cue_word": "initially", "meaning": "at the start"}
    assert post_form(as_editor, "/cue-words/new", data).status_code == 302
    with app.app_context():
        assert CueWord.select().where(CueWord.cue_word == "initially").count() == 3


def test_duplicate_cue_word_may_keep_values(app, as_editor, samples):
    # A row marked as a duplicate is outside the unique index, so saving it
    # unchanged must still work.
    path = f"/cue-words/{samples.initially_copy}/edit"
    values = form_values(as_editor.get(path).get_data(as_text=True))
    assert as_editor.post(path, data=values).status_code == 302


def test_new_setter_preselects_setter_type(as_editor, samples):
    page = as_editor.get(f"/crossword-setters/new?setter_type={samples.guest}")
    values = form_values(page.get_data(as_text=True))
    assert values["setter_type"] == str(samples.guest)


def test_new_setter_warns_without_setter_types(as_editor):
    page = as_editor.get("/crossword-setters/new").get_data(as_text=True)
    assert "There is no setter type to choose yet" in page


@pytest.mark.parametrize(
    "path",
    ["/setter-types/new", "/cue-words/new", "/crossword-solutions/{silent}/edit"],
)
def test_form_without_csrf_token_gets_400(app, as_editor, samples, path):
    path = path.format(silent=samples.silent)
    before = row_count(app, "setter_types")

    response = as_editor.post(path, data={"name": "Prize", "cue_word": "x"})

    assert response.status_code == 400
    assert "CSRF token" in response.get_data(as_text=True)
    assert row_count(app, "setter_types") == before


@pytest.mark.parametrize(
    ("path", "field"),
    [("/cue-words/new", "cue_word"), ("/setter-types/new", "description")],
)
def test_uploaded_file_gets_400(app, as_editor, samples, path, field):
    before = row_count(app, "setter_types"), row_count(app, "cue_words")
    values = form_values(as_editor.get(path).get_data(as_text=True))
    data = {**values, "name": "Prize", "meaning": "m", field: (io.BytesIO(b"x"), "a")}

    response = as_editor.post(path, data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    assert "no file uploads" in response.get_data(as_text=True)
    assert (row_count(app, "setter_types"), row_count(app, "cue_words")) == before


def test_form_with_wrong_csrf_token_gets_400(as_editor, samples):
    response = as_editor.post(
        "/setter-types/new", data={"name": "Prize", "csrf_token": "forged"}
    )
    assert response.status_code == 400


def test_huge_post_gets_413(app, as_editor, samples):
    before = row_count(app, "setter_types")
    token = form_values(as_editor.get("/setter-types/new").get_data(as_text=True))[
        "csrf_token"
    ]

    response = as_editor.post(
        "/setter-types/new",
        data={
            "name": "Prize",
            "description": "d" * (10 * 1024 * 1024),
            "csrf_token": token,
        },
    )

    assert response.status_code == 413
    assert row_count(app, "setter_types") == before
