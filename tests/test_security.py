"""The outside security test's findings, each replayed as an attack that now fails.

Numbers refer to the findings of the security issue: 1 secrets in the outbox, 2 one-click
CSRF, 3 stored denial of service by dates, 4 weak SECRET_KEY, 5 login throttling,
6 reset enumeration, 7 password policy, 8 absolute session lifetime, 9 answer links,
10 the first account on an empty database.
"""

import logging
import re
import secrets
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import event

from modell import create_app
from modell.auth import services as auth
from modell.auth.models import LoginSession, LoginThrottle, PasswordResetRequest, User
from modell.core import worker
from modell.core.errors import RuleViolation
from modell.core.models import OutboxMessage
from modell.core.types import utcnow
from modell.extensions import db
from modell.meetings import invitations
from modell.meetings import services as meetings
from modell.meetings.models import Meeting
from modell.organisations.services import load_reference
from tests.conftest import DEMO, base_config, csrf_from, login, post_form
from tests.test_meetings import START, group_meeting, start_demo

SECRET_PATHS = ("/konto/nytt-losenord/", "/konto/inbjudan/", "/moten/svar/", "/moten/kalender/")


def _secret_links(text: str) -> list[str]:
    return [m for m in re.findall(r"/[\w\-/]+/[\w.\-]{20,}", text) if m.startswith(SECRET_PATHS)]


def _outbox_pages(client, app) -> str:
    with app.app_context():
        ids = db.session.scalars(sa.select(OutboxMessage.id)).all()
    pages = [client.get("/utkorg").get_data(True)]
    pages += [client.get(f"/utkorg/{i}").get_data(True) for i in ids]
    return "\n".join(pages)


# --- 1. admin takeover through the outbox ---------------------------------------------------


def test_a_coordinator_cannot_read_the_admins_reset_link_in_the_outbox(app):
    anonymous = app.test_client()
    post_form(anonymous, "/konto/glomt-losenord", {"email": DEMO["admin"]})
    worker.run_once(app, now=utcnow())  # the worker writes the reset mail
    with app.app_context():
        (body,) = db.session.scalars(
            sa.select(OutboxMessage.body_text).where(OutboxMessage.recipient == DEMO["admin"])
        ).all()
    assert _secret_links(body), "the mail itself carries the link (for the admin's mailbox)"

    coordinator = app.test_client()
    login(coordinator, DEMO["coordinator"])
    pages = _outbox_pages(coordinator, app)
    assert DEMO["admin"] in pages  # staff see that a message went out, and to whom
    assert _secret_links(pages) == []
    assert body.strip().splitlines()[0] not in pages  # nor any of its text


def test_invitation_and_answer_links_do_not_show_in_the_outbox_either(app):
    with app.app_context():
        cohort = start_demo()
        meeting = group_meeting(cohort, "Botkyrka")
        meeting.starts_at = datetime(2019, 3, 14, 9, tzinfo=UTC)
        meeting.ends_at = datetime(2019, 3, 14, 15, tzinfo=UTC)
        invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        admin = db.session.scalar(sa.select(User).where(User.email == DEMO["admin"]))
        with app.test_request_context():
            auth.invite_user(
                db.session,
                now=START,
                invited_by=admin,
                email="ny@example.org",
                name="Ny Person",
                role="coordinator",
                organisation_id=None,
                function=None,
                county_code=None,
                secret_key=app.config["SECRET_KEY"],
            )
        db.session.commit()
        bodies = "\n".join(db.session.scalars(sa.select(OutboxMessage.body_text)))
    assert "/moten/svar/" in bodies and "/konto/inbjudan/" in bodies
    for role in ("admin", "coordinator"):
        client = app.test_client()
        login(client, DEMO[role])
        assert _secret_links(_outbox_pages(client, app)) == []


