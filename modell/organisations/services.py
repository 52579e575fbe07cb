"""Reference data (SCB's municipalities and regions) and organisation queries."""

import csv
import unicodedata
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from modell.core import audit
from modell.core.collation import swedish
from modell.core.errors import NeedsConfirmation
from modell.core.text import strip_format_characters
from modell.organisations.models import KIND_LABELS, County, Organisation, Person


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


# The organisations of the register: not those a stranger proposed and SKR has not accepted.
IN_REGISTER = Organisation.proposed.is_(False)

# --- organisations the coordinators add, and their contacts -----------------------------------

REFERENCE_FIELDS = ("name", "kind", "scb_code", "county_code", "seat", "latitude", "longitude")


def namesakes(
    session: Session, name: str, kind: str, *, other_than: int | None = None
) -> list[Organisation]:
    """Organisations of this kind with this name in any case: the ones a new organisation
    could be mistaken for."""
    # Compared in Python: SQLite's lower() leaves Å, Ä and Ö as they are.
    wanted = name_key(name)
    return [
        o
        for o in session.scalars(
            sa.select(Organisation)
            .where(Organisation.kind == kind, IN_REGISTER)
            .order_by(Organisation.id)
        )
        if name_key(o.name) == wanted and o.id != other_than
    ]


def name_key(name: str) -> str:
    """A name as a reader sees it: width and compatibility forms folded (NFKC, so "ＴＥＳＴ"
    is "TEST"), invisible characters (zero-width space, direction marks) dropped, spaces
    collapsed, any case. Letters from other scripts that look Latin are not folded."""
    visible = strip_format_characters(unicodedata.normalize("NFKC", name))
    return " ".join(visible.split()).casefold()


def _new_namesakes(
    session: Session, organisation: Organisation | None, values: dict
) -> list[Organisation]:
    """The organisations of the same kind whose name this save would give a second time."""
    name = values.get("name", organisation.name if organisation else None)
    kind = values.get("kind", organisation.kind if organisation else None)
    if not name or not kind:
        return []
    if organisation is not None and (name_key(name), kind) == (
        name_key(organisation.name),
        organisation.kind,
    ):
        return []  # neither renamed nor of another kind now: nothing new to confirm
    return namesakes(session, name, kind, other_than=organisation.id if organisation else None)


def save_organisation(
    session: Session,
    organisation: Organisation | None,
    *,
    now: datetime,
    user_id: int | None,
    seat: Organisation | None = None,
    confirm_duplicate: bool = False,
    **values,
) -> Organisation:
    """Add an organisation that is not in SCB's lists (an agency, a federation, a district
    administration) or change one. A reference row keeps its name, SCB code, county and seat:
    only its contact details change. A name that an organisation of the same kind already has
    needs `confirm_duplicate` (NeedsConfirmation otherwise, before anything is written)."""
    if organisation is not None and organisation.is_reference:
        values = {k: v for k, v in values.items() if k not in REFERENCE_FIELDS}
    others = _new_namesakes(session, organisation, values)
    if others and not confirm_duplicate:
        # Two organisations of one name are easy to mix up: a second one is added (or an
        # organisation renamed to the name of another) only when the user says it is another.
        raise NeedsConfirmation(
            [
                _l(
                    "An organisation of the same kind is already called %(name)s: %(labels)s.",
                    name=values.get("name") or organisation.name,
                    labels="; ".join(organisation_label(o) for o in others),
                )
            ],
            field="name",
        )
    if organisation is None:
        organisation = Organisation(created_at=now, is_reference=False)
        session.add(organisation)
    if not organisation.is_reference and seat is not None:
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
        **({"same_name_as": [o.id for o in others]} if others else {}),
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


# --- telling organisations apart wherever one is chosen --------------------------------------


