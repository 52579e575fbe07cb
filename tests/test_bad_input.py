"""Bad input is harmless: a message beside the field or a clear refusal, never a 500,
and nothing half-written or unreadable reaches the database."""

import contextlib
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError

from modell.cohorts.models import InterestRegistration
from modell.core.errors import RuleViolation
from modell.core.forms import Form
from modell.extensions import db
from modell.meetings.models import Meeting
from modell.organisations.models import Organisation
from tests.conftest import DEMO, login, post_form
from tests.test_meetings import group_meeting, start_demo


def _host_and_meeting(app):
    with app.app_context():
        meeting = group_meeting(start_demo(), "Botkyrka")
        db.session.commit()
        ids = meeting.id, meeting.version
    client = app.test_client()
    login(client, DEMO["participant"])  # Botkyrka hosts the first meeting
    return client, ids


def _edit(client, meeting_id, version, **fields):
    data = {"version": str(version), "day": "2019-03-14", "start": "10:00", "end": "15:00"}
    return post_form(client, f"/moten/{meeting_id}/andra", data | fields)


def test_control_characters_in_a_one_line_field_are_refused_beside_it(app):
    client, (meeting_id, version) = _host_and_meeting(app)
    for bad in ("Tumba\x00", "Tumba\x07", "Tumba\x1b[31m", "Tumba\x0b", "Tum\nba", "\x85"):
        response = _edit(client, meeting_id, version, location=bad)
        html = response.get_data(True)
        assert response.status_code == 200
        assert 'id="location-error"' in html and "styrtecken" in html, repr(bad)
        assert 'value="Tumba' in html or bad == "\x85"  # what was written stays in the form
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).version == version  # nothing stored


def test_a_multi_line_field_keeps_its_line_breaks_and_tabs_but_nothing_else(app):
    client, (meeting_id, version) = _host_and_meeting(app)
    refused = _edit(client, meeting_id, version, agenda="1. Välkomna\x00")
    assert 'id="agenda-error"' in refused.get_data(True)
    saved = _edit(client, meeting_id, version, agenda="# Dagordning\r\n- Välkomna\r\n-\tFika")
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).agenda == "# Dagordning\n- Välkomna\n-\tFika"


