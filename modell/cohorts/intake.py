"""A whole cohort from a spreadsheet: SKR's history (the programme has run since the 2015/16
pilot) and any cohort whose groups were formed outside the app.

Two steps, as for indicator files. `read_cohort_file` only reads: it matches every row to an
organisation of the register and returns the groups as they will be formed, the row errors
and the warnings of the programme's rules. `import_cohort` writes, and refuses while a
single error is left: nothing of an invalid file is stored.

One row per organisation, with these headings (any case; English ones too):
`Organisation`, `SCB-kod` (optional, preferred for matching), `Roll` (benchmarking, mentor
or stöd), `Grupp` (any label: rows with the same label form one group), `Fullföljt`
(ja/nej: for a concluded cohort), `Orsak` (why not completed) and `Typ` (optional: the kind
of organisation; an organisation not in the register is created when its kind is given).
Organisations are matched by SCB code, else by exact name and kind, else by a name that
only one organisation has. Nothing is fuzzy-matched: a near miss is an error (or, with a
kind, a new organisation shown as new, with the names it resembles).
"""

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from modell.cohorts.groups import GroupDraft, create_group, group_warnings
from modell.cohorts.models import Cohort, ProgrammeTemplate
from modell.cohorts.services import Outcome, check_cohort_dates, conclude
from modell.cohorts.services import create_cohort as _create_cohort
from modell.core import audit
from modell.core.errors import RuleViolation
from modell.core.spreadsheets import normal, read_table, shorten
from modell.core.text import has_control_characters
from modell.organisations.models import KIND_LABELS, ORGANISATION_KINDS, Organisation
from modell.organisations.services import IN_REGISTER

MAX_ROWS = 2_000  # every municipality, region and agency, with room to spare
MAX_BYTES = 2 * 1024 * 1024
MAX_ERRORS = 200

COLUMNS = ("organisation", "scb_code", "role", "group", "completed", "reason", "kind")
# The headings of the template file, in order.
TEMPLATE_HEADINGS = ("Organisation", "SCB-kod", "Roll", "Grupp", "Fullföljt", "Orsak", "Typ")
HEADINGS = {
    "organisation": "organisation",
    "organization": "organisation",
    "scb-kod": "scb_code",
    "scb kod": "scb_code",
    "scbkod": "scb_code",
    "kommunkod": "scb_code",
    "scb code": "scb_code",
    "scb-code": "scb_code",
    "roll": "role",
    "role": "role",
    "grupp": "group",
    "group": "group",
    "fullföljt": "completed",
    "fullföljd": "completed",
    "completed": "completed",
    "orsak": "reason",
    "reason": "reason",
    "typ": "kind",
    "type": "kind",
    "kind": "kind",
}
ROLES = {
    "benchmarking": "benchmarking",
    "benchmarkingdeltagare": "benchmarking",
    "deltagare": "benchmarking",
    "participant": "benchmarking",
    "mentor": "mentor",
    "stöd": "support",
    "stödorganisation": "support",
    "support": "support",
}
YES = {"ja", "j", "yes", "y", "x", "1", "sant", "true"}
NO = {"nej", "n", "no", "0", "falskt", "false"}
NAME_MAX = 200


@dataclass
class RowError:
    line: int
    column: str | None
    message: str


@dataclass
class ImportRow:
    line: int
    name: str
    scb_code: str | None
    role: str | None
    group: str
    completed: bool | None
    reason: str | None
    kind: str | None
    organisation: Organisation | None = None
    new: bool = False  # an organisation the import creates
    kind_unknown: bool = False  # its Typ is refused already: not matched on top of that
    resembles: list[str] = field(default_factory=list)


