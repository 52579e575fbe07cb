"""Indicator values from the files people actually have: CSV as Swedish Excel writes it.

Reading and writing are two steps on purpose. `parse_indicator_csv` only reads: it turns the
bytes into rows and a list of row errors (line, the heading the user wrote, a message), so a
page can show a preview and the CLI can print the errors. `import_values` writes, and refuses
to when a single error is left: a half-imported file is worse than none, because nobody can
tell afterwards which periods came from it.

What Swedish users have: Excel's "CSV (semikolonavgränsad)" (Windows-1252, `;`, decimal
commas, CRLF), "CSV UTF-8" (the same with a byte order mark), plain comma CSV from other
tools, and thousands separated by a space, a no-break space or a narrow no-break space.
"""

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from modell.core import audit
from modell.core.errors import RuleViolation
from modell.core.spreadsheets import SEP_LINE, UNREADABLE, decode, normal, sniff_delimiter
from modell.core.text import CONTROL_MESSAGE, has_control_characters
from modell.improvements.models import INDICATOR_SOURCES, Indicator, IndicatorValue
from modell.organisations.models import Organisation

# An indicator is followed per year or month for years; a few hundred rows is a big file.
MAX_ROWS = 10_000
MAX_BYTES = 1024 * 1024
# Past this many errors the file is not the right one; more messages would not help.
MAX_ERRORS = 100
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # the years the whole app accepts
NAME_MAX, UNIT_MAX = 300, 50  # the columns of Indicator

VALUE_FIELDS = ("women", "men", "total")

# Headings as users write them, casefolded: Swedish, English, Kolada's letters.
HEADINGS = {
    "period": "period",
    "år": "period",
    "year": "period",
    "kvinnor": "women",
    "women": "women",
    "k": "women",
    "flickor": "women",
    "girls": "women",
    "män": "men",
    "men": "men",
    "m": "men",
    "pojkar": "men",
    "boys": "men",
    "totalt": "total",
    "total": "total",
    "t": "total",
}

# Units that count people or things: a negative value there is a typing error.
COUNT_UNITS = frozenset(
    {"antal", "st", "st.", "stycken", "count", "number", "personer", "persons", "people"}
)

# Space, no-break space, narrow no-break space and thin space between groups of thousands.
_THOUSANDS = " \u00a0\u202f\u2009"
_NUMBER = re.compile(
    rf"[+-]?(?:\d{{1,3}}(?:[{_THOUSANDS}]\d{{3}})+|\d+)(?:[.,]\d+)?(?:[{_THOUSANDS}]?%)?"
)
_PERIOD = re.compile(r"(\d{4})(?:-(\d{1,2}))?")

XLSX = _l(
    "This is an Excel workbook, not a CSV file: save it from Excel as "
    "CSV (semikolonavgränsad) or CSV UTF-8."
)
CONTROL = _l("The cell contains control characters; remove them and save the file again.")


@dataclass
class ParsedRow:
    """One period's values as read from the file; None where the cell was empty."""

    line: int
    period: str
    women: float | None = None
    men: float | None = None
    total: float | None = None


@dataclass
class RowError:
    """Where a file is wrong: line 0 and no column for the file as a whole; the column as
    the heading the user wrote, so they find it in their own spreadsheet."""

    line: int
    column: str | None
    message: str


@dataclass
class ParsedFile:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # The value columns the file has, each with its heading as written ("women": "Kvinnor").
    # A column the file lacks is left alone on import; an empty cell in a column it has is
    # "no value".
    columns: dict[str, str] = field(default_factory=dict)
    # Lines with a period but no value at all (a template row for a coming year): not written.
    skipped: list[int] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def add_error(self, line: int, column: str | None, message) -> bool:
        """Record an error; False once there are too many to be worth listing."""
        if len(self.errors) >= MAX_ERRORS:
            return False
        self.errors.append(RowError(line, column, message))
        if len(self.errors) == MAX_ERRORS:
            self.errors.append(
                RowError(line, None, _l("More errors were not listed: correct these first."))
            )
            return False
        return True


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    @property
    def written(self) -> int:
        return self.created + self.updated


