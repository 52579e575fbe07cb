"""Helpers for tests/test_fuzz.py: read the forms of a real page, generate values for their
fields, and watch the database (snapshots, control characters, dates).

Nothing here knows a route: the forms are discovered from the HTML the app renders.
"""

import re
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa
from hypothesis import strategies as st

from modell.extensions import db

# --- reading forms from a page ----------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, select, checkbox, radio, hidden, date, time, number, email, ...
    options: list[str] = field(default_factory=list)  # select/radio/checkbox values
    current: list[str] = field(default_factory=list)  # what a browser would send unchanged
    multiple: bool = False

    @property
    def multiline(self) -> bool:
        return self.kind == "textarea"


@dataclass
class Form:
    action: str  # path (and query) the form is sent to
    method: str  # GET or POST
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    csrf_token: str | None = None

    def describe(self) -> str:
        return f"{self.method} {self.action} [{', '.join(self.fields)}]"


class _FormParser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: Field | None = None
        self._option: tuple[str | None, bool, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page_url
            self._form = Form(
                action=_path(urljoin(self.page_url, action)),
                method=(a.get("method") or "get").upper(),
                multipart="multipart" in a.get("enctype", ""),
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if "disabled" in a:  # a browser does not send it
            return
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "image", "button", "reset"):
                if kind == "submit":
                    form.buttons.append((name, a.get("value", "")))
                return
            if name == "csrf_token":
                form.csrf_token = a.get("value", "")
                return
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            f = form.fields.get(name)
            if f is None:
                f = form.fields[name] = Field(name, kind)
            elif kind == "checkbox":
                f.multiple = True
            if kind in ("checkbox", "radio"):
                f.options.append(value)
                if "checked" in a:
                    f.current.append(value)
            elif kind != "file":
                f.current = [value]
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            form.buttons.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = form.fields.setdefault(
                name, Field(name, "select", multiple="multiple" in a)
            )
        elif tag == "option" and self._select is not None:
            self._option = (a.get("value"), "selected" in a, [])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option[2].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            # As a browser reads it: CR LF and CR are LF, one newline right after the tag
            # is dropped.
            text = "".join(parts).replace("\r\n", "\n").replace("\r", "\n")
            if text.startswith("\n"):
                text = text[1:]
            self._form.fields[name] = Field(name, "textarea", current=[text])
            self._textarea = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value, selected, text = self._option
            value = value if value is not None else "".join(text).strip()
            self._select.options.append(value)
            if selected:
                self._select.current.append(value)
            self._option = None
        elif tag == "select" and self._select is not None:
            s = self._select
            if not s.current and s.options and not s.multiple:
                s.current = [s.options[0]]  # a browser sends the first option
            self._select = None


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def parse_forms(html: str, page_url: str) -> list[Form]:
    parser = _FormParser(page_url)
    parser.feed(html)
    parser.close()
    return parser.forms


# --- values -----------------------------------------------------------------------------------

OMIT = object()  # the field is left out of the request

HUGE = "x" * 100_000
CONTROL_SAMPLES = [
    "\x00",
    "a\x00b",
    "\x07",
    "\x1b[31mröd\x1b[0m",
    "\x0b",
    "\x0c",
    "\x7f",
    "\x01\x1f",
]
# Any field may get these: empty, controls, line breaks, huge, unicode, wrong types.
GENERIC = [
    "",
    " ",
    *CONTROL_SAMPLES,
    "Rad ett\nRad två",
    "a\r\nb",
    "tab\there",
    HUGE,
    "ÅÄÖ åäö é",
    "🎉👩🏽‍💻 emoji",
    "abc",
    "-1",
    str(2**63),
    "1e309",
    "NaN",
]
NASTY_TEXT = [
    *GENERIC,
    "slut\r",
    "Å" * 3000,
    "\u202eomvänd\u202c",
    "\ufeffbom",
    "<script>alert(1)</script>",
    "'; DROP TABLE users; --",
    "%00",
    "../../etc/passwd",
    "None",
    "null",
    "[]",
]
NASTY_NUMBERS = [
    "-1",
    "0",
    "1",
    "2147483648",
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    "99999999999999999999",
    "-99999999999999999999",
    "1e309",
    "-1e309",
    "NaN",
    "inf",
    "1.5",
    "0x10",
    " 7 ",
    "abc",
]
NASTY_DATES = [
    "9999-12-31",
    "0001-01-01",
    "1999-12-31",
    "2101-01-01",
    "2000-01-01",
    "2100-12-31",
    "2019-02-30",
    "2019-13-01",
    "2019-02-14T10:00",
    "20190214",
    "14/02/2019",
    "not-a-date",
    "10000-01-01",
]
NASTY_TIMES = ["25:61", "24:00", "-1:00", "23:59", "00:00", "10:00:00", "9", "12:3\x00"]
NASTY_OTHER = [
    "x@",
    "@example.org",
    "a@b",
    "fuzz@example.org\x00",
    "fuzz\n@example.org",
    "javascript:alert(1)",
    "http://exa\x00mple.org/",
    "https://example.org/" + "a" * 3000,
    "//evil.example/",
    "https://evil.example/",
]
NASTY_CHOICES = ["-1", "0", str(2**63), "99999999999999999999", "abc", "", "\x00", "None"]
NASTY = NASTY_TEXT + NASTY_NUMBERS + NASTY_DATES + NASTY_TIMES + NASTY_OTHER
# Every field of these types gets each of these once (the sweep, besides the examples).
# NUL_INSIDE: the value the field would have, with a NUL in it (PostgreSQL refuses NUL in
# text, so a NUL that gets through validation is a server error there).
NUL_INSIDE = object()
BOUNDARIES = {
    "date": ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"],
    "datetime-local": ["9999-12-31T23:59", "0001-01-01T00:00"],
    "time": ["25:61", "24:00"],
    "number": [str(2**63), "-1", "1e309", "NaN"],
    "text": [NUL_INSIDE],
    "textarea": [NUL_INSIDE],
    "search": [NUL_INSIDE],
    "tel": [NUL_INSIDE],
}
# Every query parameter of a GET page at once: huge and negative numbers, NUL.
QUERY_BOUNDARIES = ["99999999999999999999", str(2**63), "-1", "\x00"]

FILENAMES = [
    "minnes.txt",
    "",
    "\x00.txt",
    "a\x07b.pdf",
    "rad\nbryt.txt",
    "x" * 300 + ".txt",
    "../../etc/passwd",
    "Å ä ö.docx",
    "noext",
    "bild.png",
    "program.exe",
    "värden.csv",
]
CONTENTS = [
    b"",
    b"Minnesanteckningar",
    b"\x00" * 16,
    b"%PDF-1.4\n%\xe2\xe3\n",
    b"x" * 100_000,
    "Period;Kvinnor;Män;Totalt\n2023;10;12;22\n2024;\x00;9999999999999999999999;-1\n".encode(),
    b"\xff\xfe\x00P\x00e\x00r",
]

# What a user could plausibly type, per input type (when the page shows no value).
_PLAUSIBLE = {
    "date": ["2030-03-14", "2019-05-14", "2030-01-15", "2030-12-31"],
    "time": ["10:00", "15:00"],
    "datetime-local": ["2030-03-14T10:00"],
    "number": ["1", "4", "10"],
    "email": ["fuzz.test@example.org"],
    "url": ["https://example.org/mote"],
    "tel": ["08-123 45 67"],
    "password": ["fuzz-password-123"],
    "textarea": ["Rad ett\nRad två"],
}
_NAME_HINTS = {  # dates that satisfy "deadline < start < end"
    "registration_deadline": "2030-01-15",
    "starts_on": "2030-03-01",
    "ends_on": "2030-12-31",
}


def plausible(f: Field) -> list[str]:
    """Values a user could send for the field: what the page shows, its options, or a value
    of its type."""
    values = [v for v in f.current if v]
    if f.kind in ("select", "radio", "checkbox"):
        values += [v for v in f.options if v]
        return values or list(f.options) or ["y"]
    if f.name in _NAME_HINTS:
        values.append(_NAME_HINTS[f.name])
    values += _PLAUSIBLE.get(f.kind, ["Fuzz Åsa", "fuzz_test", "2024"])
    return values


def baseline(f: Field, shift: int = 0):
    """The value a browser would send if the user changed nothing (plausible if empty).
    `shift` tries the next plausible value, after the app refused this one."""
    if f.kind == "file":
        return (b"Minnesanteckningar", "minnes.txt")
    if f.multiple:  # as ticked; refused: one option after the other
        if shift == 0 or not f.options:
            return list(f.current)
        return [_pick(f.options, shift - 1)]
    if f.kind == "checkbox":
        return f.current[0] if f.current else f.options[0]  # ticked: confirmations pass
    # What the page shows (empty: most optional fields stay empty), then typical values.
    candidates = list(dict.fromkeys([f.current[0] if f.current else ""] + plausible(f)))
    return _pick(candidates, shift)


def _typed_nasty(f: Field) -> list[str]:
    """The values that break a field of this type in particular."""
    return {
        "date": NASTY_DATES,
        "datetime-local": NASTY_DATES,
        "time": NASTY_TIMES,
        "number": NASTY_NUMBERS,
        "email": NASTY_OTHER,
        "url": NASTY_OTHER,
        "select": NASTY_CHOICES,
        "radio": NASTY_CHOICES,
        "checkbox": NASTY_CHOICES,
        "hidden": NASTY_CHOICES + NASTY_NUMBERS,
    }.get(f.kind, NASTY_TEXT)


TYPED_KINDS = {"date", "datetime-local", "time", "number", "select", "radio", "hidden", "file"}


def weighted(fields: list[Field]) -> list[Field]:
    """Fields to pick the broken one from: those with a type (dates, numbers, choices,
    hidden ids) twice, as their values go further into the app."""
    return fields + [f for f in fields if f.kind in TYPED_KINDS]


# A request is planned before the page is read, with a shape that never depends on the
# page: hypothesis then sees the same kind of draws whatever state the database is in (its
# generation must not depend on outside state). The plan's numbers pick fields and values.
KINDS = ["nasty", "typed", "typed", "poisoned", "plausible", "omit"]
BREAKING = ["nasty", "nasty", "typed", "typed", "typed", "poisoned", "poisoned", "omit"]
POISON = CONTROL_SAMPLES + ["\n", "\r\n"]
SLOTS = 32  # value specs per form; a form with more fields reuses them
_index = st.integers(0, 2**16)
SPEC = st.tuples(st.sampled_from(KINDS), _index, _index, st.booleans())
PLAN = st.fixed_dictionaries(
    {
        "case": _index,
        "page": _index,
        "form": _index,
        "mode": st.sampled_from(["one", "one", "all"]),
        "field": _index,
        "one": st.tuples(st.sampled_from(BREAKING), _index, _index, st.booleans()),
        "values": st.lists(SPEC, min_size=SLOTS, max_size=SLOTS),
        "query": st.lists(st.tuples(_index, SPEC), min_size=1, max_size=4),
        "post_query": st.lists(st.tuples(_index, SPEC), max_size=2),
    }
)


def _pick(pool: list, i: int):
    return pool[i % len(pool)]


def _single(kind: str, i: int, j: int, front: bool, f: Field) -> str:
    if kind == "plausible":
        return _pick(plausible(f), i)
    if kind == "typed":
        return _pick(_typed_nasty(f), i)
    if kind == "poisoned":
        value, poison = _pick(plausible(f), i), _pick(POISON, j)
        return poison + value if front else value + poison
    return _pick(GENERIC, i)


def resolve(spec: tuple, f: Field):
    """The value a spec of the plan gives the field (OMIT: the field is left out)."""
    kind, i, j, front = spec
    if kind == "omit":
        return OMIT
    if f.kind == "file":
        if kind == "plausible":
            return baseline(f)
        return (_pick(CONTENTS, i), _pick(FILENAMES, j))
    if f.multiple:
        options = plausible(f)
        items = list(dict.fromkeys(_pick(options, i + k) for k in range(i % 4)))
        if kind != "plausible":
            items.append(_single(kind, j, i, front, f))
        return items
    return _single(kind, i, j, front, f)


# --- the database -----------------------------------------------------------------------------

# C0 controls other than tab, LF and CR, and DEL (the rule: they never reach the database).
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _strings(value):
    """Every string inside a cell (JSON cells are walked)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


@dataclass
class Snapshot:
    rows: dict[str, Counter]  # table -> Counter of row keys
    values: dict[str, dict[str, tuple]]  # table -> row key -> (column names, values)
    errors: list[str]
    sums: dict[str, tuple] = field(default_factory=dict)  # PostgreSQL: table -> checksum
    version: tuple | None = None  # SQLite: Watch.version() when it was taken


def _checksums(conn) -> dict[str, tuple]:
    """PostgreSQL: per table the row count and the newest row version (xmin), in one round
    trip. Every insert or update writes a row version with a newer xmin, every delete
    lowers the count, so an unchanged pair means an unchanged table."""
    quote = conn.dialect.identifier_preparer.quote
    parts = [
        f"SELECT '{t.name}', count(*), max(xmin::text::bigint) FROM {quote(t.name)}"
        for t in db.metadata.sorted_tables
    ]
    result = conn.exec_driver_sql(" UNION ALL ".join(parts))
    return {name: (count, newest) for name, count, newest in result}


class Watch:
    """SQLite: whether anything was committed since the last look, from a connection of its
    own (PRAGMA data_version changes when another connection commits). Most requests
    commit nothing, and then the last snapshot still holds. PostgreSQL: None (checksums)."""

    def __init__(self, app):
        url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.path = url.database if url.get_backend_name() == "sqlite" else None
        self.epoch, self.conn = 0, None
        self.open()

    def open(self):
        import sqlite3

        if self.path:
            self.epoch += 1
            self.conn = sqlite3.connect(self.path)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def version(self):
        if self.conn is None:
            return None
        cursor = self.conn.execute("PRAGMA data_version")
        try:  # read to the end and close: an open statement would hold a lock
            return (self.epoch, cursor.fetchall()[0][0])
        finally:
            cursor.close()


def snapshot(app, previous: Snapshot | None = None, watch: Watch | None = None) -> Snapshot:
    """Every row of every table, read through the models' column types. If nothing was
    committed since `previous` (SQLite, through `watch`) it is returned as it is; on
    PostgreSQL a table whose checksum is unchanged is taken from it, not read again."""
    version = watch.version() if watch is not None else None
    if previous is not None and version is not None and previous.version == version:
        return previous
    rows, values, errors, sums = {}, {}, [], {}
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            try:
                sums = _checksums(conn)
            except Exception:  # noqa: BLE001  then every table is read
                conn.rollback()
                sums = {}
        for table in db.metadata.sorted_tables:
            name = table.name
            if (
                previous is not None
                and name in sums
                and previous.sums.get(name) == sums[name]
                and name in previous.rows
            ):
                rows[name], values[name] = previous.rows[name], previous.values[name]
                continue
            names = [c.name for c in table.columns]
            try:
                result = conn.execute(sa.select(table)).all()
            except Exception as error:  # a value the app stored cannot even be read back
                errors.append(f"{name}: cannot be read: {one_line(error)}")
                conn.rollback()
                continue
            counter, by_key = Counter(), {}
            for row in result:
                key = repr(tuple(row))
                counter[key] += 1
                by_key[key] = (names, tuple(row))
            rows[name], values[name] = counter, by_key
    return Snapshot(rows, values, errors, sums, version)


def changed_rows(before: Snapshot, after: Snapshot) -> dict[str, tuple[list, int]]:
    """Per table: the rows that are new or changed, and how many rows went away."""
    changes = {}
    for table, counter in after.rows.items():
        old = before.rows.get(table, Counter())
        added, removed = counter - old, old - counter
        if added or removed:
            changes[table] = (
                [after.values[table][k] for k in added],
                sum(removed.values()),
            )
    return changes


def problems_in(changes: dict) -> list[str]:
    """Control characters and dates outside 2000–2100 in rows that changed."""
    found = []
    for table, (added, _removed) in changes.items():
        for names, row in added:
            for name, value in zip(names, row, strict=True):
                for text in _strings(value):
                    match = FORBIDDEN.search(text)
                    if match:
                        found.append(
                            f"control character {match.group()!r} stored in {table}.{name}"
                        )
                        break
                if isinstance(value, date | datetime) and not (
                    EARLIEST_YEAR <= value.year <= LATEST_YEAR
                ):
                    found.append(f"date outside 2000–2100 stored in {table}.{name}: {value}")
    return found


def text_cells(changes: dict):
    for table, (added, _removed) in changes.items():
        for names, row in added:
            for name, value in zip(names, row, strict=True):
                for text in _strings(value):
                    yield f"{table}.{name}", text


# --- reporting --------------------------------------------------------------------------------


def one_line(error: BaseException) -> str:
    """The exception in one line; for a database error, the driver's own message."""
    cause = getattr(error, "orig", None)
    if cause is not None:
        text = str(cause).strip().splitlines()
        name = f"{type(error).__name__} ({type(cause).__module__}.{type(cause).__name__})"
    else:
        text = str(error).strip().splitlines()
        name = type(error).__name__
    return f"{name}: {text[0][:200] if text else ''}"


def where(error: BaseException) -> str:
    """The innermost frame in the app's own code."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if "/modell/" in f.filename and "/.venv/" not in f.filename]
    frame = (own or frames or [None])[-1]
    if frame is None:
        return "?"
    path = frame.filename[frame.filename.rfind("/modell/") + 1 :] if own else frame.filename
    return f"{path}:{frame.lineno} in {frame.name}"


def show(value, limit: int = 60) -> str:
    if value is OMIT:
        return "<omitted>"
    if isinstance(value, tuple):  # a file
        content, name = value
        return f"file(name={show(name, 40)}, {len(content)} bytes)"
    if isinstance(value, list):
        return "[" + ", ".join(show(v, 30) for v in value) + "]"
    text = repr(value)
    if len(text) > limit:
        text = f"{text[: limit - 15]}…' ({len(value)} chars)"
    return text


# --- saving and putting back a database ------------------------------------------------------


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def save_database(app) -> str:
    """A copy of the app's database as it is now: a file (SQLite) or a template database
    (PostgreSQL). Returns its name, for restore_database and drop_saved."""
    import shutil
    import uuid

    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    _dispose(app)
    if url.get_backend_name() == "sqlite":
        saved = f"{url.database}.fuzz-{uuid.uuid4().hex[:8]}"
        shutil.copy(url.database, saved)
        return saved
    from tests.conftest import _pg_exec

    saved = f"fuzz_saved_{uuid.uuid4().hex[:16]}"
    _pg_exec(f'CREATE DATABASE "{saved}" TEMPLATE "{url.database}"')
    return saved


def restore_database(app, saved: str) -> None:
    """Make the app's database a copy of a saved one."""
    import shutil

    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    _dispose(app)
    if url.get_backend_name() == "sqlite":
        shutil.copy(saved, url.database)
        return
    from tests.conftest import _pg_exec

    _pg_exec(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    _pg_exec(f'CREATE DATABASE "{url.database}" TEMPLATE "{saved}"')


def clone_saved(saved: str, folder) -> tuple[str, callable]:
    """A new database copied from a saved one: (url, drop)."""
    import os
    import shutil
    import uuid

    if not saved.startswith("fuzz_saved_"):
        path = os.path.join(folder, f"fz-{uuid.uuid4().hex}.db")
        shutil.copy(saved, path)
        return f"sqlite:///{path}", lambda: os.path.exists(path) and os.unlink(path)
    from tests.conftest import PG_URL, _pg_exec

    name = f"{saved}_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{saved}"')
    return (
        str(sa.make_url(PG_URL).set(database=name)),
        lambda: _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'),
    )


def drop_saved(saved: str) -> None:
    import os

    if saved.startswith("fuzz_saved_"):
        from tests.conftest import _pg_exec

        _pg_exec(f'DROP DATABASE IF EXISTS "{saved}" WITH (FORCE)')
    elif os.path.exists(saved):
        os.unlink(saved)


def stores_any(changes: dict, needles: list[str]) -> bool:
    """Whether the changed rows hold one of the values sent, or an extreme date or number:
    then the pages that show them are worth reading again."""
    needles = [n for n in needles if len(n) >= 4]
    for _column, cell in text_cells(changes):
        if any(n in cell for n in needles):
            return True
    for _table, (added, _removed) in changes.items():
        for _names, row in added:
            for v in row:
                if isinstance(v, date | datetime) and not EARLIEST_YEAR <= v.year <= LATEST_YEAR:
                    return True
                if isinstance(v, float) and (v != v or abs(v) > 1e6):
                    return True
                if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**31:
                    return True
    return False
