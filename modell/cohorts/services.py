"""The rules of cohorts: templates as data, the lifecycle, interest registrations, groups
with their mentors, the mentor pool, the suggested grouping and the titles."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from modell.cohorts import grouping
from modell.cohorts.models import (
    PARTICIPATION_ROLES,
    ChecklistItem,
    Cohort,
    Group,
    InterestRegistration,
    MeetingKind,
    OrganisationTitle,
    Participation,
    ProgrammeTemplate,
    RegistrationContact,
    ReminderRule,
    TemplateStep,
)
from modell.core import audit
from modell.core.access import may_view
from modell.core.errors import (
    DATE_RANGE_MESSAGE,
    NeedsConfirmation,
    RuleViolation,
    StaleEdit,
    check_version,
)
from modell.core.text import text_problem
from modell.core.timeutil import in_range, to_local
from modell.organisations.models import CORE_FUNCTIONS, FUNCTIONS, Organisation

REASON_MAX = 2000  # a reason a coordinator writes: a few sentences

# Sent when a cohort starts running; the meetings domain answers with the schedule.
_signals = Namespace()
cohort_started = _signals.signal("cohort-started")
# Sent when a group is formed or changed; a running cohort's new group gets its meetings.
group_saved = _signals.signal("group-saved")

SHIPPED_TEMPLATES = ("modellkommuner", "modellregioner", "modellkoncept", "modellmyndigheter")


def template_from_data(data: dict, *, now: datetime, version: int = 1) -> ProgrammeTemplate:
    """Build a template (steps, checklist items, meeting kinds, reminder rules) from plain data."""
    template = ProgrammeTemplate(
        family=data["family"],
        version=version,
        is_current=True,
        variant=data["variant"],
        name=data["name"],
        description=data.get("description"),
        duration_months=data.get("duration_months", 12),
        group_min=data.get("group_min", 2),
        group_max=data.get("group_max", 3),
        uses_mentors=data.get("uses_mentors", True),
        created_at=now,
    )
    for position, step in enumerate(data["steps"], start=1):
        template.steps.append(
            TemplateStep(
                position=position,
                title=step["title"],
                description=step.get("description"),
                checklist_items=[
                    ChecklistItem(position=i, text=text)
                    for i, text in enumerate(step.get("checklist", []), start=1)
                ],
            )
        )
    for position, kind in enumerate(data["meeting_kinds"], start=1):
        template.meeting_kinds.append(MeetingKind(position=position, **kind))
    for rule in data.get("reminder_rules", []):
        template.reminder_rules.append(ReminderRule(**rule))
    return template


def load_shipped_templates(session: Session, *, now: datetime) -> list[str]:
    """Add the templates shipped with the app that are not in the database yet."""
    added = []
    known = set(session.scalars(sa.select(ProgrammeTemplate.family).distinct()))
    session.flush()
    for family in SHIPPED_TEMPLATES:
        if family in known:
            continue
        path = resources.files("modell.data").joinpath("templates", f"{family}.json")
        session.add(template_from_data(json.loads(path.read_text(encoding="utf-8")), now=now))
        added.append(family)
    return added


def current_template(session: Session, family: str) -> ProgrammeTemplate:
    return session.scalars(
        sa.select(ProgrammeTemplate).where(
            ProgrammeTemplate.family == family, ProgrammeTemplate.is_current
        )
    ).one()


def create_cohort(
    session: Session,
    *,
    now: datetime,
    user_id: int | None,
    name: str,
    template: ProgrammeTemplate,
    registration_deadline: date | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    description: str | None = None,
    project_lead_id: int | None = None,
) -> Cohort:
    check_cohort_dates(
        registration_deadline=registration_deadline, starts_on=starts_on, ends_on=ends_on
    )
    cohort = Cohort(
        project_lead_id=project_lead_id,
        name=name,
        template=template,
        status="draft",
        registration_deadline=registration_deadline,
        starts_on=starts_on,
        ends_on=ends_on,
        description=description,
        created_at=now,
    )
    session.add(cohort)
    audit.record(session, now=now, user_id=user_id, action="cohort_created", obj=cohort, name=name)
    return cohort


def check_cohort_dates(
    *, registration_deadline: date | None, starts_on: date | None, ends_on: date | None
) -> None:
    """Every date of a cohort lies in the years the app keeps (2000–2100), and it ends after
    it starts. Checked here as well as in the form: the CLI and imports come this way too."""
    for name, day in (
        ("registration_deadline", registration_deadline),
        ("starts_on", starts_on),
        ("ends_on", ends_on),
    ):
        if not in_range(day):
            raise RuleViolation(DATE_RANGE_MESSAGE, field=name)
    if starts_on and ends_on and ends_on <= starts_on:
        raise RuleViolation(_l("The cohort must end after it starts."), field="ends_on")


def visible_cohorts(session: Session, user) -> list[Cohort]:
    """The cohorts this user may see, newest first (the decision is core.access's)."""
    cohorts = session.scalars(
        sa.select(Cohort)
        .options(selectinload(Cohort.participations).selectinload(Participation.organisation))
        .order_by(Cohort.starts_on.desc().nulls_last(), Cohort.id.desc())
    ).all()
    return [c for c in cohorts if may_view(user, c)]


def load_cohort(session: Session, cohort_id: int) -> Cohort | None:
    return session.scalar(
        sa.select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(
            selectinload(Cohort.groups)
            .selectinload(Group.participations)
            .selectinload(Participation.organisation),
            selectinload(Cohort.participations).selectinload(Participation.organisation),
        )
    )


def update_cohort(
    session: Session,
    cohort: Cohort,
    *,
    now: datetime,
    user_id: int | None,
    expected_version: int | None,
    **values,
) -> None:
    """Change a cohort's name, dates and description (its template only while a draft)."""
    check_version(cohort, expected_version)
    if "template_id" in values and values["template_id"] is None:
        raise RuleViolation(_l("Choose a programme model."), field="template_id")
    if values.get("template_id") not in (None, cohort.template_id) and cohort.status != "draft":
        raise RuleViolation(
            _l("The programme model is fixed once the cohort has opened."), field="template_id"
        )
    dates = ("registration_deadline", "starts_on", "ends_on")
    check_cohort_dates(**{k: values.get(k, getattr(cohort, k)) for k in dates})
    changed = sorted(k for k, v in values.items() if getattr(cohort, k) != v)
    for key, value in values.items():
        setattr(cohort, key, value)
    audit.record(
        session, now=now, user_id=user_id, action="cohort_changed", obj=cohort, fields=changed
    )


# --- the lifecycle -----------------------------------------------------------------------

# While groups can be formed, and while they can be dissolved or proposed anew.
GROUPING_STATES = ("forming", "running")
DECIDING_STATES = ("open", "forming")


def ungrouped(cohort: Cohort) -> list[Participation]:
    """Accepted benchmarking participants still without a group."""
    return [
        p
        for p in cohort.participations
        if p.role == "benchmarking" and p.status == "active" and p.group_id is None
    ]


def cohort_actions(cohort: Cohort) -> dict[str, bool]:
    """What the coordinator can do with the cohort in its present state (the pages offer
    only these; the services below refuse the rest)."""
    return {
        "form_groups": cohort.status in GROUPING_STATES,
        "suggest": cohort.status == "forming",
        "dissolve_groups": cohort.status == "forming",
        "meetings": cohort.status in ("running", "concluded"),
    }


TRANSITIONS = {
    "draft": ("open",),
    "open": ("forming",),
    "forming": ("running",),
    "running": ("concluded",),
}
TRANSITION_LABELS = {
    "open": _l("Open the interest registration"),
    "forming": _l("Close the registration and form groups"),
    "running": _l("Start the cohort"),
    "concluded": _l("Conclude the cohort"),
}


def transition_blockers(session: Session, cohort: Cohort, to: str, *, today: date) -> list[str]:
    """What stands in the way of moving the cohort to `to` (empty: nothing)."""
    if to not in TRANSITIONS.get(cohort.status, ()):
        return [str(_l("That change of status is not possible from here."))]
    problems: list[str] = []
    if to == "open":
        if cohort.registration_deadline is None:
            problems.append(_l("Set a deadline for interest registration first."))
        elif cohort.registration_deadline < today:
            problems.append(_l("The registration deadline has passed: set a later one."))
    elif to == "running":
        undecided = session.scalar(
            sa.select(sa.func.count())
            .select_from(InterestRegistration)
            .where(
                InterestRegistration.cohort_id == cohort.id,
                InterestRegistration.status == "submitted",
            )
        )
        if undecided:
            problems.append(
                _l(
                    "Accept or decline every interest registration first (%(n)d undecided).",
                    n=undecided,
                )
            )
        waiting = [p.organisation.name for p in ungrouped(cohort)]
        if waiting:
            problems.append(
                _l("Place every participant in a group: %(names)s.", names=", ".join(waiting))
            )
        if not cohort.groups:
            problems.append(_l("Form at least one group."))
    return [str(p) for p in problems]


def next_steps(session: Session, cohort: Cohort, *, today: date) -> list[tuple[str, str, list]]:
    """The status changes offered from here: (to, label, what blocks it). Concluding is
    never blocked here: its own form asks for each participant's outcome."""
    return [
        (
            to,
            TRANSITION_LABELS[to],
            [] if to == "concluded" else transition_blockers(session, cohort, to, today=today),
        )
        for to in TRANSITIONS.get(cohort.status, ())
    ]


def change_status(
    session: Session,
    cohort: Cohort,
    to: str,
    *,
    now: datetime,
    user_id: int | None,
    expected_version: int | None = None,
) -> None:
    """Move the cohort one step along draft → open → forming → running (concluding has
    its own service, since it needs each participation's outcome)."""
    check_version(cohort, expected_version)
    if to == "concluded":
        raise RuleViolation(_l("Conclude the cohort with each participant's outcome."))
    problems = transition_blockers(session, cohort, to, today=to_local(now).date())
    if problems:
        raise RuleViolation("; ".join(problems))
    before = cohort.status
    cohort.status = to
    audit.record(
        session, now=now, user_id=user_id, action="cohort_status", obj=cohort, before=before, to=to
    )
    if to == "running":
        # The meetings domain builds the schedule; cohorts do not import it (arrows point down).
        cohort_started.send(cohort, session=session, now=now, user_id=user_id)


@dataclass
class Outcome:
    completed: bool
    reason: str | None = None


def conclude(
    session: Session,
    cohort: Cohort,
    outcomes: dict[int, Outcome],
    *,
    now: datetime,
    user_id: int | None,
    expected_version: int | None = None,
) -> list[OrganisationTitle]:
    """Conclude a running cohort: every participation is marked completed or not completed
    (with a reason); mentors that completed an earlier cohort earn their title."""
    check_version(cohort, expected_version)
    if cohort.status != "running":
        raise RuleViolation(_l("Only a running cohort can be concluded."))
    active = [p for p in cohort.participations if p.status == "active"]
    missing = [p.organisation.name for p in active if p.id not in outcomes]
    if missing:
        raise RuleViolation(
            _l("Give the outcome for every organisation: %(names)s.", names=", ".join(missing))
        )
    for p in active:
        outcome = outcomes[p.id]
        if not outcome.completed and not (outcome.reason or "").strip():
            raise RuleViolation(
                _l("Say why %(name)s did not complete the cohort.", name=p.organisation.name),
                field=f"reason-{p.id}",
            )
        problem = text_problem(outcome.reason, multiline=True, max_length=REASON_MAX)
        if problem:
            raise RuleViolation(problem, field=f"reason-{p.id}")
    for p in active:
        outcome = outcomes[p.id]
        p.status = "completed" if outcome.completed else "not_completed"
        p.status_reason = (outcome.reason or "").strip() or None
    cohort.status = "concluded"
    cohort.concluded_at = now
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="cohort_status",
        obj=cohort,
        before="running",
        to="concluded",
        completed=sum(1 for p in active if p.status == "completed"),
        not_completed=sum(1 for p in active if p.status == "not_completed"),
    )
    return award_titles(session, cohort, now=now, user_id=user_id)


