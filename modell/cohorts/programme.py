"""Programme templates as data: copying a template and changing its steps, checklist items
and meeting kinds.

A cohort keeps the template version it started with. Editing a template that a cohort
uses therefore first makes a new version of it (same family, version + 1, now the
current one) and changes that; a template no cohort uses yet is changed in place.
"""

from datetime import datetime

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import Session

from modell.cohorts.models import (
    REMINDER_CONDITION_AUDIENCES,
    ChecklistItem,
    Cohort,
    MeetingKind,
    ProgrammeTemplate,
    ReminderRule,
    TemplateStep,
)
from modell.cohorts.services import template_from_data
from modell.core import audit
from modell.core.errors import RuleViolation

# Sent after a template's reminder rules change (the reminders replan the pending ones).
reminder_rules_changed = Namespace().signal("reminder-rules-changed")

KIND_FIELDS = (
    "key",
    "name",
    "scope",
    "count",
    "offset_weeks",
    "interval_weeks",
    "duration_hours",
    "prepares_key",
    "audience",
    "description",
)
RULE_FIELDS = (
    "key",
    "event",
    "meeting_kind_key",
    "offset_days",
    "send_hour",
    "audience",
    "condition",
    "cc_mentor",
    "essential",
    "subject",
    "body",
    "subject_en",
    "body_en",
    "active",
)


def template_to_data(template: ProgrammeTemplate) -> dict:
    """The template as plain data, the same shape as the shipped JSON files."""
    return {
        "family": template.family,
        "variant": template.variant,
        "name": template.name,
        "description": template.description,
        "duration_months": template.duration_months,
        "group_min": template.group_min,
        "group_max": template.group_max,
        "uses_mentors": template.uses_mentors,
        "steps": [
            {
                "title": s.title,
                "description": s.description,
                "checklist": [i.text for i in s.checklist_items],
            }
            for s in template.steps
        ],
        "meeting_kinds": [{f: getattr(k, f) for f in KIND_FIELDS} for k in template.meeting_kinds],
        "reminder_rules": [
            {f: getattr(r, f) for f in RULE_FIELDS} for r in template.reminder_rules
        ],
    }


def templates(session: Session) -> list[ProgrammeTemplate]:
    """The current version of every template family."""
    return list(
        session.scalars(
            sa.select(ProgrammeTemplate)
            .where(ProgrammeTemplate.is_current)
            .order_by(ProgrammeTemplate.name)
        )
    )


def versions(session: Session, template: ProgrammeTemplate) -> list[ProgrammeTemplate]:
    return list(
        session.scalars(
            sa.select(ProgrammeTemplate)
            .where(ProgrammeTemplate.family == template.family)
            .order_by(ProgrammeTemplate.version.desc())
        )
    )


def in_use(session: Session, template: ProgrammeTemplate) -> bool:
    return session.scalar(sa.select(sa.exists().where(Cohort.template_id == template.id)))


def _family_for(session: Session, name: str) -> str:
    base = "".join(c if c.isalnum() else "-" for c in name.casefold()).strip("-")[:50] or "mall"
    family, n = base, 1
    while session.scalar(sa.select(sa.exists().where(ProgrammeTemplate.family == family))):
        n += 1
        family = f"{base}-{n}"
    return family


def copy_template(
    session: Session, template: ProgrammeTemplate, *, name: str, now: datetime, user_id: int | None
) -> ProgrammeTemplate:
    """A new template family that starts as a copy of this one."""
    name = name.strip()
    if not name:
        raise RuleViolation(_l("Give the new template a name."), field="name")
    data = template_to_data(template)
    data.update(family=_family_for(session, name), name=name)
    copy = template_from_data(data, now=now)
    copy.copied_from_id = template.id
    session.add(copy)
    audit.record(
        session, now=now, user_id=user_id, action="template_copied", obj=copy, source=template.id
    )
    return copy


def editable(
    session: Session, template: ProgrammeTemplate, *, now: datetime, user_id: int | None
) -> ProgrammeTemplate:
    """The version to change: the template itself, or a new version when a cohort uses it."""
    if not template.is_current:
        raise RuleViolation(_l("Only the current version of a template can be changed."))
    if not in_use(session, template):
        return template
    data = template_to_data(template)
    new = template_from_data(data, now=now, version=template.version + 1)
    new.copied_from_id = template.copied_from_id
    template.is_current = False
    session.flush()  # the old version stops being current before the new one is
    session.add(new)
    session.flush()
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="template_versioned",
        obj=new,
        family=new.family,
        version=new.version,
    )
    return new