class _Kept(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_in_development_without_a_mail_server_the_link_goes_to_the_server_log(make_app):
    app = make_app(MODELL_ENV="development")
    post_form(app.test_client(), "/konto/glomt-losenord", {"email": DEMO["participant"]})
    kept = _Kept()
    app.logger.addHandler(kept)
    try:
        worker.run_once(app, now=utcnow())
    finally:
        app.logger.removeHandler(kept)
    assert any("/konto/nytt-losenord/" in line for line in kept.lines)


# --- 2. one-click CSRF --------------------------------------------------------------------------


def test_a_cross_site_post_to_the_invite_form_gets_no_page_that_resubmits_it(app):
    admin = app.test_client()
    login(admin, DEMO["admin"])
    attack = {"name": "Mallory", "email": "mallory@evil.example", "role": "admin"}
    response = admin.post("/konto/bjud-in", data=attack, headers={"Origin": "https://evil.example"})
    html = response.get_data(True)
    assert response.status_code == 400
    assert "mallory@evil.example" not in html and "Mallory" not in html
    # Even from our own origin, an account form is never offered for one-click resending.
    same = admin.post(
        "/konto/bjud-in",
        data=attack | {"csrf_token": "stale"},
        headers={"Origin": "http://localhost"},
    )
    assert same.status_code == 400 and "mallory@evil.example" not in same.get_data(True)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == attack["email"])) is None


def test_a_long_text_with_an_expired_token_is_kept_for_its_own_author_only(app):
    with app.app_context():
        meeting_id = group_meeting(start_demo(), "Botkyrka").id
        db.session.commit()
    client = app.test_client()
    login(client, DEMO["coordinator"])
    minutes = "Protokoll som tog en timme att skriva. " * 5
    url = f"/moten/{meeting_id}/dokumentation"
    data = {"csrf_token": "expired", "minutes": minutes, "decisions": ""}

    own = client.post(url, data=data, headers={"Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 400 and minutes.strip() in own.get_data(True)
    resent = client.post(url, data=data | {"csrf_token": csrf_from(own.get_data(True))})
    assert resent.status_code == 302

    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {}):
        foreign = client.post(url, data=data | {"minutes": "Planted text"}, headers=headers)
        assert foreign.status_code == 400 and "Planted text" not in foreign.get_data(True)


def test_remember_me_is_samesite_lax_and_the_csrf_token_is_renewed_at_login(app):
    client = app.test_client()
    before = csrf_from(client.get("/konto/logga-in").get_data(True))
    response = client.post(
        "/konto/logga-in",
        data={"email": DEMO["admin"], "password": "modell-demo-2019", "remember": "y"}
        | {"csrf_token": before},
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "SameSite=Lax" in remember and "HttpOnly" in remember
    # A token planted or read before the login does not work after it.
    stale = client.post(
        "/konto/sprak", data={"lang": "en", "csrf_token": before}, headers={"Origin": "x"}
    )
    assert stale.status_code == 400


def test_signed_in_pages_and_secret_link_pages_are_not_stored_by_the_browser(app):
    client = app.test_client()
    assert "no-store" not in client.get("/konto/logga-in").headers.get("Cache-Control", "")
    answer = client.get("/konto/nytt-losenord/not-a-token")
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    login(client, DEMO["participant"])
    for url in ("/omgangar/", "/organisationer/", "/moten/kalender"):
        assert client.get(url).headers["Cache-Control"] == "no-store"


# --- 3. stored denial of service by dates ----------------------------------------------------


def test_a_meeting_date_in_year_9999_is_refused_beside_the_field_and_nothing_is_stored(app):
    with app.app_context():
        meeting = group_meeting(start_demo(), "Botkyrka")
        db.session.commit()
        meeting_id, version = meeting.id, meeting.version
    client = app.test_client()
    login(client, DEMO["participant"])  # Botkyrka hosts its group's first meeting
    for day in ("9999-12-31", "1999-12-31", "2101-01-01", "2030-06-01"):
        response = post_form(
            client,
            f"/moten/{meeting_id}/andra",
            {"version": str(version), "day": day, "start": "10:00", "end": "15:00"},
        )
        assert response.status_code == 200
        assert "error-message" in response.get_data(True), day
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).version == version


def test_the_meeting_service_refuses_dates_outside_the_cohorts_period_too(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    cohort = meeting.cohort
    first, last = meetings.meeting_window(cohort)
    assert (first, last) == (
        cohort.starts_on - timedelta(days=183),
        cohort.ends_on + timedelta(days=183),
    )
    for day in (date(9999, 12, 31), date(2000, 1, 1), last + timedelta(days=1)):
        change = meetings.MeetingChange(day, time(10), time(15), None, None, None, None)
        with pytest.raises(RuleViolation) as refused:
            meetings.update_meeting(db.session, meeting, change, now=START, user_id=None)
        assert refused.value.field == "day"


def test_a_meeting_already_stored_in_year_9999_does_not_break_any_page(app):
    with app.app_context():
        cohort = start_demo()
        meeting = group_meeting(cohort, "Botkyrka")
        meeting.starts_at = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
        meeting.ends_at = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
        db.session.commit()
        ids = meeting.id, meeting.group_id, cohort.id
    client = app.test_client()
    login(client, DEMO["coordinator"])
    for url in (
        "/moten/{0}",
        "/moten/grupp/{1}",
        "/moten/omgang/{2}",
        "/moten/{0}.ics",
        "/moten/{0}/andra",
        "/omgangar/{2}",
        "/omgangar/grupper/{1}",
    ):
        assert client.get(url.format(*ids)).status_code == 200, url


# --- 4. weak SECRET_KEY -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["x", "secret", "dev-only-not-secret" * 2, "a" * 64, "changeme" * 5, "0123456789" * 4],
)
def test_production_refuses_to_start_with_a_weak_secret_key(key, tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"MODELL_ENV": "production", "SECRET_KEY": key})


