"""Exports for SKR's own spreadsheets: the cohort overview, the log entries and the indicator
values, as XLSX (real dates and numbers in the cells) or as CSV the way Swedish Excel reads
it (`;`, decimal commas, UTF-8 with a byte-order mark). Headings in the reader's language;
dates in ISO 8601 in CSV, as machine formats are."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from modell.cohorts.models import Cohort
from modell.core.spreadsheets import inert, to_csv, to_xlsx  # noqa: F401 # inert: tests
from modell.improvements import overview as follow_up
from modell.improvements.services import EXPECTED_RESULT_LABELS, STEP_LABELS
from modell.organisations.models import CORE_FUNCTIONS, FUNCTION_LABELS

KINDS = ("overview", "entries", "indicators")
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
    raise ValueError(f"unknown export {kind!r}")


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
        return to_csv(headings, rows), "text/csv; charset=utf-8", f"{name}.csv"
    raise ValueError(f"unknown format {fmt!r}")
