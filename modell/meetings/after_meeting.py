"""After a meeting: who took part (by function), the documentation the host posts, and each
participant's Plus – Minus – Intressant."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from modell.auth.models import User
from modell.cohorts.models import Group, Participation
from modell.core import audit, revisions
from modell.core.access import Scope
from modell.core.errors import RuleViolation
from modell.core.files import FileStore, store_file
from modell.meetings.invitations import counted_for, is_for
from modell.meetings.models import (
    Invitation,
    Meeting,
    MeetingDocument,
    PmiFeedback,
)
from modell.organisations.models import CORE_FUNCTIONS, Person


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


Present = dict[tuple[int, int], set[str]]  # (organisation id, meeting id): functions there


def attended_functions(session: Session, meetings: list[Meeting]) -> Present:
    """Who took part in these meetings, by organisation and function, in one query of plain
    rows (no invitation objects)."""
    present: Present = defaultdict(set)
    ids = [m.id for m in meetings]
    if not ids:
        return present
    # Thousands of rows at national scale: read as plain rows on the session's connection
    # (no ORM row handling), the function as the text it was checked as when written, and
    # each (organisation, meeting, function) once.
    rows = session.connection().execute(
        sa.select(
            Invitation.meeting_id,
            Person.organisation_id,
            sa.type_coerce(Person.function, sa.String),
        )
        .distinct()
        .join(Person, Person.id == Invitation.person_id)
        .where(Invitation.meeting_id.in_(ids), Invitation.attended.is_(True))
    )
    for meeting_id, organisation_id, function in rows:
        present[(organisation_id, meeting_id)].add(function)
    return present


def _present_at(meetings: list[Meeting]) -> Present:
    """Who took part, read from the meetings' loaded invitations."""
    present: Present = defaultdict(set)
    for m in meetings:
        for inv in m.invitations:
            if inv.attended:
                present[(inv.person.organisation_id, m.id)].add(inv.person.function)
    return present


def _in_table_order(participations: list[Participation]) -> list[Participation]:
    return sorted(participations, key=lambda p: (p.role != "benchmarking", p.organisation.name))


def attendance_by_function(
    meetings: list[Meeting], participations: list[Participation], present: Present | None = None
) -> list[AttendanceRow]:
    """For each organisation and meeting: did its politician, manager and strategist take
    part? Involving all three is what makes the programme work. `present` from
    attended_functions, else read from the meetings' loaded invitations."""
    if present is None:
        present = _present_at(meetings)
    return [
        AttendanceRow(
            p.organisation.name,
            p.role,
            p.organisation_id,
            {
                m.id: {f: f in present.get((p.organisation_id, m.id), ()) for f in CORE_FUNCTIONS}
                for m in meetings
            },
        )
        for p in _in_table_order(participations)
    ]


Counted = dict[int, dict[str, int]]  # participation id: {function: held meetings it came to}


def attendance_counted(session: Session, cohort_id: int) -> Counted:
    """Per participation in the cohort: of the held meetings it was invited to (its group's
    and the cohort's), how many each function of its organisation took part in. Counted in
    the database: a national cohort has thousands of invitations."""
    counted: Counted = defaultdict(dict)
    rows = session.connection().execute(
        sa.select(
            Participation.id,
            sa.type_coerce(Person.function, sa.String),
            sa.func.count(sa.distinct(Meeting.id)),
        )
        .select_from(Invitation)
        .join(Meeting, Meeting.id == Invitation.meeting_id)
        .join(Person, Person.id == Invitation.person_id)
        .join(Participation, Participation.organisation_id == Person.organisation_id)
        .where(
            Meeting.cohort_id == cohort_id,
            Meeting.status == "held",
            Invitation.attended.is_(True),
            is_for(),
        )
        .group_by(Participation.id, Person.function)
    )
    for participation_id, function, came in rows:
        counted[participation_id][function] = came
    return counted


def attendance_counts(
    participation: Participation, invited: int, counted: Counted
) -> dict[str, tuple[int, int]]:
    """{function: (came, held)} for the three core functions, of the `invited` held meetings
    the participation was invited to (invitations.counted_for); `counted` from
    attendance_counted."""
    came = counted.get(participation.id, {})
    return {f: (came.get(f, 0), invited) for f in CORE_FUNCTIONS}


@dataclass(frozen=True)
class SummaryRow:
    """An organisation of the cohort's groups: in how many of the held meetings it was
    invited to each core function took part, {function: (came, held)}. Seen by whoever may
    see its group."""

    organisation: str
    role: str
    counts: dict[str, tuple[int, int]]
    scope: Scope

    def access_scope(self) -> Scope:
        return self.scope


def attendance_summary(session: Session, cohort_id: int) -> tuple[SummaryRow, ...]:
    """The cohort's attendance by function, a row per organisation in a group, in table
    order; kept until the cohort changes (core.revisions). A reader is shown the rows
    core.access.may_view lets them see."""

    def work_out() -> tuple[SummaryRow, ...]:
        held = (
            session.connection()
            .execute(
                sa.select(Meeting.group_id).where(
                    Meeting.cohort_id == cohort_id, Meeting.status == "held"
                )
            )
            .all()
        )
        counted = attendance_counted(session, cohort_id)
        participations = session.scalars(
            sa.select(Participation)
            .where(Participation.cohort_id == cohort_id, Participation.group_id.is_not(None))
            .options(
                joinedload(Participation.organisation),
                joinedload(Participation.group).selectinload(Group.participations),
            )
        ).all()
        invited = counted_for(participations, held)
        return tuple(
            SummaryRow(
                p.organisation.name,
                p.role,
                attendance_counts(p, invited[p.id], counted),
                p.group.access_scope(),
            )
            for p in _in_table_order(participations)
        )

    return revisions.kept(session, cohort_id, "attendance summary", work_out)


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
    store: FileStore,
    max_bytes: int,
    now: datetime,
    user_id: int | None,
) -> MeetingDocument:
    """Keep a file outside the database, under a random name; only its record is a row."""
    stored = store_file(filename, content, store=store, max_bytes=max_bytes)
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


@dataclass(frozen=True)
class DocumentRow:
    id: int
    filename: str
    size: int


@dataclass(frozen=True)
class FeedbackRow:
    user_id: int
    plus: str | None
    minus: str | None
    interesting: str | None


@dataclass(frozen=True)
class MeetingRecord:
    """What was left of a meeting: its documents and the participants' feedback, as plain
    rows kept per revision of the cohort (core.revisions)."""

    documents: tuple[DocumentRow, ...]
    feedback: tuple[FeedbackRow, ...]


def record_of(session: Session, meeting: Meeting) -> MeetingRecord:
    def work_out() -> MeetingRecord:
        return MeetingRecord(
            tuple(DocumentRow(d.id, d.filename, d.size) for d in documents_of(session, meeting)),
            tuple(
                FeedbackRow(f.user_id, f.plus, f.minus, f.interesting)
                for f in pmi_for(session, [meeting])[meeting.id]
            ),
        )

    return revisions.kept(session, meeting.cohort_id, "meeting record", work_out, meeting.id)


def feedback_open(meeting: Meeting, now: datetime) -> bool:
    """Plus – Minus – Intressant is feedback on a meeting that has taken place."""
    return meeting.starts_at is not None and meeting.starts_at <= now


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
    """Plus – Minus – Intressant: one per person and meeting, changed by sending it again;
    feedback on the meeting, so not before it has begun."""
    if not feedback_open(meeting, now):
        raise RuleViolation(_l("Feedback can be given once the meeting has begun."))
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
