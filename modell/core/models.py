"""Tables every domain writes to: the audit trail, the mail outbox, notifications."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modell.core.types import UTCDateTime, choice
from modell.extensions import db


class AuditEntry(db.Model):
    """Who changed what, when. Written in the same transaction as the change."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(64))
    object_id: Mapped[int | None] = mapped_column(sa.Integer)
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    __table_args__ = (sa.Index("ix_audit_entries_object", "object_type", "object_id"),)


OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class OutboxMessage(db.Model):
    """One e-mail. Written with the change that caused it, delivered after the commit."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    recipient: Mapped[str] = mapped_column(sa.String(320), index=True)
    cc: Mapped[str | None] = mapped_column(sa.Text)
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(
        choice(*OUTBOX_STATUSES, name="outbox_status"), default="pending", index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After a failed attempt: not before this (a growing delay); None: at once.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the message is for, when that must be unique (a reminder to one person).
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)

    # The delivery reads only what is waiting: a partial index holds just those rows, so its
    # cost follows what waits, not the size of the outbox (SQLite and PostgreSQL alike).
    __table_args__ = (
        sa.Index(
            "ix_outbox_messages_waiting",
            "id",
            sqlite_where=sa.text("status IN ('pending', 'sending')"),
            postgresql_where=sa.text("status IN ('pending', 'sending')"),
        ),
    )

    attachments: Mapped[list["OutboxAttachment"]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )


class OutboxAttachment(db.Model):
    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    mimetype: Mapped[str] = mapped_column(sa.String(127))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")
