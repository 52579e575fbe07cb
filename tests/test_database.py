"""The schema comes from one Alembic history that matches the models, on both databases."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from modell import create_app
from modell.cohorts.models import Cohort, Group, Participation
from modell.core.types import utcnow
from modell.demo import COHORT_NAME, DEMO_USERS, load_demo
from modell.extensions import db
from modell.organisations.models import County, Organisation
from modell.organisations.services import load_reference
from tests.conftest import base_config


def test_migrations_build_an_empty_database_that_matches_the_models(backend, tmp_path):
    url, drop = backend.empty()
    try:
        app = create_app(base_config(url, MODELL_INSTANCE_DIR=str(tmp_path)))
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(
                    conn, opts={"compare_type": True, "render_as_batch": True}
                )
                diff = compare_metadata(context, db.metadata)
            db.engine.dispose()
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        drop()


def test_reference_data_has_every_municipality_region_and_county(app, ctx):
    kinds = dict(
        db.session.execute(
            sa.select(Organisation.kind, sa.func.count())
            .where(Organisation.is_reference)
            .group_by(Organisation.kind)
        ).all()
    )
    assert kinds == {"municipality": 290, "region": 21}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(County)) == 21
    stockholm = db.session.scalar(sa.select(Organisation).where(Organisation.scb_code == "0180"))
    assert (stockholm.name, stockholm.county_code) == ("Stockholm", "01")
    assert abs(stockholm.latitude - 59.33) < 0.05
    # Gotland is both a municipality (0980) and a region (09).
    gotland = db.session.scalars(
        sa.select(Organisation.kind).where(Organisation.county_code == "09")
    ).all()
    assert sorted(gotland) == ["municipality", "region"]


def test_loading_the_reference_data_again_changes_nothing(app, ctx):
    result = load_reference(db.session, now=utcnow())
    db.session.commit()
    assert (result.created, result.updated, result.unchanged) == (0, 0, 311)


def test_the_demo_is_the_2019_cohort_with_six_groups_and_loading_it_again_changes_nothing(app, ctx):
    def snapshot():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (Cohort, Group, Participation, Organisation)
        )

    before = snapshot()
    result = load_demo(db.session, now=utcnow(), development=True, living_programme=False)
    db.session.commit()
    assert not result.created_cohort and result.users == []
    assert snapshot() == before

    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME))
    assert len(cohort.groups) == 6
    kristianstad = next(g for g in cohort.groups if "Trelleborg" in g.name)
    assert [p.organisation.name for p in kristianstad.members("benchmarking")] == [
        "Olofström",
        "Trelleborg",
        "Östra Göinge",
    ]
    (support,) = kristianstad.members("support")
    assert support.organisation.name == "Malmö"
    assert support.supports.organisation.name == "Kristianstad"
    norrbotten = next(g for g in cohort.groups if "Förbundet" in g.name)
    assert norrbotten.members("benchmarking")[0].organisation.kind == "federation"
    assert sorted(p.organisation.name for p in norrbotten.members("mentor")) == ["Boden", "Luleå"]


def test_an_organisation_takes_part_at_most_once_per_cohort(app, ctx):
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME))
    botkyrka = db.session.scalar(sa.select(Organisation).where(Organisation.scb_code == "0127"))
    db.session.add(
        Participation(cohort=cohort, organisation=botkyrka, role="mentor", created_at=utcnow())
    )
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
    else:
        raise AssertionError("a second participation of Botkyrka in the same cohort was stored")


def test_demo_passwords_exist_only_in_development(backend, tmp_path):
    from modell.auth.models import User

    url, drop = backend.empty()
    try:
        app = create_app(base_config(url, MODELL_INSTANCE_DIR=str(tmp_path)))
        with app.app_context():
            upgrade()
            load_reference(db.session, now=utcnow())
            result = load_demo(db.session, now=utcnow(), development=False)
            db.session.commit()
            hashes = db.session.scalars(sa.select(User.password_hash)).all()
            db.engine.dispose()
        assert result.password is None
        assert len(hashes) == len(DEMO_USERS) and all(h is None for h in hashes)
    finally:
        drop()


def test_the_demo_also_holds_a_cohort_running_now_with_improvement_work_in_it(app, ctx):
    from modell.core.timeutil import to_local
    from modell.demo_living import LIVING_DESCRIPTION
    from modell.improvements.models import (
        Baseline,
        ImprovementWork,
        Indicator,
        LogEntry,
        MentorSession,
        SharedIndicator,
    )
    from modell.meetings.models import Meeting

    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.description == LIVING_DESCRIPTION))
    assert cohort.status == "running"
    today = to_local(utcnow()).date()
    meetings = db.session.scalars(sa.select(Meeting).where(Meeting.cohort_id == cohort.id)).all()
    days = [to_local(m.starts_at).date() for m in meetings if m.starts_at]
    assert any(d < today for d in days) and any(d > today for d in days)
    held = [m for m in meetings if m.status == "held"]
    assert held and all(any(i.attended for i in m.invitations) for m in held)

    participants = [p for p in cohort.participations if p.role == "benchmarking"]
    ids = [p.id for p in participants]
    baselines = db.session.scalars(sa.select(Baseline).where(Baseline.participation_id.in_(ids)))
    assert len(baselines.all()) == len(participants)
    entries = db.session.scalars(
        sa.select(LogEntry).where(LogEntry.work.has(ImprovementWork.participation_id.in_(ids)))
    ).all()
    assert {e.work.participation_id for e in entries} == set(ids)  # everyone has written
    assert {e.result_step for e in entries} == {1, 2, 3, 4}
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(LogEntry).where(LogEntry.good_example == "approved")
    )
    for group in cohort.groups:
        (shared,) = db.session.scalars(
            sa.select(SharedIndicator).where(SharedIndicator.group_id == group.id)
        ).all()
        own = db.session.scalars(sa.select(Indicator).where(Indicator.shared_id == shared.id)).all()
        assert len(own) == len(group.members("benchmarking"))
        assert all(len(i.values) >= 2 for i in own)
        assert db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MentorSession)
            .where(MentorSession.group_id == group.id)
        )


def test_the_demo_that_make_run_loads_is_a_living_programme(backend, tmp_path):
    """2019 concluded as history (no meetings, no mail), a cohort running now with meetings
    behind and ahead, and the next cohort open with registrations for SKR to decide; what
    the coordinator's start page puts first is the open cohort's registrations."""
    from modell.cohorts.models import InterestRegistration
    from modell.core.models import OutboxMessage
    from modell.core.timeutil import to_local
    from modell.demo import OPEN_DESCRIPTION
    from modell.demo_living import LIVING_DESCRIPTION
    from modell.meetings.models import Meeting
    from tests.conftest import login

    url, drop = backend.empty()
    try:
        app = create_app(base_config(url, MODELL_INSTANCE_DIR=str(tmp_path)))
        with app.app_context():
            upgrade()
            load_reference(db.session, now=utcnow())
            now = utcnow()
            result = load_demo(db.session, now=now, development=True)
            db.session.commit()
            assert result.created_cohort and result.created_living and result.created_open
            today = to_local(now).date()

            old = db.session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME))
            assert (old.status, old.is_history) == ("concluded", True)
            assert {p.status for p in old.participations} == {"completed"}
            assert not db.session.scalar(
                sa.select(sa.func.count()).select_from(Meeting).where(Meeting.cohort_id == old.id)
            )
            assert to_local(old.concluded_at).date() == old.ends_on

            living = db.session.scalar(
                sa.select(Cohort).where(Cohort.description == LIVING_DESCRIPTION)
            )
            days = [
                to_local(m.starts_at).date()
                for m in db.session.scalars(
                    sa.select(Meeting).where(Meeting.cohort_id == living.id)
                )
                if m.starts_at is not None
            ]
            assert living.status == "running"
            assert min(days) < today < max(days)

            upcoming = db.session.scalar(
                sa.select(Cohort).where(Cohort.description == OPEN_DESCRIPTION)
            )
            assert upcoming.status == "open" and upcoming.registration_deadline > today
            waiting = db.session.scalars(
                sa.select(InterestRegistration).where(InterestRegistration.cohort_id == upcoming.id)
            ).all()
            assert len(waiting) == 2 and {r.status for r in waiting} == {"submitted"}
            # Nothing about 2019 was ever written to the outbox.
            assert not db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.subject.contains("2019"))
            )

            again = load_demo(db.session, now=utcnow(), development=True)
            db.session.commit()
            assert not (again.created_cohort or again.created_living or again.created_open)
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)) == 3
            open_name, living_name = upcoming.name, living.name

        client = app.test_client()
        login(client, "samordnare@example.org")
        page = client.get("/").get_data(as_text=True)
        assert page.index(open_name) < page.index(living_name)
        assert "2 intresseanmälningar att besluta" in page
        assert client.get("/omgangar/oppna").get_data(as_text=True).count(open_name) >= 1
        with app.app_context():
            db.engine.dispose()
    finally:
        drop()
