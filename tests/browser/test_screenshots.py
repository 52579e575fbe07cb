"""Screenshots of the pages people start from, on a phone (390 px) and a desktop (1280 px),
kept in test-artifacts/screenshots/ for a person to look at. Each one is also checked: the
page has its heading, and nothing on it scrolls sideways (a data table only inside its own
scroll box)."""

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from modell.cohorts.models import Cohort
from modell.demo import DEMO_PASSWORD
from modell.demo_living import LIVING_DESCRIPTION
from modell.extensions import db
from modell.meetings.models import Meeting
from tests.browser.conftest import log_in
from tests.conftest import DEMO

ARTIFACTS = Path(os.environ.get("MODELL_ARTIFACTS", "test-artifacts")) / "screenshots"
WIDTHS = {"phone": 390, "desktop": 1280}

# Who sees which start page. The host is the strategist of the organisation that hosts the
# running cohort's next meeting, given an account by the fixture.
ROLES = {
    "coordinator": DEMO["coordinator"],
    "host": None,
    "participant": "strateg@kalmar.example.org",
    "mentor": "mentor@jonkoping.example.org",
    "county_observer": DEMO["county_observer"],
    "admin": DEMO["admin"],
}

SIDEWAYS = """() => {
  const over = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  return over > 1 ? over : 0;
}"""


@pytest.fixture
def places(app):
    """The running cohort, one of its groups and that group's next meeting; an account for
    the strategist of the meeting's host."""
    from modell.auth.models import User
    from modell.auth.services import hash_password
    from modell.core.types import utcnow

    with app.app_context():
        cohort = db.session.scalar(
            sa.select(Cohort).where(Cohort.description == LIVING_DESCRIPTION)
        )
        group = next(g for g in cohort.groups if "Kalmar" in g.name)
        meeting = db.session.scalar(
            sa.select(Meeting).where(Meeting.group_id == group.id, Meeting.number == 2)
        )
        strategist = next(p for p in meeting.host.people if p.function == "strategist")
        db.session.add(
            User(
                email=strategist.email,
                name=strategist.name,
                role="member",
                person=strategist,
                password_hash=hash_password(DEMO_PASSWORD),
                password_changed_at=utcnow(),
                created_at=utcnow(),
                active=True,
            )
        )
        db.session.commit()
        ROLES["host"] = strategist.email
        return {
            "cohort": f"/omgangar/{cohort.id}",
            "group": f"/omgangar/grupper/{group.id}",
            "meeting": f"/moten/{meeting.id}",
        }


def shoot(page, name: str) -> None:
    expect(page.locator("h1").first).to_be_visible()
    assert page.evaluate(SIDEWAYS) == 0, f"{name} scrolls sideways at {page.viewport_size}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    assert (ARTIFACTS / f"{name}-{width}.png").stat().st_size > 1000


@pytest.mark.parametrize("device", WIDTHS)
def test_each_roles_start_page_and_a_cohort_group_and_meeting_on_a_phone_and_a_desktop(
    chromium, live_server, places, device
):
    width = WIDTHS[device]
    for role, email in ROLES.items():
        context = chromium.new_context(
            locale="sv-SE",
            base_url=live_server.url,
            viewport={"width": width, "height": 900},
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        log_in(page, email, DEMO_PASSWORD)
        page.goto("/")
        if role == "host":
            expect(page.locator("main")).to_contain_text("Ni står värd för")
        shoot(page, f"start-{role}")
        if role == "coordinator":
            for name, url in places.items():
                page.goto(url)
                shoot(page, name)
        context.close()
