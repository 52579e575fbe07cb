"""Reading the tables people actually have: Excel workbooks and CSV as Swedish Excel writes
it (Windows-1252 or UTF-8 with a byte order mark, `;` between cells, CRLF), or as other
tools write it (`,` or tab). Every import of the app reads through here; what the columns
mean is each import's own business.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from flask_babel import lazy_gettext as _l

SEP_LINE = re.compile(r"sep=(.)\s*", re.IGNORECASE)
XLSX_MAGIC = b"PK\x03\x04"
# Werkzeug adds "; charset=utf-8" to a text/ type itself: naming it here would double it.
CSV_MIME = "text/csv"

UNREADABLE = _l(
    "The file is neither UTF-8 nor Windows-1252 text: save it from Excel as "
    "CSV (semikolonavgränsad) or CSV UTF-8."
)
NOT_A_WORKBOOK = _l("The file cannot be read as an Excel workbook (.xlsx).")


def decode(content: bytes) -> tuple[str, str] | None:
    """The text and the encoding it was read with, or None when it is neither.

    UTF-8 is tried first because Windows-1252 decodes almost any bytes: a UTF-8 file read as
    Windows-1252 would import "MÃ¤n" without complaint, while Windows-1252 text with ä, ö
    or å is practically never valid UTF-8.
    """
    if content.startswith(b"\xef\xbb\xbf"):
        candidates = [("utf-8-sig", content)]
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        candidates = [("utf-16", content)]
    else:
        candidates = [("utf-8", content), ("cp1252", content)]
    for encoding, data in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def sniff_delimiter(heading_line: str) -> str:
    """`;`, tab or `,`: the one that occurs most often outside quotes in the heading line.

    Sniffed on the headings only, because in the data rows a decimal comma would make a
    semicolon file look like a comma file.
    """
    counts = {";": 0, "\t": 0, ",": 0}
    quoted = False
    for ch in heading_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])  # ties go to the first: ; then tab then ,
    return best if counts[best] else ";"


def normal(text: str) -> str:
    """A heading or name as compared: trimmed, composed (macOS writes "a" + ring), casefolded."""
    return unicodedata.normalize("NFC", text.strip().lstrip("\ufeff").strip()).casefold()


def shorten(text: str, length: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= length else text[: length - 1] + "…"


@dataclass
class Table:
    """A file's headings and its non-empty rows, each with the line (or spreadsheet row)
    number the user sees; `problem` when the file as a whole cannot be read."""

    headings: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    heading_line: int = 0
    problem: str | None = None
    kind: str = "csv"  # or "xlsx"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None  # the workbook's sheet the table was read from


def read_table(content: bytes, *, max_rows: int, wants: tuple[str, ...] = ()) -> Table:
    """Read a CSV file, or the sheet of a workbook that holds the table, as text cells: the
    first sheet whose headings include one of `wants` (so a sheet of instructions may come
    first), else the first sheet. A file with more than `max_rows` data rows is refused as a
    whole."""
    table = Table()
    if content.startswith(b"%PDF"):
        table.problem = str(_l("This is a PDF, not a spreadsheet: save the table as .xlsx or CSV."))
        return table
    if content.startswith(XLSX_MAGIC):
        table.kind = "xlsx"
        lines = _workbook_lines(content, table, {normal(w) for w in wants})
    else:
        lines = _csv_lines(content, table)
    if table.problem:
        return table
    for line, cells in lines:
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if not table.headings:
            table.headings = [c.lstrip("\ufeff").strip() for c in cells]
            table.heading_line = line
            continue
        if len(table.rows) >= max_rows:
            table.problem = str(
                _l("The file has more than %(n)d rows: split it into smaller files.", n=max_rows)
            )
            return table
        table.rows.append((line, cells))
    if not table.headings:
        table.problem = str(_l("The file is empty."))
    return table


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_rows(sheet) -> list[tuple[int, list]]:
    return list(enumerate(sheet.iter_rows(values_only=True), start=1))


def _headings_of(rows) -> set[str]:
    for _n, values in rows:
        if any(v not in (None, "") for v in values):
            return {normal(str(v)) for v in values if v is not None}
    return set()


def _workbook_lines(content: bytes, table: Table, wants: set[str]):
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        table.problem = str(NOT_A_WORKBOOK)
        return []
    sheets = [(sheet.title, _sheet_rows(sheet)) for sheet in workbook.worksheets]
    workbook.close()
    if not sheets:
        table.problem = str(_l("The file is empty."))
        return []
    title, rows = next(((t, r) for t, r in sheets if wants & _headings_of(r)), sheets[0])
    table.sheet = title
    empty_formulas = _formulas_without_values(content, title, rows)
    if empty_formulas:
        table.problem = str(
            _l(
                "The cells %(cells)s hold formulas whose results were never saved (the file was "
                "not saved by Excel): open it in Excel and save it, or type the values.",
                cells=", ".join(empty_formulas[:5]) + (" …" if len(empty_formulas) > 5 else ""),
            )
        )
        return []
    return [(n, [_cell_text(v) for v in values]) for n, values in rows]


def _formulas_without_values(content: bytes, title: str, rows) -> list[str]:
    """The cells (as "C4") of the sheet that hold a formula but no saved result. Excel saves
    each formula's result beside it; a file written by another program may not, and such a
    cell would read as empty: better to say so than to import a blank."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    blanks = {(n, i) for n, values in rows for i, v in enumerate(values) if v is None}
    if not blanks:
        return []
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    found = []
    for n, values in enumerate(workbook[title].iter_rows(values_only=True), start=1):
        for i, value in enumerate(values):
            if (n, i) in blanks and isinstance(value, str) and value.startswith("="):
                found.append(f"{get_column_letter(i + 1)}{n}")
    workbook.close()
    return found