def update_template(
    session: Session,
    template: ProgrammeTemplate,
    *,
    now: datetime,
    user_id: int | None,
    **values,
) -> ProgrammeTemplate:
    if values.get("group_min", 1) < 1 or values.get("group_max", 1) < values.get("group_min", 1):
        raise RuleViolation(
            _l("The largest group cannot be smaller than the smallest."), field="group_max"
        )
    template = editable(session, template, now=now, user_id=user_id)
    for key, value in values.items():
        setattr(template, key, value)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="template_changed",
        obj=template,
        fields=sorted(values),
    )
    return template


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def save_step(
    session: Session,
    template: ProgrammeTemplate,
    *,
    position: int | None,
    title: str,
    description: str | None,
    checklist: str | None,
    now: datetime,
    user_id: int | None,
) -> ProgrammeTemplate:
    """Add a step (position None) or change the step at `position`; the checklist is one
    item per line."""
    template = editable(session, template, now=now, user_id=user_id)
    if position is None:
        step = TemplateStep(position=len(template.steps) + 1)
        template.steps.append(step)
    else:
        step = step_at(template, position)
    step.title = title.strip()
    step.description = (description or "").strip() or None
    step.checklist_items = [
        ChecklistItem(position=i, text=text) for i, text in enumerate(_lines(checklist), start=1)
    ]
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="template_step_saved",
        obj=template,
        step=step.position,
        title=step.title,
    )
    return template


def step_at(template: ProgrammeTemplate, position: int) -> TemplateStep:
    step = next((s for s in template.steps if s.position == position), None)
    if step is None:
        raise LookupError(position)
    return step


def delete_step(
    session: Session,
    template: ProgrammeTemplate,
    *,
    position: int,
    now: datetime,
    user_id: int | None,
) -> ProgrammeTemplate:
    template = editable(session, template, now=now, user_id=user_id)
    step = step_at(template, position)
    template.steps.remove(step)
    for i, s in enumerate(template.steps, start=1):
        s.position = i
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="template_step_deleted",
        obj=template,
        title=step.title,
    )
    return template


def save_meeting_kind(
    session: Session,
    template: ProgrammeTemplate,
    *,
    key: str | None,
    values: dict,
    now: datetime,
    user_id: int | None,
) -> ProgrammeTemplate:
    """Add a meeting kind (key None) or change the one with `key`."""
    template = editable(session, template, now=now, user_id=user_id)
    new_key = values["key"]
    if any(k.key == new_key and k.key != key for k in template.meeting_kinds):
        raise RuleViolation(
            _l("The template already has a meeting kind with that key."), field="key"
        )
    if values.get("prepares_key") and values["prepares_key"] not in {
        k.key for k in template.meeting_kinds
    }:
        raise RuleViolation(_l("Choose a meeting kind of this template."), field="prepares_key")
    if key is None:
        kind = MeetingKind(position=len(template.meeting_kinds) + 1)
        template.meeting_kinds.append(kind)
    else:
        kind = kind_with(template, key)
        if new_key != key:
            # What names the kind by its key follows it: the kinds it prepares, its reminders.
            for other in template.meeting_kinds:
                if other.prepares_key == key:
                    other.prepares_key = new_key
            for rule in template.reminder_rules:
                if rule.meeting_kind_key == key:
                    rule.meeting_kind_key = new_key
    for f, v in values.items():
        setattr(kind, f, v)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="template_meeting_kind_saved",
        obj=template,
        key=new_key,
    )
    return template


def kind_with(template: ProgrammeTemplate, key: str) -> MeetingKind:
    kind = next((k for k in template.meeting_kinds if k.key == key), None)
    if kind is None:
        raise LookupError(key)
    return kind


def delete_meeting_kind(
    session: Session,
    template: ProgrammeTemplate,
    *,
    key: str,
    now: datetime,
    user_id: int | None,
) -> ProgrammeTemplate:
    template = editable(session, template, now=now, user_id=user_id)
    kind = kind_with(template, key)
    if any(k.prepares_key == key for k in template.meeting_kinds):
        raise RuleViolation(_l("Another meeting kind prepares this one: change that first."))
    template.meeting_kinds.remove(kind)
    # Its reminders go with it: there are no meetings of the kind left to remind of.
    rules = [r for r in template.reminder_rules if r.meeting_kind_key == key]
    for rule in rules:
        template.reminder_rules.remove(rule)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="template_meeting_kind_deleted",
        obj=template,
        key=key,
        reminders=[r.key for r in rules],
    )
    return template


