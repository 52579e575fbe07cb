"""The rules of cohorts: templates as data, a cohort's dates and lifecycle, concluding it and
the titles it awards. Interest registrations are in registrations.py; groups, the mentor
pool and the suggested grouping in groups.py."""

import json
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from modell.cohorts.models import (
    ChecklistItem,
    Cohort,
    Group,
    InterestRegistration,
    MeetingKind,
    OrganisationTitle,
    Participation,
    ProgrammeTemplate,
    ReminderRule,
    TemplateStep,
)
from modell.core import audit, dates
from modell.core.access import may_view
from modell.core.errors import (
    DATE_RANGE_MESSAGE,
    RuleViolation,
    check_version,
)
from modell.core.text import said, text_problem
from modell.core.timeutil import in_range, to_local
from modell.organisations.models import Organisation

REASON_MAX = 2000  # a reason a coordinator writes: a few sentences

# Sent when a cohort starts running; the meetings domain answers with the schedule.
_signals = Namespace()
cohort_started = _signals.signal("cohort-started")
# Sent when a group is formed or changed; a running cohort's new group gets its meetings.
group_saved = _signals.signal("group-saved")
# Sent when a cohort is concluded; the meetings domain cancels the meetings still ahead.
cohort_concluded = _signals.signal("cohort-concluded")

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
            # Participations with their organisations in the same query (two, not four).
            selectinload(Cohort.groups)
            .selectinload(Group.participations)
            .joinedload(Participation.organisation),
            selectinload(Cohort.participations).joinedload(Participation.organisation),
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
    early_reason: str | None = None,
) -> list[OrganisationTitle]:
    """Conclude a running cohort: every participation is marked completed or not completed
    (with a reason); mentors that completed an earlier cohort earn their title. Before the
    cohort's period has ended, only with a reason for concluding early."""
    check_version(cohort, expected_version)
    if cohort.status != "running":
        raise RuleViolation(_l("Only a running cohort can be concluded."))
    early_reason = said(early_reason)
    if concluded_early(cohort, now) and not early_reason:
        raise RuleViolation(
            _l(
                "The cohort’s period ends on %(date)s: say why it is concluded before that.",
                date=dates.day(cohort.ends_on),
            ),
            field="early_reason",
        )
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
    if concluded_early(cohort, now):
        cohort.early_reason = early_reason.strip()
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
        early_reason=early_reason,
    )
    # Concluded, its meetings still ahead are over too (the meetings domain cancels them).
    cohort_concluded.send(cohort, session=session, now=now, user_id=user_id, reason=early_reason)
    return award_titles(session, cohort, now=now, user_id=user_id)


def concluded_early(cohort: Cohort, now: datetime) -> bool:
    """Whether concluding now would be before the cohort's period has ended."""
    return cohort.ends_on is not None and to_local(now).date() < cohort.ends_on


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


def mentored_later(session: Session, organisation_id: int, cohort: Cohort) -> Cohort | None:
    """The first cohort after this one that the organisation completed as mentor."""
    return session.scalar(
        sa.select(Cohort)
        .join(Participation, Participation.cohort_id == Cohort.id)
        .where(
            Participation.organisation_id == organisation_id,
            Participation.role == "mentor",
            Participation.status == "completed",
            Cohort.id != cohort.id,
            Cohort.starts_on > cohort.starts_on,
        )
        .order_by(Cohort.starts_on)
        .limit(1)
    )


def award_titles(
    session: Session, cohort: Cohort, *, now: datetime, user_id: int | None
) -> list[OrganisationTitle]:
    """Modellkommun / Modellregion: one cohort completed as benchmarking participant and a
    later one completed as mentor. Looks both ways from the concluded cohort: its mentors
    that completed an earlier one, and (when history is recorded out of order) its
    participants that mentored a later one."""
    awarded = []
    for p in cohort.participations:
        if p.status != "completed" or p.role not in ("mentor", "benchmarking"):
            continue
        title = TITLE_FOR_KIND.get(p.organisation.kind)
        if title is None or title_of(session, p.organisation_id) is not None:
            continue
        if p.role == "mentor":
            if completed_earlier(session, p.organisation_id, cohort) is None:
                continue
            earned_in = cohort
        else:
            earned_in = mentored_later(session, p.organisation_id, cohort)
            if earned_in is None:
                continue
        t = OrganisationTitle(
            organisation_id=p.organisation_id, title=title, awarded_at=now, cohort_id=earned_in.id
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
            cohort_id=earned_in.id,
        )
    session.flush()
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
