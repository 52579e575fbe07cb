"""The cohort pages as users meet them: bad input, two coordinators at once, who sees what."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from modell.cohorts import registrations, services
from modell.cohorts.models import Cohort, Group, InterestRegistration, ProgrammeTemplate
from modell.core import dates
from modell.extensions import db
from modell.meetings.models import Meeting
from modell.organisations.models import Organisation
from tests.conftest import DEMO, csrf_from, login, post_form
from tests.test_cohorts import registration_data

NOW = datetime(2019, 10, 1, 9, tzinfo=UTC)


def version_in(page: str) -> str:
    return page.split('name="version" type="hidden" value="')[1].split('"')[0]


def fixed_clock(app, moment=NOW):
    app.config["CLOCK"] = lambda: moment


def open_cohort(app) -> int:
    with app.app_context():
        cohort = services.create_cohort(
            db.session,
            now=NOW,
            user_id=None,
            name="Modellkommuner 2020",
            template=services.current_template(db.session, "modellkommuner"),
            registration_deadline=date(2019, 10, 30),
            starts_on=date(2020, 2, 6),
        )
        db.session.flush()
        services.change_status(db.session, cohort, "open", now=NOW, user_id=None)
        db.session.commit()
        return cohort.id


def org_id(app, name, kind="municipality"):
    with app.app_context():
        return db.session.scalar(
            sa.select(Organisation.id).where(Organisation.name == name, Organisation.kind == kind)
        )


def demo_cohort_id(app):
    with app.app_context():
        return db.session.scalar(sa.select(Cohort.id).where(Cohort.name == "Modellkommuner 2019"))


FULL_REGISTRATION = {
    "decision_date": "2019-05-20",
    "decision_body": "Kommunfullmäktige",
    "politician_name": "Pia",
    "politician_email": "pia@example.org",
    "manager_name": "Max",
    "manager_email": "max@example.org",
    "strategist_name": "Sam",
    "strategist_email": "sam@example.org",
    "themes": "Hemtjänst",
    "mentor_commitment": "y",
    "fee_payer": "own",
}


def test_a_member_registers_its_own_organisation_and_bad_input_is_kept_beside_the_fields(app):
    fixed_clock(app)
    cohort_id = open_cohort(app)
    client = app.test_client()
    login(client, DEMO["participant"])  # Botkyrka's strategist
    url = f"/omgangar/{cohort_id}/anmal"
    page = client.get(url).get_data(True)
    assert 'id="organisation"' not in page  # a member registers its own organisation

    bad = {**FULL_REGISTRATION, "politician_email": "not-an-address", "mentor_commitment": ""}
    response = post_form(client, url, bad)
    html = response.get_data(True)
    assert response.status_code == 200
    assert 'id="politician_email-error"' in html and 'id="mentor_commitment-error"' in html
    assert 'value="not-an-address"' in html and "Hemtjänst" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InterestRegistration)) == 0

    response = post_form(client, url, FULL_REGISTRATION)
    assert response.status_code == 302
    with app.app_context():
        (registration,) = db.session.scalars(sa.select(InterestRegistration)).all()
        assert registration.organisation.name == "Botkyrka"
        assert {c.function for c in registration.contacts} == {
            "politician",
            "manager",
            "strategist",
        }
    # A second visit shows the registration instead of a new form.
    assert client.get(url).headers["Location"].endswith(f"/omgangar/anmalningar/{registration.id}")
    # Before the deadline and the decision the organisation corrects it; the form starts
    # from what it sent.
    edit_url = f"/omgangar/anmalningar/{registration.id}/andra"
    page = client.get(edit_url).get_data(True)
    assert 'value="pia@example.org"' in page and "Hemtjänst" in page
    response = post_form(client, edit_url, {**FULL_REGISTRATION, "themes": "Äldreomsorg"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(InterestRegistration, registration.id).themes == "Äldreomsorg"


def test_after_the_deadline_the_form_is_closed(app):
    fixed_clock(app)
    cohort_id = open_cohort(app)
    fixed_clock(app, datetime(2019, 10, 31, 8, tzinfo=UTC))
    client = app.test_client()
    login(client, DEMO["participant"])
    response = client.get(f"/omgangar/{cohort_id}/anmal", follow_redirects=True)
    assert "Intresseanmälan till den här omgången är stängd." in response.get_data(True)


def test_declining_without_a_reason_is_refused_beside_the_reason_field(app):
    fixed_clock(app)
    cohort_id = open_cohort(app)
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        r = registrations.submit_registration(
            db.session,
            cohort,
            db.session.get(Organisation, org_id(app, "Kumla")),
            registration_data(),
            now=NOW,
            user_id=None,
        )
        db.session.commit()
        rid = r.id
    client = app.test_client()
    login(client, DEMO["coordinator"])
    response = post_form(client, f"/omgangar/anmalningar/{rid}", {"decision": "decline"})
    assert 'id="reason-error"' in response.get_data(True)
    response = post_form(
        client,
        f"/omgangar/anmalningar/{rid}",
        {"decision": "decline", "reason": "Inget politiskt beslut."},
    )
    assert response.status_code == 302
    with app.app_context():
        r = db.session.get(InterestRegistration, rid)
        assert (r.status, r.decision_reason) == ("declined", "Inget politiskt beslut.")


def test_the_second_of_two_coordinators_is_told_and_keeps_what_they_wrote(app):
    cohort_id = demo_cohort_id(app)
    with app.app_context():
        group = db.session.scalars(
            sa.select(Group).where(Group.cohort_id == cohort_id).order_by(Group.position)
        ).first()
        gid = group.id
        bench = [p.organisation_id for p in group.members("benchmarking")]
    first, second = app.test_client(), app.test_client()
    login(first, DEMO["coordinator"])
    login(second, DEMO["admin"])
    url = f"/omgangar/grupper/{gid}/andra"
    page_first = first.get(url).get_data(True)
    page_second = second.get(url).get_data(True)

    def post(client, page, **data):
        version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
        return client.post(
            url,
            data={
                "csrf_token": csrf_from(page),
                "version": version,
                "benchmarking": bench,
                "basis": "geography",
                "other_mentors_1": "Hedemora",
                **data,
            },
        )

    assert post(first, page_first, exception_reason="Ny motivering.").status_code == 302
    response = post(second, page_second, name="Bergslagen", exception_reason="Min motivering.")
    html = response.get_data(True)
    assert response.status_code == 200
    assert "Någon annan ändrade detta medan du redigerade." in html
    assert 'value="Bergslagen"' in html and "Min motivering." in html
    with app.app_context():
        group = db.session.get(Group, gid)
        assert group.exception_reason == "Ny motivering." and group.name != "Bergslagen"


def test_a_group_outside_the_rules_shows_the_warnings_and_is_not_saved_without_a_reason(app):
    cohort_id = demo_cohort_id(app)
    with app.app_context():
        group = db.session.scalars(
            sa.select(Group).where(Group.cohort_id == cohort_id).order_by(Group.position)
        ).first()
        gid, askersund = group.id, group.members("benchmarking")[0].organisation_id
        name_before = group.name
    client = app.test_client()
    login(client, DEMO["coordinator"])
    url = f"/omgangar/grupper/{gid}/andra"
    version = version_in(client.get(url).get_data(True))
    response = post_form(
        client,
        url,
        {
            "benchmarking": [askersund],
            "basis": "geography",
            "other_mentors_1": "Hedemora",
            "version": version,
        },
    )
    html = response.get_data(True)
    assert "Gruppen har 1 benchmarkingdeltagare" in html
    assert "Hedemora har inte fullföljt en tidigare omgång" in html
    assert 'id="exception_reason-error"' in html
    with app.app_context():
        assert db.session.get(Group, gid).name == name_before


def test_organisations_are_found_by_name_in_any_case_also_with_a_swedish_first_letter(app):
    from modell.organisations.services import organisations_called

    with app.app_context():
        found = organisations_called(db.session, ["örebro", "ÖSTRA GÖINGE", "Atlantis"])
        assert [o.name for o in found["örebro"] + found["ÖSTRA GÖINGE"]] == [
            "Örebro",
            "Östra Göinge",
        ]
        assert found["Atlantis"] == []


def test_an_unknown_organisation_name_is_refused_beside_the_field(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    url = f"/omgangar/{demo_cohort_id(app)}/grupper/ny"
    response = post_form(client, url, {"other_mentors_1": "Atlantis", "basis": "geography"})
    html = response.get_data(True)
    assert 'id="other_mentors_1-error"' in html and "Ingen organisation heter Atlantis." in html


def test_participants_see_only_their_own_group_and_observers_their_county(app):
    cohort_id = demo_cohort_id(app)
    participant, observer = app.test_client(), app.test_client()
    login(participant, DEMO["participant"])
    login(observer, DEMO["county_observer"])  # Västerbottens län
    html = participant.get(f"/omgangar/{cohort_id}").get_data(True)
    assert "Botkyrka, Västerås" in html and "Askersund" not in html
    html = observer.get(f"/omgangar/{cohort_id}").get_data(True)
    assert "Nordmaling" in html and "Botkyrka" not in html and "Hantera omgången" not in html


def test_concluding_in_the_browser_form_needs_a_reason_and_changes_nothing_without(app):
    cohort_id = demo_cohort_id(app)
    client = app.test_client()
    login(client, DEMO["coordinator"])
    version = version_in(client.get(f"/omgangar/{cohort_id}").get_data(True))
    post_form(
        client,
        f"/omgangar/{cohort_id}/status",
        {"to": "running", "version": version, "bekraftat": "1"},
        page_url=f"/omgangar/{cohort_id}",
    )
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        assert cohort.status == "running"
        fagersta = next(p for p in cohort.participations if p.organisation.name == "Fagersta")
        pid = fagersta.id
    url = f"/omgangar/{cohort_id}/avsluta"
    version = version_in(client.get(url).get_data(True))
    response = post_form(client, url, {f"outcome-{pid}": "not_completed", "version": version})
    html = response.get_data(True)
    assert "Ange varför Fagersta inte fullföljde omgången." in html
    assert 'value="not_completed" checked' in html
    with app.app_context():
        assert db.session.get(Cohort, cohort_id).status == "running"
    response = post_form(
        client,
        url,
        {
            f"outcome-{pid}": "not_completed",
            "version": version,
            f"reason-{pid}": "Valet ändrade majoriteten.",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        assert cohort.status == "concluded"
        statuses = {p.organisation.name: p.status for p in cohort.participations}
        assert statuses["Fagersta"] == "not_completed" and statuses["Askersund"] == "completed"


def test_the_suggestion_is_accepted_only_as_the_coordinator_saw_it(app):
    fixed_clock(app)
    cohort_id = open_cohort(app)
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        for name in ("Kumla", "Hallsberg", "Gnesta", "Trosa"):
            r = registrations.submit_registration(
                db.session,
                cohort,
                db.session.get(Organisation, org_id(app, name)),
                registration_data(),
                now=NOW,
                user_id=None,
            )
            registrations.decide_registration(
                db.session, r, accept=True, reason=None, now=NOW, user_id=None
            )
        services.change_status(db.session, cohort, "forming", now=NOW, user_id=None)
        db.session.commit()
    client = app.test_client()
    login(client, DEMO["coordinator"])
    url = f"/omgangar/{cohort_id}/forslag"
    page = client.get(url).get_data(True)
    assert "Förslagets sammanlagda resor" in page
    stale = client.post(
        url,
        data={"csrf_token": csrf_from(page), "fingerprint": "old", "basis": "geography"},
        follow_redirects=True,
    )
    assert "Anmälningarna har ändrats" in stale.get_data(True)
    fingerprint = page.split('name="fingerprint" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        url, data={"csrf_token": csrf_from(page), "fingerprint": fingerprint, "basis": "geography"}
    )
    assert response.status_code == 302
    with app.app_context():
        groups = db.session.scalars(sa.select(Group).where(Group.cohort_id == cohort_id)).all()
        members = sorted(
            sorted(p.organisation.name for p in g.members("benchmarking")) for g in groups
        )
        assert members == [["Gnesta", "Trosa"], ["Hallsberg", "Kumla"]]


def test_editing_a_template_in_use_through_the_page_makes_a_new_version(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    with app.app_context():
        used = services.current_template(db.session, "modellkommuner")
        used_id = used.id
    response = post_form(
        client,
        f"/omgangar/modeller/{used_id}/steg/1",
        {"title": "Förberedelser", "checklist": "Kommunfakta\nMandat"},
    )
    assert response.status_code == 302
    with app.app_context():
        new = services.current_template(db.session, "modellkommuner")
        assert new.id != used_id and new.version == 2 and new.steps[0].title == "Förberedelser"
        assert db.session.get(ProgrammeTemplate, used_id).steps[0].title == "Uppstart"
        assert (
            db.session.scalar(
                sa.select(Cohort.template_id).where(Cohort.name == "Modellkommuner 2019")
            )
            == used_id
        )
    page = client.get(response.headers["Location"]).get_data(True)
    assert "din ändring blev version 2" in page


def test_a_reference_organisation_keeps_its_scb_facts_and_a_new_one_gets_its_seat(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    botkyrka = org_id(app, "Botkyrka")
    post_form(
        client,
        f"/organisationer/{botkyrka}/andra",
        {"name": "Nytt namn", "kind": "agency", "website": "https://www.botkyrka.se"},
    )
    response = post_form(
        client,
        "/organisationer/ny",
        {
            "name": "sdf Enskede-Årsta-Vantör",
            "kind": "district_administration",
            "seat": "Stockholm (Kommun, 0180)",
            "county_code": "",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        org = db.session.get(Organisation, botkyrka)
        assert (org.name, org.kind, org.scb_code, org.website) == (
            "Botkyrka",
            "municipality",
            "0127",
            "https://www.botkyrka.se",
        )
        sdf = db.session.scalar(
            sa.select(Organisation).where(Organisation.kind == "district_administration")
        )
        assert (sdf.seat, sdf.county_code) == ("Stockholm", "01") and sdf.latitude > 59
    response = post_form(
        client, "/organisationer/ny", {"name": "", "kind": "agency", "website": "inte en adress"}
    )
    html = response.get_data(True)
    assert 'id="name-error"' in html and 'id="website-error"' in html


def test_the_organisation_list_filters_by_programme_status_and_shows_titles(app):
    with app.app_context():
        cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == "Modellkommuner 2019"))
        services.change_status(db.session, cohort, "running", now=NOW, user_id=None)
        db.session.commit()
    client = app.test_client()
    login(client, DEMO["coordinator"])
    html = client.get("/organisationer/?status=taking_part").get_data(True)
    assert "Botkyrka" in html and "Kiruna" not in html
    html = client.get("/organisationer/?status=never&q=Kiruna").get_data(True)
    assert "Kiruna" in html
    assert "Botkyrka" not in client.get("/organisationer/?status=titled").get_data(True)


def test_choices_in_lists_are_shown_in_the_users_language(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    url = f"/omgangar/{demo_cohort_id(app)}/grupper/ny"
    assert "Geografisk närhet" in client.get(url).get_data(True)
    client.post(
        "/konto/sprak", data={"lang": "en", "csrf_token": csrf_from(client.get(url).get_data(True))}
    )
    assert "Geographic proximity" in client.get(url).get_data(True)


def test_changes_with_mass_or_irreversible_effects_ask_first_and_change_nothing_before(app):
    """Starting a cohort and dissolving a group: the first post gets a page that says what
    will happen, with the same fields; only the confirmed post changes anything."""
    cohort_id = demo_cohort_id(app)
    client = app.test_client()
    login(client, DEMO["coordinator"])
    version = version_in(client.get(f"/omgangar/{cohort_id}").get_data(True))
    url = f"/omgangar/{cohort_id}/status"
    asked = post_form(client, url, {"to": "running", "version": version}, f"/omgangar/{cohort_id}")
    page = asked.get_data(True)
    assert asked.status_code == 200 and "Starta Modellkommuner 2019?" in page
    assert "planeras för dess 6 grupper" in page
    assert 'name="to" value="running"' in page and 'name="bekraftat" value="1"' in page
    with app.app_context():
        assert db.session.get(Cohort, cohort_id).status == "forming"
        group_id = db.session.get(Cohort, cohort_id).groups[0].id
    confirmed = client.post(
        url,
        data={
            "to": "running",
            "version": version,
            "bekraftat": "1",
            "csrf_token": csrf_from(page),
        },  # fmt: skip
    )
    assert confirmed.status_code == 302
    with app.app_context():
        assert db.session.get(Cohort, cohort_id).status == "running"
    dissolve = post_form(client, f"/omgangar/grupper/{group_id}/ta-bort", {"version": "1"},
                         f"/omgangar/{cohort_id}")  # fmt: skip
    assert "Lös upp gruppen" in dissolve.get_data(True)
    with app.app_context():
        assert db.session.get(Group, group_id) is not None


def test_concluding_before_the_period_ends_needs_a_reason(app):
    cohort_id = demo_cohort_id(app)
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        services.change_status(db.session, cohort, "running", now=NOW, user_id=None)
        db.session.commit()
        ends_on = cohort.ends_on
        assert ends_on is not None
    fixed_clock(app, datetime.combine(ends_on, datetime.min.time(), UTC) - timedelta(days=30))
    client = app.test_client()
    login(client, DEMO["coordinator"])
    detail = client.get(f"/omgangar/{cohort_id}").get_data(True)
    assert "Avsluta den i förtid, med en motivering" in detail
    url = f"/omgangar/{cohort_id}/avsluta"
    version = version_in(client.get(url).get_data(True))
    refused = post_form(client, url, {"version": version})
    assert 'id="early_reason-error"' in refused.get_data(True)
    with app.app_context():
        assert db.session.get(Cohort, cohort_id).status == "running"
    reason = "Alla grupper har hållit sina träffar; resultatkonferensen hölls tidigare."
    # Only invisible characters are no reason.
    refused = post_form(client, url, {"version": version, "early_reason": "\u200b "})
    assert 'id="early_reason-error"' in refused.get_data(True)
    done = post_form(client, url, {"version": version, "early_reason": reason})
    assert done.status_code == 302
    moment = app.config["CLOCK"]()
    with app.app_context():
        assert db.session.get(Cohort, cohort_id).status == "concluded"
        # The meetings still ahead are cancelled with it; those held stay as they were.
        meetings = db.session.scalars(
            sa.select(Meeting).where(Meeting.cohort_id == cohort_id)
        ).all()
        ahead = [m for m in meetings if m.starts_at is None or m.starts_at > moment]
        assert ahead and all(m.status == "cancelled" for m in ahead)
        assert all(m.status != "cancelled" for m in meetings if m not in ahead)
    # The cohort's period says it ended early, when and why.
    page = client.get(f"/omgangar/{cohort_id}").get_data(True)
    assert f"Avslutad i förtid, den {dates.day(moment, 'sv')}:" in page and reason in page
