"""Accounts: login, sessions that end on the server, reset and invitation by mail."""

import re
import time

import sqlalchemy as sa
from argon2 import PasswordHasher
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from modell.auth import services
from modell.auth.models import LoginSession, User
from modell.demo import DEMO_PASSWORD
from modell.extensions import db
from tests.conftest import DEMO, csrf_from, login, post_form


def test_the_login_page_is_swedish_by_default_and_english_on_request(client):
    assert "Logga in" in client.get("/konto/logga-in").get_data(True)
    page = client.get("/konto/logga-in", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in page.get_data(True) and "Log in" in page.get_data(True)


def test_a_coordinator_logs_in_and_sees_the_2019_cohort(client):
    response = login(client, DEMO["coordinator"])
    assert response.status_code == 302
    page = client.get("/omgangar/", follow_redirects=True).get_data(True)
    assert "Modellkommuner 2019" in page


def test_a_wrong_password_is_refused_with_a_message_beside_the_field(client):
    response = login(client, DEMO["coordinator"], "wrong-password")
    html = response.get_data(True)
    assert response.status_code == 200
    assert "Fel e-postadress eller lösenord." in html
    assert 'id="password-error"' in html and 'aria-invalid="true"' in html
    assert 'value="samordnare@example.org"' in html  # what the user typed is kept
    assert client.get("/omgangar/").status_code == 302


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    html = login(client, "nobody@example.org", "whatever-long").get_data(True)
    assert "Fel e-postadress eller lösenord." in html


def test_passwords_are_stored_as_argon2_hashes(app, ctx):
    user = db.session.scalar(sa.select(User).where(User.email == DEMO["admin"]))
    assert user.password_hash.startswith("$argon2id$")
    assert DEMO_PASSWORD not in user.password_hash


def test_a_hash_holds_19_mib_and_one_made_with_other_settings_is_remade_at_login(client, ctx):
    """OWASP's Argon2id setting (m=19 MiB, t=2, p=1), not 64 MiB per login held by a web
    worker; an older hash still lets its owner in and is replaced by one with the setting."""
    user = db.session.scalar(sa.select(User).where(User.email == DEMO["coordinator"]))
    user.password_hash = PasswordHasher().hash(DEMO_PASSWORD)  # argon2-cffi's 64 MiB
    db.session.commit()
    assert "m=65536" in user.password_hash
    assert login(client, DEMO["coordinator"]).status_code == 302
    db.session.expire_all()
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in user.password_hash
    assert services.check_password(user, DEMO_PASSWORD)


def test_logout_ends_the_session_on_the_server_so_a_copied_cookie_stops_working(app):
    browser = app.test_client()
    login(browser, DEMO["coordinator"], remember=True)
    copied = {c.key: c.value for c in browser._cookies.values()}
    thief = app.test_client()
    for key, value in copied.items():
        thief.set_cookie(key, value)
    assert thief.get("/omgangar/").status_code == 200

    page = browser.get("/omgangar/").get_data(True)
    browser.post("/konto/logga-ut", data={"csrf_token": csrf_from(page)})

    assert thief.get("/omgangar/").status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(LoginSession)
                .where(LoginSession.ended_at.is_(None))
            )
            == 0
        )


