"""Administering as a member of the admins' group: delete, undelete, audit."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_admin_deletes_undeletes_and_audits(site, page):
    site.log_in(page, "xword")
    main = page.get_by_role("main")
    sections = page.get_by_role("navigation", name="Sections")
    oakum_id = site.data["setters"]["Oakum"]

    sections.get_by_role("link", name="Setters").click()
    main.get_by_role("link", name="Oakum", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/crossword-setters/{oakum_id}$"))

    # site.js turns the delete link into a dialog holding the page's own form.
    main.get_by_role("link", name=re.compile(r"^delete\b", re.I)).first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Oakum")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name=re.compile(r"^delete\b", re.I)).click()

    expect(page).to_have_url(re.compile(r"/crossword-setters/$"))
    expect(main.get_by_role("link", name="Oakum", exact=True)).to_have_count(0)
    assert page.goto(f"/crossword-setters/{oakum_id}").status == 404

    sections.get_by_role("link", name="Activity").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Activity")
    site.screenshot(page, "activity-report")

    deleted = main.get_by_role("region", name="Deleted records")
    deleted.get_by_role("link", name="crossword_setters").click()
    deleted_item = main.get_by_role("listitem").filter(has_text="Oakum")
    expect(deleted_item).to_contain_text("xword")
    deleted_item.get_by_role("button", name="Undelete").click()

    page.goto(f"/crossword-setters/{oakum_id}")
    expect(main.get_by_role("heading", level=1)).to_contain_text("Oakum")
    expect(main).to_contain_text("Leaves no trace: no solutions of their own here.")

    sections.get_by_role("link", name="Activity").click()
    main.get_by_label("Action", exact=True).fill("delete")
    main.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]action=delete\b"))

    entries = main.get_by_role("region", name="Entries, newest first")
    rows = entries.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Oakum")
    expect(rows.first).to_contain_text("xword")

    with page.expect_download() as download_info:
        main.get_by_role("link", name=re.compile(r"\bcsv\b", re.I)).first.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8", newline="") as file:
        records = list(csv.DictReader(io.StringIO(file.read())))

    assert len(records) == 1
    assert records[0]["action"] == "delete"
    assert records[0]["actor"] == "xword"
    assert str(records[0]["item_id"]) == str(oakum_id)


def test_delete_dialog_explains_refusal(site, page):
    site.log_in(page, "xword")
    quillon_id = site.data["setters"]["Quillon"]
    page.goto(f"/crossword-setters/{quillon_id}")

    delete_link = page.get_by_role("main").get_by_role(
        "link", name="Delete", exact=True
    )
    delete_link.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("cannot be deleted")
    expect(dialog.get_by_role("button", name="Delete")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(delete_link).to_be_focused()
    assert page.goto(f"/crossword-setters/{quillon_id}").status == 200


def test_delete_works_without_javascript(site):
    page = site.new_page(java_script_enabled=False)
    site.log_in(page, "xword")
    oakum_id = site.data["setters"]["Oakum"]
    page.goto(f"/crossword-setters/{oakum_id}")

    page.get_by_role("main").get_by_role("link", name="Delete", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/crossword-setters/{oakum_id}/delete$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Oakum")
    page.get_by_role("main").get_by_role("button", name="Delete").click()

    expect(page).to_have_url(re.compile(r"/crossword-setters/$"))
    assert page.goto(f"/crossword-setters/{oakum_id}").status == 404
