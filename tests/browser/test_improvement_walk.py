"""In a real browser, the improvement work between the meetings of the 2019 demo cohort:
Botkyrka's strategist records the baseline, adds improvement work and writes entries at
steps 1 and 3, imports indicator values from a Swedish-Excel CSV (a bad file is refused
with its row errors and nothing is written) and sees them beside Västerås's for the group's
shared indicator. Uppsala's mentor logs a session. The coordinator approves the proposed
good example, opens the cohort overview and the "På gång" digest, and downloads the overview
as XLSX, which openpyxl opens with Botkyrka's row in it."""

import io
import re
from datetime import UTC, datetime

import openpyxl
import sqlalchemy as sa
from playwright.sync_api import expect

from modell.cohorts.models import Participation
from modell.demo import DEMO_PASSWORD
from modell.extensions import db
from modell.improvements import indicators
from modell.improvements.models import Baseline, Indicator, IndicatorValue, LogEntry
from modell.organisations.models import Organisation
from tests.browser.conftest import _page, assert_accessible, log_in
from tests.conftest import DEMO
from tests.test_meetings import START, start_demo

SHARED = "Beviljade hemtjänsttimmar per månad"
BAD_CSV = "Period;Kvinnor;Män;Totalt\r\n2018;31,5;många;\r\n;30;36;66\r\n".encode("cp1252")
GOOD_CSV = "Period;Kvinnor;Män;Totalt\r\n2018;31,5;38;69,5\r\n2019;33,6;34,2;67,8\r\n".encode(
    "cp1252"
)


def _prepare(app) -> tuple[int, int]:
    """The cohort has started; the group agreed on a shared indicator and Västerås has
    entered its values (through the services, as Västerås's own clicks would)."""
    with app.app_context():
        cohort = start_demo()
        botkyrka = db.session.scalar(
            sa.select(Participation)
            .join(Organisation)
            .where(Participation.cohort_id == cohort.id, Organisation.name == "Botkyrka")
        )
        group = botkyrka.group
        shared = indicators.create_shared(
            db.session,
            group,
            indicators.IndicatorData(SHARED, "timmar"),
            now=START,
            user_id=None,
        )
        vasteras = next(
            p.organisation for p in group.participations if p.organisation.name == "Västerås"
        )
        theirs = indicators.own_for_shared(db.session, shared, vasteras, now=START, user_id=None)
        for period, women, men in (("2018", 29.0, 35.5), ("2019", 30.2, 33.0)):
            indicators.save_value(
                db.session,
                theirs,
                period=period,
                women=women,
                men=men,
                total=None,
                now=START,
                user_id=None,
            )
        db.session.commit()
        return botkyrka.id, group.id


