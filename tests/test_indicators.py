"""Indicators as users meet them: values typed the Swedish way, the gap between women and
men, a chart that reads without colour, the CSV import that shows before it writes, and the
group's shared indicators side by side in a constant number of queries."""

import io
import math

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from modell.cohorts.models import Participation
from modell.core.errors import RuleViolation
from modell.extensions import db
from modell.improvements import indicators as rules
from modell.improvements.models import Indicator, IndicatorValue
from modell.organisations.models import Organisation
from tests.conftest import DEMO, csrf_from, login, post_form
from tests.test_meetings import START, start_demo

SWEDISH_EXCEL = "Period;Kvinnor;Män;Totalt\r\n2019;28,5;24;52,5\r\n2020;1 026;25,5;51,5\r\n"


def _botkyrka(app):
    with app.app_context():
        cohort = start_demo()
        participation = db.session.scalar(
            sa.select(Participation)
            .join(Organisation)
            .where(Participation.cohort_id == cohort.id, Organisation.name == "Botkyrka")
        )
        indicator = rules.create_indicator(
            db.session,
            participation.organisation,
            rules.IndicatorData("Beviljade timmar", "timmar"),
            now=START,
            user_id=None,
        )
        db.session.commit()
        return participation.id, participation.group_id, indicator.id


def _count(app) -> int:
    """Botkyrka's indicator values (the running demo cohort has values of its own)."""
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(IndicatorValue)
            .join(Indicator)
            .join(Organisation)
            .where(Organisation.name == "Botkyrka")
        )


def test_values_are_typed_the_swedish_way_and_the_gap_is_shown(app):
    pid, _gid, iid = _botkyrka(app)
    client = app.test_client()
    login(client, DEMO["participant"])
    url = f"/arbete/{pid}/indikatorer/{iid}"
    response = post_form(
        client, url + "/varde", {"period": "2019", "women": "30,5", "men": "1 022"}, url
    )
    assert response.status_code == 302
    html = client.get(url).get_data(True)
    assert "30,5" in html and "−991,5" in html or "-991,5" in html  # women − men
    refused = post_form(client, url + "/varde", {"period": "2020", "women": "trettio"}, url)
    assert refused.status_code == 400 and 'id="women-error"' in refused.get_data(True)
    assert _count(app) == 1


def test_the_chart_tells_women_and_men_apart_without_colour(app, ctx):
    chart = rules.chart([("Kvinnor", {"2019": 3.0, "2020": 4.0}), ("Män", {"2019": 2.0})], str)
    women, men = chart.series
    assert women.marker != men.marker and women.dash != men.dash
    assert chart.periods == ["2019", "2020"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 3)),
        min_size=1,
        max_size=6,
    )
)
def test_the_chart_axis_is_ticked_at_round_numbers_that_hold_every_value(values):
    chart = rules.chart([("Totalt", {str(2015 + n): v for n, v in enumerate(values)})], repr)
    labels = [float(label) for _y, label in chart.ticks]
    step = labels[1] - labels[0]
    assert 3 <= len(labels) - 1 <= 6
    assert labels[0] <= min(0.0, *values) and labels[-1] >= max(values)
    # A step of 1, 2, 2.5 or 5 times a power of ten, every tick a whole number of steps.
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5, 10))
    assert all(math.isclose(v / step, round(v / step), abs_tol=1e-6) for v in labels)
    # No floating-point dust in what is printed ("0.30000000000000004").
    assert all(len(label) <= 12 for _y, label in chart.ticks)


