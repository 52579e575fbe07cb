"""A cohort's revision changes with every change inside it and with nothing outside it, and
what is kept under it (the calendar's rows, the attendance summary, the overview's counts)
is never shown once something it was worked out from has changed, whoever changed it."""

from datetime import UTC, datetime

import sqlalchemy as sa

from modell.cohorts.models import Cohort, MeetingKind, Participation
from modell.core import revisions
from modell.extensions import db
from modell.improvements.models import Baseline
from modell.meetings import after_meeting, invitations
from modell.organisations.models import Organisation, Person
from tests.conftest import DEMO, login
from tests.test_meetings import START, group_meeting, start_demo

# Bookkeeping of the reminders: no page kept under a revision reads it, and the scheduler
# writes it every few minutes (renewing the revision for it would keep nothing).
NOT_COHORT_CONTENT = {"scheduled_reminders", "reminder_deliveries", "notifications"}
# What a cohort's content hangs from.
CONTENT = {
    "cohorts",
    "groups",
    "participations",
    "meetings",
    "improvement_works",
    "indicators",
    "organisations",
    "programme_templates",
}


def test_every_table_that_belongs_to_a_cohort_is_followed(app):
    """A table added later that points into a cohort must say how (revisions.follow), or the
    pages kept under the revision would not see its changes."""
    unfollowed = []
    for mapper in db.Model.registry.mappers:
        table = mapper.local_table
        points_to = {fk.column.table.name for fk in table.foreign_keys}
        belongs = table.name in CONTENT or points_to & CONTENT
        followed = any(c in revisions._FOLLOWED for c in mapper.class_.__mro__)
        if belongs and table.name not in NOT_COHORT_CONTENT and not followed:
            unfollowed.append(table.name)
    assert unfollowed == []


def _revisions() -> dict[int, int]:
    return dict(db.session.execute(sa.select(Cohort.id, Cohort.revision)).all())


def test_a_change_inside_a_cohort_renews_its_revision_and_no_other(app):
    with app.app_context():
        cohort = start_demo()
        db.session.commit()
        cohort_id = cohort.id
        meeting = group_meeting(cohort, "Botkyrka")
        botkyrka = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Botkyrka"))
        person = db.session.scalar(sa.select(Person).where(Person.organisation_id == botkyrka.id))
        kind_id = meeting.kind_id
        participation = db.session.scalar(
            sa.select(Participation).where(
                Participation.cohort_id == cohort_id,
                Participation.organisation_id == botkyrka.id,
            )
        )

        def changes(change) -> set[int]:
            before = _revisions()
            change()
            db.session.commit()
            after = _revisions()
            return {c for c in before if before[c] != after[c]}

        # Each change renews the cohort's number, and only the cohorts it belongs to.
        in_botkyrkas = {
            p for (p,) in db.session.execute(
                sa.select(Participation.cohort_id).where(
                    Participation.organisation_id == botkyrka.id
                )
            )
        }  # fmt: skip
        assert changes(lambda: setattr(meeting, "location", "Stadshuset")) == {cohort_id}
        assert changes(
            lambda: invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        ) == {cohort_id}
        came = {i.id for i in meeting.invitations}
        assert changes(
            lambda: after_meeting.record_attendance(
                db.session, meeting, came, now=meeting.starts_at, user_id=None
            )
        ) == {cohort_id}
        assert changes(lambda: setattr(person, "function", "manager")) == in_botkyrkas
        assert changes(lambda: setattr(botkyrka, "name", "Botkyrka kommun")) == in_botkyrkas
        assert changes(lambda: setattr(participation, "area", "Idrott")) == {cohort_id}
        assert changes(
            lambda: db.session.add(
                Baseline(participation_id=participation.id, updated_at=datetime.now(UTC))
            )
        ) == {cohort_id}
        kind = db.session.get(MeetingKind, kind_id)
        same_template = set(
            db.session.scalars(sa.select(Cohort.id).where(Cohort.template_id == kind.template_id))
        )
        assert changes(lambda: setattr(kind, "name", "Träff")) == same_template
        # Nothing written: nothing renewed; a change rolled back: nothing either.
        assert changes(lambda: None) == set()
        before = _revisions()
        meeting.location = "Elsewhere"
        db.session.flush()
        db.session.rollback()
        db.session.commit()
        assert _revisions() == before
        # A statement past the flush says so itself.
        assert changes(lambda: revisions.touch(db.session, [cohort_id])) == {cohort_id}
        assert all(_revisions().values()), "never 0 once renewed"


def _summary_row(html: str, organisation: str) -> list[str]:
    row = html[html.index(f'<th scope="row">{organisation}') :]
    row = row[: row.index("</tr>")]
    return [c.split("</td>")[0] for c in row.split("<td>")[1:]]


def test_kept_pages_show_a_change_made_by_another_worker(app):
    """The calendar's summary and the overview are kept after the first look; a change
    committed elsewhere (another worker's session, here a second session of this one) is on
    the next look."""
    with app.app_context():
        cohort = start_demo()
        meeting = group_meeting(cohort, "Botkyrka")
        invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        db.session.flush()
        came = {i.id for i in meeting.invitations if i.person.function == "strategist"}
        after_meeting.record_attendance(
            db.session, meeting, came, now=meeting.starts_at, user_id=None
        )
        db.session.commit()
        cohort_id, meeting_id = cohort.id, meeting.id
    client = app.test_client()
    login(client, DEMO["coordinator"])
    calendar = f"/moten/omgang/{cohort_id}"
    overview = f"/arbete/omgang/{cohort_id}/oversikt"
    assert client.get(overview).status_code == 200
    assert _summary_row(client.get(calendar).get_data(True), "Botkyrka") == [
        "0 av 1",
        "0 av 1",
        "1 av 1",
    ]
    first = client.get(overview).get_data(True)  # kept now
    assert first.count("Inget utgångsläge") >= 1

    with app.app_context():
        engine = db.engine
    with sa.orm.Session(engine) as elsewhere:
        from modell.meetings.models import Meeting

        m = elsewhere.get(Meeting, meeting_id)
        everyone = {i.id for i in m.invitations}
        after_meeting.record_attendance(elsewhere, m, everyone, now=m.starts_at, user_id=None)
        botkyrka = elsewhere.scalar(
            sa.select(Participation)
            .join(Organisation)
            .where(Participation.cohort_id == cohort_id, Organisation.name == "Botkyrka")
        )
        elsewhere.add(Baseline(participation_id=botkyrka.id, updated_at=datetime.now(UTC)))
        elsewhere.commit()

    assert _summary_row(client.get(calendar).get_data(True), "Botkyrka") == ["1 av 1"] * 3
    assert client.get(overview).get_data(True).count("Inget utgångsläge") == (
        first.count("Inget utgångsläge") - 1
    )