TITLE_FOR_KIND = {"municipality": "modellkommun", "region": "modellregion"}
TITLE_LABELS = {"modellkommun": "Modellkommun", "modellregion": "Modellregion"}


def completed_earlier(session: Session, organisation_id: int, cohort: Cohort) -> Cohort | None:
    """The latest cohort before this one that the organisation completed as a benchmarking
    participant (what makes it a mentor)."""
    return session.scalar(
        sa.select(Cohort)
        .join(Participation, Participation.cohort_id == Cohort.id)
        .where(
            Participation.organisation_id == organisation_id,
            Participation.role == "benchmarking",
            Participation.status == "completed",
            Cohort.id != cohort.id,
            Cohort.starts_on < cohort.starts_on,
        )
        .order_by(Cohort.starts_on.desc())
        .limit(1)
    )


def award_titles(
    session: Session, cohort: Cohort, *, now: datetime, user_id: int | None
) -> list[OrganisationTitle]:
    """Modellkommun / Modellregion: one cohort completed as benchmarking participant and a
    later one completed as mentor."""
    awarded = []
    for p in cohort.participations:
        if p.role != "mentor" or p.status != "completed":
            continue
        title = TITLE_FOR_KIND.get(p.organisation.kind)
        if title is None or title_of(session, p.organisation_id) is not None:
            continue
        if completed_earlier(session, p.organisation_id, cohort) is None:
            continue
        t = OrganisationTitle(
            organisation_id=p.organisation_id, title=title, awarded_at=now, cohort_id=cohort.id
        )
        session.add(t)
        awarded.append(t)
        audit.record(
            session,
            now=now,
            user_id=user_id,
            action="title_awarded",
            obj=p.organisation,
            title=title,
            cohort_id=cohort.id,
        )
    return awarded


