"""The records the browser tests find on the site: our own clues and words."""

from __future__ import annotations

from crossword_hints.catalogue.models import (
    CueWord,
    Setter,
    SetterType,
    Solution,
    SolutionType,
)
from crossword_hints.db import database

SETTER_TYPES = [
    ("Daily", "Setters of the weekday puzzles."),
    ("Prize", "Setters of the weekend prize puzzles."),
]

SETTERS = [
    ("Quillon", "Daily", "Likes hidden words and long anagrams."),
    ("Marbleback", "Daily", "Fond of homophones."),
    ("Tessellate", "Prize", "Sets the Saturday prize puzzle."),
    ("Oakum", "Prize", "Leaves no trace: no solutions of their own here."),
]

SOLUTION_TYPES = [
    ("Anagram", "The letters of some words are rearranged to give the answer."),
    ("Charade", "The answer is built from parts clued one after another."),
    ("Hidden word", "The answer is spelt out inside the words of the clue."),
    ("Homophone", "The answer sounds like another word or phrase."),
    ("Initial letters", "The answer is spelt by the first letters of some words."),
]

#: (clue, solution, hint, setter, solution type). Twelve clues, so an index
#: of five rows a page has three pages.
SOLUTIONS = [
    (
        "Initially every mother understands a big bird (3)",
        "EMU",
        "The first letters of Every Mother Understands.",
        "Quillon",
        "Initial letters",
    ),
    (
        "Candles from repast, broken (6)",
        "TAPERS",
        "An anagram of REPAST, with broken as the indicator.",
        "Quillon",
        "Anagram",
    ),
    (
        "Hot ellipse conceals a place to stay (5)",
        "HOTEL",
        "Hidden in HOT ELlipse.",
        "Quillon",
        "Hidden word",
    ),
    (
        "Cattle heard in the meadow (4)",
        "HERD",
        "Sounds like HEARD.",
        "Marbleback",
        "Homophone",
    ),
    (
        "Chess piece heard after dark (6)",
        "KNIGHT",
        "Sounds like NIGHT.",
        "Marbleback",
        "Homophone",
    ),
    (
        "Vehicle and animal make a rug (6)",
        "CARPET",
        "CAR followed by PET.",
        "Tessellate",
        "Charade",
    ),
    (
        "Pub profit is a good deal (7)",
        "BARGAIN",
        "BAR (pub) followed by GAIN (profit).",
        "Tessellate",
        "Charade",
    ),
    (
        "Broken reed leads to a stag (4)",
        "DEER",
        "An anagram of REED, with broken as the indicator.",
        "Quillon",
        "Anagram",
    ),
    (
        "Look at the ocean, we hear (3)",
        "SEE",
        "Sounds like SEA.",
        "Marbleback",
        "Homophone",
    ),
    (
        "Vehicle leaves with the freight (5)",
        "CARGO",
        "CAR followed by GO (leaves).",
        "Tessellate",
        "Charade",
    ),
    (
        "Tune a tenor partly hides: have a meal (3)",
        "EAT",
        "Hidden in tunE A Tenor.",
        "Quillon",
        "Hidden word",
    ),
    (
        "Blended melon gives a citrus fruit (5)",
        "LEMON",
        "An anagram of MELON, with blended as the indicator.",
        "Tessellate",
        "Anagram",
    ),
]

CUE_WORDS = [
    ("initially", "Take the first letters of the following words."),
    ("broken", "An anagram of the next word or words."),
    ("blended", "An anagram of the next word or words."),
    ("heard", "A homophone: the answer sounds like the clue word."),
    ("hides", "A hidden word within the clue."),
    ("partly", "A hidden word within the clue."),
]


def load_site_data() -> dict:
    """Insert the test records and return their ids, keyed by name."""
    ids: dict = {"setter_types": {}, "setters": {}, "solution_types": {}}

    with database.atomic():
        for name, description in SETTER_TYPES:
            row = SetterType.create(name=name, description=description)
            ids["setter_types"][name] = row.id

        for name, type_name, description in SETTERS:
            row = Setter.create(
                name=name,
                setter_type=ids["setter_types"][type_name],
                description=description,
            )
            ids["setters"][name] = row.id

        for name, description in SOLUTION_TYPES:
            row = SolutionType.create(name=name, description=description)
            ids["solution_types"][name] = row.id

        ids["solutions"] = {}
        for clue, solution, hint, setter, solution_type in SOLUTIONS:
            row = Solution.create(
                clue=clue,
                solution=solution,
                hint=hint,
                setter=ids["setters"][setter],
                solution_type=ids["solution_types"][solution_type],
            )
            ids["solutions"][solution] = row.id

        ids["cue_words"] = {}
        for word, meaning in CUE_WORDS:
            ids["cue_words"][word] = CueWord.create(cue_word=word, meaning=meaning).id

    return ids