# --- reminder rules ---------------------------------------------------------------------------
#
# Unlike the steps and meeting kinds, a template's reminders are not part of what a cohort
# signed up for: they are how SKR keeps it moving. A change applies to the version changed,
# in place, and so at once to the cohorts that use it, running ones too: their pending
# reminders move (what has gone out stays as it went).


def rule_with(template: ProgrammeTemplate, key: str) -> ReminderRule:
    rule = next((r for r in template.reminder_rules if r.key == key), None)
    if rule is None:
        raise LookupError(key)
    return rule


def _rule_key(template: ProgrammeTemplate, values: dict) -> str:
    taken = {r.key for r in template.reminder_rules}
    stem = f"{values['meeting_kind_key']}_{values['audience']}"[:56]
    n = 1
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"


def save_reminder_rule(
    session: Session,
    template: ProgrammeTemplate,
    *,
    key: str | None,
    values: dict,
    now: datetime,
    user_id: int | None,
) -> ReminderRule:
    """Add a rule (key None) or change the one with `key`; then the reminders of the cohorts
    that use this version are planned again."""
    kinds = {k.key: k for k in template.meeting_kinds}
    if values["meeting_kind_key"] not in kinds:
        raise RuleViolation(_l("Choose a meeting kind of this template."), field="meeting_kind")
    if values["audience"] == "host" and kinds[values["meeting_kind_key"]].scope != "group":
        raise RuleViolation(
            _l("Meetings of this kind have no host organisation: choose other recipients."),
            field="audience",
        )
    if values.get("cc_mentor") and values["audience"] != "organisations":
        raise RuleViolation(
            _l("A copy to the mentor goes with reminders to the benchmarking organisations."),
            field="cc_mentor",
        )
    condition = values.get("condition") or None
    if condition and values["audience"] not in REMINDER_CONDITION_AUDIENCES[condition]:
        raise RuleViolation(
            _l("This condition is about someone else: choose another recipient or condition."),
            field="condition",
        )
    if not -365 <= values["offset_days"] <= 365:
        raise RuleViolation(_l("At most a year before or after."), field="offset_days")
    if key is None:
        rule = ReminderRule(key=_rule_key(template, values))
        template.reminder_rules.append(rule)
    else:
        rule = rule_with(template, key)
    for f, v in (values | {"condition": condition}).items():
        setattr(rule, f, v)
    session.flush()
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="template_reminder_saved",
        obj=template,
        key=rule.key,
        fields=sorted(values),
    )
    reminder_rules_changed.send(template, session=session, now=now)
    return rule


def rule_timing(rule: ReminderRule, kind_name: str) -> str:
    """When the rule's reminder goes out, in words: "21 days before each Benchmarkingträff,
    at 08.00"."""
    n = abs(rule.offset_days)
    if rule.event == "between_meetings":
        when = _("halfway between two meetings of the kind %(kind)s", kind=kind_name)
        if rule.offset_days:
            days = ngettext("%(num)d day", "%(num)d days", n)
            when = (
                _("%(days)s after %(when)s", days=days, when=when)
                if rule.offset_days > 0
                else _("%(days)s before %(when)s", days=days, when=when)
            )
    elif rule.offset_days < 0:
        when = ngettext(
            "%(num)d day before each %(kind)s",
            "%(num)d days before each %(kind)s",
            n,
            kind=kind_name,
        )
    elif rule.offset_days > 0:
        when = ngettext(
            "%(num)d day after each %(kind)s",
            "%(num)d days after each %(kind)s",
            n,
            kind=kind_name,
        )
    else:
        when = _("on the day of each %(kind)s", kind=kind_name)
    return _("%(when)s, at %(hour)02d:00", when=when, hour=rule.send_hour)


def cohorts_using(session: Session, template: ProgrammeTemplate) -> list[Cohort]:
    """The cohorts that follow this version (and so its reminders), not yet concluded."""
    return list(
        session.scalars(
            sa.select(Cohort)
            .where(Cohort.template_id == template.id, Cohort.status != "concluded")
            .order_by(Cohort.starts_on, Cohort.id)
        )
    )
