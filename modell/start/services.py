"""What each person should do next, for their start page.

- A coordinator: the live cohorts, ranked by what is overdue: registrations to decide,
  meetings without a date, late checklist items, organisations silent since the last meeting.
- A host: the next meeting the organisation hosts, with its checklist and what is late.
- A participant: the next meeting, whether the organisation has logged since the last one,
  and the open reminders.
- A mentor: its groups and who in them needs a nudge.
- A county observer: the county's organisations in the programme and how far they have come.

Time is an argument; nothing here writes.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from modell.cohorts import services as cohort_services
from modell.cohorts.models import Cohort, InterestRegistration, Participation
from modell.cohorts.services import DECIDING_STATES
from modell.core.text import swedish_key
from modell.core.timeutil import to_local
from modell.improvements import pace
from modell.improvements.models import ImprovementWork, LogEntry
from modell.meetings.models import Meeting
from modell.meetings.services import ChecklistItem, checklist, may_have_late_items
from modell.organisations.models import Organisation
from modell.reminders.models import Notification

LIVE = ("open", "forming", "running")


@dataclass
class LateMeeting:
    meeting: Meeting
    late: list[ChecklistItem]


@dataclass
class CohortAttention:
    """One live cohort and what in it waits for the coordinator."""

    cohort: Cohort
    registrations: int = 0
    undated: list[Meeting] = field(default_factory=list)
    late: list[LateMeeting] = field(default_factory=list)
    silent: list[Participation] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        late_items = sum(len(m.late) for m in self.late)
        return self.registrations + len(self.undated) + late_items + len(self.silent)


def coordinator_start(session: Session, *, now: datetime) -> list[CohortAttention]:
    """The live cohorts (not history), the one with most waiting first."""
    today = to_local(now).date()
    cohorts = session.scalars(
        sa.select(Cohort)
        .where(Cohort.status.in_(LIVE), Cohort.is_history.is_(False))
        .options(selectinload(Cohort.groups))
        .order_by(Cohort.starts_on, Cohort.id)
    ).all()
    ids = [c.id for c in cohorts] or [-1]
    waiting = dict(
        session.execute(
            sa.select(InterestRegistration.cohort_id, sa.func.count())
            .join(Cohort, Cohort.id == InterestRegistration.cohort_id)
            .where(
                InterestRegistration.cohort_id.in_(ids),
                InterestRegistration.status == "submitted",
                Cohort.status.in_(DECIDING_STATES),
            )
            .group_by(InterestRegistration.cohort_id)
        ).all()
    )
    # Only what can need attention: the undated meetings, and the planned ones near enough
    # (or past) for a checklist item to be late; not a national cohort's whole schedule.
    meetings = session.scalars(
        sa.select(Meeting)
        .where(
            Meeting.cohort_id.in_(ids),
            sa.or_(
                sa.and_(Meeting.status.in_(("planned", "held")), Meeting.starts_at.is_(None)),
                may_have_late_items(now),
            ),
        )
        .options(selectinload(Meeting.group), selectinload(Meeting.host))
        .order_by(Meeting.starts_at.nulls_last(), Meeting.id)
    ).all()
    by_cohort: dict[int, list[Meeting]] = {}
    for m in meetings:
        by_cohort.setdefault(m.cohort_id, []).append(m)
    silent = pace.silent_by_group(session, [g for c in cohorts for g in c.groups], today=today)
    result = []
    for cohort in cohorts:
        attention = CohortAttention(cohort, registrations=waiting.get(cohort.id, 0))
        for m in by_cohort.get(cohort.id, []):
            if m.starts_at is None:
                attention.undated.append(m)
            elif m.status == "planned":
                late = [item for item in checklist(m, today) if item.late]
                if late:
                    attention.late.append(LateMeeting(m, late))
        attention.silent = [p for g in cohort.groups for p in silent.get(g.id, [])]
        result.append(attention)
    return sorted(result, key=lambda a: (-a.overdue, a.cohort.starts_on or date.max))


@dataclass
class HostedMeeting:
    meeting: Meeting
    items: list[ChecklistItem]

    @property
    def late(self) -> list[ChecklistItem]:
        return [i for i in self.items if i.late]


@dataclass
class ParticipantPlace:
    """The organisation's place in a running cohort, as a participant sees it."""

    participation: Participation
    next_meeting: Meeting | None
    last_meeting_day: date | None
    latest_entry: date | None

    @property
    def logged_since_last_meeting(self) -> bool | None:
        """None before the first meeting; else whether anything is logged since it."""
        if self.last_meeting_day is None:
            return None
        return self.latest_entry is not None and self.latest_entry >= self.last_meeting_day


@dataclass
class MentorGroup:
    participation: Participation
    silent: list[Participation]
    next_meeting: Meeting | None


@dataclass
class MemberStart:
    hosting: list[HostedMeeting] = field(default_factory=list)
    places: list[ParticipantPlace] = field(default_factory=list)
    mentoring: list[MentorGroup] = field(default_factory=list)
    reminders: list[Notification] = field(default_factory=list)
    # Accepted, but the cohort has not started or the organisation has no group yet.
    waiting: list[Participation] = field(default_factory=list)


