"""The programme's pace between the benchmarking meetings: which stretch between them a day
falls in, each organisation's latest entry, and who has written nothing since the group's
last meeting. A fixed number of queries for any number of groups."""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from modell.cohorts.models import Group, MeetingKind, Participation
from modell.core.timeutil import to_local
from modell.improvements.models import ImprovementWork, LogEntry
from modell.meetings.models import Meeting

# --- intervals between the meetings ------------------------------------------------------------


def benchmarking_dates(session: Session, group: Group | None) -> list[date]:
    """The days of the group's benchmarking meetings that have a date, in order."""
    if group is None:
        return []
    return benchmarking_dates_by_group(session, [group.id]).get(group.id, [])


def benchmarking_dates_by_group(session: Session, group_ids: list[int]) -> dict[int, list[date]]:
    """The same for several groups, in one query: {group id: days in order}."""
    if not group_ids:
        return {}
    rows = session.execute(
        sa.select(Meeting.group_id, Meeting.starts_at)
        .join(Meeting.kind)
        .where(
            Meeting.group_id.in_(group_ids),
            Meeting.status != "cancelled",
            Meeting.starts_at.is_not(None),
            MeetingKind.key == "benchmarking",
        )
        .order_by(Meeting.starts_at)
    ).all()
    days: dict[int, list[date]] = {}
    for group_id, starts_at in rows:
        days.setdefault(group_id, []).append(to_local(starts_at).date())
    return days


def interval_label(day: date, meeting_days: list[date]) -> str:
    """Which stretch between the benchmarking meetings a day falls in: "before meeting 1",
    "between meeting 1 and 2", ..., "after meeting 3". A meeting's own day belongs to the
    stretch it opens."""
    passed = sum(1 for d in meeting_days if d <= day)
    if not meeting_days:
        return str(_l("No meetings planned yet"))
    if passed == 0:
        return str(_l("Before meeting 1"))
    if passed >= len(meeting_days):
        return str(_l("After meeting %(n)d", n=len(meeting_days)))
    return str(_l("Between meeting %(a)d and %(b)d", a=passed, b=passed + 1))


# --- who has gone quiet ---------------------------------------------------------------------------


def last_entry_dates(session: Session, participation_ids: list[int]) -> dict[int, date]:
    """The date of each participation's latest log entry, in one query: each piece of work's
    latest read from the index on (work, date), not every entry of the cohort scanned."""
    if not participation_ids:
        return {}
    latest_of_work = (
        sa.select(sa.func.max(LogEntry.entry_date))
        .where(LogEntry.work_id == ImprovementWork.id)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(ImprovementWork.participation_id, latest_of_work).where(
            ImprovementWork.participation_id.in_(participation_ids)
        )
    ).all()
    latest: dict[int, date] = {}
    for participation_id, day in rows:
        if day is not None and (participation_id not in latest or day > latest[participation_id]):
            latest[participation_id] = day
    return latest


def silent_since_last_meeting(
    session: Session, group: Group, *, today: date
) -> list[Participation]:
    """The group's benchmarking participants with no log entry since its last benchmarking
    meeting that has taken place (none before the first meeting)."""
    return silent_by_group(session, [group], today=today).get(group.id, [])


def silent_by_group(
    session: Session, groups: list[Group], *, today: date
) -> dict[int, list[Participation]]:
    """Per group, the benchmarking participants with nothing logged since the group's last
    benchmarking meeting that has taken place, by name: three queries for any number of
    groups, whether or not they have met yet."""
    if not groups:
        return {}
    days = benchmarking_dates_by_group(session, [g.id for g in groups])
    last: dict[int, date] = {}
    for group_id, group_days in days.items():
        held = [d for d in group_days if d <= today]
        if held:
            last[group_id] = held[-1]
    participants = [
        p
        for p in session.scalars(
            sa.select(Participation)
            .where(
                Participation.group_id.in_([g.id for g in groups]),
                Participation.role == "benchmarking",
            )
            .options(joinedload(Participation.organisation))
        )
        if p.group_id in last
    ]
    latest = last_entry_dates(session, [p.id for p in participants])
    silent: dict[int, list[Participation]] = {}
    for p in sorted(participants, key=lambda p: p.organisation.name):
        if latest.get(p.id) is None or latest[p.id] < last[p.group_id]:
            silent.setdefault(p.group_id, []).append(p)
    return silent
