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

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

SEP_LINE = re.compile(r"sep=(.)\s*", re.IGNORECASE)
XLSX_MAGIC = b"PK\x03\x04"

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


def read_table(content: bytes, *, max_rows: int) -> Table:
    """Read a workbook's first sheet, or a CSV file, as text cells. A file with more than
    `max_rows` data rows is refused as a whole."""
    table = Table()
    if content.startswith(b"%PDF"):
        table.problem = str(_l("This is a PDF, not a spreadsheet: save the table as .xlsx or CSV."))
        return table
    if content.startswith(XLSX_MAGIC):
        table.kind = "xlsx"
        lines = _workbook_lines(content, table)
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


def _workbook_lines(content: bytes, table: Table):
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        table.problem = str(NOT_A_WORKBOOK)
        return []
    sheet = workbook.worksheets[0]
    rows = [
        (n, [_cell_text(v) for v in values])
        for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)
    ]
    workbook.close()
    return rows


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
    """A workbook with one sheet: dates as date cells, numbers as numbers, a frozen heading."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([inert(h) for h in headings])
    for row in rows:
        sheet.append([inert(v) for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, heading in enumerate(headings, start=1):
        for cell in sheet[get_column_letter(column)][1:]:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
        sheet.column_dimensions[get_column_letter(column)].width = min(
            60, max(10, len(str(heading)) + 2)
        )
    sheet.freeze_panes = "A2"
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
