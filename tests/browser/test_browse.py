"""Browsing without an account: search, read a record, page through a list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_search_open_result_and_page(site, page):
    page.goto("/")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_be_visible()

    search = main.get_by_role("search").locator("input[name=q]")
    search.fill("initially")
    search.press("Enter")

    expect(page).to_have_url(re.compile(r"[?&]q=initially"))
    expect(main).to_contain_text("EMU")
    expect(main).to_contain_text("The first letters of Every Mother Understands.")
    expect(main.locator("mark").first).to_have_text(re.compile("initially", re.I))
    site.screenshot(page, "front-page")

    main.get_by_role("link", name=re.compile(r"\bEMU\b")).first.click()
    emu_id = site.data["solutions"]["EMU"]
    expect(page).to_have_url(re.compile(rf"/crossword-solutions/{emu_id}$"))
    expect(main.get_by_role("heading", level=1)).to_contain_text("EMU")
    expect(main).to_contain_text("Initially every mother understands a big bird (3)")
    expect(main).to_contain_text("Quillon")

    solutions_link = page.get_by_role("navigation", name="Sections").get_by_role(
        "link", name="Solutions"
    )
    solutions_link.click()
    expect(page).to_have_url(re.compile(r"/crossword-solutions/$"))
    expect(solutions_link).to_have_attribute("aria-current", "page")

    seen: list[str] = []
    for page_number in (1, 2, 3):
        rows = main.locator("table tbody tr")
        expected_rows = 5 if page_number < 3 else 2
        expect(rows).to_have_count(expected_rows)
        seen.extend(rows.all_inner_texts())

        next_link = main.get_by_role("link", name=re.compile(r"^next", re.I))
        if page_number < 3:
            next_link.first.click()
            expect(page).to_have_url(re.compile(rf"[?&]page={page_number + 1}\b"))
        else:
            expect(next_link).to_have_count(0)

    assert len(seen) == 12
    assert len(set(seen)) == 12


def test_search_box_suggests_cue_words(site, page):
    page.goto("/")
    search = page.get_by_role("main").get_by_role("search").locator("input[name=q]")
    search.press_sequentially("bl")

    list_id = search.get_attribute("list")
    assert list_id
    expect(page.locator(f"datalist#{list_id} option")).to_have_count(1)
    expect(page.locator(f"datalist#{list_id} option")).to_have_attribute(
        "value", "blended"
    )


def test_search_works_without_javascript(site):
    page = site.new_page(java_script_enabled=False)
    page.goto("/")
    search = page.get_by_role("main").get_by_role("searchbox")
    search.fill("heard")
    search.press("Enter")

    main = page.get_by_role("main")
    expect(main).to_contain_text("HERD")
    expect(main).to_contain_text("A homophone: the answer sounds like the clue word.")
