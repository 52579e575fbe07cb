"""Every route, for every role: who may see what (core.access decides, every route asks).

The table below must name every endpoint the app registers; a new route without an
entry fails `test_every_route_has_an_expectation`.
"""

import pytest
import sqlalchemy as sa

from modell.auth.models import User
from modell.cohorts.models import Cohort
from modell.core import mail
from modell.core.files import FolderStore
from modell.core.timeutil import to_local
from modell.core.types import utcnow
from modell.demo import COHORT_NAME, DEMO_PASSWORD
from modell.extensions import db
from modell.organisations.models import Organisation, Person
from tests.conftest import DEMO, csrf_from, login

ROLES = [
    "anonymous",
    "admin",
    "coordinator",
    "county_observer",
    "participant",
    "mentor",
    "outsider",
]
STAFF = {"admin", "coordinator"}
MISSING = 999999


def expect(default, **per_role):
    """Status for each role; anonymous users are sent to the login page unless said otherwise."""
    table = {role: default for role in ROLES}
    table["anonymous"] = "login"
    table.update(per_role)
    return table


def staff_only():
    return expect(403, admin=200, coordinator=200)


def own_organisation(status):
    """Only the organisation writes its improvement work: SKR, the mentor and the county
    observer read it."""
    return expect(403, participant=status)


def host_or_staff(status):
    return expect(403, admin=status, coordinator=status, participant=status)


