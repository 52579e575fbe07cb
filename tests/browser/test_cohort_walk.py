"""In a real browser, the coordinator's year: from reference data only to the 2019 cohort as
SKR formed it, concluded; then 2020, whose mentor pool holds the 2019 graduates, and the
title Modellkommun for the one that mentors."""

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from modell.demo import DEMO_PASSWORD, FEDERATION, GROUPS_2019
from tests.browser.conftest import assert_accessible, log_in


def set_clock(app, *when):
    moment = datetime(*when, 9, tzinfo=UTC)
    app.config["CLOCK"] = lambda: moment


def submit(page, name):
    page.get_by_role("button", name=name, exact=True).click()


def expect_flash(page, text):
    expect(page.get_by_role("status").filter(has_text=text).first).to_be_visible()


def create_cohort(page, name, deadline, starts, ends):
    page.goto("/omgangar/")
    page.get_by_role("link", name="Ny omgång").click()
    page.locator("#name").fill(name)
    page.locator("#template_id").select_option(label="Modellkommuner – klassisk modell")
    page.locator("#registration_deadline").fill(deadline)
    page.locator("#starts_on").fill(starts)
    page.locator("#ends_on").fill(ends)
    submit(page, "Skapa omgången")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    return page.url


def labelled(name):
    """An organisation's label in a list: its name, then its kind and SCB code (or number)."""
    return re.compile("^" + re.escape(name) + r" \(")


def register(page, cohort_url, organisation, area=None):
    page.goto(cohort_url)
    page.get_by_role("link", name="Anmäl för en organisations räkning").click()
    # The input offers the register's labels; the one for this organisation is typed in full.
    label = page.locator(f"datalist option[value^='{organisation} (']").first.get_attribute("value")
    page.get_by_label("Organisation", exact=True).fill(label)
    page.locator("#decision_date").fill("2018-06-01")
    page.locator("#decision_body").fill("Kommunfullmäktige")
    page.locator("#cemr_signed").check()
    for function in ("politician", "manager", "strategist"):
        page.locator(f"#{function}_name").fill(f"{function.title()} {organisation}")
        page.locator(f"#{function}_email").fill(f"{function}@example.org")
    page.locator("#themes").fill("Hemtjänst")
    page.locator("#mentor_commitment").check()
    submit(page, "Skicka intresseanmälan")
    expect_flash(page, f"Intresseanmälan från {organisation} är mottagen.")


def accept_all(page, cohort_url, names):
    for name in names:
        page.goto(cohort_url + "/anmalningar")
        page.get_by_role("link", name=name, exact=True).click()
        submit(page, "Anta")
        expect_flash(page, f"{name} är antagen.")


def change_status(page, cohort_url, button, status):
    page.goto(cohort_url)
    submit(page, button)
    if button == "Starta omgången":  # a change with mass effects asks first
        expect(page.get_by_role("heading", level=1)).to_contain_text("Starta ")
        submit(page, button)
    expect(page.locator("#cohort-status")).to_have_text(status)


def form_group(page, cohort_url, benchmarking, mentors=(), support=(), pool=(), reason=None):
    page.goto(cohort_url)
    page.get_by_role("link", name="Bilda en grupp").click()
    for name in benchmarking:
        page.get_by_role("checkbox", name=labelled(name)).check()
    for name in pool:
        page.get_by_role("checkbox", name=labelled(name)).check()
    # One organisation in each input; a name only one organisation has is enough.
    for n, name in enumerate(mentors, start=1):
        page.locator(f"#other_mentors_{n}").fill(name)
    for n, name in enumerate(support, start=1):
        page.locator(f"#support_{n}").fill(name)
    if support and len(mentors) > 1:
        page.locator("#supported_mentor").fill(mentors[-1])
    submit(page, "Spara gruppen")
    if reason:
        # Mentors that have not completed a cohort (none had, in an empty database), or a
        # group of one: the warning is shown and the coordinator confirms with a reason.
        expect(page.get_by_role("heading", name="Gruppen är utanför reglerna")).to_be_visible()
        assert_accessible(page)
        page.locator("#exception_reason").fill(reason)
        submit(page, "Spara gruppen")
    expect_flash(page, "är sparad")


