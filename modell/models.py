"""Every table of the app, imported in dependency order (for Alembic and create_app)."""

from modell.auth.models import LoginSession, LoginThrottle, PasswordResetRequest, User
from modell.cohorts.models import (
    ChecklistCompletion,
    ChecklistItem,
    Cohort,
    Group,
    InterestRegistration,
    MeetingKind,
    OrganisationTitle,
    Participation,
    ProgrammeTemplate,
    RegistrationContact,
    ReminderRule,
    TemplateStep,
)
from modell.core.models import AuditEntry, OutboxAttachment, OutboxMessage
from modell.improvements.models import (
    Baseline,
    ImprovementWork,
    Indicator,
    IndicatorValue,
    LogEntry,
    MentorSession,
    SharedIndicator,
)
from modell.meetings.models import CalendarFeed, Invitation, Meeting, MeetingDocument, PmiFeedback
from modell.organisations.models import County, Organisation, Person
from modell.reminders.models import (
    Notification,
    ReminderDelivery,
    ScheduledReminder,
    SchedulerLease,
)

__all__ = [
    "AuditEntry",
    "Baseline",
    "CalendarFeed",
    "ChecklistCompletion",
    "ChecklistItem",
    "Cohort",
    "County",
    "Group",
    "ImprovementWork",
    "Indicator",
    "IndicatorValue",
    "InterestRegistration",
    "Invitation",
    "LogEntry",
    "LoginSession",
    "LoginThrottle",
    "Meeting",
    "MeetingDocument",
    "MeetingKind",
    "MentorSession",
    "Notification",
    "Organisation",
    "OrganisationTitle",
    "OutboxAttachment",
    "OutboxMessage",
    "Participation",
    "PasswordResetRequest",
    "Person",
    "PmiFeedback",
    "ProgrammeTemplate",
    "RegistrationContact",
    "ReminderDelivery",
    "ReminderRule",
    "ScheduledReminder",
    "SchedulerLease",
    "SharedIndicator",
    "TemplateStep",
    "User",
]