# endpoint -> list of (method, url template, expectations). {own_group} is Botkyrka's group
# (mentored by Uppsala), {other_group} Askersund's, {north_group} the Västerbotten group.
CASES = {
    "start.home": [("GET", "/", expect(200))],
    "organisations.people": [("GET", "/organisationer/personer", staff_only())],
    "start.accessibility": [("GET", "/tillganglighet", expect(200, anonymous=200))],
    "start.favicon": [("GET", "/favicon.ico", expect(200, anonymous=200))],
    "start.privacy": [("GET", "/personuppgifter", expect(200, anonymous=200))],
    "start.help": [("GET", "/hjalp", expect(200, anonymous=200))],
    "start.contact": [("GET", "/kontakt", expect(200, anonymous=200))],
    "core.health": [("GET", "/healthz", expect(200, anonymous=200))],
    "core.outbox": [("GET", "/utkorg", staff_only())],
    "core.outbox_message": [
        ("GET", "/utkorg/{message}", staff_only()),
        ("GET", f"/utkorg/{MISSING}", expect(403, admin=404, coordinator=404)),
    ],
    # Coordinators read the outbox; sending a message again or cancelling it is the admins'.
    "core.outbox_action": [
        ("POST", "/utkorg/{message}/forsok-igen", expect(403, admin=302)),
        ("POST", f"/utkorg/{MISSING}/avbryt", expect(403, admin=404)),
    ],
    "core.outbox_retry_failed": [("POST", "/utkorg/forsok-igen", expect(403, admin=302))],
    "auth.login": [("GET", "/konto/logga-in", expect(302, anonymous=200))],
    "auth.logout": [("POST", "/konto/logga-ut", expect(302))],
    "auth.forgot_password": [("GET", "/konto/glomt-losenord", expect(200, anonymous=200))],
    "auth.reset_password": [
        ("GET", "/konto/nytt-losenord/not-a-token", expect(400, anonymous=400))
    ],
    "auth.accept_invitation": [("GET", "/konto/inbjudan/not-a-token", expect(400, anonymous=400))],
    "auth.change_password": [("GET", "/konto/losenord", expect(200))],
    "auth.invite": [("GET", "/konto/bjud-in", staff_only())],
    "auth.set_language": [("POST", "/konto/sprak", expect(302, anonymous=302))],
    "reminders.notifications": [("GET", "/aviseringar", expect(200))],
    "reminders.mark_read": [("POST", "/aviseringar/last", expect(302))],
    "reminders.settings": [("GET", "/konto/paminnelser", expect(200))],
    "organisations.index": [("GET", "/organisationer/", expect(200))],
    "organisations.detail": [
        ("GET", "/organisationer/{botkyrka}", expect(200)),
        ("GET", f"/organisationer/{MISSING}", expect(404)),
    ],
    "cohorts.index": [("GET", "/omgangar/", expect(200))],
    "cohorts.detail": [
        ("GET", "/omgangar/{cohort}", expect(200, outsider=403)),
        ("GET", f"/omgangar/{MISSING}", expect(404)),
    ],
    "cohorts.group": [
        ("GET", "/omgangar/grupper/{own_group}", expect(200, county_observer=403, outsider=403)),
        ("GET", "/omgangar/grupper/{other_group}", expect(403, admin=200, coordinator=200)),
        (
            "GET",
            "/omgangar/grupper/{north_group}",
            expect(403, admin=200, coordinator=200, county_observer=200),
        ),
        ("GET", f"/omgangar/grupper/{MISSING}", expect(404)),
    ],
    "cohorts.create": [("GET", "/omgangar/ny", staff_only())],
    "cohorts.edit": [
        ("GET", "/omgangar/{cohort}/andra", staff_only()),
        ("GET", f"/omgangar/{MISSING}/andra", expect(404)),
    ],
    "cohorts.change_status": [
        ("POST", "/omgangar/{open_cohort}/status", expect(403, admin=302, coordinator=302))
    ],
    "cohorts.conclude": [
        ("GET", "/omgangar/{cohort}/avsluta", expect(403, admin=200, coordinator=200))
    ],
    "cohorts.register": [
        # Open: every member may register its organisation; observers only read.
        ("GET", "/omgangar/{open_cohort}/anmal", expect(200, county_observer=403, participant=302)),
        # Forming: closed, back to the cohort page for those who may see it.
        ("GET", "/omgangar/{cohort}/anmal", expect(302, county_observer=403, outsider=403)),
    ],
    "cohorts.registrations": [
        (
            "GET",
            "/omgangar/{open_cohort}/anmalningar",
            expect(403, admin=200, coordinator=200, participant=200),
        ),
    ],
    "cohorts.registration": [
        (
            "GET",
            "/omgangar/anmalningar/{registration}",
            expect(403, admin=200, coordinator=200, participant=200),
        ),
        ("GET", f"/omgangar/anmalningar/{MISSING}", expect(404)),
    ],
    "cohorts.edit_registration": [
        (
            "GET",
            "/omgangar/anmalningar/{registration}/andra",
            expect(403, admin=200, coordinator=200, participant=200),
        )
    ],
    "cohorts.new_group": [("GET", "/omgangar/{cohort}/grupper/ny", staff_only())],
    "cohorts.edit_group": [
        ("GET", "/omgangar/grupper/{own_group}/andra", staff_only()),
        ("GET", f"/omgangar/grupper/{MISSING}/andra", expect(404)),
    ],
    "cohorts.mentor_pool": [("GET", "/omgangar/{cohort}/mentorer", staff_only())],
    "cohorts.suggestion": [("GET", "/omgangar/{cohort}/forslag", staff_only())],
    "cohorts.templates": [("GET", "/omgangar/modeller/", expect(200))],
    "cohorts.template": [
        ("GET", "/omgangar/modeller/{template}", expect(200)),
        ("GET", f"/omgangar/modeller/{MISSING}", expect(404)),
    ],
    # Without a name the copy is refused with the form again.
    "cohorts.copy_template": [
        ("POST", "/omgangar/modeller/{template}/kopiera", expect(403, admin=400, coordinator=400))
    ],
    "cohorts.edit_template": [("GET", "/omgangar/modeller/{template}/andra", staff_only())],
    "cohorts.edit_step": [
        ("GET", "/omgangar/modeller/{template}/steg/ny", staff_only()),
        ("GET", "/omgangar/modeller/{template}/steg/1", staff_only()),
        ("GET", "/omgangar/modeller/{template}/steg/99", expect(403, admin=404, coordinator=404)),
    ],
    "cohorts.edit_meeting_kind": [
        ("GET", "/omgangar/modeller/{template}/motestyper/ny", staff_only()),
        ("GET", "/omgangar/modeller/{template}/motestyper/benchmarking", staff_only()),
        (
            "GET",
            "/omgangar/modeller/{template}/motestyper/nope",
            expect(403, admin=404, coordinator=404),
        ),
    ],
    # Registering interest without an account: open to everyone while a cohort is open.
    "cohorts.open_cohorts": [("GET", "/omgangar/oppna", expect(200, anonymous=200))],
    "cohorts.public_register": [
        ("GET", "/omgangar/{open_cohort}/intresse", expect(200, anonymous=200)),
        ("GET", "/omgangar/{cohort}/intresse", expect(404, anonymous=404)),
        ("GET", f"/omgangar/{MISSING}/intresse", expect(404, anonymous=404)),
    ],
    "cohorts.public_sent": [
        ("GET", "/omgangar/{open_cohort}/intresse/skickad", expect(200, anonymous=200))
    ],
    "cohorts.confirm_interest": [
        ("GET", "/omgangar/intresse/bekrafta/not-a-token", expect(400, anonymous=400))
    ],
    "cohorts.import_cohort": [("GET", "/omgangar/importera", staff_only())],
    "cohorts.import_template": [
        ("GET", "/omgangar/importera/mall.xlsx", staff_only()),
        ("GET", "/omgangar/importera/mall.csv", staff_only()),
        ("GET", "/omgangar/importera/mall.pdf", expect(404, anonymous=404)),
    ],
    # What SKR publishes: every signed-in user may download it.
    "cohorts.organisations_export": [
        ("GET", "/omgangar/organisationer.csv", expect(200)),
        ("GET", "/omgangar/organisationer.xlsx", expect(200)),
    ],
    "cohorts.edit_reminder": [
        ("GET", "/omgangar/modeller/{template}/paminnelser/ny", staff_only()),
        ("GET", "/omgangar/modeller/{template}/paminnelser/send_invitation", staff_only()),
        (
            "GET",
            "/omgangar/modeller/{template}/paminnelser/nope",
            expect(403, admin=404, coordinator=404),
        ),
    ],
    "organisations.create": [("GET", "/organisationer/ny", staff_only())],
    "organisations.edit": [
        ("GET", "/organisationer/{botkyrka}/andra", staff_only()),
        ("GET", f"/organisationer/{MISSING}/andra", expect(404)),
    ],
    "organisations.person": [
        ("GET", "/organisationer/{botkyrka}/personer/ny", staff_only()),
        ("GET", "/organisationer/{botkyrka}/personer/{person}", staff_only()),
        (
            "GET",
            "/organisationer/{kiruna}/personer/{person}",
            expect(403, admin=404, coordinator=404),
        ),
    ],
    "meetings.cohort_calendar": [("GET", "/moten/omgang/{cohort}", expect(200, outsider=403))],
    "meetings.group_calendar": [
        ("GET", "/moten/grupp/{own_group}", expect(200, county_observer=403, outsider=403))
    ],
    "meetings.meeting": [
        ("GET", "/moten/{own_meeting}", expect(200, county_observer=403, outsider=403)),
        (
            "GET",
            "/moten/{north_meeting}",
            expect(403, admin=200, coordinator=200, county_observer=200),
        ),
        ("GET", f"/moten/{MISSING}", expect(404)),
    ],
    # The host organisation (Botkyrka, the participant's) and staff change a meeting.
    "meetings.edit": [("GET", "/moten/{own_meeting}/andra", host_or_staff(200))],
    "meetings.checklist": [("POST", "/moten/{own_meeting}/checklista", host_or_staff(302))],
    "meetings.invite": [("POST", "/moten/{own_meeting}/bjud-in", host_or_staff(302))],
    # The personal link in the invitation: no login needed, the link is the key.
    "meetings.answer": [
        ("GET", "/moten/svar/{answer_token}", expect(200, anonymous=200)),
        ("GET", "/moten/svar/not-a-token", expect(404, anonymous=404)),
    ],
    "meetings.attendance": [("GET", "/moten/{own_meeting}/narvaro", host_or_staff(200))],
    "meetings.documentation": [("POST", "/moten/{own_meeting}/dokumentation", host_or_staff(302))],
    # Without a file: the form again with its error.
    "meetings.upload": [("POST", "/moten/{own_meeting}/filer", host_or_staff(400))],
    # Only the invited answer, only members of the meeting's organisations give PMI
    # (empty forms: refused with the form again).
    "meetings.respond": [
        ("POST", "/moten/{own_meeting}/svar", expect(403, participant=400, mentor=400))
    ],
    "meetings.pmi": [
        ("POST", "/moten/{held_meeting}/pmi", expect(403, participant=400, mentor=400))
    ],
    "meetings.document": [
        ("GET", "/moten/filer/{document}", expect(200, county_observer=403, outsider=403)),
        ("GET", f"/moten/filer/{MISSING}", expect(404)),
    ],
    "meetings.cohort_pmi": [("GET", "/moten/omgang/{cohort}/pmi", staff_only())],
    "meetings.ics": [
        ("GET", "/moten/{own_meeting}.ics", expect(200, county_observer=403, outsider=403))
    ],
    "meetings.my_calendar": [("GET", "/moten/kalender", expect(200))],
    "meetings.feed": [
        ("GET", "/moten/kalender/{feed_token}.ics", expect(200, anonymous=200)),
        ("GET", "/moten/kalender/not-a-token.ics", expect(404, anonymous=404)),
    ],
    "meetings.renew_feed": [("POST", "/moten/kalender/ny", expect(200))],
    "meetings.revoke_feed": [("POST", "/moten/kalender/avsluta", expect(302))],
    # Changes last: they remove what they act on.
    "cohorts.withdraw_registration": [
        (
            "POST",
            "/omgangar/anmalningar/{registration}/aterkalla",
            expect(403, admin=302, coordinator=302, participant=302),
        )
    ],
    "meetings.cancel": [
        ("POST", "/moten/{kickoff}/stall-in", expect(403, admin=302, coordinator=302))
    ],
    "cohorts.delete_step": [
        (
            "POST",
            "/omgangar/modeller/{copy}/steg/8/ta-bort",
            expect(403, admin=302, coordinator=302),
        )
    ],
    "cohorts.delete_meeting_kind": [
        (
            "POST",
            "/omgangar/modeller/{copy}/motestyper/result_conference/ta-bort",
            expect(403, admin=302, coordinator=302),
        )
    ],
    "cohorts.delete_group": [
        ("POST", "/omgangar/grupper/{other_group}/ta-bort", expect(403, admin=302, coordinator=302))
    ],
    # Improvement work: the organisation writes, its group (mentor included) and staff read,
    # the county observer reads its county's organisations; approved examples are for all.
    "improvements.index": [("GET", "/arbete/", expect(200))],
    "improvements.workspace": [
        ("GET", "/arbete/{own_participation}", expect(200, county_observer=403, outsider=403)),
        (
            "GET",
            "/arbete/{north_participation}",
            expect(403, admin=200, coordinator=200, county_observer=200),
        ),
        ("GET", f"/arbete/{MISSING}", expect(404)),
    ],
    "improvements.baseline": [
        ("GET", "/arbete/{own_participation}/utgangslage", own_organisation(200))
    ],
    "improvements.edit_work": [
        ("GET", "/arbete/{own_participation}/arbeten/ny", own_organisation(200)),
        ("GET", "/arbete/arbeten/{own_work}/andra", own_organisation(200)),
        ("GET", f"/arbete/arbeten/{MISSING}/andra", expect(404)),
    ],
    "improvements.edit_entry": [
        ("GET", "/arbete/arbeten/{own_work}/logg/ny", own_organisation(200)),
        ("GET", "/arbete/logg/{own_entry}/andra", own_organisation(200)),
    ],
    "improvements.entry": [
        ("GET", "/arbete/logg/{own_entry}", expect(200, county_observer=403, outsider=403)),
        ("GET", "/arbete/logg/{other_entry}", expect(200)),
        ("GET", f"/arbete/logg/{MISSING}", expect(404)),
    ],
    "improvements.evidence": [
        ("GET", "/arbete/logg/{own_entry}/bevis", expect(404, county_observer=403, outsider=403))
    ],
    "improvements.propose": [
        ("POST", "/arbete/logg/{own_entry}/gott-exempel", own_organisation(302))
    ],
    "improvements.decide": [
        ("POST", "/arbete/logg/{own_entry}/beslut", expect(403, admin=302, coordinator=302))
    ],
    "improvements.good_examples": [("GET", "/arbete/goda-exempel", expect(200))],
    "improvements.group": [
        ("GET", "/arbete/grupp/{own_group}", expect(200, county_observer=403, outsider=403)),
        (
            "GET",
            "/arbete/grupp/{north_group}",
            expect(403, admin=200, coordinator=200, county_observer=200),
        ),
    ],
    "improvements.new_indicator": [
        ("GET", "/arbete/{own_participation}/indikatorer/ny", own_organisation(200))
    ],
    "improvements.indicator": [
        (
            "GET",
            "/arbete/{own_participation}/indikatorer/{own_indicator}",
            expect(200, county_observer=403, outsider=403),
        ),
        # An indicator is reached through its own organisation only.
        (
            "GET",
            "/arbete/{north_participation}/indikatorer/{own_indicator}",
            expect(403, admin=404, coordinator=404, county_observer=404),
        ),
    ],
    "improvements.save_value": [
        (
            "POST",
            "/arbete/{own_participation}/indikatorer/{own_indicator}/varde",
            own_organisation(400),
        )
    ],
    "improvements.import_values": [
        (
            "GET",
            "/arbete/{own_participation}/indikatorer/{own_indicator}/import",
            own_organisation(200),
        )
    ],
    "improvements.benchmarking": [
        (
            "GET",
            "/arbete/grupp/{own_group}/indikatorer",
            expect(200, county_observer=403, outsider=403),
        ),
        (
            "GET",
            "/arbete/grupp/{north_group}/indikatorer",
            expect(403, admin=200, coordinator=200, county_observer=200),
        ),
    ],
    "improvements.own_values": [
        (
            "POST",
            "/arbete/grupp/{own_group}/indikatorer/{own_shared}/vara-varden",
            expect(403, participant=302),
        ),
        ("POST", f"/arbete/grupp/{{own_group}}/indikatorer/{MISSING}/vara-varden", expect(404)),
    ],
    "improvements.overview": [("GET", "/arbete/omgang/{cohort}/oversikt", staff_only())],
    "improvements.digest": [("GET", "/arbete/omgang/{cohort}/pa-gang", staff_only())],
    "improvements.export": [
        ("GET", "/arbete/omgang/{cohort}/export/overview.xlsx", staff_only()),
        ("GET", "/arbete/omgang/{cohort}/export/entries.csv", staff_only()),
        (
            "GET",
            "/arbete/omgang/{cohort}/export/nothing.csv",
            expect(403, admin=404, coordinator=404),
        ),
    ],
    "improvements.mentor_session": [
        ("GET", "/arbete/grupp/{own_group}/mentorsmote", expect(403, mentor=200))
    ],
    "static": [("GET", "/static/modell.css", expect(200, anonymous=200))],
    "bootstrap.static": [
        ("GET", "/bootstrap/static/css/bootstrap.min.css", expect(200, anonymous=200))
    ],
}


