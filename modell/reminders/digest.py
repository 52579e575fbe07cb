"""The weekly digest: for the people who chose it, one message on Monday at 08:00 (Stockholm
time) with the reminders of the week they have not read in the app. The tick writes it
(`services.process` calls `send_digests`) once its Monday has come, or later after downtime.
"""

import logging
from collections.abc import Mapping
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from modell.auth.models import User
from modell.core import mail
from modell.core.dates import span as timespan
from modell.core.models import OutboxMessage
from modell.core.timeutil import local_to_utc, to_local
from modell.meetings.models import Meeting
from modell.reminders.models import Notification

log = logging.getLogger(__name__)


DIGEST_WEEKDAY, DIGEST_HOUR = 0, 8  # Monday, 08:00 Stockholm time


def digest_instant(now: datetime) -> datetime:
    """The latest Monday 08:00 (Stockholm) at or before `now`: the digest that is due."""
    local = to_local(now)
    monday = local.date() - timedelta(days=(local.weekday() - DIGEST_WEEKDAY) % 7)
    instant = local_to_utc(monday, time(DIGEST_HOUR))
    if instant > now:
        instant = local_to_utc(monday - timedelta(days=7), time(DIGEST_HOUR))
    return instant


def send_digests(session: Session, now: datetime, config: Mapping) -> list[int]:
    """For each person on the weekly digest: one message with the reminders that came
    since the last one and are still unread in the app (read ones need no mail). Runs on
    every tick; a digest is written once, when its Monday has come (or later, after
    downtime). Returns the outbox ids written."""
    instant = digest_instant(now)
    rows = session.execute(
        sa.select(Notification, User)
        .join(User, Notification.user_id == User.id)
        .where(
            Notification.digested_at.is_(None),
            Notification.created_at <= instant,
            User.reminder_mail == "weekly",
        )
        .order_by(User.id, Notification.created_at, Notification.id)
    ).all()
    by_user: dict[int, tuple[User, list[Notification]]] = {}
    for note, user in rows:
        by_user.setdefault(user.id, (user, []))[1].append(note)
    starts = dict(
        session.execute(
            sa.select(Meeting.id, Meeting.starts_at).where(
                Meeting.id.in_({note.meeting_id for note, _ in rows} - {None})
            )
        ).all()
    )

    def still_news(note: Notification) -> bool:
        """Not a reminder of a meeting that has begun since it was written."""
        begins = starts.get(note.meeting_id)
        return begins is None or not (note.created_at < begins <= now)

    written = []
    for user, notes in by_user.values():
        unread = [n for n in notes if n.read_at is None and still_news(n)]
        try:
            with session.begin_nested():
                for n in notes:
                    n.digested_at = now
                if unread and user.active:
                    written.append(_digest(session, user, unread, instant, now, config).id)
        except Exception:  # one person's digest fails alone
            log.exception("weekly digest to user %s failed", user.id)
    return written


def _digest(
    session: Session,
    user: User,
    notes: list[Notification],
    instant: datetime,
    now: datetime,
    config: Mapping,
) -> OutboxMessage:
    locale = (user.locale or "sv")[:2]
    base = config["BASE_URL"].rstrip("/")
    meetings = {
        m.id: m
        for m in session.scalars(
            sa.select(Meeting).where(Meeting.id.in_({n.meeting_id for n in notes} - {None}))
        )
    }
    with force_locale(locale):
        entries = []
        for n in notes:
            meeting = meetings.get(n.meeting_id)
            entries.append(
                {
                    "subject": n.subject,
                    "body": n.body,
                    "meeting": meeting,
                    "when": timespan(meeting.starts_at, meeting.ends_at) if meeting else None,
                    "url": f"{base}/moten/{meeting.id}" if meeting else f"{base}/aviseringar",
                    "organisation": None,
                }
            )
        subject = _("Your reminders this week from Modell")
        context = {
            "entries": entries,
            "settings_url": f"{base}/konto/paminnelser",
            "name": user.name,
            "digest": True,
        }
        text = render_template("emails/reminders.txt", **context)
        html = render_template("emails/reminders.html", **context)
    message = mail.queue(
        session, now=now, kind="digest", to=user.email, subject=subject, text=text, html=html
    )
    message.dedupe_key = f"digest:{user.id}:{to_local(instant).date().isoformat()}"
    session.flush()
    return message
