"""The calendars' rows: each meeting of a cohort as a calendar page shows it, worked out once
per cohort revision and language (core.revisions) and kept. A national cohort has well over a
hundred meetings, and its calendar is read far more often than any of them changes; a reader
whose page would show a change never gets a row from before it.

A row is plain data: what the calendar shows, what it filters and searches on, who may see
the meeting (its access scope, for core.access) and what its checklist is worked out from
(services.checklist reads a row as it reads a meeting)."""

from dataclasses import dataclass
from datetime import date, datetime

from flask import url_for
from markupsafe import Markup
from sqlalchemy.orm import Session

from modell.cohorts.models import Cohort
from modell.core import revisions
from modell.core.access import Scope
from modell.core.dates import instant, language
from modell.core.text import swedish_key
from modell.meetings import services
from modell.meetings.invitations import organisation_ids
from modell.meetings.models import Meeting
from modell.meetings.titles import title_html, title_text


@dataclass(frozen=True)
class CalendarRow:
    id: int
    url: str
    group_id: int | None
    starts_at: datetime | None
    when: str  # the start as the reader reads it ("7 februari 2019 kl. 10.00")
    status: str
    title: str  # as the reader reads it, in the reader's language
    title_html: Markup
    host_organisation_id: int | None
    host_name: str | None
    location: str | None
    video_link: str | None
    organisation_ids: frozenset[int]  # who it is for (invitations.organisation_ids)
    group_name: str | None
    scope: Scope
    # What the host's checklist is worked out from.
    venue_booked: bool
    wheelchair_access: bool
    hearing_loop: bool
    public_transport: bool
    remote_participation: bool
    invitation_sent_at: datetime | None
    note_taker_id: int | None
    next_meeting_set: bool

    def access_scope(self) -> Scope:
        return self.scope

    def searchable(self) -> str:
        """What a search looks in: the title, the group, the host and the place, folded the
        Swedish way (worked out when someone searches, not for every row kept)."""
        parts = (self.title, self.group_name or "", self.host_name or "SKR", self.location or "")
        return swedish_key(" ".join(parts))


def row_of(meeting: Meeting) -> CalendarRow:
    """The meeting as a calendar row, in the language of the request (its address made with
    url_for: in a request or an app context with SERVER_NAME)."""
    title = title_text(meeting)
    host = meeting.host.name if meeting.host else None
    return CalendarRow(
        id=meeting.id,
        url=url_for("meetings.meeting", meeting_id=meeting.id),
        group_id=meeting.group_id,
        starts_at=meeting.starts_at,
        when=instant(meeting.starts_at),
        status=meeting.status,
        title=title,
        title_html=title_html(meeting),
        host_organisation_id=meeting.host_organisation_id,
        host_name=host,
        location=meeting.location,
        video_link=meeting.video_link,
        organisation_ids=frozenset(organisation_ids(meeting)),
        group_name=meeting.group.name if meeting.group else None,
        scope=meeting.access_scope(),
        venue_booked=meeting.venue_booked,
        wheelchair_access=meeting.wheelchair_access,
        hearing_loop=meeting.hearing_loop,
        public_transport=meeting.public_transport,
        remote_participation=meeting.remote_participation,
        invitation_sent_at=meeting.invitation_sent_at,
        note_taker_id=meeting.note_taker_id,
        next_meeting_set=meeting.next_meeting_set,
    )


def calendar_rows(session: Session, cohort: Cohort) -> tuple[CalendarRow, ...]:
    """Every meeting of the cohort (the groups' and the cohort-wide ones) as rows, in date
    order; kept until the cohort changes."""

    def work_out() -> tuple[CalendarRow, ...]:
        services.load_cohort_members(session, cohort.id)  # for the cohort-wide meetings
        meetings = services.meetings_of(session, cohort=cohort, with_invitations=False)
        return tuple(row_of(m) for m in meetings)

    return revisions.kept(session, cohort.id, "calendar rows", work_out, language())


def checklists(
    session: Session, cohort: Cohort, day: date
) -> dict[int, list[services.ChecklistItem]]:
    """The checklist of each of the cohort's meetings as it stands on `day`, by meeting id;
    kept for the day (no reader changes them)."""

    def work_out() -> dict[int, list[services.ChecklistItem]]:
        return {r.id: services.checklist(r, day) for r in calendar_rows(session, cohort)}

    return revisions.kept(session, cohort.id, "calendar checklists", work_out, day)
