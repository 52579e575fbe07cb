"""In a real browser: logging in, the 2019 cohort, and what a wrong password shows."""

from playwright.sync_api import expect

from modell.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible, log_in
from tests.conftest import DEMO


def test_the_coordinator_logs_in_and_sees_the_2019_cohort_with_its_six_groups(page):
    page.goto("/")
    expect(page).to_have_title("Logga in – Modell")
    assert_accessible(page)

    log_in(page, DEMO["coordinator"], DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hej ")
    assert_accessible(page)
    page.get_by_role("link", name="Modellkommuner 2019").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Modellkommuner 2019")
    groups = page.get_by_role("heading", level=3)
    expect(groups).to_have_count(6)
    expect(groups.nth(0)).to_contain_text("Askersund, Fagersta")
    kristianstad = page.get_by_role("region", name="Grupp 4: Trelleborg, Olofström, Östra Göinge")
    expect(kristianstad).to_contain_text("Kristianstad med stöd av Malmö")
    assert_accessible(page)


def test_a_wrong_password_shows_the_error_beside_the_field_and_in_the_summary(page):
    log_in(page, DEMO["coordinator"], "not the password")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Fel e-postadress eller lösenord.")
    password = page.get_by_label("Lösenord", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).to_contain_text("Fel e-postadress eller lösenord.")
    expect(page.get_by_label("E-postadress")).to_have_value(DEMO["coordinator"])
    assert_accessible(page)
    # The summary links to the field.
    summary.get_by_role("link").click()
    expect(password).to_be_focused()
