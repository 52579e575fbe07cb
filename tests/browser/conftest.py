"""Real-browser tests: Playwright drives Debian's Chromium against the app on loopback.

No browser is downloaded. Without /usr/bin/chromium the tests are skipped (and listed
at the end of the run); in CI (MODELL_REQUIRE_ALL=1) a missing browser fails instead.
"""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import REQUIRE_ALL

CHROMIUM = Path(os.environ.get("MODELL_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        if REQUIRE_ALL:
            pytest.fail(f"browser tests would be skipped in CI: {CHROMIUM} is missing")
        pytest.skip(f"browser tests: {CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        app.config["BASE_URL"] = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()


def _page(chromium, server):
    context = chromium.new_context(locale="sv-SE", base_url=server.url)
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.fixture
def page(chromium, live_server):
    context, page = _page(chromium, live_server)
    yield page
    context.close()


@pytest.fixture
def bare_app(make_app):
    """An app on a database with only the reference data, the shipped templates and one
    coordinator: where SKR starts."""
    return make_app(demo=False)


@pytest.fixture
def bare_page(chromium, bare_app):
    server = LiveServer(bare_app)
    context, page = _page(chromium, server)
    yield page
    context.close()
    server.stop()


def assert_accessible(page):
    """axe-core (shipped inside axe-playwright-python) finds no WCAG 2.1 A/AA violation."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Error

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}}
    page.wait_for_load_state("load")
    try:
        results = Axe().run(page, options=options)
    except Error as error:
        # A click's navigation may still be replacing the document (axe then finds none):
        # the page it leads to is the one to check, once it has loaded.
        if "documentElement" not in str(error):
            raise
        page.wait_for_load_state("load")
        results = Axe().run(page, options=options)
    assert results.violations_count == 0, results.generate_report()


def log_in(page, email, password):
    page.goto("/konto/logga-in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord", exact=True).fill(password)
    page.get_by_role("button", name="Logga in").click()