def titles_of(session: Session, organisation_ids: list[int]) -> dict[int, str]:
    """The titles of these organisations, in one query: {organisation id: title}."""
    return dict(
        session.execute(
            sa.select(OrganisationTitle.organisation_id, OrganisationTitle.title).where(
                OrganisationTitle.organisation_id.in_(organisation_ids)
            )
        ).all()
    )


PROGRAMME_STATUSES = ("taking_part", "completed", "titled", "never")


def where_programme_status(stmt: sa.Select, status: str) -> sa.Select:
    """Narrow a query of organisations to those with this place in the programme: taking
    part now, having completed a cohort, titled, or never having taken part."""
    if status == "taking_part":
        ids = (
            sa.select(Participation.organisation_id)
            .join(Cohort)
            .where(
                Participation.status == "active",
                Cohort.status.in_(("open", "forming", "running")),
            )
        )
    elif status == "completed":
        ids = sa.select(Participation.organisation_id).where(Participation.status == "completed")
    elif status == "titled":
        ids = sa.select(OrganisationTitle.organisation_id)
    elif status == "never":
        return stmt.where(Organisation.id.not_in(sa.select(Participation.organisation_id)))
    else:
        return stmt
    return stmt.where(Organisation.id.in_(ids))


def title_of(session: Session, organisation_id: int) -> OrganisationTitle | None:
    return session.scalar(
        sa.select(OrganisationTitle).where(OrganisationTitle.organisation_id == organisation_id)
    )


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


