"""The programme as data (templates) and its cohorts, groups and participations."""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modell.core import revisions
from modell.core.access import Scope
from modell.core.revisions import new_revision
from modell.core.types import UTCDateTime, choice
from modell.extensions import db
from modell.organisations.models import FUNCTIONS, Organisation, Person

# --- programme templates ---------------------------------------------------------------

TEMPLATE_VARIANTS = ("modellkommuner", "modellregioner", "modellkoncept", "modellmyndigheter")


class ProgrammeTemplate(db.Model):
    """A version of a programme model. Editing a template that a cohort uses makes a new
    version (same family, version + 1); the cohort keeps the version it started with."""

    __tablename__ = "programme_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    family: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(default=1)
    is_current: Mapped[bool] = mapped_column(default=True)
    variant: Mapped[str] = mapped_column(choice(*TEMPLATE_VARIANTS, name="template_variant"))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    duration_months: Mapped[int] = mapped_column(default=12)
    group_min: Mapped[int] = mapped_column(default=2)
    group_max: Mapped[int] = mapped_column(default=3)
    uses_mentors: Mapped[bool] = mapped_column(default=True)
    copied_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("programme_templates.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    steps: Mapped[list["TemplateStep"]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="TemplateStep.position"
    )
    meeting_kinds: Mapped[list["MeetingKind"]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="MeetingKind.position"
    )
    reminder_rules: Mapped[list["ReminderRule"]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="ReminderRule.id"
    )

    __table_args__ = (sa.UniqueConstraint("family", "version"),)


class TemplateStep(db.Model):
    """One of the model's steps (the classic model has eight), with its checklist."""

    __tablename__ = "template_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programme_templates.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)

    template: Mapped[ProgrammeTemplate] = relationship(back_populates="steps")
    checklist_items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="step", cascade="all, delete-orphan", order_by="ChecklistItem.position"
    )


class ChecklistItem(db.Model):
    __tablename__ = "checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(
        sa.ForeignKey("template_steps.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text)

    step: Mapped[TemplateStep] = relationship(back_populates="checklist_items")


MEETING_SCOPES = ("cohort", "group")


class MeetingKind(db.Model):
    """A kind of meeting in the template: kickoff, benchmarking meeting, result conference, ..."""

    __tablename__ = "meeting_kinds"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programme_templates.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    scope: Mapped[str] = mapped_column(choice(*MEETING_SCOPES, name="meeting_scope"))
    count: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)
    # Where in the cohort's year it is proposed, in weeks from the start.
    offset_weeks: Mapped[int] = mapped_column(default=0)
    interval_weeks: Mapped[int] = mapped_column(default=0)
    duration_hours: Mapped[float] = mapped_column(default=4.0)
    # A preparatory meeting (the strategists' meeting) is tied to the kind it prepares.
    prepares_key: Mapped[str | None] = mapped_column(sa.String(64))
    audience: Mapped[str | None] = mapped_column(choice(*FUNCTIONS, name="meeting_audience"))
    description: Mapped[str | None] = mapped_column(sa.Text)

    template: Mapped[ProgrammeTemplate] = relationship(back_populates="meeting_kinds")

    __table_args__ = (sa.UniqueConstraint("template_id", "key"),)


