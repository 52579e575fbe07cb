"""Registering interest without an account: the public form, the confirmation link (single
use, expiring), the honeypot and the rate limit; nobody has an account before SKR accepts,
and then every named contact is invited to one."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from modell.auth.models import User
from modell.cohorts import public
from modell.cohorts import services as cohorts
from modell.cohorts.models import InterestRegistration, PendingRegistration
from modell.core import worker
from modell.core.errors import RuleViolation
from modell.core.models import OutboxMessage
from modell.core.types import utcnow
from modell.extensions import db
from modell.organisations.models import Organisation, Person
from tests.conftest import DEMO, csrf_from, login, post_form


def open_cohort(app) -> int:
    with app.app_context():
        cohort = cohorts.create_cohort(
            db.session,
            now=utcnow(),
            user_id=None,
            name="Modellkommuner 2027",
            template=cohorts.current_template(db.session, "modellkommuner"),
            registration_deadline=date.today() + timedelta(days=30),
            starts_on=date.today() + timedelta(days=60),
        )
        db.session.flush()
        cohorts.change_status(db.session, cohort, "open", now=utcnow(), user_id=None)
        db.session.commit()
        return cohort.id


def answers(organisation="Fagersta (Kommun, 1982)", **changes) -> dict:
    form = {
        "organisation": organisation,
        "decision_date": "2026-05-20",
        "decision_body": "Kommunfullmäktige",
        "cemr_signed": "y",
        "politician_name": "Petra Politiker",
        "politician_email": "petra@fagersta.example.org",
        "manager_name": "Chris Chef",
        "manager_email": "chris@fagersta.example.org",
        "strategist_name": "Sam Strateg",
        "strategist_email": "sam@fagersta.example.org",
        "themes": "Hemtjänst",
        "mentor_commitment": "y",
        "fee_payer": "own",
        "submitter_email": "sam@fagersta.example.org",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def link_in(message: OutboxMessage) -> str:
    return re.search(r"http://127\.0\.0\.1(/\S+)", message.body_text).group(1)


def mails(kind: str, **where) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.kind == kind)
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def test_a_registration_counts_once_confirmed_and_the_contacts_get_accounts_once_accepted(app):
    cohort_id = open_cohort(app)
    visitor = app.test_client()
    assert "Modellkommuner 2027" in visitor.get("/omgangar/oppna").get_data(True)
    url = f"/omgangar/{cohort_id}/intresse"
    # The input offers every organisation by its label, its county beside it.
    form_page = visitor.get(url).get_data(True)
    assert '<option value="Fagersta (Kommun, 1982)">Västmanlands län</option>' in form_page
    sent = post_form(visitor, url, answers())
    assert sent.status_code == 302 and sent.location.endswith("/intresse/skickad")
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(InterestRegistration).where(
                InterestRegistration.cohort_id == cohort_id
            )
        ) == 0  # fmt: skip
        (confirmation,) = mails("confirmation")
        assert confirmation.recipient == "sam@fagersta.example.org"
        link = link_in(confirmation)
    # Staff see that a confirmation was mailed, never its link.
    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    with app.app_context():
        message_id = mails("confirmation")[0].id
    assert link not in coordinator.get(f"/utkorg/{message_id}").get_data(True)

    page = visitor.get(link)  # a GET (a mail scanner) confirms nothing
    assert page.status_code == 200 and "Bekräfta anmälan" in page.get_data(True)
    confirmed = visitor.post(link, data={"csrf_token": csrf_from(page.get_data(True))})
    assert confirmed.status_code == 302
    assert visitor.get(link).status_code == 400  # single use
    with app.app_context():
        registration = db.session.scalar(
            sa.select(InterestRegistration).where(InterestRegistration.cohort_id == cohort_id)
        )
        assert registration.organisation.name == "Fagersta"
        assert registration.status == "submitted"
        contacts = {c.email for c in registration.contacts}
        assert db.session.scalars(sa.select(User).where(User.email.in_(contacts))).all() == []
        registration_id = registration.id

    decided = post_form(
        coordinator,
        f"/omgangar/anmalningar/{registration_id}",
        {"decision": "accept"},
        f"/omgangar/anmalningar/{registration_id}",
    )
    assert decided.status_code == 302, decided.get_data(True)[:500]
    with app.app_context():
        invited = {m.recipient for m in mails("invitation")}
        assert invited >= contacts
        users = db.session.scalars(sa.select(User).where(User.email.in_(contacts))).all()
        assert {(u.person.organisation.name, u.person.function) for u in users} == {
            ("Fagersta", "politician"),
            ("Fagersta", "manager"),
            ("Fagersta", "strategist"),
        }
        assert all(u.password_hash is None for u in users)
        # The invitations say what they come with: the organisation, the cohort, the function.
        politician = mails("invitation", recipient="petra@fagersta.example.org")[0].body_text
        assert "Fagersta har antagits till Modellkommuner 2027" in politician
        assert "som dess politiker" in politician
        # The sender learns the decision at the confirmed address.
        (told,) = mails("registration_decided")
        assert told.recipient == "sam@fagersta.example.org"
        assert "SKR har antagit intresseanmälan från Fagersta" in told.body_text


NEW_NAME = "Norra Bergslagens kommunförbund"


def send_and_confirm(app, visitor, cohort_id: int, form: dict) -> int:
    """The public form sent and its link followed: the registration's id."""
    assert post_form(visitor, f"/omgangar/{cohort_id}/intresse", form).status_code == 302
    with app.app_context():
        link = link_in(mails("confirmation")[-1])
    page = visitor.get(link)
    assert (
        visitor.post(link, data={"csrf_token": csrf_from(page.get_data(True))}).status_code == 302
    )
    with app.app_context():
        return db.session.scalar(
            sa.select(InterestRegistration.id)
            .where(InterestRegistration.cohort_id == cohort_id)
            .order_by(InterestRegistration.id.desc())
            .limit(1)
        )