def _check_registration_data(data: RegistrationData, today: date) -> None:
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
) -> InterestRegistration:
    """An organisation's interest registration. One per organisation and cohort, only while
    the cohort is open and the deadline has not passed (the database checks both too).
    An organisation that withdrew may register again: its registration comes back."""
    today = to_local(now).date()
    if not registration_open(cohort, today):
        raise RuleViolation(_l("The interest registration for this cohort is closed."))
    existing = registration_for(session, cohort, organisation.id)
    if existing is not None and existing.status != "withdrawn":
        raise RuleViolation(
            _l("%(name)s has already registered interest in this cohort.", name=organisation.name),
            field="organisation_id",
        )
    _check_registration_data(data, today)
    if existing is not None:
        registration = existing
        registration.status = "submitted"
        registration.submitted_at, registration.submitted_on = now, today
        registration.submitted_by_id = user_id
        _fill(registration, data)
    else:
        registration = InterestRegistration(
            cohort=cohort,
            organisation=organisation,
            submitted_by_id=user_id,
            submitted_at=now,
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
                field="organisation_id",
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
                InterestRegistration.status != "withdrawn",
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
    _check_registration_data(data, to_local(now).date())
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
    return participation


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


# --- the mentor pool -------------------------------------------------------------------------


@dataclass
class MentorCandidate:
    organisation: Organisation
    completed: Cohort  # the earlier cohort it completed as benchmarking participant
    mentored: list[Cohort] = field(default_factory=list)  # cohorts it has mentored in
    here: Participation | None = None  # its place in this cohort, if it has one


def mentor_pool(session: Session, cohort: Cohort) -> list[MentorCandidate]:
    """Organisations that completed an earlier cohort as benchmarking participants and
    committed to mentor, with the cohorts they have already mentored in."""
    rows = session.execute(
        sa.select(Participation, Cohort)
        .join(Cohort, Cohort.id == Participation.cohort_id)
        .where(
            Participation.role == "benchmarking",
            Participation.status == "completed",
            Participation.mentor_commitment.is_(True),
            Cohort.starts_on < cohort.starts_on,
        )
        .options(selectinload(Participation.organisation))
        .order_by(Cohort.starts_on)
    ).all()
    candidates: dict[int, MentorCandidate] = {}
    for participation, earlier in rows:
        candidates[participation.organisation_id] = MentorCandidate(
            participation.organisation, earlier
        )
    if not candidates:
        return []
    mentoring = session.execute(
        sa.select(Participation.organisation_id, Cohort)
        .join(Cohort, Cohort.id == Participation.cohort_id)
        .where(
            Participation.role.in_(("mentor", "support")),
            Participation.organisation_id.in_(candidates),
            Participation.cohort_id != cohort.id,
        )
        .order_by(Cohort.starts_on)
    ).all()
    for org_id, other in mentoring:
        candidates[org_id].mentored.append(other)
    for p in cohort.participations:
        if p.organisation_id in candidates:
            candidates[p.organisation_id].here = p
    return sorted(candidates.values(), key=lambda c: c.organisation.name)


# --- groups ----------------------------------------------------------------------------------


@dataclass
class GroupDraft:
    benchmarking: list[Organisation]
    mentors: list[Organisation] = field(default_factory=list)
    # (support organisation, the mentor it supports)
    support: list[tuple[Organisation, Organisation]] = field(default_factory=list)
    name: str | None = None
    basis: str = "geography"
    theme: str | None = None


def draft_of(group: Group) -> GroupDraft:
    """The group as it is stored, as a draft (to compare a change with)."""
    members = {role: [p.organisation for p in group.members(role)] for role in PARTICIPATION_ROLES}
    support = [
        (p.organisation, p.supports.organisation) for p in group.members("support") if p.supports
    ]
    return GroupDraft(members["benchmarking"], members["mentor"], support, group.name)


def group_warnings(session: Session, cohort: Cohort, draft: GroupDraft) -> list[str]:
    """What a coordinator must confirm with a reason to keep the group as it is."""
    template = cohort.template
    warnings = []
    n = len(draft.benchmarking)
    if n < template.group_min or n > template.group_max:
        warnings.append(
            _l(
                "The group has %(n)d benchmarking participants; the programme has groups of "
                "%(min)d to %(max)d.",
                n=n,
                min=template.group_min,
                max=template.group_max,
            )
        )
    for mentor in draft.mentors:
        if completed_earlier(session, mentor.id, cohort) is None:
            warnings.append(
                _l(
                    "%(name)s has not completed an earlier cohort as benchmarking participant.",
                    name=mentor.name,
                )
            )
    return [str(w) for w in warnings]


def _participation(cohort: Cohort, organisation_id: int) -> Participation | None:
    return next((p for p in cohort.participations if p.organisation_id == organisation_id), None)


def save_group(
    session: Session,
    cohort: Cohort,
    draft: GroupDraft,
    *,
    now: datetime,
    user_id: int | None,
    group: Group | None = None,
    expected_version: int | None = None,
    exception_reason: str | None = None,
) -> Group:
    """Create or change a group. Benchmarking participants come from the accepted
    registrations; mentors and support organisations take part through the group. An
    organisation is in at most one group per cohort."""
    if group is not None:
        check_version(group, expected_version)
    if not cohort_actions(cohort)["form_groups"]:
        raise RuleViolation(_l("Groups are formed while the cohort is forming groups or running."))
    if not draft.benchmarking:
        raise RuleViolation(
            _l("A group needs at least one benchmarking participant."), field="benchmarking"
        )
    chosen = [o.id for o in draft.benchmarking + draft.mentors + [s for s, _ in draft.support]]
    if len(chosen) != len(set(chosen)):
        raise RuleViolation(_l("An organisation can have only one place in a group."))
    own_group_id = group.id if group is not None else None
    for org in draft.benchmarking:
        p = _participation(cohort, org.id)
        if p is None or p.role != "benchmarking" or p.status != "active":
            raise RuleViolation(
                _l(
                    "%(name)s is not an accepted benchmarking participant of this cohort.",
                    name=org.name,
                ),
                field="benchmarking",
            )
        if p.group_id not in (None, own_group_id):
            raise RuleViolation(
                _l("%(name)s is already in another group.", name=org.name), field="benchmarking"
            )
    for orgs, field_name in (
        (draft.mentors, "mentors"),
        ([s for s, _ in draft.support], "support"),
    ):
        for org in orgs:
            p = _participation(cohort, org.id)
            if p is not None and (p.group_id != own_group_id or p.role == "benchmarking"):
                raise RuleViolation(
                    _l(
                        "%(name)s already takes part in this cohort in another place.",
                        name=org.name,
                    ),
                    field=field_name,
                )
    mentor_ids = {m.id for m in draft.mentors}
    for supporter, mentor in draft.support:
        if mentor.id not in mentor_ids:
            raise RuleViolation(
                _l(
                    "%(name)s supports a mentor of the group: choose one of its mentors.",
                    name=supporter.name,
                ),
                field="supported_mentor",
            )
    warnings = group_warnings(session, cohort, draft)
    reason = (exception_reason or "").strip() or None
    problem = text_problem(reason, multiline=True, max_length=REASON_MAX)
    if problem:
        raise RuleViolation(problem, field="exception_reason")
    if warnings and not reason:
        raise NeedsConfirmation(warnings)
    if warnings and group is not None and reason == group.exception_reason:
        # The reason given earlier covers the exceptions it was given for, not new ones.
        before = set(group_warnings(session, cohort, draft_of(group)))
        new = [w for w in warnings if w not in before]
        if new:
            raise NeedsConfirmation(new)

    if group is None:
        group = Group(cohort=cohort, position=len(cohort.groups) + 1, name="")
        session.add(group)
    group.name = (draft.name or "").strip() or ", ".join(o.name for o in draft.benchmarking)
    group.basis = draft.basis
    group.theme = draft.theme
    group.exception_reason = reason if warnings else None
    group.updated_at = now
    flag_modified(group, "updated_at")  # always an UPDATE: the version covers members too

    keep: set[int] = set()
    for org in draft.benchmarking:
        p = _participation(cohort, org.id)
        p.group = group
        keep.add(p.id)
    by_mentor: dict[int, Participation] = {}
    for org in draft.mentors:
        p = _participation(cohort, org.id)
        if p is None:
            p = Participation(cohort=cohort, organisation=org, role="mentor", created_at=now)
            session.add(p)
        p.role, p.group, p.supports = "mentor", group, None
        by_mentor[org.id] = p
    for supporter, mentor in draft.support:
        p = _participation(cohort, supporter.id)
        if p is None:
            p = Participation(cohort=cohort, organisation=supporter, role="support", created_at=now)
            session.add(p)
        p.role, p.group, p.supports = "support", group, by_mentor[mentor.id]
    session.flush()
    keep |= {p.id for p in by_mentor.values()}
    keep |= {_participation(cohort, s.id).id for s, _ in draft.support}
    for p in list(group.participations):
        if p.id in keep:
            continue
        if p.role == "benchmarking":
            p.group = None  # back among the ungrouped participants
        else:
            _drop(cohort, p)  # a mentor or support organisation takes part through a group
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="group_saved",
        obj=group,
        cohort_id=cohort.id,
        name=group.name,
        benchmarking=[o.name for o in draft.benchmarking],
        mentors=[o.name for o in draft.mentors],
        support=[s.name for s, _ in draft.support],
        exception_reason=group.exception_reason,
    )
    group_saved.send(group, session=session, now=now, user_id=user_id)
    return group