# "meeting": a number of days before (negative) or after the meeting's day; "between_meetings":
# days from the midpoint between the previous meeting of the same kind and this one.
REMINDER_EVENTS = ("meeting", "between_meetings")
# host: the host organisation's key person; invited: everyone invited (after the meeting,
# everyone who took part); organisations: each benchmarking participant's key person;
# mentors: the mentor organisations' key person.
REMINDER_AUDIENCES = ("host", "invited", "organisations", "mentors")
# What must still be missing for the reminder to go out (None: always).
REMINDER_CONDITIONS = (
    "invitation_not_sent",
    "no_entry_since_previous",
    "documentation_missing",
    "feedback_missing",
)
REMINDER_EVENT_LABELS = {
    "meeting": _l("Counted from the meeting's day"),
    "between_meetings": _l("Counted from halfway between the previous meeting and this one"),
}
REMINDER_AUDIENCE_LABELS = {
    "host": _l("The host organisation's key person"),
    "invited": _l("Everyone invited (after the meeting: those who took part)"),
    "organisations": _l("Each benchmarking organisation's key person"),
    "mentors": _l("Each mentor organisation's key person"),
}
REMINDER_CONDITION_LABELS = {
    "": _l("Always"),
    "invitation_not_sent": _l("Only if the invitation has not been sent"),
    "no_entry_since_previous": _l(
        "Only if the organisation has written nothing in its log since the previous meeting"
    ),
    "documentation_missing": _l("Only if the documentation has not been posted"),
    "feedback_missing": _l("Only if the person has not given Plus – Minus – Interesting"),
}
# Whom each condition can be about.
REMINDER_CONDITION_AUDIENCES = {
    "invitation_not_sent": ("host",),
    "documentation_missing": ("host",),
    "feedback_missing": ("invited",),
    "no_entry_since_previous": ("organisations",),
}


class ReminderRule(db.Model):
    """When the scheduler reminds whom of what: data, so SKR can change it without code."""

    __tablename__ = "reminder_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programme_templates.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(sa.String(64))
    event: Mapped[str] = mapped_column(choice(*REMINDER_EVENTS, name="reminder_event"))
    meeting_kind_key: Mapped[str] = mapped_column(sa.String(64))
    offset_days: Mapped[int] = mapped_column(default=0)
    # The local (Stockholm) hour it goes out, the same across the changes of daylight saving.
    send_hour: Mapped[int] = mapped_column(default=8)
    audience: Mapped[str] = mapped_column(choice(*REMINDER_AUDIENCES, name="reminder_audience"))
    condition: Mapped[str | None] = mapped_column(
        choice(*REMINDER_CONDITIONS, name="reminder_condition")
    )
    cc_mentor: Mapped[bool] = mapped_column(default=False)
    # An essential reminder cannot be turned off in a user's settings.
    essential: Mapped[bool] = mapped_column(default=False)
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    subject_en: Mapped[str | None] = mapped_column(sa.String(300))
    body_en: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(default=True)

    template: Mapped[ProgrammeTemplate] = relationship(back_populates="reminder_rules")

    __table_args__ = (sa.UniqueConstraint("template_id", "key"),)


# --- cohorts ---------------------------------------------------------------------------

COHORT_STATUSES = ("draft", "open", "forming", "running", "concluded")
COHORT_STATUS_LABELS = {
    "draft": _l("Draft"),
    "open": _l("Open for interest registration"),
    "forming": _l("Forming groups"),
    "running": _l("Running"),
    "concluded": _l("Concluded"),
}