SHOWN = ("list", "picker", "export", "typed")


def register_shows(app, client, text: str) -> dict[str, bool]:
    """Where an organisation's name shows: the list, the picker, the export, a typed name."""
    from modell.organisations.services import one_organisation_called

    with app.app_context():
        typed = one_organisation_called(db.session, text)[0] is not None
    client.get("/omgangar/")  # the flashed notes of a decision name it: shown here
    return {
        "list": text in client.get("/organisationer/?q=Bergslagen").get_data(True),
        "picker": text in client.get("/konto/bjud-in").get_data(True),
        "export": text in client.get("/omgangar/organisationer.csv").data.decode("utf-8-sig"),
        "typed": typed,
    }


def test_a_new_organisation_enters_the_register_only_when_skr_accepts_it(app):
    """A stranger's confirmed address adds nothing to SKR's register: the organisation named
    on the form waits, unseen in lists, pickers and exports, until its registration is
    accepted."""
    cohort_id = open_cohort(app)
    form = answers(organisation="", new_name=NEW_NAME, new_kind="federation")
    visitor = app.test_client()
    assert post_form(visitor, f"/omgangar/{cohort_id}/intresse", form).status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Organisation).where(Organisation.name == NEW_NAME)) is None
        )
    registration_id = send_and_confirm(app, app.test_client(), cohort_id, form)
    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    with app.app_context():
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == NEW_NAME))
        assert (org.kind, org.proposed) == ("federation", True)
    assert register_shows(app, coordinator, NEW_NAME) == dict.fromkeys(SHOWN, False)
    # SKR sees what it decides: the registration names the proposed organisation as new.
    page = coordinator.get(f"/omgangar/anmalningar/{registration_id}").get_data(True)
    assert NEW_NAME in page and "Ny organisation" in page
    url = f"/omgangar/anmalningar/{registration_id}"
    assert post_form(coordinator, url, {"decision": "accept"}, url).status_code == 302
    assert register_shows(app, coordinator, NEW_NAME) == dict.fromkeys(SHOWN, True)


def test_a_declined_registration_is_told_to_its_sender_with_the_reason(app):
    cohort_id = open_cohort(app)
    form = answers(organisation="", new_name=NEW_NAME, new_kind="federation")
    registration_id = send_and_confirm(app, app.test_client(), cohort_id, form)
    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    url = f"/omgangar/anmalningar/{registration_id}"
    reason = "Förbundet är inte en huvudman för verksamhet."
    decided = post_form(coordinator, url, {"decision": "decline", "reason": reason}, url)
    assert decided.status_code == 302
    with app.app_context():
        (told,) = mails("registration_decided")
        assert told.recipient == "sam@fagersta.example.org"
        assert "avböjt" in told.subject + told.body_text and reason in told.body_text
        assert mails("invitation") == []
        # Declined, the proposal stays out of the register.
        assert db.session.scalar(
            sa.select(Organisation.proposed).where(Organisation.name == NEW_NAME)
        )  # fmt: skip
    assert register_shows(app, coordinator, NEW_NAME) == dict.fromkeys(SHOWN, False)


