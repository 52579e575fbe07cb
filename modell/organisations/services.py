"""Reference data (SCB's municipalities and regions) and organisation queries."""

import csv
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import Session

from modell.core import audit
from modell.organisations.models import County, Organisation, Person


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _rows(filename: str) -> list[dict]:
    text = resources.files("modell.data").joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_reference(session: Session, *, now: datetime) -> LoadResult:
    """Load the 21 counties, 290 municipalities and 21 regions. Idempotent: a second run
    changes nothing; a corrected row in the shipped files updates the stored one."""
    result = LoadResult()
    kommuner, regioner = _rows("kommuner.csv"), _rows("regioner.csv")

    counties = {c.code: c for c in session.scalars(sa.select(County))}
    for row in regioner:
        county = counties.get(row["lanskod"])
        if county is None:
            session.add(County(code=row["lanskod"], name=row["lan"]))
        elif county.name != row["lan"]:
            county.name = row["lan"]
    session.flush()

    existing = {
        (o.kind, o.scb_code): o
        for o in session.scalars(sa.select(Organisation).where(Organisation.is_reference))
    }
    wanted = [
        ("municipality", r["kod"], r["namn"], r["lanskod"], r["namn"], r["lat"], r["lon"])
        for r in kommuner
    ] + [
        ("region", r["lanskod"], r["namn"], r["lanskod"], r["saete"], r["lat"], r["lon"])
        for r in regioner
    ]
    for kind, code, name, county_code, seat, lat, lon in wanted:
        values = {
            "name": name,
            "county_code": county_code,
            "seat": seat,
            "latitude": float(lat),
            "longitude": float(lon),
        }
        org = existing.get((kind, code))
        if org is None:
            session.add(
                Organisation(kind=kind, scb_code=code, is_reference=True, created_at=now, **values)
            )
            result.created += 1
        elif any(getattr(org, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(org, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def find_reference(session: Session, kind: str, name: str) -> Organisation:
    """A reference organisation by its name, e.g. ("municipality", "Botkyrka")."""
    org = session.scalar(
        sa.select(Organisation).where(
            Organisation.kind == kind, Organisation.name == name, Organisation.is_reference
        )
    )
    if org is None:
        raise LookupError(f"no {kind} named {name!r} in the reference data")
    return org


# --- organisations the coordinators add, and their contacts -----------------------------------

REFERENCE_FIELDS = ("name", "kind", "scb_code", "county_code", "seat", "latitude", "longitude")


def save_organisation(
    session: Session,
    organisation: Organisation | None,
    *,
    now: datetime,
    user_id: int | None,
    seat: Organisation | None = None,
    **values,
) -> Organisation:
    """Add an organisation that is not in SCB's lists (an agency, a federation, a district
    administration) or change one. A reference row keeps its name, SCB code, county and seat:
    only its contact details change."""
    if organisation is None:
        organisation = Organisation(created_at=now, is_reference=False)
        session.add(organisation)
    if organisation.is_reference:
        values = {k: v for k, v in values.items() if k not in REFERENCE_FIELDS}
    elif seat is not None:
        values.update(
            seat=seat.name,
            latitude=seat.latitude,
            longitude=seat.longitude,
            county_code=values.get("county_code") or seat.county_code,
        )
    for key, value in values.items():
        setattr(organisation, key, value)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="organisation_saved",
        obj=organisation,
        fields=sorted(values),
    )
    return organisation


def save_person(
    session: Session,
    organisation: Organisation,
    person: Person | None,
    *,
    now: datetime,
    user_id: int | None,
    **values,
) -> Person:
    if person is None:
        person = Person(organisation=organisation, created_at=now)
        session.add(person)
    for key, value in values.items():
        setattr(person, key, value)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="person_saved",
        obj=person,
        organisation_id=organisation.id,
    )
    return person


def find_by_names(session: Session, names: list[str]) -> tuple[list[Organisation], list[str]]:
    """Organisations by name as typed (any case), in the order given: (found, unknown)."""
    if not names:
        return [], []
    # Matched in Python: SQLite's lower() leaves Å, Ä and Ö as they are.
    ids = {
        name.casefold(): id_
        for id_, name in session.execute(sa.select(Organisation.id, Organisation.name))
    }
    wanted = [ids[n.casefold()] for n in names if n.casefold() in ids]
    rows = session.scalars(sa.select(Organisation).where(Organisation.id.in_(wanted))).all()
    by_name = {o.name.casefold(): o for o in rows}
    found = [by_name[n.casefold()] for n in names if n.casefold() in by_name]
    return found, [n for n in names if n.casefold() not in by_name]