class Cohort(db.Model):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_templates.id"))
    status: Mapped[str] = mapped_column(
        choice(*COHORT_STATUSES, name="cohort_status"), default="draft"
    )
    registration_deadline: Mapped[date | None] = mapped_column(sa.Date)
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    description: Mapped[str | None] = mapped_column(sa.Text)
    project_lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it was concluded before its period ended (shown with the period).
    early_reason: Mapped[str | None] = mapped_column(sa.Text)
    # A cohort recorded after it took place (SKR's history): no meetings, mail or reminders.
    is_history: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    version: Mapped[int] = mapped_column(default=1)
    # Changes with every change inside the cohort (core.revisions); never written by a form.
    revision: Mapped[int] = mapped_column(sa.BigInteger, default=new_revision, server_default="0")

    template: Mapped[ProgrammeTemplate] = relationship()
    groups: Mapped[list["Group"]] = relationship(
        back_populates="cohort", order_by="Group.position", cascade="all, delete-orphan"
    )
    participations: Mapped[list["Participation"]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def access_scope(self) -> Scope:
        """Participants see their cohort; while it is open for interest registration every
        logged-in user sees it (so they can register); staff change it."""
        scope = _scope_of(self.participations)
        if self.status == "open":
            return Scope(scope.viewers, scope.editors, scope.counties, public=True)
        return scope


def _scope_of(
    participations: list["Participation"], editors: frozenset[int] = frozenset()
) -> Scope:
    return Scope(
        viewers=frozenset(p.organisation_id for p in participations),
        editors=editors,
        counties=frozenset(
            p.organisation.county_code for p in participations if p.organisation.county_code
        ),
    )


FEE_PAYERS = ("own", "county_board", "other")
REGISTRATION_STATUSES = ("submitted", "accepted", "declined", "withdrawn")
REGISTRATION_STATUS_LABELS = {
    "submitted": _l("Awaiting decision"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
}


class InterestRegistration(db.Model):
    """An organisation's intresseanmälan to a cohort: one per organisation and cohort."""

    __tablename__ = "interest_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The Stockholm date it came in: the database refuses it after the cohort's deadline.
    submitted_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(
        choice(*REGISTRATION_STATUSES, name="registration_status"), default="submitted"
    )
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_date: Mapped[date | None] = mapped_column(sa.Date)
    decision_body: Mapped[str | None] = mapped_column(sa.String(200))
    decision_reference: Mapped[str | None] = mapped_column(sa.String(200))
    cemr_signed: Mapped[bool] = mapped_column(default=False)
    themes: Mapped[str | None] = mapped_column(sa.Text)
    core_activities: Mapped[str | None] = mapped_column(sa.Text)
    area: Mapped[str | None] = mapped_column(sa.String(200))
    mentor_commitment: Mapped[bool] = mapped_column(default=False)
    fee_payer: Mapped[str] = mapped_column(choice(*FEE_PAYERS, name="fee_payer"), default="own")
    fee_payer_note: Mapped[str | None] = mapped_column(sa.String(300))

    cohort: Mapped[Cohort] = relationship()
    organisation: Mapped[Organisation] = relationship()
    contacts: Mapped[list["RegistrationContact"]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("cohort_id", "organisation_id"),)

    def access_scope(self) -> Scope:
        county = self.organisation.county_code
        return Scope(
            viewers=frozenset({self.organisation_id}),
            editors=frozenset({self.organisation_id}),
            counties=frozenset({county}) if county else frozenset(),
        )


class PendingRegistration(db.Model):
    """An interest registration sent from the public form, waiting for its sender to confirm
    the e-mail address through the link mailed there. Kept apart from the registrations, so
    that an unconfirmed one blocks nobody; confirmed, it becomes one. Unconfirmed ones expire."""

    __tablename__ = "pending_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    # An organisation the register lacks: created when the registration is confirmed.
    new_name: Mapped[str | None] = mapped_column(sa.String(200))
    new_kind: Mapped[str | None] = mapped_column(sa.String(32))
    submitter_email: Mapped[str] = mapped_column(sa.String(320))
    data: Mapped[dict] = mapped_column(sa.JSON)  # the form's answers, as RegistrationData
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("interest_registrations.id", ondelete="SET NULL")
    )

    cohort: Mapped[Cohort] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class RegistrationContact(db.Model):
    __tablename__ = "registration_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("interest_registrations.id", ondelete="CASCADE"), index=True
    )
    function: Mapped[str] = mapped_column(choice(*FUNCTIONS, name="contact_function"))
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(320))
    phone: Mapped[str | None] = mapped_column(sa.String(50))

    registration: Mapped[InterestRegistration] = relationship(back_populates="contacts")


GROUP_BASES = ("geography", "theme", "other")