def test_a_registration_sent_on_the_last_day_counts_when_confirmed_the_next_morning(app):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    cohort_id = open_cohort(app)
    stockholm = ZoneInfo("Europe/Stockholm")
    with app.app_context():
        cohort = db.session.get(cohorts.Cohort, cohort_id)
        deadline = cohort.registration_deadline
        late_evening = datetime.combine(deadline, datetime.min.time(), stockholm).replace(
            hour=23, minute=50
        )
        data = public._data_from_json(
            {
                "decision_date": "2026-05-20",
                "decision_body": "Kommunfullmäktige",
                "decision_reference": None,
                "cemr_signed": True,
                "contacts": [
                    {"function": f, "name": f.title(), "email": f"{f}@fagersta.example.org"}
                    for f in ("politician", "manager", "strategist")
                ],
                "mentor_commitment": True,
            }
        )
        fagersta = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Fagersta"))
        pending = public.start(
            db.session,
            cohort,
            organisation=fagersta,
            new_name=None,
            new_kind=None,
            data=data,
            submitter_email="sam@fagersta.example.org",
            now=late_evening,
        )
        db.session.commit()
        token = link_in(mails("confirmation")[0]).rsplit("/", 1)[1]
        next_morning = late_evening + timedelta(hours=8)
        registration = public.confirm(db.session, token, now=next_morning)
        db.session.commit()
        assert registration.status == "submitted"
        assert registration.submitted_on == deadline
        assert pending.confirmed_at is not None
        # A registration sent the day after the deadline is refused as before.
        with pytest.raises(RuleViolation):
            public.start(
                db.session,
                cohort,
                organisation=fagersta,
                new_name=None,
                new_kind=None,
                data=data,
                submitter_email="sam@fagersta.example.org",
                now=next_morning,
            )


def test_bad_answers_are_shown_beside_their_fields_and_nothing_is_kept(app):
    cohort_id = open_cohort(app)
    visitor = app.test_client()
    url = f"/omgangar/{cohort_id}/intresse"
    cases = [
        (answers(organisation="Fagerstad"), "Ingen organisation heter så"),
        (answers(organisation="", new_name="Ny"), "Ange typen för organisationen du namnger"),
        (answers(organisation=""), "Välj din organisation"),
        # The register has every municipality: none is added from the form, however written.
        (
            answers(organisation="", new_name="Nyköpings kommun", new_kind="municipality"),
            "Alla kommuner och regioner finns i listan",
        ),
        (
            answers(organisation="", new_name="Hudiksvalls kommun", new_kind="other"),
            "Hudiksvall finns i registret",
        ),
        (
            answers(organisation="", new_name="ÅRE", new_kind="other"),
            "Åre finns i registret",
        ),
        (answers(submitter_email="inte-en-adress"), "submitter_email-error"),
        # The summary names a contact's field fully: three fields are called "E-postadress".
        (answers(manager_email="chef-at-fagersta"), ">Chef – e-postadress: "),
        (answers(mentor_commitment=None), "mentor_commitment-error"),
        # An organisation not chosen is listed with the other problems, not after them.
        (answers(organisation="", submitter_email=""), "organisation-error"),
        (answers(organisation="Fagerstad", manager_email="x"), "Ingen organisation heter så"),
    ]
    for form, shown in cases:
        page = post_form(visitor, url, form)
        assert page.status_code == 200 and shown in page.get_data(True), shown
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingRegistration)) == 0
        assert mails("confirmation") == []


def test_an_organisation_already_registered_is_told_so(app):
    cohort_id = open_cohort(app)
    visitor = app.test_client()
    url = f"/omgangar/{cohort_id}/intresse"
    post_form(visitor, url, answers())
    with app.app_context():
        link = link_in(mails("confirmation")[0])
    page = visitor.get(link)
    visitor.post(link, data={"csrf_token": csrf_from(page.get_data(True))})
    again = post_form(visitor, url, answers())
    assert "Fagersta har redan anmält intresse" in again.get_data(True)


