"""Editing as a member of the editors' group: add, fix, history, conflicts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SAVE = re.compile(r"^(save|add|create|update)\b", re.I)


def save_button(page: Page):
    return page.get_by_role("main").get_by_role("button", name=SAVE)


def test_setter_adds_fixes_and_reads_history(site, page):
    site.log_in(page, "setter")
    main = page.get_by_role("main")

    page.get_by_role("navigation", name="Sections").get_by_role(
        "link", name="Solutions"
    ).click()
    main.get_by_role("link", name=re.compile(r"^(add|new)\b", re.I)).first.click()

    page.get_by_label("Clue", exact=True).fill(
        "Plate broken, shows a jumping insect (5)"
    )
    page.get_by_label("Solution", exact=True).fill("PLEAT")
    page.get_by_label("Hint", exact=True).fill(
        "An anagrma of PLATE, with broken as the indicator."
    )
    page.get_by_label("Setter", exact=True).select_option(label="Quillon")
    page.get_by_label("Solution type", exact=True).select_option(label="Anagram")
    save_button(page).click()

    expect(page).to_have_url(re.compile(r"/crossword-solutions/\d+$"))
    expect(main.get_by_role("heading", level=1)).to_contain_text("PLEAT")
    expect(main).to_contain_text("An anagrma of PLATE")
    record_url = page.url

    main.get_by_role("link", name=re.compile(r"^edit\b", re.I)).first.click()
    hint = page.get_by_label("Hint", exact=True)
    expect(hint).to_have_value("An anagrma of PLATE, with broken as the indicator.")
    hint.fill("An anagram of PLATE, with broken as the indicator.")
    save_button(page).click()

    expect(page).to_have_url(record_url)
    expect(main).to_contain_text("An anagram of PLATE")

    main.get_by_role("link", name="History").click()
    expect(main.get_by_role("heading", level=1)).to_contain_text("History")
    updates = main.get_by_role("heading", level=2, name=re.compile(r": update$"))
    expect(updates).to_have_count(1)
    expect(main.locator("del")).to_have_text(["anagrma"])
    expect(main.locator("ins")).to_have_text(["anagram"])
    # Restoring is for admins; an editor is offered no link that would fail.
    restore_links = main.get_by_role("link", name=re.compile(r"restore", re.I))
    expect(restore_links).to_have_count(0)

    site.log_out(page)
    expect(page.get_by_role("banner")).not_to_contain_text("Sam Setter")


def test_stale_edit_gets_merge_page(site):
    first = site.new_page()
    second = site.new_page()
    site.log_in(first, "setter")
    site.log_in(second, "xword")

    emu_id = site.data["solutions"]["EMU"]
    edit_path = f"/crossword-solutions/{emu_id}/edit"
    first.goto(edit_path)
    second.goto(edit_path)

    first.get_by_label("Hint", exact=True).fill(
        "Take the first letters of Every Mother Understands."
    )
    save_button(first).click()
    expect(first.get_by_role("main")).to_contain_text("Take the first letters")

    second.get_by_label("Clue", exact=True).fill(
        "Initially every mother understands: a large bird (3)"
    )
    with second.expect_response(
        lambda response: response.request.method == "POST"
    ) as posted:
        save_button(second).click()
    assert posted.value.status == 409

    main = second.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_be_visible()
    expect(main).to_contain_text("Take the first letters of Every Mother Understands.")

    # The merge form keeps both people's changes; saving it loses neither.
    expect(second.get_by_label("Clue", exact=True)).to_have_value(
        "Initially every mother understands: a large bird (3)"
    )
    expect(second.get_by_label("Hint", exact=True)).to_have_value(
        "Take the first letters of Every Mother Understands."
    )
    save_button(second).click()
    expect(second).to_have_url(re.compile(rf"/crossword-solutions/{emu_id}$"))
    expect(main).to_contain_text("Initially every mother understands: a large bird (3)")
    expect(main).to_contain_text("Take the first letters of Every Mother Understands.")

    # Both edits are in the history, each as a word-level diff.
    second.goto(f"/activity/crossword_solutions/{emu_id}")
    updates = main.get_by_role("heading", level=2, name=re.compile(r": update$"))
    expect(updates).to_have_count(2)
    expect(main.locator("ins")).to_have_text(["understands:", "large", "Take the"])
    site.screenshot(second, "history")
