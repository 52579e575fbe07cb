"""The rules of meetings: the schedule a cohort gets when it starts, rotating hosts, the
host's checklist and what is late, invitations with calendar entries that stay in step
(same UID, higher SEQUENCE, CANCEL), answers and attendance by function, documentation,
Plus – Minus – Intressant, and personal calendar feeds."""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app, render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session, selectinload

from modell.auth.models import User
from modell.cohorts.models import Cohort, Group, MeetingKind, Participation
from modell.cohorts.services import cohort_started, group_saved
from modell.core import audit, mail
from modell.core.errors import RuleViolation, check_version
from modell.core.files import store_file
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
from modell.meetings.models import (
    Invitation,
    Meeting,
    MeetingDocument,
    PmiFeedback,
)
from modell.organisations.models import CORE_FUNCTIONS, Person

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
    return local_to_utc(day, DEFAULT_START)


def _title(kind: MeetingKind, number: int, group: Group | None) -> str:
    name = f"{kind.name} {number}" if kind.count > 1 else kind.name
    return f"{name} – {group.name}" if group else name


def rotating_hosts(group: Group) -> list[int]:
    """The group's benchmarking participants in turn (alphabetical), the mentor if none."""
    members = group.members("benchmarking") or group.members("mentor")
    return [p.organisation_id for p in members]


def generate_schedule(
    session: Session, cohort: Cohort, *, now: datetime, user_id: int | None = None
) -> list[Meeting]:
    """The cohort's meetings from its template: cohort-wide ones once, group ones for every
    group, with a proposed date and a host that rotates. Run again (a group formed after the
    start), it adds only what is missing: meetings that exist are kept as they are."""
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


def meetings_of(
    session: Session,
    *,
    cohort: Cohort | None = None,
    group: Group | None = None,
    cohort_wide: bool = False,
) -> list[Meeting]:
    """A cohort's or a group's meetings (cohort_wide: only those for the whole cohort), with
    what the calendar and attendance pages read loaded in a few queries, not one per row."""
    stmt = sa.select(Meeting).options(
        selectinload(Meeting.kind),
        selectinload(Meeting.host),
        selectinload(Meeting.group).selectinload(Group.participations),
        selectinload(Meeting.invitations).selectinload(Invitation.person),
    )
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
                first=format_date(first, "long"),
                last=format_date(last, "long"),
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
            _send(session, meeting, now=now, sender=sender, update=True)
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
        _send(session, meeting, now=now, sender=sender, cancel=True, reason=reason)
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


@dataclass
class ChecklistItem:
    key: str
    label: str
    done: bool
    due: date | None
    late: bool


def checklist(meeting: Meeting, today: date) -> list[ChecklistItem]:
    """The host's checklist with its due dates; an item not done after its date is late."""
    start = to_local(meeting.starts_at).date() if meeting.starts_at else None

    def before(days: int) -> date | None:
        return add_days(start, -days) if start else None

    rows = [
        ("venue_booked", _l("Venue booked"), meeting.venue_booked, before(28)),
        (
            "wheelchair_access",
            _l("Accessible by wheelchair"),
            meeting.wheelchair_access,
            before(28),
        ),
        ("hearing_loop", _l("Hearing loop"), meeting.hearing_loop, before(28)),
        (
            "public_transport",
            _l("Reachable by public transport"),
            meeting.public_transport,
            before(28),
        ),
        (
            "remote_participation",
            _l("Remote participation possible"),
            meeting.remote_participation,
            before(28),
        ),
        (
            "invitation",
            _l("Invitation with agenda sent, copy to SKR's project lead"),
            meeting.invitation_sent_at is not None,
            before(14),
        ),
        ("note_taker", _l("Note taker appointed"), meeting.note_taker_id is not None, before(0)),
        (
            "next_meeting_set",
            _l("Date of the next meeting set"),
            meeting.next_meeting_set,
            add_days(start, 7) if start else None,
        ),
    ]
    return [
        ChecklistItem(
            key,
            str(label),
            bool(done),
            due,
            bool(not done and due is not None and today > due and meeting.status != "cancelled"),
        )
        for key, label, done, due in rows
    ]


# --- invitations ------------------------------------------------------------------------------


