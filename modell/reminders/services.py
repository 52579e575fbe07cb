"""The reminders between the meetings, processed when due into one message per person
(planning them is planning.py's, the weekly digest digest.py's, the in-app side
notifications.py's).

When due, the tick claims the rows, works out who gets them today (so people added since are
included), checks the rule's condition (an invitation already sent, an entry already
written, ...) and records one `ReminderDelivery` per recipient: sent, or skipped with the
reason. A person with several reminders due the same day gets one message. Messages go to
the outbox; the worker delivers them. Every function takes `now`: the scheduler, the
commands and the tests call them alike.
"""

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from modell.auth.models import User
from modell.cohorts.models import Group, Participation, ReminderRule
from modell.core import mail
from modell.core.claims import claim
from modell.core.dates import span as timespan
from modell.core.models import OutboxMessage
from modell.core.sqlite import write_lock
from modell.core.timeutil import to_local
from modell.improvements.models import ImprovementWork, LogEntry
from modell.meetings.calendar import calendar_for
from modell.meetings.invitations import invitees
from modell.meetings.models import Meeting, MeetingDocument, PmiFeedback
from modell.organisations.models import Organisation, Person
from modell.reminders import digest
from modell.reminders.models import (
    Notification,
    ReminderDelivery,
    ScheduledReminder,
)
from modell.reminders.planning import previous_meeting

log = logging.getLogger(__name__)

# An after-meeting or between-meetings reminder that came due while the scheduler was down
# is still sent within this time; a before-meeting one only before the meeting.
LATE_GRACE = timedelta(days=3)
CLAIM_TIMEOUT = timedelta(minutes=10)
BATCH = 200


# --- who gets it ---------------------------------------------------------------------------


@dataclass
class Recipient:
    email: str
    person: Person | None = None
    user: User | None = None
    organisation: Organisation | None = None
    cc: list[str] = field(default_factory=list)


def _key_people(org: Organisation | None) -> list[Person]:
    """The organisation's key person for the programme: its strategists, else everyone."""
    if org is None:
        return []
    people = [p for p in org.people if p.email]
    return [p for p in people if p.function == "strategist"] or people


def _group_orgs(meeting: Meeting, role: str) -> list[Organisation]:
    if meeting.group is not None:
        return [p.organisation for p in meeting.group.members(role)]
    return [
        p.organisation
        for p in meeting.cohort.participations
        if p.role == role and p.status == "active"
    ]


def _mentors_of(org: Organisation, meeting: Meeting) -> list[Organisation]:
    group: Group | None = meeting.group
    if group is None:
        own = next((p for p in meeting.cohort.participations if p.organisation_id == org.id), None)
        group = own.group if own else None
    return [p.organisation for p in group.members("mentor")] if group else []


def recipients(session: Session, rule: ReminderRule, meeting: Meeting) -> list[Recipient]:
    found: list[Recipient] = []
    if rule.audience == "host":
        found = [
            Recipient(p.email, p, organisation=meeting.host) for p in _key_people(meeting.host)
        ]
    elif rule.audience == "invited":
        if meeting.invitations:
            took_part = [i for i in meeting.invitations if i.attended]
            after = rule.offset_days > 0 and took_part
            chosen = took_part if after else meeting.invitations
            people = [i.person for i in chosen]
        else:
            people = invitees(session, meeting)
        found = [Recipient(p.email, p, organisation=p.organisation) for p in people if p.email]
    elif rule.audience in ("organisations", "mentors"):
        role = "benchmarking" if rule.audience == "organisations" else "mentor"
        for org in _group_orgs(meeting, role):
            cc = []
            if rule.cc_mentor:
                cc = [p.email for m in _mentors_of(org, meeting) for p in _key_people(m)]
            found += [Recipient(p.email, p, organisation=org, cc=cc) for p in _key_people(org)]
    unique: dict[str, Recipient] = {}
    for r in found:
        unique.setdefault(r.email.strip().lower(), r)
    for email, r in unique.items():
        r.email = email
    _attach_users(session, list(unique.values()))
    return list(unique.values())


def _attach_users(session: Session, found: list[Recipient]) -> None:
    if not found:
        return
    person_ids = [r.person.id for r in found if r.person is not None]
    emails = [r.email for r in found]
    users = session.scalars(
        sa.select(User).where(
            User.active.is_(True),
            sa.or_(User.person_id.in_(person_ids or [-1]), sa.func.lower(User.email).in_(emails)),
        )
    ).all()
    by_person = {u.person_id: u for u in users if u.person_id}
    by_email = {u.email.lower(): u for u in users}
    for r in found:
        r.user = by_person.get(r.person.id if r.person else None) or by_email.get(r.email)


