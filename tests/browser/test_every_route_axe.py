"""axe-core (WCAG 2.1 A and AA) on every page of the app, in the real browser.

The pages are the GET routes of tests.test_access.CASES, with the demo data and the extra
objects its `_ids` makes (a registration, an outbox message, an invitation token, a
document, improvement work, ...), so that every page has something on it. On SQLite every
page is checked as every role that may see it; on PostgreSQL (the same templates) each page
once. The test lists the routes it visited and fails if a page route was not visited or a
page has a violation."""

from axe_playwright_python.sync_playwright import Axe

from modell.demo import DEMO_PASSWORD
from tests.browser.conftest import WCAG_TAGS, _page, log_in
from tests.test_access import CASES, ROLES, USERS, _ids

DOWNLOADS = (".csv", ".xlsx", ".ics")


def _pages():
    """(endpoint, url template, roles that get the page) of every GET route with a page."""
    for endpoint, cases in CASES.items():
        for method, template, expected in cases:
            if method != "GET":
                continue
            roles = [r for r in ROLES if expected[r] == 200]
            if roles:
                yield endpoint, template, roles


def test_every_page_passes_axe_as_every_role_that_sees_it(chromium, live_server, app, backend):
    ids = _ids(app)
    axe = Axe()
    pages = list(_pages())
    every_role = backend.name == "sqlite"
    plan: dict[str, list[tuple[str, str]]] = {}
    seen_endpoints: set[str] = set()
    for endpoint, template, roles in pages:
        for role in roles if every_role else roles[:1]:
            plan.setdefault(role, []).append((endpoint, template.format(**ids)))
    visited, violations = [], []
    for role, urls in plan.items():
        context, page = _page(chromium, live_server)
        try:
            if role != "anonymous":
                log_in(page, USERS[role], DEMO_PASSWORD)
                page.wait_for_url(lambda url: "logga-in" not in url)
            for endpoint, url in urls:
                visited.append(f"{role} {url}")
                seen_endpoints.add(endpoint)
                fetched = page.request.get(url)
                assert fetched.status == 200, (role, url, fetched.status)
                if url.endswith(DOWNLOADS) or "text/html" not in fetched.headers["content-type"]:
                    continue  # a file, not a page
                response = page.goto(url)
                assert response is not None and response.status == 200, (role, url)
                results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
                if results.violations_count:
                    violations.append(f"{role} {url}:\n{results.generate_report()}")
        finally:
            context.close()
    print(f"\naxe visited {len(visited)} pages:\n" + "\n".join(visited))
    missing = {endpoint for endpoint, _t, _r in pages} - seen_endpoints
    assert missing == set(), f"page routes not visited: {sorted(missing)}"
    assert violations == [], "\n\n".join(violations)