def organisation_label(org: Organisation) -> str:
    """How an organisation is named wherever one is chosen: "Uppsala (Kommun, 0380)". Its kind
    and SCB code (else its number here) tell apart organisations that share a name, so one
    label names exactly one organisation. Takes anything with id, name, kind and scb_code."""
    code = org.scb_code or gettext("no. %(number)d", number=org.id)
    return f"{org.name} ({KIND_LABELS[org.kind]}, {code})"


def organisation_choices(session: Session, *criteria) -> list[tuple[int, str]]:
    """(id, label) of every organisation (or those meeting the criteria), by name."""
    rows = session.execute(
        sa.select(Organisation.id, Organisation.name, Organisation.kind, Organisation.scb_code)
        .where(IN_REGISTER, *criteria)
        .order_by(swedish(Organisation.name), Organisation.kind, Organisation.id)
    ).all()
    return [(row.id, organisation_label(row)) for row in rows]


def organisation_picks(session: Session, *criteria) -> list[tuple[int, str, str]]:
    """(id, label, county) of every organisation (or those meeting the criteria), in Swedish
    order: what an organisation input offers, the county shown beside each label."""
    counties = dict(session.execute(sa.select(County.code, County.name)).all())
    rows = session.execute(
        sa.select(
            Organisation.id,
            Organisation.name,
            Organisation.kind,
            Organisation.scb_code,
            Organisation.county_code,
        )
        .where(IN_REGISTER, *criteria)
        .order_by(swedish(Organisation.name), Organisation.kind, Organisation.id)
    ).all()
    return [(row.id, organisation_label(row), counties.get(row.county_code, "")) for row in rows]


def _label_languages() -> list[str | None]:
    """The user's language first, then every other language of the UI: a form opened in one
    language and sent after switching to the other still names the same organisations."""
    if not has_app_context():
        return [None]
    return [None, *current_app.config.get("LANGUAGES", [])]


SEVERAL_CALLED = _l("Several organisations have that name: choose the right one from the list.")
NONE_CALLED = _l("No organisation is called that: choose one from the list.")


def one_organisation_called(session: Session, text: str) -> tuple[Organisation | None, str]:
    """The one organisation a typed label or name means, or None and why not (for beside the
    field): no such name, or a name several organisations share."""
    found = organisations_called(session, [text])[text]
    if not found and text.strip().isdigit():  # an SCB code alone (its leading zero may be lost)
        code = text.strip()
        found = session.scalars(
            sa.select(Organisation).where(
                IN_REGISTER, Organisation.scb_code.in_({code, code.zfill(2), code.zfill(4)})
            )
        ).all()
    if len(found) == 1:
        return found[0], ""
    return None, str(SEVERAL_CALLED if found else NONE_CALLED)


def organisations_called(
    session: Session, texts: Iterable[str], *, proposed: bool = False
) -> dict[str, list[Organisation]]:
    """What each text typed or chosen in an organisation field can mean. A label from the list
    (in any case, in any language of the UI) means its one organisation; else a bare name, in
    any case, means every organisation of that name. None: unknown; several: the user must
    choose one, never this function. Organisations proposed on the public form and not yet
    accepted count only when `proposed` asks for them."""
    wanted = {t: name_key(t) for t in texts}
    if not wanted:
        return {}
    orgs = session.scalars(
        sa.select(Organisation)
        .where(sa.true() if proposed else IN_REGISTER)
        .order_by(Organisation.name, Organisation.kind, Organisation.id)
    ).all()
    by_label: dict[str, Organisation] = {}
    for language in _label_languages():
        with force_locale(language) if language else nullcontext():
            for org in orgs:
                by_label.setdefault(name_key(organisation_label(org)), org)
    by_name: dict[str, list[Organisation]] = {}
    for org in orgs:  # compared in Python: SQLite's lower() leaves Å, Ä and Ö as they are
        by_name.setdefault(name_key(org.name), []).append(org)
    return {
        text: [by_label[key]] if key in by_label else by_name.get(key, [])
        for text, key in wanted.items()
    }