@dataclass
class CohortPlan:
    """What the file will make: rows matched to organisations, the groups by label in file
    order, the errors (nothing is written while there is one) and the rules' warnings."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    groups: dict[str, list[ImportRow]] = field(default_factory=dict)
    kind: str = "csv"

    @property
    def valid(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def new_organisations(self) -> list[ImportRow]:
        return [r for r in self.rows if r.new]

    def error(self, line: int, column: str | None, message) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, column, str(message)))


def kind_words() -> dict[str, str]:
    """The kinds as the app names them in Swedish and English (and its own keys)."""
    words = {normal(k): k for k in ORGANISATION_KINDS}
    for locale in ("sv", "en"):
        with force_locale(locale):
            words.update({normal(str(label)): k for k, label in KIND_LABELS.items()})
    return words


def _headings(plan: CohortPlan, line: int, headings: list[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for i, heading in enumerate(headings):
        if not heading:
            continue
        key = HEADINGS.get(normal(heading))
        if key is None:
            plan.error(
                line,
                heading,
                _l(
                    "Unknown heading “%(heading)s”: use %(headings)s.",
                    heading=shorten(heading),
                    headings=", ".join(TEMPLATE_HEADINGS),
                ),
            )
        elif key in found:
            plan.error(
                line, heading, _l("The column “%(heading)s” is there twice.", heading=heading)
            )
        else:
            found[key] = i
    for needed, heading in (("organisation", "Organisation"), ("role", "Roll"), ("group", "Grupp")):
        if needed not in found:
            plan.error(line, None, _l("The column “%(heading)s” is missing.", heading=heading))
    return None if plan.errors else found


def read_cohort_file(
    session: Session,
    content: bytes,
    *,
    template: ProgrammeTemplate,
    starts_on: date | None,
    concluded: bool,
) -> CohortPlan:
    """Read and check a cohort file; nothing is written."""
    plan = CohortPlan()
    if len(content) > MAX_BYTES:
        plan.error(0, None, _l("The file is larger than 2 MB: is it the right one?"))
        return plan
    table = read_table(content, max_rows=MAX_ROWS, wants=("organisation", "organization"))
    plan.kind = table.kind
    if table.problem:
        plan.error(0, None, table.problem)
        return plan
    columns = _headings(plan, table.heading_line, table.headings)
    if columns is None:
        return plan
    headings = {key: table.headings[i] for key, i in columns.items()}
    kinds = kind_words()
    register = _Register(session)
    for line, cells in table.rows:
        row = _read_row(plan, line, cells, columns, headings, kinds, concluded)
        if row is not None:
            if not row.kind_unknown:
                register.match(plan, row, headings)
            plan.rows.append(row)
    if not plan.rows and not plan.errors:
        plan.error(0, None, _l("The file has its headings but no rows: one row per organisation."))
    _check_groups(session, plan, headings, template, starts_on)
    return plan


def _cell(cells: list[str], columns: dict[str, int], key: str) -> str:
    i = columns.get(key)
    return cells[i].strip() if i is not None and i < len(cells) else ""


def _read_row(plan, line, cells, columns, headings, kinds, concluded) -> ImportRow | None:
    values = {key: _cell(cells, columns, key) for key in COLUMNS}
    bad = [key for key, value in values.items() if has_control_characters(value)]
    for key in bad:
        plan.error(line, headings.get(key), _l("The cell contains control characters."))
    if bad:
        return None
    name, code = values["organisation"], values["scb_code"]
    if not name and not code:
        plan.error(line, headings["organisation"], _l("Name the organisation."))
        return None
    if len(name) > NAME_MAX:
        plan.error(line, headings["organisation"], _l("The name is longer than 200 characters."))
        return None
    role = ROLES.get(normal(values["role"]))
    if role is None:
        plan.error(
            line,
            headings["role"],
            _l(
                "Unknown role “%(value)s”: write benchmarking, mentor or stöd.",
                value=shorten(values["role"]),
            )
            if values["role"]
            else _l("Give the role: benchmarking, mentor or stöd."),
        )
    if not values["group"]:
        plan.error(line, headings["group"], _l("Give the group."))
    elif len(values["group"]) > NAME_MAX:
        plan.error(line, headings["group"], _l("The group's name is longer than 200 characters."))
    completed = None
    answer = normal(values["completed"])
    if answer in YES:
        completed = True
    elif answer in NO:
        completed = False
    elif answer:
        plan.error(
            line,
            headings.get("completed"),
            _l("Write ja or nej, not “%(value)s”.", value=shorten(values["completed"])),
        )
    elif concluded:
        plan.error(
            line,
            headings.get("completed", "Fullföljt"),
            _l("Say whether the organisation completed the cohort (ja or nej)."),
        )
    if concluded and completed is False and not values["reason"]:
        plan.error(line, headings.get("reason", "Orsak"), _l("Say why it did not complete."))
    kind = None
    kind_unknown = False
    if values["kind"]:
        kind = kinds.get(normal(values["kind"]))
        kind_unknown = kind is None
        if kind is None:
            plan.error(
                line,
                headings["kind"],
                _l(
                    "Unknown kind “%(value)s”: write for example Kommun, Region, Myndighet, "
                    "Kommunförbund or Stadsdelsförvaltning.",
                    value=shorten(values["kind"]),
                ),
            )
    return ImportRow(
        line=line,
        name=name,
        scb_code=code or None,
        role=role,
        group=values["group"],
        completed=completed,
        reason=values["reason"] or None,
        kind=kind,
        kind_unknown=kind_unknown,
    )


class _Register:
    """The organisations of the register, read once, looked up as the rules say."""

    def __init__(self, session: Session):
        self.all = session.scalars(sa.select(Organisation).where(IN_REGISTER)).all()
        self.by_code: dict[str, list[Organisation]] = defaultdict(list)
        self.by_name: dict[str, list[Organisation]] = defaultdict(list)
        for org in self.all:
            if org.scb_code:
                self.by_code[org.scb_code].append(org)
            self.by_name[normal(org.name)].append(org)
        self.names = sorted({org.name for org in self.all})

    def match(self, plan: CohortPlan, row: ImportRow, headings: dict[str, str]) -> None:
        name_heading = headings["organisation"]
        if row.scb_code:
            code = row.scb_code.replace(" ", "")
            # Excel drops the leading zero of 0180 when the column is a number.
            found = {
                o.id: o
                for c in {code, code.zfill(2), code.zfill(4)}
                for o in self.by_code.get(c, [])
            }
            candidates = list(found.values())
            if len(candidates) > 1 and row.kind:
                candidates = [o for o in candidates if o.kind == row.kind]
            if len(candidates) > 1 and row.name:
                candidates = [o for o in candidates if normal(o.name) == normal(row.name)]
            if len(candidates) == 1:
                row.organisation = candidates[0]
                if row.name and normal(row.name) != normal(candidates[0].name):
                    plan.warnings.append(
                        str(
                            _l(
                                "Line %(line)d: SCB code %(code)s is %(name)s in the register "
                                "(the file says “%(given)s”).",
                                line=row.line,
                                code=candidates[0].scb_code,
                                name=candidates[0].name,
                                given=row.name,
                            )
                        )
                    )
                return
            plan.error(
                row.line,
                headings.get("scb_code"),
                _l("No organisation has the SCB code %(code)s.", code=shorten(code))
                if not candidates
                else _l("The SCB code %(code)s fits more than one organisation.", code=code),
            )
            return
        same_name = self.by_name.get(normal(row.name), [])
        if row.kind:
            exact = [o for o in same_name if o.kind == row.kind]
            if len(exact) == 1:
                row.organisation = exact[0]
            elif len(exact) > 1:
                plan.error(
                    row.line,
                    name_heading,
                    _l(
                        "More than one %(kind)s is called %(name)s: give the SCB code.",
                        kind=str(KIND_LABELS[row.kind]).lower(),
                        name=row.name,
                    ),
                )
            else:
                row.new = True
                row.resembles = difflib.get_close_matches(row.name, self.names, n=3, cutoff=0.8)
            return
        if len(same_name) == 1:
            row.organisation = same_name[0]
        elif len(same_name) > 1:
            plan.error(
                row.line,
                name_heading,
                _l(
                    "“%(name)s” matches more than one organisation (%(kinds)s): give the SCB "
                    "code or the kind (Typ).",
                    name=row.name,
                    kinds=", ".join(str(KIND_LABELS[o.kind]).lower() for o in same_name),
                ),
            )
        else:
            close = difflib.get_close_matches(row.name, self.names, n=3, cutoff=0.8)
            plan.error(
                row.line,
                name_heading,
                _l(
                    "No organisation is called “%(name)s”%(close)s. To add it, give its kind "
                    "(Typ).",
                    name=shorten(row.name),
                    close=_l(" (did you mean %(names)s?)", names=", ".join(close)) if close else "",
                ),
            )


def _identity(row: ImportRow) -> object:
    return row.organisation.id if row.organisation else ("new", normal(row.name), row.kind)


def _check_groups(
    session: Session,
    plan: CohortPlan,
    headings: dict[str, str],
    template: ProgrammeTemplate,
    starts_on: date | None,
) -> None:
    seen: dict[object, ImportRow] = {}
    for row in plan.rows:
        key = _identity(row)
        if key in seen:
            first = seen[key]
            plan.error(
                row.line,
                headings["organisation"],
                _l(
                    "%(name)s is in two groups (%(a)s and %(b)s).",
                    name=row.name,
                    a=first.group,
                    b=row.group,
                )
                if first.group != row.group
                else _l("%(name)s is on line %(line)d too.", name=row.name, line=first.line),
            )
            continue
        seen[key] = row
        if row.group:
            plan.groups.setdefault(row.group, []).append(row)
    probe = Cohort(template=template, starts_on=starts_on)
    for label, rows in plan.groups.items():
        roles = defaultdict(list)
        for row in rows:
            roles[row.role].append(row)
        if not roles["benchmarking"]:
            plan.error(
                rows[0].line,
                headings["role"],
                _l("The group %(group)s has no benchmarking participant.", group=label),
            )
        if roles["support"] and not roles["mentor"]:
            for row in roles["support"]:
                plan.error(
                    row.line,
                    headings["role"],
                    _l(
                        "%(name)s supports a mentor, but the group %(group)s has none.",
                        name=row.name,
                        group=label,
                    ),
                )
        if roles["mentor"] and not template.uses_mentors:
            plan.warnings.append(
                str(_l("The group %(group)s has a mentor; the programme has none.", group=label))
            )
        if plan.errors or starts_on is None:
            continue
        draft = GroupDraft(
            [r.organisation for r in roles["benchmarking"] if r.organisation],
            [r.organisation for r in roles["mentor"] if r.organisation],
            [],
            name=label,
        )
        with session.no_autoflush:
            for warning in group_warnings(session, probe, draft):
                plan.warnings.append(f"{label}: {warning}")
    mentors_new = [r for r in plan.rows if r.new and r.role == "mentor"]
    for row in mentors_new:
        plan.warnings.append(
            str(
                _l(
                    "%(name)s is new to the register, so it cannot have completed an earlier "
                    "cohort to mentor in.",
                    name=row.name,
                )
            )
        )
    for row in plan.rows:
        if row.new and row.resembles:
            plan.warnings.append(
                str(
                    _l(
                        "Line %(line)d: %(name)s will be added as new; the register has "
                        "%(similar)s.",
                        line=row.line,
                        name=row.name,
                        similar=", ".join(row.resembles),
                    )
                )
            )


def name_taken(session: Session, name: str) -> bool:
    """A cohort of that name exists (importing the same history twice is a mistake)."""
    return (
        session.scalar(
            sa.select(sa.func.count()).select_from(Cohort).where(Cohort.name == name.strip())
        )
        > 0
    )


def import_cohort(
    session: Session,
    plan: CohortPlan,
    *,
    name: str,
    template: ProgrammeTemplate,
    starts_on: date,
    ends_on: date | None,
    concluded: bool,
    now: datetime,
    user_id: int | None,
) -> Cohort:
    """Write the cohort of a valid plan: the new organisations, the cohort, its groups and
    participations; concluded, the outcomes and the titles they earn. A cohort that has
    ended (or is concluded) is history: it has no meetings, sends no mail and plans no
    reminders. One that has not is left forming, its groups made, for the coordinator to
    start."""
    if not plan.valid:
        raise RuleViolation(_l("The file has errors: correct them and upload it again."))
    if name_taken(session, name):
        raise RuleViolation(_l("A cohort is already called %(name)s.", name=name), field="name")
    check_cohort_dates(registration_deadline=None, starts_on=starts_on, ends_on=ends_on)
    today = now.date()
    if concluded and (ends_on is None or ends_on > today):
        raise RuleViolation(
            _l("A concluded cohort has ended: give its end date, in the past."), field="ends_on"
        )
    for row in plan.new_organisations:
        row.organisation = Organisation(name=row.name, kind=row.kind, created_at=now)
        session.add(row.organisation)
    session.flush()
    cohort = _create_cohort(
        session,
        now=now,
        user_id=user_id,
        name=name,
        template=template,
        starts_on=starts_on,
        ends_on=ends_on,
        description=None,
    )
    cohort.is_history = concluded or (ends_on is not None and ends_on < today)
    cohort.status = "forming"  # groups are formed in this state
    session.flush()
    for label, rows in plan.groups.items():
        by_role = defaultdict(list)
        for row in rows:
            by_role[row.role].append(row.organisation)
        mentor = by_role["mentor"][0] if by_role["mentor"] else None
        create_group(
            session,
            now=now,
            user_id=user_id,
            cohort=cohort,
            benchmarking=by_role["benchmarking"],
            mentors=by_role["mentor"],
            support={s: mentor for s in by_role["support"]} if mentor else None,
            name=label,
            basis="other",
            exception_reason=str(_l("The group is imported from a file as it was formed.")),
        )
    session.flush()
    cohort.status = "running" if cohort.is_history else "forming"
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="cohort_imported",
        obj=cohort,
        rows=len(plan.rows),
        groups=len(plan.groups),
        new_organisations=len(plan.new_organisations),
        history=cohort.is_history,
    )
    if concluded:
        by_org = {row.organisation.id: row for row in plan.rows}
        outcomes = {
            p.id: Outcome(
                bool(by_org[p.organisation_id].completed), by_org[p.organisation_id].reason
            )
            for p in cohort.participations
        }
        conclude(session, cohort, outcomes, now=now, user_id=user_id)
        cohort.concluded_at = datetime.combine(ends_on, datetime.min.time(), tzinfo=now.tzinfo)
    return cohort
