"""SKR's history from spreadsheets: a past cohort from an XLSX file with its real dates,
concluded; a later one from Swedish Excel's CSV whose mentors come from the first; the titles
they earn, as the list of organisations exports them; every kind of row error, with nothing
written; and a cohort recorded as history sends nothing."""

import csv
import io
from datetime import date

import openpyxl
import sqlalchemy as sa

from modell.cohorts.models import Cohort, Group, OrganisationTitle, Participation
from modell.core.models import OutboxMessage
from modell.core.types import utcnow
from modell.extensions import db
from modell.meetings.models import Meeting
from modell.organisations.models import Organisation
from modell.reminders.models import ScheduledReminder
from tests.conftest import DEMO, csrf_from, login

HEADINGS = ["Organisation", "SCB-kod", "Roll", "Grupp", "Fullföljt", "Orsak", "Typ"]
VARMLAND = [
    "Arvika", "Eda", "Filipstad", "Forshaga", "Grums", "Hagfors", "Hammarö", "Karlstad", "Kil",
    "Kristinehamn", "Munkfors", "Storfors", "Sunne", "Säffle", "Torsby", "Årjäng",
]  # fmt: skip
SKANE = ["Bjuv", "Bromölla", "Burlöv", "Båstad", "Eslöv", "Höör"]


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADINGS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def excel_csv(rows: list[list], headings=HEADINGS) -> bytes:
    """What Swedish Excel saves as “CSV (semikolonavgränsad)”: Windows-1252, `;`, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headings)
    writer.writerows(rows)
    return out.getvalue().encode("cp1252")


def code_of(name: str) -> str:
    return db.session.scalar(
        sa.select(Organisation.scb_code).where(
            Organisation.name == name, Organisation.kind == "municipality"
        )
    )


def first_cohort_rows() -> list[list]:
    """2017–2018: 18 organisations in 6 groups of three. Found by SCB code (one written as
    Excel writes a number, without its leading zero... none here start with 0), by name, and
    one new organisation with its kind. Arvika did not complete."""
    members = [*VARMLAND, "Falun", None]
    rows = []
    for n, name in enumerate(members):
        group = f"Grupp {n // 3 + 1}"
        if name is None:  # not in the register: added, with its kind
            rows.append(["Södra Dalarnas kommunförbund", None, "benchmarking", group, "ja", None,
                         "Kommunförbund"])  # fmt: skip
        elif n % 2:
            rows.append([None, int(code_of(name)), "benchmarking", group, "ja", None, None])
        else:
            done = "nej" if name == "Arvika" else "ja"
            reason = "Bytte politisk ledning" if done == "nej" else None
            rows.append([name, None, "Benchmarking", group, done, reason, None])
    return rows


def run_import(app, content: bytes, suffix: str, *args) -> object:
    path = app.config["MODELL_INSTANCE_DIR"] + f"/cohort.{suffix}"
    with open(path, "wb") as f:
        f.write(content)
    return app.test_cli_runner().invoke(args=["modell", "import-cohort", path, *args])


def test_two_cohorts_from_files_make_exactly_the_right_modellkommuner(app, tmp_path):
    with app.app_context():
        first = xlsx(first_cohort_rows())
    result = run_import(
        app, first, "xlsx",
        "--name", "Modellkommuner 2017–2018", "--template", "modellkommuner",
        "--starts", "2017-01-26", "--ends", "2018-03-15", "--concluded",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "18 organisationer i 6 grupper, 1 ny i registret" in result.output
    assert "Avslutad: 17 organisationer fullföljde den." in result.output
    with app.app_context():
        past = db.session.scalar(sa.select(Cohort).where(Cohort.name == "Modellkommuner 2017–2018"))
        assert (past.status, past.is_history) == ("concluded", True)
        assert (past.starts_on, past.ends_on) == (date(2017, 1, 26), date(2018, 3, 15))
        assert len(past.groups) == 6 and all(len(g.participations) == 3 for g in past.groups)
        outcome = {p.organisation.name: p.status for p in past.participations}
        assert outcome["Arvika"] == "not_completed" and outcome["Karlstad"] == "completed"
        assert outcome["Södra Dalarnas kommunförbund"] == "completed"

    # 2019–2020 from a Swedish Excel CSV, through the coordinator's page: mentors Karlstad
    # (completed 2017–2018) and Arvika (did not), Kil supporting Karlstad.
    second = excel_csv(
        [
            [SKANE[0], None, "benchmarking", "Syd 1", "ja", None, None],
            [SKANE[1], None, "benchmarking", "Syd 1", "ja", None, None],
            [SKANE[2], None, "benchmarking", "Syd 1", "ja", None, None],
            ["Karlstad", "1780", "mentor", "Syd 1", "ja", None, None],
            ["Kil", None, "stöd", "Syd 1", "ja", None, None],
            [SKANE[3], None, "benchmarking", "Syd 2", "ja", None, None],
            [SKANE[4], None, "benchmarking", "Syd 2", "ja", None, None],
            [SKANE[5], None, "benchmarking", "Syd 2", "ja", None, None],
            ["Arvika", None, "mentor", "Syd 2", "ja", None, None],
        ]
    )
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get("/omgangar/importera").get_data(True)
    with app.app_context():
        template_id = db.session.scalar(sa.select(Cohort.template_id).where(Cohort.id == past.id))
    details = {
        "name": "Modellkommuner 2019–2020",
        "template_id": str(template_id),
        "starts_on": "2019-02-07",
        "ends_on": "2020-03-12",
        "concluded": "y",
    }
    preview = client.post(
        "/omgangar/importera",
        data={**details, "csrf_token": csrf_from(page), "file": (io.BytesIO(second), "b.csv")},
        content_type="multipart/form-data",
    )
    html = preview.get_data(True)
    assert preview.status_code == 200 and "Importera den här omgången" in html
    assert "Syd 1" in html and "Syd 2" in html
    assert "Arvika har inte fullföljt en tidigare omgång som benchmarkingdeltagare" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort).where(
            Cohort.name == details["name"])) == 0  # fmt: skip
    content = html.split('name="content" type="hidden" value="')[1].split('"')[0]
    done = client.post(
        "/omgangar/importera",
        data={**details, "csrf_token": csrf_from(html), "content": content, "bekrafta": "1"},
    )
    assert done.status_code == 302, done.get_data(True)[:2000]

    with app.app_context():
        later = db.session.scalar(sa.select(Cohort).where(Cohort.name == details["name"]))
        assert later.status == "concluded"
        kil = next(p for p in later.participations if p.organisation.name == "Kil")
        assert kil.role == "support" and kil.supports.organisation.name == "Karlstad"
        expected = titled_by_the_rule()
    assert "Karlstad" in expected and "Arvika" not in expected

    exported = app.test_cli_runner().invoke(
        args=["modell", "export", "organisations", "--format", "csv"]
    )
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(exported.output.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Organisation", "SCB-kod", "Typ", "Län", "Titel", "Omgångar"]
    titled = {r[0]: r[4] for r in rows[1:] if r[4]}
    assert titled == expected
    karlstad = next(r for r in rows if r[0] == "Karlstad")
    assert karlstad[5] == (
        "Modellkommuner 2017–2018 (benchmarkingdeltagare, fullföljt); "
        "Modellkommuner 2019–2020 (mentor, fullföljt)"
    )
    names = [r[0] for r in rows[1:]]
    # Swedish order: case-insensitive, Å Ä Ö after Z.
    assert names.index("Ystad") < names.index("Årjäng") < names.index("Älvdalen")
    assert names.index("Älvdalen") < names.index("Örebro") < names.index("Östersund")
    # The same list from the organisation page, as a workbook.
    workbook = client.get("/omgangar/organisationer.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.data)).active
    assert {r[0]: r[4] for r in sheet.iter_rows(min_row=2, values_only=True) if r[4]} == expected


def titled_by_the_rule() -> dict[str, str]:
    """The organisations that completed a cohort as benchmarking participant and a later one
    as mentor, computed from the participations alone: {name: title}."""
    done = db.session.execute(
        sa.select(Participation.organisation_id, Participation.role, Cohort.starts_on)
        .join(Cohort, Participation.cohort_id == Cohort.id)
        .where(Participation.status == "completed")
    ).all()
    titled = {}
    for org_id, role, starts in done:
        if role != "mentor":
            continue
        if any(o == org_id and r == "benchmarking" and s < starts for o, r, s in done):
            org = db.session.get(Organisation, org_id)
            title = {"municipality": "Modellkommun", "region": "Modellregion"}.get(org.kind)
            if title:
                titled[org.name] = title
    return titled


def test_every_kind_of_row_error_is_listed_and_nothing_is_written(app):
    with app.app_context():
        for kind in ("municipality", "federation"):
            db.session.add(Organisation(name="Tvillingby", kind=kind, created_at=utcnow()))
        db.session.commit()
        before = counts()
    rows = [
        ["Arvika", None, "benchmarking", "A", "ja", None, None],  # 2: fine
        ["Atlantis", None, "benchmarking", "A", "ja", None, None],  # 3: unknown
        ["Tvillingby", None, "benchmarking", "A", "ja", None, None],  # 4: two of that name
        ["Arvika", None, "benchmarking", "B", "ja", None, None],  # 5: in two groups
        ["Eda", None, "stöd", "B", "ja", None, None],  # 6: support, no mentor in B
        ["Kil", None, "observatör", "B", "ja", None, None],  # 7: unknown role
        ["Sunne", None, "benchmarking", "B", "kanske", None, None],  # 8: not ja/nej
        ["Torsby", None, "benchmarking", "B", "nej", None, None],  # 9: no reason
        ["Grums", None, "benchmarking", "", "ja", None, None],  # 10: no group
        ["Ny stad", None, "benchmarking", "B", "ja", None, "Stadsstat"],  # 11: unknown kind
        ["Hagfors\x07", None, "benchmarking", "B", "ja", None, None],  # 12: control character
        [None, "9999", "benchmarking", "B", "ja", None, None],  # 13: no such SCB code
        ["Säffle", None, "benchmarking", "B", None, None, None],  # 14: completed? (concluded)
    ]
    content = excel_csv(rows)
    result = run_import(
        app, content, "csv", "--name", "Fel", "--template", "modellkommuner",
        "--starts", "2017-01-26", "--ends", "2018-03-15", "--concluded",
    )  # fmt: skip
    assert result.exit_code == 1
    out = result.output
    expected = {
        3: "Ingen organisation heter ”Atlantis”",
        4: "”Tvillingby” passar in på mer än en organisation",
        5: "Arvika är i två grupper (A och B)",
        6: "Eda stöder en mentor, men gruppen B har ingen",
        7: "Okänd roll ”observatör”",
        8: "Skriv ja eller nej, inte ”kanske”",
        9: "Ange varför den inte fullföljde",
        10: "Ange gruppen",
        11: "Okänd typ ”Stadsstat”",
        12: "Cellen innehåller kontrolltecken",
        13: "Ingen organisation har SCB-koden 9999",
        14: "Ange om organisationen fullföljde omgången",
    }
    for line, message in expected.items():
        assert f"Rad {line} " in out and message in out, (line, message, out)
    assert "Rad 2 " not in out
    assert "Inget importerades: 12 fel." in out and "line" not in out
    with app.app_context():
        assert counts() == before


def counts() -> tuple:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Cohort, Group, Participation, Organisation, OrganisationTitle)
    )


def test_a_cohort_recorded_as_history_has_no_meetings_and_sends_nothing(app):
    with app.app_context():
        content = xlsx(first_cohort_rows())
        outbox_before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    result = run_import(
        app, content, "xlsx", "--name", "Historik", "--template", "modellkommuner",
        "--starts", "2017-01-26", "--ends", "2018-03-15",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with app.app_context():
        cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == "Historik"))
        assert cohort.is_history and cohort.status == "running"
        meetings = db.session.scalars(sa.select(Meeting).where(Meeting.cohort_id == cohort.id))
        assert list(meetings) == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == (
            outbox_before
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ScheduledReminder)
                .join(Meeting)
                .where(Meeting.cohort_id == cohort.id)
            )
            == 0
        )
    client = app.test_client()
    login(client, DEMO["coordinator"])
    assert "Registrerad i efterhand" in client.get("/omgangar/").get_data(True)


def test_the_import_templates_have_the_headings_and_the_workbook_says_how_to_fill_it(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    response = client.get("/omgangar/importera/mall.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Omgång", "Instruktioner"]
    assert [c.value for c in book["Omgång"][1]] == HEADINGS
    assert book["Omgång"].max_row == 1  # an example row among the data would be imported
    guide = [[c.value for c in row] for row in book["Instruktioner"].iter_rows()]
    assert {row[0] for row in guide} >= set(HEADINGS)
    assert ["Hudiksvall", "2184", "benchmarking", "A", "ja", None, None] in guide
    csv_response = client.get("/omgangar/importera/mall.csv")
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response.data.decode("utf-8-sig").strip() == ";".join(HEADINGS)
    export = client.get("/omgangar/organisationer.csv")
    assert export.headers["Content-Type"].count("charset") == 1


def test_the_table_is_read_from_the_sheet_with_its_headings_whatever_comes_first(app):
    book = openpyxl.Workbook()
    book.active.title = "Läs mig"
    book.active.append(["Så här fyller du i filen"])
    book.active.append(["En rad per organisation"])
    data = book.create_sheet("Omgång")
    data.append(HEADINGS)
    for name in VARMLAND[:3]:
        data.append([name, None, "benchmarking", "A", "ja", None, None])
    data.append(["Region Värmland", None, "mentor", "A", "ja", None, None])
    out = io.BytesIO()
    book.save(out)
    args = ["--name", "Med instruktioner först", "--template", "modellkommuner",
            "--starts", "2019-01-24", "--ends", "2020-03-12", "--concluded"]  # fmt: skip
    result = run_import(app, out.getvalue(), "xlsx", *args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        cohort = db.session.scalar(
            sa.select(Cohort).where(Cohort.name == "Med instruktioner först")
        )
        assert len(cohort.participations) == 4


def test_formulas_without_a_saved_result_are_named_not_read_as_empty(app):
    """openpyxl, LibreOffice scripts and others can write a formula without its result; read
    as a value it would be an empty cell, silently."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADINGS)
    sheet.append(["Arvika", None, "benchmarking", "A", "ja", None, None])
    sheet.append(['=CONCAT("Ed","a")', None, "benchmarking", "A", "ja", None, None])
    sheet.append(["Region Värmland", None, "mentor", "A", '=IF(1,"ja","nej")', None, None])
    out = io.BytesIO()
    book.save(out)
    args = ["--name", "Formler", "--template", "modellkommuner",
            "--starts", "2019-01-24", "--ends", "2020-03-12", "--concluded"]  # fmt: skip
    result = run_import(app, out.getvalue(), "xlsx", *args)
    assert result.exit_code == 1
    assert "A3, E4" in result.output and "formler" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(Cohort).where(Cohort.name == "Formler")) is None