def is_count_unit(unit: str | None) -> bool:
    return bool(unit) and unit.strip().casefold() in COUNT_UNITS


def negative_count(unit: str | None):
    return _l("A count cannot be negative (the unit is %(unit)s).", unit=unit)


# --- reading ------------------------------------------------------------------------------


def parse_number(cell: str) -> float | None:
    """A number as Swedish and English spreadsheets write it; None for an empty cell.

    "12,5", "12.5", "1 234,5" (space, no-break or narrow no-break space), "−3" (the
    typographic minus), "12,5 %" (a percentage as shown). Refuses what is ambiguous, such
    as "1.234,5" or "1,234.5", rather than guess which mark is the decimal one.
    """
    text = cell.strip().replace("\u2212", "-")
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise ValueError(cell)
    text = text.rstrip("%").translate({ord(c): None for c in _THOUSANDS}).replace(",", ".")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(cell)
    return value + 0.0  # no negative zero


def parse_period(cell: str) -> str:
    """ "2024" or "2024-03" ("2024-3" written with two digits), years 2000–2100."""
    match = _PERIOD.fullmatch(cell.strip())
    if not match:
        raise ValueError(
            _l(
                "“%(value)s” is not a period: write a year (2024) or a year and month (2024-03).",
                value=_shorten(cell),
            )
        )
    year = int(match.group(1))
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValueError(_l("Give a period in the years 2000 to 2100."))
    if match.group(2) is None:
        return f"{year:04d}"
    month = int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(_l("“%(value)s” has no month %(month)d.", value=cell.strip(), month=month))
    return f"{year:04d}-{month:02d}"


