"""The lists people work with can be searched, filtered, sorted and paged: registrations,
organisations, the outbox."""

import re

import sqlalchemy as sa

from modell.cohorts import registrations
from modell.cohorts.models import Cohort
from modell.core.models import OutboxMessage
from modell.core.types import utcnow
from modell.extensions import db
from modell.organisations.models import Organisation
from tests.conftest import DEMO, login
from tests.test_cohort_pages import NOW, fixed_clock, open_cohort
from tests.test_cohorts import registration_data


def names_in_table(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<a href="/(?:omgangar/anmalningar|organisationer)/\d+">([^<]+)</a>', body)


def test_registrations_are_searched_filtered_and_sorted(app):
    fixed_clock(app)
    cohort_id = open_cohort(app)
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        for name in ("Kumla", "Hallsberg", "Örebro", "Askersund"):
            org = db.session.scalar(
                sa.select(Organisation).where(
                    Organisation.name == name, Organisation.kind == "municipality"
                )
            )
            registration = registrations.submit_registration(
                db.session, cohort, org, registration_data(), now=NOW, user_id=None
            )
        registrations.decide_registration(
            db.session, registration, accept=False, reason="Inget beslut", now=NOW, user_id=None
        )
        db.session.commit()
        all_names = ["Kumla", "Hallsberg", "Örebro", "Askersund"]
        status, of_status = "declined", ["Askersund"]
    client = app.test_client()
    login(client, DEMO["coordinator"])
    url = f"/omgangar/{cohort_id}/anmalningar"
    listed = names_in_table(client.get(url).get_data(True))
    assert listed == ["Askersund", "Hallsberg", "Kumla", "Örebro"]  # the Swedish way
    one = all_names[0]
    found = names_in_table(client.get(url, query_string={"q": one.lower()}).get_data(True))
    assert one in found and len(found) < len(all_names)
    filtered = names_in_table(client.get(url, query_string={"status": status}).get_data(True))
    assert sorted(filtered) == of_status
    by_received = names_in_table(
        client.get(url, query_string={"sortera": "received"}).get_data(True)
    )
    assert sorted(by_received) == sorted(listed)


def test_the_outbox_is_searched_by_recipient_or_subject_and_ordered(app):
    with app.app_context():
        now = utcnow()
        for n, to in enumerate(("anna@a.example.org", "bo@b.example.org", "anna@c.example.org")):
            db.session.add(OutboxMessage(kind="reminder", recipient=to, subject=f"Påminnelse {n}",
                                         body_text="x", created_at=now, status="sent"))  # fmt: skip
        db.session.commit()
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get("/utkorg", query_string={"q": "anna@"}).get_data(True)
    assert "anna@a.example.org" in page and "anna@c.example.org" in page
    assert "bo@b.example.org" not in page
    newest = client.get("/utkorg", query_string={"q": "Påminnelse"}).get_data(True)
    oldest = client.get("/utkorg", query_string={"q": "Påminnelse", "ordning": "aldst"}).get_data(
        True
    )
    assert newest.index("Påminnelse 2") < newest.index("Påminnelse 0")
    assert oldest.index("Påminnelse 0") < oldest.index("Påminnelse 2")


def test_organisations_sort_by_county(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get("/organisationer/", query_string={"sortera": "lan"}).get_data(True)
    first = names_in_table(page)[:3]
    assert first and all(name for name in first)
    # Blekinge län comes first of the counties: its municipalities lead the list.
    assert "Karlshamn" in first or "Karlskrona" in first or "Olofström" in first


def test_people_are_searched_filtered_sorted_and_shown_to_staff_only(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get("/organisationer/personer", query_string={"q": "botkyrka"}).get_data(True)
    assert "strateg@botkyrka.example.org" in page and "mentor@uppsala.example.org" not in page
    strategists = client.get(
        "/organisationer/personer", query_string={"funktion": "strategist"}
    ).get_data(True)
    body = strategists.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "Strateg" in body and ">Politiker<" not in body
    member = app.test_client()
    login(member, DEMO["participant"])
    assert member.get("/organisationer/personer").status_code == 403
