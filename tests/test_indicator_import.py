"""Indicator values from files: CSV as Swedish Excel writes it, and Kolada's API v3.

The files are built here as bytes the way the programs that write them do (Windows-1252 with
CRLF, a UTF-8 byte order mark, no-break spaces between thousands), so the tests read what
users actually upload. Kolada is a fake server on loopback that replays recorded answers.
"""

import json
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from modell.core.errors import RuleViolation
from modell.core.models import AuditEntry
from modell.extensions import db
from modell.improvements import importing
from modell.improvements.cli import indicators_cli
from modell.improvements.importing import (
    ParsedRow,
    find_or_create_indicator,
    import_values,
    parse_indicator_csv,
)
from modell.improvements.kolada import (
    KOLADA_CREDIT,
    KoladaClient,
    KoladaError,
    fetch_enabled,
    parse_kolada_response,
)
from modell.improvements.models import Indicator, IndicatorValue
from modell.organisations.models import Organisation

NOW = datetime(2024, 3, 1, 9, tzinfo=UTC)
HEMTJANST = "Beviljade hemtjänsttimmar per person"

EXCEL_CSV = "Period;Kvinnor;Män;Totalt\r\n2022;12,5;10,1;22,6\r\n2023;13,0;9,8;22,8\r\n"


def parse(text: str | bytes, unit: str | None = None, **limits) -> importing.ParsedFile:
    content = text.encode("utf-8") if isinstance(text, str) else text
    return parse_indicator_csv(content, unit=unit, **limits)


def messages(parsed) -> list[tuple[int, str | None, str]]:
    return [(e.line, e.column, str(e.message)) for e in parsed.errors]


def botkyrka() -> Organisation:
    return db.session.scalar(sa.select(Organisation).where(Organisation.scb_code == "0127"))


