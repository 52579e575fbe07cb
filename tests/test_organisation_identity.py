"""Organisations are chosen by identity, never by a name two of them can share.

The outside security test: a second organisation named "Uppsala" was accepted, and saving
the group that Uppsala mentors moved the mentor to the newcomer. Now every picker shows a
label that names one organisation (name, kind, SCB code or number), a name two organisations
share is never guessed, and a second organisation of one name needs a confirmation.
"""

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from modell.cohorts.models import Group, InterestRegistration
from modell.core.errors import NeedsConfirmation
from modell.core.models import AuditEntry
from modell.extensions import db
from modell.organisations.models import Organisation
from modell.organisations.services import (
    organisation_choices,
    organisations_called,
    save_organisation,
)
from tests.conftest import DEMO, csrf_from, login, post_form
from tests.test_cohort_pages import FULL_REGISTRATION, demo_cohort_id, fixed_clock, open_cohort

NOW = datetime(2019, 10, 1, 9, tzinfo=UTC)


# --- helpers ------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The fields of every form on a page, as a browser would send them unchanged."""

    def __init__(self):
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append([])
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button"):
                self.forms[-1].append(
                    (a["name"], a.get("value", "on" if kind == "checkbox" else ""))
                )
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [self._options[0][0]]
            self.forms[-1].append((self._select, chosen[0]))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.forms[-1].append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def form_as_shown(html: str, field: str) -> MultiDict:
    """The form on the page that has this field, with every value as the page shows it."""
    parser = _Forms()
    parser.feed(html)
    (form,) = [f for f in parser.forms if any(name == field for name, _ in f)]
    return MultiDict(form)


def in_english(client) -> None:
    page = client.get("/omgangar/").get_data(True)
    client.post("/konto/sprak", data={"lang": "en", "csrf_token": csrf_from(page)})


def coordinator(app, english: bool = True):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    if english:
        in_english(client)
    return client


def add_organisation(client, name: str, kind: str, **extra):
    data = {"name": name, "kind": kind, "county_code": "", "seat": "", **extra}
    return post_form(client, "/organisationer/ny", data)


def called(app, name: str) -> list[tuple[int, str]]:
    with app.app_context():
        return [
            (o.id, o.kind)
            for o in db.session.scalars(sa.select(Organisation).order_by(Organisation.id))
            if o.name.casefold() == name.casefold()
        ]


def reference_id(app, name: str, kind: str = "municipality") -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Organisation.id).where(
                Organisation.name == name, Organisation.kind == kind, Organisation.is_reference
            )
        )


def group_called(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Group.id).where(Group.name == name, Group.cohort_id == demo_cohort_id(app))
        )


def members(app, group_id: int) -> set[tuple[int, str, int | None]]:
    """(organisation, role, the organisation it supports) of everyone in the group."""
    with app.app_context():
        group = db.session.get(Group, group_id)
        return {
            (p.organisation_id, p.role, p.supports.organisation_id if p.supports else None)
            for p in group.participations
        }


def add_namesake(app, name: str, kind: str) -> int:
    """Another organisation with a name one already has, as an import could add it."""
    with app.app_context():
        org = save_organisation(
            db.session, None, now=NOW, user_id=None, confirm_duplicate=True, name=name, kind=kind
        )
        db.session.commit()
        return org.id


def audit_count(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        )


# --- the label ----------------------------------------------------------------------------


def test_an_organisation_is_shown_with_its_kind_and_scb_code_or_else_its_number(app):
    agency = add_namesake(app, "Uppsala", "agency")
    fixed_clock(app)
    url = f"/omgangar/{open_cohort(app)}/anmal"
    html = coordinator(app, english=False).get(url).get_data(True)
    assert '<option value="Uppsala (Kommun, 0380)">' in html
    assert '<option value="Region Uppsala (Region, 03)">' in html
    html = coordinator(app).get(url).get_data(True)
    assert '<option value="Uppsala (Municipality, 0380)">' in html
    assert f'<option value="Uppsala (State agency, no. {agency})">' in html


