"""What a Swedish public service must have: an accessibility statement, privacy information,
help and a contact, open to everyone and linked from every page; and the privacy page's
promises kept: special needs are seen by the host and SKR only, and erased after the
meeting."""

from datetime import timedelta

import sqlalchemy as sa

from modell.core import worker
from modell.extensions import db
from modell.meetings import invitations
from modell.meetings.invitations import NEEDS_KEPT_DAYS
from modell.meetings.models import Invitation, Meeting
from modell.organisations.models import Person
from tests.conftest import DEMO, login
from tests.test_meetings import START, start_demo

PAGES = {
    "/tillganglighet": ["Tillgänglighetsredogörelse för Modell", "Digg", "delvis förenlig"],
    "/personuppgifter": ["personuppgiftsansvarig", f"raderas {NEEDS_KEPT_DAYS} dagar", "IMY"],
    "/hjalp": ["Att få ett konto", "Som deltagare", "Som värd för en träff"],
    "/kontakt": ["modell@localhost"],
}


def test_the_pages_about_the_service_are_open_to_everyone_and_linked_from_every_page(app):
    visitor = app.test_client()
    for url, texts in PAGES.items():
        page = visitor.get(url).get_data(True)
        for text in texts:
            assert text in page, (url, text)
    login_page = visitor.get("/konto/logga-in").get_data(True)
    assert "Modell är SKR:s tjänst" in login_page and "Så får du ett konto" in login_page
    member = app.test_client()
    login(member, DEMO["participant"])
    for page in (login_page, member.get("/").get_data(True)):
        for url in PAGES:
            assert f'href="{url}"' in page


def answered_meeting(meeting: Meeting | None = None) -> Meeting:
    meeting = meeting or db.session.scalar(
        sa.select(Meeting)
        .where(Meeting.starts_at.is_not(None), Meeting.host_organisation_id.is_not(None))
        .where(Meeting.invitations.any())
        .order_by(Meeting.id)
        .limit(1)
    )
    for invitation in meeting.invitations:
        invitation.response = "yes"
        invitation.diet = "Glutenfri kost"
        invitation.needs_hearing_loop = True
    db.session.commit()
    return meeting


def test_special_needs_are_seen_by_the_host_and_skr_only(app):
    """Botkyrka's strategist reads a meeting of the group that Västerås hosts: the answers,
    not the needs."""
    with app.app_context():
        cohort = start_demo()  # the 2019 cohort runs: its meetings are planned
        group = next(g for g in cohort.groups if "Botkyrka" in g.name)
        meeting = db.session.scalar(
            sa.select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.number).limit(1)
        )
        vasteras = next(
            p.organisation for p in group.participations if p.organisation.name == "Västerås"
        )
        meeting.host_organisation_id = vasteras.id
        botkyrka = db.session.scalar(sa.select(Person).where(Person.email == DEMO["participant"]))
        invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        db.session.commit()
        answered_meeting(meeting)
        own = next(i for i in meeting.invitations if i.person_id == botkyrka.id)
        own.diet, own.needs_hearing_loop = None, False  # their own answer shows to them
        db.session.commit()
        url = f"/moten/{meeting.id}"
    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    assert "Glutenfri kost" in coordinator.get(url).get_data(True)
    participant = app.test_client()
    login(participant, DEMO["participant"])
    page = participant.get(url)
    assert page.status_code == 200
    assert "Glutenfri kost" not in page.get_data(True)


def test_special_needs_are_erased_after_the_meeting(app):
    with app.app_context():
        meeting = answered_meeting()
        meeting_id, ended = meeting.id, meeting.ends_at or meeting.starts_at
    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    assert "Glutenfri kost" in coordinator.get(f"/moten/{meeting_id}").get_data(True)  # kept
    worker.run_once(app, now=ended + timedelta(days=NEEDS_KEPT_DAYS - 1))
    with app.app_context():
        kept = db.session.scalars(sa.select(Invitation).where(Invitation.meeting_id == meeting_id))
        assert all(i.diet == "Glutenfri kost" and i.needs_hearing_loop for i in kept)
    worker.run_once(app, now=ended + timedelta(days=NEEDS_KEPT_DAYS, minutes=1))
    with app.app_context():
        erased = db.session.scalars(
            sa.select(Invitation).where(Invitation.meeting_id == meeting_id)
        ).all()
        assert erased and all(
            i.diet is None and not i.needs_hearing_loop and i.other_needs is None for i in erased
        )
        assert all(i.response == "yes" for i in erased)  # the answer itself stays
    # Not shown either from what the page had kept (the erasure renews the cohort's number).
    assert "Glutenfri kost" not in coordinator.get(f"/moten/{meeting_id}").get_data(True)
