"""SKR's follow-up of a cohort: per organisation the result-chain steps reached, the expected
results shown, attendance by function and what is overdue; the cohort-level picture of how
many reached steps 3–4; the "På gång" digest; the exports. A constant number of queries
whatever the number of organisations and entries."""

import json
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from modell.cohorts.models import Cohort, Group, MeetingKind, Participation
from modell.core import revisions
from modell.core.timeutil import to_local
from modell.improvements.models import (
    EXPECTED_RESULTS,
    Baseline,
    ImprovementWork,
    Indicator,
    IndicatorValue,
    LogEntry,
)
from modell.meetings.after_meeting import attendance_counted, attendance_counts
from modell.meetings.invitations import counted_for
from modell.meetings.models import Meeting
from modell.organisations.models import Organisation

SORTS = ("name", "group", "step", "results", "latest")


@dataclass
class OverviewRow:
    participation: Participation
    organisation: Organisation
    group: Group | None
    steps: dict[int, int]  # step -> number of entries at it
    highest: int | None
    results: list[str]  # the expected results shown
    latest: date | None
    attendance: dict[str, tuple[int, int]]  # function -> (came, held)
    has_baseline: bool
    silent: bool  # nothing written since the group's last benchmarking meeting
    overdue: list[str] = field(default_factory=list)


def overview(
    session: Session,
    cohort: Cohort,
    *,
    today: date,
    sort: str = "group",
    group_id: int | None = None,
    only_overdue: bool = False,
) -> list[OverviewRow]:
    """One row per benchmarking participant of the cohort."""
    revisions.revision_of(session, cohort.id)  # asked first: what is read next is as new
    participations = session.scalars(
        sa.select(Participation)
        .where(Participation.cohort_id == cohort.id, Participation.role == "benchmarking")
        .where(Participation.status.in_(("active", "completed", "not_completed")))
        .options(joinedload(Participation.organisation), joinedload(Participation.group))
    ).all()
    tallies = revisions.kept(
        session,
        cohort.id,
        "overview",
        lambda: _tallies(session, cohort, participations, today),
        today,
    )
    if any(p.id not in tallies for p in participations):  # one joined since the count
        tallies = _tallies(session, cohort, participations, today)
    rows = []
    for p in participations:
        t = tallies[p.id]
        row = OverviewRow(
            participation=p,
            organisation=p.organisation,
            group=p.group,
            steps=dict(t.steps),
            highest=t.highest,
            results=list(t.results),
            latest=t.latest,
            attendance=dict(t.attendance),
            has_baseline=t.has_baseline,
            silent=t.silent,
        )
        if cohort.is_history:
            pass  # recorded afterwards: nothing in it can be late any more
        else:
            if t.silent:
                row.overdue.append("silent")
            if not t.has_baseline:
                row.overdue.append("baseline")
        rows.append(row)
    return select_rows(rows, sort=sort, group_id=group_id, only_overdue=only_overdue)


@dataclass(frozen=True)
class Tally:
    """What the overview counts for one participation, kept until the cohort changes."""

    steps: tuple[tuple[int, int], ...]  # (step, entries at it)
    highest: int | None
    results: tuple[str, ...]
    latest: date | None
    attendance: tuple[tuple[str, tuple[int, int]], ...]
    has_baseline: bool
    silent: bool