# --- conditions ----------------------------------------------------------------------------


def skip_reason(
    session: Session,
    rule: ReminderRule,
    meeting: Meeting,
    recipient: Recipient,
    previous: Meeting | None,
) -> str | None:
    """Why this recipient does not get the reminder (None: it goes out). `previous` is the
    meeting before this one (for "nothing written since the previous meeting")."""
    condition = rule.condition
    if condition == "invitation_not_sent" and meeting.invitation_sent_at is not None:
        return "invitation_sent"
    if condition == "documentation_missing":
        posted = (meeting.minutes or meeting.decisions) or session.scalar(
            sa.select(MeetingDocument.id).where(MeetingDocument.meeting_id == meeting.id).limit(1)
        )
        if posted:
            return "documentation_posted"
    if condition == "feedback_missing":
        if recipient.user is None:
            return "no_account"
        given = session.scalar(
            sa.select(PmiFeedback.id).where(
                PmiFeedback.meeting_id == meeting.id, PmiFeedback.user_id == recipient.user.id
            )
        )
        if given:
            return "feedback_given"
    if condition == "no_entry_since_previous":
        if previous is None or previous.starts_at is None:
            return "no_previous_meeting"
        since = to_local(previous.starts_at).date()
        written = session.scalar(
            sa.select(LogEntry.id)
            .join(ImprovementWork, LogEntry.work_id == ImprovementWork.id)
            .join(Participation, ImprovementWork.participation_id == Participation.id)
            .where(
                Participation.cohort_id == meeting.cohort_id,
                Participation.organisation_id == recipient.organisation.id,
                LogEntry.entry_date >= since,
            )
            .limit(1)
        )
        if written:
            return "entry_written"
    if not rule.essential and recipient.user is not None and not recipient.user.optional_reminders:
        return "turned_off"
    return None


def too_late(rule: ReminderRule, meeting: Meeting, due_at: datetime, now: datetime) -> bool:
    """A reminder that came due while nothing ran is sent only if it still makes sense."""
    if rule.event == "meeting" and rule.offset_days < 0:
        return meeting.starts_at is None or now >= meeting.starts_at
    return now > due_at + LATE_GRACE


# --- what is due, and processing it ---------------------------------------------------------


def due(session: Session, at: datetime) -> list[ScheduledReminder]:
    """The scheduled reminders due at this instant and not yet processed (oldest first)."""
    return list(
        session.scalars(
            sa.select(ScheduledReminder)
            .where(ScheduledReminder.state == "pending", ScheduledReminder.due_at <= at)
            .order_by(ScheduledReminder.due_at, ScheduledReminder.id)
        )
    )


@dataclass
class Summary:
    due: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    messages: list[int] = field(default_factory=list)  # outbox ids written
    mailed: dict[int, int] = field(default_factory=dict)  # reminder mail: id -> reminders
    held: int = 0  # reminders held for the weekly digest

    def line(self) -> str:
        return f"due {self.due}, sent {self.sent}, failed {self.failed}, skipped {self.skipped}"


def _claim(session: Session, now: datetime, limit: int) -> list[int]:
    """Take up to `limit` due rows for this process (see core/claims.py): no two processes
    take the same row."""
    stale = now - CLAIM_TIMEOUT
    return claim(
        session,
        ScheduledReminder,
        sa.or_(
            sa.and_(ScheduledReminder.state == "pending", ScheduledReminder.due_at <= now),
            sa.and_(ScheduledReminder.state == "sending", ScheduledReminder.claimed_at < stale),
        ),
        order_by=(ScheduledReminder.due_at, ScheduledReminder.id),
        limit=limit,
        values={"state": "sending", "claimed_at": now},
    )


def release_claims(session: Session) -> int:
    """The new leader takes back what a dead one had claimed (only the leader processes)."""
    result = session.execute(
        sa.update(ScheduledReminder)
        .where(ScheduledReminder.state == "sending")
        .values(state="pending", claimed_at=None)
    )
    return result.rowcount


@dataclass
class _Item:
    delivery: ReminderDelivery
    rule: ReminderRule
    meeting: Meeting
    organisation: Organisation | None