def test_every_route_has_an_expectation(app):
    registered = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert registered - set(CASES) == set(), "routes without an access expectation"
    assert set(CASES) - registered == set(), "expectations for routes that do not exist"


def _ids(app) -> dict:
    with app.app_context():
        cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME))

        def group_with(name):
            return next(g.id for g in cohort.groups if name in g.name)

        # Someone whose organisation takes part in no cohort.
        kiruna = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Kiruna"))
        person = Person(
            organisation=kiruna,
            name="Kim Kiruna",
            function="strategist",
            email="kim@kiruna.example.org",
            created_at=utcnow(),
        )
        from modell.auth.services import hash_password

        db.session.add(
            User(
                email="kim@kiruna.example.org",
                name="Kim Kiruna",
                role="member",
                person=person,
                password_hash=hash_password(DEMO_PASSWORD),
                created_at=utcnow(),
            )
        )
        from datetime import date, timedelta

        from modell.cohorts import programme, registrations, services
        from tests.test_cohorts import registration_data

        now = utcnow()
        open_cohort = services.create_cohort(
            db.session,
            now=now,
            user_id=None,
            name="Öppen omgång",
            template=cohort.template,
            registration_deadline=date.today() + timedelta(days=30),
            starts_on=date.today() + timedelta(days=60),
        )
        db.session.flush()
        services.change_status(db.session, open_cohort, "open", now=now, user_id=None)
        botkyrka = db.session.scalar(sa.select(Organisation).where(Organisation.scb_code == "0127"))
        registration = registrations.submit_registration(
            db.session, open_cohort, botkyrka, registration_data(), now=now, user_id=None
        )
        copy = programme.copy_template(
            db.session, cohort.template, name="Kopia", now=now, user_id=None
        )
        # Running: the schedule is made, and Botkyrka hosts its group's first meeting.
        from pathlib import Path

        from modell.meetings import after_meeting, invitations
        from modell.meetings import services as meetings
        from modell.meetings.models import Meeting

        services.change_status(db.session, cohort, "running", now=now, user_id=None)
        own_meeting = db.session.scalar(
            sa.select(Meeting).where(
                Meeting.group_id == group_with("Botkyrka"), Meeting.number == 1
            )
        )
        assert own_meeting.host.name == "Botkyrka"
        # Still to come, so its answer links work (they stop when a meeting has ended).
        own_meeting.starts_at = utcnow() + timedelta(days=30)
        own_meeting.ends_at = own_meeting.starts_at + timedelta(hours=5)
        invitations.send_invitations(db.session, own_meeting, now=now, user_id=None)
        # Held yesterday: its feedback form is open.
        held_meeting = db.session.scalar(
            sa.select(Meeting).where(
                Meeting.group_id == group_with("Botkyrka"), Meeting.number == 2
            )
        )
        held_meeting.starts_at = utcnow() - timedelta(days=1)
        held_meeting.ends_at = held_meeting.starts_at + timedelta(hours=5)
        document = after_meeting.store_document(
            db.session,
            own_meeting,
            filename="minnes.txt",
            content=b"Minnesanteckningar",
            store=FolderStore(Path(app.config["UPLOAD_DIR"])),
            max_bytes=1000,
            now=now,
            user_id=None,
        )
        mentor = db.session.scalar(sa.select(User).where(User.email == DEMO["mentor"]))
        feed_token = meetings.renew_feed(db.session, mentor, now=now)
        # Improvement work: Botkyrka's own entry; an approved good example of Askersund's.
        from modell.cohorts.models import Participation
        from modell.improvements import services as improvements

        def participation_of(name):
            return db.session.scalar(
                sa.select(Participation)
                .join(Organisation)
                .where(Participation.cohort_id == cohort.id, Organisation.name == name)
            )

        own_participation = participation_of("Botkyrka")
        own_work = improvements.save_work(
            db.session,
            own_participation,
            improvements.WorkData(title="Hemtjänst", core_activity="Hemtjänst"),
            now=now,
            user_id=None,
        )
        day = to_local(now).date()
        own_entry = improvements.save_entry(
            db.session,
            own_work,
            improvements.EntryData(day, "Kartläggning", 1),
            now=now,
            user_id=None,
        )
        other_work = improvements.save_work(
            db.session,
            participation_of("Askersund"),
            improvements.WorkData(title="Skolan", core_activity="Skola"),
            now=now,
            user_id=None,
        )
        example = improvements.save_entry(
            db.session,
            other_work,
            improvements.EntryData(day, "Ny rutin", 3),
            now=now,
            user_id=None,
        )
        from modell.improvements import indicators

        own_indicator = indicators.create_indicator(
            db.session,
            own_participation.organisation,
            indicators.IndicatorData("Timmar", "timmar"),
            now=now,
            user_id=None,
        )
        own_shared = indicators.create_shared(
            db.session,
            own_participation.group,
            indicators.IndicatorData("Andel", "procent"),
            now=now,
            user_id=None,
        )
        improvements.propose_good_example(db.session, example, now=now, user_id=None)
        improvements.decide_good_example(db.session, example, approve=True, now=now, user_id=None)
        message = mail.queue(
            db.session, now=utcnow(), kind="test", to="x@example.org", subject="s", text="t"
        )
        db.session.commit()
        db.session.flush()
        return {
            "own_meeting": own_meeting.id,
            "held_meeting": held_meeting.id,
            "north_meeting": db.session.scalar(
                sa.select(Meeting.id).where(Meeting.group_id == group_with("Nordmaling"))
            ),
            "kickoff": db.session.scalar(
                sa.select(Meeting.id).where(
                    Meeting.cohort_id == cohort.id, Meeting.group_id.is_(None)
                )
            ),
            "document": document.id,
            "answer_token": invitations.answer_token(
                own_meeting.invitations[0].id, app.config["SECRET_KEY"]
            ),
            "feed_token": feed_token,
            "cohort": cohort.id,
            "open_cohort": open_cohort.id,
            "registration": registration.id,
            "template": cohort.template_id,
            "copy": copy.id,
            "kiruna": kiruna.id,
            "person": botkyrka.people[0].id,
            "own_group": group_with("Botkyrka"),
            "other_group": group_with("Askersund"),
            "north_group": group_with("Nordmaling"),
            "botkyrka": db.session.scalar(
                sa.select(Organisation.id).where(Organisation.scb_code == "0127")
            ),
            "message": message.id,
            "own_participation": own_participation.id,
            "north_participation": participation_of("Nordmaling").id,
            "own_work": own_work.id,
            "own_entry": own_entry.id,
            "other_entry": example.id,
            "own_indicator": own_indicator.id,
            "own_shared": own_shared.id,
        }