def member_start(session: Session, user, *, now: datetime) -> MemberStart:
    """A member's start: what the organisation hosts, where it takes part, whom it mentors,
    and the person's unread reminders."""
    start = MemberStart()
    today = to_local(now).date()
    start.reminders = list(
        session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .order_by(Notification.created_at.desc())
            .limit(5)
        )
    )
    organisation_id = user.organisation_id
    if organisation_id is None:
        return start
    hosted = session.scalars(
        sa.select(Meeting)
        .join(Cohort, Cohort.id == Meeting.cohort_id)
        .where(
            Meeting.host_organisation_id == organisation_id,
            Meeting.status == "planned",
            Cohort.status.in_(LIVE),
            sa.or_(Meeting.starts_at.is_(None), Meeting.starts_at >= now),
        )
        # Joined, not loaded after: one query whether or not it hosts anything.
        .options(joinedload(Meeting.group), contains_eager(Meeting.cohort))
        .order_by(Meeting.starts_at.nulls_last(), Meeting.id)
        .limit(3)
    ).all()
    start.hosting = [HostedMeeting(m, checklist(m, today)) for m in hosted]
    placed = session.scalars(
        sa.select(Participation)
        .join(Cohort, Cohort.id == Participation.cohort_id)
        .where(
            Participation.organisation_id == organisation_id,
            Participation.status == "active",
            Cohort.status.in_(LIVE),
            Cohort.is_history.is_(False),
        )
        .options(joinedload(Participation.cohort), joinedload(Participation.group))
        .order_by(Cohort.starts_on, Cohort.id)
    ).all()
    live = [p for p in placed if p.group is not None and p.cohort.status == "running"]
    start.waiting = [p for p in placed if p not in live]
    benchmarking = [p for p in live if p.role == "benchmarking"]
    latest = pace.last_entry_dates(session, [p.id for p in benchmarking])
    days = pace.benchmarking_dates_by_group(session, [p.group_id for p in benchmarking])
    coming = _next_meetings(session, live, now)
    for p in benchmarking:
        held = [d for d in days.get(p.group_id, []) if d <= today]
        start.places.append(
            ParticipantPlace(
                participation=p,
                next_meeting=coming.get(p.id),
                last_meeting_day=held[-1] if held else None,
                latest_entry=latest.get(p.id),
            )
        )
    mentoring = [p for p in live if p.role in ("mentor", "support")]
    silent = pace.silent_by_group(session, [p.group for p in mentoring], today=today)
    start.mentoring = [
        MentorGroup(
            participation=p,
            silent=silent.get(p.group_id, []),
            next_meeting=coming.get(p.id),
        )
        for p in mentoring
    ]
    return start


def _next_meetings(
    session: Session, participations: list[Participation], now: datetime
) -> dict[int, Meeting]:
    """Per participation, the next dated meeting of its group or of its whole cohort: one
    query for any number of places."""
    if not participations:
        return {}
    meetings = session.scalars(
        sa.select(Meeting)
        .where(
            Meeting.cohort_id.in_({p.cohort_id for p in participations}),
            sa.or_(
                Meeting.group_id.in_({p.group_id for p in participations}),
                Meeting.group_id.is_(None),
            ),
            Meeting.status == "planned",
            Meeting.starts_at >= now,
        )
        .options(joinedload(Meeting.kind))  # the title is written from the kind
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    coming: dict[int, Meeting] = {}
    for p in participations:
        coming_here = (
            m for m in meetings if m.cohort_id == p.cohort_id and m.group_id in (p.group_id, None)
        )
        first = next(coming_here, None)
        if first is not None:
            coming[p.id] = first
    return coming


@dataclass
class CountyOrganisation:
    organisation: Organisation
    participation: Participation
    highest_step: int | None
    latest_entry: date | None


def county_start(session: Session, county_code: str) -> list[CountyOrganisation]:
    """The county's organisations taking part in live cohorts, with the highest step of the
    result chain each has reached and its latest entry."""
    participations = session.scalars(
        sa.select(Participation)
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .join(Cohort, Cohort.id == Participation.cohort_id)
        .where(
            Organisation.county_code == county_code,
            Cohort.status.in_(LIVE),
            Cohort.is_history.is_(False),
            Participation.status == "active",
        )
        # Each row's organisation, cohort and group in the same query: as many queries
        # for a county with many organisations as for one with none.
        .options(
            joinedload(Participation.organisation),
            joinedload(Participation.cohort),
            joinedload(Participation.group),
        )
    ).all()
    ids = [p.id for p in participations] or [-1]
    reached = {
        participation_id: (highest, latest)
        for participation_id, highest, latest in session.execute(
            sa.select(
                ImprovementWork.participation_id,
                sa.func.max(LogEntry.result_step),
                sa.func.max(LogEntry.entry_date),
            )
            .join(LogEntry, LogEntry.work_id == ImprovementWork.id)
            .where(ImprovementWork.participation_id.in_(ids))
            .group_by(ImprovementWork.participation_id)
        )
    }
    rows = [
        CountyOrganisation(p.organisation, p, *reached.get(p.id, (None, None)))
        for p in participations
    ]
    return sorted(rows, key=lambda r: (r.organisation.name.casefold(), r.participation.cohort_id))


@dataclass
class CountyHistory:
    participation: Participation
    title: str | None


def county_history(session: Session, county_code: str) -> list[CountyHistory]:
    """The county's organisations in concluded cohorts (live or recorded afterwards): their
    role, whether they completed, and the title it earned, newest cohort first per
    organisation."""
    participations = session.scalars(
        sa.select(Participation)
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .join(Cohort, Cohort.id == Participation.cohort_id)
        .where(Organisation.county_code == county_code, Cohort.status == "concluded")
        .options(joinedload(Participation.organisation), joinedload(Participation.cohort))
    ).all()
    titles = cohort_services.titles_of(session, [p.organisation_id for p in participations])
    rows = [CountyHistory(p, titles.get(p.organisation_id)) for p in participations]
    return sorted(
        rows,
        key=lambda r: (
            swedish_key(r.participation.organisation.name),
            -(r.participation.cohort.starts_on or date.min).toordinal(),
        ),
    )
