"""Reminder deliveries (each sent exactly once) and the scheduler's single-leader lease."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from modell.core.types import UTCDateTime
from modell.extensions import db


class ReminderDelivery(db.Model):
    """A reminder that was due and sent; the unique key makes a second send impossible."""

    __tablename__ = "reminder_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("reminder_rules.id"), index=True)
    # e.g. "meeting:12:user:7"
    dedupe_key: Mapped[str] = mapped_column(sa.String(200))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outbox_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )

    __table_args__ = (sa.UniqueConstraint("rule_id", "dedupe_key"),)


class SchedulerLease(db.Model):
    """Exactly one active scheduler: the holder renews the lease, others wait for it to lapse."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