def test_the_honeypot_stores_nothing_and_unconfirmed_registrations_expire(app):
    cohort_id = open_cohort(app)
    visitor = app.test_client()
    url = f"/omgangar/{cohort_id}/intresse"
    robot = post_form(visitor, url, answers(website="http://spam.example"))
    assert robot.status_code == 302  # told it went well, like a person
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingRegistration)) == 0
    post_form(visitor, url, answers())
    with app.app_context():
        link = link_in(mails("confirmation")[0])
    later = utcnow() + timedelta(hours=public.PENDING_HOURS, minutes=1)
    worker.run_once(app, now=later)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingRegistration)) == 0
    assert visitor.get(link).status_code == 400


def test_the_public_form_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, PUBLIC_FORM_RATE_LIMIT="2 per hour")
    cohort_id = open_cohort(app)
    visitor = app.test_client()
    url = f"/omgangar/{cohort_id}/intresse"
    responses = [post_form(visitor, url, answers(organisation="Fagerstad")) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    # Refused, the form comes back with what was written and says when to send it again.
    page = responses[2].get_data(as_text=True)
    assert "Nothing was sent" not in page and "Inget skickades" in page
    assert 'value="Fagerstad"' in page and "sam@fagersta.example.org" in page
    assert 0 < int(responses[2].headers["Retry-After"]) <= 3601


def test_a_closed_cohort_takes_no_registrations(app):
    with app.app_context():
        running = db.session.scalar(
            sa.select(InterestRegistration.cohort_id).limit(1)
        )  # the demo's cohorts are past registration
    assert app.test_client().get(f"/omgangar/{running}/intresse").status_code == 404
    assert app.test_client().get("/omgangar/999999/intresse").status_code == 404
    # Nobody is created a person or an account by a registration that is not accepted.
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(Person).where(
                Person.email == "sam@fagersta.example.org"
            )
        ) == 0  # fmt: skip


def test_an_scb_code_alone_names_its_organisation(app):
    cohort_id = open_cohort(app)
    visitor = app.test_client()
    sent = post_form(visitor, f"/omgangar/{cohort_id}/intresse", answers(organisation="1982"))
    assert sent.status_code == 302
    with app.app_context():
        (pending,) = db.session.scalars(sa.select(PendingRegistration)).all()
        assert pending.organisation.name == "Fagersta"


def test_skr_sees_where_a_registration_came_from_and_is_warned_of_existing_accounts(app):
    cohort_id = open_cohort(app)
    visitor = app.test_client()
    # Botkyrka has accounts (the demo's strategist); someone registers it from outside.
    form = answers(
        organisation="Botkyrka (Kommun, 0127)",
        politician_email="a@x.example.se",
        manager_email="a@x.example.se",
        strategist_email="b@x.example.se",
        submitter_email="b@x.example.se",
    )
    assert post_form(visitor, f"/omgangar/{cohort_id}/intresse", form).status_code == 302
    with app.app_context():
        link = link_in(mails("confirmation")[0])
    page = visitor.get(link)
    visitor.post(link, data={"csrf_token": csrf_from(page.get_data(True))})
    with app.app_context():
        registration_id = db.session.scalar(
            sa.select(InterestRegistration.id).where(InterestRegistration.cohort_id == cohort_id)
        )
    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    url = f"/omgangar/anmalningar/{registration_id}"
    html = coordinator.get(url).get_data(True)
    assert "skickad av b@x.example.se" in html
    assert "Botkyrka har redan" in html and "stäm av med organisationen" in html
    accepted = post_form(coordinator, url, {"decision": "accept"})
    notes = coordinator.get(accepted.location).get_data(True)
    assert "a@x.example.se är angiven för mer än en funktion" in notes


def test_a_declined_registration_does_not_lock_the_organisation_out(app):
    """A stranger registers Fagersta and SKR declines it: Fagersta's own registration is
    taken all the same, and SKR decides it afresh."""
    cohort_id = open_cohort(app)
    stranger = answers(submitter_email="stranger@evil.example")
    first = send_and_confirm(app, app.test_client(), cohort_id, stranger)
    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    url = f"/omgangar/anmalningar/{first}"
    post_form(coordinator, url, {"decision": "decline", "reason": "Okänd avsändare"}, url)
    again = send_and_confirm(app, app.test_client(), cohort_id, answers())
    assert again == first  # the same organisation's registration, submitted anew
    with app.app_context():
        registration = db.session.get(InterestRegistration, again)
        assert registration.status == "submitted"
        assert registration.decision_reason is None and registration.decided_at is None
