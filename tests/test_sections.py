"""The five catalogue sections: index, detail and delete pages, and paging."""

from __future__ import annotations

import re

import peewee
import pytest

from catalogue_samples import PREFIXES, add_samples, post_form
from crossword_hints.catalogue.models import Setter, SetterType, Solution, SolutionType

SECTIONS = list(PREFIXES)


@pytest.fixture
def samples(app):
    return add_samples(app)


def main_text(response) -> str:
    page = response.get_data(as_text=True)
    return page[page.index("<main") : page.index("</main>")]


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("setter_types", ["Guest", "Regular"]),
        ("setters", ["Anvil", "bellow", "Cinder"]),
        ("solution_types", ["Anagram", "Charade"]),
        ("solutions", ["CARPET", "SILENT"]),
        ("cue_words", ["initially", "first letters"]),
    ],
)
def test_index_lists_rows_in_order(client, samples, section, expected):
    response = client.get(PREFIXES[section] + "/")
    assert response.status_code == 200

    text = main_text(response)
    positions = [text.find(value) for value in expected]
    assert -1 not in positions, f"missing one of {expected}"
    assert positions == sorted(positions)


@pytest.mark.parametrize("section", SECTIONS)
def test_empty_index_says_so(client, section):
    response = client.get(PREFIXES[section] + "/")
    assert response.status_code == 200
    assert "There are no" in main_text(response)


@pytest.mark.parametrize(
    ("section", "attribute", "expected"),
    [
        ("setter_types", "regular", ["Regular", "Sets every week.", "Anvil", "bellow"]),
        ("setters", "anvil", ["Anvil", "Regular", "SILENT", "CARPET"]),
        ("solution_types", "anagram", ["Anagram", "Letters mixed.", "SILENT"]),
        (
            "solutions",
            "silent",
            [
                "Listen badly, being quiet (6)",
                "SILENT",
                "Rearrange LISTEN.",
                "Anvil",
                "Anagram",
            ],
        ),
        ("cue_words", "initially", ["initially", "first letters"]),
    ],
)
def test_detail_shows_fields_and_related(client, samples, section, attribute, expected):
    row_id = getattr(samples, attribute)
    response = client.get(f"{PREFIXES[section]}/{row_id}")
    assert response.status_code == 200

    text = main_text(response)
    for value in expected:
        assert value in text


def test_detail_of_setter_type_omits_others(client, samples):
    text = main_text(client.get(f"/setter-types/{samples.guest}"))
    assert "Cinder" in text
    assert "Anvil" not in text


def test_cue_word_shows_duplicate_of(client, samples):
    response = client.get(f"/cue-words/{samples.initially_copy}")
    text = main_text(response)
    assert "Duplicate of" in text
    assert f'href="/cue-words/{samples.initially}"' in text
    assert f"#{samples.initially}" in text


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("suffix", ["", "/edit", "/delete"])
@pytest.mark.parametrize(
    "bad_id", ["abc", "999999", "99999999999999999999", "-1", "1.5"]
)
def test_bad_id_gets_404(as_admin, samples, section, suffix, bad_id):
    response = as_admin.get(f"{PREFIXES[section]}/{bad_id}{suffix}")
    assert response.status_code == 404


def test_missing_row_page_names_it(client, samples):
    response = client.get("/crossword-setters/999999")
    assert response.status_code == 404
    assert "There is no setter with id 999999." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("page", "status"),
    [
        ("1", 200),
        ("2", 200),
        ("3", 404),
        ("01", 200),
        ("0", 400),
        ("-1", 400),
        ("abc", 400),
        ("", 400),
        ("1.0", 400),
        ("٣", 400),
        ("1000000000", 404),
        ("9" * 40, 404),
        ("9" * 5000, 404),
    ],
)
def test_index_paging_statuses(app, client, samples, page, status):
    app.config["PER_PAGE"] = 2
    response = client.get("/crossword-setters/", query_string={"page": page})
    assert response.status_code == status


def test_paging_splits_rows_across_pages(app, client, samples):
    app.config["PER_PAGE"] = 2

    first = main_text(client.get("/crossword-setters/"))
    assert "Anvil" in first
    assert "bellow" in first
    assert "Cinder" not in first
    assert 'href="/crossword-setters/?page=2"' in first

    second = main_text(client.get("/crossword-setters/?page=2"))
    assert "Cinder" in second
    assert "Anvil" not in second
    assert 'href="/crossword-setters/?page=1"' in second


def test_page_past_end_says_how_many(app, client, samples):
    app.config["PER_PAGE"] = 2
    response = client.get("/crossword-setters/?page=1000000000")
    assert "The list has 2 pages." in response.get_data(as_text=True)