def test_no_two_organisations_have_the_same_label_in_either_language(app):
    for kind in ("municipality", "agency", "agency", "other"):
        add_namesake(app, "Uppsala", kind)
    with app.test_request_context():
        for language in ("sv", "en"):
            with force_locale(language):
                labels = [label.casefold() for _id, label in organisation_choices(db.session)]
                assert len(labels) == len(set(labels)) > 300


def test_a_label_means_its_organisation_and_a_shared_name_means_several(app):
    agency = add_namesake(app, "Uppsala", "agency")
    uppsala = reference_id(app, "Uppsala")
    with app.test_request_context():
        with force_locale("sv"):
            meaning = organisations_called(
                db.session,
                [
                    "Uppsala (Kommun, 0380)",
                    f"uppsala (state agency, no. {agency})",
                    "Uppsala (Municipality, 0380)",
                    "UPPSALA",
                    "Knivsta",
                    "Atlantis",
                ],
            )
        ids = {text: [o.id for o in orgs] for text, orgs in meaning.items()}
    assert ids["Uppsala (Kommun, 0380)"] == [uppsala]
    assert ids[f"uppsala (state agency, no. {agency})"] == [agency]
    assert ids["Uppsala (Municipality, 0380)"] == [uppsala]  # a form sent in the other language
    assert sorted(ids["UPPSALA"]) == sorted([uppsala, agency])
    assert ids["Knivsta"] == [reference_id(app, "Knivsta")]
    assert ids["Atlantis"] == []


# --- the group form -----------------------------------------------------------------------


def test_the_attack_replayed_a_second_uppsala_never_takes_over_the_group_of_the_first(app):
    """A coordinator adds organisations named Uppsala (another kind; the same kind again, with
    the confirmation; an import adds a municipality named Uppsala), then saves the group that
    Uppsala mentors exactly as its form shows it: Uppsala's users keep their group."""
    gid = group_called(app, "Botkyrka, Västerås")
    uppsala = reference_id(app, "Uppsala")
    before = members(app, gid)
    assert (uppsala, "mentor", None) in before
    mentor = app.test_client()
    login(mentor, DEMO["mentor"])
    assert mentor.get(f"/omgangar/grupper/{gid}").status_code == 200

    client = coordinator(app)
    assert add_organisation(client, "Uppsala", "agency").status_code == 302
    refused = add_organisation(client, "Uppsala", "agency")
    assert refused.status_code == 200 and 'id="confirm_duplicate"' in refused.get_data(True)
    assert add_organisation(client, "Uppsala", "agency", confirm_duplicate="y").status_code == 302
    add_namesake(app, "Uppsala", "municipality")
    assert len(called(app, "Uppsala")) == 4  # the municipality, two agencies, the import

    url = f"/omgangar/grupper/{gid}/andra"
    shown = form_as_shown(client.get(url).get_data(True), "benchmarking")
    assert shown["other_mentors_1"] == "Uppsala (Municipality, 0380)"
    response = client.post(url, data=shown)
    assert response.status_code == 302, response.get_data(True)

    assert members(app, gid) == before
    assert mentor.get(f"/omgangar/grupper/{gid}").status_code == 200


def test_saving_any_group_unchanged_keeps_its_mentors_and_support_organisations(app):
    """Every demo group, after namesakes of all its mentors and support organisations have
    been added, saved as the form shows it: the same organisations in the same places."""
    for name in (
        "Hedemora",
        "Uppsala",
        "Vännäs",
        "Umeå",
        "Kristianstad",
        "Malmö",
        "Norrtälje",
        "Boden",
        "Luleå",
        "Piteå",
    ):
        add_namesake(app, name, "other")
    add_namesake(app, "Malmö", "municipality")
    client = coordinator(app, english=False)
    with app.app_context():
        groups = db.session.scalars(
            sa.select(Group.id).where(Group.cohort_id == demo_cohort_id(app))
        ).all()
    for gid in groups:
        before = members(app, gid)
        url = f"/omgangar/grupper/{gid}/andra"
        shown = form_as_shown(client.get(url).get_data(True), "benchmarking")
        response = client.post(url, data=shown)
        assert response.status_code == 302, response.get_data(True)
        assert members(app, gid) == before


