"""Demo data for a fresh site: solution types, setters, clues and cue words.

Every clue, hint and description here was written for this project. The
setters are invented. Loading adds only rows that are missing, so a
second load changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import click
from flask.cli import with_appcontext

from ..db import database
from .models import CueWord, Setter, SetterType, Solution, SolutionType

log = logging.getLogger(__name__)

SOLUTION_TYPES = [
    ("Anagram", "The letters of some words are rearranged to give the answer."),
    ("Charade", "The answer is built from parts placed one after another."),
    ("Container", "One part is placed inside another, or goes around it."),
    ("Deletion", "A letter or part is taken away from a longer word."),
    ("Hidden word", "The answer is spelled out inside a run of the clue's words."),
    ("Homophone", "The answer sounds like another word or phrase."),
    ("Reversal", "A word read backwards, or upwards in a down clue, gives the answer."),
    ("Double definition", "Two separate definitions of the same word, side by side."),
    ("Cryptic definition", "One playful, misleading definition and no wordplay."),
    ("Initial letters", "The first letters of a run of words spell the answer."),
    ("Final letters", "The last letters of a run of words spell the answer."),
    ("Alternate letters", "Every other letter of a word or phrase is taken."),
    ("Spoonerism", "The first sounds of two words are swapped."),
    ("Letter substitution", "One letter of a word is replaced by another."),
    ("&lit", "The whole clue is both the definition and the wordplay."),
]

SETTER_TYPES = [
    ("Regular", "Sets puzzles for the paper every week or two."),
    ("Guest", "Sets now and then, by invitation."),
    ("Prize", "Sets the weekend prize puzzle."),
]

SETTERS = [
    ("Bramblewick", "Regular", "Smooth surfaces and a fondness for anagrams."),
    ("Quillon", "Regular", "Short clues; likes containers and reversals."),
    ("Mistle", "Guest", "Playful definitions and the odd spoonerism."),
    ("Larkspur", "Prize", "Long weekend puzzles with themed answers."),
]

#: (clue, solution, hint, setter, solution type)
SOLUTIONS = [
    (
        "Listen badly, being quiet (6)",
        "SILENT",
        "'badly' says to rearrange LISTEN; 'quiet' is the definition.",
        "Bramblewick",
        "Anagram",
    ),
    (
        "Car, then pet, for a floor covering (6)",
        "CARPET",
        "CAR followed by PET; the definition is 'floor covering'.",
        "Bramblewick",
        "Charade",
    ),
    (
        "Fraudster has man inside cat (5)",
        "CHEAT",
        "HE (man) goes inside CAT; 'fraudster' is the definition.",
        "Quillon",
        "Container",
    ),
    (
        "Bear losing its head is something to listen with (3)",
        "EAR",
        "BEAR without its first letter; the definition is the last part.",
        "Quillon",
        "Deletion",
    ),
    (
        "Fruit found in top earrings (4)",
        "PEAR",
        "'found in' marks a hidden word: toP EARrings.",
        "Mistle",
        "Hidden word",
    ),
    (
        "We hear you're a female sheep (3)",
        "EWE",
        "'we hear' marks a homophone: EWE sounds like 'you'.",
        "Mistle",
        "Homophone",
    ),
    (
        "Rats come back as a celebrity (4)",
        "STAR",
        "'come back' reverses RATS; 'celebrity' is the definition.",
        "Quillon",
        "Reversal",
    ),
    (
        "Live backwards? That's wicked (4)",
        "EVIL",
        "LIVE read backwards; the definition is 'wicked'.",
        "Larkspur",
        "Reversal",
    ),
    (
        "Penalty for good weather? (4)",
        "FINE",
        "Two definitions: a penalty, and good weather.",
        "Larkspur",
        "Double definition",
    ),
    (
        "Something that really gets around the earth? (7)",
        "EQUATOR",
        "No wordplay: the line that runs around the middle of the earth.",
        "Mistle",
        "Cryptic definition",
    ),
    (
        "Every little kid, initially, makes a deer (3)",
        "ELK",
        "'initially' takes the first letters of Every Little Kid.",
        "Bramblewick",
        "Initial letters",
    ),
    (
        "Spooner's belly jeans make a sweet treat (5,5)",
        "JELLY BEANS",
        "Swap the first sounds of BELLY JEANS.",
        "Larkspur",
        "Spoonerism",
    ),
]

CUE_WORDS = [
    ("initially", "Take the first letters of the next words."),
    ("badly", "Anagram: rearrange the letters nearby."),
    ("confused", "Anagram: rearrange the letters nearby."),
    ("we hear", "Homophone: the answer sounds like a word nearby."),
    ("found in", "Hidden word: the answer runs across the next words."),
    ("come back", "Reversal: read the word backwards."),
    ("about", "Container: one part goes around another."),
    ("about", "Reversal: read the word backwards."),
    ("about", "C or CA, short for circa."),
    ("heartless", "Remove the middle letter or letters."),
    ("Spooner's", "Spoonerism: swap the first sounds of two words."),
]


def add_named(
    model: type[Any], rows: list[tuple[str, str]], added: Counter[str]
) -> dict:
    """Add the missing (name, description) *rows* and return every row by name."""
    by_name = {}
    for name, description in rows:
        row, created = model.get_or_create(
            name=name, defaults={"description": description}
        )
        by_name[name] = row
        added[model.label + "s"] += created
    return by_name


def load() -> Counter[str]:
    """Add every missing demo row in one transaction and count what was added."""
    added: Counter[str] = Counter()
    with database.atomic():
        solution_types = add_named(SolutionType, SOLUTION_TYPES, added)
        setter_types = add_named(SetterType, SETTER_TYPES, added)

        setters = {}
        for name, setter_type, description in SETTERS:
            row, created = Setter.get_or_create(
                name=name,
                defaults={
                    "setter_type": setter_types[setter_type],
                    "description": description,
                },
            )
            setters[name] = row
            added["setters"] += created

        for clue, solution, hint, setter, solution_type in SOLUTIONS:
            _, created = Solution.get_or_create(
                clue=clue,
                solution=solution,
                defaults={
                    "hint": hint,
                    "setter": setters[setter],
                    "solution_type": solution_types[solution_type],
                },
            )
            added["solutions"] += created

        for word, meaning in CUE_WORDS:
            _, created = CueWord.get_or_create(
                cue_word=word, meaning=meaning, duplicate_of=None
            )
            added["cue words"] += created

    return added


def is_empty() -> bool:
    """Tell whether the catalogue has no solution types, as a new site has."""
    return not SolutionType.select().exists()


@click.command("load-demo")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Load only when the database has no solution types yet.",
)
@with_appcontext
def load_demo_command(if_empty: bool) -> None:
    """Add the demo solution types, setters, clues and cue words."""
    if if_empty and not is_empty():
        click.echo("The database already has data; the demo data was not loaded.")
        return

    added = load()
    if not sum(added.values()):
        click.echo("The demo data is already loaded; nothing changed.")
        return

    summary = ", ".join(f"{count} {what}" for what, count in added.items() if count)
    log.info("Loaded demo data: %s", summary)
    click.echo(f"Added {summary}.")
