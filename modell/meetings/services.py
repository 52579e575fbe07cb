"""The rules of meetings: the schedule a cohort gets when it starts, rotating hosts, moving and
cancelling a meeting (everyone invited is told), and the host's checklist with what is late.
Invitations and answers are in invitations.py; attendance, documentation and Plus – Minus –
Intressant in after_meeting.py; calendar entries and feeds in calendar.py."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload

from modell.cohorts.models import Cohort, Group, MeetingKind, Participation
from modell.cohorts.services import cohort_concluded, cohort_started, group_saved
from modell.core import audit, dates
from modell.core.errors import RuleViolation, check_version
from modell.core.text import swedish_key
from modell.core.timeutil import (
    EARLIEST,
    LATEST,
    add_days,
    local_to_utc,
    to_local,
)
from modell.meetings.calendar import (  # noqa: F401  (part of the meetings service's face)
    active_feed,
    calendar_for,
    meetings_for_person,
    renew_feed,
    revoke_feed,
    user_for_feed,
)
from modell.meetings.invitations import notify_invited, organisation_ids
from modell.meetings.models import (
    Invitation,
    Meeting,
)
from modell.meetings.titles import generated_title
from modell.meetings.workdays import nearest_meeting_day
from modell.organisations.models import Person

DEFAULT_START = time(10, 0)

# Sent when a meeting is made, moved or cancelled: the reminders (a domain above this one)
# plan, move or cancel theirs.
meeting_changed = Namespace().signal("meeting-changed")

# --- the schedule -----------------------------------------------------------------------------


def _proposed_start(cohort: Cohort, kind: MeetingKind, number: int) -> datetime | None:
    if cohort.starts_on is None:
        return None
    weeks = kind.offset_weeks + (number - 1) * kind.interval_weeks
    day = add_days(cohort.starts_on, 7 * weeks)
    first, last = meeting_window(cohort)
    if not first <= day <= last:  # a model with an odd offset: no date rather than 2067
        return None
    # Not on a weekend, a holiday, at Christmas or in July: the nearest day that works.
    day = nearest_meeting_day(day, first, last, period_ends=cohort.ends_on)
    return local_to_utc(day, DEFAULT_START) if day else None


def _title(kind: MeetingKind, number: int, group: Group | None) -> str:
    return generated_title(kind.name, kind.count, number, group.name if group else None)


def rotating_hosts(group: Group) -> list[int]:
    """The group's benchmarking participants in turn (alphabetical), the mentor if none."""
    members = group.members("benchmarking") or group.members("mentor")
    return [p.organisation_id for p in members]


def generate_schedule(
    session: Session, cohort: Cohort, *, now: datetime, user_id: int | None = None
) -> list[Meeting]:
    """The cohort's meetings from its template: cohort-wide ones once, group ones for every
    group, with a proposed date and a host that rotates. Run again (a group formed after the
    start), it adds only what is missing: meetings that exist are kept as they are. A cohort
    recorded as history gets none: its meetings took place outside the app."""
    if cohort.is_history:
        return []
    existing = set(
        session.execute(
            sa.select(Meeting.kind_id, Meeting.group_id).where(Meeting.cohort_id == cohort.id)
        ).all()
    )
    made = []
    for kind in cohort.template.meeting_kinds:
        groups = cohort.groups if kind.scope == "group" else [None]
        for group in groups:
            if (kind.id, group.id if group else None) in existing:
                continue
            hosts = rotating_hosts(group) if group else []
            for number in range(1, kind.count + 1):
                starts = _proposed_start(cohort, kind, number)
                # Meeting n of every kind has the same host, so a preparatory meeting is
                # hosted by the host of the meeting it prepares.
                host = hosts[(number - 1) % len(hosts)] if hosts else None
                meeting = Meeting(
                    cohort=cohort,
                    group=group,
                    kind=kind,
                    number=number,
                    title=_title(kind, number, group),
                    status="planned",
                    host_organisation_id=host,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=kind.duration_hours) if starts else None,
                    ical_uid=f"{uuid.uuid4()}@modell",
                    ical_sequence=0,
                    created_at=now,
                    updated_at=now,
                )
                session.add(meeting)
                made.append(meeting)
    if not made:
        return []
    session.flush()
    for meeting in made:
        meeting_changed.send(meeting, session=session, now=now)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="schedule_generated",
        obj=cohort,
        meetings=len(made),
    )
    return made


