"""Using the site with the keyboard alone: every step by Tab, typing and Enter."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import ACCOUNTS

from .conftest import read_script

pytestmark = pytest.mark.browser

#: More Tab presses than any page here has stops before its main content.
MAX_TABS = 60

FOCUSED = read_script("focused.js")


def tab_to(page: Page, matches) -> dict:
    """Press Tab until the focused element *matches*; every stop must show focus."""
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        assert focused["outline"], f"no visible focus on {focused}"
        if matches(focused):
            return focused
        stops.append(focused["text"] or focused["label"] or focused["tag"])
    raise AssertionError(f"no match within {MAX_TABS} Tab presses; stops: {stops}")


def test_keyboard_logs_in_and_edits(site, page):
    page.goto("/")

    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    assert first["text"] == "Skip to content"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))

    tab_to(page, lambda focused: focused["text"] == "Log in" and focused["tag"] == "a")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login"))

    # The login form focuses the user name field on arrival.
    expect(page.get_by_label("User name")).to_be_focused()
    page.keyboard.type("setter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(ACCOUNTS["setter"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("banner")).to_contain_text("(setter)")

    tab_to(page, lambda focused: focused["text"] == "Solutions")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/crossword-solutions/$"))

    # The newest solution comes first, linked by its clue.
    tab_to(
        page,
        lambda focused: focused["text"] == "Blended melon gives a citrus fruit (5)",
    )
    page.keyboard.press("Enter")
    lemon_id = site.data["solutions"]["LEMON"]
    expect(page).to_have_url(re.compile(rf"/crossword-solutions/{lemon_id}$"))

    tab_to(page, lambda focused: re.match(r"edit\b", focused["text"], re.I) is not None)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/crossword-solutions/{lemon_id}/edit$"))

    tab_to(page, lambda focused: focused["label"].startswith("Hint"))
    page.keyboard.press("Control+A")
    page.keyboard.type("An anagram of MELON: blended is the indicator.")

    tab_to(
        page,
        lambda focused: (
            focused["tag"] == "button"
            and re.match(r"(save|update)\b", focused["text"], re.I) is not None
        ),
    )
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/crossword-solutions/{lemon_id}$"))
    expect(page.get_by_role("main")).to_contain_text(
        "An anagram of MELON: blended is the indicator."
    )