def test_production_starts_with_a_generated_key(tmp_path):
    app = create_app({"MODELL_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48)})
    assert app.config["SESSION_COOKIE_SECURE"]


# --- 5. login throttling ---------------------------------------------------------------------


def _try_login(client, email, password):
    response = login(client, email, password)
    html = response.get_data(True)
    if response.status_code == 302:
        return "in"
    if response.status_code == 429 and "Vänta" in html:
        return "held"
    assert "Fel e-postadress eller lösenord" in html
    return "wrong"


@pytest.mark.parametrize("email", [DEMO["admin"], "nobody@example.org"])
def test_wrong_passwords_are_limited_per_account_across_workers(make_app, email):
    first = make_app()
    # A second worker: another app (its own memory) on the same database.
    second = create_app(dict(first.config))
    clients = [first.test_client(), second.test_client()]
    outcomes = [_try_login(clients[i % 2], email, f"wrong guess {i}") for i in range(30)]
    free = auth.LOGIN_FREE_FAILURES
    # The first ones are told the password is wrong; the last free one starts the hold.
    assert outcomes == ["wrong"] * (free - 1) + ["held"] * (30 - free + 1)
    with first.app_context():  # only those passwords were ever checked
        assert db.session.scalar(sa.select(LoginThrottle.failures)) == free
    # The right password does not get through while the account is held ...
    if email == DEMO["admin"]:
        assert _try_login(clients[0], email, "modell-demo-2019") == "held"
        # ... and does once the hold is over.
        later = utcnow() + auth.LOGIN_MAX_BLOCK + timedelta(minutes=1)
        first.config["CLOCK"] = lambda: later
        assert _try_login(clients[0], email, "modell-demo-2019") == "in"
        with first.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0
    with second.app_context():
        db.engine.dispose()


def test_a_known_and_an_unknown_address_are_held_alike(app):
    client = app.test_client()
    known = [_try_login(client, DEMO["mentor"], "nope nope 1") for _ in range(7)]
    unknown = [_try_login(client, "ghost@example.org", "nope nope 1") for _ in range(7)]
    assert known == unknown


def test_the_address_limit_counts_the_client_behind_trusted_proxies_only(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()

    def attempt(forwarded):
        page = client.get("/konto/logga-in")
        return client.post(
            "/konto/logga-in",
            data={"email": "x@example.org", "password": "p", "csrf_token": csrf_from(page.text)},
            headers={"X-Forwarded-For": forwarded},
        ).status_code

    assert [attempt("203.0.113.5") for _ in range(4)][-1] == 429
    assert attempt("198.51.100.7") == 200  # another client behind the same proxy
    untrusted = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = untrusted.test_client()
    # Without a trusted proxy the header is the client's own claim and changes nothing.
    assert [attempt(f"192.0.2.{i}") for i in range(4)][-1] == 429


# --- 6. reset enumeration -------------------------------------------------------------------


def _statements(app, email) -> list[str]:
    seen = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    client = app.test_client()
    page = client.get("/konto/glomt-losenord")
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post(
            "/konto/glomt-losenord", data={"email": email, "csrf_token": csrf_from(page.text)}
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 302
    return seen


def test_a_reset_request_does_the_same_work_for_a_known_and_an_unknown_address(make_app, smtp):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    known = _statements(app, DEMO["admin"])
    unknown = _statements(app, "nobody@example.org")
    assert known == unknown  # the same statements, so the same time: one insert
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetRequest)) == 2
    assert smtp.messages == []  # no SMTP inside the request
    result = worker.run_once(app, now=utcnow())
    assert result["password_reset"] == 1 and result["mail_sent"] == 1
    (message,) = smtp.wait_for(1)
    assert message["To"] == DEMO["admin"]


def test_many_reset_requests_for_one_address_send_at_most_three_mails_an_hour(app):
    client = app.test_client()
    for _ in range(6):
        post_form(client, "/konto/glomt-losenord", {"email": DEMO["mentor"]})
    worker.run_once(app, now=utcnow())
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(OutboxMessage.recipient == DEMO["mentor"])
            )
            == auth.RESETS_PER_HOUR
        )


