"""Improvement work between the meetings, indicators split by sex, mentor sessions.

Everything here belongs to one participation (an organisation in a cohort): its baseline
("Kommunfakta"), its pieces of improvement work and their log on the result chain, its
indicators. The own organisation writes; its group, the group's mentors and SKR read; the
county observer of the organisation's county reads. An approved good example is read by
every signed-in user.
"""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modell.cohorts.models import Cohort, Group, Participation
from modell.core import revisions
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
TARGET_GROUPS = ("women_men", "girls_boys", "other")
# The four results every participant is expected to show (DOMAIN.md).
EXPECTED_RESULTS = ("governance", "core_activity", "indicators", "cross_sectoral")
GOOD_EXAMPLE_STATUSES = ("proposed", "approved", "declined")


class Workspace:
    """One organisation's improvement work in one cohort, as a thing access is decided on:
    the organisation writes, its group and the observer of its county read."""

    def __init__(self, participation: Participation):
        self.participation = participation

    def access_scope(self) -> Scope:
        return _participant_scope(self.participation)


class Baseline(db.Model):
    """Step 1 of the model, "Kommunfakta": where the organisation stands when it starts."""

    __tablename__ = "baselines"

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participations.id", ondelete="CASCADE"), unique=True
    )
    mandate_decision: Mapped[str | None] = mapped_column(sa.Text)
    mandate_date: Mapped[date | None] = mapped_column(sa.Date)
    responsible: Mapped[str | None] = mapped_column(sa.String(300))
    demography: Mapped[str | None] = mapped_column(sa.Text)
    organisation_text: Mapped[str | None] = mapped_column(sa.Text)
    goals: Mapped[str | None] = mapped_column(sa.Text)
    priority_areas: Mapped[str | None] = mapped_column(sa.Text)
    functions: Mapped[list] = mapped_column(sa.JSON, default=list)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    participation: Mapped[Participation] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def access_scope(self) -> Scope:
        return _participant_scope(self.participation)


