"""The ``load-demo`` command and the demo data it loads."""

from __future__ import annotations

import pytest

from crossword_hints.catalogue import demo
from crossword_hints.catalogue.models import (
    MODELS,
    CueWord,
    Setter,
    SetterType,
    Solution,
    SolutionType,
)

EXPECTED_COUNTS = {
    SolutionType: len(demo.SOLUTION_TYPES),
    SetterType: len(demo.SETTER_TYPES),
    Setter: len(demo.SETTERS),
    Solution: len(demo.SOLUTIONS),
    CueWord: len(demo.CUE_WORDS),
}


def counts(app) -> dict:
    with app.app_context():
        return {model: model.select().count() for model in MODELS}


def snapshot(app) -> dict:
    with app.app_context():
        return {
            model: sorted(tuple(sorted(row.items())) for row in model.select().dicts())
            for model in MODELS
        }


@pytest.mark.parametrize("args", [["load-demo"], ["load-demo", "--if-empty"]])
def test_load_demo_fills_empty_database(app, runner, args):
    result = runner.invoke(args=args)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Added ")
    assert counts(app) == EXPECTED_COUNTS


@pytest.mark.parametrize("args", [["load-demo"], ["load-demo", "--if-empty"]])
def test_second_load_changes_nothing(app, runner, args):
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    before = snapshot(app)

    result = runner.invoke(args=args)

    assert result.exit_code == 0, result.output
    assert "not loaded" in result.output or "nothing changed" in result.output
    assert snapshot(app) == before


def test_if_empty_skips_database_with_data(app, runner):
    with app.app_context():
        SolutionType.create(name="Anagram", description="Our own.")

    result = runner.invoke(args=["load-demo", "--if-empty"])

    assert result.exit_code == 0
    assert "already has data" in result.output
    assert counts(app)[Solution] == 0


def test_load_adds_only_missing_rows(app, runner):
    with app.app_context():
        SolutionType.create(name="Anagram", description="Kept as it is.")

    assert runner.invoke(args=["load-demo"]).exit_code == 0

    with app.app_context():
        assert SolutionType.get(SolutionType.name == "Anagram").description == (
            "Kept as it is."
        )
    assert counts(app) == EXPECTED_COUNTS


def test_demo_includes_standard_solution_types():
    names = {name for name, _ in demo.SOLUTION_TYPES}
    for name in (
        "Anagram",
        "Charade",
        "Container",
        "Hidden word",
        "Homophone",
        "Reversal",
        "Double definition",
        "Cryptic definition",
        "Initial letters",
        "Spoonerism",
        "&lit",
    ):
        assert name in names


def test_demo_rows_fit_the_forms():
    from crossword_hints.catalogue import models

    for name, description in demo.SOLUTION_TYPES + demo.SETTER_TYPES:
        assert len(name) <= models.NAME_MAX
        assert len(description) <= models.DESCRIPTION_MAX
    for clue, solution, hint, _, _ in demo.SOLUTIONS:
        assert len(clue) <= models.CLUE_MAX
        assert len(solution) <= models.SOLUTION_MAX
        assert len(hint) <= models.HINT_MAX


def test_demo_references_resolve():
    setter_types = {name for name, _ in demo.SETTER_TYPES}
    setters = {name for name, _, _ in demo.SETTERS}
    solution_types = {name for name, _ in demo.SOLUTION_TYPES}
    assert {setter_type for _, setter_type, _ in demo.SETTERS} <= setter_types
    assert {setter for *_, setter, _ in demo.SOLUTIONS} <= setters
    assert {kind for *_, kind in demo.SOLUTIONS} <= solution_types


def test_demo_pages_render(app, runner, client):
    runner.invoke(args=["load-demo"])
    for path in (
        "/crossword-solutions/",
        "/cue-words/",
        "/crossword-setters/",
        "/setter-types/",
        "/solution-types/",
    ):
        assert client.get(path).status_code == 200

    page = client.get("/crossword-solutions/").get_data(as_text=True)
    assert "JELLY BEANS" in page


def test_demo_load_is_one_transaction(app, monkeypatch):
    # A setter naming an unknown setter type fails half-way through the
    # load, and nothing loaded before it may stay behind.
    broken = demo.SETTERS + [("Nobody", "No such type", "")]
    monkeypatch.setattr(demo, "SETTERS", broken)

    with app.app_context():
        with pytest.raises(KeyError):
            demo.load()

    assert counts(app) == {model: 0 for model in MODELS}