# --- 7. password policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, reason",
    [
        ("1234567890", "lätt att gissa"),
        ("password12", "lätt att gissa"),
        (DEMO["participant"], "e-postadress"),
        ("strateg-botkyrka-77", "e-postadress"),
        ("Stina Strateg 2024", "e-postadress"),
    ],
)
def test_a_guessable_or_personal_password_is_refused_with_the_reason(app, password, reason):
    client = app.test_client()
    login(client, DEMO["participant"])
    response = post_form(
        client,
        "/konto/losenord",
        {"current_password": "modell-demo-2019", "password": password, "password2": password},
    )
    html = response.get_data(True)
    assert response.status_code == 200 and reason in html
    assert login(app.test_client(), DEMO["participant"], password).status_code == 200


def test_the_password_rule_is_in_the_service_and_speaks_english_too(app, ctx):
    user = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))
    with pytest.raises(RuleViolation) as refused:
        auth.set_password(db.session, user, "password12", now=START)
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        assert "too easy to guess" in str(refused.value.message)
    auth.set_password(db.session, user, "kanelbulle fjällräv ränta", now=START)


def test_a_strong_password_is_accepted(app):
    client = app.test_client()
    login(client, DEMO["participant"])
    new = "kanelbulle fjällräv ränta"
    response = post_form(
        client,
        "/konto/losenord",
        {"current_password": "modell-demo-2019", "password": new, "password2": new},
    )
    assert response.status_code == 302
    assert login(app.test_client(), DEMO["participant"], new).status_code == 302


# --- 8. absolute session lifetime -------------------------------------------------------------


def test_a_busy_login_session_still_ends_after_its_absolute_lifetime(app):
    assert app.config["LOGIN_MAX_AGE"] == timedelta(days=30)
    client = app.test_client()
    login(client, DEMO["coordinator"])
    started = utcnow()
    # Used every few hours, so it is never idle ...
    for hours in range(0, 30 * 24, 6):
        moment = started + timedelta(hours=hours)
        app.config["CLOCK"] = lambda moment=moment: moment
        assert client.get("/omgangar/").status_code == 200
    # ... but thirty days after the login it is over.
    app.config["CLOCK"] = lambda: started + timedelta(days=30, minutes=1)
    response = client.get("/omgangar/")
    assert response.status_code == 302 and "/konto/logga-in" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(LoginSession.ended_at)) is not None


# --- 9. answer links -------------------------------------------------------------------------


