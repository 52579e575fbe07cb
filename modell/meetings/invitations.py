"""Invitations: who is invited, the host sending the agenda with a calendar entry (a copy to
SKR's project lead), changes and cancellations that follow, and the answers, also through
the personal link for people without an account."""

from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session, joinedload

from modell.auth.models import User
from modell.cohorts.models import Cohort, Participation
from modell.core import audit, dates, mail, revisions
from modell.core.collation import swedish
from modell.core.errors import RuleViolation
from modell.meetings.calendar import calendar_for
from modell.meetings.models import (
    Invitation,
    Meeting,
)
from modell.meetings.titles import title_text
from modell.organisations.models import Organisation, Person

# --- invitations ------------------------------------------------------------------------------


def may_give_feedback(meeting: Meeting, organisation_id: int | None) -> bool:
    """Plus – Minus – Intressant comes from the people of the meeting's organisations."""
    return (
        meeting.status != "cancelled"
        and organisation_id is not None
        and organisation_id in organisation_ids(meeting)
    )


# The participations a meeting is for: those taking part or that have completed.
INVITED_STATUSES = ("active", "completed")


def organisation_ids(meeting: Meeting) -> set[int]:
    """The organisations a meeting is for: its group (participants, mentors, support
    organisations) or, for a cohort-wide meeting, everyone in the cohort."""
    participations = (
        meeting.group.participations if meeting.group else meeting.cohort.participations
    )
    return {p.organisation_id for p in participations if p.status in INVITED_STATUSES}


def meetings_for(participation: Participation, meetings: list[Meeting]) -> list[Meeting]:
    """The same rule from the participation's side, with nothing more loaded: of its
    cohort's `meetings`, its group's and the cohort-wide ones, while it takes part."""
    if participation.status not in INVITED_STATUSES:
        return []
    return [m for m in meetings if m.group_id is None or m.group_id == participation.group_id]


def counted_for(participations: list[Participation], meetings: list) -> dict[int, int]:
    """How many of `meetings` are for each participation (len(meetings_for(p, meetings))),
    for many at once: the meetings are counted by group once, not walked per participation."""
    by_group = Counter(m.group_id for m in meetings)
    return {
        p.id: by_group[None] + (by_group[p.group_id] if p.group_id is not None else 0)
        if p.status in INVITED_STATUSES
        else 0
        for p in participations
    }


def is_for():
    """The same rule as an SQL condition on Meeting and Participation, for counting in the
    database: the meeting is the participation's group's or its whole cohort's, while it
    takes part."""
    return sa.and_(
        Participation.cohort_id == Meeting.cohort_id,
        Participation.status.in_(INVITED_STATUSES),
        sa.or_(Meeting.group_id.is_(None), Meeting.group_id == Participation.group_id),
    )


def _invitees(meeting: Meeting) -> list:
    """Who a meeting invites: every active person of its organisations (of the audience, if
    the meeting kind has one, like the strategists' preparatory meeting)."""
    criteria = [
        Person.organisation_id.in_(organisation_ids(meeting)),
        Person.active.is_(True),
        Person.email.is_not(None),
    ]
    if meeting.kind.audience:
        criteria.append(Person.function == meeting.kind.audience)
    return criteria


def invitees(session: Session, meeting: Meeting) -> list[Person]:
    return list(
        session.scalars(
            sa.select(Person)
            .where(*_invitees(meeting))
            .order_by(Person.organisation_id, swedish(Person.name))
        )
    )


def invitee_names(session: Session, meeting: Meeting) -> list[tuple[int, str]]:
    """(person id, "Name (Organisation)") of the invitees, in the same order: a host picks
    the note taker among them."""
    rows = session.execute(
        sa.select(Person.id, Person.name, Organisation.name)
        .join(Organisation, Organisation.id == Person.organisation_id)
        .where(*_invitees(meeting))
        .order_by(Person.organisation_id, swedish(Person.name))
    )
    return [(person_id, f"{name} ({organisation})") for person_id, name, organisation in rows]


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
    if meeting.cohort.is_history:
        raise RuleViolation(_l("The cohort is recorded as history: it sends no mail."))
    if meeting.starts_at is None:
        raise RuleViolation(_l("Set the date and time before sending the invitation."))
    known = {i.person_id for i in meeting.invitations}
    for person in invitees(session, meeting):
        if person.id not in known:
            meeting.invitations.append(Invitation(person=person))
    session.flush()
    first = meeting.invitation_sent_at is None
    count = notify_invited(session, meeting, now=now, sender=sender, only_new=not first)
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


