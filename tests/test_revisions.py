"""A cohort's revision changes with every change inside it and with nothing outside it, and
what is kept under it (the calendar's rows, the attendance summary, the overview's counts)
is never shown once something it was worked out from has changed, whoever changed it."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from modell.cohorts.models import Cohort, MeetingKind, Participation
from modell.core import revisions
from modell.extensions import db
from modell.improvements.models import Baseline
from modell.meetings import after_meeting, invitations
from modell.organisations.models import Organisation, Person
from tests.conftest import DEMO, login, post_form
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


def test_the_indicators_compared_show_a_value_saved_after_the_first_look(app):
    """The chart and table of a shared indicator are kept; a value saved afterwards (and an
    organisation renamed) is on the next look, in each language."""
    from modell.improvements import indicators as rules

    with app.app_context():
        cohort = start_demo()
        group = next(g for g in cohort.groups if "Botkyrka" in g.name)
        shared = rules.create_shared(
            db.session, group, rules.IndicatorData("Andel"), now=START, user_id=None
        )
        botkyrka = next(
            p.organisation for p in group.participations if p.organisation.name == "Botkyrka"
        )
        own = rules.own_for_shared(db.session, shared, botkyrka, now=START, user_id=None)
        rules.save_value(
            db.session, own, period="2019", women=1.0, men=2.0, total=3.0, now=START, user_id=None
        )
        db.session.commit()
        url = f"/arbete/grupp/{group.id}/indikatorer?indikator={shared.id}"
        own_id, botkyrka_id = own.id, botkyrka.id
    client = app.test_client()
    login(client, DEMO["coordinator"])
    first = client.get(url).get_data(True)
    assert "<td>2019</td>" in first and "<td>2020</td>" not in first
    assert client.get(url).get_data(True) == first  # kept, and the same
    with app.app_context():
        from modell.improvements.models import Indicator

        rules.save_value(
            db.session, db.session.get(Indicator, own_id), period="2020", women=4.5, men=2.0,
            total=6.5, now=START, user_id=None,
        )  # fmt: skip
        db.session.get(Organisation, botkyrka_id).name = "Botkyrka kommun"
        db.session.commit()
    then = client.get(url).get_data(True)
    assert "<td>2020</td>" in then and "4,5" in then and "Botkyrka kommun" in then
    post_form(client, "/konto/sprak", {"lang": "en", "next": url}, page_url=url)
    english = client.get(url).get_data(True)
    assert "4.5" in english and "4,5" not in english


def test_the_improvement_work_page_shows_an_entry_written_after_the_first_look(app):
    """The page's body is kept; an entry written afterwards is on the next look, on every
    page of the log the reader asks for."""
    from datetime import date

    from modell.improvements import services
    from tests.test_improvements import LATER

    url, work_id = _botkyrka_with_a_long_log(app)
    client = app.test_client()
    login(client, DEMO["participant"])
    first = client.get(url).get_data(True)
    second_page = client.get(f"{url}?logg{work_id}=2").get_data(True)
    assert "Steg 12" in first and "Steg 1<" not in first and "Steg 1<" in second_page
    assert "Steg 3<" not in second_page
    assert "Nytt grepp" not in first
    with app.app_context():
        from modell.improvements.models import ImprovementWork

        services.save_entry(
            db.session, db.session.get(ImprovementWork, work_id),
            services.EntryData(date(2019, 5, 30), "Nytt grepp", 3), now=LATER, user_id=None,
        )  # fmt: skip
        db.session.commit()
    then = client.get(url).get_data(True)
    assert "Nytt grepp" in then and "Steg 12" in then
    # The second page moved on by one: its first row is what was the first page's last.
    assert "Steg 3<" in client.get(f"{url}?logg{work_id}=2").get_data(True)


def test_what_a_worker_keeps_is_bounded_and_the_least_recently_used_goes_first(app, monkeypatch):
    monkeypatch.setattr(revisions, "KEPT_BYTES", 20_000)
    monkeypatch.setattr(revisions, "_kept", revisions.OrderedDict())
    monkeypatch.setattr(revisions, "_weights", 0)
    computed = []

    def text(n):
        computed.append(n)
        return "x" * 1000 + str(n)

    with app.app_context():
        cohort_id = start_demo().id
        db.session.commit()
        for n in range(40):
            value = revisions.kept(db.session, cohort_id, "probe", lambda n=n: text(n), n)
            assert value == "x" * 1000 + str(n)
        assert revisions._weights <= 20_000 and len(revisions._kept) < 40
        revisions.kept(db.session, cohort_id, "probe", lambda: text(39), 39)  # the newest: kept
        revisions.kept(db.session, cohort_id, "probe", lambda: text(0), 0)  # the oldest: gone
        assert computed[-1] == 0 and computed.count(39) == 1
        # Too large to keep at all: computed each time, nothing pushed out for it.
        big = revisions.kept(db.session, cohort_id, "probe", lambda: "y" * 10_000, "big")
        assert len(big) == 10_000 and all(key[-1] != "big" for key in revisions._kept)


def test_the_meeting_page_shows_feedback_documents_and_people_added_after_the_first_look(app):
    """The meeting page keeps the list of the invited, the note taker's choices, its
    documents and its feedback; each change made elsewhere is on the next look."""
    from modell.auth.models import User
    from modell.meetings.models import Meeting, MeetingDocument, PmiFeedback

    with app.app_context():
        cohort = start_demo()
        meeting = group_meeting(cohort, "Botkyrka")
        invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        db.session.flush()
        after_meeting.record_attendance(
            db.session, meeting, set(), now=meeting.starts_at, user_id=None
        )
        db.session.commit()
        meeting_id, starts_at = meeting.id, meeting.starts_at
        coordinator = db.session.scalar(sa.select(User).where(User.email == DEMO["coordinator"]))
        coordinator_id = coordinator.id
    app.config["CLOCK"] = lambda: starts_at + timedelta(days=1)
    client = app.test_client()
    login(client, DEMO["coordinator"])
    url = f"/moten/{meeting_id}"
    first = client.get(url).get_data(True)
    assert "Nya Anna" not in first and "plan.pdf" not in first and "Bra dag" not in first

    with app.app_context():
        engine = db.engine
    with sa.orm.Session(engine) as elsewhere:
        m = elsewhere.get(Meeting, meeting_id)
        botkyrka = elsewhere.scalar(sa.select(Organisation).where(Organisation.name == "Botkyrka"))
        elsewhere.add(
            Person(organisation_id=botkyrka.id, name="Nya Anna", email="anna@botkyrka.example.org",
                   function="manager", active=True, created_at=START)
        )  # fmt: skip
        elsewhere.add(
            MeetingDocument(meeting_id=m.id, filename="plan.pdf", stored_name="x", size=2048,
                            mimetype="application/pdf", uploaded_at=START)
        )  # fmt: skip
        elsewhere.add(
            PmiFeedback(meeting_id=m.id, user_id=coordinator_id, plus="Bra dag", created_at=START,
                        updated_at=START)
        )  # fmt: skip
        elsewhere.commit()
    then = client.get(url).get_data(True)
    assert "Nya Anna (Botkyrka)" in then  # a note taker to choose
    assert "plan.pdf" in then and "Bra dag" in then


def test_the_improvement_work_page_keeps_each_address_apart(app):
    """The log page shown follows the address as written: a repeated or far-off argument
    never brings back another address's kept page."""
    url, work_id = _botkyrka_with_a_long_log(app)
    log = f"logg{work_id}"
    client = app.test_client()
    login(client, DEMO["participant"])
    padding = "&".join(f"a{n:02d}=x" for n in range(20))

    def second_page(query: str) -> bool:
        return "Steg 1<" in client.get(f"{url}?{query}").get_data(True)

    assert second_page(f"{padding}&{log}=2")
    assert not second_page(padding) and not second_page(f"{padding}&{log}=1")
    assert not second_page(f"{log}=1&{log}=2")
    assert second_page(f"{log}=2&{log}=1") == second_page(f"{log}=2")


def _botkyrka_with_a_long_log(app) -> tuple[str, int]:
    """Botkyrka's improvement work page and its piece of work, with twelve entries: two
    pages of its log."""
    from datetime import date

    from modell.improvements import services
    from tests.test_improvements import LATER, a_work, participation

    with app.app_context():
        botkyrka = participation(start_demo(), "Botkyrka")
        work = a_work(botkyrka)
        for day in range(1, 13):
            services.save_entry(
                db.session, work, services.EntryData(date(2019, 5, day), f"Steg {day}", 1),
                now=LATER, user_id=None,
            )  # fmt: skip
        db.session.commit()
        return f"/arbete/{botkyrka.id}", work.id