def _as(chromium, server, email):
    context, page = _page(chromium, server)
    log_in(page, email, DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hej ")
    return context, page


def test_improvement_work_from_baseline_to_the_coordinators_export(chromium, live_server, app):
    participation_id, group_id = _prepare(app)
    moment = datetime(2019, 5, 20, 9, tzinfo=UTC)
    app.config["CLOCK"] = lambda: moment
    contexts = []

    # --- the participant -------------------------------------------------------------------
    context, me = _as(chromium, live_server, DEMO["participant"])
    contexts.append(context)
    me.get_by_role("link", name="Förbättringsarbete").first.click()
    me.get_by_role("link", name="Modellkommuner 2019").or_(
        me.get_by_role("link", name="Botkyrka")
    ).first.click()
    expect(me.get_by_role("heading", level=1)).to_contain_text("Botkyrka")
    workspace = me.url

    me.get_by_role("link", name="Registrera utgångsläget").click()
    me.get_by_label("Det politiska uppdraget").fill(
        "Kommunfullmäktige undertecknade CEMR-deklarationen."
    )
    me.get_by_label("Datum för beslutet").fill("2015-06-11")
    me.get_by_label("Vem som är ansvarig").fill("Kommundirektören och jämställdhetsstrategen")
    me.get_by_label("Demografi").fill("94 000 invånare, ungefär lika många kvinnor som män.")
    me.get_by_role("checkbox", name="Politiker").check()
    me.get_by_role("checkbox", name="Strateg").check()
    assert_accessible(me)
    me.get_by_role("button", name="Spara utgångsläget").click()
    expect(me).to_have_url(workspace)
    expect(me.get_by_text("CEMR-deklarationen")).to_be_visible()

    me.get_by_role("link", name="Lägg till förbättringsarbete").click()
    me.get_by_label("Titel").fill("Likvärdig biståndsbedömning i hemtjänsten")
    me.get_by_label("Ojämställdheten som arbetet gäller").fill(
        "Kvinnor beviljas färre timmar än män med liknande behov."
    )
    me.get_by_label("Kärnverksamhet").fill("Hemtjänst")
    me.get_by_role("checkbox", name="Kvinnor och män").check()
    me.get_by_label("Status").select_option(label="Pågår")
    assert_accessible(me)
    me.get_by_role("button", name="Spara arbetet").click()
    expect(
        me.get_by_role("heading", name="Likvärdig biståndsbedömning i hemtjänsten")
    ).to_be_visible()

    def write_entry(day, text, step):
        me.goto(workspace)
        me.get_by_role("link", name="Skriv i loggen").first.click()
        me.get_by_label("Datum").fill(day)
        me.get_by_label("Vad som gjordes").fill(text)
        me.get_by_role("radio", name=step).check()
        return me

    write_entry("2019-03-01", "Kartlade beviljade timmar per kön.", "1 Aktivitet")
    assert_accessible(me)
    me.get_by_role("button", name="Spara anteckningen").click()
    expect(me.get_by_text("1 mars 2019 (Före träff 1)")).to_be_visible()
    write_entry(
        "2019-05-15",
        "Alla handläggare bedömer nu behov med samma rutin.",
        "3 Nytt eller ändrat arbetssätt",
    )
    me.get_by_role("checkbox", name="Ett nytt eller ändrat arbetssätt i en kärnverksamhet").check()
    me.get_by_role("button", name="Spara anteckningen").click()
    me.goto(workspace)
    log = me.get_by_role("row")
    expect(log.filter(has_text="Före träff 1").filter(has_text="1 Aktivitet")).to_have_count(1)
    expect(
        log.filter(has_text="Mellan träff 1 och 2").filter(has_text="3 Nytt eller ändrat")
    ).to_have_count(1)
    assert_accessible(me)

    # The step-3 entry is proposed as a good example.
    log.filter(has_text="Mellan träff 1 och 2").get_by_role("link").first.click()
    me.get_by_role("button", name="Föreslå som gott exempel").click()
    expect(me.get_by_role("status")).to_contain_text("föreslagen som gott exempel")

    # --- indicators: the group's shared one, filled from a Swedish-Excel file ---------------
    me.goto(f"/arbete/grupp/{group_id}/indikatorer")
    me.get_by_role("button", name="Lägg in värden för Botkyrka").click()
    me.get_by_role("link", name="Importera värden från en CSV-fil").click()
    me.get_by_label("CSV-fil").set_input_files(
        files=[{"name": "fel.csv", "mimeType": "text/csv", "buffer": BAD_CSV}]
    )
    me.get_by_role("button", name="Kontrollera filen").click()
    errors = me.locator("#import-errors")
    expect(errors).to_contain_text("Rad 2, Män")
    expect(errors).to_contain_text("Rad 3, Period")
    expect(me).to_have_title(re.compile(r"^Fel: "))
    expect(errors).to_be_focused()
    assert_accessible(me)
    with app.app_context():
        own = db.session.scalar(
            sa.select(Indicator)
            .join(Organisation)
            .where(Organisation.name == "Botkyrka", Indicator.name == SHARED)
        )
        assert own is not None and own.values == []  # refused whole: nothing written

    me.get_by_label("CSV-fil").set_input_files(
        files=[{"name": "hemtjanst.csv", "mimeType": "text/csv", "buffer": GOOD_CSV}]
    )
    me.get_by_role("button", name="Kontrollera filen").click()
    expect(me.get_by_text("2 perioder att importera")).to_be_visible()
    me.get_by_role("button", name="Importera de här värdena").click()
    expect(me.get_by_role("cell", name="33,6")).to_be_visible()

    me.goto(f"/arbete/grupp/{group_id}/indikatorer")
    table = me.get_by_role("table")
    expect(
        table.get_by_role("row").filter(has_text="Botkyrka").filter(has_text="31,5")
    ).to_have_count(1)
    expect(
        table.get_by_role("row").filter(has_text="Västerås").filter(has_text="29")
    ).to_have_count(1)
    expect(me.get_by_role("img", name=f"{SHARED} i gruppen, per organisation")).to_be_visible()
    assert_accessible(me)

    # --- the mentor ------------------------------------------------------------------------
    context, mentor = _as(chromium, live_server, DEMO["mentor"])
    contexts.append(context)
    mentor.goto(f"/arbete/grupp/{group_id}")
    mentor.get_by_role("link", name="Logga ett mentorsmöte").click()
    mentor.get_by_label("Datum").fill("2019-05-16")
    mentor.get_by_role("checkbox", name="Botkyrka").check()
    mentor.get_by_role("checkbox", name="Västerås").check()
    mentor.get_by_label("Ämnen").fill("Från kartläggning till nytt arbetssätt")
    mentor.get_by_label("Råd som gavs").fill("Pröva rutinen i en grupp först.")
    assert_accessible(mentor)
    mentor.get_by_role("button", name="Logga mötet").click()
    expect(mentor.get_by_text("Från kartläggning till nytt arbetssätt")).to_be_visible()

    # --- the coordinator -------------------------------------------------------------------
    context, skr = _as(chromium, live_server, DEMO["coordinator"])
    contexts.append(context)
    skr.goto("/arbete/")
    waiting = skr.get_by_role("region", name="Goda exempel som väntar på ditt beslut")
    waiting.get_by_role("link").filter(has_text="Botkyrka").click()
    skr.get_by_role("button", name="Godkänn som gott exempel").click()
    expect(skr.get_by_text("Gott exempel", exact=True).first).to_be_visible()
    with app.app_context():
        step3 = db.session.scalar(
            sa.select(LogEntry).where(LogEntry.text.startswith("Alla handläggare"))
        )
        assert step3.good_example == "approved"

    cohort_id = _cohort_id(app, participation_id)
    skr.goto(f"/arbete/omgang/{cohort_id}/oversikt")
    row = skr.get_by_role("row").filter(has=skr.get_by_role("rowheader", name="Botkyrka"))
    cells = row.get_by_role("cell")
    expect(cells.nth(1)).to_have_text("1")  # one entry at step 1
    expect(cells.nth(2)).to_have_text("0")
    expect(cells.nth(3)).to_have_text("1")  # one at step 3
    expect(cells.nth(5)).to_have_text("1 / 4")  # a new way of working in a core activity
    assert_accessible(skr)
    skr.goto(f"/arbete/omgang/{cohort_id}/pa-gang?fran=2019-05-01&till=2019-05-31")
    expect(skr.get_by_text("Alla handläggare bedömer nu behov med samma rutin.")).to_be_visible()
    assert_accessible(skr)

    skr.goto(f"/arbete/omgang/{cohort_id}/oversikt")
    with skr.expect_download() as download:
        skr.get_by_role("link", name="översikten (Excel)").click()
    with open(download.value.path(), "rb") as f:  # a download has no .xlsx suffix
        book = openpyxl.load_workbook(io.BytesIO(f.read()))
    heading, *rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    (botkyrka_row,) = [r for r in rows if r[0] == "Botkyrka"]
    record = dict(zip(heading, botkyrka_row, strict=True))
    assert record["Högsta steg"] == 3  # a real number, not text
    assert record["Grupp"] == "Botkyrka, Västerås"
    assert isinstance(record["Senaste anteckning"], datetime)  # a real date cell
    for c in contexts:
        c.close()

    with app.app_context():
        assert db.session.scalar(
            sa.select(Baseline).where(Baseline.participation_id == participation_id)
        ).mandate_decision.startswith("Kommunfullmäktige")
        values = db.session.scalars(
            sa.select(IndicatorValue)
            .join(Indicator)
            .join(Organisation)
            .where(Organisation.name == "Botkyrka")
        ).all()
        assert sorted(v.period for v in values) == ["2018", "2019"]


def _cohort_id(app, participation_id: int) -> int:
    with app.app_context():
        return db.session.get(Participation, participation_id).cohort_id
