"""The rules of the improvement work between meetings: the baseline, the pieces of work and
their log on the result chain, good examples and the four expected results. Mentor sessions
are in mentoring.py; the stretches between the meetings and who has gone quiet in pace.py.

Every function takes a session and `now` (never the clock itself), so a route, a CLI
command, the scheduler and a test call it alike.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from modell.cohorts.models import Cohort, Group, Participation
from modell.core import audit
from modell.core.errors import DATE_RANGE_MESSAGE, RuleViolation, check_version
from modell.core.files import FileStore, store_file
from modell.core.timeutil import in_range, to_local
from modell.improvements.models import (
    EXPECTED_RESULTS,
    IMPROVEMENT_STATUSES,
    SUBGOALS,
    TARGET_GROUPS,
    Baseline,
    ImprovementWork,
    Indicator,
    LogEntry,
)
from modell.organisations.models import FUNCTIONS

# --- the labels a user reads -------------------------------------------------------------------

STEP_LABELS = {
    1: _l("1 Activity"),
    2: _l("2 Product"),
    3: _l("3 New or changed way of working"),
    4: _l("4 Changed outcome for the target groups"),
}
# Each step explained with an example from the programme, so the form helps move work up.
STEP_HELP = {
    1: _l("Something was done: a training, a mapping, a workshop with the managers."),
    2: _l("Something was produced: a steering document, a routine, a checklist."),
    3: _l(
        "People work differently: home care is now granted with the same criteria for women "
        "and men; the cycling plan's priorities were changed."
    ),
    4: _l(
        "The outcome for the target groups changed, shown by an indicator for women and men: "
        "more even participation of women and men in labour-market measures."
    ),
}
SUBGOAL_LABELS = {
    "power_influence": _l("Power and influence"),
    "economic_equality": _l("Economic equality"),
    "education": _l("Education"),
    "unpaid_care": _l("Unpaid housework and care work"),
    "health": _l("Health"),
    "violence": _l("Men's violence against women must stop"),
}
TARGET_GROUP_LABELS = {
    "women_men": _l("Women and men"),
    "girls_boys": _l("Girls and boys"),
    "other": _l("Other groups"),
}
STATUS_LABELS = {
    "planned": _l("Planned"),
    "ongoing": _l("Ongoing"),
    "done": _l("Done"),
    "paused": _l("Paused"),
}
EXPECTED_RESULT_LABELS = {
    "governance": _l("Improvement in the system for governance, management and follow-up"),
    "core_activity": _l("A new or changed way of working in a core activity"),
    "indicators": _l("Indicators that follow outcomes for women and men, girls and boys"),
    "cross_sectoral": _l("A method for cross-sectoral perspectives (Agenda 2030)"),
}


# --- loading -----------------------------------------------------------------------------------


def load_participation(session: Session, participation_id: int) -> Participation | None:
    return session.scalar(
        sa.select(Participation)
        .where(Participation.id == participation_id)
        .options(
            # The one participation's organisation, cohort and group in the same query; the
            # group's participations with their organisations in one more.
            joinedload(Participation.organisation),
            joinedload(Participation.cohort),
            joinedload(Participation.group)
            .selectinload(Group.participations)
            .joinedload(Participation.organisation),
        )
    )


def load_group(session: Session, group_id: int) -> Group | None:
    """A group with its cohort, and its participations with their organisations, in two
    queries: who may see and write, and the members' names."""
    return session.scalar(
        sa.select(Group)
        .where(Group.id == group_id)
        .options(
            joinedload(Group.cohort),
            selectinload(Group.participations).joinedload(Participation.organisation),
        )
    )


def participations_of_organisation(session: Session, organisation_id: int) -> list[Participation]:
    """The organisation's places in cohorts that have started or are forming groups: where
    there is work to log (newest cohort first)."""
    return list(
        session.scalars(
            sa.select(Participation)
            .join(Cohort)
            .where(
                Participation.organisation_id == organisation_id,
                Cohort.status.in_(("forming", "running", "concluded")),
                Participation.status.in_(("active", "completed")),
            )
            .options(selectinload(Participation.cohort), selectinload(Participation.group))
            .order_by(Cohort.starts_on.desc(), Cohort.id.desc())
        )
    )


