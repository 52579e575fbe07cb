"""Meetings in people's calendars: the .ics of a meeting (stable UID, SEQUENCE up on every
change, CANCEL when cancelled) and the personal subscription feeds (a secret address that
can be renewed and revoked)."""

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress
from sqlalchemy.orm import Session, joinedload

from modell.auth.models import User
from modell.core import audit
from modell.core.links import external_url
from modell.core.timeutil import STOCKHOLM, add_hours
from modell.meetings.models import CalendarFeed, Invitation, Meeting
from modell.meetings.titles import title_text


def calendar_for(
    meetings: list[Meeting],
    *,
    method: str | None,
    now: datetime,
    organizer: str = "",
    attendee: str | None = None,
    name: str | None = None,
) -> bytes:
    """Valid iCalendar (RFC 5545) with times in UTC, which Outlook and Google accept."""
    cal = Calendar()
    cal.add("prodid", "-//SKR Modell//Modell//SV")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", str(STOCKHOLM))
    for m in meetings:
        if m.starts_at is None:
            continue
        event = Event()
        event.add("uid", m.ical_uid)
        event.add("sequence", m.ical_sequence)
        event.add("dtstamp", now)
        event.add("dtstart", m.starts_at)
        event.add("dtend", m.ends_at or add_hours(m.starts_at, m.kind.duration_hours))
        event.add("summary", title_text(m))
        where = ", ".join(x for x in (m.location, m.video_link) if x)
        if where:
            event.add("location", where)
        page = external_url("meetings.meeting", meeting_id=m.id)
        event.add("url", page)  # back to the meeting in Modell: documents, answers, changes
        event.add("description", description(m, page))
        cancelled = method == "CANCEL" or m.status == "cancelled"
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        if organizer:
            event.add("organizer", vCalAddress(f"mailto:{organizer}"))
        if attendee:
            address = vCalAddress(f"mailto:{attendee}")
            address.params["ROLE"] = "REQ-PARTICIPANT"
            address.params["RSVP"] = "FALSE"
            event.add("attendee", address)
        cal.add_component(event)
    return cal.to_ical()


def description(meeting: Meeting, page: str) -> str:
    """The calendar entry's text, in the reader's language: the agenda, the video link and
    where in Modell the meeting is."""
    parts = []
    if meeting.agenda:
        parts.append(f"{_('Agenda')}:\n{meeting.agenda.strip()}")
    if meeting.video_link:
        parts.append(f"{_('Video link')}: {meeting.video_link}")
    parts.append(_("The meeting in Modell: %(url)s", url=page))
    return "\n\n".join(parts)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _active_feeds(user: User) -> sa.Select:
    return sa.select(CalendarFeed).where(
        CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)
    )


def _end_feeds(session: Session, user: User, now: datetime) -> None:
    for feed in session.scalars(_active_feeds(user)):
        feed.revoked_at = now


def renew_feed(session: Session, user: User, *, now: datetime) -> str:
    """A new secret subscription address; the old one stops working."""
    _end_feeds(session, user, now)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(user_id=user.id, token_hash=_token_hash(token), created_at=now))
    audit.record(
        session,
        now=now,
        user_id=user.id,
        action="calendar_feed_renewed",
        object_type="User",
        object_id=user.id,
    )
    return token


def revoke_feed(session: Session, user: User, *, now: datetime) -> None:
    _end_feeds(session, user, now)
    audit.record(
        session,
        now=now,
        user_id=user.id,
        action="calendar_feed_revoked",
        object_type="User",
        object_id=user.id,
    )


def active_feed(session: Session, user: User) -> CalendarFeed | None:
    return session.scalar(_active_feeds(user))


def user_for_feed(session: Session, token: str) -> User | None:
    feed = session.scalar(
        sa.select(CalendarFeed).where(
            CalendarFeed.token_hash == _token_hash(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    if feed is None:
        return None
    user = session.get(User, feed.user_id)
    return user if user is not None and user.active else None


def meetings_for_person(session: Session, person_id: int | None) -> list[Meeting]:
    """The meetings a person is invited to."""
    if person_id is None:
        return []
    return list(
        session.scalars(
            sa.select(Meeting)
            .join(Invitation)
            .where(Invitation.person_id == person_id)
            # What the title is written from, in the same query whatever the person has.
            .options(joinedload(Meeting.kind), joinedload(Meeting.group))
            .order_by(Meeting.starts_at)
        )
    )
