"""Planning the reminders: each rule of the cohort's programme model applied to each of its
meetings is a `ScheduledReminder` due at one instant (the rule's local send hour on the day,
so 08:00 stays 08:00 across daylight saving). Meetings announce their changes
(`meeting_changed`) and programme models theirs (`reminder_rules_changed`); this module
listens and plans, moves or cancels.
"""

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from modell.cohorts.models import Cohort, ProgrammeTemplate, ReminderRule
from modell.cohorts.programme import reminder_rules_changed
from modell.core.timeutil import local_to_utc, to_local
from modell.meetings.models import Meeting
from modell.meetings.services import meeting_changed
from modell.reminders.models import ScheduledReminder


def rules_for(meeting: Meeting) -> list[ReminderRule]:
    if meeting.cohort.is_history:  # recorded after the fact: nobody is reminded
        return []
    return [
        r
        for r in meeting.cohort.template.reminder_rules
        if r.active and r.meeting_kind_key == meeting.kind.key
    ]


def previous_meeting(session: Session, meeting: Meeting) -> Meeting | None:
    """The meeting of the same kind just before this one, in the same group (or cohort)."""
    return _numbered(session, meeting, meeting.number - 1) if meeting.number > 1 else None


def next_meeting(session: Session, meeting: Meeting) -> Meeting | None:
    return _numbered(session, meeting, meeting.number + 1)


def _numbered(session: Session, meeting: Meeting, number: int) -> Meeting | None:
    """The meeting of the same kind with this number, in the same group (or the cohort)."""
    return session.scalar(
        sa.select(Meeting).where(
            Meeting.cohort_id == meeting.cohort_id,
            Meeting.group_id.is_(None)
            if meeting.group_id is None
            else Meeting.group_id == meeting.group_id,
            Meeting.kind_id == meeting.kind_id,
            Meeting.number == number,
        )
    )


def due_instant(rule: ReminderRule, meeting: Meeting, previous: Meeting | None) -> datetime | None:
    """When the rule comes due for the meeting: the local send hour on the meeting's day plus
    the offset (between meetings: from the midpoint since the previous one)."""
    if meeting.starts_at is None:
        return None
    day = to_local(meeting.starts_at).date()
    if rule.event == "between_meetings":
        if previous is None or previous.starts_at is None or previous.status == "cancelled":
            return None
        before = to_local(previous.starts_at).date()
        day = before + timedelta(days=(day - before).days // 2)
    return local_to_utc(day + timedelta(days=rule.offset_days), time(rule.send_hour, 0))


def plan_meeting(
    session: Session, meeting: Meeting, *, now: datetime, catch_up: bool = True
) -> None:
    """Plan, move or cancel the meeting's reminders. Pending ones move with the meeting; one
    already sent comes again when the meeting moves so that its new time is still ahead
    (people are told of the new date). `catch_up=False` (a coordinator changed the rules):
    a reminder whose new time has already passed is not sent at all, so a changed rule
    never sends a burst of mail about the past."""
    existing = {
        s.rule_id: s
        for s in session.scalars(
            sa.select(ScheduledReminder).where(ScheduledReminder.meeting_id == meeting.id)
        )
    }
    previous = None
    rules = rules_for(meeting)
    # A rule turned off, or moved to another kind of meeting: its pending reminder is not due.
    wanted = {rule.id for rule in rules}
    for rule_id, row in existing.items():
        if rule_id not in wanted and row.state == "pending":
            row.state, row.reason, row.updated_at = "cancelled", "rule_inactive", now
    for rule in rules:
        if rule.event == "between_meetings" and previous is None:
            previous = previous_meeting(session, meeting)
        row = existing.get(rule.id)
        due = None if meeting.status == "cancelled" else due_instant(rule, meeting, previous)
        if due is None:
            if row is not None and row.state == "pending":
                row.state = "cancelled"
                row.reason = (
                    "meeting_cancelled" if meeting.status == "cancelled" else "meeting_undated"
                )
                row.updated_at = now
            continue
        passed = not catch_up and due <= now
        if row is None:
            session.add(
                ScheduledReminder(
                    rule_id=rule.id,
                    meeting_id=meeting.id,
                    due_at=due,
                    state="cancelled" if passed else "pending",
                    reason="rule_changed" if passed else None,
                    created_at=now,
                    updated_at=now,
                )
            )
        elif row.state == "pending" or (
            row.state == "cancelled"
            and row.reason
            in ("meeting_undated", "meeting_cancelled", "rule_inactive", "rule_changed")
        ):
            row.due_at, row.updated_at = due, now
            row.state, row.reason = ("cancelled", "rule_changed") if passed else ("pending", None)
        elif row.state == "done" and due != row.due_at and due > now:
            # Sent for the old date; the meeting moved: remind again of the new one.
            row.due_at, row.state, row.reason, row.updated_at = due, "pending", None, now
            row.processed_at = None


@meeting_changed.connect
def _on_meeting_changed(meeting: Meeting, *, session: Session, now: datetime) -> None:
    session.flush()
    plan_meeting(session, meeting, now=now)
    # The next meeting's between-meetings reminders count from this one.
    following = next_meeting(session, meeting)
    if following is not None:
        plan_meeting(session, following, now=now)


@reminder_rules_changed.connect
def _on_rules_changed(template: ProgrammeTemplate, *, session: Session, now: datetime) -> None:
    """A coordinator changed the template's reminders: the cohorts that use it follow."""
    session.flush()
    meetings = session.scalars(
        sa.select(Meeting)
        .join(Cohort, Meeting.cohort_id == Cohort.id)
        .where(Cohort.template_id == template.id, Cohort.status != "concluded")
    ).all()
    for meeting in meetings:
        plan_meeting(session, meeting, now=now, catch_up=False)


def plan_all(session: Session, *, now: datetime) -> int:
    """Plan every meeting of every running cohort (for data from before the scheduler)."""
    meetings = session.scalars(
        sa.select(Meeting)
        .join(Cohort, Meeting.cohort_id == Cohort.id)
        .where(Cohort.status == "running")
    ).all()
    for meeting in meetings:
        plan_meeting(session, meeting, now=now)
    return len(meetings)