def test_detail_pages_its_children(app, client, samples):
    app.config["PER_PAGE"] = 1
    first = main_text(client.get(f"/crossword-setters/{samples.anvil}"))
    second = main_text(client.get(f"/crossword-setters/{samples.anvil}?page=2"))
    assert ("SILENT" in first) != ("SILENT" in second)
    assert client.get(f"/crossword-setters/{samples.anvil}?page=3").status_code == 404


@pytest.mark.parametrize(
    ("account", "shows_edit", "shows_delete"),
    [(None, False, False), ("setter", True, False), ("xword", True, True)],
)
def test_links_match_permissions(client, samples, account, shows_edit, shows_delete):
    from conftest import login

    if account:
        assert login(client, account).status_code == 302

    for path in ("/crossword-setters/", f"/crossword-setters/{samples.anvil}"):
        text = main_text(client.get(path))
        assert (f"/crossword-setters/{samples.anvil}/edit" in text) is shows_edit
        assert (f"/crossword-setters/{samples.anvil}/delete" in text) is shows_delete
        if path.endswith("/"):
            assert ("/crossword-setters/new" in text) is shows_edit


# -- Deleting ----------------------------------------------------------------------


@pytest.mark.parametrize("section", SECTIONS)
def test_delete_asks_then_deletes(app, as_admin, samples, section):
    path = f"{PREFIXES[section]}/{samples.id_in(section)}/delete"

    confirm = as_admin.get(path)
    assert confirm.status_code == 200
    assert "<form" in confirm.get_data(as_text=True)
    assert (
        as_admin.get(f"{PREFIXES[section]}/{samples.id_in(section)}").status_code == 200
    )

    response = post_form(as_admin, path, {})
    assert response.status_code == 302
    assert response.headers["Location"] == PREFIXES[section] + "/"
    assert (
        as_admin.get(f"{PREFIXES[section]}/{samples.id_in(section)}").status_code == 404
    )


@pytest.mark.parametrize(
    ("section", "attribute", "message"),
    [
        ("setter_types", "regular", "used by 2 setters: Anvil, bellow"),
        ("setters", "anvil", "used by 2 solutions:"),
        ("solution_types", "anagram", "used by 2 solutions:"),
        (
            "cue_words",
            "initially",
            "used by 1 cue word marked as its duplicate: initially",
        ),
    ],
)
def test_referenced_row_delete_rejected(as_admin, samples, section, attribute, message):
    path = f"{PREFIXES[section]}/{getattr(samples, attribute)}/delete"

    confirm = as_admin.get(path)
    assert confirm.status_code == 409
    assert message in confirm.get_data(as_text=True)
    assert '<form method="post" action="' + path not in confirm.get_data(as_text=True)

    response = post_form(as_admin, path, {}, form_path="/")
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert as_admin.get(path.removesuffix("/delete")).status_code == 200


def test_rejection_names_five_then_counts(app, as_admin, samples):
    with app.app_context():
        for number in range(7):
            Setter.create(name=f"Extra {number}", setter_type=samples.guest)

    text = as_admin.get(f"/setter-types/{samples.guest}/delete").get_data(as_text=True)
    assert (
        "used by 8 setters: Cinder, Extra 0, Extra 1, Extra 2, Extra 3, and 3 more"
        in text
    )


@pytest.mark.parametrize(
    ("model", "attribute"),
    [(SetterType, "regular"), (Setter, "anvil"), (SolutionType, "anagram")],
)
def test_foreign_keys_restrict_delete(app, samples, model, attribute):
    with app.app_context():
        row = model.get_by_id(getattr(samples, attribute))
        with pytest.raises(peewee.IntegrityError):
            with model._meta.database.atomic():
                row.delete_instance()
        assert model.get_or_none(model.id == row.id) is not None


def test_delete_never_happens_on_get(as_admin, samples):
    as_admin.get(f"/crossword-solutions/{samples.silent}/delete")
    assert as_admin.get(f"/crossword-solutions/{samples.silent}").status_code == 200


def test_delete_without_csrf_token_rejected(as_admin, samples):
    response = as_admin.post(f"/crossword-solutions/{samples.silent}/delete")
    assert response.status_code == 400
    assert re.search(r"CSRF", response.get_data(as_text=True))
    assert as_admin.get(f"/crossword-solutions/{samples.silent}").status_code == 200


def test_solutions_newest_first(app, client, samples):
    with app.app_context():
        newest = Solution.create(
            clue="Fruit found in top earrings (4)",
            solution="PEAR",
            setter=samples.cinder,
            solution_type=samples.charade,
        )
        assert newest.id > samples.carpet

    text = main_text(client.get("/crossword-solutions/"))
    assert text.find("PEAR") < text.find("CARPET") < text.find("SILENT")


@pytest.mark.parametrize(("account", "shown"), [(None, False), ("setter", True)])
def test_history_link_for_editors(client, samples, account, shown):
    from conftest import login

    if account:
        assert login(client, account).status_code == 302

    text = main_text(client.get(f"/crossword-solutions/{samples.silent}"))
    assert ("History</a>" in text) is shown