def may_give_feedback(meeting: Meeting, organisation_id: int | None) -> bool:
    """Plus – Minus – Intressant comes from the people of the meeting's organisations."""
    return (
        meeting.status != "cancelled"
        and organisation_id is not None
        and organisation_id in organisation_ids(meeting)
    )


def organisation_ids(meeting: Meeting) -> set[int]:
    """The organisations a meeting is for: its group (participants, mentors, support
    organisations) or, for a cohort-wide meeting, everyone in the cohort."""
    participations = (
        meeting.group.participations if meeting.group else meeting.cohort.participations
    )
    return {p.organisation_id for p in participations if p.status in ("active", "completed")}


def invitees(session: Session, meeting: Meeting) -> list[Person]:
    """Every active person of the meeting's organisations (and an audience, if the meeting
    kind has one, like the strategists' preparatory meeting)."""
    stmt = sa.select(Person).where(
        Person.organisation_id.in_(organisation_ids(meeting)),
        Person.active.is_(True),
        Person.email.is_not(None),
    )
    if meeting.kind.audience:
        stmt = stmt.where(Person.function == meeting.kind.audience)
    return list(session.scalars(stmt.order_by(Person.organisation_id, Person.name)))


def project_lead_emails(session: Session, cohort: Cohort) -> list[str]:
    if cohort.project_lead_id:
        lead = session.get(User, cohort.project_lead_id)
        return [lead.email] if lead else []
    return list(
        session.scalars(
            sa.select(User.email)
            .where(User.role == "coordinator", User.active.is_(True))
            .order_by(User.id)
        )
    )


def send_invitations(
    session: Session, meeting: Meeting, *, now: datetime, user_id: int | None, sender: str = ""
) -> int:
    """The host sends the invitation: every invitee gets the agenda and a calendar entry,
    and SKR's project lead a copy. Sending again reaches people added since."""
    if meeting.status == "cancelled":
        raise RuleViolation(_l("The meeting is cancelled."))
    if meeting.starts_at is None:
        raise RuleViolation(_l("Set the date and time before sending the invitation."))
    known = {i.person_id for i in meeting.invitations}
    for person in invitees(session, meeting):
        if person.id not in known:
            meeting.invitations.append(Invitation(person=person))
    session.flush()
    first = meeting.invitation_sent_at is None
    count = _send(session, meeting, now=now, sender=sender, only_new=not first)
    if first:
        for email in project_lead_emails(session, meeting.cohort):
            _queue_one(
                session,
                meeting,
                email,
                None,
                now=now,
                sender=sender,
                kind="meeting_invitation_copy",
                copy=True,
            )
    meeting.invitation_sent_at = meeting.invitation_sent_at or now
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="meeting_invitation_sent",
        obj=meeting,
        recipients=count,
    )
    return count


def _send(
    session: Session,
    meeting: Meeting,
    *,
    now: datetime,
    sender: str,
    update: bool = False,
    cancel: bool = False,
    reason: str | None = None,
    only_new: bool = False,
) -> int:
    count = 0
    for invitation in meeting.invitations:
        if only_new and invitation.sent_sequence is not None:
            continue
        _queue_one(
            session,
            meeting,
            invitation.person.email,
            invitation.person,
            invitation=invitation,
            now=now,
            sender=sender,
            update=update,
            cancel=cancel,
            reason=reason,
        )
        invitation.sent_sequence = meeting.ical_sequence
        count += 1
    return count