class ImprovementWork(db.Model):
    """A participant's förbättringsarbete in a core activity."""

    __tablename__ = "improvement_works"

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = mapped_column(sa.ForeignKey("participations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)  # the inequality it addresses
    core_activity: Mapped[str | None] = mapped_column(sa.String(200))
    target_groups: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    target_groups_other: Mapped[str | None] = mapped_column(sa.String(300))
    goal: Mapped[str | None] = mapped_column(sa.Text)
    subgoals: Mapped[list] = mapped_column(sa.JSON, default=list)
    owner: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(
        choice(*IMPROVEMENT_STATUSES, name="improvement_status"), default="planned"
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    participation: Mapped[Participation] = relationship()
    entries: Mapped[list["LogEntry"]] = relationship(
        back_populates="work",
        cascade="all, delete-orphan",
        order_by="(LogEntry.entry_date, LogEntry.id)",
    )

    __mapper_args__ = {"version_id_col": version}

    def access_scope(self) -> Scope:
        """The participant writes its own log; its group and mentors read it."""
        return _participant_scope(self.participation)


CONCLUDED = _l(
    "The cohort is concluded: its improvement work is kept as it was, and nothing is added."
)


def may_write_for_group(user, group: Group) -> bool:
    """Whether the user may add to a group's shared work (shared indicators, mentoring
    sessions; which organisation is asked by the service): never a county observer, who
    follows and reads, and never once the cohort's work is a record."""
    return user.role != "county_observer" and work_open(group.cohort)


def work_open(cohort: Cohort) -> bool:
    """Whether a cohort's improvement work can still be written: once the cohort is concluded
    the work is a record (read as before; no edits, entries, shared indicators or sessions).
    The one place this rule lives: the access scopes below and the services ask it."""
    return cohort.status != "concluded"


def _participant_scope(participation: Participation) -> Scope:
    """Written by the organisation; read by its group (mentors and support organisations
    included), by SKR and by the observer of the organisation's own county. Once the cohort is
    concluded it is a record: read as before, written by no one."""
    viewers = {participation.organisation_id}
    if participation.group is not None:
        viewers |= {p.organisation_id for p in participation.group.participations}
    county = participation.organisation.county_code
    return Scope(
        viewers=frozenset(viewers),
        editors=frozenset({participation.organisation_id})
        if work_open(participation.cohort)
        else frozenset(),
        counties=frozenset({county}) if county else frozenset(),
        staff_edit=False,
    )


class LogEntry(db.Model):
    """What was done, and how far along the result chain it reached (1–4, Statskontoret)."""

    __tablename__ = "log_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(
        sa.ForeignKey("improvement_works.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    entry_date: Mapped[date] = mapped_column(sa.Date, index=True)
    text: Mapped[str] = mapped_column(sa.Text)  # what was done
    result_step: Mapped[int] = mapped_column(sa.SmallInteger)
    evidence_link: Mapped[str | None] = mapped_column(sa.String(500))
    evidence_filename: Mapped[str | None] = mapped_column(sa.String(255))
    evidence_stored_name: Mapped[str | None] = mapped_column(sa.String(100))
    evidence_mimetype: Mapped[str | None] = mapped_column(sa.String(127))
    learned: Mapped[str | None] = mapped_column(sa.Text)
    obstacles: Mapped[str | None] = mapped_column(sa.Text)
    next_steps: Mapped[str | None] = mapped_column(sa.Text)
    # A step-4 claim points to the indicator whose values show the change.
    indicator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("indicators.id", ondelete="SET NULL")
    )
    # Which of the four expected results this entry shows.
    expected_results: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    good_example: Mapped[str | None] = mapped_column(
        choice(*GOOD_EXAMPLE_STATUSES, name="good_example_status")
    )
    good_example_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    good_example_decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    work: Mapped[ImprovementWork] = relationship(back_populates="entries")
    indicator: Mapped["Indicator | None"] = relationship()

    __table_args__ = (
        sa.CheckConstraint("result_step BETWEEN 1 AND 4", name="result_step"),
        sa.Index("ix_log_entries_good_example", "good_example"),
        # Each organisation's latest entry (who has gone quiet) read from the index.
        sa.Index("ix_log_entries_work_date", "work_id", "entry_date"),
    )
    __mapper_args__ = {"version_id_col": version}

    def access_scope(self) -> Scope:
        scope = _participant_scope(self.work.participation)
        if self.good_example == "approved":
            return Scope(
                scope.viewers, scope.editors, scope.counties, public=True, staff_edit=False
            )
        return scope


INDICATOR_SOURCES = ("manual", "kolada", "csv")
POPULATIONS = ("adults", "children")  # women and men, or girls and boys


class SharedIndicator(db.Model):
    """An indicator the group agreed to follow together: each organisation enters its own
    values, and the benchmarking view shows them side by side."""

    __tablename__ = "shared_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(300))
    unit: Mapped[str | None] = mapped_column(sa.String(50))
    description: Mapped[str | None] = mapped_column(sa.Text)
    population: Mapped[str] = mapped_column(
        choice(*POPULATIONS, name="shared_indicator_population"), default="adults"
    )
    kolada_kpi: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    group: Mapped[Group] = relationship()

    def access_scope(self) -> Scope:
        """Agreed by the group: every member reads it and may add it (until the cohort is
        concluded)."""
        scope = self.group.access_scope()
        editors = scope.viewers if work_open(self.group.cohort) else frozenset()
        return Scope(scope.viewers, editors, scope.counties)


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
    population: Mapped[str] = mapped_column(
        choice(*POPULATIONS, name="indicator_population"), default="adults", server_default="adults"
    )
    shared_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("shared_indicators.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    shared: Mapped[SharedIndicator | None] = relationship()
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
    notes: Mapped[str | None] = mapped_column(sa.Text)  # advice given
    follow_ups: Mapped[str | None] = mapped_column(sa.Text)
    # The organisations of the group that took part.
    organisation_ids: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    participation: Mapped[Participation] = relationship()
    group: Mapped[Group] = relationship()

    def access_scope(self) -> Scope:
        """The mentor organisation logs its sessions; the group reads them."""
        return _participant_scope(self.participation)


# Which cohorts a changed row belongs to, for their revision (core.revisions).
for _model in (Baseline, ImprovementWork, MentorSession):
    revisions.follow(_model, ("participation_id", "participation"))
revisions.follow(LogEntry, ("work_id", "work"))
revisions.follow(SharedIndicator, ("group_id", "group"))
revisions.follow(Indicator, ("organisation_id", "organisation"))
revisions.follow(IndicatorValue, ("indicator_id", "indicator"))
revisions.resolver(
    "work",
    lambda ids: (
        sa.select(Participation.cohort_id)
        .join(ImprovementWork, ImprovementWork.participation_id == Participation.id)
        .where(ImprovementWork.id.in_(ids))
    ),
)
revisions.resolver(
    "indicator",
    lambda ids: (
        sa.select(Participation.cohort_id)
        .join(Indicator, Indicator.organisation_id == Participation.organisation_id)
        .where(Indicator.id.in_(ids))
    ),
)