def test_a_nul_in_a_query_parameter_or_a_path_is_a_clear_refusal(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    for url in ("/organisationer/?q=Upp%00sala", "/organisationer/?lan=%1b", "/utkorg?sida=%00"):
        response = client.get(url)
        assert response.status_code == 400
        assert "styrtecken" in response.get_data(True)
    assert client.get("/konto/nytt-losenord/abc%00def").status_code == 400


def test_ids_beyond_64_bits_and_huge_page_numbers_are_no_error(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    for url in (
        "/moten/99999999999999999999",
        "/moten/9223372036854775808",
        "/omgangar/99999999999999999999/andra",
        "/organisationer/18446744073709551616",
        "/utkorg/99999999999999999999",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/moten/2147483647").status_code == 404  # the largest id: none
    assert client.get("/moten/2147483648").status_code == 404
    for url in ("/utkorg?sida=99999999999999999999", "/organisationer/?sida=-5", "/utkorg?sida=x"):
        assert client.get(url).status_code == 200, url


def test_every_form_of_the_app_has_the_guards():
    import modell.auth.forms
    import modell.cohorts.forms
    import modell.meetings.forms
    import modell.organisations.forms  # noqa: F401

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(FlaskForm) if c.__module__.startswith("modell.")]
    assert len(ours) > 20
    assert [c.__name__ for c in ours if not issubclass(c, Form)] == []


def test_a_broken_transaction_still_gets_the_apps_error_page(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.route("/test-broken")
    def broken():
        db.session.add(Organisation(name=None, kind="other"))  # NOT NULL: the flush fails
        with contextlib.suppress(IntegrityError):
            db.session.flush()  # a careless route goes on with the broken session ...
        db.session.scalar(sa.select(Organisation.id))  # ... and the next query raises

    client = app.test_client()
    login(client, DEMO["coordinator"])
    response = client.get("/test-broken")
    html = response.get_data(True)
    assert response.status_code == 500
    assert "Något gick fel" in html and "<header" in html  # the app's own page, signed in
    assert client.get("/omgangar/").status_code == 200  # and the next request is fine


def test_an_extra_contact_without_a_function_is_refused_beside_the_field(app):
    from tests.test_cohort_pages import FULL_REGISTRATION, fixed_clock, open_cohort

    fixed_clock(app)
    cohort_id = open_cohort(app)
    client = app.test_client()
    login(client, DEMO["participant"])
    extra = {"extra_name": "Ellen Extra", "extra_email": "ellen@example.org", "extra_function": ""}
    response = post_form(client, f"/omgangar/{cohort_id}/anmal", FULL_REGISTRATION | extra)
    assert response.status_code == 200
    assert 'id="extra_function-error"' in response.get_data(True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InterestRegistration)) == 0


def test_a_cohort_saved_without_a_programme_model_is_refused_beside_the_field(app):
    from modell.cohorts import services as cohorts
    from tests.test_cohort_pages import NOW, version_in

    with app.app_context():
        draft = cohorts.create_cohort(
            db.session,
            now=NOW,
            user_id=None,
            name="Utkast",
            template=cohorts.current_template(db.session, "modellkommuner"),
            starts_on=date(2020, 2, 6),
        )
        db.session.commit()
        cohort_id = draft.id
        with pytest.raises(RuleViolation):
            cohorts.update_cohort(
                db.session, draft, now=NOW, user_id=None, expected_version=None, template_id=None
            )
        db.session.rollback()
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get(f"/omgangar/{cohort_id}/andra").get_data(True)
    for template in ("None", "", "99999999999"):
        response = post_form(
            client,
            f"/omgangar/{cohort_id}/andra",
            {
                "version": version_in(page),
                "name": "Utkast",
                "template_id": template,
                "starts_on": "2020-02-06",
            },
        )
        assert response.status_code == 200, template
        assert 'id="template_id-error"' in response.get_data(True), template


# --- found by the second outside test -------------------------------------------------------


def test_a_reason_that_comes_outside_a_form_field_is_checked_in_the_service(app, ctx):
    from modell.cohorts import services as cohorts
    from modell.cohorts.models import Cohort

    cohort = start_demo()
    db.session.commit()
    active = [p for p in cohort.participations if p.status == "active"]
    outcomes = {p.id: cohorts.Outcome(True) for p in active}
    outcomes[active[0].id] = cohorts.Outcome(False, "Avbröt\x00\x1b]0;pwn\x07")
    with pytest.raises(RuleViolation) as refused:
        cohorts.conclude(db.session, cohort, outcomes, now=datetime.now(UTC), user_id=None)
    assert refused.value.field == f"reason-{active[0].id}"
    outcomes[active[0].id] = cohorts.Outcome(False, "A" * 100_000)
    with pytest.raises(RuleViolation):
        cohorts.conclude(db.session, cohort, outcomes, now=datetime.now(UTC), user_id=None)
    db.session.rollback()
    assert db.session.get(Cohort, cohort.id).status == "running"


def test_a_number_with_hundreds_of_digits_is_refused_beside_the_field(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    with app.app_context():
        from modell.cohorts.models import ProgrammeTemplate

        template_id = db.session.scalar(sa.select(ProgrammeTemplate.id))
    url = f"/omgangar/modeller/{template_id}/andra"
    page = client.get(url).get_data(True)
    from tests.conftest import csrf_from

    form = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', page))
    form.update({"csrf_token": csrf_from(page), "group_min": "9" * 309})
    response = client.post(url, data=form)
    assert response.status_code == 200
    assert 'id="group_min-error"' in response.get_data(True)


def test_a_model_with_meetings_years_away_gives_them_no_date_outside_the_cohorts_window(app, ctx):
    from modell.cohorts.models import MeetingKind
    from modell.meetings import services as meetings

    cohort = start_demo()
    far = MeetingKind(key="far", name="Långt bort", count=20, offset_weeks=200, interval_weeks=100)
    assert meetings._proposed_start(cohort, far, 1) is None
    near = MeetingKind(key="near", name="Nära", count=1, offset_weeks=2, interval_weeks=0)
    assert meetings._proposed_start(cohort, near, 1) is not None


def test_names_that_only_look_different_need_the_confirmation_too(app, ctx):
    from modell.organisations.services import namesakes

    (uppsala,) = namesakes(db.session, "Uppsala", "municipality")
    for lookalike in ("ＵＰＰＳＡＬＡ", "Upp\u200bsala", " uppsala  ", "UPPSALA\u2060"):
        assert namesakes(db.session, lookalike, "municipality") == [uppsala], lookalike


def test_the_suggestion_form_carries_its_own_token(app):
    from tests.test_cohort_pages import fixed_clock, open_cohort

    fixed_clock(app)
    cohort_id = open_cohort(app)
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get(f"/omgangar/{cohort_id}/forslag").get_data(True)
    posting = page[page.index('<form method="post"') :]
    posting = posting[: posting.index("</form>")]
    assert 'name="csrf_token" value="' in posting


def test_a_date_that_does_not_exist_is_called_so(app):
    client, (meeting_id, version) = _host_and_meeting(app)
    response = _edit(client, meeting_id, version, day="2027-02-29")
    html = response.get_data(True)
    assert "Det datumet finns inte" in html and "Detta fält är obligatoriskt" not in html


def test_a_political_decision_cannot_be_dated_in_the_future(app):
    from tests.test_cohort_pages import FULL_REGISTRATION, fixed_clock, open_cohort

    fixed_clock(app)
    cohort_id = open_cohort(app)
    client = app.test_client()
    login(client, DEMO["participant"])
    response = post_form(
        client,
        f"/omgangar/{cohort_id}/anmal",
        FULL_REGISTRATION | {"decision_date": "2100-12-31"},
    )
    assert response.status_code == 200
    assert 'id="decision_date-error"' in response.get_data(True)


def test_a_file_name_loses_its_invisible_direction_marks(tmp_path):
    from modell.core.files import FolderStore, store_file

    stored = store_file("\u202egnp.exe.txt", b"x", store=FolderStore(tmp_path), max_bytes=10)
    assert stored.filename == "gnp.exe.txt"


def test_a_field_with_an_error_is_marked_and_described_and_its_hint_and_error_are_tied_to_it(app):
    """core/fields.py writes every form's fields: the label, a required mark hidden from
    screen readers (the input says it), the hint and the errors tied with aria-describedby,
    aria-invalid, and each error announced as one."""
    from wtforms import RadioField, StringField, validators

    from modell.core.fields import render_field

    class Probe(Form):
        name = StringField("Namn", [validators.InputRequired()], description="Som i registret.")
        answer = RadioField("Kommer du?", choices=[])

    with app.test_request_context("/", method="POST", data={}):
        form = Probe()
        form.name.errors = ["Skriv ett namn <nu>."]
        html = str(render_field(form.name, autocomplete="off"))
        empty = str(render_field(form.answer))
    assert (
        '<label class="form-label" for="name">Namn</label> <span aria-hidden="true">*</span>'
        in html
    )
    assert 'aria-describedby="name-hint name-error"' in html and 'aria-invalid="true"' in html
    assert 'autocomplete="off"' in html and "required" in html and "is-invalid" in html
    assert '<div id="name-hint" class="form-hint small">Som i registret.</div>' in html
    assert '<span class="visually-hidden">Fel: </span>Skriv ett namn &lt;nu&gt;.' in html
    assert '<legend class="form-label fs-6">Kommer du?</legend>' in empty
    assert "Inget att välja bland." in empty


def test_a_select_is_written_as_wtforms_writes_it(app):
    """Selects are written with their plain options directly (core.forms), faster than
    WTForms' html_params for a list of hundreds: the markup must be WTForms' own, escaping,
    the chosen option, extra attributes and all."""
    from wtforms import SelectField, widgets
    from wtforms.fields.choices import SelectChoice as C

    class Probe(Form):
        plain = SelectField("A", choices=[C("", "— välj —"), C("x&y", "X <b>"), C(3, "Tre")])
        numbers = SelectField(
            "B", choices=[C(1, "Ett"), C(2, "Två")], coerce=int, default=2, render_kw={"data-x": 1}
        )
        marked = SelectField("C", choices=[C("a", "A", render_kw={"disabled": True}), C("b", "B")])

    with app.test_request_context():
        form = Probe(data={"plain": "x&y", "marked": "b"})
        for field in form:
            if field.type != "SelectField":
                continue
            ours = str(field(class_="form-select", aria_describedby="hint"))
            attributes = {"class": "form-select", "aria-describedby": "hint"}
            theirs = str(widgets.Select()(field, **(field.render_kw or {}), **attributes))
            assert ours == theirs
            assert "selected" in ours