class Group(db.Model):
    """Two or three benchmarking participants with their mentor(s) in one cohort."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(200))
    basis: Mapped[str] = mapped_column(choice(*GROUP_BASES, name="group_basis"), default="other")
    theme: Mapped[str | None] = mapped_column(sa.String(300))
    # A coordinator who keeps a group outside the rules (one participant, more than three,
    # a mentor that has not completed a cohort) confirms the warning with a reason.
    exception_reason: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    cohort: Mapped[Cohort] = relationship(back_populates="groups")
    participations: Mapped[list["Participation"]] = relationship(back_populates="group")

    __mapper_args__ = {"version_id_col": version}

    def access_scope(self) -> Scope:
        """A group is seen by its benchmarking participants, mentors and support organisations."""
        return _scope_of(self.participations)

    def members(self, role: str) -> list["Participation"]:
        return sorted(
            (p for p in self.participations if p.role == role), key=lambda p: p.organisation.name
        )


PARTICIPATION_ROLES = ("benchmarking", "mentor", "support")
PARTICIPATION_ROLE_LABELS = {
    "benchmarking": _l("Benchmarking participant"),
    "mentor": _l("Mentor"),
    "support": _l("Support organisation"),
}
PARTICIPATION_STATUSES = ("active", "completed", "not_completed", "withdrawn")
PARTICIPATION_STATUS_LABELS = {
    "active": _l("Taking part"),
    "completed": _l("Completed"),
    "not_completed": _l("Not completed"),
    "withdrawn": _l("Withdrawn"),
}


class Participation(db.Model):
    """An organisation in a cohort, with its role and (once formed) its group."""

    __tablename__ = "participations"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("groups.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(choice(*PARTICIPATION_ROLES, name="participation_role"))
    status: Mapped[str] = mapped_column(
        choice(*PARTICIPATION_STATUSES, name="participation_status"), default="active"
    )
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The area a region limits its work to (health care, regional development, ...).
    area: Mapped[str | None] = mapped_column(sa.String(200))
    # Accepted from the interest registration: it will mentor in the next cohort.
    mentor_commitment: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    registration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("interest_registrations.id"))
    # A support organisation helps a mentor ("Kristianstad med stöd av Malmö").
    supports_id: Mapped[int | None] = mapped_column(sa.ForeignKey("participations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    cohort: Mapped[Cohort] = relationship(back_populates="participations")
    # Loaded with the participations, in one query per batch: nearly every page that lists
    # participations names their organisations, and access checks read their counties.
    organisation: Mapped[Organisation] = relationship(lazy="selectin")
    group: Mapped[Group | None] = relationship(back_populates="participations")
    supports: Mapped["Participation | None"] = relationship(remote_side=[id])
    registration: Mapped[InterestRegistration | None] = relationship()

    # An organisation is in at most one group per cohort: one participation per cohort.
    __table_args__ = (sa.UniqueConstraint("cohort_id", "organisation_id"),)


class ChecklistCompletion(db.Model):
    """A participant has done a checklist item of its cohort's template."""

    __tablename__ = "checklist_completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participations.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_items.id"))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.UniqueConstraint("participation_id", "item_id"),)


TITLES = ("modellkommun", "modellregion")


class OrganisationTitle(db.Model):
    """Modellkommun / Modellregion: earned after one cohort benchmarking and one mentoring."""

    __tablename__ = "organisation_titles"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), unique=True)
    title: Mapped[str] = mapped_column(choice(*TITLES, name="organisation_title"))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id"))


# Which cohorts a changed row belongs to, for their revision (core.revisions).
revisions.follow(Cohort, ("id", "cohort"))
for _model in (Group, Participation, InterestRegistration, PendingRegistration, OrganisationTitle):
    revisions.follow(_model, ("cohort_id", "cohort"))
revisions.follow(ChecklistCompletion, ("participation_id", "participation"))
for _model in (MeetingKind, TemplateStep, ReminderRule):
    revisions.follow(_model, ("template_id", "template"))
revisions.follow(ProgrammeTemplate, ("id", "template"))
# An organisation's name and its people's functions are read in every cohort it takes part in.
revisions.follow(Organisation, ("id", "organisation"))
revisions.follow(Person, ("organisation_id", "organisation"))
revisions.resolver("group", lambda ids: sa.select(Group.cohort_id).where(Group.id.in_(ids)))
revisions.resolver(
    "participation",
    lambda ids: sa.select(Participation.cohort_id).where(Participation.id.in_(ids)),
)
revisions.resolver(
    "organisation",
    lambda ids: sa.select(Participation.cohort_id).where(Participation.organisation_id.in_(ids)),
)
revisions.resolver("template", lambda ids: sa.select(Cohort.id).where(Cohort.template_id.in_(ids)))