def notify_invited(
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
    chosen = [i for i in meeting.invitations if not (only_new and i.sent_sequence is not None)]
    # Each in their own language: the accounts' choices in one query, not one per person.
    emails = {i.person.email for i in chosen}
    query = sa.select(User.email, User.locale).where(User.email.in_(emails))
    locales = {email: locale for email, locale in session.execute(query)}
    for invitation in chosen:
        _queue_one(
            session,
            meeting,
            invitation.person.email,
            invitation.person,
            locale=locales.get(invitation.person.email) or "sv",
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
    locale: str | None = None,
) -> None:
    method = "CANCEL" if cancel else "REQUEST"
    # In the reader's language: their account's, else Swedish.
    if locale is None:
        locale = session.scalar(sa.select(User.locale).where(User.email == email)) or "sv"
    with force_locale(locale):
        if cancel:
            subject = _("Cancelled: %(title)s", title=title_text(meeting))
        elif update:
            subject = _("Changed: %(title)s", title=title_text(meeting))
        elif copy:
            subject = _("Copy of the invitation: %(title)s", title=title_text(meeting))
        else:
            subject = _("Invitation: %(title)s", title=title_text(meeting))
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
            "when": dates.span(meeting.starts_at, meeting.ends_at),
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


def answers_open(meeting: Meeting, now: datetime) -> bool:
    """An invitation is answered until its meeting has ended; afterwards there is nothing to
    answer (and special needs given then would outlive the erasure after the meeting)."""
    end = meeting.ends_at or meeting.starts_at
    return end is None or now < end


def answer_link_open(invitation: Invitation, now: datetime) -> bool:
    """An answer link works while its meeting can be answered: a link found in an old mail
    must not keep opening a page."""
    return answers_open(invitation.meeting, now)


# Special needs (diet, hearing loop, others) are sensitive personal data, kept only for the
# meeting: they are erased this many days after it ended (a worker job).
NEEDS_KEPT_DAYS = 30


def forget_needs(session: Session, now: datetime, config) -> int:
    """Erase the special needs given for meetings that ended NEEDS_KEPT_DAYS ago or more
    (or were cancelled that long ago). Returns how many answers were cleared."""
    days = config.get("NEEDS_KEPT_DAYS", NEEDS_KEPT_DAYS)
    cutoff = now - timedelta(days=days)
    ended = sa.select(Meeting.id).where(
        sa.func.coalesce(Meeting.ends_at, Meeting.starts_at, Meeting.updated_at) <= cutoff
    )
    kept = (
        Invitation.meeting_id.in_(ended),
        sa.or_(
            Invitation.diet.is_not(None),
            Invitation.needs_hearing_loop.is_(True),
            Invitation.other_needs.is_not(None),
        ),
    )
    # Looked for first: the worker runs this every few seconds, and an update that finds
    # nothing would still take the database's write lock each time (SQLite).
    ids = session.scalars(sa.select(Invitation.id).where(*kept)).all()
    if not ids:
        return 0
    # Past the session's flush: the meetings' cohorts are told (the host's list of the
    # invited, kept per revision, shows these needs until then).
    revisions.touch(
        session,
        session.scalars(
            sa.select(Meeting.cohort_id)
            .join(Invitation, Invitation.meeting_id == Meeting.id)
            .where(Invitation.id.in_(ids))
            .distinct()
        ),
    )
    return session.execute(
        sa.update(Invitation)
        .where(Invitation.id.in_(ids), *kept)
        .values(diet=None, needs_hearing_loop=False, other_needs=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def own_invitation(session: Session, meeting: Meeting, person_id: int | None) -> Invitation | None:
    """The person's invitation to the meeting, read alone (not among all the invited)."""
    if person_id is None:
        return None
    return session.scalar(
        sa.select(Invitation).where(
            Invitation.meeting_id == meeting.id, Invitation.person_id == person_id
        )
    )


def invited(session: Session, meeting: Meeting) -> list[Invitation]:
    """Everyone invited to the meeting with their organisations, by organisation and name."""
    found = session.scalars(
        sa.select(Invitation)
        .where(Invitation.meeting_id == meeting.id)
        .options(joinedload(Invitation.person).joinedload(Person.organisation))
    ).all()
    return sorted(found, key=lambda i: (i.person.organisation.name, i.person.name))


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
    if not answers_open(invitation.meeting, now):
        raise RuleViolation(_l("The meeting has ended: there is nothing to answer any more."))
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