def _queue_one(
    session: Session,
    meeting: Meeting,
    email: str,
    person: Person | None,
    *,
    now: datetime,
    sender: str,
    kind: str = "meeting_invitation",
    update: bool = False,
    cancel: bool = False,
    reason: str | None = None,
    copy: bool = False,
    invitation: Invitation | None = None,
) -> None:
    method = "CANCEL" if cancel else "REQUEST"
    with force_locale("sv"):
        if cancel:
            subject = _("Cancelled: %(title)s", title=meeting.title)
        elif update:
            subject = _("Changed: %(title)s", title=meeting.title)
        elif copy:
            subject = _("Copy of the invitation: %(title)s", title=meeting.title)
        else:
            subject = _("Invitation: %(title)s", title=meeting.title)
        # Built by hand: mail is also sent outside a request (the scheduler), where url_for
        # has no host to build from.
        base = current_app.config["BASE_URL"].rstrip("/")
        meeting_url = f"{base}/moten/{meeting.id}"
        answer_url = None
        if invitation is not None:
            token = answer_token(invitation.id, current_app.config["SECRET_KEY"])
            answer_url = f"{base}/moten/svar/{token}"
        context = {
            "meeting_url": meeting_url,
            "answer_url": answer_url,
            "meeting": meeting,
            "person": person,
            "update": update,
            "cancel": cancel,
            "reason": reason,
            "copy": copy,
            "when": _when(meeting),
        }
        text = render_template("emails/meeting.txt", **context)
    ics = calendar_for(
        [meeting], method=method, now=now, organizer=sender, attendee=None if copy else email
    )
    mail.queue(
        session,
        now=now,
        kind=kind if not (update or cancel) else f"meeting_{method.lower()}",
        to=email,
        subject=subject,
        text=text,
        attachments=[mail.Attachment("invite.ics", f"text/calendar; method={method}", ics)],
    )


def _when(meeting: Meeting) -> str:
    if meeting.starts_at is None:
        return ""
    start, end = to_local(meeting.starts_at), to_local(meeting.ends_at or meeting.starts_at)
    return f"{start:%Y-%m-%d} {start:%H:%M}–{end:%H:%M}"


# --- answers, attendance, documentation, feedback -----------------------------------------------


_ANSWER_SALT = "modell-meeting-answer"


def answer_token(invitation_id: int, secret_key: str) -> str:
    """The personal link in the invitation: people without an account answer with it."""
    return URLSafeSerializer(secret_key, salt=_ANSWER_SALT).dumps(invitation_id)


def invitation_for_token(session: Session, token: str, secret_key: str) -> Invitation | None:
    try:
        invitation_id = URLSafeSerializer(secret_key, salt=_ANSWER_SALT).loads(token)
    except BadSignature:
        return None
    return session.get(Invitation, invitation_id) if isinstance(invitation_id, int) else None


def answer_link_open(invitation: Invitation, now: datetime) -> bool:
    """An answer link works until its meeting has ended; afterwards there is nothing to
    answer, and a link found in an old mail must not keep opening a page."""
    meeting = invitation.meeting
    end = meeting.ends_at or meeting.starts_at
    return end is None or now < end


def invitation_of(meeting: Meeting, person_id: int | None) -> Invitation | None:
    return next((i for i in meeting.invitations if i.person_id == person_id), None)


def respond(
    session: Session,
    invitation: Invitation,
    *,
    response: str,
    diet: str | None,
    needs_hearing_loop: bool,
    other_needs: str | None,
    now: datetime,
    user_id: int | None,
) -> None:
    if response not in ("yes", "no"):
        raise RuleViolation(_l("Answer yes or no."), field="response")
    if invitation.meeting.status == "cancelled":
        raise RuleViolation(_l("The meeting is cancelled."))
    invitation.response = response
    invitation.responded_at = now
    invitation.diet = (diet or "").strip() or None
    invitation.needs_hearing_loop = bool(needs_hearing_loop)
    invitation.other_needs = (other_needs or "").strip() or None
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="invitation_answered",
        obj=invitation,
        response=response,
    )


def record_attendance(
    session: Session, meeting: Meeting, attended: set[int], *, now: datetime, user_id: int | None
) -> None:
    """After the meeting the host records who took part (invitation ids)."""
    if meeting.starts_at is not None and now < meeting.starts_at:
        raise RuleViolation(_l("Attendance is recorded once the meeting has begun."))
    for invitation in meeting.invitations:
        invitation.attended = invitation.id in attended
    if meeting.status == "planned":
        meeting.status = "held"
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="attendance_recorded",
        obj=meeting,
        attended=len(attended),
    )


@dataclass
class AttendanceRow:
    organisation: str
    role: str
    organisation_id: int
    # meeting id -> {function: attended?} for the three core functions
    by_meeting: dict[int, dict[str, bool]]


