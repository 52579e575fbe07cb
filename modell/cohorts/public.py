"""Registering interest without an account: the public form, the e-mailed confirmation, and
the accounts the contacts are invited to once SKR accepts.

A registration from the public form counts only once its sender has confirmed the e-mail
address through the link mailed there (single-use, valid PENDING_HOURS). Until then it is a
`PendingRegistration`, apart from the real ones, so an unconfirmed registration blocks
nobody and a flood of them changes nothing SKR sees; the worker deletes the expired ones.
Confirmed, it is submitted like any other and SKR decides it like any other. Nobody gets an
account before SKR has accepted: then each named contact without one is invited
(`registration_accepted`, answered by auth).
"""

import hashlib
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from modell.cohorts import registrations as applications
from modell.cohorts.models import Cohort, InterestRegistration, PendingRegistration
from modell.core import audit, mail
from modell.core.errors import RuleViolation
from modell.core.links import external_url
from modell.core.text import strip_format_characters
from modell.core.timeutil import to_local
from modell.organisations.models import ORGANISATION_KINDS, Organisation, Person
from modell.organisations.services import organisations_called

PENDING_HOURS = 48
LINK_EXPIRED = _l(
    "This confirmation link has expired or been used. Send the interest registration again."
)


# How people write a name the register has without it: "Hudiksvalls kommun", "Region Gävleborg".
_SUFFIXES = (" kommun", "s kommun", " stad", "s stad", " län", "s län")


def registered_as(session: Session, name: str) -> Organisation | None:
    """The organisation of the register a typed name means, also written with "kommun",
    "stad" or "län" after it: a new name must not be one the register already has."""
    candidates = [name]
    lowered = name.casefold()
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix):
            candidates.append(name[: -len(suffix)])
    found = organisations_called(session, candidates)
    for candidate in candidates:
        if found[candidate]:
            return found[candidate][0]
    return None


def open_cohorts(session: Session, *, today: date) -> list[Cohort]:
    """The cohorts anyone may register interest in now."""
    cohorts = session.scalars(
        sa.select(Cohort).where(Cohort.status == "open").order_by(Cohort.starts_on, Cohort.id)
    ).all()
    return [c for c in cohorts if applications.registration_open(c, today)]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _data_to_json(data: applications.RegistrationData) -> dict:
    raw = asdict(data)
    raw["decision_date"] = data.decision_date.isoformat()
    return raw


def _data_from_json(raw: dict) -> applications.RegistrationData:
    values = dict(raw)
    values["decision_date"] = date.fromisoformat(values["decision_date"])
    values["contacts"] = [applications.Contact(**c) for c in values["contacts"]]
    return applications.RegistrationData(**values)


CHOOSE_ORGANISATION = _l("Choose your organisation, or name it and give its kind.")


def start(
    session: Session,
    cohort: Cohort,
    *,
    organisation: Organisation | None,
    new_name: str | None,
    new_kind: str | None,
    data: applications.RegistrationData,
    submitter_email: str,
    now: datetime,
) -> PendingRegistration:
    """Check the registration as if it were submitted, keep it as pending, and mail the
    confirmation link to the sender (only there: the link is theirs)."""
    today = to_local(now).date()
    if not applications.registration_open(cohort, today):
        raise RuleViolation(_l("The interest registration for this cohort is closed."))
    if organisation is None:
        new_name = strip_format_characters(new_name or "").strip()
        if not new_name or new_kind not in ORGANISATION_KINDS:
            raise RuleViolation(CHOOSE_ORGANISATION, field="organisation")
        if new_kind in ("municipality", "region"):
            raise RuleViolation(
                _l("Every municipality and region is in the list: choose yours there."),
                field="new_kind",
            )
        known = registered_as(session, new_name)
        if known is not None:
            raise RuleViolation(
                _l("%(name)s is in the register: choose it in the list.", name=known.name),
                field="new_name",
            )
    else:
        existing = applications.registration_for(session, cohort, organisation.id)
        if existing is not None and existing.status not in applications.REGISTERABLE_AGAIN:
            raise RuleViolation(
                _l(
                    "%(name)s has already registered interest in this cohort. Contact SKR if "
                    "something in it should change.",
                    name=organisation.name,
                ),
                field="organisation",
            )
    applications.check_registration_data(data, today)
    token = secrets.token_urlsafe(32)
    pending = PendingRegistration(
        cohort=cohort,
        organisation=organisation,
        new_name=None if organisation else new_name,
        new_kind=None if organisation else new_kind,
        submitter_email=submitter_email.strip(),
        data=_data_to_json(data),
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + timedelta(hours=PENDING_HOURS),
    )
    session.add(pending)
    link = external_url("cohorts.confirm_interest", token=token)
    name = organisation.name if organisation else new_name
    with force_locale("sv"):
        context = {"cohort": cohort, "organisation": name, "link": link, "hours": PENDING_HOURS}
        text = render_template("emails/confirm_interest.txt", **context)
        html = render_template("emails/confirm_interest.html", **context)
        # The subject names the cohort, not what a stranger typed.
        subject = str(_l("Confirm your interest registration for %(cohort)s", cohort=cohort.name))
    mail.queue(
        session,
        now=now,
        kind="confirmation",
        to=pending.submitter_email,
        subject=subject,
        text=text,
        html=html,
    )
    return pending