def _tallies(
    session: Session, cohort: Cohort, participations: list[Participation], today: date
) -> dict[int, Tally]:
    ids = [p.id for p in participations]
    # Counted in the database: per organisation, step and set of expected results, how many
    # entries and the latest date. A national cohort has thousands of entries; the rows
    # here are a few per organisation, and each set of results is read once.
    expected = sa.cast(LogEntry.expected_results, sa.Text)
    entry_rows = (
        session.connection()
        .execute(
            sa.select(
                ImprovementWork.participation_id,
                LogEntry.result_step,
                expected,
                sa.func.count(),
                sa.func.max(LogEntry.entry_date),
            )
            .join(LogEntry, LogEntry.work_id == ImprovementWork.id)
            .where(ImprovementWork.participation_id.in_(ids or [-1]))
            .group_by(ImprovementWork.participation_id, LogEntry.result_step, expected)
        )
        .all()
    )
    baselines = set(
        session.scalars(
            sa.select(Baseline.participation_id).where(Baseline.participation_id.in_(ids or [-1]))
        )
    )
    # The cohort's meetings as plain rows: what is counted and compared needs no objects.
    meetings = (
        session.connection()
        .execute(
            sa.select(
                Meeting.id, Meeting.group_id, Meeting.status, Meeting.starts_at, MeetingKind.key
            )
            .join(MeetingKind, MeetingKind.id == Meeting.kind_id)
            .where(Meeting.cohort_id == cohort.id)
        )
        .all()
    )
    held = [m for m in meetings if m.status == "held"]
    counted = attendance_counted(session, cohort.id)
    invited = counted_for(participations, held)
    last_meeting: dict[int, date] = {}
    for m in meetings:
        if m.group_id and m.key == "benchmarking" and m.starts_at and m.status != "cancelled":
            day = to_local(m.starts_at).date()
            if day <= today and day > last_meeting.get(m.group_id, date.min):
                last_meeting[m.group_id] = day
    by_participation: dict[int, list] = {}
    for row in entry_rows:
        by_participation.setdefault(row[0], []).append(row)
    sets: dict[str | None, list[str]] = {}
    tallies = {}
    for p in participations:
        steps = dict.fromkeys((1, 2, 3, 4), 0)
        named: set[str] = set()
        latest = None
        for _p, step, text, count, last in by_participation.get(p.id, []):
            steps[step] = steps.get(step, 0) + count
            if text not in sets:
                sets[text] = json.loads(text) if text else []
            named.update(sets[text] or [])
            latest = last if latest is None or last > latest else latest
        meeting_day = last_meeting.get(p.group_id) if p.group_id else None
        tallies[p.id] = Tally(
            steps=tuple(steps.items()),
            highest=max((s for s, n in steps.items() if n), default=None),
            results=tuple(r for r in EXPECTED_RESULTS if r in named),
            latest=latest,
            attendance=tuple(attendance_counts(p, invited[p.id], counted).items()),
            has_baseline=p.id in baselines,
            silent=meeting_day is not None and (latest is None or latest < meeting_day),
        )
    return tallies


def select_rows(
    rows: list[OverviewRow],
    *,
    sort: str = "group",
    group_id: int | None = None,
    only_overdue: bool = False,
) -> list[OverviewRow]:
    """The overview's rows of one group, or only those overdue, in the order asked for: so
    that a page computes the overview once and shows a part of it."""
    if group_id is not None:
        rows = [r for r in rows if r.participation.group_id == group_id]
    if only_overdue:
        rows = [r for r in rows if r.overdue]
    keys = {
        "name": lambda r: r.organisation.name.casefold(),
        "group": lambda r: (r.group.position if r.group else 999, r.organisation.name.casefold()),
        "step": lambda r: (-(r.highest or 0), r.organisation.name.casefold()),
        "results": lambda r: (-len(r.results), r.organisation.name.casefold()),
        "latest": lambda r: (r.latest or date.min, r.organisation.name.casefold()),
    }
    return sorted(rows, key=keys.get(sort, keys["group"]))


def step_picture(rows: list[OverviewRow]) -> dict[str, int]:
    """How far the cohort's organisations got: earlier programmes mostly stopped at 1–2."""
    picture = {"none": 0, "1-2": 0, "3-4": 0}
    for r in rows:
        if r.highest is None:
            picture["none"] += 1
        elif r.highest <= 2:
            picture["1-2"] += 1
        else:
            picture["3-4"] += 1
    return picture


def entries_of(
    session: Session, cohort: Cohort, *, since: date | None = None, until: date | None = None
) -> list[LogEntry]:
    """The cohort's log entries (in a period), with their work and organisation loaded."""
    stmt = (
        sa.select(LogEntry)
        .join(ImprovementWork)
        .join(Participation, Participation.id == ImprovementWork.participation_id)
        .where(Participation.cohort_id == cohort.id)
        .options(
            selectinload(LogEntry.work)
            .selectinload(ImprovementWork.participation)
            .selectinload(Participation.organisation),
            selectinload(LogEntry.work)
            .selectinload(ImprovementWork.participation)
            .selectinload(Participation.group),
        )
        .order_by(LogEntry.entry_date.desc(), LogEntry.id.desc())
    )
    if since is not None:
        stmt = stmt.where(LogEntry.entry_date >= since)
    if until is not None:
        stmt = stmt.where(LogEntry.entry_date <= until)
    return list(session.scalars(stmt))


def indicator_values_of(
    session: Session, cohort: Cohort, *, organisation_id: int | None = None
) -> list[tuple[Organisation, Indicator, IndicatorValue]]:
    """Every indicator value of the cohort's benchmarking participants (or one of them)."""
    org_ids = sa.select(Participation.organisation_id).where(
        Participation.cohort_id == cohort.id, Participation.role == "benchmarking"
    )
    stmt = (
        sa.select(Organisation, Indicator, IndicatorValue)
        .join(Indicator, Indicator.organisation_id == Organisation.id)
        .join(IndicatorValue, IndicatorValue.indicator_id == Indicator.id)
        .where(Organisation.id.in_(org_ids))
        .order_by(Organisation.name, Indicator.name, IndicatorValue.period)
    )
    if organisation_id is not None:
        stmt = stmt.where(Organisation.id == organisation_id)
    return [tuple(row) for row in session.execute(stmt)]
