"""A phone-sized screen: every main page fits its width."""

from __future__ import annotations

import pytest

from .conftest import PHONE, open_main_pages, read_script

pytestmark = pytest.mark.browser

OVERFLOW = read_script("overflow.js")


def test_phone_pages_never_scroll_sideways(site):
    overflowing = {}
    for name, page, _ in open_main_pages(site, viewport=PHONE):
        sizes = page.evaluate(OVERFLOW)
        if sizes["scrollWidth"] > sizes["clientWidth"]:
            overflowing[name] = sizes
        if name == "search results":
            site.screenshot(page, "phone-search")

    assert overflowing == {}