def process(session: Session, now: datetime, config: Mapping, *, limit: int = BATCH) -> Summary:
    """Process what is due at `now`: claim, decide per recipient, write one message per
    person; then the weekly digests that have come due. Commits once per batch; a row that
    fails fails alone."""
    summary = Summary()
    while True:
        ids = _claim(session, now, limit)
        session.commit()
        if not ids:
            break
        write_lock(session)
        _process_batch(session, ids, now, config, summary)
        session.commit()
        if len(ids) < limit:
            break
    write_lock(session)
    summary.messages += digest.send_digests(session, now, config)
    session.commit()
    return summary


def _process_batch(
    session: Session, ids: list[int], now: datetime, config: Mapping, summary: Summary
) -> None:
    rows = session.scalars(
        sa.select(ScheduledReminder)
        .where(ScheduledReminder.id.in_(ids))
        .order_by(ScheduledReminder.due_at, ScheduledReminder.id)
    ).all()
    outgoing: dict[str, list[_Item]] = defaultdict(list)
    recipients_by_email: dict[str, Recipient] = {}
    for row in rows:
        try:
            with session.begin_nested():
                _decide(session, row, now, summary, outgoing, recipients_by_email)
        except Exception:  # a broken row fails alone
            log.exception("reminder %s failed", row.id)
            row.state, row.reason, row.processed_at = "done", "error", now
            summary.failed += 1
    for email, items in outgoing.items():
        recipient = recipients_by_email[email]
        try:
            with session.begin_nested():
                message, mailed = _message(session, recipient, items, now, config)
                for item in mailed:
                    item.delivery.outbox_message_id = message.id
                _mark_mailed(session, [item.delivery.id for item in mailed], now)
                summary.sent += len(items)
                summary.held += len(items) - len(mailed)
                if message is not None:
                    summary.messages.append(message.id)
                    summary.mailed[message.id] = len(mailed)
        except Exception as error:  # a template error, an odd address: this person only
            log.exception("reminder message to %s failed", email)
            for item in items:
                item.delivery.state = "failed"
                item.delivery.last_error = f"{type(error).__name__}: {error}"
            summary.failed += len(items)


def _decide(
    session: Session,
    row: ScheduledReminder,
    now: datetime,
    summary: Summary,
    outgoing: dict[str, list[_Item]],
    recipients_by_email: dict[str, Recipient],
) -> None:
    rule, meeting = row.rule, row.meeting
    row.processed_at = now
    if meeting.status == "cancelled":
        row.state, row.reason = "cancelled", "meeting_cancelled"
        return
    if not rule.active:
        row.state, row.reason = "cancelled", "rule_inactive"
        return
    row.state = "done"
    late = too_late(rule, meeting, row.due_at, now)
    done = set(
        session.scalars(
            sa.select(ReminderDelivery.recipient).where(
                ReminderDelivery.rule_id == rule.id,
                ReminderDelivery.meeting_id == meeting.id,
                ReminderDelivery.due_at == row.due_at,
            )
        )
    )
    people = [r for r in recipients(session, rule, meeting) if r.email not in done]
    if not people and not done:
        row.reason = "no_recipients"
    previous = previous_meeting(session, meeting) if rule.condition else None
    for recipient in people:
        summary.due += 1
        reason = "too_late" if late else skip_reason(session, rule, meeting, recipient, previous)
        delivery = ReminderDelivery(
            scheduled_id=row.id,
            rule_id=rule.id,
            meeting_id=meeting.id,
            due_at=row.due_at,
            recipient=recipient.email,
            person_id=recipient.person.id if recipient.person else None,
            user_id=recipient.user.id if recipient.user else None,
            organisation_id=recipient.organisation.id if recipient.organisation else None,
            cc=", ".join(sorted(set(recipient.cc))) or None,
            state="skipped" if reason else "sent",
            reason=reason,
            created_at=now,
        )
        session.add(delivery)
        if reason:
            summary.skipped += 1
            continue
        session.flush()
        if recipient.user is not None:
            subject, body = _texts(rule, _locale(recipient))
            session.add(
                Notification(
                    user_id=recipient.user.id,
                    delivery_id=delivery.id,
                    subject=subject,
                    body=body,
                    meeting_id=meeting.id,
                    created_at=now,
                )
            )
        outgoing[recipient.email].append(_Item(delivery, rule, meeting, recipient.organisation))
        known = recipients_by_email.setdefault(recipient.email, recipient)
        known.cc = sorted(set(known.cc) | set(recipient.cc))