@group_saved.connect
def _schedule_new_group(
    group: Group, *, session: Session, now: datetime, user_id: int | None
) -> None:
    if group.cohort.status == "running":
        generate_schedule(session, group.cohort, now=now, user_id=user_id)


@cohort_started.connect
def _schedule_on_start(
    cohort: Cohort, *, session: Session, now: datetime, user_id: int | None
) -> None:
    generate_schedule(session, cohort, now=now, user_id=user_id)


@cohort_concluded.connect
def _cancel_what_is_ahead(
    cohort: Cohort, *, session: Session, now: datetime, user_id: int | None, reason=None
) -> None:
    """A cohort concluded before its period ended: the meetings not yet held (or without a
    date) are cancelled; those invited are told and the entries leave their calendars."""
    ahead = session.scalars(
        sa.select(Meeting).where(
            Meeting.cohort_id == cohort.id,
            Meeting.status == "planned",
            sa.or_(Meeting.starts_at.is_(None), Meeting.starts_at > now),
        )
    ).all()
    for meeting in ahead:
        cancel_meeting(
            session,
            meeting,
            # The coordinator's own words, as those invited should read them.
            reason=reason or str(_l("The cohort is concluded.")),
            now=now,
            user_id=user_id,
            sender=current_app.config.get("MAIL_DEFAULT_SENDER", "") if has_app_context() else "",
        )


def load_meeting(
    session: Session, meeting_id: int, *, with_invitations: bool = True
) -> Meeting | None:
    """One meeting with what its pages read loaded in a fixed number of queries, however many
    are invited: the host, the kind, who may see it (its group's participations, or for a
    cohort-wide meeting the cohort's, with their organisations) and, unless left out, the
    invited and their organisations."""
    options = [
        joinedload(Meeting.host),
        joinedload(Meeting.kind),
        # A group's few participations in the same query (a round trip less per page).
        joinedload(Meeting.group)
        .joinedload(Group.participations)
        .joinedload(Participation.organisation),
        joinedload(Meeting.cohort),
    ]
    if with_invitations:
        options.append(
            selectinload(Meeting.invitations)
            .joinedload(Invitation.person)
            .joinedload(Person.organisation)
        )
    meeting = (
        session.execute(sa.select(Meeting).where(Meeting.id == meeting_id).options(*options))
        .unique()
        .scalars()
        .first()
    )
    if meeting is not None and meeting.group_id is None:
        # A national cohort's forty participations are read only for its cohort-wide meetings.
        load_cohort_members(session, meeting.cohort_id)
    return meeting


def load_cohort_members(session: Session, cohort_id: int) -> None:
    """The cohort's participations with their organisations, loaded onto the cohort (who its
    cohort-wide meetings are for and who may see them) in one query."""
    session.scalars(
        sa.select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(selectinload(Cohort.participations).joinedload(Participation.organisation))
    ).all()


def meetings_of(
    session: Session,
    *,
    cohort: Cohort | None = None,
    group: Group | None = None,
    cohort_wide: bool = False,
    with_invitations: bool = True,
) -> list[Meeting]:
    """A cohort's or a group's meetings (cohort_wide: only those for the whole cohort), with
    what the calendar and attendance pages read loaded in a few queries, not one per row:
    the kind, the host, the group's participations with their organisations (who a meeting
    is for and who may see it). The calendars leave the invitations out
    (with_invitations=False): a national cohort has thousands, and they read attendance as
    counted rows (after_meeting.attended_functions)."""
    options = [
        joinedload(Meeting.kind),
        joinedload(Meeting.host),
        joinedload(Meeting.group)
        .selectinload(Group.participations)
        .joinedload(Participation.organisation),
    ]
    if with_invitations:
        options.append(selectinload(Meeting.invitations).selectinload(Invitation.person))
    stmt = sa.select(Meeting).options(*options)
    if group is not None:
        stmt = stmt.where(Meeting.group_id == group.id)
    elif cohort is not None:
        stmt = stmt.where(Meeting.cohort_id == cohort.id)
        if cohort_wide:
            stmt = stmt.where(Meeting.group_id.is_(None))
    return list(session.scalars(stmt.order_by(Meeting.starts_at.nulls_last(), Meeting.id)))


# --- changing a meeting -------------------------------------------------------------------------


@dataclass
class MeetingChange:
    day: date
    start: time
    end: time
    location: str | None
    video_link: str | None
    agenda: str | None
    accessibility_info: str | None
    host_organisation_id: int | None = None


MEETING_MARGIN_DAYS = 183
COHORT_DEFAULT_YEARS = 3  # a cohort without an end date: the longest concept is two years