def conclude(page, cohort_url):
    page.goto(cohort_url)
    page.get_by_role("link", name="Avsluta omgången").click()
    page.wait_for_url(re.compile(r"/avsluta$"))
    assert_accessible(page)
    submit(page, "Avsluta omgången")
    expect(page.locator("#cohort-status")).to_have_text("Avslutad")


def test_a_coordinator_runs_2019_from_scratch_and_2020_gives_a_mentor_its_title(
    bare_page, bare_app
):
    page = bare_page
    log_in(page, "samordnare@example.org", DEMO_PASSWORD)

    # The federation is not in SCB's lists: the coordinator adds it.
    page.goto("/organisationer/ny")
    page.locator("#name").fill(FEDERATION)
    page.locator("#kind").select_option("federation")
    page.locator("#county_code").select_option(label="Norrbottens län")
    page.get_by_label("Säte (kommun)").fill("Luleå (Kommun, 2580)")
    submit(page, "Spara")
    expect(page.get_by_role("heading", level=1)).to_have_text(FEDERATION)

    # 2019: create from the classic template, open, take the registrations, close.
    set_clock(bare_app, 2018, 9, 24)
    url_2019 = create_cohort(page, "Modellkommuner 2019", "2018-10-30", "2019-02-07", "2019-12-31")
    assert_accessible(page)
    change_status(page, url_2019, "Öppna intresseanmälan", "Öppen för intresseanmälan")
    benchmarking = [name for b, _m, _s in GROUPS_2019 for name in b]
    for name in benchmarking:
        register(page, url_2019, name)
    assert_accessible(page)
    accept_all(page, url_2019, benchmarking)
    change_status(page, url_2019, "Stäng anmälan och bilda grupper", "Grupper bildas")

    # The groups exactly as SKR formed them.
    for b, mentors, support in GROUPS_2019:
        form_group(
            page,
            url_2019,
            b,
            mentors=mentors,
            support=list(support),
            reason="Mentorerna var med i pilotomgången, före Modell.",
        )
    page.goto(url_2019)
    expect(page.get_by_role("heading", level=3)).to_have_count(6)
    kristianstad = page.get_by_role("region", name=re.compile("Trelleborg"))
    expect(kristianstad).to_contain_text("Kristianstad med stöd av Malmö")
    expect(page.get_by_role("region", name=re.compile(FEDERATION))).to_contain_text(
        "Boden, Luleå med stöd av Piteå"
    )
    assert_accessible(page)

    set_clock(bare_app, 2019, 2, 1)
    change_status(page, url_2019, "Starta omgången", "Pågår")
    set_clock(bare_app, 2020, 1, 8)  # the period has ended: concluding is offered
    conclude(page, url_2019)

    # 2020: the mentor pool holds the 2019 graduates.
    set_clock(bare_app, 2019, 10, 1)
    url_2020 = create_cohort(page, "Modellkommuner 2020", "2019-10-30", "2020-02-06", "2020-12-31")
    change_status(page, url_2020, "Öppna intresseanmälan", "Öppen för intresseanmälan")
    register(page, url_2020, "Kumla")
    register(page, url_2020, "Hallsberg")
    accept_all(page, url_2020, ["Kumla", "Hallsberg"])
    change_status(page, url_2020, "Stäng anmälan och bilda grupper", "Grupper bildas")
    page.goto(url_2020)
    page.get_by_role("link", name="Mentorpool").click()
    pool = page.get_by_role("table")
    for name in benchmarking:
        expect(pool.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert_accessible(page)

    # The suggestion proposes the nearest graduate; the coordinator forms the group by hand
    # with Askersund from the pool (no warning: it completed 2019).
    page.goto(url_2020 + "/forslag")
    expect(page.locator("#total-travel")).to_contain_text("km")
    assert_accessible(page)
    form_group(page, url_2020, ["Kumla", "Hallsberg"], pool=["Askersund"])
    change_status(page, url_2020, "Starta omgången", "Pågår")
    set_clock(bare_app, 2021, 1, 8)
    conclude(page, url_2020)
    expect_flash(page, "Askersund får nu kalla sig Modellkommun.")

    page.goto("/organisationer/?q=Askersund")
    page.get_by_role("link", name="Askersund", exact=True).click()
    expect(page.locator("#org-title")).to_have_text("Modellkommun")
    history = page.get_by_role("table", name="Historik i programmet")
    expect(history).to_contain_text("Modellkommuner 2019")
    expect(history).to_contain_text("Modellkommuner 2020")
    assert_accessible(page)