def _locale(recipient: Recipient) -> str:
    return (recipient.user.locale if recipient.user and recipient.user.locale else "sv")[:2]


def _texts(rule: ReminderRule, locale: str) -> tuple[str, str]:
    if locale == "en" and rule.subject_en:
        return rule.subject_en, rule.body_en or rule.body
    return rule.subject, rule.body


def _message(
    session: Session, recipient: Recipient, items: list[_Item], now: datetime, config: Mapping
) -> tuple[OutboxMessage | None, list[_Item]]:
    """One message for everything due to this person now, and what it holds. A person on the
    weekly digest gets only the essential reminders now; the rest wait for Monday."""
    if recipient.user is not None and recipient.user.reminder_mail == "weekly":
        items = [item for item in items if item.rule.essential]
    if not items:
        return None, []
    locale = _locale(recipient)
    base = config["BASE_URL"].rstrip("/")
    with force_locale(locale):
        entries = []
        for item in items:
            subject, body = _texts(item.rule, locale)
            entries.append(
                {
                    "subject": subject,
                    "body": body,
                    "meeting": item.meeting,
                    "when": timespan(item.meeting.starts_at, item.meeting.ends_at),
                    "url": f"{base}/moten/{item.meeting.id}",
                    "organisation": item.organisation.name if item.organisation else None,
                }
            )
        if len(entries) == 1:
            subject = f"{entries[0]['subject']}: {entries[0]['meeting'].title}"
        else:
            subject = _("%(n)d reminders from Modell", n=len(entries))
        context = {
            "entries": entries,
            "settings_url": f"{base}/konto/paminnelser",
            "name": recipient.person.name if recipient.person else None,
        }
        text = render_template("emails/reminders.txt", **context)
        html = render_template("emails/reminders.html", **context)
    meetings = list({item.meeting.id: item.meeting for item in items}.values())
    ics = calendar_for(meetings, method="PUBLISH", now=now)
    message = mail.queue(
        session,
        now=now,
        kind="reminder",
        to=recipient.email,
        cc=[c for c in recipient.cc if c != recipient.email],
        subject=subject,
        text=text,
        html=html,
        attachments=[mail.Attachment("meeting.ics", "text/calendar; method=PUBLISH", ics)],
    )
    message.dedupe_key = "reminder:" + ",".join(str(i.delivery.id) for i in items)[:180]
    session.flush()
    return message, items


def _mark_mailed(session: Session, delivery_ids: list[int], now: datetime) -> None:
    """Their notifications went out by mail: no digest repeats them."""
    if delivery_ids:
        session.execute(
            sa.update(Notification)
            .where(Notification.delivery_id.in_(delivery_ids))
            .values(digested_at=now)
        )


# --- for the commands and staff ------------------------------------------------------------


@dataclass
class DueLine:
    scheduled: ScheduledReminder
    recipients: list[Recipient]
    reasons: list[str | None]  # why each would be skipped (None: it would go out)


def due_with_recipients(session: Session, at: datetime) -> list[DueLine]:
    """What is due at `at`, each recipient with the reason it would be skipped: what the
    tick would decide, written nowhere."""
    lines = []
    for s in due(session, at):
        people = recipients(session, s.rule, s.meeting)
        previous = previous_meeting(session, s.meeting) if s.rule.condition else None
        late = too_late(s.rule, s.meeting, s.due_at, at)
        reasons = [
            "too_late" if late else skip_reason(session, s.rule, s.meeting, r, previous)
            for r in people
        ]
        lines.append(DueLine(s, people, reasons))
    return lines


@dataclass
class MailOutcome:
    delivered: int = 0  # reminders whose mail the mail server accepted
    undelivered: int = 0  # ... whose mail failed or waits for a retry
    kept: int = 0  # ... whose mail waits in the outbox: no mail server is set
    held: int = 0  # ... held for the weekly digest


def mail_outcome(session: Session, summary: Summary, *, has_server: bool) -> MailOutcome:
    """What became of the mail of a processed batch, counted per reminder."""
    outcome = MailOutcome(held=summary.held)
    if not summary.mailed:
        return outcome
    status = dict(
        session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.status).where(
                OutboxMessage.id.in_(list(summary.mailed))
            )
        ).all()
    )
    for message_id, count in summary.mailed.items():
        if status.get(message_id) == "sent":
            outcome.delivered += count
        elif has_server:
            outcome.undelivered += count
        else:
            outcome.kept += count
    return outcome