def meeting_window(cohort: Cohort) -> tuple[date, date]:
    """The days a meeting of this cohort may fall on: the cohort's period with half a year's
    margin on either side (preparatory meetings come before the kickoff; a result
    conference may slip), and always within the years the app keeps."""
    if cohort.starts_on is None:
        return EARLIEST, LATEST
    end = cohort.ends_on or add_days(cohort.starts_on, 365 * COHORT_DEFAULT_YEARS)
    first = max(add_days(cohort.starts_on, -MEETING_MARGIN_DAYS), EARLIEST)
    last = min(add_days(end, MEETING_MARGIN_DAYS), LATEST)
    return first, last


def update_meeting(
    session: Session,
    meeting: Meeting,
    change: MeetingChange,
    *,
    now: datetime,
    user_id: int | None,
    expected_version: int | None = None,
    sender: str = "",
) -> bool:
    """Set date, time, place and agenda. When the meeting has been sent, a change of time or
    place goes to everyone invited with an updated calendar entry. Returns whether it did."""
    check_version(meeting, expected_version)
    if meeting.status == "cancelled":
        raise RuleViolation(_l("The meeting is cancelled."))
    first, last = meeting_window(meeting.cohort)
    if not first <= change.day <= last:
        raise RuleViolation(
            _l(
                "Choose a date from %(first)s to %(last)s: the cohort's period with half a year "
                "on either side.",
                first=dates.day(first),
                last=dates.day(last),
            ),
            field="day",
        )
    starts = local_to_utc(change.day, change.start)
    ends = local_to_utc(change.day, change.end)
    if ends <= starts:
        raise RuleViolation(_l("The meeting must end after it starts."), field="end")
    moved = (
        starts != meeting.starts_at
        or ends != meeting.ends_at
        or (change.location or None) != meeting.location
        or (change.video_link or None) != meeting.video_link
    )
    meeting.starts_at, meeting.ends_at = starts, ends
    meeting.location = change.location or None
    meeting.video_link = change.video_link or None
    meeting.agenda = change.agenda or None
    meeting.accessibility_info = change.accessibility_info or None
    if change.host_organisation_id is not None:
        meeting.host_organisation_id = change.host_organisation_id
    meeting.updated_at = now
    informed = False
    if moved:
        meeting.ical_sequence += 1
        if meeting.invitation_sent_at is not None:
            notify_invited(session, meeting, now=now, sender=sender, update=True)
            informed = True
        meeting_changed.send(meeting, session=session, now=now)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="meeting_changed",
        obj=meeting,
        moved=moved,
        informed=informed,
    )
    return informed


def cancel_meeting(
    session: Session,
    meeting: Meeting,
    *,
    reason: str | None,
    now: datetime,
    user_id: int | None,
    sender: str = "",
) -> None:
    """Cancel: everyone invited gets a METHOD:CANCEL entry that removes it from calendars."""
    if meeting.status == "cancelled":
        raise RuleViolation(_l("The meeting is already cancelled."))
    meeting.status = "cancelled"
    meeting.ical_sequence += 1
    meeting.updated_at = now
    if meeting.invitation_sent_at is not None:
        notify_invited(session, meeting, now=now, sender=sender, cancel=True, reason=reason)
    meeting_changed.send(meeting, session=session, now=now)
    audit.record(
        session, now=now, user_id=user_id, action="meeting_cancelled", obj=meeting, reason=reason
    )


CHECKLIST_FIELDS = (
    "venue_booked",
    "wheelchair_access",
    "hearing_loop",
    "public_transport",
    "remote_participation",
    "next_meeting_set",
)


def update_checklist(
    session: Session,
    meeting: Meeting,
    *,
    values: dict,
    note_taker_id,
    now: datetime,
    user_id: int | None,
) -> None:
    for key in CHECKLIST_FIELDS:
        if key in values:
            setattr(meeting, key, bool(values[key]))
    if note_taker_id is not None:
        person = session.get(Person, note_taker_id)
        if person is None or person.organisation_id not in organisation_ids(meeting):
            raise RuleViolation(
                _l("Choose a person from the meeting's organisations."), field="note_taker_id"
            )
    meeting.note_taker_id = note_taker_id
    meeting.updated_at = now
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="meeting_checklist",
        obj=meeting,
        **{k: bool(values.get(k)) for k in CHECKLIST_FIELDS},
    )


