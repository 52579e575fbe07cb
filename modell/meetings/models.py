"""Meetings of a cohort or a group, who is invited, who came, what was said."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modell.cohorts.models import Cohort, Group, MeetingKind
from modell.core import revisions
from modell.core.access import Scope
from modell.core.types import UTCDateTime, choice
from modell.extensions import db
from modell.organisations.models import Organisation, Person

MEETING_STATUSES = ("planned", "cancelled", "held")


class Meeting(db.Model):
    """Kickoff, benchmarking meeting, result conference, ... Times are stored in UTC."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("groups.id"), index=True)
    kind_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_kinds.id"))
    number: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(
        choice(*MEETING_STATUSES, name="meeting_status"), default="planned"
    )
    host_organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(sa.String(300))
    video_link: Mapped[str | None] = mapped_column(sa.String(500))
    agenda: Mapped[str | None] = mapped_column(sa.Text)
    accessibility_info: Mapped[str | None] = mapped_column(sa.Text)
    # The host's checklist, from SKR's checklist for benchmarking meetings.
    venue_booked: Mapped[bool] = mapped_column(default=False)
    wheelchair_access: Mapped[bool] = mapped_column(default=False)
    hearing_loop: Mapped[bool] = mapped_column(default=False)
    public_transport: Mapped[bool] = mapped_column(default=False)
    remote_participation: Mapped[bool] = mapped_column(default=False)
    note_taker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    next_meeting_set: Mapped[bool] = mapped_column(default=False)
    invitation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes: Mapped[str | None] = mapped_column(sa.Text)
    decisions: Mapped[str | None] = mapped_column(sa.Text)
    # iCalendar identity: the same UID for the meeting's life, SEQUENCE up on every change.
    ical_uid: Mapped[str] = mapped_column(sa.String(200), unique=True)
    ical_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    cohort: Mapped[Cohort] = relationship()
    group: Mapped[Group | None] = relationship()
    kind: Mapped[MeetingKind] = relationship()
    host: Mapped[Organisation | None] = relationship()
    note_taker: Mapped[Person | None] = relationship()
    invitations: Mapped[list["Invitation"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
    )

    def access_scope(self) -> Scope:
        """A group meeting is seen by its group, a cohort-wide one by the whole cohort;
        the host organisation may change it."""
        base = (self.group or self.cohort).access_scope()
        host = frozenset({self.host_organisation_id}) if self.host_organisation_id else frozenset()
        return Scope(viewers=base.viewers, editors=host, counties=base.counties)


RESPONSES = ("yes", "no")


class Invitation(db.Model):
    """A person invited to a meeting: the answer, special needs, and actual attendance."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"), index=True)
    response: Mapped[str | None] = mapped_column(choice(*RESPONSES, name="invitation_response"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    diet: Mapped[str | None] = mapped_column(sa.String(300))
    needs_hearing_loop: Mapped[bool] = mapped_column(default=False)
    other_needs: Mapped[str | None] = mapped_column(sa.Text)
    attended: Mapped[bool | None] = mapped_column()
    sent_sequence: Mapped[int | None] = mapped_column()

    meeting: Mapped[Meeting] = relationship(back_populates="invitations")
    person: Mapped[Person] = relationship()

    __table_args__ = (sa.UniqueConstraint("meeting_id", "person_id"),)


class MeetingDocument(db.Model):
    """A file attached to a meeting, stored outside the database."""

    __tablename__ = "meeting_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    mimetype: Mapped[str] = mapped_column(sa.String(127))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PmiFeedback(db.Model):
    """Plus – Minus – Intressant: one per person and meeting."""

    __tablename__ = "pmi_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    plus: Mapped[str | None] = mapped_column(sa.Text)
    minus: Mapped[str | None] = mapped_column(sa.Text)
    interesting: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("meeting_id", "user_id"),)


class CalendarFeed(db.Model):
    """A person's secret calendar subscription; renewing replaces the token."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Which cohort a changed row belongs to, for its revision (core.revisions).
revisions.follow(Meeting, ("cohort_id", "cohort"))
for _model in (Invitation, MeetingDocument, PmiFeedback):
    revisions.follow(_model, ("meeting_id", "meeting"))
revisions.resolver("meeting", lambda ids: sa.select(Meeting.cohort_id).where(Meeting.id.in_(ids)))
