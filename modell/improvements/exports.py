"""Exports for SKR's own spreadsheets: the cohort overview, the log entries and the indicator
values, as XLSX (real dates and numbers in the cells) or as CSV the way Swedish Excel reads
it (`;`, decimal commas, UTF-8 with a byte-order mark). Headings in the reader's language;
dates in ISO 8601 in CSV, as machine formats are."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from modell.cohorts.models import PARTICIPATION_ROLE_LABELS, Cohort
from modell.core.spreadsheets import CSV_MIME, inert, to_csv, to_xlsx  # noqa: F401 # inert: tests
from modell.core.timeutil import to_local
from modell.improvements import overview as follow_up
from modell.improvements.services import EXPECTED_RESULT_LABELS, STEP_LABELS
from modell.meetings.titles import title_text
from modell.organisations.models import CORE_FUNCTIONS, FUNCTION_LABELS

KINDS = ("overview", "entries", "indicators", "registrations", "attendance", "pmi")
FORMATS = ("xlsx", "csv")


def table(
    session: Session,
    cohort: Cohort,
    kind: str,
    *,
    today: date,
    organisation_id: int | None = None,
) -> tuple[list[str], list[list]]:
    """The headings and rows of one export, in the current language."""
    if kind == "overview":
        rows = follow_up.overview(session, cohort, today=today)
        headings = [
            _("Organisation"),
            _("Group"),
            *[str(STEP_LABELS[s]) for s in (1, 2, 3, 4)],
            _("Highest step"),
            _("Expected results shown"),
            _("Latest entry"),
            *[_("%(function)s took part", function=FUNCTION_LABELS[f]) for f in CORE_FUNCTIONS],
            _("Baseline recorded"),
            _("Nothing written since the last meeting"),
        ]
        body = [
            [
                r.organisation.name,
                r.group.name if r.group else "",
                *[r.steps[s] for s in (1, 2, 3, 4)],
                r.highest,
                "; ".join(str(EXPECTED_RESULT_LABELS[k]) for k in r.results),
                r.latest,
                *[f"{r.attendance[f][0]}/{r.attendance[f][1]}" for f in CORE_FUNCTIONS],
                _("yes") if r.has_baseline else _("no"),
                _("yes") if r.silent else _("no"),
            ]
            for r in rows
        ]
        return headings, body
    if kind == "entries":
        entries = follow_up.entries_of(session, cohort)
        headings = [
            _("Organisation"),
            _("Group"),
            _("Improvement work"),
            _("Core activity"),
            _("Date"),
            _("Step"),
            _("What was done"),
            _("What we learned"),
            _("Obstacles"),
            _("Next steps"),
            _("Evidence"),
            _("Good example"),
        ]
        body = []
        for e in entries:
            p = e.work.participation
            body.append(
                [
                    p.organisation.name,
                    p.group.name if p.group else "",
                    e.work.title,
                    e.work.core_activity or "",
                    e.entry_date,
                    e.result_step,
                    e.text,
                    e.learned or "",
                    e.obstacles or "",
                    e.next_steps or "",
                    e.evidence_link or e.evidence_filename or "",
                    _("yes") if e.good_example == "approved" else "",
                ]
            )
        return headings, body
    if kind == "indicators":
        values = follow_up.indicator_values_of(session, cohort, organisation_id=organisation_id)
        headings = [
            _("Organisation"),
            _("Indicator"),
            _("Unit"),
            _("Period"),
            _("Women"),
            _("Men"),
            _("Total"),
            _("Source"),
        ]
        body = [
            [
                org.name,
                ind.name,
                ind.unit or "",
                v.period,
                v.women,
                v.men,
                v.total,
                "Kolada" if v.source == "kolada" else "",
            ]
            for org, ind, v in values
        ]
        return headings, body
    if kind == "registrations":
        return _registrations(session, cohort)
    if kind == "attendance":
        return _attendance(session, cohort)
    if kind == "pmi":
        return _pmi(session, cohort)
    raise ValueError(f"unknown export {kind!r}")


def _registrations(session: Session, cohort: Cohort) -> tuple[list[str], list[list]]:
    """Every interest registration with its decision and its contacts."""
    from modell.cohorts.forms import FEE_PAYER_LABELS
    from modell.cohorts.models import REGISTRATION_STATUS_LABELS
    from modell.cohorts.registrations import registrations_of

    headings = [
        _("Organisation"),
        _("Received"),
        _("Status"),
        _("Reason"),
        _("Date of the political decision"),
        _("Decided by"),
        _("Reference (case number)"),
        _("CEMR declaration signed"),
        _("Themes"),
        _("Mentor in the next cohort"),
        _("Fee paid by"),
        *[
            _("%(function)s – %(field)s", function=FUNCTION_LABELS[f], field=label)
            for f in CORE_FUNCTIONS
            for label in (_("name"), _("e-mail"), _("telephone"))
        ],
    ]
    body = []
    for r in registrations_of(session, cohort):
        contacts = {c.function: c for c in r.contacts}
        body.append(
            [
                r.organisation.name,
                r.submitted_on,
                str(REGISTRATION_STATUS_LABELS[r.status]),
                r.decision_reason or "",
                r.decision_date,
                r.decision_body or "",
                r.decision_reference or "",
                _("yes") if r.cemr_signed else _("no"),
                r.themes or "",
                _("yes") if r.mentor_commitment else _("no"),
                str(FEE_PAYER_LABELS[r.fee_payer]),
                *[
                    value
                    for f in CORE_FUNCTIONS
                    for value in (
                        (contacts[f].name, contacts[f].email, contacts[f].phone or "")
                        if f in contacts
                        else ("", "", "")
                    )
                ],
            ]
        )
    return headings, body


def _held_meetings(session: Session, cohort: Cohort):
    from modell.meetings.services import meetings_of

    return [m for m in meetings_of(session, cohort=cohort) if m.status == "held"]


def _attendance(session: Session, cohort: Cohort) -> tuple[list[str], list[list]]:
    """Per organisation and held meeting: whether its politician, manager and strategist took
    part (the programme works when all three do)."""
    from modell.meetings.after_meeting import attendance_by_function

    held = _held_meetings(session, cohort)
    participations = [p for p in cohort.participations if p.status != "withdrawn"]
    headings = [
        _("Organisation"),
        _("Role"),
        _("Meeting"),
        _("Date"),
        *[str(FUNCTION_LABELS[f]) for f in CORE_FUNCTIONS],
    ]
    body = []
    for row in attendance_by_function(held, participations):
        for m in held:
            if not any(p.organisation_id == row.organisation_id for p in _invited(m)):
                continue
            body.append(
                [
                    row.organisation,
                    str(PARTICIPATION_ROLE_LABELS[row.role]),
                    title_text(m),
                    to_local(m.starts_at).date() if m.starts_at else None,
                    *[_("yes") if row.by_meeting[m.id][f] else _("no") for f in CORE_FUNCTIONS],
                ]
            )
    return headings, body


def _invited(meeting):
    """The participations a meeting concerns: its group's, or the whole cohort's."""
    return meeting.group.participations if meeting.group else meeting.cohort.participations


def _pmi(session: Session, cohort: Cohort) -> tuple[list[str], list[list]]:
    """Plus – Minus – Intressant from every meeting, without who wrote it."""
    from modell.meetings.after_meeting import pmi_for
    from modell.meetings.services import meetings_of

    meetings = meetings_of(session, cohort=cohort)
    gathered = pmi_for(session, meetings)
    headings = [_("Meeting"), _("Date"), _("Plus"), _("Minus"), _("Interesting")]
    body = [
        [
            title_text(m),
            to_local(m.starts_at).date() if m.starts_at else None,
            f.plus or "",
            f.minus or "",
            f.interesting or "",
        ]
        for m in meetings
        for f in gathered.get(m.id, [])
    ]
    return headings, body


def export(
    session: Session,
    cohort: Cohort,
    kind: str,
    fmt: str,
    *,
    today: date,
    organisation_id: int | None = None,
) -> tuple[bytes, str, str]:
    """(content, mimetype, file name) of one export."""
    headings, rows = table(session, cohort, kind, today=today, organisation_id=organisation_id)
    name = f"{cohort.name} {kind}".replace("/", "-")
    if fmt == "xlsx":
        return (
            to_xlsx(headings, rows, title=kind),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{name}.xlsx",
        )
    if fmt == "csv":
        return to_csv(headings, rows), CSV_MIME, f"{name}.csv"
    raise ValueError(f"unknown format {fmt!r}")
