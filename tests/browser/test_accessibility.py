"""Landmarks, headings, labels and colour contrast on every main page."""

from __future__ import annotations

import pytest

from .conftest import open_main_pages, read_script

pytestmark = pytest.mark.browser

#: Problems that a reader with a screen reader or low vision would meet.
#: The script reads the rendered page for missing landmarks, skipped heading
#: levels and form controls without a name. It also flags text below WCAG AA
#: contrast: 4.5:1, or 3:1 for large text (24px, or 18.66px bold).
AUDIT = read_script("audit.js")


def test_main_pages_pass_accessibility_audit(site):
    problems = {}
    for name, page, _ in open_main_pages(site):
        found = page.evaluate(AUDIT)
        if found:
            problems[name] = found

    assert problems == {}


def test_form_errors_are_tied_to_fields(site, page):
    page.goto("/login")
    page.get_by_label("User name").fill("setter")
    # A blank password passes the browser's own check for a required field
    # but not the server's, which must then point at the field.
    page.get_by_label("Password").fill(" ")
    page.get_by_role("main").get_by_role("button", name="Log in").click()

    password = page.get_by_label("Password")
    error_id = password.get_attribute("aria-describedby")
    assert error_id
    error = page.locator(f"#{error_id}")
    assert error.inner_text().strip() != ""
    assert password.get_attribute("aria-invalid") == "true"