def _shorten(text: str, length: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= length else text[: length - 1] + "…"


def _size_kb(n: int) -> int:
    return max(1, n // 1024)


def parse_indicator_csv(
    content: bytes, *, unit: str | None, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> ParsedFile:
    """Read an indicator file into rows and row errors; nothing is written here."""
    parsed = ParsedFile()
    if len(content) > max_bytes:
        parsed.add_error(
            0,
            None,
            _l(
                "The file is larger than %(limit)d kB, the largest accepted: split it into "
                "smaller files.",
                limit=_size_kb(max_bytes),
            ),
        )
        return parsed
    if content.startswith(b"PK\x03\x04"):
        parsed.add_error(0, None, XLSX)
        return parsed
    decoded = decode(content)
    if decoded is None:
        parsed.add_error(0, None, UNREADABLE)
        return parsed
    text, parsed.encoding = decoded
    lines = re.split(r"\r\n|\r|\n", text)  # the line ends the csv module knows
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        parsed.add_error(0, None, _l("The file is empty."))
        return parsed
    # Excel honours (and some exports write) a first line "sep=;" naming the delimiter.
    sep_line = SEP_LINE.fullmatch(lines[first])
    if sep_line:
        parsed.delimiter = sep_line.group(1)
        first = next((i for i, line in enumerate(lines) if i > first and line.strip()), None)
        if first is None:
            parsed.add_error(0, None, _l("The file is empty."))
            return parsed
    else:
        parsed.delimiter = sniff_delimiter(lines[first])

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=parsed.delimiter)
    headings: list[str] | None = None
    fields: list[str | None] = []
    seen: dict[str, int] = {}
    data_rows = 0
    previous_line = 0
    try:
        for cells in reader:
            line = previous_line + 1
            previous_line = reader.line_num
            if line <= first or not any(c.strip() for c in cells):
                continue
            if headings is None:
                headings = [c.strip().lstrip("\ufeff").strip() for c in cells]
                fields = _read_headings(parsed, line, headings)
                if "period" not in parsed.columns or not (parsed.columns.keys() - {"period"}):
                    return parsed
                continue
            data_rows += 1
            if data_rows > max_rows:
                parsed.add_error(
                    line,
                    None,
                    _l(
                        "The file has more than %(n)d rows: split it into smaller files.",
                        n=max_rows,
                    ),
                )
                return parsed
            if not _read_row(parsed, line, cells, headings, fields, seen, unit):
                return parsed
    except csv.Error:
        parsed.add_error(
            previous_line + 1, None, _l("This line cannot be read as CSV: check its quotes.")
        )
        return parsed
    if headings is None:
        parsed.add_error(0, None, _l("The file is empty."))
    return parsed


def _read_headings(parsed: ParsedFile, line: int, headings: list[str]) -> list[str | None]:
    """The field of each column (None for an empty heading), with the heading errors."""
    fields: list[str | None] = []
    for heading in headings:
        if not heading:
            fields.append(None)
            continue
        if has_control_characters(heading):
            parsed.add_error(line, heading, CONTROL)
            fields.append(None)
            continue
        name = HEADINGS.get(normal(heading))
        if name is None:
            parsed.add_error(
                line,
                heading,
                _l(
                    "Unknown heading “%(heading)s”: use Period, Kvinnor, Män and Totalt "
                    "(or Year, Women, Men, Total).",
                    heading=_shorten(heading),
                ),
            )
        elif name in parsed.columns:
            parsed.add_error(
                line,
                heading,
                _l(
                    "“%(heading)s” is the same column as “%(other)s”.",
                    heading=_shorten(heading),
                    other=parsed.columns[name],
                ),
            )
            name = None
        else:
            parsed.columns[name] = heading
        fields.append(name)
    if "period" not in parsed.columns:
        parsed.add_error(line, None, _l("The file has no Period column (Period, År or Year)."))
    if not parsed.columns.keys() - {"period"}:
        parsed.add_error(
            line,
            None,
            _l("The file has no value column: Kvinnor, Män or Totalt (Women, Men, Total)."),
        )
    return fields


def _read_row(
    parsed: ParsedFile,
    line: int,
    cells: list[str],
    headings: list[str],
    fields: list[str | None],
    seen: dict[str, int],
    unit: str | None,
) -> bool:
    """Add the row or its errors; False when no more errors are worth collecting."""
    count_unit = is_count_unit(unit)
    values: dict[str, float | None] = {}
    period: str | None = None
    period_cell = ""
    failed = False
    more = True

    def report(column: str | None, message) -> None:
        nonlocal failed, more
        failed = True
        more = parsed.add_error(line, column, message) and more

    for index, raw in enumerate(cells):
        cell = raw.strip()
        name = fields[index] if index < len(fields) else None
        column = headings[index] if index < len(headings) and headings[index] else None
        if name == "period":
            period_cell = cell
        if not cell:
            continue
        if name is None:
            if column is None:  # a value beyond the headings, or under an empty heading
                report(None, _l("Column %(n)d has a value but no heading.", n=index + 1))
            continue  # under an unknown heading: that heading is already reported
        if has_control_characters(cell):
            report(column, CONTROL)
        elif name == "period":
            try:
                period = parse_period(cell)
            except ValueError as error:
                report(column, error.args[0])
        else:
            try:
                values[name] = parse_number(cell)
            except ValueError:
                report(
                    column,
                    _l(
                        "“%(value)s” is not a number: write it like 12,5 or 1 234, "
                        "and leave the cell empty when there is no value.",
                        value=_shorten(cell),
                    ),
                )
                continue
            if count_unit and values[name] is not None and values[name] < 0:
                report(column, _l("A count cannot be negative (the unit is %(unit)s).", unit=unit))
    if not period_cell:
        report(parsed.columns.get("period"), _l("The period is missing."))
    elif period is not None:
        if period in seen:
            report(
                parsed.columns["period"],
                _l(
                    "The period %(period)s is also on line %(line)d.",
                    period=period,
                    line=seen[period],
                ),
            )
        else:
            seen[period] = line
    if not failed and period is not None:
        if all(values.get(f) is None for f in VALUE_FIELDS):
            parsed.skipped.append(line)
        else:
            parsed.rows.append(ParsedRow(line, period, **values))
    return more


# --- writing ------------------------------------------------------------------------------


def find_indicator(session: Session, organisation: Organisation, name: str) -> Indicator | None:
    """The organisation's indicator of that name, compared as people read names ("Andel
    Kvinnor" is "andel kvinnor"), in Python: SQL lower() leaves Å, Ä, Ö alone on SQLite."""
    wanted = normal(name)
    indicators = session.scalars(
        sa.select(Indicator).where(Indicator.organisation_id == organisation.id)
    )
    return next((i for i in indicators if normal(i.name) == wanted), None)


def _check_text(value: str | None, *, limit: int, field_name: str) -> str | None:
    value = (value or "").strip() or None
    if value is None:
        return None
    if has_control_characters(value):
        raise RuleViolation(CONTROL_MESSAGE, field=field_name)
    if len(value) > limit:
        raise RuleViolation(
            _l("At most %(n)d characters.", n=limit),
            field=field_name,
        )
    return value


def find_or_create_indicator(
    session: Session,
    organisation: Organisation,
    name: str,
    *,
    now: datetime,
    unit: str | None = None,
    source: str = "csv",
    kolada_kpi: str | None = None,
    user_id: int | None = None,
) -> Indicator:
    """The organisation's indicator of that name, made when it has none, so that an import
    can name the indicator the way the user knows it. A unit that contradicts the existing
    indicator's is refused: counts imported into a percentage would be read as percentages."""
    name = _check_text(name, limit=NAME_MAX, field_name="name")
    if name is None:
        raise RuleViolation(_l("Give the indicator a name."), field="name")
    unit = _check_text(unit, limit=UNIT_MAX, field_name="unit")
    if source not in INDICATOR_SOURCES:
        raise ValueError(f"unknown indicator source {source!r}")
    indicator = find_indicator(session, organisation, name)
    if indicator is not None:
        if unit and indicator.unit and normal(unit) != normal(indicator.unit):
            raise RuleViolation(
                _l(
                    "The indicator “%(name)s” is measured in %(unit)s, not %(other)s.",
                    name=indicator.name,
                    unit=indicator.unit,
                    other=unit,
                ),
                field="unit",
            )
        if kolada_kpi and indicator.kolada_kpi and kolada_kpi != indicator.kolada_kpi:
            raise RuleViolation(
                _l(
                    "The indicator “%(name)s” follows Kolada's %(kpi)s, not %(other)s.",
                    name=indicator.name,
                    kpi=indicator.kolada_kpi,
                    other=kolada_kpi,
                ),
                field="kpi",
            )
        if unit and not indicator.unit:
            indicator.unit = unit
        if kolada_kpi and not indicator.kolada_kpi:
            indicator.kolada_kpi = kolada_kpi
        return indicator
    indicator = Indicator(
        organisation=organisation,
        name=name,
        unit=unit,
        source=source,
        kolada_kpi=kolada_kpi,
        created_at=now,
    )
    session.add(indicator)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="indicator_created",
        obj=indicator,
        name=name,
        organisation=organisation.id,
        source=source,
    )
    return indicator


def import_values(
    session: Session,
    indicator: Indicator,
    parsed: ParsedFile,
    *,
    now: datetime,
    user_id: int | None,
    source: str = "csv",
) -> ImportResult:
    """Write a parsed file's values: one per period, replacing what the period had.

    Only the columns the file has are replaced: a file with Totalt alone leaves the women's
    and men's values of those periods as they were. The caller commits; nothing is added to
    the session when the file has errors.
    """
    if parsed.errors:
        raise RuleViolation(
            _l("The file has errors, so nothing was imported: correct the rows listed.")
        )
    if source not in INDICATOR_SOURCES:
        raise ValueError(f"unknown indicator source {source!r}")
    columns = [f for f in VALUE_FIELDS if f in parsed.columns]
    existing = {v.period: v for v in indicator.values}
    result = ImportResult(skipped=len(parsed.skipped))
    for row in parsed.rows:
        new = {f: getattr(row, f) for f in columns}
        value = existing.get(row.period)
        if value is None:
            value = IndicatorValue(
                indicator=indicator, period=row.period, source=source, updated_at=now, **new
            )
            session.add(value)
            existing[row.period] = value
            result.created += 1
        elif all(getattr(value, f) == v for f, v in new.items()):
            result.unchanged += 1
        else:
            for f, v in new.items():
                setattr(value, f, v)
            value.source = source
            value.updated_at = now
            result.updated += 1
    periods = sorted(row.period for row in parsed.rows)
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="indicator_values_imported",
        obj=indicator,
        source=source,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        periods=[periods[0], periods[-1]] if periods else [],
    )
    return result
