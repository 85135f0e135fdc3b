"""Rows for the search and API tests, each with words found nowhere else.

Every clue and hint here is our own. Each searchable word sits in exactly
one field of one row, so a test can tell which field a match came from.
"""

from __future__ import annotations

from flask import Flask

from crossword_hints.catalogue.models import (
    CueWord,
    Setter,
    SetterType,
    Solution,
    SolutionType,
)

#: A clue with markup in it, to prove that output escapes it.
HOSTILE_CLUE = "Stop quietly <script>alert('x')</script> & rest"


def add_search_rows(app: Flask) -> dict[str, int]:
    """Add a small catalogue and return the ids of its rows by name."""
    with app.app_context():
        regular = SetterType.create(name="Regular", description="Sets every week")
        guest = SetterType.create(name="Guest", description="Sets now and then")
        rufus = Setter.create(name="Rufus", setter_type=regular)
        Setter.create(name="Nimbus", setter_type=guest)
        anagram = SolutionType.create(name="Anagram", description="Letters mixed")
        hidden = SolutionType.create(name="Hidden", description="Inside the clue")

        lighthouse = Solution.create(
            clue="Lighthouse keeper finally leaves island (4)",
            solution="ISLE",
            hint="Anagram of LIES, with no telescoped parts",
            setter=rufus,
            solution_type=anagram,
        )
        marmalade = Solution.create(
            clue="Preserve a dozen oranges, roughly (9)",
            solution="MARMALADE",
            hint="A charade of several pieces",
            setter=rufus,
            solution_type=hidden,
        )
        hostile = Solution.create(
            clue=HOSTILE_CLUE,
            solution="PAUSE",
            hint="P (quietly) around A USE",
            setter=rufus,
            solution_type=anagram,
        )
        bananas = CueWord.create(cue_word="bananas", meaning="anagram indicator")
        backwards = CueWord.create(cue_word="backwards", meaning="reversal indicator")

    return {
        "regular": regular.id,
        "guest": guest.id,
        "rufus": rufus.id,
        "anagram": anagram.id,
        "hidden": hidden.id,
        "lighthouse": lighthouse.id,
        "marmalade": marmalade.id,
        "hostile": hostile.id,
        "bananas": bananas.id,
        "backwards": backwards.id,
    }