def _drop(cohort: Cohort, participation: Participation) -> None:
    participation.supports = None
    participation.group = None
    cohort.participations.remove(participation)  # delete-orphan: gone at the next flush


def delete_group(
    session: Session,
    group: Group,
    *,
    now: datetime,
    user_id: int | None,
    expected_version: int | None = None,
) -> None:
    """Dissolve a group while groups are being formed: its participants become ungrouped."""
    check_version(group, expected_version)
    cohort = group.cohort
    if not cohort_actions(cohort)["dissolve_groups"]:
        raise RuleViolation(_l("Groups can be dissolved only while groups are being formed."))
    for p in list(group.participations):
        if p.role == "benchmarking":
            p.group = None
        else:
            _drop(cohort, p)
    audit.record(
        session, now=now, user_id=user_id, action="group_deleted", obj=group, name=group.name
    )
    cohort.groups.remove(group)
    for i, g in enumerate(cohort.groups, start=1):
        g.position = i


def create_group(
    session: Session,
    *,
    now: datetime,
    user_id: int | None,
    cohort: Cohort,
    benchmarking: list[Organisation],
    mentors: list[Organisation] = (),
    support: dict[Organisation, Organisation] | None = None,
    name: str | None = None,
    basis: str = "geography",
    theme: str | None = None,
    exception_reason: str | None = None,
) -> Group:
    """A group of organisations that take part without a registration (the demo data, an
    import of an earlier cohort): their participations are created with it."""
    for org in benchmarking:
        if _participation(cohort, org.id) is None:
            session.add(
                Participation(
                    cohort=cohort,
                    organisation=org,
                    role="benchmarking",
                    status="active",
                    mentor_commitment=True,
                    created_at=now,
                )
            )
    session.flush()
    draft = GroupDraft(
        list(benchmarking),
        list(mentors),
        [(s, m) for s, m in (support or {}).items()],
        name=name,
        basis=basis,
        theme=theme,
    )
    return save_group(
        session,
        cohort,
        draft,
        now=now,
        user_id=user_id,
        exception_reason=exception_reason or "Gruppen bildades så av SKR.",
    )


