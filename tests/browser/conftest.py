"""Browser fixtures: the app served on 127.0.0.1 and Debian's Chromium.

One Chromium runs for the whole session. Every test gets a fresh app on a
fresh database, served by Werkzeug in a background thread, and fresh
browser contexts (cookies, storage) in which to use it. Playwright drives
``/usr/bin/chromium`` from Debian and never downloads a browser of its own.

Every page a test opens is watched: a console error, an uncaught script
error or a request to any address outside the live server fails the test
when it ends.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    expect,
    sync_playwright,
)
from werkzeug.serving import BaseWSGIServer, make_server

from conftest import ACCOUNTS
from crossword_hints.auth.slapd import Slapd
from slapd_fixtures import ldap_settings

from .site_data import load_site_data

CHROMIUM = "/usr/bin/chromium"

#: Chromium runs as root here, so without its sandbox; the rest stop it
#: from calling Google's services, which a closed network refuses noisily.
#: Playwright adds ``--headless`` and a new temporary ``--user-data-dir``
#: to every launch itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Where the tests save the screenshots that the README shows.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

#: Page scripts the tests run in the browser with page.evaluate().
SCRIPTS = Path(__file__).resolve().parent / "scripts"

#: Tallest screenshot in pixels; long pages are cut there.
SCREENSHOT_HEIGHT = 1100

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}

#: Chromium logs a page whose response is 4xx as a failed resource load, but
#: the tests open such pages on purpose (a 409 merge page, a refused login).
FAILED_LOAD = re.compile(
    r"^Failed to load resource: the server responded with a status of 4\d\d"
)


def read_script(name: str) -> str:
    return (SCRIPTS / name).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def app_config(app_config: dict, slapd: Slapd) -> dict:
    """Log in against the real slapd, with five rows on each page of a list.

    Five rows a page makes the dozen test solutions span three pages.
    """
    config = {
        name: value for name, value in app_config.items() if name != "DIRECTORY_LDIF"
    }
    return {**config, **ldap_settings(slapd), "PER_PAGE": 5}


@pytest.fixture
def site_data(app: Flask) -> dict:
    """Load the test records and return their ids by name."""
    with app.app_context():
        return load_site_data()


@pytest.fixture
def live_server(app: Flask, site_data: dict) -> Iterator[str]:
    """Serve *app* on a free port of 127.0.0.1 and yield its base URL."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@dataclass
class PageWatch:
    """What the pages of one test logged and requested that they should not."""

    base_url: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    expected_failures: set[str] = field(default_factory=set)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        location = message.location.get("url", "")
        if FAILED_LOAD.match(message.text) and location in self.expected_failures:
            return
        self.console_errors.append(f"{location}: {message.text}")

    def on_page_error(self, error: Exception) -> None:
        self.console_errors.append(f"uncaught: {error}")

    def on_request(self, request: Request) -> None:
        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            return
        if not (url == self.base_url or url.startswith(self.base_url + "/")):
            self.foreign_requests.append(url)

    def on_response(self, response: Response) -> None:
        # A 4xx page is one the test requested. The test checks its body, and
        # the browser's console note about the status is no error of the site.
        # site.js also fetches delete pages, which are 409 while the record
        # is in use, to show their message in a dialog.
        status = response.status
        kind = response.request.resource_type
        if kind == "document" and 400 <= status < 500:
            self.expected_failures.add(response.url)
        elif kind == "fetch" and status == 409 and response.url.endswith("/delete"):
            self.expected_failures.add(response.url)

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self.on_console)
        context.on("weberror", lambda web_error: self.on_page_error(web_error.error))
        context.on("request", self.on_request)
        context.on("response", self.on_response)


