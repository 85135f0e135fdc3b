"""A small catalogue for the section tests, and helpers to post their forms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from conftest import csrf_token
from crossword_hints.catalogue.models import (
    CueWord,
    Setter,
    SetterType,
    Solution,
    SolutionType,
)

#: Section URL prefixes by blueprint name.
PREFIXES = {
    "setter_types": "/setter-types",
    "setters": "/crossword-setters",
    "solution_types": "/solution-types",
    "solutions": "/crossword-solutions",
    "cue_words": "/cue-words",
}


@dataclass
class Samples:
    """Ids of the sample rows, by the name the tests use for them."""

    regular: int
    guest: int
    spare: int
    anvil: int
    bellow: int
    cinder: int
    anagram: int
    charade: int
    silent: int
    carpet: int
    initially: int
    initially_copy: int

    def id_in(self, section: str) -> int:
        """Return the id of one sample row of *section* with no references."""
        return {
            "setter_types": self.spare,
            "setters": self.cinder,
            "solution_types": self.charade,
            "solutions": self.silent,
            "cue_words": self.initially_copy,
        }[section]


def add_samples(app: Flask) -> Samples:
    """Add three setter types, three setters, two solution types, two
    solutions and a cue word with one marked duplicate."""
    with app.app_context():
        regular = SetterType.create(name="Regular", description="Sets every week.")
        guest = SetterType.create(name="Guest", description="Sets now and then.")
        spare = SetterType.create(name="Occasional")
        anvil = Setter.create(name="Anvil", setter_type=regular)
        bellow = Setter.create(name="bellow", setter_type=regular)
        cinder = Setter.create(name="Cinder", setter_type=guest)
        anagram = SolutionType.create(name="Anagram", description="Letters mixed.")
        charade = SolutionType.create(name="Charade", description="Parts in a row.")
        silent = Solution.create(
            clue="Listen badly, being quiet (6)",
            solution="SILENT",
            hint="Rearrange LISTEN.",
            setter=anvil,
            solution_type=anagram,
        )
        carpet = Solution.create(
            clue="Car, then pet, for a floor covering (6)",
            solution="CARPET",
            hint="CAR + PET.",
            setter=anvil,
            solution_type=anagram,
        )
        initially = CueWord.create(cue_word="initially", meaning="first letters")
        copy = CueWord.create(
            cue_word="initially", meaning="first letters", duplicate_of=initially
        )
        return Samples(
            regular=regular.id,
            guest=guest.id,
            spare=spare.id,
            anvil=anvil.id,
            bellow=bellow.id,
            cinder=cinder.id,
            anagram=anagram.id,
            charade=charade.id,
            silent=silent.id,
            carpet=carpet.id,
            initially=initially.id,
            initially_copy=copy.id,
        )


def form_values(page: str) -> dict[str, str]:
    """Return the submitted values of the first form on *page*.

    Reads inputs, text areas and the selected option of each drop-down,
    which is enough for the catalogue's own forms.
    """
    form = re.search(r'<form method="post".*?</form>', page, re.S)
    assert form, "no POST form on the page"
    html = form.group(0)
    values = {}
    for tag in re.finditer(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag.group(0))
        value = re.search(r'value="([^"]*)"', tag.group(0))
        if name:
            values[name.group(1)] = unescape(value.group(1)) if value else ""
    for area in re.finditer(
        r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S
    ):
        # The HTML spec drops one newline right after <textarea>.
        values[area.group(1)] = (
            unescape(area.group(2)).removeprefix("\r\n").removeprefix("\n")
        )
    for select in re.finditer(
        r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
            select.group(2),
        )
        values[select.group(1)] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    return values


def unescape(text: str) -> str:
    import html

    return html.unescape(text)


def post_form(client: FlaskClient, path: str, data: dict, form_path: str | None = None):
    """Post *data* to *path* with a valid CSRF token from *form_path*."""
    token = csrf_token(client, form_path or path)
    return client.post(path, data={**data, "csrf_token": token})
