"""Each role's start page says what to do next: the coordinator what waits in each live
cohort (ranked), the host the next meeting's checklist, the participant the next meeting and
whether the organisation has logged since the last one, the mentor who needs a nudge, the
county observer the county's organisations and their progress."""

from datetime import date, timedelta

import sqlalchemy as sa

from modell.auth.models import User
from modell.auth.services import invite_user
from modell.cohorts.models import Cohort, InterestRegistration
from modell.core.types import utcnow
from modell.extensions import db
from modell.meetings.models import Meeting
from modell.organisations.models import Organisation
from modell.start import services as start
from tests.conftest import DEMO, login

# The running demo cohort is named by the year it started, which follows the day it is loaded.
LIVING = f"Modellkommuner {(date.today() - timedelta(weeks=16)).year}"


def member_of(name: str) -> User:
    organisation = db.session.scalar(
        sa.select(Organisation).where(
            Organisation.name == name, Organisation.kind == "municipality"
        )
    )
    user, _link = invite_user(
        db.session,
        now=utcnow(),
        invited_by=None,
        email=f"start@{name.lower()}.example.org",
        name=f"Start {name}",
        role="member",
        organisation_id=organisation.id,
        function="strategist",
        county_code=None,
        secret_key="test",
        send_mail=False,
    )
    db.session.flush()
    return user


def next_meeting_hosted_by(name: str) -> Meeting:
    return db.session.scalar(
        sa.select(Meeting)
        .join(Organisation, Organisation.id == Meeting.host_organisation_id)
        .where(Organisation.name == name, Meeting.status == "planned")
        .order_by(Meeting.starts_at)
        .limit(1)
    )


def test_the_coordinator_sees_what_waits_in_each_live_cohort_most_first(app, ctx):
    living = db.session.scalar(sa.select(Cohort).where(Cohort.name == LIVING))
    undated = next_meeting_hosted_by("Växjö")
    undated.starts_at = undated.ends_at = None
    db.session.flush()
    found = start.coordinator_start(db.session, now=utcnow())
    assert all(a.cohort.status in ("open", "forming", "running") for a in found)
    assert all(not a.cohort.is_history for a in found)
    assert [a.overdue for a in found] == sorted((a.overdue for a in found), reverse=True)
    attention = next(a for a in found if a.cohort.id == living.id)
    assert undated in attention.undated
    assert [p.organisation.name for p in attention.silent] == ["Hudiksvall"]
    for late in attention.late:  # every late item is not done and past its date
        assert late.late and all(not i.done and i.due < utcnow().date() for i in late.late)
    # A registration waiting for a decision is counted in an open cohort.
    waiting = db.session.scalar(
        sa.select(InterestRegistration).where(InterestRegistration.status == "submitted")
    )
    if waiting is not None and waiting.cohort.status in ("open", "forming"):
        counted = next(a for a in found if a.cohort.id == waiting.cohort_id)
        assert counted.registrations >= 1


