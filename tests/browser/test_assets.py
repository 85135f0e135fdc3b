"""Every page loads only from the site itself and logs no errors."""

from __future__ import annotations

import pytest

from .conftest import open_main_pages, read_script

pytestmark = pytest.mark.browser

#: Inline script, inline style and event-handler attributes: what a strict
#: Content-Security-Policy (`script-src 'self'; style-src 'self'`) blocks.
INLINE_CODE = read_script("inline_code.js")

#: Every stylesheet, script, image and icon the page names.
ASSET_URLS = read_script("asset_urls.js")


def test_pages_stay_on_site_without_errors(site):
    inline = {}
    foreign_assets = {}
    missing_policy = []
    for name, page, response in open_main_pages(site):
        policy = response.header_value("content-security-policy") or ""
        if "script-src 'self'" not in policy or "style-src 'self'" not in policy:
            missing_policy.append(name)
        found = page.evaluate(INLINE_CODE)
        if found:
            inline[name] = found
        assets = page.evaluate(ASSET_URLS)
        outside = [url for url in assets if not url.startswith(site.base_url + "/")]
        if outside:
            foreign_assets[name] = outside

    assert inline == {}
    assert foreign_assets == {}
    # Under this policy Chromium reports any inline code as a console error.
    assert missing_policy == []
    # The site fixture also fails the test on any console error or foreign
    # request; checking here names this test's pages in the failure.
    assert site.watch.console_errors == []
    assert site.watch.foreign_requests == []
