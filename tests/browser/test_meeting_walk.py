"""In a real browser: the 2019 demo cohort starts and gets its schedule; Botkyrka hosts its
group's first meeting (edits it, works through the checklist, sends the invitation, which
arrives at a real SMTP server with a calendar entry); Uppsala's mentor answers and gives
Plus – Minus – Intressant; the host moves the meeting (same UID, higher SEQUENCE) and
records who took part; the mentor's calendar feed holds exactly the mentor's meetings."""

import re
import urllib.request
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from modell.auth.models import User
from modell.demo import DEMO_PASSWORD
from modell.extensions import db
from modell.meetings.models import Invitation, Meeting
from tests.browser.conftest import LiveServer, _page, assert_accessible, log_in
from tests.conftest import DEMO


@pytest.fixture
def served(mail_app):
    server = LiveServer(mail_app)
    yield server
    server.stop()


def as_user(chromium, server, email):
    context, page = _page(chromium, server)
    log_in(page, email, DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hej ")
    return context, page


def set_clock(app, *when):
    moment = datetime(*when, tzinfo=UTC)
    app.config["CLOCK"] = lambda: moment


def calendar_in(message):
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    (event,) = cal.walk("VEVENT")
    return cal, event


def test_a_meeting_from_schedule_to_attendance(chromium, served, mail_app, smtp):
    app = mail_app
    set_clock(app, 2019, 1, 20, 9)
    # The walk spans three months in one browser session each: logins may last that long here.
    app.config["LOGIN_MAX_AGE"] = app.config["LOGIN_IDLE_TIMEOUT"] = timedelta(days=365)
    contexts = []

    # The coordinator starts the demo cohort: kickoff, 3 × 6 group meetings, conference.
    context, coordinator = as_user(chromium, served, DEMO["coordinator"])
    contexts.append(context)
    coordinator.get_by_role("link", name="Modellkommuner 2019").click()
    coordinator.get_by_role("button", name="Starta omgången").click()
    # Starting plans every meeting and the reminders: the page asks first, and says so.
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Starta Modellkommuner 2019?")
    expect(coordinator.get_by_role("main")).to_contain_text("planeras för dess 6 grupper")
    assert_accessible(coordinator)
    coordinator.get_by_role("button", name="Starta omgången").click()
    expect(coordinator.locator("#cohort-status")).to_have_text("Pågår")
    coordinator.get_by_role("link", name="Träffar och kalender").click()
    rows = coordinator.get_by_role("row")
    expect(rows.filter(has_text="Gemensam uppstart")).to_have_count(1)
    expect(rows.filter(has_text="Benchmarkingträff")).to_have_count(18)
    expect(rows.filter(has_text="Resultatkonferens")).to_have_count(1)
    assert_accessible(coordinator)

    # Botkyrka hosts the first meeting of its group.
    context, host = as_user(chromium, served, DEMO["participant"])
    contexts.append(context)
    host.goto(coordinator.url)
    host.get_by_role("link", name="Benchmarkingträff 1 – Botkyrka, Västerås").click()
    meeting_url = host.url
    meeting_id = int(meeting_url.rstrip("/").rsplit("/", 1)[1])
    host.get_by_role("link", name="Ändra tid, plats och dagordning").click()
    host.locator("#day").fill("2019-04-10")
    host.locator("#start").fill("10:00")
    host.locator("#end").fill("15:00")
    host.locator("#location").fill("Botkyrka kommunhus, Tumba")
    host.locator("#agenda").fill("# Dagordning\n\n- Nuläget i Botkyrka\n- Västerås uppföljning")
    host.locator("#accessibility_info").fill("Entré från torget, hiss, hörslinga i salen.")
    assert_accessible(host)
    host.get_by_role("button", name="Spara träffen").click()
    expect(host.locator("#meeting-when")).to_contain_text("10 april 2019")
    expect(host.get_by_role("heading", name="Dagordning", exact=True).last).to_be_visible()

    # The checklist: the invitation is not late yet (the meeting is in April).
    checklist = host.get_by_role("region", name="Värdens checklista")
    for label in (
        "Lokal bokad",
        "Tillgänglig med rullstol",
        "Hörslinga",
        "Nås med kollektivtrafik",
    ):
        checklist.get_by_label(label, exact=True).check()
    checklist.get_by_label("Sekreterare").select_option(label="Bodil Strateg (Botkyrka)")
    checklist.get_by_role("button", name="Spara checklistan").click()
    expect(host.get_by_role("status").filter(has_text="Checklistan är sparad.")).to_be_visible()
    expect(host.get_by_role("region", name="Värdens checklista")).not_to_contain_text("Försenat")
    assert_accessible(host)

    host.get_by_role("button", name="Skicka inbjudan").click()
    asked = host.get_by_role("main")
    expect(asked).to_contain_text("får inbjudan med dagordningen")
    host.get_by_role("button", name="Skicka inbjudan").click()
    sent = host.get_by_role("status").filter(has_text="Inbjudan är skickad till")
    expect(sent).to_be_visible()
    invited = int(re.search(r"till (\d+) personer", sent.inner_text()).group(1))
    messages = smtp.wait_for(invited + 1)  # and the copy to SKR's project lead
    assert len(messages) == invited + 1
    mentor_mail = next(m for m in messages if m["To"] == DEMO["mentor"])
    assert mentor_mail["Subject"] == "Inbjudan: Benchmarkingträff 1 – Botkyrka, Västerås"
    assert "Botkyrka kommunhus, Tumba" in mentor_mail.get_body(("plain",)).get_content()
    cal, event = calendar_in(mentor_mail)
    assert str(cal["method"]) == "REQUEST"
    uid, sequence = str(event["uid"]), int(event["sequence"])
    assert event.decoded("dtstart") == datetime(2019, 4, 10, 8, 0, tzinfo=UTC)

    # Uppsala's mentor answers and gives feedback.
    context, mentor = as_user(chromium, served, DEMO["mentor"])
    contexts.append(context)
    mentor.goto(meeting_url)
    answer = mentor.get_by_role("region", name="Ditt svar")
    answer.get_by_label("Ja, jag kommer").check()
    answer.get_by_label("Specialkost").fill("Vegetarisk")
    answer.get_by_label("Jag behöver hörslinga").check()
    answer.get_by_role("button", name="Skicka ditt svar").click()
    expect(mentor.locator("#my-answer")).to_have_text("Du har svarat: ja.")
    # Feedback comes after the meeting: before it, the page says so.
    expect(mentor.get_by_role("main")).to_contain_text("När träffen har hållits")

    # The host moves the meeting: everyone invited gets the update.
    host.goto(meeting_url + "/andra")
    host.locator("#day").fill("2019-04-11")
    host.get_by_role("button", name="Spara träffen").click()
    expect(host.get_by_role("status").filter(has_text="alla inbjudna får besked")).to_be_visible()
    updates = smtp.wait_for(2 * invited + 1)[invited + 1 :]
    assert len(updates) == invited
    moved = next(m for m in updates if m["To"] == DEMO["mentor"])
    assert moved["Subject"].startswith("Ändrad: ")
    _cal, event = calendar_in(moved)
    assert str(event["uid"]) == uid and int(event["sequence"]) > sequence
    assert event.decoded("dtstart") == datetime(2019, 4, 11, 8, 0, tzinfo=UTC)

    # After the meeting the host records who took part; attendance shows by function.
    set_clock(app, 2019, 4, 11, 16)
    host.goto(meeting_url)
    host.get_by_role("link", name="Registrera vilka som deltog").click()
    host.get_by_role("button", name="Spara närvaron").click()
    expect(host.get_by_role("status").filter(has_text="Närvaron är registrerad.")).to_be_visible()
    invited_table = host.get_by_role("region", name="Inbjudna")
    expect(invited_table.get_by_role("row", name=re.compile("Ulf Mentor"))).to_contain_text("ja")
    host.locator("nav.crumbs a").last.click()  # the group's meetings
    attendance = host.get_by_role("table", name="Närvaro per funktion")
    expect(attendance.get_by_role("row", name=re.compile("^Uppsala"))).to_contain_text(
        "Strateg: ja"
    )
    assert_accessible(host)

    # Uppsala's mentor gives feedback on the meeting that has been held.
    mentor.goto(meeting_url)
    pmi = mentor.get_by_role("region", name="Plus – Minus – Intressant")
    pmi.get_by_label("Plus").fill("Tydlig nulägesbild")
    pmi.get_by_label("Intressant").fill("Västerås indikatorer för hemtjänsten")
    pmi.get_by_role("button", name="Skicka återkopplingen").click()
    expect(
        mentor.get_by_role("status").filter(has_text="Tack för din återkoppling.")
    ).to_be_visible()
    assert_accessible(mentor)

    # The coordinator sees the feedback gathered for the cohort.
    coordinator.goto(f"/moten/omgang/{_cohort_of(app, meeting_id)}/pmi")
    expect(coordinator.get_by_role("table")).to_contain_text("Tydlig nulägesbild")

    # The mentor's personal feed: exactly the mentor's meetings.
    mentor.get_by_role("link", name="Min kalender").click()
    mentor.get_by_role("button", name="Skapa en kalenderadress").click()
    feed_url = mentor.locator("#feed-url").input_value()
    assert_accessible(mentor)
    with urllib.request.urlopen(feed_url) as response:  # no login: the address is the key
        feed = icalendar.Calendar.from_ical(response.read())
    with app.app_context():
        person_id = db.session.scalar(sa.select(User.person_id).where(User.email == DEMO["mentor"]))
        expected = set(
            db.session.scalars(
                sa.select(Meeting.ical_uid)
                .join(Invitation)
                .where(Invitation.person_id == person_id)
            )
        )
    assert {str(e["uid"]) for e in feed.walk("VEVENT")} == expected == {uid}
    for context in contexts:
        context.close()


def _cohort_of(app, meeting_id):
    with app.app_context():
        return db.session.get(Meeting, meeting_id).cohort_id