def pending_for(session: Session, token: str, *, now: datetime) -> PendingRegistration:
    pending = session.scalar(
        sa.select(PendingRegistration).where(PendingRegistration.token_hash == _hash(token))
    )
    if pending is None or pending.confirmed_at is not None or pending.expires_at <= now:
        raise RuleViolation(LINK_EXPIRED)
    return pending


def confirm(session: Session, token: str, *, now: datetime) -> InterestRegistration:
    """The sender confirmed: the registration is submitted (an organisation the register
    lacked is added) and the link stops working."""
    pending = pending_for(session, token, now=now)
    organisation = pending.organisation
    if organisation is None:
        # Proposed, not registered: it enters the register when SKR accepts (a stranger's
        # confirmed e-mail address adds nothing to SKR's list). The same name proposed again
        # is the same proposal.
        called = organisations_called(session, [pending.new_name], proposed=True)
        same = [o for o in called[pending.new_name] if o.kind == pending.new_kind]
        organisation = same[0] if same else None
        if organisation is None:
            organisation = Organisation(
                name=pending.new_name, kind=pending.new_kind, created_at=now, proposed=True
            )
            session.add(organisation)
            session.flush()
    registration = applications.submit_registration(
        session,
        pending.cohort,
        organisation,
        _data_from_json(pending.data),
        now=now,
        user_id=None,
        sent_at=pending.created_at,
    )
    # Claimed with a conditional UPDATE: two clicks on the same link submit once.
    done = session.execute(
        sa.update(PendingRegistration)
        .where(PendingRegistration.id == pending.id, PendingRegistration.confirmed_at.is_(None))
        .values(confirmed_at=now, registration_id=registration.id)
    )
    if done.rowcount != 1:
        raise RuleViolation(LINK_EXPIRED)
    audit.record(
        session,
        now=now,
        user_id=None,
        action="registration_confirmed",
        obj=registration,
        submitter=pending.submitter_email,
    )
    return registration


def _decision_mailed(registration: InterestRegistration, *, session: Session, now: datetime, **_):
    """SKR decided: whoever sent the registration is told, with the reason of a refusal. The
    public form's sender at the confirmed address, in Swedish; a member who sent it from the
    app, in their language. A coordinator who entered it on an organisation's behalf is not
    mailed about their own decision."""
    from modell.auth.models import User  # auth builds on cohorts' neighbours: import late

    pending = session.scalar(
        sa.select(PendingRegistration).where(PendingRegistration.registration_id == registration.id)
    )
    if pending is not None:
        to, locale = pending.submitter_email, "sv"
    else:
        sender = session.get(User, registration.submitted_by_id or 0)
        if sender is None or not sender.active or sender.role != "member":
            return
        to, locale = sender.email, sender.locale or "sv"
    accepted = registration.status == "accepted"
    with force_locale(locale):
        context = {"registration": registration, "accepted": accepted}
        text = render_template("emails/registration_decided.txt", **context)
        html = render_template("emails/registration_decided.html", **context)
        subject = (
            _l(
                "%(organisation)s is accepted to %(cohort)s",
                organisation=registration.organisation.name,
                cohort=registration.cohort.name,
            )
            if accepted
            else _l(
                "The interest registration for %(cohort)s is declined",
                cohort=registration.cohort.name,
            )
        )
        subject = str(subject)
    mail.queue(
        session, now=now, kind="registration_decided", to=to, subject=subject, text=text, html=html
    )


def connect_signals() -> None:
    applications.registration_decided.connect(_decision_mailed, weak=False)


def expire(session: Session, now: datetime, config) -> int:
    """Delete the pending registrations nobody confirmed in time (a worker job)."""
    return session.execute(
        sa.delete(PendingRegistration).where(
            PendingRegistration.confirmed_at.is_(None), PendingRegistration.expires_at <= now
        )
    ).rowcount


@dataclass
class Source:
    """Where a registration came from, for SKR deciding it: the public form's sender, and
    whether the organisation already has accounts (then check with them first)."""

    submitter: str | None
    confirmed_at: datetime | None
    accounts: int


def source_of(session: Session, registration: InterestRegistration) -> Source:
    from modell.auth.models import User  # auth builds on cohorts' neighbours: import late

    pending = session.scalar(
        sa.select(PendingRegistration).where(PendingRegistration.registration_id == registration.id)
    )
    accounts = session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .join(Person, User.person_id == Person.id)
        .where(Person.organisation_id == registration.organisation_id, User.active.is_(True))
    )
    return Source(
        submitter=pending.submitter_email if pending else None,
        confirmed_at=pending.confirmed_at if pending else None,
        accounts=accounts or 0,
    )