def test_an_answer_link_stops_working_when_its_meeting_has_ended(app):
    with app.app_context():
        cohort = start_demo()
        meeting = group_meeting(cohort, "Botkyrka")
        invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        db.session.commit()
        invitation = meeting.invitations[0]
        token = invitations.answer_token(invitation.id, app.config["SECRET_KEY"])
        others = [i.person.name for i in meeting.invitations[1:]]
        ends = meeting.ends_at
    client = app.test_client()
    app.config["CLOCK"] = lambda: ends - timedelta(days=1)
    page = client.get(f"/moten/svar/{token}")
    assert page.status_code == 200
    assert not any(name in page.get_data(True) for name in others)  # only this invitation
    app.config["CLOCK"] = lambda: ends + timedelta(minutes=1)
    closed = client.get(f"/moten/svar/{token}")
    assert closed.status_code == 410 and "mötet är slut" in closed.get_data(True).lower()
    token_of_page = csrf_from(client.get("/konto/logga-in").get_data(True))
    posted = client.post(
        f"/moten/svar/{token}", data={"response": "yes", "csrf_token": token_of_page}
    )
    assert posted.status_code == 410


# --- 10. the first account on an empty database ---------------------------------------------


def test_create_user_bootstraps_an_empty_database(backend, tmp_path):
    url, drop = backend.empty()
    try:
        app = create_app(base_config(url, MODELL_INSTANCE_DIR=str(tmp_path)))
        with app.app_context():
            upgrade()
            load_reference(db.session, now=utcnow())
            db.session.commit()
        runner = app.test_cli_runner()
        result = runner.invoke(
            args=[
                "modell",
                "create-user",
                "--email",
                "Admin@SKR.example",
                "--name",
                "Ada Admin",
                "--role",
                "admin",
            ]
        )
        assert result.exit_code == 0, result.output
        (link,) = re.findall(r"http://127\.0\.0\.1(/konto/inbjudan/\S+)", result.output)
        client = app.test_client()
        new = "kanelbulle fjällräv ränta"
        assert post_form(client, link, {"password": new, "password2": new}).status_code == 302
        assert login(client, "admin@skr.example", new).status_code == 302
        assert client.get(link).status_code == 400  # one time only
        # A member needs a real organisation; a second account with the address is refused.
        assert (
            runner.invoke(
                args=[
                    "modell",
                    "create-user",
                    "--email",
                    "m@x.se",
                    "--name",
                    "M",
                    "--role",
                    "member",
                    "--organisation",
                    "9999",
                ]
            ).exit_code
            != 0
        )
        again = runner.invoke(
            args=[
                "modell",
                "create-user",
                "--email",
                "admin@skr.example",
                "--name",
                "A",
                "--role",
                "coordinator",
            ]
        )
        assert again.exit_code != 0 and "redan ett konto" in again.output
        observer = runner.invoke(
            args=[
                "modell",
                "create-user",
                "--email",
                "lst@ac.example",
                "--name",
                "Lena",
                "--role",
                "county_observer",
                "--county",
                "24",
            ]
        )
        assert observer.exit_code == 0, observer.output
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
            db.engine.dispose()
    finally:
        drop()