@dataclass
class Site:
    """The live server and a way to open watched browser contexts on it."""

    base_url: str
    browser: Browser
    watch: PageWatch
    data: dict
    contexts: list[BrowserContext] = field(default_factory=list)
    failed_pages: dict[str, int | None] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path

    def new_page(self, viewport: dict | None = None, **options) -> Page:
        """Open a page in a new browser context: its own cookies and session."""
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport or DESKTOP,
            accept_downloads=True,
            **options,
        )
        # Actions wait at most 10 seconds, so a missing element fails fast
        # with its locator in the message.
        context.set_default_timeout(10_000)
        self.watch.watch(context)
        self.contexts.append(context)
        return context.new_page()

    def log_in(self, page: Page, username: str) -> None:
        """Log in through the login form, as a person would."""
        page.goto("/login")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(ACCOUNTS[username])
        page.get_by_role("main").get_by_role("button", name="Log in").click()
        expect(page.get_by_role("banner")).to_contain_text(f"({username})")

    def log_out(self, page: Page) -> None:
        page.get_by_role("banner").get_by_role("button", name="Log out").click()
        expect(
            page.get_by_role("banner").get_by_role("link", name="Log in")
        ).to_be_visible()

    def screenshot(self, page: Page, name: str) -> Path:
        """Save the top of *page*, up to SCREENSHOT_HEIGHT pixels, for the README."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        width = page.viewport_size["width"]
        height = min(
            page.evaluate("document.documentElement.scrollHeight"), SCREENSHOT_HEIGHT
        )
        page.screenshot(
            path=str(path),
            full_page=True,
            clip={"x": 0, "y": 0, "width": width, "height": height},
            animations="disabled",
        )
        return path


@pytest.fixture
def site(browser: Browser, live_server: str, site_data: dict) -> Iterator[Site]:
    """The live site; fails the test if any page misbehaved on the way."""
    watch = PageWatch(live_server)
    site = Site(live_server, browser, watch, site_data)
    yield site

    for context in site.contexts:
        context.close()
    assert site.failed_pages == {}, "pages returned an unexpected status"
    assert watch.console_errors == [], "pages logged errors"
    assert watch.foreign_requests == [], "pages asked for addresses outside the site"


@pytest.fixture
def page(site: Site) -> Page:
    """A desktop-sized page in a fresh context."""
    return site.new_page()


#: The main pages: (name, path, who looks at it, expected status). Paths
#: name records of site_data by their keys.
MAIN_PAGES = [
    ("front page", "/", None, 200),
    ("search results", "/?q=initially", None, 200),
    ("solutions", "/crossword-solutions/", None, 200),
    ("solution", "/crossword-solutions/{EMU}", None, 200),
    ("setters", "/crossword-setters/", None, 200),
    ("setter", "/crossword-setters/{Quillon}", None, 200),
    ("setter types", "/setter-types/", None, 200),
    ("setter type", "/setter-types/{Daily}", None, 200),
    ("solution types", "/solution-types/", None, 200),
    ("solution type", "/solution-types/{Anagram}", None, 200),
    ("cue words", "/cue-words/", None, 200),
    ("cue word", "/cue-words/{initially}", None, 200),
    ("login", "/login", None, 200),
    ("not found", "/crossword-solutions/999999", None, 404),
    ("solutions, as an editor", "/crossword-solutions/", "setter", 200),
    ("setter, as an editor", "/crossword-setters/{Quillon}", "setter", 200),
    ("new solution", "/crossword-solutions/new", "setter", 200),
    ("edit solution", "/crossword-solutions/{EMU}/edit", "setter", 200),
    ("change password", "/password", "setter", 200),
    ("delete setter", "/crossword-setters/{Oakum}/delete", "xword", 200),
    ("activity report", "/activity", "xword", 200),
    ("solution history", "/activity/crossword_solutions/{EMU}", "xword", 200),
    ("restore preview", "/activity/crossword_solutions/{EMU}/restore/1", "xword", 200),
    ("deleted setters", "/activity/deleted/crossword_setters", "xword", 200),
]


def page_path(template: str, data: dict) -> str:
    """Fill *template*'s ``{name}`` fields with record ids from *data*."""
    ids = {}
    for table in data.values():
        ids.update(table)
    return template.format(**ids)


def open_main_pages(site: Site, viewport: dict | None = None):
    """Visit every main page, logged in as each needs.

    Yields (name, page, response) for each page that returns its expected
    status. The others go into ``site.failed_pages``, so one missing page
    does not hide what the rest show.
    """
    pages: dict[str | None, Page] = {}
    for name, template, user, status in MAIN_PAGES:
        if user not in pages:
            pages[user] = site.new_page(viewport=viewport)
            if user:
                site.log_in(pages[user], user)
        page = pages[user]
        response = page.goto(page_path(template, site.data))
        if response is None or response.status != status:
            site.failed_pages[name] = response.status if response else None
            continue
        yield name, page, response
