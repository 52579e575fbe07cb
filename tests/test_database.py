"""The schema comes from one Alembic history that matches the models, on both databases."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from modell import create_app
from modell.cohorts.models import Cohort, Group, Participation
from modell.core.types import utcnow
from modell.demo import COHORT_NAME, load_demo
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
    result = load_demo(db.session, now=utcnow(), development=True)
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
        assert len(hashes) == 5 and all(h is None for h in hashes)
    finally:
        drop()
