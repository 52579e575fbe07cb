"""Demo data: the 2019 cohort of Modellkommuner (from SKR's public list), a cohort running now
(modell/demo_living.py), the next cohort open for interest registration, and one user per role.

What `make run` shows is a living programme: 2019 concluded and recorded as history, one
cohort in its year, the next one taking registrations. The tests load the same data with
`living_programme=False`, which leaves 2019 forming (its real groups, not started) and adds no
open cohort, so that their scenarios can start, schedule and conclude it themselves.

Idempotent: running it again changes nothing. Passwords are set only in development;
elsewhere the demo users must choose one through "forgot your password".
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from modell.auth.models import User
from modell.auth.services import hash_password
from modell.cohorts import groups, registrations
from modell.cohorts import services as cohorts
from modell.cohorts.models import Cohort
from modell.core.timeutil import to_local
from modell.demo_living import add_core_people, give_feedback, living_cohort
from modell.organisations.models import Organisation, Person
from modell.organisations.services import find_reference

COHORT_NAME = "Modellkommuner 2019"
FEDERATION = "Förbundet Norrbottens kommuner"
DEMO_PASSWORD = "modell-demo-2019"  # nosec B105 # the published demo login, development only

# (benchmarking participants, mentors, {support organisation: the mentor it supports})
GROUPS_2019 = [
    (["Askersund", "Fagersta"], ["Hedemora"], {}),
    (["Botkyrka", "Västerås"], ["Uppsala"], {}),
    (["Nordmaling", "Örnsköldsvik", "Robertsfors"], ["Vännäs"], {"Umeå": "Vännäs"}),
    (["Trelleborg", "Olofström", "Östra Göinge"], ["Kristianstad"], {"Malmö": "Kristianstad"}),
    (["Södertälje", "Östersund"], ["Norrtälje"], {}),
    ([FEDERATION], ["Boden", "Luleå"], {"Piteå": "Luleå"}),
]

# email, name, role, organisation (municipality name) or None, function, county code
DEMO_USERS = [
    ("admin@example.org", "Ada Admin", "admin", None, None, None),
    ("samordnare@example.org", "Sara Samordnare", "coordinator", None, None, None),
    ("lansstyrelsen@example.org", "Lars Länsstyrelse", "county_observer", None, None, "24"),
    ("strateg@botkyrka.example.org", "Bodil Strateg", "member", "Botkyrka", "strategist", None),
    ("mentor@uppsala.example.org", "Ulf Mentor", "member", "Uppsala", "strategist", None),
    # in the running cohort (modell/demo_living.py)
    ("strateg@kalmar.example.org", "Karin Strateg", "member", "Kalmar", "strategist", None),
    ("mentor@jonkoping.example.org", "Jonas Mentor", "member", "Jönköping", "strategist", None),
]


@dataclass
class DemoResult:
    created_cohort: bool = False
    created_living: bool = False
    created_open: bool = False
    users: list[str] = field(default_factory=list)
    password: str | None = None


def _org(session: Session, name: str, now: datetime) -> Organisation:
    if name == FEDERATION:
        org = session.scalar(sa.select(Organisation).where(Organisation.name == FEDERATION))
        if org is None:
            luleå = find_reference(session, "municipality", "Luleå")
            org = Organisation(
                name=FEDERATION,
                kind="federation",
                county_code="25",
                seat="Luleå",
                latitude=luleå.latitude,
                longitude=luleå.longitude,
                created_at=now,
            )
            session.add(org)
            session.flush()
        return org
    return find_reference(session, "municipality", name)


def load_demo(
    session: Session, *, now: datetime, development: bool, living_programme: bool = True
) -> DemoResult:
    result = DemoResult(password=DEMO_PASSWORD if development else None)
    cohorts.load_shipped_templates(session, now=now)
    session.flush()
    if session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME)) is None:
        template = cohorts.current_template(session, "modellkommuner")
        cohort = cohorts.create_cohort(
            session,
            now=now,
            user_id=None,
            name=COHORT_NAME,
            template=template,
            registration_deadline=date(2018, 10, 30),
            starts_on=date(2019, 2, 7),
            ends_on=date(2019, 12, 31),
            description="Tredje omgången av Modellkommuner. Gemensam uppstart i Stockholm 7 februari 2019.",
        )
        cohort.status = "forming"
        for benchmarking, mentors, support in GROUPS_2019:
            orgs = [_org(session, n, now) for n in benchmarking]
            reason = (
                "Förbundet företräder flera kommuner i Norrbotten och deltar som en organisation."
                if benchmarking == [FEDERATION]
                else None
            )
            groups.create_group(
                session,
                now=now,
                user_id=None,
                cohort=cohort,
                benchmarking=orgs,
                mentors=[_org(session, n, now) for n in mentors],
                support={_org(session, s, now): _org(session, m, now) for s, m in support.items()},
                exception_reason=reason,
            )
            for name in benchmarking + mentors + list(support):
                add_core_people(session, _org(session, name, now), now)
        if living_programme:
            _conclude_as_history(session, cohort, now)
        result.created_cohort = True
    session.flush()
    result.created_living = living_cohort(session, now=now) is not None
    session.flush()
    if living_programme:
        result.created_open = open_cohort(session, now=now) is not None
        session.flush()

    for email, name, role, org_name, function, county in DEMO_USERS:
        if session.scalar(sa.select(User).where(User.email == email)):
            continue
        person = None
        if org_name:
            org = find_reference(session, "municipality", org_name)
            person = Person(
                organisation=org,
                name=name,
                email=email,
                function=function,
                title="Jämställdhetsstrateg",
                created_at=now,
            )
            session.add(person)
        session.add(
            User(
                email=email,
                name=name,
                role=role,
                person=person,
                county_code=county,
                password_hash=hash_password(DEMO_PASSWORD) if development else None,
                password_changed_at=now if development else None,
                created_at=now,
                active=True,
            )
        )
        result.users.append(email)
    session.flush()
    give_feedback(session, now=now)
    return result


def _conclude_as_history(session: Session, cohort: Cohort, now: datetime) -> None:
    """2019 as SKR would record it afterwards: history (no meetings, mail or reminders),
    every organisation completed, concluded at the end of its year."""
    cohort.is_history = True
    cohort.status = "running"
    session.flush()
    outcomes = {p.id: cohorts.Outcome(True) for p in cohort.participations}
    cohorts.conclude(session, cohort, outcomes, now=now, user_id=None)
    cohort.concluded_at = datetime.combine(cohort.ends_on, time(16), tzinfo=UTC)


OPEN_DESCRIPTION = (
    "Nästa omgång av Modellkoncept för jämställdhet: två år med webbkurs, gemensam uppstart, "
    "benchmarkingträffar och lärandeträffar. Anmäl intresse före sista anmälningsdag."
)
# Organisations that have registered interest in the open cohort, for SKR to decide.
OPEN_REGISTRATIONS = [
    ("Gävle", "Kommunfullmäktige"),
    ("Lund", "Kommunstyrelsen"),
]


def open_cohort(session: Session, *, now: datetime) -> Cohort | None:
    """The next cohort, open for interest registration (dated from today: the deadline in six
    weeks, the kickoff on a Thursday about three months ahead), with two registrations waiting
    for SKR's decision. None when it is there already."""
    if session.scalar(sa.select(Cohort).where(Cohort.description == OPEN_DESCRIPTION)):
        return None
    today = to_local(now).date()
    deadline = today + timedelta(weeks=6)
    start = deadline + timedelta(weeks=6)
    start += timedelta(days=(3 - start.weekday()) % 7)  # a Thursday
    cohort = cohorts.create_cohort(
        session,
        now=now,
        user_id=None,
        name=f"Modellkoncept för jämställdhet {start.year}–{start.year + 2}",
        template=cohorts.current_template(session, "modellkoncept"),
        registration_deadline=deadline,
        starts_on=start,
        ends_on=start.replace(year=start.year + 2) - timedelta(days=1),
        description=OPEN_DESCRIPTION,
    )
    session.flush()
    cohorts.change_status(session, cohort, "open", now=now, user_id=None)
    for number, (name, body) in enumerate(OPEN_REGISTRATIONS, start=1):
        org = find_reference(session, "municipality", name)
        add_core_people(session, org, now)
        session.flush()
        contacts = [
            registrations.Contact(function=p.function, name=p.name, email=p.email)
            for p in org.people
            if p.function in ("politician", "manager", "strategist")
        ]
        registrations.submit_registration(
            session,
            cohort,
            org,
            registrations.RegistrationData(
                decision_date=date(2021, 3, 1) + timedelta(days=40 * number),
                decision_body=body,
                decision_reference=None,
                cemr_signed=True,
                contacts=contacts,
                themes="Ekonomisk jämställdhet; Hälsa",
                core_activities="Hemtjänst, försörjningsstöd",
                mentor_commitment=True,
            ),
            now=now,
            user_id=None,
        )
    return cohort