def test_a_name_two_organisations_share_is_refused_beside_the_field_and_nothing_is_saved(app):
    agency = add_namesake(app, "Uppsala", "agency")
    gid = group_called(app, "Botkyrka, Västerås")
    before = members(app, gid)
    with app.app_context():
        version = db.session.get(Group, gid).version
    saved = audit_count(app, "group_saved")
    client = coordinator(app)
    url = f"/omgangar/grupper/{gid}/andra"
    shown = form_as_shown(client.get(url).get_data(True), "benchmarking")
    shown["other_mentors_1"] = "uppsala"
    response = client.post(url, data=shown)
    html = response.get_data(True)
    assert response.status_code == 200
    assert 'id="other_mentors_1-error"' in html
    assert (
        "Several organisations are called uppsala: choose one from the list: "
        f"Uppsala (State agency, no. {agency}); Uppsala (Municipality, 0380)." in html
    )
    assert 'href="#other_mentors_1"' in html  # the error summary leads to the input
    assert members(app, gid) == before
    assert audit_count(app, "group_saved") == saved
    with app.app_context():
        assert db.session.get(Group, gid).version == version


def test_a_name_only_one_organisation_has_is_taken_to_mean_it_in_any_case(app):
    add_namesake(app, "Uppsala", "agency")  # another name is shared: this one is not
    gid = group_called(app, "Botkyrka, Västerås")
    client = coordinator(app)
    url = f"/omgangar/grupper/{gid}/andra"
    shown = form_as_shown(client.get(url).get_data(True), "benchmarking")
    shown["other_mentors_1"] = "KNIVSTA"
    # Knivsta has not mentored before: a new exception, which the old reason does not cover.
    refused = client.post(url, data=shown)
    assert refused.status_code == 200 and "Knivsta" in refused.get_data(True)
    shown["exception_reason"] = "Knivsta mentorar utan att ha gått en egen omgång."
    assert client.post(url, data=shown).status_code == 302
    mentors = {org for org, role, _ in members(app, gid) if role == "mentor"}
    assert mentors == {reference_id(app, "Knivsta")}


def test_a_support_organisation_is_chosen_by_label_and_supports_the_mentor_chosen_by_label(app):
    add_namesake(app, "Luleå", "other")
    gid = group_called(app, "Förbundet Norrbottens kommuner")
    client = coordinator(app, english=False)
    url = f"/omgangar/grupper/{gid}/andra"
    shown = form_as_shown(client.get(url).get_data(True), "benchmarking")
    assert shown["support_1"] == "Piteå (Kommun, 2581)"
    assert shown["supported_mentor"] == "Luleå (Kommun, 2580)"
    shown["support_1"], shown["supported_mentor"] = "Kalix (Kommun, 2514)", "luleå"
    response = client.post(url, data=shown)
    html = response.get_data(True)
    assert 'id="supported_mentor-error"' in html  # "luleå" is two organisations now
    shown["supported_mentor"] = "Boden (Kommun, 2582)"
    assert client.post(url, data=shown).status_code == 302
    support = [(org, of) for org, role, of in members(app, gid) if role == "support"]
    assert support == [(reference_id(app, "Kalix"), reference_id(app, "Boden"))]


# --- adding and renaming organisations ----------------------------------------------------


def test_adding_a_name_an_organisation_of_the_same_kind_has_needs_a_confirmation(app):
    """Compared in any case, Swedish letters too: "FÖRBUNDET ..." is the federation's name."""
    existing = called(app, "Förbundet Norrbottens kommuner")
    (federation,) = [i for i, _kind in existing]
    saved = audit_count(app, "organisation_saved")
    client = coordinator(app)
    response = add_organisation(client, "FÖRBUNDET NORRBOTTENS KOMMUNER", "federation")
    html = response.get_data(True)
    assert response.status_code == 200
    assert 'id="name-error"' in html
    assert (
        "An organisation of the same kind is already called FÖRBUNDET NORRBOTTENS KOMMUNER: "
        f"Förbundet Norrbottens kommuner (Federation of municipalities, no. {federation})."
    ) in html
    assert 'id="confirm_duplicate"' in html and 'value="FÖRBUNDET NORRBOTTENS KOMMUNER"' in html
    assert called(app, "Förbundet Norrbottens kommuner") == existing
    assert audit_count(app, "organisation_saved") == saved

    response = add_organisation(
        client, "FÖRBUNDET NORRBOTTENS KOMMUNER", "federation", confirm_duplicate="y"
    )
    assert response.status_code == 302
    assert len(called(app, "Förbundet Norrbottens kommuner")) == 2
    assert audit_count(app, "organisation_saved") == saved + 1


