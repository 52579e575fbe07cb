"""The rules of cohorts: templates as data, creating cohorts and groups, who sees what."""

import json
from datetime import date, datetime
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from modell.cohorts.models import (
    ChecklistItem,
    Cohort,
    Group,
    MeetingKind,
    Participation,
    ProgrammeTemplate,
    ReminderRule,
    TemplateStep,
)
from modell.core import audit
from modell.core.access import may_view
from modell.organisations.models import Organisation

SHIPPED_TEMPLATES = ("modellkommuner",)


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
) -> Cohort:
    cohort = Cohort(
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
    """A group with its benchmarking participants, mentors and support organisations
    ("Kristianstad med stöd av Malmö": support = {Malmö: Kristianstad})."""
    group = Group(
        cohort=cohort,
        position=len(cohort.groups) + 1,
        name=name or ", ".join(o.name for o in benchmarking),
        basis=basis,
        theme=theme,
        exception_reason=exception_reason,
    )
    session.add(group)
    by_org: dict[int, Participation] = {}
    for role, orgs in (("benchmarking", benchmarking), ("mentor", mentors)):
        for org in orgs:
            p = Participation(
                cohort=cohort, organisation=org, group=group, role=role, created_at=now
            )
            session.add(p)
            by_org[org.id] = p
    for supporter, mentor in (support or {}).items():
        session.add(
            Participation(
                cohort=cohort,
                organisation=supporter,
                group=group,
                role="support",
                supports=by_org[mentor.id],
                created_at=now,
            )
        )
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="group_created",
        obj=group,
        cohort_id=cohort.id,
        name=group.name,
    )
    return group


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