def value_count() -> int:
    """Botkyrka's indicator values (the running demo cohort has values of its own)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(IndicatorValue)
        .join(Indicator)
        .join(Organisation)
        .where(Organisation.scb_code == "0127")
    )


def values_of(indicator) -> dict[str, tuple]:
    rows = db.session.scalars(
        sa.select(IndicatorValue)
        .where(IndicatorValue.indicator_id == indicator.id)
        .order_by(IndicatorValue.period)
    )
    return {v.period: (v.women, v.men, v.total) for v in rows}


def import_file(content: bytes, name: str = HEMTJANST, unit: str | None = None):
    indicator = find_or_create_indicator(db.session, botkyrka(), name, now=NOW, unit=unit)
    parsed = parse_indicator_csv(content, unit=indicator.unit, max_bytes=importing.MAX_BYTES)
    result = import_values(db.session, indicator, parsed, now=NOW, user_id=None)
    db.session.commit()
    return indicator, result


# --- reading what users have ---------------------------------------------------------------


def test_swedish_excel_semicolon_csv_in_windows_1252_with_decimal_commas_is_imported(app, ctx):
    indicator, result = import_file(EXCEL_CSV.encode("cp1252"))
    assert (result.created, result.updated) == (2, 0)
    assert values_of(indicator) == {"2022": (12.5, 10.1, 22.6), "2023": (13.0, 9.8, 22.8)}
    stored = db.session.scalars(
        sa.select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)
    ).first()
    assert stored.source == "csv" and stored.updated_at == NOW
    audit = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "indicator_values_imported")
    ).one()
    assert audit.object_id == indicator.id and audit.details["created"] == 2


def test_the_encoding_and_delimiter_are_recognised_from_the_file():
    parsed = parse(EXCEL_CSV.encode("cp1252"))
    assert (parsed.encoding, parsed.delimiter) == ("cp1252", ";")
    assert parsed.columns == {
        "period": "Period",
        "women": "Kvinnor",
        "men": "Män",
        "total": "Totalt",
    }


def test_utf8_with_a_byte_order_mark_is_read_and_the_first_heading_matched():
    parsed = parse(("\ufeff" + EXCEL_CSV).encode("utf-8"))
    assert parsed.valid and parsed.encoding == "utf-8-sig"
    assert parsed.columns["period"] == "Period"  # no BOM glued to the first heading
    assert [r.women for r in parsed.rows] == [12.5, 13.0]


def test_utf8_without_a_byte_order_mark_keeps_its_swedish_letters():
    parsed = parse("År;Flickor;Pojkar\n2023;5;7\n".encode())
    assert parsed.valid and parsed.encoding == "utf-8"
    assert parsed.rows == [ParsedRow(2, "2023", women=5.0, men=7.0, total=None)]


def test_plain_comma_csv_with_english_headings_and_decimal_points(app, ctx):
    content = b'Year,Women,Men,Total\n2022,10.5,9.5,20\n2023,"12,5",11,"23,5"\n'
    indicator, result = import_file(content)
    assert result.created == 2
    assert values_of(indicator) == {"2022": (10.5, 9.5, 20.0), "2023": (12.5, 11.0, 23.5)}


def test_a_tab_separated_file_is_read():
    parsed = parse("Period\tKvinnor\tMän\n2023\t1,5\t2\n".encode())
    assert parsed.delimiter == "\t" and parsed.rows[0].women == 1.5


def test_thousands_may_be_separated_by_a_space_a_no_break_space_or_a_narrow_one():
    text = "Period;Kvinnor;Män;Totalt\n2023;1 234,5;1\u00a0000;2\u202f234,5\n2024;12 345;0;12\u00a0345\n"
    parsed = parse(text)
    assert parsed.valid, messages(parsed)
    assert parsed.rows[0] == ParsedRow(2, "2023", women=1234.5, men=1000.0, total=2234.5)
    assert parsed.rows[1].total == 12345.0


def test_windows_1252_thousands_with_a_no_break_space_byte_are_read():
    # Excel's "1 234,5" with a no-break space is the byte A0 in Windows-1252.
    parsed = parse("Period;Totalt\r\n2023;1\u00a0234,5\r\n".encode("cp1252"))
    assert parsed.valid and parsed.rows[0].total == 1234.5


def test_headings_are_trimmed_and_matched_regardless_of_case():
    parsed = parse(" ÅR ;kvinnor ;MÄN; t \n2023;1;2;3\n".encode())
    assert parsed.valid
    assert parsed.columns == {"period": "ÅR", "women": "kvinnor", "men": "MÄN", "total": "t"}


def test_a_month_is_a_period_and_2024_3_is_written_2024_03():
    parsed = parse(b"Period;Totalt\n2024-3;1\n2024-11;2\n2025;3\n")
    assert [r.period for r in parsed.rows] == ["2024-03", "2024-11", "2025"]


def test_an_empty_cell_is_no_value_and_a_row_without_values_is_left_out():
    parsed = parse("Period;Kvinnor;Män;Totalt\n2023;;4;\n2024;;;\n")
    assert parsed.rows == [ParsedRow(2, "2023", women=None, men=4.0, total=None)]
    assert parsed.skipped == [3]


def test_blank_lines_and_excel_sep_line_are_accepted():
    parsed = parse(b"sep=;\r\nPeriod;Totalt\r\n\r\n2023;5\r\n;\r\n")
    assert parsed.valid and parsed.rows == [ParsedRow(4, "2023", total=5.0)]


def test_a_negative_value_is_allowed_when_the_unit_is_not_a_count():
    parsed = parse(b"Period;Totalt\n2023;-2,5\n", unit="procentenheter")
    assert parsed.valid and parsed.rows[0].total == -2.5


# --- refused, with the row's message, and nothing written ----------------------------------

REFUSALS = {
    "text in a number column": (
        "Period;Kvinnor;Män\n2023;12,5;många\n",
        None,
        (2, "Män", "“många” is not a number"),
    ),
    "a missing period": ("Period;Kvinnor\n2023;1\n;2\n", None, (3, "Period", "period is missing")),
    "a negative count where the unit is a count": (
        "År;Kvinnor;Män\n2023;-3;4\n",
        "antal",
        (2, "Kvinnor", "A count cannot be negative"),
    ),
    "a duplicate period": (
        "Period;Totalt\n2023;1\n2024;2\n2023;3\n",
        None,
        (4, "Period", "The period 2023 is also on line 2"),
    ),
    "the same period written two ways": (
        "Period;Totalt\n2024-03;1\n2024-3;3\n",
        None,
        (3, "Period", "The period 2024-03 is also on line 2"),
    ),
    "a year before 2000": ("Period;Totalt\n1999;1\n", None, (2, "Period", "years 2000 to 2100")),
    "a period that is not one": ("Period;Totalt\n2023-13;1\n", None, (2, "Period", "no month 13")),
    "a control character in a cell": (
        "Period;Totalt\n2023;1\x00\n",
        None,
        (2, "Totalt", "control characters"),
    ),
    "an unknown heading": (
        "Period;Kvinnor;Bananer\n2023;1;2\n",
        None,
        (1, "Bananer", "Unknown heading “Bananer”"),
    ),
    "a missing period heading": ("Kvinnor;Män\n1;2\n", None, (1, None, "no Period column")),
    "no value column": ("Period;Kommentar\n2023;bra\n", None, (1, None, "no value column")),
    "a value without a heading": ("Period;Totalt\n2023;1;7\n", None, (2, None, "no heading")),
    "an ambiguous number": ("Period;Totalt\n2023;1.234,5\n", None, (2, "Totalt", "not a number")),
}


@pytest.mark.parametrize("rule", list(REFUSALS))
def test_a_file_with_an_error_is_refused_with_the_row_message_and_nothing_is_written(
    app, ctx, rule
):
    text, unit, (line, column, message) = REFUSALS[rule]
    indicator = find_or_create_indicator(db.session, botkyrka(), HEMTJANST, now=NOW, unit=unit)
    db.session.commit()
    before = value_count()
    parsed = parse_indicator_csv(text.encode("cp1252"), unit=unit, max_bytes=importing.MAX_BYTES)
    with force_locale("en"):  # the rule, read in English (the same messages are in Swedish)
        assert any(
            (e.line, e.column) == (line, column) and message in str(e.message)
            for e in parsed.errors
        ), messages(parsed)
    with pytest.raises(RuleViolation):
        import_values(db.session, indicator, parsed, now=NOW, user_id=None)
    db.session.commit()
    assert value_count() == before
    assert not db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "indicator_values_imported")
    ).all()


def test_one_bad_row_stops_the_good_rows_too(app, ctx):
    content = "Period;Kvinnor;Män\r\n2022;1;2\r\n2023;x;2\r\n2024;3;4\r\n".encode("cp1252")
    parsed = parse_indicator_csv(content, unit=None, max_bytes=importing.MAX_BYTES)
    assert messages(parsed)[0][:2] == (3, "Kvinnor")
    indicator = find_or_create_indicator(db.session, botkyrka(), HEMTJANST, now=NOW)
    with pytest.raises(RuleViolation):
        import_values(db.session, indicator, parsed, now=NOW, user_id=None)
    assert value_count() == 0


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    content = EXCEL_CSV.encode("cp1252") + b"2024;1;1;2\r\n" * 200
    parsed = parse_indicator_csv(content, unit=None, max_bytes=1024)
    assert messages(parsed) == [
        (
            0,
            None,
            "The file is larger than 1 kB, the largest accepted: split it into smaller files.",
        )
    ]
    assert parsed.rows == []


def test_a_file_with_too_many_rows_is_refused():
    rows = "".join(f"{2000 + i % 100}-{1 + i // 100:02d};1\n" for i in range(12))
    parsed = parse("Period;Totalt\n" + rows, max_rows=10)
    assert messages(parsed)[-1][0] == 12
    assert "more than 10 rows" in messages(parsed)[-1][2]


def test_an_excel_workbook_and_unreadable_text_are_refused_with_a_hint():
    assert "Excel workbook" in messages(parse(b"PK\x03\x04rest-of-a-zip"))[0][2]
    assert "neither UTF-8 nor Windows-1252" in messages(parse(b"Period;Totalt\n2023;\x81\n"))[0][2]
    assert messages(parse(b"\r\n \r\n")) == [(0, None, "The file is empty.")]


def test_a_hopeless_file_lists_a_hundred_errors_and_stops():
    parsed = parse("Period;Totalt\n" + "".join(f"20{i:02d};x\n" for i in range(100)) * 3)
    assert len(parsed.errors) == importing.MAX_ERRORS + 1
    assert "More errors were not listed" in str(parsed.errors[-1].message)


# --- writing --------------------------------------------------------------------------------


def test_an_import_replaces_the_periods_in_the_file_and_keeps_the_others(app, ctx):
    indicator, _ = import_file(EXCEL_CSV.encode("cp1252"))
    # A second file with the total alone: the women's and men's values stay as they were.
    _, result = import_file(b"Period;Totalt\n2023;30\n2024;31\n2022;22,6\n")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert values_of(indicator) == {
        "2022": (12.5, 10.1, 22.6),
        "2023": (13.0, 9.8, 30.0),
        "2024": (None, None, 31.0),
    }


def test_an_indicator_name_matches_regardless_of_case_within_the_organisation_only(app, ctx):
    first = find_or_create_indicator(db.session, botkyrka(), "Andel ÄLDRE med hemtjänst", now=NOW)
    again = find_or_create_indicator(db.session, botkyrka(), " andel äldre MED hemtjänst ", now=NOW)
    assert again is first
    uppsala = db.session.scalar(sa.select(Organisation).where(Organisation.scb_code == "0380"))
    other = find_or_create_indicator(db.session, uppsala, "andel äldre med hemtjänst", now=NOW)
    db.session.commit()
    assert other.id != first.id
    count = sa.select(sa.func.count()).select_from(Indicator)
    assert db.session.scalar(count.where(Indicator.organisation_id == botkyrka().id)) == 1


def test_an_existing_indicator_in_another_unit_is_refused(app, ctx):
    find_or_create_indicator(db.session, botkyrka(), HEMTJANST, now=NOW, unit="timmar")
    with pytest.raises(RuleViolation, match="mäts i timmar"):
        find_or_create_indicator(db.session, botkyrka(), HEMTJANST, now=NOW, unit="procent")


def test_an_indicator_needs_a_name_without_control_characters(app, ctx):
    with pytest.raises(RuleViolation):
        find_or_create_indicator(db.session, botkyrka(), "  ", now=NOW)
    with pytest.raises(RuleViolation):
        find_or_create_indicator(db.session, botkyrka(), "Andel\x1b", now=NOW)


# --- the command ----------------------------------------------------------------------------


def run(app, *args):
    return app.test_cli_runner().invoke(indicators_cli, [str(a) for a in args])


def test_the_command_imports_a_file_and_creates_the_indicator(app, tmp_path):
    path = tmp_path / "hemtjanst.csv"
    path.write_bytes(EXCEL_CSV.encode("cp1252"))
    result = run(
        app, "import", path, "--organisation", "0127", "--indicator", HEMTJANST, "--unit", "timmar"
    )
    assert result.exit_code == 0, result.output
    assert "2 value(s) written" in result.output
    with app.app_context():
        indicator = db.session.scalars(
            sa.select(Indicator).where(Indicator.name == HEMTJANST)
        ).one()
        assert indicator.organisation.name == "Botkyrka" and indicator.unit == "timmar"
        assert values_of(indicator)["2023"] == (13.0, 9.8, 22.8)


def test_the_command_prints_the_row_errors_and_exits_1_without_writing(app, tmp_path):
    path = tmp_path / "fel.csv"
    path.write_bytes("Period;Kvinnor;Män\r\n2023;12,5;många\r\n;1;2\r\n".encode("cp1252"))
    result = run(app, "import", path, "--organisation", "0127", "--indicator", "Nytt mått")
    assert result.exit_code == 1
    assert "line 2, Män: ”många” är inget tal" in result.output
    assert "line 3, Period: Perioden saknas." in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(Indicator).where(Indicator.name == "Nytt mått")) is None
        assert value_count() == 0


def test_the_command_refuses_a_negative_count_in_an_existing_count_indicator(app, tmp_path):
    with app.app_context():
        find_or_create_indicator(db.session, botkyrka(), "Deltagare", now=NOW, unit="antal")
        db.session.commit()
    path = tmp_path / "deltagare.csv"
    path.write_bytes(b"Year,Women,Men\n2023,-1,4\n")
    result = run(app, "import", path, "--organisation", "0127", "--indicator", "deltagare")
    assert result.exit_code == 1
    assert "line 2, Women: Ett antal kan inte vara negativt" in result.output


def test_the_command_needs_a_known_organisation(app, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(EXCEL_CSV.encode("cp1252"))
    result = run(app, "import", path, "--organisation", "9999", "--indicator", HEMTJANST)
    assert result.exit_code == 2 and "9999" in result.output


# --- Kolada ---------------------------------------------------------------------------------

KPI = "N00945"


def kolada_entry(period, women, men, total, municipality="0127", kpi=KPI):
    def value(gender, v):
        if v is None:
            return {"gender": gender, "value": None, "count": 0, "status": "Missing"}
        return {"gender": gender, "value": v, "count": 1, "status": ""}

    return {
        "kpi": kpi,
        "municipality": municipality,
        "period": period,
        "values": [value("K", women), value("M", men), value("T", total)],
    }


# A recorded answer of /v3/data/kpi/N00945/municipality/0127/year/2021,2022,2023 (by hand).
RECORDED = {
    "count": 3,
    "next_url": None,
    "previous_url": None,
    "values": [
        kolada_entry(2021, 81.2, 79.0, 80.1),
        kolada_entry(2022, 82.5, None, 81.0),
        kolada_entry(2023, None, None, None),
    ],
}


def test_a_kolada_response_gives_k_m_t_as_women_men_total_and_missing_as_no_value():
    parsed = parse_kolada_response(RECORDED, municipality="0127")
    assert parsed.valid
    assert parsed.rows == [
        ParsedRow(1, "2021", women=81.2, men=79.0, total=80.1),
        ParsedRow(2, "2022", women=82.5, men=None, total=81.0),
    ]
    assert parsed.skipped == [3]  # every value "Missing"
    assert parsed.columns == {"period": "period", "women": "K", "men": "M", "total": "T"}


def test_a_kolada_response_for_several_municipalities_gives_only_the_one_asked_for():
    data = {"values": [kolada_entry(2022, 1, 2, 3, municipality="0180"), *RECORDED["values"]]}
    parsed = parse_kolada_response(data, municipality="0127", kpi=KPI)
    assert [r.period for r in parsed.rows] == ["2021", "2022"]
    assert messages(parse_kolada_response(data, municipality="0380")) == [
        (0, None, "The response has no values for 0380.")
    ]


def test_a_kolada_response_with_wrong_values_is_refused_by_entry():
    bad = kolada_entry(2022, "många", 1, 2)
    bad["values"].append({"gender": "X", "value": 1, "count": 1, "status": ""})
    data = {"values": [kolada_entry(2021, 1, 2, 3), bad, kolada_entry(2021, 1, 2, 3), {"x": 1}]}
    parsed = parse_kolada_response(data, municipality="0127")
    found = messages(parsed)
    assert (2, "K", "“många” is not a number.") in found
    assert any(line == 2 and "Unknown gender “X”" in text for line, _, text in found)
    assert (3, "period", "The period 2021 is also in entry 1.") in found
    assert messages(parse_kolada_response([], municipality="0127"))[0][2].startswith(
        "This is not a Kolada data response"
    )


def test_a_negative_kolada_value_is_refused_only_when_the_unit_is_a_count():
    data = {"values": [kolada_entry(2022, -1, 2, 1)]}
    assert messages(parse_kolada_response(data, municipality="0127", unit="antal")) == [
        (1, "K", "A count cannot be negative (the unit is antal).")
    ]
    assert parse_kolada_response(data, municipality="0127", unit="procent").valid


def test_a_kolada_import_writes_values_with_kolada_as_their_source(app, ctx):
    indicator = find_or_create_indicator(
        db.session, botkyrka(), "Nöjdhet hemtjänst", now=NOW, source="kolada", kolada_kpi=KPI
    )
    parsed = parse_kolada_response(RECORDED, municipality="0127", kpi=KPI)
    result = import_values(db.session, indicator, parsed, now=NOW, user_id=None, source="kolada")
    db.session.commit()
    assert (result.created, result.skipped) == (2, 1)
    assert values_of(indicator) == {"2021": (81.2, 79.0, 80.1), "2022": (82.5, None, 81.0)}
    assert {v.source for v in indicator.values} == {"kolada"}


def test_the_kolada_command_imports_a_saved_response_and_credits_kolada(app, tmp_path):
    path = tmp_path / "kolada.json"
    path.write_text(json.dumps(RECORDED), encoding="utf-8")
    args = ["import-kolada", path, "--organisation", "0127", "--indicator", "Nöjdhet"]
    result = run(app, *args, "--kpi", KPI)
    assert result.exit_code == 0, result.output
    assert "2 value(s) written" in result.output
    with app.app_context():
        # The credit, in the CLI's language (Swedish: "Källa: Kolada").
        assert result.output.splitlines()[-1] == str(KOLADA_CREDIT)
        indicator = db.session.scalars(
            sa.select(Indicator).where(Indicator.name == "Nöjdhet")
        ).one()
        assert (indicator.source, indicator.kolada_kpi) == ("kolada", KPI)
    path.write_text(json.dumps({"values": [kolada_entry("20x2", 1, 2, 3)]}), encoding="utf-8")
    result = run(app, *args, "--kpi", KPI)
    assert result.exit_code == 1 and "entry 1, period: ”20x2” är ingen period" in result.output


# --- the live client against a fake Kolada on loopback --------------------------------------


class FakeKolada:
    """Replays recorded pages by path; remembers what was asked."""

    def __init__(self, pages: dict[str, tuple[int, object]]):
        self.pages, self.asked = pages, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.asked.append(self.path)
                status, body = fake.pages.get(self.path, (404, {"error": "not found"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v3"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


FIRST = "/v3/data/kpi/N00945/municipality/0127/year/2021,2022,2023"


def test_the_client_follows_next_url_and_merges_the_pages():
    with FakeKolada({}) as fake:
        second = f"{FIRST}?page=2&per_page=2"
        fake.pages[FIRST] = (
            200,
            {
                "count": 3,
                "next_url": fake.url.removesuffix("/v3") + second,
                "values": RECORDED["values"][:2],
            },
        )
        fake.pages[second] = (200, {"count": 3, "next_url": None, "values": RECORDED["values"][2:]})
        data = KoladaClient(fake.url, timeout=5).fetch(KPI, "0127", [2023, 2021, "2022"])
    assert fake.asked == [FIRST, second]
    assert data["values"] == RECORDED["values"]
    assert parse_kolada_response(data, municipality="0127").rows[0].women == 81.2


def test_the_client_does_not_follow_a_next_url_to_another_host():
    with FakeKolada({}) as fake:
        fake.pages[FIRST] = (
            200,
            {"next_url": "http://evil.example/v3/data?page=2", "values": []},
        )
        with pytest.raises(KoladaError, match="another host"):
            KoladaClient(fake.url, timeout=5).fetch(KPI, "0127", [2021, 2022, 2023])
    assert fake.asked == [FIRST]


def test_the_client_stops_after_the_largest_number_of_pages():
    with FakeKolada({}) as fake:
        for page in range(1, 5):
            fake.pages[f"{FIRST}?page={page}" if page > 1 else FIRST] = (
                200,
                {
                    "next_url": f"{fake.url.removesuffix('/v3')}{FIRST}?page={page + 1}",
                    "values": [],
                },
            )
        with pytest.raises(KoladaError, match="more than 3 pages"):
            KoladaClient(fake.url, timeout=5, max_pages=3).fetch(KPI, "0127", [2021, 2022, 2023])


def test_an_http_error_or_a_page_that_is_not_json_is_a_clear_error():
    with FakeKolada({FIRST: (503, {"error": "busy"})}) as fake:
        with pytest.raises(KoladaError, match="HTTP status 503"):
            KoladaClient(fake.url, timeout=5).fetch(KPI, "0127", [2021, 2022, 2023])
        fake.pages[FIRST] = (200, ["not", "a", "response"])
        with pytest.raises(KoladaError, match="no values"):
            KoladaClient(fake.url, timeout=5).fetch(KPI, "0127", [2021, 2022, 2023])


def test_a_kolada_that_never_answers_gives_a_timeout_error():
    # A socket that listens but never accepts: the connection opens, no answer ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v3"
        with pytest.raises(KoladaError, match="did not answer within 0.3 seconds"):
            KoladaClient(url, timeout=0.3).fetch(KPI, "0127", [2022])


def test_a_kolada_nobody_listens_on_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(KoladaError, match="could not be reached"):
        KoladaClient(f"http://127.0.0.1:{port}/v3", timeout=2).fetch(KPI, "0127", [2022])


def test_the_client_refuses_odd_ids_and_years_before_asking():
    client = KoladaClient("http://127.0.0.1:9/v3")
    for kpi, municipality, years in (
        ("N00945/../x", "0127", [2022]),
        (KPI, "127", [2022]),
        (KPI, "0127", [1999]),
        (KPI, "0127", ["2022-03"]),
        (KPI, "0127", []),
    ):
        with pytest.raises(KoladaError):
            client.data_url(kpi, municipality, years)


def test_fetching_from_kolada_is_refused_unless_kolada_enabled_is_set(app):
    for config in (app.config, {}, {"KOLADA_ENABLED": False}, {"KOLADA_ENABLED": "0"}):
        with pytest.raises(KoladaError, match="KOLADA_ENABLED"):
            fetch_enabled(config)
    client = fetch_enabled(
        {"KOLADA_ENABLED": "1", "KOLADA_BASE_URL": "http://127.0.0.1:9/v3", "KOLADA_TIMEOUT": 2}
    )
    assert client.base.netloc == "127.0.0.1:9" and client.timeout == 2.0
    assert fetch_enabled({"KOLADA_ENABLED": True}).base.hostname == "api.kolada.se"