def test_changing_the_password_logs_out_every_other_browser(app):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, DEMO["participant"])
    login(elsewhere, DEMO["participant"])
    response = post_form(
        here,
        "/konto/losenord",
        {
            "current_password": DEMO_PASSWORD,
            "password": "a brand new passphrase",
            "password2": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert here.get("/omgangar/").status_code == 200
    assert elsewhere.get("/omgangar/").status_code == 302
    fresh = app.test_client()
    assert login(fresh, DEMO["participant"], "a brand new passphrase").status_code == 302


def test_a_password_change_needs_the_current_password_and_a_long_enough_new_one(client):
    login(client, DEMO["participant"])
    html = post_form(
        client,
        "/konto/losenord",
        {
            "current_password": "not it",
            "password": "short",
            "password2": "short",
        },
    ).get_data(True)
    assert "minst 10 tecken" in html
    assert login(client.application.test_client(), DEMO["participant"]).status_code == 302


def _link(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1(/\S+)", body).group(1)


def test_password_reset_mails_a_link_that_works_once(mail_app, smtp):
    client = mail_app.test_client()
    post_form(client, "/konto/glomt-losenord", {"email": DEMO["participant"]})
    (message,) = smtp.wait_for(1)
    assert message["To"] == DEMO["participant"]
    assert "lösenord" in message["Subject"].lower()
    link = _link(message)

    response = post_form(
        client, link, {"password": "correct horse battery", "password2": "correct horse battery"}
    )
    assert response.status_code == 302
    assert (
        login(mail_app.test_client(), DEMO["participant"], "correct horse battery").status_code
        == 302
    )
    # The same link does not work a second time.
    assert client.get(link).status_code == 400


def test_asking_for_a_reset_of_an_unknown_address_sends_nothing_and_says_the_same(mail_app, smtp):
    client = mail_app.test_client()
    response = post_form(client, "/konto/glomt-losenord", {"email": "nobody@example.org"})
    assert response.status_code == 302
    time.sleep(0.2)
    assert smtp.messages == []


def test_an_expired_reset_link_is_refused(app):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))

        class TwoHoursAgo(TimestampSigner):
            def get_timestamp(self):
                return int(time.time()) - 7200

        serializer = URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt=services._SALT, signer=TwoHoursAgo
        )
        token = serializer.dumps({"u": user.id, "f": services._fingerprint(user), "p": "reset"})
    response = app.test_client().get(f"/konto/nytt-losenord/{token}")
    assert response.status_code == 400 and "gått ut" in response.get_data(True)


def test_an_invitation_token_cannot_be_used_as_a_reset_token(app):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))
        token = services.make_password_token(user, app.config["SECRET_KEY"], "invite")
    assert app.test_client().get(f"/konto/nytt-losenord/{token}").status_code == 400


def test_a_coordinator_invites_a_strategist_who_sets_a_password_and_logs_in(mail_app, smtp):
    coordinator = mail_app.test_client()
    login(coordinator, DEMO["coordinator"])
    with mail_app.app_context():
        fagersta = db.session.scalar(
            sa.text("SELECT id FROM organisations WHERE scb_code = '1982'")
        )
    response = post_form(
        coordinator,
        "/konto/bjud-in",
        {
            "name": "Frida Fagersta",
            "email": "Frida@Fagersta.example.org",
            "role": "member",
            "organisation": "Fagersta (Kommun, 1982)",
            "function": "strategist",
            "county_code": "",
        },
    )
    assert response.status_code == 302
    (message,) = smtp.wait_for(1)
    assert message["To"] == "frida@fagersta.example.org"
    invited = mail_app.test_client()
    post_form(
        invited,
        _link(message),
        {"password": "blåbär kantarell vinter", "password2": "blåbär kantarell vinter"},
    )
    assert (
        login(invited, "frida@fagersta.example.org", "blåbär kantarell vinter").status_code == 302
    )
    with mail_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "frida@fagersta.example.org"))
        assert (user.role, user.organisation_id, user.person.function) == (
            "member",
            fagersta,
            "strategist",
        )


def test_an_invitation_with_bad_input_stores_nothing_and_keeps_what_was_typed(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = post_form(
        client,
        "/konto/bjud-in",
        {
            "name": "Namn Namnsson",
            "email": "not-an-address",
            "role": "member",
            "organisation": "",
            "function": "",
            "county_code": "",
        },
    )
    html = response.get_data(True)
    assert response.status_code == 200
    assert 'id="email-error"' in html and 'id="organisation-error"' in html
    assert 'value="Namn Namnsson"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_the_language_choice_is_remembered_for_the_user(app):
    client = app.test_client()
    login(client, DEMO["participant"])
    post_form(client, "/konto/sprak", {"lang": "en", "next": "/omgangar/"}, page_url="/omgangar/")
    assert "Cohorts" in client.get("/omgangar/").get_data(True)
    again = app.test_client()
    login(again, DEMO["participant"])
    assert '<html lang="en">' in again.get("/omgangar/").get_data(True)
