"""The rules of cohorts: lifecycle, interest registration, groups, the mentor pool, the
suggested grouping and the titles. Data is built through the services the app uses."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from modell.cohorts import groups, programme, registrations, services
from modell.cohorts.models import (
    Cohort,
    InterestRegistration,
    OrganisationTitle,
    ProgrammeTemplate,
    ReminderRule,
)
from modell.core.errors import NeedsConfirmation, RuleViolation, StaleEdit
from modell.core.models import AuditEntry
from modell.demo import COHORT_NAME, GROUPS_2019
from modell.extensions import db
from modell.organisations.services import find_reference

AUTUMN_2019 = datetime(2019, 10, 1, 9, tzinfo=UTC)
SEPT_2018 = datetime(2018, 9, 24, 9, tzinfo=UTC)
DEC_2019 = datetime(2019, 12, 20, 9, tzinfo=UTC)
# The result conference was held: the cohorts here conclude before their period's last day.
EARLY = "Resultatkonferensen är hållen."


def org(name, kind="municipality"):
    return find_reference(db.session, kind, name)


def registration_data(**overrides):
    data = dict(
        decision_date=date(2018, 6, 1),
        decision_body="Kommunfullmäktige",
        decision_reference="KF 2018/12",
        cemr_signed=True,
        contacts=[
            registrations.Contact("politician", "Pia Politiker", "pia@example.org"),
            registrations.Contact("manager", "Max Chef", "max@example.org"),
            registrations.Contact("strategist", "Sam Strateg", "sam@example.org"),
        ],
        themes="Hemtjänst",
        mentor_commitment=True,
    )
    data.update(overrides)
    return registrations.RegistrationData(**data)


def new_cohort(
    name="Modellkommuner 2020",
    *,
    starts=date(2020, 2, 6),
    deadline=date(2019, 10, 30),
    family="modellkommuner",
    now=AUTUMN_2019,
):
    cohort = services.create_cohort(
        db.session,
        now=now,
        user_id=None,
        name=name,
        template=services.current_template(db.session, family),
        registration_deadline=deadline,
        starts_on=starts,
        ends_on=date(starts.year, 12, 31),
    )
    db.session.flush()
    return cohort


def open_cohort(**kwargs):
    cohort = new_cohort(**kwargs)
    services.change_status(
        db.session, cohort, "open", now=kwargs.get("now", AUTUMN_2019), user_id=None
    )
    return cohort


def accepted(cohort, *names, now=AUTUMN_2019):
    for name in names:
        r = registrations.submit_registration(
            db.session, cohort, org(name), registration_data(), now=now, user_id=None
        )
        registrations.decide_registration(
            db.session, r, accept=True, reason=None, now=now, user_id=None
        )
    db.session.flush()


def demo_2019():
    return db.session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME))


def conclude_all(cohort, now=DEC_2019):
    if cohort.status == "forming":
        services.change_status(db.session, cohort, "running", now=now, user_id=None)
    services.conclude(
        db.session,
        cohort,
        {p.id: services.Outcome(True) for p in cohort.participations if p.status == "active"},
        now=now,
        user_id=None,
        early_reason=EARLY,
    )
    db.session.flush()


# --- lifecycle ------------------------------------------------------------------------------


def test_a_cohort_moves_only_along_its_path_and_each_step_is_audited(app, ctx):
    cohort = new_cohort()
    with pytest.raises(RuleViolation):
        services.change_status(db.session, cohort, "running", now=AUTUMN_2019, user_id=None)
    services.change_status(db.session, cohort, "open", now=AUTUMN_2019, user_id=None)
    with pytest.raises(RuleViolation):
        services.change_status(db.session, cohort, "draft", now=AUTUMN_2019, user_id=None)
    services.change_status(db.session, cohort, "forming", now=AUTUMN_2019, user_id=None)
    db.session.commit()
    steps = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "cohort_status", AuditEntry.object_id == cohort.id)
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.details["before"], e.details["to"]) for e in steps] == [
        ("draft", "open"),
        ("open", "forming"),
    ]


def test_a_cohort_opens_only_with_a_deadline_that_has_not_passed(app, ctx):
    cohort = new_cohort(deadline=None)
    with pytest.raises(RuleViolation, match="sista dag"):
        services.change_status(db.session, cohort, "open", now=AUTUMN_2019, user_id=None)
    cohort.registration_deadline = date(2019, 9, 1)
    with pytest.raises(RuleViolation, match="passerat"):
        services.change_status(db.session, cohort, "open", now=AUTUMN_2019, user_id=None)
    assert cohort.status == "draft"


def test_a_cohort_starts_only_when_every_registration_is_decided_and_everyone_has_a_group(app, ctx):
    cohort = open_cohort()
    accepted(cohort, "Askersund", "Fagersta")
    registrations.submit_registration(
        db.session, cohort, org("Kumla"), registration_data(), now=AUTUMN_2019, user_id=None
    )
    services.change_status(db.session, cohort, "forming", now=AUTUMN_2019, user_id=None)
    with pytest.raises(RuleViolation) as error:
        services.change_status(db.session, cohort, "running", now=AUTUMN_2019, user_id=None)
    assert "obeslutade" in error.value.message and "Askersund, Fagersta" in error.value.message


def test_concluding_needs_a_reason_for_each_participant_that_did_not_complete(app, ctx):
    cohort = demo_2019()
    services.change_status(db.session, cohort, "running", now=DEC_2019, user_id=None)
    outcomes = {p.id: services.Outcome(True) for p in cohort.participations}
    fagersta = next(p for p in cohort.participations if p.organisation.name == "Fagersta")
    outcomes[fagersta.id] = services.Outcome(False, "")
    with pytest.raises(RuleViolation, match="Fagersta"):
        services.conclude(
            db.session, cohort, outcomes, now=DEC_2019, user_id=None, early_reason=EARLY
        )
    assert cohort.status == "running" and fagersta.status == "active"
    outcomes[fagersta.id] = services.Outcome(False, "Ny politisk ledning drog sig ur.")
    services.conclude(db.session, cohort, outcomes, now=DEC_2019, user_id=None, early_reason=EARLY)
    assert (fagersta.status, fagersta.status_reason) == (
        "not_completed",
        "Ny politisk ledning drog sig ur.",
    )
    assert cohort.status == "concluded"


# --- interest registration ------------------------------------------------------------------


def test_one_registration_per_organisation_and_cohort(app, ctx):
    cohort = open_cohort()
    registrations.submit_registration(
        db.session, cohort, org("Kumla"), registration_data(), now=AUTUMN_2019, user_id=None
    )
    with pytest.raises(RuleViolation, match="redan anmält"):
        registrations.submit_registration(
            db.session, cohort, org("Kumla"), registration_data(), now=AUTUMN_2019, user_id=None
        )
    db.session.commit()
    # The database refuses a second one too.
    db.session.add(
        InterestRegistration(
            cohort_id=cohort.id,
            organisation_id=org("Kumla").id,
            submitted_at=AUTUMN_2019,
            submitted_on=date(2019, 10, 1),
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_no_registration_after_the_deadline_in_the_service_and_in_the_database(app, ctx):
    cohort = open_cohort()
    late = datetime(2019, 10, 30, 23, 30, tzinfo=UTC)  # 31 October in Stockholm
    with pytest.raises(RuleViolation, match="stängd"):
        registrations.submit_registration(
            db.session, cohort, org("Kumla"), registration_data(), now=late, user_id=None
        )
    db.session.commit()
    db.session.add(
        InterestRegistration(
            cohort_id=cohort.id,
            organisation_id=org("Kumla").id,
            submitted_at=late,
            submitted_on=date(2019, 10, 31),
        )
    )
    with pytest.raises(sa.exc.IntegrityError, match="registration_closed"):
        db.session.commit()
    db.session.rollback()
    # On the deadline day itself it is still open.
    on_time = datetime(2019, 10, 30, 21, 0, tzinfo=UTC)  # 22:00 in Stockholm
    cohort = db.session.get(Cohort, cohort.id)
    registrations.submit_registration(
        db.session, cohort, org("Kumla"), registration_data(), now=on_time, user_id=None
    )
    db.session.commit()


def test_the_database_refuses_a_registration_to_a_cohort_that_is_not_open(app, ctx):
    cohort = new_cohort()
    db.session.commit()
    db.session.add(
        InterestRegistration(
            cohort_id=cohort.id,
            organisation_id=org("Kumla").id,
            submitted_at=AUTUMN_2019,
            submitted_on=date(2019, 10, 1),
        )
    )
    with pytest.raises(sa.exc.IntegrityError, match="registration_closed"):
        db.session.commit()
    db.session.rollback()


def test_a_registration_names_politician_manager_and_strategist_and_commits_to_mentor(app, ctx):
    cohort = open_cohort()
    with pytest.raises(RuleViolation, match="politiker"):
        registrations.submit_registration(
            db.session,
            cohort,
            org("Kumla"),
            registration_data(contacts=[registrations.Contact("strategist", "S", "s@example.org")]),
            now=AUTUMN_2019,
            user_id=None,
        )
    with pytest.raises(RuleViolation) as error:
        registrations.submit_registration(
            db.session,
            cohort,
            org("Kumla"),
            registration_data(mentor_commitment=False),
            now=AUTUMN_2019,
            user_id=None,
        )
    assert error.value.field == "mentor_commitment"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InterestRegistration)) == 0


def test_an_open_undecided_registration_can_be_corrected_or_withdrawn_and_made_again(app, ctx):
    cohort = open_cohort()
    r = registrations.submit_registration(
        db.session, cohort, org("Kumla"), registration_data(), now=AUTUMN_2019, user_id=None
    )
    registrations.update_registration(
        db.session, r, registration_data(themes="Äldreomsorg"), now=AUTUMN_2019, user_id=None
    )
    assert r.themes == "Äldreomsorg" and len(r.contacts) == 3
    registrations.withdraw_registration(db.session, r, now=AUTUMN_2019, user_id=None)
    assert r.status == "withdrawn"
    again = registrations.submit_registration(
        db.session, cohort, org("Kumla"), registration_data(), now=AUTUMN_2019, user_id=None
    )
    assert again.id == r.id and again.status == "submitted"
    late = datetime(2019, 11, 2, 9, tzinfo=UTC)
    with pytest.raises(RuleViolation, match="bara ändras"):
        registrations.update_registration(
            db.session, r, registration_data(themes="Sent"), now=late, user_id=None
        )
    registrations.decide_registration(
        db.session, r, accept=True, reason=None, now=AUTUMN_2019, user_id=None
    )
    with pytest.raises(RuleViolation, match="bara ändras"):
        registrations.withdraw_registration(db.session, r, now=AUTUMN_2019, user_id=None)


def test_declining_needs_a_reason_and_accepting_makes_a_participant(app, ctx):
    cohort = open_cohort()
    r = registrations.submit_registration(
        db.session, cohort, org("Kumla"), registration_data(), now=AUTUMN_2019, user_id=None
    )
    with pytest.raises(RuleViolation) as error:
        registrations.decide_registration(
            db.session, r, accept=False, reason=" ", now=AUTUMN_2019, user_id=None
        )
    assert error.value.field == "reason" and r.status == "submitted"
    p = registrations.decide_registration(
        db.session, r, accept=True, reason=None, now=AUTUMN_2019, user_id=None
    )
    assert (p.role, p.organisation_id, p.mentor_commitment) == (
        "benchmarking",
        org("Kumla").id,
        True,
    )
    with pytest.raises(RuleViolation):
        registrations.decide_registration(
            db.session, r, accept=False, reason="x", now=AUTUMN_2019, user_id=None
        )


# --- groups ---------------------------------------------------------------------------------


def forming_2020():
    conclude_all(demo_2019())
    cohort = open_cohort()
    accepted(cohort, "Kumla", "Hallsberg", "Lekeberg", "Gnesta", "Trosa")
    services.change_status(db.session, cohort, "forming", now=AUTUMN_2019, user_id=None)
    return cohort


def test_a_group_of_one_or_an_unqualified_mentor_needs_a_confirmed_reason(app, ctx):
    cohort = forming_2020()
    draft = groups.GroupDraft([org("Kumla")], [org("Örebro")])
    with pytest.raises(NeedsConfirmation) as error:
        groups.save_group(db.session, cohort, draft, now=AUTUMN_2019, user_id=None)
    assert len(error.value.warnings) == 2
    assert "1 benchmarkingdeltagare" in error.value.warnings[0]
    assert "Örebro har inte fullföljt" in error.value.warnings[1]
    assert org("Kumla").id not in {p.organisation_id for p in cohort.participations if p.group_id}
    group = groups.save_group(
        db.session,
        cohort,
        draft,
        now=AUTUMN_2019,
        user_id=None,
        exception_reason="Örebro har lång erfarenhet av arbetet.",
    )
    assert group.exception_reason == "Örebro har lång erfarenhet av arbetet."
    # A mentor that completed 2019 as benchmarking participant needs no reason.
    ok = groups.save_group(
        db.session,
        cohort,
        groups.GroupDraft([org("Hallsberg"), org("Lekeberg")], [org("Askersund")]),
        now=AUTUMN_2019,
        user_id=None,
    )
    assert ok.exception_reason is None


def test_an_organisation_is_in_at_most_one_group_per_cohort(app, ctx):
    cohort = forming_2020()
    groups.save_group(
        db.session,
        cohort,
        groups.GroupDraft([org("Kumla"), org("Hallsberg")], [org("Askersund")]),
        now=AUTUMN_2019,
        user_id=None,
    )
    with pytest.raises(RuleViolation, match="annan grupp"):
        groups.save_group(
            db.session,
            cohort,
            groups.GroupDraft([org("Kumla"), org("Lekeberg")]),
            now=AUTUMN_2019,
            user_id=None,
        )
    with pytest.raises(RuleViolation, match="annan plats"):
        groups.save_group(
            db.session,
            cohort,
            groups.GroupDraft([org("Gnesta"), org("Trosa")], [org("Askersund")]),
            now=AUTUMN_2019,
            user_id=None,
        )
    with pytest.raises(RuleViolation, match="inte en antagen"):
        groups.save_group(
            db.session,
            cohort,
            groups.GroupDraft([org("Gnesta"), org("Nyköping")]),
            now=AUTUMN_2019,
            user_id=None,
        )


def test_a_support_organisation_supports_a_mentor_of_its_group(app, ctx):
    cohort = forming_2020()
    draft = groups.GroupDraft(
        [org("Gnesta"), org("Trosa")], [org("Botkyrka")], [(org("Södertälje"), org("Västerås"))]
    )
    with pytest.raises(RuleViolation) as error:
        groups.save_group(db.session, cohort, draft, now=AUTUMN_2019, user_id=None)
    assert error.value.field == "supported_mentor"
    draft.support = [(org("Södertälje"), org("Botkyrka"))]
    group = groups.save_group(db.session, cohort, draft, now=AUTUMN_2019, user_id=None)
    (support,) = group.members("support")
    assert support.supports.organisation.name == "Botkyrka"


def test_two_coordinators_editing_one_group_do_not_overwrite_each_other(app, ctx):
    cohort = forming_2020()
    group = groups.save_group(
        db.session,
        cohort,
        groups.GroupDraft([org("Kumla"), org("Hallsberg")]),
        now=AUTUMN_2019,
        user_id=None,
    )
    db.session.commit()
    seen = group.version
    groups.save_group(
        db.session,
        cohort,
        groups.GroupDraft([org("Kumla"), org("Hallsberg")], [org("Askersund")]),
        group=group,
        expected_version=seen,
        now=AUTUMN_2019,
        user_id=None,
    )
    db.session.commit()
    with pytest.raises(StaleEdit):
        groups.save_group(
            db.session,
            cohort,
            groups.GroupDraft([org("Kumla"), org("Lekeberg")]),
            group=group,
            expected_version=seen,
            now=AUTUMN_2019,
            user_id=None,
        )
    assert [p.organisation.name for p in group.members("mentor")] == ["Askersund"]


def test_removing_a_member_returns_a_participant_to_the_ungrouped_and_drops_a_mentor(app, ctx):
    cohort = forming_2020()
    group = groups.save_group(
        db.session,
        cohort,
        groups.GroupDraft([org("Kumla"), org("Hallsberg"), org("Lekeberg")], [org("Askersund")]),
        now=AUTUMN_2019,
        user_id=None,
    )
    groups.save_group(
        db.session,
        cohort,
        groups.GroupDraft([org("Kumla"), org("Hallsberg")]),
        group=group,
        expected_version=group.version,
        now=AUTUMN_2019,
        user_id=None,
    )
    db.session.flush()
    lekeberg = next(p for p in cohort.participations if p.organisation.name == "Lekeberg")
    assert lekeberg.group_id is None
    assert "Askersund" not in {p.organisation.name for p in cohort.participations}


# --- mentor pool, suggestion, titles -----------------------------------------------------------


def test_the_mentor_pool_lists_graduates_that_committed_and_marks_those_that_mentored(app, ctx):
    cohort_2019 = demo_2019()
    fagersta = next(p for p in cohort_2019.participations if p.organisation.name == "Fagersta")
    fagersta.mentor_commitment = False
    conclude_all(cohort_2019)
    cohort = open_cohort()
    pool = {c.organisation.name: c for c in groups.mentor_pool(db.session, cohort)}
    benchmarking_2019 = {n for b, _m, _s in GROUPS_2019 for n in b}
    assert set(pool) == benchmarking_2019 - {"Fagersta"}
    assert all(c.completed.id == cohort_2019.id and c.mentored == [] for c in pool.values())

    # Askersund mentors in 2020; in 2021 it is marked as having mentored.
    accepted(cohort, "Kumla", "Hallsberg")
    services.change_status(db.session, cohort, "forming", now=AUTUMN_2019, user_id=None)
    groups.save_group(
        db.session,
        cohort,
        groups.GroupDraft([org("Kumla"), org("Hallsberg")], [org("Askersund")]),
        now=AUTUMN_2019,
        user_id=None,
    )
    later = new_cohort("Modellkommuner 2021", starts=date(2021, 2, 4), deadline=date(2020, 10, 30))
    pool = {c.organisation.name: c for c in groups.mentor_pool(db.session, later)}
    assert [c.name for c in pool["Askersund"].mentored] == ["Modellkommuner 2020"]
    # Not yet graduates of 2020: it has not been concluded.
    assert "Kumla" not in pool


def test_the_suggested_grouping_of_the_2019_registrations_travels_no_more_than_skr_did(app, ctx):
    actual = demo_2019()
    skr_km = groups.cohort_travel_km(actual)
    # The same organisations as registrations of a fresh cohort, with 2019's mentors as pool.
    earlier = new_cohort(
        "Modellkommuner 2018",
        starts=date(2018, 2, 1),
        deadline=date(2017, 10, 30),
        now=datetime(2017, 9, 1, tzinfo=UTC),
    )
    services.change_status(
        db.session, earlier, "open", now=datetime(2017, 9, 1, tzinfo=UTC), user_id=None
    )
    services.change_status(
        db.session, earlier, "forming", now=datetime(2017, 9, 1, tzinfo=UTC), user_id=None
    )
    mentors = [org(m) for _b, ms, _s in GROUPS_2019 for m in ms]
    for i in range(0, len(mentors), 2):
        groups.create_group(
            db.session, now=SEPT_2018, user_id=None, cohort=earlier, benchmarking=mentors[i : i + 2]
        )
    conclude_all(earlier, now=datetime(2018, 12, 1, tzinfo=UTC))

    cohort = new_cohort(
        "Omgång med 2019 års anmälningar",
        starts=date(2019, 2, 7),
        deadline=date(2018, 10, 30),
        now=SEPT_2018,
    )
    services.change_status(db.session, cohort, "open", now=SEPT_2018, user_id=None)
    benchmarking = [p.organisation for g in actual.groups for p in g.members("benchmarking")]
    for o in benchmarking:
        r = registrations.submit_registration(
            db.session, cohort, o, registration_data(), now=SEPT_2018, user_id=None
        )
        registrations.decide_registration(
            db.session, r, accept=True, reason=None, now=SEPT_2018, user_id=None
        )
    services.change_status(db.session, cohort, "forming", now=SEPT_2018, user_id=None)
    db.session.flush()

    suggestion = groups.suggest_groups(db.session, cohort)
    placed = [o.name for b, _m, _km in suggestion.groups() for o in b]
    assert sorted(placed) == sorted(o.name for o in benchmarking)
    assert all(2 <= len(b) <= 3 and len(m) == 1 for b, m, _km in suggestion.groups())
    assert suggestion.total_km <= skr_km
    # Accepting it forms the groups, and the formed groups travel what was reported.
    groups.accept_suggestion(db.session, cohort, suggestion, now=SEPT_2018, user_id=None)
    db.session.flush()
    assert groups.cohort_travel_km(cohort) == pytest.approx(suggestion.total_km)
    assert (
        services.transition_blockers(db.session, cohort, "running", today=date(2018, 12, 1)) == []
    )


def test_grouping_by_theme_keeps_participants_with_one_theme_together(app, ctx):
    cohort = open_cohort(family="modellregioner")
    for name, area in (
        ("Region Gotland", "Regional utveckling"),
        ("Region Värmland", "Regional utveckling"),
        ("Region Västerbotten", "Regional utveckling"),
        ("Region Gävleborg", "Folkhälsa"),
        ("Region Halland", "Folkhälsa"),
        ("Region Norrbotten", "Folkhälsa"),
    ):
        r = registrations.submit_registration(
            db.session,
            cohort,
            org(name, "region"),
            registration_data(area=area),
            now=AUTUMN_2019,
            user_id=None,
        )
        registrations.decide_registration(
            db.session, r, accept=True, reason=None, now=AUTUMN_2019, user_id=None
        )
    services.change_status(db.session, cohort, "forming", now=AUTUMN_2019, user_id=None)
    db.session.flush()
    by_theme = groups.suggest_groups(db.session, cohort, basis="theme")
    formed = sorted(sorted(o.name for o in b) for b, _m, _km in by_theme.groups())
    assert formed == [
        ["Region Gotland", "Region Värmland", "Region Västerbotten"],
        ["Region Gävleborg", "Region Halland", "Region Norrbotten"],
    ]


def test_mentoring_after_completing_gives_the_title_modellkommun(app, ctx):
    conclude_all(demo_2019())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrganisationTitle)) == 0
    cohort = open_cohort()
    accepted(cohort, "Kumla", "Hallsberg", "Gnesta", "Trosa")
    services.change_status(db.session, cohort, "forming", now=AUTUMN_2019, user_id=None)
    groups.save_group(
        db.session,
        cohort,
        groups.GroupDraft([org("Kumla"), org("Hallsberg")], [org("Askersund")]),
        now=AUTUMN_2019,
        user_id=None,
    )
    groups.save_group(
        db.session,
        cohort,
        groups.GroupDraft([org("Gnesta"), org("Trosa")], [org("Nyköping")]),
        now=AUTUMN_2019,
        user_id=None,
        exception_reason="Nyköping är ny.",
    )
    services.change_status(db.session, cohort, "running", now=AUTUMN_2019, user_id=None)
    now = datetime(2020, 12, 10, tzinfo=UTC)
    titles = services.conclude(
        db.session,
        cohort,
        {p.id: services.Outcome(True) for p in cohort.participations},
        now=now,
        user_id=None,
        early_reason=EARLY,
    )
    # Askersund completed 2019 and mentored 2020; Nyköping mentored without having completed.
    assert [(t.organisation_id, t.title) for t in titles] == [(org("Askersund").id, "modellkommun")]
    assert services.title_of(db.session, org("Nyköping").id) is None


# --- templates ------------------------------------------------------------------------------


def test_the_four_programme_models_are_shipped(app, ctx):
    names = {t.family: t for t in programme.templates(db.session)}
    assert set(names) == {"modellkommuner", "modellregioner", "modellkoncept", "modellmyndigheter"}
    assert len(names["modellkommuner"].steps) == 8
    assert [k.key for k in names["modellkommuner"].meeting_kinds] == [
        "kickoff",
        "benchmarking",
        "result_conference",
    ]
    koncept = {k.key: k for k in names["modellkoncept"].meeting_kinds}
    assert koncept["strategist_preparation"].prepares_key == "benchmarking"
    assert "learning" in koncept and names["modellkoncept"].duration_months == 24
    assert names["modellmyndigheter"].uses_mentors is False


def test_editing_a_template_in_use_makes_a_new_version_and_the_cohort_keeps_its_own(app, ctx):
    cohort = demo_2019()
    used = cohort.template
    steps_before = [s.title for s in used.steps]
    new = programme.save_step(
        db.session,
        used,
        position=2,
        title="Gemensam uppstart (digital)",
        description=None,
        checklist="Delta\nSätt datum",
        now=AUTUMN_2019,
        user_id=None,
    )
    db.session.commit()
    assert (new.family, new.version, new.is_current) == (used.family, used.version + 1, True)
    assert not used.is_current
    assert [s.title for s in cohort.template.steps] == steps_before
    assert new.steps[1].title == "Gemensam uppstart (digital)"
    assert [i.text for i in new.steps[1].checklist_items] == ["Delta", "Sätt datum"]
    # A template no cohort uses is changed in place.
    again = programme.save_step(
        db.session,
        new,
        position=1,
        title="Förberedelser",
        description=None,
        checklist="",
        now=AUTUMN_2019,
        user_id=None,
    )
    assert again.id == new.id


def test_a_copied_template_is_its_own_family_with_the_same_content(app, ctx):
    source = services.current_template(db.session, "modellkommuner")
    copy = programme.copy_template(
        db.session, source, name="Modellkommuner 2030", now=AUTUMN_2019, user_id=None
    )
    db.session.flush()
    assert copy.family != source.family and copy.copied_from_id == source.id
    a, b = programme.template_to_data(source), programme.template_to_data(copy)
    assert {k: v for k, v in a.items() if k not in ("family", "name")} == {
        k: v for k, v in b.items() if k not in ("family", "name")
    }
    programme.save_meeting_kind(
        db.session,
        copy,
        key=None,
        now=AUTUMN_2019,
        user_id=None,
        values={
            "key": "learning",
            "name": "Lärandeträff",
            "scope": "cohort",
            "count": 2,
            "offset_weeks": 20,
            "interval_weeks": 12,
            "duration_hours": 3.0,
            "prepares_key": None,
            "audience": None,
            "description": None,
        },
    )
    with pytest.raises(RuleViolation):
        programme.save_meeting_kind(
            db.session,
            copy,
            key=None,
            now=AUTUMN_2019,
            user_id=None,
            values={
                "key": "learning",
                "name": "Igen",
                "scope": "cohort",
                "count": 1,
                "offset_weeks": 0,
                "interval_weeks": 0,
                "duration_hours": 1.0,
                "prepares_key": None,
                "audience": None,
                "description": None,
            },
        )
    assert [k.key for k in copy.meeting_kinds][-1] == "learning"
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ProgrammeTemplate)
            .where(ProgrammeTemplate.family == "modellkommuner")
        )
        == 1
    )


def _kind_values(kind, **changes):
    names = ("key", "name", "scope", "count", "offset_weeks", "interval_weeks", "duration_hours")
    names += ("prepares_key", "audience", "description")
    return {n: getattr(kind, n) for n in names} | changes


def test_what_names_a_meeting_kind_follows_its_new_key_and_its_reminders_go_with_it(app, ctx):
    template = services.current_template(db.session, "modellkommuner")
    kind = next(k for k in template.meeting_kinds if k.key == "benchmarking")
    reminders = {r.key for r in template.reminder_rules if r.meeting_kind_key == kind.key}
    assert reminders, "the classic model reminds of its benchmarking meetings"
    template = programme.save_meeting_kind(
        db.session,
        template,
        key=None,
        values=_kind_values(kind, key="prep", name="Förmöte", prepares_key="benchmarking"),
        now=AUTUMN_2019,
        user_id=None,
    )
    kind = next(k for k in template.meeting_kinds if k.key == "benchmarking")
    renamed = programme.save_meeting_kind(
        db.session,
        template,
        key="benchmarking",
        values=_kind_values(kind, key="traff"),
        now=AUTUMN_2019,
        user_id=None,
    )
    db.session.flush()
    assert {r.key for r in renamed.reminder_rules if r.meeting_kind_key == "traff"} == reminders
    assert next(k for k in renamed.meeting_kinds if k.key == "prep").prepares_key == "traff"

    programme.delete_meeting_kind(db.session, renamed, key="prep", now=AUTUMN_2019, user_id=None)
    gone = programme.delete_meeting_kind(
        db.session, renamed, key="traff", now=AUTUMN_2019, user_id=None
    )
    db.session.flush()
    assert "traff" not in {k.key for k in gone.meeting_kinds}
    assert not {r.key for r in gone.reminder_rules} & reminders
    left = sa.select(sa.func.count()).select_from(ReminderRule)
    left = left.where(ReminderRule.template_id == gone.id, ReminderRule.meeting_kind_key == "traff")
    assert db.session.scalar(left) == 0