def test_organisations_are_listed_the_swedish_way_on_both_databases(app, ctx):
    from modell.core.collation import swedish

    db.session.add(
        Organisation(name="sdf Enskede-Årsta-Vantör", kind="district_administration",
                     created_at=utcnow())
    )  # fmt: skip
    db.session.flush()
    names = db.session.scalars(
        sa.select(Organisation.name).order_by(swedish(Organisation.name))
    ).all()
    at = names.index
    assert at("Ystad") < at("Årjäng") < at("Älvdalen") < at("Örebro")  # Å Ä Ö after Z
    assert at("Salem") < at("sdf Enskede-Årsta-Vantör") < at("Sigtuna")  # case-insensitive


def test_an_organisations_people_are_listed_the_swedish_way(app, ctx):
    from modell.organisations.models import Person

    org = Organisation(name="Sorteringsby", kind="other", created_at=utcnow())
    for name in ("Östen Öberg", "Zoe Zetterlund", "anna andersson", "Åsa Åkesson"):
        org.people.append(Person(name=name, function="other", created_at=utcnow()))
    db.session.add(org)
    db.session.commit()
    db.session.expire_all()
    org = db.session.get(Organisation, org.id)
    assert [p.name for p in org.people] == [
        "anna andersson",
        "Zoe Zetterlund",
        "Åsa Åkesson",
        "Östen Öberg",
    ]