# --- suggested grouping ----------------------------------------------------------------------


@dataclass
class Suggestion:
    proposal: grouping.Proposal
    organisations: dict[int, Organisation]
    unplaced: list[Organisation]  # without coordinates: the coordinator places them

    def groups(self) -> list[tuple[list[Organisation], list[Organisation], float]]:
        return [
            (
                [self.organisations[p.key] for p in g.benchmarking],
                [self.organisations[p.key] for p in g.mentors],
                g.km,
            )
            for g in self.proposal.groups
        ]

    @property
    def total_km(self) -> float:
        return self.proposal.total_km

    @property
    def fingerprint(self) -> str:
        """What the coordinator saw: accepting checks that the proposal is still the same."""
        text = "|".join(
            ",".join(str(o.id) for o in b) + "/" + ",".join(str(o.id) for o in m)
            for b, m, _km in self.groups()
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _point(org: Organisation, theme: str | None = None) -> grouping.Point | None:
    if org.latitude is None or org.longitude is None:
        return None
    return grouping.Point(org.id, org.latitude, org.longitude, theme)


def theme_key(participation: Participation) -> str | None:
    """The shared theme two participants can be grouped by: the area, else the first theme."""
    registration = participation.registration
    text = participation.area or (registration.themes if registration else None) or ""
    first = text.replace("\n", ",").split(",")[0].strip().casefold()
    return first or None


def suggest_groups(
    session: Session, cohort: Cohort, *, basis: str = "geography", groups: int | None = None
) -> Suggestion:
    """A draft grouping of the ungrouped accepted participants with mentors from the pool
    that have no place in the cohort yet."""
    orgs: dict[int, Organisation] = {}
    points, unplaced = [], []
    for p in sorted(ungrouped(cohort), key=lambda p: p.organisation.name):
        point = _point(p.organisation, theme_key(p) if basis == "theme" else None)
        orgs[p.organisation_id] = p.organisation
        (points.append(point) if point else unplaced.append(p.organisation))
    mentors = []
    if cohort.template.uses_mentors:
        for candidate in mentor_pool(session, cohort):
            point = _point(candidate.organisation)
            if candidate.here is None and point is not None:
                orgs[candidate.organisation.id] = candidate.organisation
                mentors.append(point)
    proposal = grouping.propose(
        points,
        mentors,
        group_min=cohort.template.group_min,
        group_max=cohort.template.group_max,
        groups=groups,
    )
    return Suggestion(proposal, orgs, unplaced)


def suggestion_warnings(session: Session, cohort: Cohort, suggestion: Suggestion) -> list[str]:
    """What accepting the proposal would have to confirm with a reason (a group too small)."""
    return [
        w
        for benchmarking, mentors, _km in suggestion.groups()
        for w in group_warnings(session, cohort, GroupDraft(benchmarking, mentors))
    ]


def accept_suggestion(
    session: Session,
    cohort: Cohort,
    suggestion: Suggestion,
    *,
    now: datetime,
    user_id: int | None,
    basis: str = "geography",
    exception_reason: str | None = None,
    fingerprint: str | None = None,
) -> list[Group]:
    """Form the proposed groups, if the proposal is still the one the coordinator saw."""
    if not cohort_actions(cohort)["suggest"]:
        raise RuleViolation(_l("Groups are formed while the cohort is forming groups."))
    if fingerprint is not None and fingerprint != suggestion.fingerprint:
        raise StaleEdit(
            _l("The registrations changed since you saw the suggestion: here is the new one.")
        )
    created = []
    for benchmarking, mentors, _km in suggestion.groups():
        created.append(
            save_group(
                session,
                cohort,
                GroupDraft(benchmarking, mentors, basis=basis),
                now=now,
                user_id=user_id,
                exception_reason=exception_reason,
            )
        )
    return created


def cohort_travel_km(cohort: Cohort) -> float:
    """The travel of the groups as formed (benchmarking participants and mentors)."""
    total = 0.0
    for g in cohort.groups:
        points = [
            _point(p.organisation) for p in g.participations if p.role in ("benchmarking", "mentor")
        ]
        total += grouping.travel_km([p for p in points if p])
    return total
