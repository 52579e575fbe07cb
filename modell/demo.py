"""Demo data: the 2019 cohort of Modellkommuner (from SKR's public list), a cohort running now
(modell/demo_living.py) and one user per role.

Idempotent: running it again changes nothing. Passwords are set only in development;
elsewhere the demo users must choose one through "forgot your password".
"""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from modell.auth.models import User
from modell.auth.services import hash_password
from modell.cohorts import groups
from modell.cohorts import services as cohorts
from modell.cohorts.models import Cohort
from modell.demo_living import add_core_people, living_cohort
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


def load_demo(session: Session, *, now: datetime, development: bool) -> DemoResult:
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
        result.created_cohort = True
    session.flush()
    result.created_living = living_cohort(session, now=now) is not None
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
    return result