def test_a_csv_file_is_shown_before_anything_is_written_and_a_bad_one_is_refused_whole(app):
    pid, _gid, iid = _botkyrka(app)
    client = app.test_client()
    login(client, DEMO["participant"])
    url = f"/arbete/{pid}/indikatorer/{iid}/import"
    token = csrf_from(client.get(url).get_data(True))
    bad = "Period;Kvinnor;Män\r\n2019;28,5;många\r\n;1;2\r\n".encode("cp1252")
    refused = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(bad), "fel.csv")},
        content_type="multipart/form-data",
    )
    html = refused.get_data(True)
    assert refused.status_code == 400 and "Rad 2, Män" in html and "Rad 3, Period" in html
    assert _count(app) == 0
    preview = client.post(
        url,
        data={
            "csrf_token": token,
            "file": (io.BytesIO(SWEDISH_EXCEL.encode("cp1252")), "hemtjanst.csv"),
        },
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200 and "2 perioder att importera" in preview.get_data(True)
    assert _count(app) == 0  # seen, not yet written
    content = preview.get_data(True).split('name="content" type="hidden" value="')[1].split('"')[0]
    done = client.post(url, data={"csrf_token": token, "content": content, "bekrafta": "1"})
    assert done.status_code == 302
    with app.app_context():
        values = {
            v.period: (v.women, v.men)
            for v in db.session.scalars(
                sa.select(IndicatorValue).where(IndicatorValue.indicator_id == iid)
            )
        }
    assert values == {"2019": (28.5, 24.0), "2020": (1026.0, 25.5)}


def test_an_organisation_cannot_have_two_indicators_of_one_name(app, ctx):
    org = db.session.scalar(sa.select(Organisation).where(Organisation.scb_code == "0127"))
    rules.create_indicator(db.session, org, rules.IndicatorData("Timmar"), now=START, user_id=None)
    with pytest.raises(RuleViolation) as refused:
        rules.create_indicator(
            db.session, org, rules.IndicatorData("TIMMAR"), now=START, user_id=None
        )
    assert refused.value.field == "name"


def test_a_shared_indicator_shows_every_organisation_of_the_group_side_by_side(app):
    pid, gid, _iid = _botkyrka(app)
    client = app.test_client()
    login(client, DEMO["participant"])
    url = f"/arbete/grupp/{gid}/indikatorer"
    created = post_form(
        client, url, {"name": "Andel med hemtjänst", "unit": "procent", "population": "adults"}
    )
    assert created.status_code == 302
    shared_page = created.headers["Location"]
    shared_id = int(shared_page.rsplit("=", 1)[1])
    own = post_form(client, f"{url}/{shared_id}/vara-varden", {}, shared_page)
    own_page = own.headers["Location"]
    post_form(client, own_page + "/varde", {"period": "2019", "women": "5,5", "men": "4"}, own_page)
    with app.app_context():
        vasteras = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Västerås"))
        theirs = rules.own_for_shared(
            db.session,
            rules.shared_of(db.session, db.session.get(Participation, pid).group)[0],
            vasteras,
            now=START,
            user_id=None,
        )
        rules.save_value(
            db.session,
            theirs,
            period="2019",
            women=7.0,
            men=6.5,
            total=None,
            now=START,
            user_id=None,
        )
        db.session.commit()
    html = client.get(f"{url}?indikator={shared_id}").get_data(True)
    assert "Botkyrka" in html and "Västerås" in html and "5,5" in html and "6,5" in html
    assert "<svg" in html
    mentor = app.test_client()
    login(mentor, DEMO["mentor"])
    assert mentor.get(f"{url}?indikator={shared_id}").status_code == 200


def test_the_benchmarking_view_costs_the_same_queries_for_2_and_20_organisations(app, ctx):
    cohort = start_demo()
    group = cohort.groups[0]
    shared = rules.create_shared(
        db.session, group, rules.IndicatorData("Andel"), now=START, user_id=None
    )
    orgs = db.session.scalars(sa.select(Organisation).order_by(Organisation.id).limit(20)).all()
    for org in orgs:
        own = rules.own_for_shared(db.session, shared, org, now=START, user_id=None)
        for year in ("2018", "2019", "2020"):
            rules.save_value(
                db.session, own, period=year, women=1.0, men=2.0, total=3.0, now=START, user_id=None
            )
    db.session.commit()
    orgs = db.session.scalars(sa.select(Organisation).order_by(Organisation.id).limit(20)).all()
    db.session.refresh(shared)  # loaded, as the page has it

    def queries(organisations):
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            result = rules.benchmark(db.session, shared, organisations)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen), result

    few, small = queries(orgs[:2])
    many, large = queries(orgs)
    assert few == many == 2  # the indicators, then their values
    assert len(large[orgs[-1].id]) == 3 and len(small) == 2


def test_the_benchmarking_view_shows_the_latest_twelve_periods_until_all_are_asked_for(app):
    """Monthly figures over years: the table and the chart show the latest twelve periods
    that any organisation of the group has, and every one of them on request."""
    with app.app_context():
        cohort = start_demo()
        group = next(g for g in cohort.groups if "Botkyrka" in g.name)
        shared = rules.create_shared(
            db.session, group, rules.IndicatorData("Andel"), now=START, user_id=None
        )
        members = [p.organisation for p in group.participations if p.role == "benchmarking"]
        months = [f"2018-{m:02d}" for m in range(1, 13)] + ["2019-01", "2019-02"]
        for n, org in enumerate(members[:2]):
            own = rules.own_for_shared(db.session, shared, org, now=START, user_id=None)
            # The second organisation's figures end a month earlier: the periods shown are
            # the group's latest, not each organisation's own.
            for month in months[: len(months) - n]:
                rules.save_value(
                    db.session, own, period=month, women=1.0, men=2.0, total=3.0,
                    now=START, user_id=None,
                )  # fmt: skip
        db.session.commit()
        url = f"/arbete/grupp/{group.id}/indikatorer?indikator={shared.id}"
    client = app.test_client()
    login(client, DEMO["coordinator"])
    latest = client.get(url).get_data(True)
    assert [m for m in months if f"<td>{m}</td>" in latest] == months[2:]
    assert "De senaste 12 av 14 perioderna." in latest and "alla=1" in latest
    everything = client.get(url + "&alla=1").get_data(True)
    assert [m for m in months if f"<td>{m}</td>" in everything] == months
    assert "Alla 14 perioder." in everything


def test_the_chart_names_only_as_many_periods_as_fit_under_it_first_and_last_always():
    months = [f"{y}-{m:02d}" for y in range(2016, 2026) for m in range(1, 13)]
    lines = [("Kvinnor", {p: float(n) for n, p in enumerate(months)})]
    chart = rules.chart(lines, str)
    named = [label for _x, label in chart.x_labels]
    assert named[0] == "2016-01" and named[-1] == "2025-12" and 2 < len(named) <= 8
    xs = [x for x, _label in chart.x_labels]
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= 49  # no two overlap
    years = [("Män", {str(y): 1.0 for y in range(2019, 2025)})]
    assert [label for _x, label in rules.chart(years, str).x_labels] == [
        str(y) for y in range(2019, 2025)
    ]
    assert len(chart.series[0].points) == len(months)  # every period is still drawn
