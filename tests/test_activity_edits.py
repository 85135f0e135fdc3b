"""Word-level edits: long text changes are stored as the words that changed."""

from __future__ import annotations

import json
import random

import pytest
from flask import Flask

from activity_samples import add_catalogue, entries, run_sql
from crossword_hints import activity
from crossword_hints.activity import history
from crossword_hints.activity.edits import (
    EditMismatch,
    apply_edit,
    compact,
    steps,
)
from crossword_hints.catalogue.models import Solution

WORDS = "anvil brick candle dormouse ember falcon gadget harbour ink jester".split()


def long_text(seed: int, words: int = 80) -> str:
    chooser = random.Random(seed)
    return " ".join(chooser.choice(WORDS) for _ in range(words))


def with_word(text: str, index: int, word: str) -> str:
    words = text.split(" ")
    words[index] = word
    return " ".join(words)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a b c", "a x c"),
        ("a b c", "a b c d"),
        ("a b c", "b c"),
        ("", "all new"),
        ("all gone", ""),
        ("  spaces\tand\nlines ", " spaces and\n\nlines"),
        ("ünïcode wörds ✓", "ünïcode wards ✓"),
    ],
)
def test_steps_turn_old_into_new(old, new):
    assert apply_edit(old, {"edit": steps(old, new)}) == new


def test_random_edits_round_trip():
    chooser = random.Random(7)
    for seed in range(50):
        old = long_text(seed, words=chooser.randrange(1, 60))
        new = long_text(seed + 1000, words=chooser.randrange(1, 60))
        assert apply_edit(old, {"edit": steps(old, new)}) == new


def test_one_word_edit_stores_one_step():
    old = long_text(1)
    new = with_word(old, 10, "quill")
    (step,) = steps(old, new)
    start, removed, added = step
    assert added == "quill"
    assert old[start : start + len(removed)] == removed


@pytest.mark.parametrize(
    ("text", "edit"),
    [
        ("a b c", {"edit": [[2, "x", "y"]]}),
        ("a b c", {"edit": [[4, "c", "d"], [0, "a", "z"]]}),
        ("a b c", {"edit": [["2", "b", "y"]]}),
        ("a b c", {"edit": [[2, "b"]]}),
        (None, {"edit": [[0, "", "new"]]}),
    ],
    ids=["wrong-text", "out-of-order", "text-start", "short-step", "no-text"],
)
def test_mismatched_edit_raises(text, edit):
    with pytest.raises(EditMismatch):
        apply_edit(text, edit)


def test_short_values_stay_pairs():
    old = long_text(2)
    changes = {
        "name": ["Anvil", "Brick"],
        "count": [1, 2],
        "long": [old, with_word(old, 3, "quill")],
        "rewritten": [long_text(3), long_text(4)],
    }
    stored = compact(changes)
    assert stored["name"] == ["Anvil", "Brick"]
    assert stored["count"] == [1, 2]
    assert list(stored["long"]) == ["edit"]
    # A rewrite of the whole text is no shorter as an edit.
    assert stored["rewritten"] == changes["rewritten"]


@pytest.fixture
def solution_id(app: Flask) -> int:
    with app.app_context(), activity.acting_as("seed"):
        solution = add_catalogue().solutions[0]
        solution.hint = long_text(5)
        solution.save()
        return solution.id


def edit_hint(app: Flask, solution_id: int, index: int, word: str) -> str:
    with app.app_context(), activity.acting_as("ed"):
        solution = Solution.get_by_id(solution_id)
        solution.hint = with_word(solution.hint, index, word)
        solution.save()
        return solution.hint


def test_long_hint_edit_stores_word(app, solution_id):
    edit_hint(app, solution_id, 20, "quill")
    with app.app_context():
        entry = entries(item_id=str(solution_id))[-1]
    changes = json.loads(entry.changes)
    (step,) = changes["solution_hint"]["edit"]
    assert step[2] == "quill"
    assert len(entry.changes) < 100
    assert "-> 'quill'" in entry.act_action
    assert len(entry.act_action) < 100


def test_versions_rebuild_after_edits(app, solution_id):
    hints = {}
    with app.app_context():
        first = entries(item_id=str(solution_id))[-1].version
    chooser = random.Random(3)
    for offset in range(1, 8):
        hints[first + offset] = edit_hint(
            app, solution_id, chooser.randrange(80), chooser.choice(WORDS) + "s"
        )
    with app.app_context():
        for version, hint in hints.items():
            state = history.state_at("crossword_solutions", str(solution_id), version)
            assert state.values["solution_hint"] == hint


def test_restore_undoes_edits(app, solution_id):
    with app.app_context():
        version = entries(item_id=str(solution_id))[-1].version
        original = Solution.get_by_id(solution_id).hint
    edit_hint(app, solution_id, 4, "quill")
    edit_hint(app, solution_id, 40, "parchment")
    with app.app_context(), activity.acting_as("admin"):
        history.restore("crossword_solutions", str(solution_id), version, None)
        assert Solution.get_by_id(solution_id).hint == original


def test_history_marks_edited_word(app, solution_id, as_admin):
    edit_hint(app, solution_id, 30, "quill")
    page = as_admin.get(f"/activity/crossword_solutions/{solution_id}")
    text = page.get_data(as_text=True)
    assert "<ins>quill</ins>" in text
    # The words around the edit are shown too, rebuilt from the log.
    assert with_word(long_text(5), 30, "quill").split(" ")[29] in text


def test_mismatched_edit_shown_not_rebuilt(app, solution_id, as_admin, database_url):
    edit_hint(app, solution_id, 30, "quill")
    with app.app_context():
        entry = entries(item_id=str(solution_id))[-1]
        step = json.loads(entry.changes)["solution_hint"]["edit"][0]
    # Someone with database access rewrites the edit: the chain check
    # reports it, and the history neither fails nor invents a value.
    broken = json.dumps({"solution_hint": {"edit": [[step[0], "nonsense", "quill"]]}})
    run_sql(
        database_url,
        f"UPDATE activity_logs SET changes = '{broken}' WHERE id = {entry.id}",
    )
    page = as_admin.get(f"/activity/crossword_solutions/{solution_id}")
    assert page.status_code == 200
    assert "<del>nonsense</del><ins>quill</ins>" in page.get_data(as_text=True)
    with app.app_context():
        state = history.state_at("crossword_solutions", str(solution_id), entry.version)
    assert "solution_hint" not in state.values
