"""The in-app side of the reminders: the notifications page, the unread count in the header,
and each user's reminder settings."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from modell.auth.models import User
from modell.meetings.models import Meeting
from modell.reminders.models import Notification


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def notifications_of(session: Session, user_id: int, *, limit: int = 100) -> list[Notification]:
    return list(
        session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def meeting_titles(session: Session, meeting_ids: set[int]) -> dict[int, str]:
    if not meeting_ids:
        return {}
    from sqlalchemy.orm import selectinload

    from modell.meetings.titles import title_text

    meetings = session.scalars(
        sa.select(Meeting)
        .where(Meeting.id.in_(meeting_ids))
        .options(selectinload(Meeting.kind), selectinload(Meeting.group))
    )
    return {m.id: title_text(m) for m in meetings}


def mark_read(session: Session, user_id: int, *, now: datetime) -> int:
    return session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now)
    ).rowcount


def save_settings(user: User, *, optional_reminders: bool, reminder_mail: str) -> None:
    user.optional_reminders = bool(optional_reminders)
    user.reminder_mail = reminder_mail if reminder_mail in ("immediate", "weekly") else "immediate"