def test_the_coordinators_page_names_the_cohort_and_the_silent_organisation(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get("/").get_data(True)
    assert LIVING in page and "Inget loggat sedan senaste träffen" in page and "Hudiksvall" in page


def test_the_host_sees_the_next_meetings_checklist_and_what_is_late(app, ctx):
    user = member_of("Karlskrona")
    meeting = next_meeting_hosted_by("Karlskrona")
    # Ten days ahead: booking the venue (28 days before) and the invitation (14) are late;
    # the note taker (on the day) is not yet.
    meeting.starts_at = utcnow() + timedelta(days=10)
    meeting.ends_at = meeting.starts_at + timedelta(hours=6)
    meeting.venue_booked = False
    meeting.invitation_sent_at = None
    meeting.note_taker_id = None
    db.session.flush()
    hosted = start.member_start(db.session, user, now=utcnow()).hosting
    assert hosted[0].meeting == meeting
    late = {i.key for i in hosted[0].late}
    assert {"venue_booked", "invitation"} <= late and "note_taker" not in late
    meeting.venue_booked = True
    db.session.flush()
    hosted = start.member_start(db.session, user, now=utcnow()).hosting
    assert "venue_booked" not in {i.key for i in hosted[0].late}


def test_the_participant_sees_the_next_meeting_and_whether_it_has_logged(app, ctx):
    kalmar = start.member_start(db.session, member_of("Kalmar"), now=utcnow())
    hudiksvall = start.member_start(db.session, member_of("Hudiksvall"), now=utcnow())
    (place,) = [p for p in kalmar.places if p.participation.cohort.name == LIVING]
    assert place.next_meeting is not None and place.next_meeting.starts_at >= utcnow()
    assert place.logged_since_last_meeting is True
    (quiet,) = [p for p in hudiksvall.places if p.participation.cohort.name == LIVING]
    assert quiet.logged_since_last_meeting is False


def test_the_participants_page_says_so_in_words(app):
    client = app.test_client()
    login(client, "strateg@kalmar.example.org")
    page = client.get("/").get_data(True)
    assert "Kalmar har loggat sitt arbete sedan senaste träffen" in page
    assert "Nästa träff" in page and "Logga förbättringsarbetet" in page


def test_the_mentor_sees_its_group_and_who_needs_a_nudge(app, ctx):
    living = db.session.scalar(sa.select(Cohort).where(Cohort.name == LIVING))
    hudiksvall_group = next(
        g
        for g in living.groups
        if any(p.organisation.name == "Hudiksvall" for p in g.participations)
    )
    mentor = next(p for p in hudiksvall_group.participations if p.role == "mentor")
    user = member_of(mentor.organisation.name)
    (group,) = [g for g in start.member_start(db.session, user, now=utcnow()).mentoring
                if g.participation.cohort_id == living.id]  # fmt: skip
    assert [p.organisation.name for p in group.silent] == ["Hudiksvall"]


def test_the_county_observer_sees_only_its_county_and_the_progress(app):
    client = app.test_client()
    login(client, DEMO["county_observer"])
    page = client.get("/").get_data(True)
    assert "Västerbottens län" in page and "Umeå" in page
    assert "Kalmar" not in page and "Hudiksvall" not in page


def test_the_county_observer_sees_the_countys_history_with_role_outcome_and_title(app):
    """Concluded, 2019 leaves the live table; the county's organisations stay on the page
    with their role, whether they completed it and the title they hold."""
    from modell.cohorts import services as cohorts
    from modell.demo import COHORT_NAME
    from tests.test_meetings import START

    with app.app_context():
        cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME))
        cohorts.change_status(db.session, cohort, "running", now=START, user_id=None)
        outcomes = {
            p.id: cohorts.Outcome(p.organisation.name != "Robertsfors", "Bytte strateg")
            for p in cohort.participations
        }
        cohorts.conclude(db.session, cohort, outcomes, now=utcnow(), user_id=None)
        db.session.commit()
    client = app.test_client()
    login(client, DEMO["county_observer"])
    page = client.get("/").get_data(True)
    history = page[page.index("Avslutade omgångar") :]
    rows = {
        name: history[history.index(f">{name}<") :].split("</tr>")[0]
        for name in ("Robertsfors", "Umeå", "Vännäs", "Nordmaling")
    }
    assert "Inte fullföljt" in rows["Robertsfors"] and "Benchmarking" in rows["Robertsfors"]
    assert "Fullföljt" in rows["Nordmaling"]
    assert "Mentor" in rows["Vännäs"] and "Stödorganisation" in rows["Umeå"]
    assert "Kalmar" not in page


def test_an_accepted_organisation_sees_its_new_cohort_before_the_groups(app):
    from modell.cohorts import registrations
    from tests.test_cohorts import registration_data
    from tests.test_public_registration import open_cohort

    cohort_id = open_cohort(app)
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        kalmar = db.session.scalar(
            sa.select(Organisation).where(
                Organisation.name == "Kalmar", Organisation.kind == "municipality"
            )
        )
        registration = registrations.submit_registration(
            db.session, cohort, kalmar, registration_data(), now=utcnow(), user_id=None
        )
        registrations.decide_registration(
            db.session, registration, accept=True, reason=None, now=utcnow(), user_id=None
        )
        db.session.commit()
        user = db.session.scalar(sa.select(User).where(User.email == "strateg@kalmar.example.org"))
        waiting = start.member_start(db.session, user, now=utcnow()).waiting
        assert [p.cohort_id for p in waiting] == [cohort_id]
    client = app.test_client()
    login(client, "strateg@kalmar.example.org")
    page = client.get("/").get_data(True)
    assert "Kalmar är antagen. SKR bildar grupperna" in page
