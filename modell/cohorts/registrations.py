"""Interest registration: an organisation applies to a cohort with its political decision,
its three contacts, its themes and its commitment to mentor; SKR decides."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from modell.cohorts.models import (
    Cohort,
    InterestRegistration,
    Participation,
    RegistrationContact,
)
from modell.cohorts.services import DECIDING_STATES
from modell.core import audit
from modell.core.errors import (
    DATE_RANGE_MESSAGE,
    RuleViolation,
)
from modell.core.timeutil import in_range, to_local
from modell.organisations.models import CORE_FUNCTIONS, FUNCTIONS, Organisation

_signals = Namespace()
# Sent when SKR accepts a registration: auth invites the named contacts to accounts.
registration_accepted = _signals.signal("registration-accepted")
# Sent when SKR decides a registration either way: its sender is told (public).
registration_decided = _signals.signal("registration-decided")

# --- interest registration -----------------------------------------------------------------


@dataclass
class Contact:
    function: str
    name: str
    email: str
    phone: str | None = None


@dataclass
class RegistrationData:
    decision_date: date
    decision_body: str
    decision_reference: str | None
    cemr_signed: bool
    contacts: list[Contact]
    themes: str | None = None
    core_activities: str | None = None
    area: str | None = None
    mentor_commitment: bool = False
    fee_payer: str = "own"
    fee_payer_note: str | None = None


# A registration withdrawn, or declined (it may have been a stranger's, from the public form),
# does not stop a new one for the same organisation: the new one takes its place and SKR
# decides again.
REGISTERABLE_AGAIN = ("withdrawn", "declined")


def registration_open(cohort: Cohort, today: date) -> bool:
    return cohort.status == "open" and (
        cohort.registration_deadline is None or today <= cohort.registration_deadline
    )


def registration_for(
    session: Session, cohort: Cohort, organisation_id: int
) -> InterestRegistration | None:
    return session.scalar(
        sa.select(InterestRegistration).where(
            InterestRegistration.cohort_id == cohort.id,
            InterestRegistration.organisation_id == organisation_id,
        )
    )


def check_registration_data(data: RegistrationData, today: date) -> None:
    if data.mentor_commitment is not True:
        raise RuleViolation(
            _l("Taking part includes being a mentor in the next cohort: confirm the commitment."),
            field="mentor_commitment",
        )
    functions = {c.function for c in data.contacts}
    if any(f not in functions for f in CORE_FUNCTIONS):
        raise RuleViolation(_l("Name a politician, a manager and a strategist."))
    if any(c.function not in FUNCTIONS for c in data.contacts):
        raise RuleViolation(_l("Choose the extra contact's function."), field="extra_function")
    if not in_range(data.decision_date):
        raise RuleViolation(DATE_RANGE_MESSAGE, field="decision_date")
    if data.decision_date > today:
        raise RuleViolation(
            _l("The political decision has to be taken already: its date cannot be in the future."),
            field="decision_date",
        )


def _fill(registration: InterestRegistration, data: RegistrationData) -> None:
    for key in (
        "decision_date",
        "decision_body",
        "decision_reference",
        "cemr_signed",
        "themes",
        "core_activities",
        "area",
        "mentor_commitment",
        "fee_payer",
        "fee_payer_note",
    ):
        setattr(registration, key, getattr(data, key))
    registration.contacts = [
        RegistrationContact(function=c.function, name=c.name, email=c.email, phone=c.phone)
        for c in data.contacts
    ]


def submit_registration(
    session: Session,
    cohort: Cohort,
    organisation: Organisation,
    data: RegistrationData,
    *,
    now: datetime,
    user_id: int | None,
    sent_at: datetime | None = None,
) -> InterestRegistration:
    """An organisation's interest registration. One per organisation and cohort, only while
    the cohort is open and the deadline has not passed (the database checks both too).
    An organisation that withdrew may register again: its registration comes back.

    `sent_at`: when it was sent, if before `now` (the public form's, confirmed later): the
    deadline is that day's, so a registration sent on the last day and confirmed the next
    morning counts."""
    sent_at = sent_at or now
    today = to_local(sent_at).date()
    if not registration_open(cohort, today):
        raise RuleViolation(_l("The interest registration for this cohort is closed."))
    existing = registration_for(session, cohort, organisation.id)
    if existing is not None and existing.status not in REGISTERABLE_AGAIN:
        raise RuleViolation(
            _l("%(name)s has already registered interest in this cohort.", name=organisation.name),
            field="organisation",
        )
    check_registration_data(data, today)
    if existing is not None:
        registration = existing
        registration.status = "submitted"
        registration.submitted_at, registration.submitted_on = sent_at, today
        registration.submitted_by_id = user_id
        registration.decision_reason = registration.decided_at = None
        registration.decided_by_id = None
        _fill(registration, data)
    else:
        registration = InterestRegistration(
            cohort=cohort,
            organisation=organisation,
            submitted_by_id=user_id,
            submitted_at=sent_at,
            submitted_on=today,
            status="submitted",
        )
        _fill(registration, data)
        try:
            with session.begin_nested():
                session.add(registration)
                session.flush()
        except sa.exc.IntegrityError as error:
            # The database has the last word: a registration that raced past the deadline
            # or a second one for the same organisation.
            if "registration_closed" in str(error.orig):
                raise RuleViolation(
                    _l("The interest registration for this cohort is closed.")
                ) from None
            raise RuleViolation(
                _l(
                    "%(name)s has already registered interest in this cohort.",
                    name=organisation.name,
                ),
                field="organisation",
            ) from None
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="registration_submitted",
        obj=registration,
        cohort_id=cohort.id,
        organisation=organisation.name,
    )
    return registration


def registration_editable(registration: InterestRegistration, today: date) -> bool:
    """The organisation may correct or withdraw it: not decided, and still open."""
    return registration.status == "submitted" and registration_open(registration.cohort, today)


def registration_decidable(registration: InterestRegistration) -> bool:
    return registration.status == "submitted" and registration.cohort.status in DECIDING_STATES


def registered_organisation_ids(session: Session, cohort: Cohort) -> set[int]:
    """Organisations with a registration in the cohort (a withdrawn one may come again)."""
    return set(
        session.scalars(
            sa.select(InterestRegistration.organisation_id).where(
                InterestRegistration.cohort_id == cohort.id,
                InterestRegistration.status.not_in(REGISTERABLE_AGAIN),
            )
        )
    )


def _editable_registration(registration: InterestRegistration, now: datetime) -> None:
    if not registration_editable(registration, to_local(now).date()):
        raise RuleViolation(
            _l("The registration can be changed only while it is open and not yet decided.")
        )


def update_registration(
    session: Session,
    registration: InterestRegistration,
    data: RegistrationData,
    *,
    now: datetime,
    user_id: int | None,
) -> None:
    """The organisation corrects its registration before the deadline and the decision."""
    _editable_registration(registration, now)
    check_registration_data(data, to_local(now).date())
    _fill(registration, data)
    audit.record(session, now=now, user_id=user_id, action="registration_changed", obj=registration)


def withdraw_registration(
    session: Session, registration: InterestRegistration, *, now: datetime, user_id: int | None
) -> None:
    _editable_registration(registration, now)
    registration.status = "withdrawn"
    audit.record(
        session, now=now, user_id=user_id, action="registration_withdrawn", obj=registration
    )


def decide_registration(
    session: Session,
    registration: InterestRegistration,
    *,
    accept: bool,
    reason: str | None,
    now: datetime,
    user_id: int | None,
) -> Participation | None:
    """The coordinator accepts (the organisation becomes a benchmarking participant) or
    declines (a reason is required) a registration."""
    cohort = registration.cohort
    if cohort.status not in DECIDING_STATES:
        raise RuleViolation(_l("Registrations are decided while the cohort is open or forming."))
    if registration.status != "submitted":
        raise RuleViolation(_l("This registration has already been decided."))
    reason = (reason or "").strip() or None
    if not accept and not reason:
        raise RuleViolation(_l("Say why the registration is declined."), field="reason")
    registration.status = "accepted" if accept else "declined"
    registration.decision_reason = reason
    registration.decided_at = now
    registration.decided_by_id = user_id
    participation = None
    if accept:
        if session.scalar(
            sa.select(Participation).where(
                Participation.cohort_id == cohort.id,
                Participation.organisation_id == registration.organisation_id,
            )
        ):
            raise RuleViolation(_l("The organisation already takes part in this cohort."))
        if registration.organisation.proposed:  # named on the public form: now registered
            registration.organisation.proposed = False
        participation = Participation(
            cohort=cohort,
            organisation_id=registration.organisation_id,
            role="benchmarking",
            status="active",
            area=registration.area,
            mentor_commitment=registration.mentor_commitment,
            registration_id=registration.id,
            created_at=now,
        )
        session.add(participation)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="registration_decided",
        obj=registration,
        accepted=accept,
        reason=reason,
    )
    session.flush()
    if accept:
        registration_accepted.send(registration, session=session, now=now, user_id=user_id)
    registration_decided.send(registration, session=session, now=now, user_id=user_id)
    return participation


REGISTRATION_SORTS = ("name", "received", "county", "status")


def sift(
    registrations: list[InterestRegistration], *, q: str, status: str, sort: str
) -> list[InterestRegistration]:
    """The registrations a list shows: those whose organisation, county or themes contain the
    words searched for (any case), of one status, in the order asked for (by name, the
    Swedish way, unless said otherwise)."""
    from modell.core.text import swedish_key

    words = q.casefold().split()
    if words:
        registrations = [
            r
            for r in registrations
            if all(
                w in " ".join(
                    (r.organisation.name, r.organisation.county.name if r.organisation.county else "",
                     r.themes or "")
                ).casefold()
                for w in words
            )
        ]  # fmt: skip
    if status:
        registrations = [r for r in registrations if r.status == status]
    keys = {
        "received": lambda r: (r.submitted_at, r.id),
        "county": lambda r: (
            swedish_key(r.organisation.county.name if r.organisation.county else "~"),
            swedish_key(r.organisation.name),
        ),
        "status": lambda r: (r.status, swedish_key(r.organisation.name)),
    }
    return sorted(registrations, key=keys.get(sort, lambda r: swedish_key(r.organisation.name)))


def registrations_of(session: Session, cohort: Cohort) -> list[InterestRegistration]:
    return list(
        session.scalars(
            sa.select(InterestRegistration)
            .where(InterestRegistration.cohort_id == cohort.id)
            .options(
                selectinload(InterestRegistration.organisation),
                selectinload(InterestRegistration.contacts),
            )
            .join(Organisation, Organisation.id == InterestRegistration.organisation_id)
            .order_by(Organisation.name)
        )
    )
