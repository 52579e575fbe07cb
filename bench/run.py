"""Benchmarks: how the suggested grouping and the busiest pages scale with a large cohort.

Builds, in a temporary SQLite database, the demo data plus a large cohort (every
municipality of five counties registering, the 2019 graduates as mentor pool), then
reports the median of several runs. Times are noisy on shared machines: read the ratios
(a page against /healthz in the same run), not the milliseconds.

    make bench            # or: .venv/bin/python -m bench.run
"""

import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from modell import create_app
from modell.cohorts import groups, registrations
from modell.cohorts import services as cohorts
from modell.cohorts.models import Cohort
from modell.demo import COHORT_NAME, DEMO_PASSWORD, load_demo
from modell.extensions import db
from modell.organisations.models import Organisation
from modell.organisations.services import load_reference

NOW = datetime(2019, 9, 24, 9, tzinfo=UTC)
RUNS = 7


def median_ms(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def build(app) -> tuple[int, int]:
    with app.app_context():
        upgrade()
        load_reference(db.session, now=NOW)
        load_demo(db.session, now=NOW, development=True, living_programme=False)
        demo = db.session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME))
        cohorts.change_status(db.session, demo, "running", now=NOW, user_id=None)
        cohorts.conclude(
            db.session,
            demo,
            {p.id: cohorts.Outcome(True) for p in demo.participations},
            now=NOW,
            user_id=None,
        )
        big = cohorts.create_cohort(
            db.session,
            now=NOW,
            user_id=None,
            name="Stor omgång",
            template=cohorts.current_template(db.session, "modellkommuner"),
            registration_deadline=date(2019, 10, 30),
            starts_on=date(2020, 2, 6),
        )
        db.session.flush()
        cohorts.change_status(db.session, big, "open", now=NOW, user_id=None)
        taken = {p.organisation_id for p in demo.participations}
        orgs = db.session.scalars(
            sa.select(Organisation).where(
                Organisation.kind == "municipality",
                Organisation.county_code.in_(("01", "03", "04", "05", "18")),
            )
        ).all()
        data = registrations.RegistrationData(
            decision_date=date(2019, 5, 1),
            decision_body="KF",
            decision_reference=None,
            cemr_signed=True,
            contacts=[
                registrations.Contact(f, f, f"{f}@example.org")
                for f in ("politician", "manager", "strategist")
            ],
            themes="Hemtjänst",
            mentor_commitment=True,
        )
        registered = 0
        for org in orgs:
            if org.id in taken:
                continue
            r = registrations.submit_registration(db.session, big, org, data, now=NOW, user_id=None)
            registrations.decide_registration(
                db.session, r, accept=True, reason=None, now=NOW, user_id=None
            )
            registered += 1
        cohorts.change_status(db.session, big, "forming", now=NOW, user_id=None)
        db.session.commit()
        return big.id, registered


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "MODELL_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
                "MODELL_INSTANCE_DIR": tmp,
                "RATELIMIT_ENABLED": False,
                "SESSION_COOKIE_SECURE": False,
            }
        )
        cohort_id, registered = build(app)
        with app.app_context():
            cohort = db.session.get(Cohort, cohort_id)
            pool = len(groups.mentor_pool(db.session, cohort))
            suggestion_ms = median_ms(lambda: groups.suggest_groups(db.session, cohort), 3)
            suggestion = groups.suggest_groups(db.session, cohort)
            groups.accept_suggestion(db.session, cohort, suggestion, now=NOW, user_id=None)
            cohorts.change_status(db.session, cohort, "running", now=NOW, user_id=None)
            db.session.commit()
        client = app.test_client()
        page = client.get("/konto/logga-in").get_data(True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/konto/logga-in",
            data={
                "email": "samordnare@example.org",
                "password": DEMO_PASSWORD,
                "csrf_token": token,
            },
        )
        baseline = median_ms(lambda: client.get("/healthz"))
        print(
            f"large cohort: {registered} participants, mentor pool {pool}, "
            f"{len(suggestion.groups())} suggested groups, {suggestion.total_km:,.0f} km"
        )
        print(f"suggested grouping: {suggestion_ms:.0f} ms (median of 3)")
        print(f"{'page':32} {'ms':>8} {'× /healthz':>11}")
        print(f"{'/healthz':32} {baseline:8.1f} {1:11.1f}")
        for url in (
            f"/omgangar/{cohort_id}",
            f"/moten/omgang/{cohort_id}",
            f"/omgangar/{cohort_id}/mentorer",
            "/organisationer/",
        ):
            assert client.get(url).status_code == 200, url
            ms = median_ms(lambda url=url: client.get(url))
            print(f"{url:32} {ms:8.1f} {ms / baseline:11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
