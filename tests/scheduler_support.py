"""Many due reminders at once, for the scheduler's process tests and its benchmark.

Each reminder is the "send the invitation" rule of the running demo cohort's model, applied
to a meeting of its own hosted by an organisation of its own, whose one strategist is the
only recipient: n reminders make n messages to n different addresses.
"""

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from modell.cohorts.models import Cohort, ReminderRule
from modell.demo_living import LIVING_DESCRIPTION
from modell.meetings.models import Meeting
from modell.organisations.models import Organisation, Person
from modell.reminders.models import ScheduledReminder


def add_due_reminders(
    session: Session,
    n: int,
    *,
    due_at: datetime,
    now: datetime,
    tag: str = "r",
    cohort_id: int | None = None,
) -> list[str]:
    """Add n pending reminders due at `due_at` (meetings 30 days after it) to the given
    cohort, by default the demo's running one; return the recipients' addresses."""
    if cohort_id is None:
        cohort = session.scalar(sa.select(Cohort).where(Cohort.description == LIVING_DESCRIPTION))
    else:
        cohort = session.get(Cohort, cohort_id)
    rule = session.scalar(
        sa.select(ReminderRule).where(
            ReminderRule.template_id == cohort.template_id, ReminderRule.key == "send_invitation"
        )
    )
    kind = next(k for k in cohort.template.meeting_kinds if k.key == rule.meeting_kind_key)
    starts = due_at + timedelta(days=30)
    addresses = []
    for i in range(n):
        email = f"{tag}{i}@process.example.org"
        org = Organisation(name=f"Processkommun {tag}{i}", kind="municipality", created_at=now)
        org.people.append(
            Person(name=f"Strateg {i}", function="strategist", email=email, created_at=now)
        )
        meeting = Meeting(
            cohort_id=cohort.id,
            kind_id=kind.id,
            number=1,
            title=f"Benchmarkingträff {tag}{i}",
            status="planned",
            host=org,
            starts_at=starts,
            ends_at=starts + timedelta(hours=4),
            ical_uid=f"{uuid.uuid4()}@process.example.org",
            created_at=now,
            updated_at=now,
        )
        session.add_all([org, meeting])
        session.add(
            ScheduledReminder(
                rule_id=rule.id,
                meeting=meeting,
                due_at=due_at,
                state="pending",
                created_at=now,
                updated_at=now,
            )
        )
        addresses.append(email)
        if i % 500 == 499:
            session.flush()
    session.flush()
    return addresses
