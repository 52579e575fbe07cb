"""The main forms with the keyboard alone (WCAG 2.1.1): only Tab, typing, Space, the arrow
keys and Enter; no clicks, no filling by script. Log in, register interest without an
account, create a cohort, edit a meeting, write a log entry."""

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from playwright.sync_api import expect

from modell.demo import DEMO_PASSWORD
from modell.extensions import db
from modell.meetings.models import Meeting
from tests.browser.conftest import _page
from tests.conftest import DEMO

TABS = 120  # no form here needs more to reach its last field


def focused(locator) -> bool:
    return locator.evaluate("(el) => el === document.activeElement")


def tab_to(page, locator):
    """Tab (forwards) until the element has focus, as a keyboard user would."""
    for _ in range(TABS):
        page.keyboard.press("Tab")
        if focused(locator):
            return
    raise AssertionError(f"Tab never reached {locator}")


def type_into(page, locator, text):
    tab_to(page, locator)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def date_order(page) -> str:
    """The order in which this browser's date fields take digits ("mdy", "dmy" or "ymd"; a
    headless Chromium keeps the American one whatever its language), found on a scratch
    page of its own."""
    probe = page.context.new_page()
    probe.set_content("<input type=date id=d>")
    probe.focus("#d")
    probe.keyboard.type("01022003")
    value = probe.input_value("#d")
    probe.close()
    return {"2003-01-02": "mdy", "2003-02-01": "dmy"}.get(value, "ymd")


def type_date(page, locator, iso: str):
    """Type a date into a date field the way its segments ask for it."""
    tab_to(page, locator)
    year, month, day = iso.split("-")
    order = page.context.__dict__.setdefault("date_order", date_order(page))
    digits = {"mdy": month + day + year, "dmy": day + month + year, "ymd": year}[order]
    page.keyboard.type(digits)
    if order == "ymd":  # a year may have more digits: the arrow moves on to the month
        page.keyboard.press("ArrowRight")
        page.keyboard.type(month + day)
    expect(locator).to_have_value(iso)


def tick(page, locator):
    tab_to(page, locator)
    page.keyboard.press("Space")
    expect(locator).to_be_checked()


def press_button(page, name):
    tab_to(page, page.get_by_role("button", name=name, exact=True))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    assert summary.count() == 0, summary.inner_text()


def keyboard_login(page, email, password):
    page.goto("/konto/logga-in")
    type_into(page, page.get_by_label("E-postadress"), email)
    type_into(page, page.get_by_label("Lösenord", exact=True), password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hej ")


def test_the_main_forms_with_the_keyboard_alone(chromium, live_server, app):
    app.config["CLOCK"] = lambda: datetime(2026, 11, 24, 9, tzinfo=UTC)
    context, page = _page(chromium, live_server)
    try:
        # --- create a cohort, as SKR's coordinator -----------------------------------------
        keyboard_login(page, DEMO["coordinator"], DEMO_PASSWORD)
        page.goto("/omgangar/ny")
        type_into(page, page.locator("#name"), "Modellregioner 2027")
        tab_to(page, page.locator("#template_id"))
        page.keyboard.press("ArrowDown")  # from "– choose –" to the first model
        expect(page.locator("#template_id")).not_to_have_value("")
        type_date(page, page.locator("#registration_deadline"), "2027-01-15")
        type_date(page, page.locator("#starts_on"), "2027-02-11")
        type_date(page, page.locator("#ends_on"), "2027-12-10")
        press_button(page, "Skapa omgången")
        expect(page.get_by_role("heading", level=1)).to_have_text("Modellregioner 2027")
        cohort_url = page.url

        # Opening it for registration (a status change) by keyboard too.
        press_button(page, "Öppna intresseanmälan")
        expect(page.locator("#cohort-status")).to_contain_text("Öppen för intresseanmälan")
        cohort_id = int(re.search(r"/omgangar/(\d+)", cohort_url).group(1))

        # --- edit a meeting: the next meeting of the running demo cohort ---------------------
        with app.app_context():
            meeting_id = db.session.scalar(
                sa.select(Meeting.id)
                .where(Meeting.status == "planned", Meeting.starts_at > app.config["CLOCK"]())
                .order_by(Meeting.starts_at)
                .limit(1)
            )
        page.goto(f"/moten/{meeting_id}/andra")
        type_date(page, page.locator("#day"), "2026-12-17")
        type_into(page, page.locator("#location"), "Kalmar slott, Riddarsalen")
        press_button(page, "Spara träffen")
        expect(page.locator("#meeting-where, main").first).to_contain_text("Kalmar slott")

        # --- log out (the keyboard reaches the header's button) -----------------------------
        press_button(page, "Logga ut")
        expect(page).to_have_url(re.compile("/konto/logga-in"))

        # --- register interest without an account -------------------------------------------
        page.goto(f"/omgangar/{cohort_id}/intresse")
        type_into(page, page.get_by_label("Organisation", exact=True), "Region Kalmar län")
        type_date(page, page.locator("#decision_date"), "2026-05-20")
        type_into(page, page.locator("#decision_body"), "Regionfullmäktige")
        tick(page, page.locator("#cemr_signed"))
        for function in ("politician", "manager", "strategist"):
            type_into(page, page.locator(f"#{function}_name"), f"{function.title()} Kalmar")
            type_into(page, page.locator(f"#{function}_email"), f"{function}@kalmar.example.org")
        type_into(page, page.locator("#themes"), "Folkhälsa")
        tick(page, page.locator("#mentor_commitment"))
        type_into(page, page.locator("#submitter_email"), "strategist@kalmar.example.org")
        press_button(page, "Skicka intresseanmälan")
        expect(page.get_by_role("main")).to_contain_text("Nästan klart")

        # --- write a log entry, as Kalmar's strategist ------------------------------------
        keyboard_login(page, "strateg@kalmar.example.org", DEMO_PASSWORD)
        tab_to(page, page.get_by_role("link", name="Logga förbättringsarbetet"))
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_role("link", name="Skriv i loggen").first)
        page.keyboard.press("Enter")
        type_date(page, page.get_by_label("Datum"), "2026-11-20")
        type_into(page, page.get_by_label("Vad som gjordes"), "Genomgång av biståndsbesluten.")
        first_step = page.get_by_role("radio").first
        tab_to(page, first_step)
        page.keyboard.press("Space")
        expect(first_step).to_be_checked()
        press_button(page, "Spara anteckningen")
        expect(page.get_by_text("Genomgång av biståndsbesluten.")).to_be_visible()
    finally:
        context.close()