def works_of(session: Session, participation: Participation) -> list[ImprovementWork]:
    return list(
        session.scalars(
            sa.select(ImprovementWork)
            .where(ImprovementWork.participation_id == participation.id)
            .options(selectinload(ImprovementWork.entries).joinedload(LogEntry.indicator))
            .order_by(ImprovementWork.created_at, ImprovementWork.id)
        )
    )


# --- the baseline ("Kommunfakta") ---------------------------------------------------------------

BASELINE_FIELDS = (
    "mandate_decision",
    "mandate_date",
    "responsible",
    "demography",
    "organisation_text",
    "goals",
    "priority_areas",
    "functions",
)


def baselines_of(session: Session, participation_ids: list[int]) -> dict[int, Baseline]:
    """The baselines of several participations in one query (a group's side by side)."""
    rows = session.scalars(
        sa.select(Baseline).where(Baseline.participation_id.in_(participation_ids or [-1]))
    )
    return {b.participation_id: b for b in rows}


def indicators_of(session: Session, organisation_id: int) -> list[Indicator]:
    return list(
        session.scalars(
            sa.select(Indicator)
            .where(Indicator.organisation_id == organisation_id)
            .order_by(Indicator.name)
        )
    )


def baseline_of(session: Session, participation: Participation) -> Baseline | None:
    return session.scalar(sa.select(Baseline).where(Baseline.participation_id == participation.id))


def save_baseline(
    session: Session,
    participation: Participation,
    *,
    now: datetime,
    user_id: int | None,
    expected_version: int | None = None,
    **values,
) -> Baseline:
    """Record or correct where the organisation starts: its mandate, facts and goals."""
    unknown = set(values) - set(BASELINE_FIELDS)
    if unknown:
        raise ValueError(f"not baseline fields: {sorted(unknown)}")
    if not in_range(values.get("mandate_date")):
        raise RuleViolation(DATE_RANGE_MESSAGE, field="mandate_date")
    functions = values.get("functions") or []
    if any(f not in FUNCTIONS for f in functions):
        raise RuleViolation(_l("Choose functions from the list."), field="functions")
    baseline = baseline_of(session, participation)
    if baseline is None:
        baseline = Baseline(participation=participation, functions=[])
        session.add(baseline)
    else:
        check_version(baseline, expected_version)
    for key, value in values.items():
        setattr(baseline, key, clean_text(value))
    baseline.functions = [f for f in FUNCTIONS if f in functions]
    baseline.updated_at, baseline.updated_by_id = now, user_id
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="baseline_saved",
        obj=baseline,
        participation_id=participation.id,
    )
    return baseline


def clean_text(value):
    """Text as stored: trimmed, and None when nothing is left; other values as they are."""
    return (value.strip() or None) if isinstance(value, str) else value


# --- improvement work ---------------------------------------------------------------------------


@dataclass
class WorkData:
    title: str
    description: str | None = None  # the inequality it addresses
    core_activity: str | None = None
    target_groups: list[str] | None = None
    target_groups_other: str | None = None
    goal: str | None = None
    subgoals: list[str] | None = None
    owner: str | None = None
    status: str = "planned"


def save_work(
    session: Session,
    participation: Participation,
    data: WorkData,
    *,
    now: datetime,
    user_id: int | None,
    work: ImprovementWork | None = None,
    expected_version: int | None = None,
) -> ImprovementWork:
    if work is not None:
        check_version(work, expected_version)
        if work.participation_id != participation.id:
            raise RuleViolation(_l("This improvement work belongs to another organisation."))
    if not (data.title or "").strip():
        raise RuleViolation(_l("Give the improvement work a title."), field="title")
    if data.status not in IMPROVEMENT_STATUSES:
        raise RuleViolation(_l("Choose a status from the list."), field="status")
    targets = data.target_groups or []
    if any(t not in TARGET_GROUPS for t in targets):
        raise RuleViolation(_l("Choose target groups from the list."), field="target_groups")
    if "other" in targets and not (data.target_groups_other or "").strip():
        raise RuleViolation(
            _l("Say which other groups the work is for."), field="target_groups_other"
        )
    subgoals = data.subgoals or []
    if any(g not in SUBGOALS for g in subgoals):
        raise RuleViolation(_l("Choose sub-goals from the list."), field="subgoals")
    if work is None:
        work = ImprovementWork(participation=participation, created_at=now, created_by_id=user_id)
        session.add(work)
    work.title = data.title.strip()
    work.description = clean_text(data.description)
    work.core_activity = clean_text(data.core_activity)
    work.target_groups = [t for t in TARGET_GROUPS if t in targets]
    work.target_groups_other = clean_text(data.target_groups_other) if "other" in targets else None
    work.goal = clean_text(data.goal)
    work.subgoals = [g for g in SUBGOALS if g in subgoals]
    work.owner = clean_text(data.owner)
    work.status = data.status
    work.updated_at = now
    audit.record(session, now=now, user_id=user_id, action="improvement_work_saved", obj=work)
    return work