def test_two_gunicorn_workers_share_the_account_limit(backend, tmp_path):
    """The finding as it was found: gunicorn with two workers, 30 wrong passwords."""
    import http.cookiejar
    import os
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.parse
    import urllib.request

    from tests.conftest import ROOT, free_port

    url, drop = backend.clone()
    port = free_port()
    env = os.environ | {
        "MODELL_ENV": "testing",
        "DATABASE_URL": url,
        "MODELL_INSTANCE_DIR": str(tmp_path),
        "RATELIMIT_ENABLED": "0",  # the per-address limit is another test's: count accounts
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        outcomes = []
        for i in range(30):
            # A new browser each time, as a script would: every request may hit either worker.
            opener = urllib.request.build_opener(
                urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
            )
            page = opener.open(base + "/konto/logga-in").read().decode()
            data = urllib.parse.urlencode(
                {"email": DEMO["admin"], "password": f"guess {i}", "csrf_token": csrf_from(page)}
            ).encode()
            try:
                html = opener.open(base + "/konto/logga-in", data).read().decode()
                outcomes.append("wrong" if "Fel e-postadress" in html else "other")
            except urllib.error.HTTPError as error:
                outcomes.append("held" if error.code == 429 else str(error.code))
        assert outcomes.count("wrong") == auth.LOGIN_FREE_FAILURES - 1
        assert outcomes.count("held") == 30 - auth.LOGIN_FREE_FAILURES + 1
    finally:
        server.terminate()
        server.wait(10)
        drop()


# --- the second outside test: what it found after the first fixes ---------------------------


def test_a_planted_session_cookie_and_token_from_a_sibling_site_change_nothing(app):
    """Cookie tossing: a page on another port or a sibling host plants a session cookie and
    its token, then posts as the victim. The token matches, the browser's Sec-Fetch-Site and
    Origin do not: refused."""
    with app.app_context():
        meeting_id = group_meeting(start_demo(), "Botkyrka").id
        db.session.commit()
    victim = app.test_client()
    login(victim, DEMO["participant"])
    token = csrf_from(victim.get(f"/moten/{meeting_id}").get_data(True))
    url = f"/moten/{meeting_id}/dokumentation"
    data = {"csrf_token": token, "minutes": "PWNED", "decisions": ""}
    for headers in (
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://127.0.0.1:8000"},
        {"Origin": "https://modell.evil.example"},
    ):
        assert victim.post(url, data=data, headers=headers).status_code == 400, headers
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).minutes is None
    # From the site's own page it works.
    own = victim.post(url, data=data, headers={"Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 302


def test_a_sign_in_from_the_remember_me_cookie_renews_the_csrf_token(app):
    client = app.test_client()
    login(client, DEMO["participant"], remember=True)
    planted = csrf_from(client.get("/omgangar/").get_data(True))
    client.delete_cookie("session")  # the browser closed: only the remember-me cookie is left
    page = client.get("/omgangar/")
    assert page.status_code == 200  # signed in again from the cookie
    stale = client.post("/konto/sprak", data={"lang": "en", "csrf_token": planted})
    assert stale.status_code == 400


def test_production_cookies_are_host_only(tmp_path):
    app = create_app({"MODELL_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48)})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-modell"
    assert app.config["REMEMBER_COOKIE_NAME"] == "__Host-remember"


def test_simultaneous_wrong_passwords_get_no_more_checks_than_one_by_one(make_app):
    """A burst of parallel logins from many addresses: each password check is reserved
    before it is made, so the burst gets the same five checks as a patient attacker."""
    from concurrent.futures import ThreadPoolExecutor

    first = make_app()
    second = create_app(dict(first.config))
    apps = [first, second]

    def attempt(i):
        return _try_login(apps[i % 2].test_client(), DEMO["coordinator"], f"burst {i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(24)))
    with first.app_context():
        assert db.session.scalar(sa.select(LoginThrottle.failures)) <= auth.LOGIN_FREE_FAILURES
    assert outcomes.count("wrong") <= auth.LOGIN_FREE_FAILURES - 1
    assert "in" not in outcomes
    with second.app_context():
        db.engine.dispose()


def test_the_hold_grows_to_an_hour_and_waiting_it_out_never_starts_over(app, ctx):
    email, moment = "target@example.org", START
    checked = 0
    holds = []
    for _ in range(40):
        wait = auth.reserve_login_attempt(db.session, email, now=moment)
        if wait is None:
            checked += 1  # a password would be checked here, and it is wrong
            wait = auth.login_hold_after_failure(db.session, email, now=moment)
        if wait:
            holds.append(wait)
            moment += wait  # the attacker waits out every hold, and tries again at once
    assert max(holds) == auth.LOGIN_MAX_BLOCK
    # Five free tries, then one per hold, the holds growing to an hour: 40 guesses take more
    # than a day (the first outside test found 9 guesses every half hour).
    assert checked == 40 and moment - START > timedelta(hours=24)


def test_a_new_password_from_a_reset_link_lifts_the_hold(app):
    client = app.test_client()
    outcomes = [_try_login(client, DEMO["mentor"], f"wrong {i}") for i in range(6)]
    assert outcomes[-1] == "held"
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == DEMO["mentor"]))
        token = auth.make_password_token(user, app.config["SECRET_KEY"], "reset")
    new = "kanelbulle fjällräv ränta"
    response = post_form(
        client, f"/konto/nytt-losenord/{token}", {"password": new, "password2": new}
    )
    assert response.status_code == 302
    assert _try_login(client, DEMO["mentor"], new) == "in"


@pytest.mark.parametrize(
    "password", ["B0dil-Str4teg!", "Sommar2026!", "Lösenord123", "botkyrka2024!"]
)
def test_names_in_digits_swedish_words_and_the_organisation_are_refused_too(app, password):
    client = app.test_client()
    login(client, DEMO["participant"])  # Bodil Strateg of Botkyrka
    response = post_form(
        client,
        "/konto/losenord",
        {"current_password": "modell-demo-2019", "password": password, "password2": password},
    )
    assert response.status_code == 200 and 'id="password-error"' in response.get_data(True)


def test_a_planted_session_with_a_remember_me_cookie_is_refused_even_without_browser_headers(app):
    """The re-test's finding: the remember-me sign-in happens after the token check, so a
    planted session's token must not be trusted when the session holds no signed-in user."""
    with app.app_context():
        meeting_id = group_meeting(start_demo(), "Botkyrka").id
        db.session.commit()
    victim = app.test_client()
    login(victim, DEMO["participant"], remember=True)
    remember = victim.get_cookie("remember_token").value
    attacker = app.test_client()
    token = csrf_from(attacker.get("/konto/logga-in").get_data(True))
    attacker.set_cookie("remember_token", remember)  # the victim's browser sends both
    url = f"/moten/{meeting_id}/dokumentation"
    response = attacker.post(url, data={"csrf_token": token, "minutes": "X", "decisions": ""})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).minutes is None
    # The victim's own long text, from its own page after the session ran out, is kept.
    victim.delete_cookie("session")
    own = victim.post(
        url,
        data={"csrf_token": "expired", "minutes": "Mina anteckningar", "decisions": ""},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert own.status_code == 400 and "Mina anteckningar" in own.get_data(True)
    resent = victim.post(
        url,
        data={"csrf_token": csrf_from(own.get_data(True)), "minutes": "Mina anteckningar"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert resent.status_code == 302


def test_a_weak_key_still_lets_the_migrations_run_but_nothing_that_signs(tmp_path):
    """`flask db upgrade` needs no key; serving and signing links do."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import ROOT

    flask = str(Path(sys.executable).parent / "flask")
    env = os.environ | {
        "MODELL_ENV": "production",
        "SECRET_KEY": "short",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "FLASK_APP": "wsgi",
    }
    upgraded = subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True)
    assert upgraded.returncode == 0, upgraded.stderr.decode()
    signing = subprocess.run(
        [flask, "modell", "create-user", "--email", "a@b.se", "--name", "A", "--role", "admin"],
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    assert signing.returncode != 0 and b"SECRET_KEY" in signing.stderr


def test_an_app_started_with_a_weak_key_serves_no_page(app):
    app.config["SECRET_KEY_PROBLEM"] = "SECRET_KEY is shorter than 32 bytes."
    response = app.test_client().get("/konto/logga-in")
    assert response.status_code == 503 and b"SECRET_KEY" in response.data


def test_a_worker_freezes_what_start_up_made_so_a_full_collection_skips_it(tmp_path):
    """gunicorn imports wsgi in each worker: start-up's objects (modules, translations,
    templates) are moved out of the garbage collector's way with gc.freeze, so that a full
    collection no longer walks them in the middle of someone's request."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    probe = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    env = os.environ | {"MODELL_ENV": "development", "MODELL_INSTANCE_DIR": str(tmp_path),
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}  # fmt: skip
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True)
    frozen, walked = (int(n) for n in run.stdout.decode().split())
    assert frozen > 50_000 and walked < frozen / 10, run.stderr.decode()[-2000:]
