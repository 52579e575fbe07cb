"""In a real browser: someone without an account registers a municipality's interest through
the public form and confirms it from the mail; the coordinator accepts; the three contacts
get their invitations to accounts, delivered by the worker to a real SMTP server."""

import re
import threading
import time

import pytest
from playwright.sync_api import expect

from modell.core import worker
from modell.demo import DEMO_PASSWORD
from tests.browser.conftest import LiveServer, _page, assert_accessible, log_in
from tests.conftest import DEMO
from tests.test_public_registration import open_cohort

CONTACTS = {
    "politician": ("Petra Politiker", "petra@fagersta.example.org"),
    "manager": ("Chris Chef", "chris@fagersta.example.org"),
    "strategist": ("Sam Strateg", "sam@fagersta.example.org"),
}


@pytest.fixture
def mailing_server(make_app, smtp):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run_forever, args=(app,), kwargs={"poll_seconds": 0.1, "stop": stop}
    )
    thread.start()
    server = LiveServer(app)
    yield app, server
    server.stop()
    stop.set()
    thread.join(10)


def mail_to(smtp, address, subject=""):
    """The mail to the address (with the subject), waiting for the worker to deliver it."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = [m for rcpt, m in smtp.messages if address in rcpt and subject in m["Subject"]]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no mail to {address} about {subject!r}")


def test_a_municipality_registers_interest_without_an_account_and_its_contacts_get_accounts(
    chromium, mailing_server, smtp
):
    app, server = mailing_server
    open_cohort(app)
    context, page = _page(chromium, server)
    try:
        page.goto("/konto/logga-in")
        page.get_by_role("link", name=re.compile("Anmäl din organisations intresse")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Anmäl intresse för en omgång")
        assert_accessible(page)
        page.get_by_role("link", name="Modellkommuner 2027").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Modellkommuner 2027")
        assert_accessible(page)

        page.get_by_label("Organisation", exact=True).fill("Fagersta (Kommun, 1982)")
        page.get_by_label("Datum för det politiska beslutet").fill("2026-05-20")
        page.get_by_label("Beslutat av").fill("Kommunfullmäktige")
        for function, (name, email) in CONTACTS.items():
            page.locator(f"#{function}_name").fill(name)
            page.locator(f"#{function}_email").fill(email)
        page.locator("#themes").fill("Hemtjänst")
        page.locator("#mentor_commitment").check()
        page.get_by_label("Din e-postadress").fill("sam@fagersta.example.org")
        page.get_by_role("button", name="Skicka intresseanmälan").click()
        expect(page.get_by_text("Nästan klart")).to_be_visible()
        assert_accessible(page)

        (confirmation,) = mail_to(smtp, "sam@fagersta.example.org")
        body = confirmation.get_body(preferencelist=("plain",)).get_content()
        link = re.search(r"http://127\.0\.0\.1:\d+/\S+", body).group(0)
        page.goto(link)
        assert_accessible(page)
        page.get_by_role("button", name="Bekräfta anmälan").click()
        expect(page.get_by_role("status").first).to_contain_text(
            "intresseanmälan från Fagersta är mottagen"
        )
    finally:
        context.close()

    context, page = _page(chromium, server)
    try:
        log_in(page, DEMO["coordinator"], DEMO_PASSWORD)
        page.goto("/omgangar/oppna")
        cohort_url = page.get_by_role("link", name="Modellkommuner 2027").get_attribute("href")
        cohort_id = re.search(r"/omgangar/(\d+)/", cohort_url).group(1)
        page.goto(f"/omgangar/{cohort_id}/anmalningar")
        page.get_by_role("link", name="Fagersta", exact=True).click()
        page.get_by_role("button", name="Anta", exact=True).click()
        expect(page.get_by_role("status").first).to_contain_text("Fagersta är antagen.")
    finally:
        context.close()

    links = {}
    for function, (_name, email) in CONTACTS.items():
        (invitation,) = mail_to(smtp, email, subject="inbjuden")
        text = invitation.get_body(preferencelist=("plain",)).get_content()
        links[function] = re.search(r"http://127\.0\.0\.1:\d+/konto/inbjudan/\S+", text).group(0)

    # The strategist follows the link (a page sent without a referrer), chooses a password
    # and logs in as a member of Fagersta.
    context, page = _page(chromium, server)
    try:
        page.goto(links["strategist"])
        assert_accessible(page)
        page.get_by_label("Nytt lösenord", exact=True).fill("ett långt lösenord 2027")
        page.get_by_label("Upprepa det nya lösenordet").fill("ett långt lösenord 2027")
        page.locator("main form button[type=submit]").click()
        expect(page.get_by_role("status").first).to_contain_text("Ditt lösenord är sparat")
        log_in(page, CONTACTS["strategist"][1], "ett långt lösenord 2027")
        expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    finally:
        context.close()