# --- the log on the result chain ------------------------------------------------------------------


@dataclass
class EntryData:
    entry_date: date
    text: str
    result_step: int
    evidence_link: str | None = None
    learned: str | None = None
    obstacles: str | None = None
    next_steps: str | None = None
    indicator_id: int | None = None
    expected_results: list[str] | None = None


@dataclass
class Evidence:
    filename: str
    content: bytes
    store: FileStore
    max_bytes: int


def indicator_shows_change(indicator: Indicator | None) -> bool:
    """Whether the values can show a change for women and men: at least two periods with a
    value for both."""
    if indicator is None:
        return False
    both = [v for v in indicator.values if v.women is not None and v.men is not None]
    return len(both) >= 2


def _touch(session: Session, work: ImprovementWork, now: datetime) -> None:
    """The work was last active now, without moving its version: an entry added by one
    person does not make another person's edit of the work itself stale, and two people
    logging in the same work at the same moment are not in conflict."""
    session.execute(
        sa.update(ImprovementWork.__table__)
        .where(ImprovementWork.__table__.c.id == work.id)
        .values(updated_at=now)
    )
    set_committed_value(work, "updated_at", now)


def save_entry(
    session: Session,
    work: ImprovementWork,
    data: EntryData,
    *,
    now: datetime,
    user_id: int | None,
    entry: LogEntry | None = None,
    expected_version: int | None = None,
    evidence: Evidence | None = None,
) -> LogEntry:
    """Write what was done and how far along the result chain it reached. A step-4 claim
    (changed outcome for the target groups) must point to one of the organisation's
    indicators whose values show the change for women and men."""
    if entry is not None:
        check_version(entry, expected_version)
        if entry.work_id != work.id:
            raise RuleViolation(_l("This entry belongs to another piece of work."))
    if not (data.text or "").strip():
        raise RuleViolation(_l("Say what was done."), field="text")
    if data.result_step not in STEP_LABELS:
        raise RuleViolation(_l("Choose the step the work reached."), field="result_step")
    if not in_range(data.entry_date):
        raise RuleViolation(DATE_RANGE_MESSAGE, field="entry_date")
    if data.entry_date > to_local(now).date():
        raise RuleViolation(
            _l("The log is of what has been done: the date cannot be in the future."),
            field="entry_date",
        )
    results = data.expected_results or []
    if any(r not in EXPECTED_RESULTS for r in results):
        raise RuleViolation(_l("Choose expected results from the list."), field="expected_results")
    indicator = None
    if data.indicator_id is not None:
        indicator = session.get(Indicator, data.indicator_id)
        organisation_id = work.participation.organisation_id
        if indicator is None or indicator.organisation_id != organisation_id:
            raise RuleViolation(
                _l("Choose one of your organisation's indicators."), field="indicator_id"
            )
    if data.result_step == 4 and not indicator_shows_change(indicator):
        raise RuleViolation(
            _l(
                "A changed outcome (step 4) is shown by an indicator with values for women "
                "and men in at least two periods. Choose one, or add its values first."
            ),
            field="indicator_id",
        )
    if entry is None:
        entry = LogEntry(work=work, created_at=now, author_id=user_id, expected_results=[])
        session.add(entry)
    else:
        entry.updated_at = now
        if entry.good_example == "approved":
            # What SKR approved is not what everyone reads after a change: decide again.
            entry.good_example = "proposed"
            entry.good_example_decided_at = entry.good_example_decided_by_id = None
    entry.entry_date = data.entry_date
    entry.text = data.text.strip()
    entry.result_step = data.result_step
    entry.evidence_link = clean_text(data.evidence_link)
    entry.learned = clean_text(data.learned)
    entry.obstacles = clean_text(data.obstacles)
    entry.next_steps = clean_text(data.next_steps)
    entry.indicator = indicator
    entry.expected_results = [r for r in EXPECTED_RESULTS if r in results]
    if evidence is not None:
        stored = store_file(
            evidence.filename,
            evidence.content,
            store=evidence.store,
            max_bytes=evidence.max_bytes,
            field="evidence_file",
        )
        entry.evidence_filename = stored.filename
        entry.evidence_stored_name = stored.stored_name
        entry.evidence_mimetype = stored.mimetype
    _touch(session, work, now)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="log_entry_saved",
        obj=entry,
        work_id=work.id,
        step=entry.result_step,
    )
    return entry