def _csv_lines(content: bytes, table: Table):
    decoded = decode(content)
    if decoded is None:
        table.problem = str(UNREADABLE)
        return []
    text, table.encoding = decoded
    lines = re.split(r"\r\n|\r|\n", text)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        table.problem = str(_l("The file is empty."))
        return []
    sep_line = SEP_LINE.fullmatch(lines[first])
    skip = 0
    if sep_line:
        table.delimiter, skip = sep_line.group(1), first + 1
    else:
        table.delimiter = sniff_delimiter(lines[first])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=table.delimiter)
    rows = []
    previous = 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if line > skip:
                rows.append((line, cells))
    except csv.Error:
        table.problem = str(
            _l("Line %(n)d cannot be read as CSV: check its quotes.", n=previous + 1)
        )
        return []
    return rows


# --- writing ---------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """Text a user wrote, never a formula: a spreadsheet runs a cell that starts with = + - @
    (or a tab), so such text gets a leading apostrophe, which Excel shows as plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_xlsx(headings: list[str], rows: list[list], *, title: str) -> bytes:
    """A workbook with one sheet: dates as date cells, numbers as numbers, a frozen heading.
    Written with XlsxWriter, which writes a sheet about three times as fast as openpyxl
    (openpyxl reads the workbooks people send)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            # Text stays text: no formulas, links or numbers made of what someone wrote.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
            "nan_inf_to_errors": True,
        },
    )
    sheet = book.add_worksheet(title[:31])
    bold, day = book.add_format({"bold": True}), book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [inert(h) for h in headings], bold)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, day)
            elif isinstance(value, (bool, int, float, Decimal)):
                sheet.write(r, c, value)
            else:  # text, and labels still to be translated
                sheet.write_string(r, c, inert(str(value)))
    for column, heading in enumerate(headings):
        sheet.set_column(column, column, min(60, max(10, len(str(heading)) + 2)))
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


def add_sheet(content: bytes, rows: list[list], *, title: str) -> bytes:
    """The workbook with one more sheet after its others: plain rows of text (instructions, an
    example), the first in bold, wide first columns."""
    from openpyxl import load_workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = load_workbook(io.BytesIO(content))
    sheet = book.create_sheet(title[:31])
    for row in rows:
        sheet.append([inert(v) for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in range(1, max(len(r) for r in rows) + 1):
        width = max(len(str(r[column - 1])) for r in rows if len(r) >= column)
        sheet.column_dimensions[get_column_letter(column)].width = min(70, max(12, width + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.10g}"
        return text.replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    return inert(str(value))


def to_csv(headings: list[str], rows: list[list]) -> bytes:
    """CSV as Swedish Excel opens it with a double click: `;`, decimal commas, UTF-8 BOM."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headings)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