USERS = {**DEMO, "outsider": "kim@kiruna.example.org"}


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_role_as_expected(app, role):
    ids = _ids(app)
    failures = []
    logged_in = app.test_client()
    if role != "anonymous":
        assert login(logged_in, USERS[role]).status_code == 302
    for endpoint, cases in CASES.items():
        for method, template, expected in cases:
            client = logged_in
            if endpoint == "auth.logout":  # ends its session: give it one of its own
                client = app.test_client()
                if role != "anonymous":
                    login(client, USERS[role])
            url = template.format(**ids)
            if method == "GET":
                response = client.get(url)
            else:
                token = csrf_from(client.get("/konto/glomt-losenord").get_data(True))
                # Confirmed: a change with mass or irreversible effects asks first.
                response = client.post(
                    url, data={"csrf_token": token, "lang": "sv", "bekraftat": "1"}
                )
            want = expected[role]
            got = response.status_code
            if want == "login":
                ok = got == 302 and "/konto/logga-in" in response.headers["Location"]
            else:
                ok = got == want
            if not ok:
                failures.append(f"{method} {url}: expected {want}, got {got}")
    assert failures == []


JUNK = {
    "version": "x",
    "to": "nonsense",
    "day": "not-a-date",
    "start": "25:99",
    "end": "",
    "starts_on": "2019-02-30",
    "registration_deadline": "yesterday",
    "template_id": "abc",
    "organisation_id": "-1",
    "benchmarking": ["abc", "999999"],
    "mentors": ["0"],
    "groups": "zz",
    "basis": "<script>",
    "fingerprint": "'; DROP TABLE groups; --",
    "response": "maybe",
    "note_taker_id": "999999",
    "seat_id": "abc",
    "kind": "planet",
    "function": "king",
    "count": "-5",
    "duration_hours": "NaN",
    "prepares_key": "nope",
    "attended": ["x", "999999"],
    "outcome-1": "perhaps",
    "name": "x" * 500,
}


@pytest.mark.parametrize("role", ["coordinator", "participant"])
def test_no_route_answers_junk_with_a_server_error(app, role):
    """Whatever is sent, the answer is a page or a refusal, never a 500."""
    ids = _ids(app)
    client = app.test_client()
    login(client, USERS[role])
    token = csrf_from(client.get("/konto/glomt-losenord").get_data(True))
    errors = []
    for endpoint, cases in CASES.items():
        if endpoint in ("auth.logout", "static", "bootstrap.static"):
            continue
        for method, template, _expected in cases:
            url = template.format(**ids)
            responses = [client.post(url, data={**JUNK, "csrf_token": token})]
            if method == "GET":  # the page itself, and its form posted with junk
                query = {k: v for k, v in JUNK.items() if isinstance(v, str)}
                responses.append(client.get(url, query_string=query))
            for response in responses:
                if response.status_code >= 500:
                    errors.append(f"{method} {url}: {response.status_code}")
    assert errors == []