# --- good examples ------------------------------------------------------------------------------


def propose_good_example(
    session: Session, entry: LogEntry, *, now: datetime, user_id: int | None
) -> None:
    if entry.good_example == "approved":
        raise RuleViolation(_l("The entry is already a good example."))
    entry.good_example = "proposed"
    entry.good_example_decided_at = entry.good_example_decided_by_id = None
    audit.record(session, now=now, user_id=user_id, action="good_example_proposed", obj=entry)


def decide_good_example(
    session: Session, entry: LogEntry, *, approve: bool, now: datetime, user_id: int | None
) -> None:
    """A coordinator approves a proposed entry (every signed-in user then reads it) or
    declines it; an approved one can be withdrawn the same way."""
    if entry.good_example not in ("proposed", "approved"):
        raise RuleViolation(_l("Only a proposed good example can be decided."))
    entry.good_example = "approved" if approve else "declined"
    entry.good_example_decided_at, entry.good_example_decided_by_id = now, user_id
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="good_example_decided",
        obj=entry,
        approved=approve,
    )


def good_examples(
    session: Session,
    *,
    status: str = "approved",
    core_activity: str | None = None,
    subgoal: str | None = None,
    text: str | None = None,
    limit: int = 200,
) -> list[LogEntry]:
    """Good examples, newest first; searchable by core activity (part of the words, any
    case), sub-goal and free text. The text filters run in Python: SQLite's lower() does not
    know Å, Ä and Ö."""
    entries = session.scalars(
        sa.select(LogEntry)
        .where(LogEntry.good_example == status)
        .options(
            selectinload(LogEntry.work)
            .selectinload(ImprovementWork.participation)
            .selectinload(Participation.organisation),
            selectinload(LogEntry.work)
            .selectinload(ImprovementWork.participation)
            .selectinload(Participation.cohort),
        )
        .order_by(LogEntry.entry_date.desc(), LogEntry.id.desc())
    ).all()

    def matches(entry: LogEntry) -> bool:
        work = entry.work
        if core_activity and core_activity.casefold() not in (work.core_activity or "").casefold():
            return False
        if subgoal and subgoal not in (work.subgoals or []):
            return False
        if text:
            haystack = " ".join(
                filter(None, [entry.text, entry.learned, work.title, work.description])
            )
            return text.casefold() in haystack.casefold()
        return True

    return [e for e in entries if matches(e)][:limit]


# --- the four expected results ------------------------------------------------------------------


def expected_results_of(works: Iterable[ImprovementWork]) -> dict[str, list[LogEntry]]:
    """For each expected result, the entries that show it (empty: not yet shown)."""
    shown: dict[str, list[LogEntry]] = {kind: [] for kind in EXPECTED_RESULTS}
    for work in works:
        for entry in work.entries:
            for kind in entry.expected_results or []:
                if kind in shown:
                    shown[kind].append(entry)
    return shown


def highest_step(works: Iterable[ImprovementWork]) -> int | None:
    steps = [e.result_step for w in works for e in w.entries]
    return max(steps) if steps else None
