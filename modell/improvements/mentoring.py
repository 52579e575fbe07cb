"""Mentor sessions: the mentor organisation logs what it did with the organisations of its
group, and sees the group's coming meetings."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from modell.cohorts.models import Group, Participation
from modell.core import audit
from modell.core.errors import DATE_RANGE_MESSAGE, RuleViolation
from modell.core.timeutil import in_range, to_local
from modell.improvements.models import CONCLUDED, SESSION_MODES, MentorSession, work_open
from modell.improvements.services import clean_text
from modell.meetings.models import Meeting

# --- mentor sessions ----------------------------------------------------------------------------


@dataclass
class MentorSessionData:
    held_on: date
    organisation_ids: list[int]
    topics: str | None = None
    notes: str | None = None  # advice given
    follow_ups: str | None = None
    mode: str = "on_site"
    duration_minutes: int | None = None


def mentor_participation(group: Group, organisation_id: int | None) -> Participation | None:
    return next(
        (
            p
            for p in group.participations
            if p.role in ("mentor", "support") and p.organisation_id == organisation_id
        ),
        None,
    )


def save_mentor_session(
    session: Session,
    group: Group,
    mentor: Participation,
    data: MentorSessionData,
    *,
    now: datetime,
    user_id: int | None,
) -> MentorSession:
    """The mentor organisation logs a session it held with organisations of its group
    (while the cohort is not concluded)."""
    if not work_open(group.cohort):
        raise RuleViolation(CONCLUDED)
    if mentor.group_id != group.id or mentor.role not in ("mentor", "support"):
        raise RuleViolation(_l("Only the group's mentor logs its mentoring sessions."))
    if not in_range(data.held_on):
        raise RuleViolation(DATE_RANGE_MESSAGE, field="held_on")
    if data.held_on > to_local(now).date():
        raise RuleViolation(
            _l("Log a session once it has been held: the date cannot be in the future."),
            field="held_on",
        )
    members = {p.organisation_id for p in group.participations if p.role == "benchmarking"}
    chosen = list(dict.fromkeys(data.organisation_ids))
    if not chosen:
        raise RuleViolation(
            _l("Choose the organisations that took part."), field="organisation_ids"
        )
    if any(o not in members for o in chosen):
        raise RuleViolation(_l("Choose organisations of the group."), field="organisation_ids")
    if data.mode not in SESSION_MODES:
        raise RuleViolation(_l("Choose how the session was held."), field="mode")
    if data.duration_minutes is not None and not 1 <= data.duration_minutes <= 24 * 60:
        raise RuleViolation(
            _l("Give the length in minutes, at most a day."), field="duration_minutes"
        )
    record = MentorSession(
        participation=mentor,
        group=group,
        held_on=data.held_on,
        duration_minutes=data.duration_minutes,
        mode=data.mode,
        topics=clean_text(data.topics),
        notes=clean_text(data.notes),
        follow_ups=clean_text(data.follow_ups),
        organisation_ids=chosen,
        author_id=user_id,
        created_at=now,
    )
    session.add(record)
    audit.record(session, now=now, user_id=user_id, action="mentor_session_logged", obj=record)
    return record


def mentor_sessions_of(session: Session, group: Group) -> list[MentorSession]:
    return list(
        session.scalars(
            sa.select(MentorSession)
            .where(MentorSession.group_id == group.id)
            .order_by(MentorSession.held_on.desc(), MentorSession.id.desc())
        )
    )


def coming_meetings(
    session: Session, group: Group, *, now: datetime, limit: int = 3
) -> list[Meeting]:
    """The group's next meetings that have a date (for a mentor's start page)."""
    return list(
        session.scalars(
            sa.select(Meeting)
            .where(
                Meeting.group_id == group.id,
                Meeting.status != "cancelled",
                Meeting.starts_at >= now,
            )
            .order_by(Meeting.starts_at)
            .limit(limit)
        )
    )