def test_a_name_of_an_organisation_of_another_kind_needs_no_confirmation(app):
    client = coordinator(app)
    assert add_organisation(client, "Uppsala", "other").status_code == 302
    assert sorted(kind for _id, kind in called(app, "Uppsala")) == ["municipality", "other"]


def test_renaming_an_organisation_to_a_taken_name_needs_the_same_confirmation(app):
    client = coordinator(app)
    add_organisation(client, "Jämställdhetsmyndigheten", "agency")
    add_organisation(client, "Myndigheten för vård- och omsorgsanalys", "agency")
    ((first, _),) = called(app, "Jämställdhetsmyndigheten")
    ((second, _),) = called(app, "Myndigheten för vård- och omsorgsanalys")
    url = f"/organisationer/{second}/andra"
    data = {"name": "JÄMSTÄLLDHETSMYNDIGHETEN", "kind": "agency", "county_code": "", "seat": ""}
    response = post_form(client, url, data)
    assert response.status_code == 200 and 'id="name-error"' in response.get_data(True)
    assert called(app, "Myndigheten för vård- och omsorgsanalys") == [(second, "agency")]

    assert post_form(client, url, {**data, "confirm_duplicate": "y"}).status_code == 302
    assert called(app, "Jämställdhetsmyndigheten") == [(first, "agency"), (second, "agency")]
    # Once confirmed, changing something else does not ask again.
    notes = {**data, "notes": "Två myndigheter, samma namn i testet."}
    assert post_form(client, url, notes).status_code == 302


def test_the_service_itself_refuses_a_taken_name_without_confirmation_and_adds_nothing(app):
    with app.test_request_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Organisation))
        with pytest.raises(NeedsConfirmation) as refused:
            save_organisation(
                db.session, None, now=NOW, user_id=None, name="uppsala", kind="municipality"
            )
        assert refused.value.field == "name"
        assert "Uppsala (" in refused.value.message
        assert not db.session.new
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == count


def test_a_registration_on_behalf_goes_to_the_organisation_chosen_not_to_its_namesake(app):
    agency = add_namesake(app, "Uppsala", "agency")
    fixed_clock(app)
    cohort_id = open_cohort(app)
    client = coordinator(app)
    url = f"/omgangar/{cohort_id}/anmal"
    html = client.get(url).get_data(True)
    label = f"Uppsala (State agency, no. {agency})"
    assert f'<option value="{label}">' in html
    response = post_form(client, url, {**FULL_REGISTRATION, "organisation": label})
    assert response.status_code == 302
    with app.app_context():
        (registration,) = db.session.scalars(
            sa.select(InterestRegistration).where(InterestRegistration.cohort_id == cohort_id)
        ).all()
        assert registration.organisation_id == agency


def test_a_seat_is_a_municipality_chosen_from_the_list(app):
    client = coordinator(app, english=False)
    form = {"name": "Sätesförbundet", "kind": "federation", "county_code": ""}
    refused = post_form(
        client, "/organisationer/ny", {**form, "seat": "Region Uppsala (Region, 03)"}
    )
    assert refused.status_code == 200 and "Välj en kommun i listan" in refused.get_data(True)
    saved = post_form(client, "/organisationer/ny", {**form, "seat": "Uppsala (Kommun, 0380)"})
    assert saved.status_code == 302
    with app.app_context():
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == form["name"]))
        assert org.seat == "Uppsala" and org.latitude is not None
        org_id = org.id
    edit = client.get(f"/organisationer/{org_id}/andra").get_data(True)
    assert 'value="Uppsala (Kommun, 0380)"' in edit