def calendar_order(
    rows: list,
    checklists: dict[int, list["ChecklistItem"]],
    *,
    now: datetime,
    organisation_id: int | None = None,
    only_late: bool = False,
    search: str | None = None,
) -> tuple[list, list]:
    """(coming, earlier) of the calendar's rows (listing.CalendarRow): the meetings still
    ahead (and those without a date) first, soonest first; then those that have begun, latest
    first. Optionally only those of one organisation (its group's, the cohort's, or hosted by
    it), only those with a late checklist item, and only those whose title, group, host or
    place hold every word searched for (case and accents folded the Swedish way)."""
    if organisation_id is not None:
        rows = [
            r
            for r in rows
            if r.host_organisation_id == organisation_id or organisation_id in r.organisation_ids
        ]
    if only_late:
        rows = [r for r in rows if any(i.late for i in checklists.get(r.id, []))]
    words = swedish_key(search or "").split()
    if words:
        rows = [r for r in rows if all(w in key for key in [r.searchable()] for w in words)]
    coming = [r for r in rows if r.starts_at is None or r.starts_at >= now]
    earlier = [r for r in rows if r.starts_at is not None and r.starts_at < now]
    coming.sort(key=lambda r: (r.starts_at is None, r.starts_at or now, r.id))
    earlier.sort(key=lambda r: (r.starts_at, r.id), reverse=True)
    return coming, earlier


@dataclass
class ChecklistItem:
    key: str
    label: str
    done: bool
    due: date | None
    late: bool


# The earliest any checklist item falls due, in days before the meeting: nothing of a meeting
# further ahead than this can be late yet.
CHECKLIST_LEAD_DAYS = 28


def may_have_late_items(now: datetime):
    """SQL condition, a superset: the planned meetings whose checklist can have a late item
    today (started already or within the lead, with a day's margin for the time zone)."""
    return sa.and_(
        Meeting.status == "planned",
        Meeting.starts_at < now + timedelta(days=CHECKLIST_LEAD_DAYS + 2),
    )


CHECKLIST_LABELS = {
    "venue_booked": _l("Venue booked"),
    "wheelchair_access": _l("Accessible by wheelchair"),
    "hearing_loop": _l("Hearing loop"),
    "public_transport": _l("Reachable by public transport"),
    "remote_participation": _l("Remote participation possible"),
    "invitation": _l("Invitation with agenda sent, copy to SKR's project lead"),
    "note_taker": _l("Note taker appointed"),
    "next_meeting_set": _l("Date of the next meeting set"),
}


def checklist(meeting: Meeting, today: date) -> list[ChecklistItem]:
    """The host's checklist with its due dates; an item not done after its date is late."""
    start = to_local(meeting.starts_at).date() if meeting.starts_at else None

    def before(days: int) -> date | None:
        return add_days(start, -days) if start else None

    rows = [
        ("venue_booked", meeting.venue_booked, before(CHECKLIST_LEAD_DAYS)),
        ("wheelchair_access", meeting.wheelchair_access, before(CHECKLIST_LEAD_DAYS)),
        ("hearing_loop", meeting.hearing_loop, before(CHECKLIST_LEAD_DAYS)),
        ("public_transport", meeting.public_transport, before(CHECKLIST_LEAD_DAYS)),
        ("remote_participation", meeting.remote_participation, before(CHECKLIST_LEAD_DAYS)),
        ("invitation", meeting.invitation_sent_at is not None, before(14)),
        ("note_taker", meeting.note_taker_id is not None, before(0)),
        ("next_meeting_set", meeting.next_meeting_set, add_days(start, 7) if start else None),
    ]

    def late(done, due: date | None) -> bool:
        """Not done after its date: while the meeting is planned; once it has been held, only
        what falls due after it (what was to be ready before it can no longer be late)."""
        if done or due is None or today <= due:
            return False
        return meeting.status == "planned" or (meeting.status == "held" and due > start)

    return [
        ChecklistItem(
            key,
            CHECKLIST_LABELS[key],  # translated when shown, not for every meeting of a calendar
            bool(done),
            due,
            late(done, due),
        )
        for key, done, due in rows
    ]


@dataclass
class ChecklistDue:
    """A checklist as a calendar row tells it: the late items, else the next one due, else
    that everything is done."""

    late: list[ChecklistItem]
    upcoming: ChecklistItem | None
    open: bool


def checklist_due(items: list[ChecklistItem]) -> ChecklistDue | None:
    if not items:
        return None
    undone = [i for i in items if not i.done]
    return ChecklistDue(
        late=[i for i in undone if i.late],
        upcoming=next((i for i in undone if not i.late), None),
        open=bool(undone),
    )
