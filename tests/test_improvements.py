"""Improvement work between meetings: the baseline, the log on the result chain, good
examples, the expected results, mentor sessions and who has gone quiet."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from modell.cohorts.models import Participation
from modell.core.errors import RuleViolation
from modell.extensions import db
from modell.improvements import mentoring, pace, services
from modell.improvements.models import Indicator, IndicatorValue, LogEntry, MentorSession
from modell.meetings import services as meetings
from modell.organisations.models import Organisation
from tests.conftest import DEMO, login, post_form
from tests.test_meetings import START, group_meeting, start_demo

LATER = datetime(2019, 6, 1, 9, tzinfo=UTC)


def participation(cohort, name) -> Participation:
    return db.session.scalar(
        sa.select(Participation)
        .join(Organisation)
        .where(Participation.cohort_id == cohort.id, Organisation.name == name)
    )


def a_work(p, title="Jämställd hemtjänst"):
    return services.save_work(
        db.session,
        p,
        services.WorkData(title=title, core_activity="Hemtjänst", subgoals=["unpaid_care"]),
        now=START,
        user_id=None,
    )


def an_indicator(organisation_id, values):
    indicator = Indicator(
        organisation_id=organisation_id, name="Beviljade timmar", unit="timmar", created_at=START
    )
    for period, women, men in values:
        indicator.values.append(
            IndicatorValue(period=period, women=women, men=men, updated_at=START)
        )
    db.session.add(indicator)
    db.session.flush()
    return indicator


def test_a_step_4_claim_needs_an_indicator_with_values_for_women_and_men_over_time(app, ctx):
    cohort = start_demo()
    botkyrka = participation(cohort, "Botkyrka")
    work = a_work(botkyrka)
    claim = services.EntryData(date(2019, 5, 2), "Lika tid för kvinnor och män", 4)
    with pytest.raises(RuleViolation) as refused:
        services.save_entry(db.session, work, claim, now=LATER, user_id=None)
    assert refused.value.field == "indicator_id"
    one_year = an_indicator(botkyrka.organisation_id, [("2018", 30.0, 22.0)])
    claim.indicator_id = one_year.id
    with pytest.raises(RuleViolation):
        services.save_entry(db.session, work, claim, now=LATER, user_id=None)
    # Another organisation's indicator is not evidence either.
    other = an_indicator(participation(cohort, "Västerås").organisation_id, [])
    claim.indicator_id = other.id
    with pytest.raises(RuleViolation):
        services.save_entry(db.session, work, claim, now=LATER, user_id=None)
    two_years = an_indicator(botkyrka.organisation_id, [("2018", 30.0, 22.0), ("2019", 26.0, 25.0)])
    claim.indicator_id = two_years.id
    entry = services.save_entry(db.session, work, claim, now=LATER, user_id=None)
    assert entry.result_step == 4 and entry.indicator == two_years


def test_the_log_is_of_what_has_been_done_not_of_the_future(app, ctx):
    work = a_work(participation(start_demo(), "Botkyrka"))
    future = services.EntryData(date(2019, 6, 2), "Planerat", 1)
    with pytest.raises(RuleViolation) as refused:
        services.save_entry(db.session, work, future, now=LATER, user_id=None)
    assert refused.value.field == "entry_date"


def test_each_entry_shows_which_stretch_between_the_meetings_it_falls_in(app, ctx):
    cohort = start_demo()
    group = participation(cohort, "Botkyrka").group
    days = pace.benchmarking_dates(db.session, group)
    assert len(days) == 3
    assert pace.interval_label(days[0] - timedelta(days=1), days) == "Före träff 1"
    assert pace.interval_label(days[0], days) == "Mellan träff 1 och 2"
    assert pace.interval_label(days[1] + timedelta(days=1), days) == "Mellan träff 2 och 3"
    assert pace.interval_label(days[2] + timedelta(days=1), days) == "Efter träff 3"


def test_an_organisation_that_has_not_written_since_the_last_meeting_is_named(app, ctx):
    cohort = start_demo()
    botkyrka = participation(cohort, "Botkyrka")
    group = botkyrka.group
    first = group_meeting(cohort, "Botkyrka", 1)
    meeting_day = meetings.to_local(first.starts_at).date()
    assert pace.silent_since_last_meeting(db.session, group, today=meeting_day - timedelta(1)) == []
    silent = pace.silent_since_last_meeting(db.session, group, today=meeting_day)
    assert {p.organisation.name for p in silent} == {"Botkyrka", "Västerås"}
    work = a_work(botkyrka)
    moment = datetime.combine(meeting_day, time(16), tzinfo=UTC)
    services.save_entry(
        db.session,
        work,
        services.EntryData(meeting_day, "Efter träffen", 1),
        now=moment,
        user_id=None,
    )
    silent = pace.silent_since_last_meeting(db.session, group, today=meeting_day)
    assert [p.organisation.name for p in silent] == ["Västerås"]


def test_a_good_example_is_read_by_everyone_only_once_a_coordinator_approves_it(app):
    with app.app_context():
        cohort = start_demo()
        work = a_work(participation(cohort, "Botkyrka"))
        entry = services.save_entry(
            db.session,
            work,
            services.EntryData(date(2019, 5, 2), "Ny rutin", 3),
            now=LATER,
            user_id=None,
        )
        db.session.commit()
        entry_id = entry.id
    askersund = app.test_client()  # another group, another county: no access to the log
    login(askersund, DEMO["county_observer"])
    assert askersund.get(f"/arbete/logg/{entry_id}").status_code == 403

    participant = app.test_client()
    login(participant, DEMO["participant"])
    post_form(participant, f"/arbete/logg/{entry_id}/gott-exempel", {}, f"/arbete/logg/{entry_id}")
    with app.app_context():
        assert db.session.get(LogEntry, entry_id).good_example == "proposed"
    assert askersund.get(f"/arbete/logg/{entry_id}").status_code == 403
    # The participant cannot approve its own example.
    post_form(
        participant,
        f"/arbete/logg/{entry_id}/beslut",
        {"beslut": "godkann"},
        f"/arbete/logg/{entry_id}",
    )
    with app.app_context():
        assert db.session.get(LogEntry, entry_id).good_example == "proposed"

    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    assert "Ny rutin" not in coordinator.get("/arbete/goda-exempel").get_data(True)
    assert "Jämställd hemtjänst" in coordinator.get("/arbete/").get_data(True)  # to decide
    post_form(
        coordinator,
        f"/arbete/logg/{entry_id}/beslut",
        {"beslut": "godkann"},
        f"/arbete/logg/{entry_id}",
    )
    assert askersund.get(f"/arbete/logg/{entry_id}").status_code == 200
    found = askersund.get("/arbete/goda-exempel?aktivitet=hemtj%C3%A4nst&delmal=unpaid_care")
    assert "Ny rutin" in found.get_data(True)
    assert "Ny rutin" not in askersund.get("/arbete/goda-exempel?delmal=violence").get_data(True)


def test_the_county_observer_reads_its_county_and_writes_nothing(app):
    with app.app_context():
        cohort = start_demo()
        nordmaling = participation(cohort, "Nordmaling")
        db.session.commit()
        pid = nordmaling.id
    observer = app.test_client()
    login(observer, DEMO["county_observer"])
    assert observer.get(f"/arbete/{pid}").status_code == 200
    assert observer.get(f"/arbete/{pid}/utgangslage").status_code == 403
    response = post_form(observer, f"/arbete/{pid}/arbeten/ny", {"title": "X"}, f"/arbete/{pid}")
    assert response.status_code == 403


def test_the_baselines_of_a_group_are_shown_side_by_side(app):
    with app.app_context():
        cohort = start_demo()
        botkyrka, vasteras = participation(cohort, "Botkyrka"), participation(cohort, "Västerås")
        db.session.commit()
        ids = botkyrka.id, vasteras.id, botkyrka.group_id
    client = app.test_client()
    login(client, DEMO["participant"])
    response = post_form(
        client,
        f"/arbete/{ids[0]}/utgangslage",
        {
            "mandate_decision": "Kommunfullmäktige 2017",
            "mandate_date": "2017-05-01",
            "goals": "Jämställd service",
            "functions": ["politician", "manager", "strategist"],
        },
    )
    assert response.status_code == 302
    assert client.get(f"/arbete/{ids[1]}/utgangslage").status_code == 403  # not its own
    page = client.get(f"/arbete/grupp/{ids[2]}").get_data(True)
    assert "Kommunfullmäktige 2017" in page and "Västerås" in page
    mentor = app.test_client()
    login(mentor, DEMO["mentor"])
    assert "Jämställd service" in mentor.get(f"/arbete/grupp/{ids[2]}").get_data(True)


def test_the_mentor_logs_a_session_with_organisations_of_its_group_only(app, ctx):
    cohort = start_demo()
    botkyrka = participation(cohort, "Botkyrka")
    group = botkyrka.group
    uppsala = participation(cohort, "Uppsala")
    data = mentoring.MentorSessionData(
        held_on=date(2019, 5, 20), organisation_ids=[botkyrka.organisation_id], topics="Mål"
    )
    record = mentoring.save_mentor_session(
        db.session, group, uppsala, data, now=LATER, user_id=None
    )
    assert record.organisation_ids == [botkyrka.organisation_id]
    outsider = participation(cohort, "Askersund").organisation_id
    with pytest.raises(RuleViolation):
        mentoring.save_mentor_session(
            db.session,
            group,
            uppsala,
            mentoring.MentorSessionData(date(2019, 5, 20), [outsider], "Mål"),
            now=LATER,
            user_id=None,
        )
    with pytest.raises(RuleViolation):  # a benchmarking participant is not the mentor
        mentoring.save_mentor_session(db.session, group, botkyrka, data, now=LATER, user_id=None)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MentorSession)
            .where(MentorSession.group_id == group.id)
        )
        == 1
    )


def test_the_expected_results_are_tracked_by_the_entries_that_show_them(app, ctx):
    work = a_work(participation(start_demo(), "Botkyrka"))
    entry = services.save_entry(
        db.session,
        work,
        services.EntryData(date(2019, 5, 2), "Ny styrmodell", 2, expected_results=["governance"]),
        now=LATER,
        user_id=None,
    )
    shown = services.expected_results_of([work])
    assert shown["governance"] == [entry] and shown["core_activity"] == []
    assert services.highest_step([work]) == 2


def test_a_mentors_start_page_shows_its_groups_coming_meetings_and_who_is_quiet(app):
    with app.app_context():
        cohort = start_demo()
        first = group_meeting(cohort, "Botkyrka", 1)
        db.session.commit()
        title, starts = first.title, first.starts_at
    app.config["CLOCK"] = lambda: starts - timedelta(days=1)
    mentor = app.test_client()
    login(mentor, DEMO["mentor"])
    before = mentor.get("/arbete/").get_data(True)
    assert title in before and "Botkyrka, Västerås" in before
    app.config["CLOCK"] = lambda: starts + timedelta(days=1)
    mentor = app.test_client()  # two days later: a new login
    login(mentor, DEMO["mentor"])
    after = mentor.get("/arbete/").get_data(True)
    assert "Inget skrivet sedan senaste träffen: Botkyrka, Västerås" in after


def test_changing_an_approved_good_example_sends_it_back_for_a_new_decision(app, ctx):
    work = a_work(participation(start_demo(), "Botkyrka"))
    data = services.EntryData(date(2019, 5, 2), "Ny rutin för biståndsbedömning", 3)
    entry = services.save_entry(db.session, work, data, now=LATER, user_id=None)
    services.propose_good_example(db.session, entry, now=LATER, user_id=None)
    services.decide_good_example(db.session, entry, approve=True, now=LATER, user_id=None)
    assert entry.good_example == "approved"
    changed = services.EntryData(date(2019, 5, 2), "Något helt annat", 3)
    services.save_entry(db.session, work, changed, now=LATER, user_id=None, entry=entry)
    assert entry.good_example == "proposed" and entry.good_example_decided_at is None
    assert entry not in services.good_examples(db.session)


def test_a_concluded_cohorts_improvement_work_is_a_record_that_nobody_writes(app):
    """Concluded, the cohort's work is still read by the organisation and its group, but
    neither the organisation nor its mentor changes it any more."""
    from modell.auth.models import User
    from modell.cohorts import services as cohorts
    from modell.core.access import may_change, may_view
    from modell.core.types import utcnow
    from modell.improvements.models import Workspace

    with app.app_context():
        cohort = start_demo()
        botkyrka = participation(cohort, "Botkyrka")
        user = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))
        assert may_change(user, Workspace(botkyrka))
        cohorts.conclude(
            db.session,
            cohort,
            {p.id: cohorts.Outcome(True) for p in cohort.participations},
            now=utcnow(),
            user_id=None,
        )
        db.session.commit()
        assert may_view(user, Workspace(botkyrka)) and not may_change(user, Workspace(botkyrka))
        with pytest.raises(RuleViolation, match="avslutad"):
            from modell.improvements import indicators

            indicators.create_shared(
                db.session,
                botkyrka.group,
                indicators.IndicatorData(name="Sent", unit=None),
                now=utcnow(),
                user_id=None,
            )
        pid, gid = botkyrka.id, botkyrka.group_id
    client = app.test_client()
    login(client, DEMO["participant"])
    page = client.get(f"/arbete/{pid}")
    assert page.status_code == 200 and "Lägg till förbättringsarbete" not in page.get_data(True)
    refused = post_form(client, f"/arbete/{pid}/arbeten/ny", {"title": "Sent"}, f"/arbete/{pid}")
    assert refused.status_code == 403
    # Nor a shared indicator for the group, nor (for its mentor) a mentoring session.
    group_page = f"/arbete/grupp/{gid}/indikatorer"
    assert "Lägg till den gemensamma indikatorn" not in client.get(group_page).get_data(True)
    shared = post_form(client, group_page, {"name": "Sent", "population": "adults"})
    assert shared.status_code == 403
    mentor = app.test_client()
    login(mentor, DEMO["mentor"])
    assert "Logga ett mentorsmöte" not in mentor.get(f"/arbete/grupp/{gid}").get_data(True)
    assert mentor.get(f"/arbete/grupp/{gid}/mentorsmote").status_code == 403


def test_a_long_log_is_shown_newest_first_ten_at_a_time_each_work_paged_on_its_own(app):
    with app.app_context():
        p = participation(start_demo(), "Botkyrka")
        long, short = a_work(p), a_work(p, "Jämställd bygglovshandläggning")
        db.session.flush()
        for n in range(12):
            text = f"Steg nummer {n + 1:02d} i hemtjänsten"
            data = services.EntryData(date(2019, 3, 1) + timedelta(days=n), text, 1)
            services.save_entry(db.session, long, data, now=LATER, user_id=None)
        data = services.EntryData(date(2019, 3, 5), "Bygglov: första steget", 1)
        services.save_entry(db.session, short, data, now=LATER, user_id=None)
        db.session.commit()
        pid, long_id = p.id, long.id
    client = app.test_client()
    login(client, DEMO["coordinator"])
    first = client.get(f"/arbete/{pid}").get_data(True)
    shown = [f"Steg nummer {n:02d}" for n in range(1, 13) if f"Steg nummer {n:02d}" in first]
    assert shown == [f"Steg nummer {n:02d}" for n in range(3, 13)]
    assert first.index("Steg nummer 12") < first.index("Steg nummer 03")  # newest first
    assert "Bygglov: första steget" in first and "Sida 1 av 2" in first
    second = client.get(f"/arbete/{pid}?logg{long_id}=2").get_data(True)
    assert "Steg nummer 01" in second and "Steg nummer 02" in second
    assert "Steg nummer 03" not in second and "Bygglov: första steget" in second
    assert f'href="/arbete/{pid}?logg{long_id}=1#work-{long_id}"' in second  # its heading
