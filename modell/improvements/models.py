"""Improvement work between the meetings, indicators split by sex, mentor sessions."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modell.cohorts.models import Group, Participation
from modell.core.access import Scope
from modell.core.types import UTCDateTime, choice
from modell.extensions import db
from modell.organisations.models import Organisation

# Sweden's six national gender-equality sub-goals, used as tags.
SUBGOALS = (
    "power_influence",
    "economic_equality",
    "education",
    "unpaid_care",
    "health",
    "violence",
)
IMPROVEMENT_STATUSES = ("planned", "ongoing", "done", "paused")


class ImprovementWork(db.Model):
    """A participant's förbättringsarbete in a core activity."""

    __tablename__ = "improvement_works"

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = mapped_column(sa.ForeignKey("participations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    core_activity: Mapped[str | None] = mapped_column(sa.String(200))
    goal: Mapped[str | None] = mapped_column(sa.Text)
    subgoals: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(
        choice(*IMPROVEMENT_STATUSES, name="improvement_status"), default="planned"
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    participation: Mapped[Participation] = relationship()
    entries: Mapped[list["LogEntry"]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="LogEntry.entry_date"
    )

    __mapper_args__ = {"version_id_col": version}

    def access_scope(self) -> Scope:
        """The participant writes its own log; its group and mentors read it."""
        return _participant_scope(self.participation)


def _participant_scope(participation: Participation) -> Scope:
    group_scope = (participation.group or participation.cohort).access_scope()
    return Scope(
        viewers=group_scope.viewers | {participation.organisation_id},
        editors=frozenset({participation.organisation_id}),
        counties=group_scope.counties,
    )


class LogEntry(db.Model):
    """What was done, and how far along the result chain it reached (1–4, Statskontoret)."""

    __tablename__ = "log_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(
        sa.ForeignKey("improvement_works.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    entry_date: Mapped[date] = mapped_column(sa.Date)
    text: Mapped[str] = mapped_column(sa.Text)
    result_step: Mapped[int] = mapped_column(sa.SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    work: Mapped[ImprovementWork] = relationship(back_populates="entries")

    __table_args__ = (sa.CheckConstraint("result_step BETWEEN 1 AND 4", name="result_step"),)


INDICATOR_SOURCES = ("manual", "kolada", "csv")


class Indicator(db.Model):
    """A key figure followed for women and men (könsuppdelad statistik)."""

    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    work_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("improvement_works.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(300))
    unit: Mapped[str | None] = mapped_column(sa.String(50))
    description: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(
        choice(*INDICATOR_SOURCES, name="indicator_source"), default="manual"
    )
    kolada_kpi: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    values: Mapped[list["IndicatorValue"]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="IndicatorValue.period"
    )


class IndicatorValue(db.Model):
    """One period's value: total, women (K) and men (M)."""

    __tablename__ = "indicator_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(sa.String(10))  # "2024" or "2024-03"
    total: Mapped[float | None] = mapped_column(sa.Float)
    women: Mapped[float | None] = mapped_column(sa.Float)
    men: Mapped[float | None] = mapped_column(sa.Float)
    source: Mapped[str] = mapped_column(
        choice(*INDICATOR_SOURCES, name="indicator_value_source"), default="manual"
    )
    note: Mapped[str | None] = mapped_column(sa.String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    indicator: Mapped[Indicator] = relationship(back_populates="values")

    __table_args__ = (sa.UniqueConstraint("indicator_id", "period"),)


SESSION_MODES = ("on_site", "remote", "phone")


class MentorSession(db.Model):
    """A mentoring session the mentor organisation held with its group."""

    __tablename__ = "mentor_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = mapped_column(sa.ForeignKey("participations.id"), index=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id"), index=True)
    held_on: Mapped[date] = mapped_column(sa.Date)
    duration_minutes: Mapped[int | None]
    mode: Mapped[str] = mapped_column(
        choice(*SESSION_MODES, name="session_mode"), default="on_site"
    )
    topics: Mapped[str | None] = mapped_column(sa.Text)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    participation: Mapped[Participation] = relationship()
    group: Mapped[Group] = relationship()

    def access_scope(self) -> Scope:
        """The mentor organisation logs its sessions; the group reads them."""
        return _participant_scope(self.participation)