def attendance_by_function(
    meetings: list[Meeting], participations: list[Participation]
) -> list[AttendanceRow]:
    """For each organisation and meeting: did its politician, manager and strategist take
    part? Involving all three is what makes the programme work."""
    present: dict[tuple[int, int], set[str]] = defaultdict(set)
    for m in meetings:
        for inv in m.invitations:
            if inv.attended:
                present[(inv.person.organisation_id, m.id)].add(inv.person.function)
    rows = []
    for p in sorted(participations, key=lambda p: (p.role != "benchmarking", p.organisation.name)):
        rows.append(
            AttendanceRow(
                p.organisation.name,
                p.role,
                p.organisation_id,
                {
                    m.id: {f: f in present[(p.organisation_id, m.id)] for f in CORE_FUNCTIONS}
                    for m in meetings
                },
            )
        )
    return rows


def attendance_summary(
    meetings: list[Meeting], participations: list[Participation]
) -> list[tuple[str, str, dict]]:
    """For the cohort: per organisation and function, in how many of the held meetings it
    was invited to that function took part: (organisation, role, {function: (came, held)})."""
    held = [m for m in meetings if m.status == "held"]
    invited = {m.id: organisation_ids(m) for m in held}
    summary = []
    for row in attendance_by_function(held, participations):
        concerned = [m for m in held if row.organisation_id in invited[m.id]]
        summary.append(
            (
                row.organisation,
                row.role,
                {
                    f: (sum(1 for m in concerned if row.by_meeting[m.id][f]), len(concerned))
                    for f in CORE_FUNCTIONS
                },
            )
        )
    return summary


def save_documentation(
    session: Session,
    meeting: Meeting,
    *,
    minutes: str | None,
    decisions: str | None,
    now: datetime,
    user_id: int | None,
) -> None:
    meeting.minutes = (minutes or "").strip() or None
    meeting.decisions = (decisions or "").strip() or None
    meeting.updated_at = now
    audit.record(session, now=now, user_id=user_id, action="meeting_documented", obj=meeting)


def store_document(
    session: Session,
    meeting: Meeting,
    *,
    filename: str,
    content: bytes,
    folder: Path,
    max_bytes: int,
    now: datetime,
    user_id: int | None,
) -> MeetingDocument:
    """Keep a file outside the database, under a random name; only its record is a row."""
    stored = store_file(filename, content, folder=folder, max_bytes=max_bytes)
    document = MeetingDocument(
        meeting_id=meeting.id,
        filename=stored.filename,
        stored_name=stored.stored_name,
        mimetype=stored.mimetype,
        size=stored.size,
        uploaded_by_id=user_id,
        uploaded_at=now,
    )
    session.add(document)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="document_added",
        obj=meeting,
        filename=document.filename,
    )
    return document


def documents_of(session: Session, meeting: Meeting) -> list[MeetingDocument]:
    return list(
        session.scalars(
            sa.select(MeetingDocument)
            .where(MeetingDocument.meeting_id == meeting.id)
            .order_by(MeetingDocument.uploaded_at)
        )
    )


def save_pmi(
    session: Session,
    meeting: Meeting,
    user: User,
    *,
    plus: str | None,
    minus: str | None,
    interesting: str | None,
    now: datetime,
) -> PmiFeedback:
    """Plus – Minus – Intressant: one per person and meeting, changed by sending it again."""
    if not any((x or "").strip() for x in (plus, minus, interesting)):
        raise RuleViolation(_l("Write at least one of plus, minus and interesting."), field="plus")
    feedback = session.scalar(
        sa.select(PmiFeedback).where(
            PmiFeedback.meeting_id == meeting.id, PmiFeedback.user_id == user.id
        )
    )
    if feedback is None:
        feedback = PmiFeedback(meeting_id=meeting.id, user_id=user.id, created_at=now)
        session.add(feedback)
    feedback.plus = (plus or "").strip() or None
    feedback.minus = (minus or "").strip() or None
    feedback.interesting = (interesting or "").strip() or None
    feedback.updated_at = now
    return feedback


def pmi_for(session: Session, meetings: list[Meeting]) -> dict[int, list[PmiFeedback]]:
    ids = [m.id for m in meetings]
    gathered: dict[int, list[PmiFeedback]] = defaultdict(list)
    for f in session.scalars(
        sa.select(PmiFeedback)
        .where(PmiFeedback.meeting_id.in_(ids))
        .order_by(PmiFeedback.created_at)
    ):
        gathered[f.meeting_id].append(f)
    return gathered
