"""Reminders as data: what is due when (one row per rule and meeting), what became of it for
each recipient (one row per rule, meeting and recipient, unique), the in-app notifications,
and the scheduler's single-leader lease."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modell.core.types import UTCDateTime, choice
from modell.extensions import db

SCHEDULE_STATES = ("pending", "sending", "done", "cancelled")
DELIVERY_STATES = ("sent", "skipped", "failed")
# Why a reminder was not sent (or a scheduled one was cancelled): recorded, shown to staff.
REASONS = {
    "invitation_sent": _l("The invitation has been sent."),
    "entry_written": _l("The organisation has written in the log since the last meeting."),
    "documentation_posted": _l("The documentation has been posted."),
    "feedback_given": _l("Plus – Minus – Interesting has been given."),
    "no_account": _l("The person has no account to answer with."),
    "too_late": _l("It came due while the scheduler was down and no longer makes sense."),
    "turned_off": _l("The person has turned this kind of reminder off."),
    "meeting_cancelled": _l("The meeting was cancelled."),
    "meeting_undated": _l("The meeting no longer has a date."),
    "rule_inactive": _l("The rule has been turned off."),
    "no_recipients": _l("Nobody to send it to."),
    "no_previous_meeting": _l("There is no earlier meeting to count from."),
    "rule_changed": _l("Its time had already passed when the rule was changed."),
}


class ScheduledReminder(db.Model):
    """A rule applied to one meeting: due at one instant. Moving the meeting moves it;
    cancelling the meeting cancels it. The tick claims due rows and turns each into
    deliveries, one per recipient."""

    __tablename__ = "scheduled_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reminder_rules.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(
        choice(*SCHEDULE_STATES, name="scheduled_reminder_state"), default="pending"
    )
    reason: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    rule = relationship("ReminderRule")
    meeting = relationship("Meeting")
    deliveries: Mapped[list["ReminderDelivery"]] = relationship(back_populates="scheduled")

    __table_args__ = (
        sa.UniqueConstraint("rule_id", "meeting_id"),
        # The tick reads only what is due: its cost follows what is due, not what is stored.
        sa.Index("ix_scheduled_reminders_due", "state", "due_at"),
    )


class ReminderDelivery(db.Model):
    """What became of a scheduled reminder for one recipient: sent (its message is in the
    outbox, which delivers it), skipped with the reason, or failed (the message could not be
    made). Unique per rule, meeting, recipient and due instant, so nobody is reminded twice
    of the same thing (only again when the meeting has moved)."""

    __tablename__ = "reminder_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheduled_id: Mapped[int] = mapped_column(
        sa.ForeignKey("scheduled_reminders.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("reminder_rules.id", ondelete="CASCADE"))
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    # The instant it was due: a meeting moved after a reminder went out is reminded of again.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipient: Mapped[str] = mapped_column(sa.String(320))  # the address, lower case
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL")
    )
    cc: Mapped[str | None] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(choice(*DELIVERY_STATES, name="reminder_delivery_state"))
    reason: Mapped[str | None] = mapped_column(sa.String(64))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    outbox_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    scheduled: Mapped[ScheduledReminder] = relationship(back_populates="deliveries")
    rule = relationship("ReminderRule")
    meeting = relationship("Meeting")

    __table_args__ = (sa.UniqueConstraint("rule_id", "meeting_id", "recipient", "due_at"),)


class Notification(db.Model):
    """The in-app side of a reminder: shown on the notifications page, counted in the
    header until read."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reminder_deliveries.id", ondelete="SET NULL")
    )
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Users on the weekly digest get these in one message; set when that message is written.
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)


class SchedulerLease(db.Model):
    """Exactly one active scheduler: the holder renews the lease, others wait for it to lapse."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