def test_titles_come_whatever_order_history_is_imported_in(app):
    later = excel_csv(
        [
            [SKANE[0], None, "benchmarking", "Syd", "ja", None, None],
            [SKANE[1], None, "benchmarking", "Syd", "ja", None, None],
            ["Karlstad", "1780", "mentor", "Syd", "ja", None, None],
        ]
    )
    result = run_import(
        app, later, "csv", "--name", "Senare", "--template", "modellkommuner",
        "--starts", "2019-02-07", "--ends", "2020-03-12", "--concluded",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with app.app_context():
        earlier = xlsx(first_cohort_rows())
    result = run_import(
        app, earlier, "xlsx", "--name", "Tidigare", "--template", "modellkommuner",
        "--starts", "2017-01-26", "--ends", "2018-03-15", "--concluded",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with app.app_context():
        expected = titled_by_the_rule()
        karlstad = db.session.scalar(
            sa.select(OrganisationTitle).join(Organisation).where(Organisation.name == "Karlstad")
        )
        assert db.session.get(Cohort, karlstad.cohort_id).name == "Senare"
        titles = {
            org: title
            for org, title in db.session.execute(
                sa.select(Organisation.name, OrganisationTitle.title).join(OrganisationTitle)
            )
        }
    assert {name: t.title() for name, t in titles.items()} == expected


def test_the_same_history_is_not_imported_twice_and_odd_files_are_named_for_what_they_are(app):
    with app.app_context():
        content = xlsx(first_cohort_rows())
    args = ["--name", "En gång", "--template", "modellkommuner", "--starts", "2017-01-26",
            "--ends", "2018-03-15", "--concluded"]  # fmt: skip
    assert run_import(app, content, "xlsx", *args).exit_code == 0
    again = run_import(app, content, "xlsx", *args)
    assert again.exit_code == 1 and "En omgång heter redan En gång" in again.output
    headings_only = run_import(app, excel_csv([]), "csv", *args[:1], "Tom", *args[2:])
    assert "Filen har sina rubriker men inga rader" in headings_only.output
    pdf = run_import(app, b"%PDF-1.4 ...", "xlsx", *args[:1], "Pdf", *args[2:])
    assert "Det här är en PDF" in pdf.output
    typo = run_import(
        app,
        excel_csv([["Nyby", None, "benchmarking", "A", "ja", None, "Kommunförbunt"]]),
        "csv",
        *args[:1],
        "Typo",
        *args[2:],
    )
    assert "Okänd typ" in typo.output and "Ingen organisation heter" not in typo.output
