"""All mail goes through the outbox: written with the change, delivered by the worker."""

import sys
import time
from datetime import timedelta

import sqlalchemy as sa

from modell.core import mail, worker
from modell.core.models import OutboxMessage
from modell.core.types import utcnow
from modell.extensions import db
from tests.conftest import DEMO, csrf_from, free_port, login, post_form

# The test's own messages (the demo's running cohort has sent invitations of its own).
OUR = OutboxMessage.kind == "test"


def _queue(subject="Hej", text="Text", **kw):
    return mail.queue(
        db.session,
        now=utcnow(),
        kind="test",
        to="a@example.org",
        subject=subject,
        text=text,
        **kw,
    )


def _status_becomes(wanted: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        status = db.session.scalar(sa.select(OutboxMessage.status).where(OUR))
        if status == wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def test_a_message_is_delivered_by_the_worker_within_seconds_of_the_commit(mail_app, smtp):
    with mail_app.app_context():
        _queue(
            html="<p>Text</p>",
            cc=["skr@example.org"],
            attachments=[
                mail.Attachment("mote.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR")
            ],
        )
        db.session.commit()
        (message,) = smtp.wait_for(1)
        assert _status_becomes("sent") == "sent"
        assert db.session.scalar(sa.select(OutboxMessage.sent_at).where(OUR)) is not None
    assert message["Subject"] == "Hej" and message["Cc"] == "skr@example.org"
    assert sorted(smtp.messages[0][0]) == ["a@example.org", "skr@example.org"]
    (ics,) = [p for p in message.iter_attachments()]
    assert ics.get_content_type() == "text/calendar" and ics.get_param("method") == "REQUEST"
    assert ics.get_filename() == "mote.ics"


def test_a_rolled_back_change_sends_no_mail_and_leaves_nothing_in_the_outbox(mail_app, smtp):
    with mail_app.app_context():
        _queue()
        db.session.flush()
        db.session.rollback()
        _queue(subject="Efter")
        db.session.commit()
        smtp.wait_for(1)
        assert db.session.scalars(sa.select(OutboxMessage.subject).where(OUR)).all() == ["Efter"]
    assert [m["Subject"] for _, m in smtp.messages] == ["Efter"]


def test_a_failed_delivery_stays_pending_and_the_flush_command_sends_it_later(make_app, smtp):
    dead_port = free_port()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=dead_port, MAIL_TIMEOUT=2)
    with app.app_context():
        _queue()
        db.session.commit()
        assert (
            db.session.scalar(sa.select(OutboxMessage.attempts).where(OUR)) == 0
        )  # nothing in the commit
    worker.run_once(app, now=utcnow())
    with app.app_context():
        stored = db.session.scalar(sa.select(OutboxMessage).where(OUR))
        assert (stored.status, stored.attempts) == ("pending", 1)
        assert "Connection" in stored.last_error or "refused" in stored.last_error.lower()
    assert smtp.messages == []

    app.config["MAIL_PORT"] = smtp.port
    result = app.test_cli_runner().invoke(args=["modell", "mail", "flush"])
    assert "Sent 1" in result.output, result.output
    assert len(smtp.wait_for(1)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMessage.status).where(OUR)) == "sent"


def test_a_message_is_never_sent_twice(mail_app, smtp):
    with mail_app.app_context():
        message = _queue()
        db.session.commit()
        smtp.wait_for(1)
        again = mail.deliver(db.engine, mail_app.config, now=utcnow(), only=[message.id])
        flushed = mail.flush(db.engine, mail_app.config, now=utcnow(), force=True)
    assert again == {"sent": 0, "retry": 0, "failed": 0}
    assert flushed["sent"] == 0
    assert len(smtp.messages) == 1


def test_without_a_mail_server_messages_wait_in_the_outbox_where_staff_see_them_but_not_their_text(
    app,
):
    with app.app_context():
        _queue(subject="Inbjudan till benchmarkingträff", text="Hemlig text med en länk")
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["modell", "mail", "flush"])
    assert "1 message(s) kept" in result.output
    client = app.test_client()
    login(client, DEMO["admin"])
    page = client.get("/utkorg").get_data(True)
    assert "Inbjudan till benchmarkingträff" in page and "a@example.org" in page
    with app.app_context():
        message_id = db.session.scalar(sa.select(OutboxMessage.id).where(OUR))
    detail = client.get(f"/utkorg/{message_id}").get_data(True)
    assert "Väntar på att skickas" in detail and "Hemlig text" not in detail


def test_a_failed_attempt_waits_a_growing_delay_and_after_the_last_an_admin_sends_it_again(
    make_app, smtp
):
    app = make_app(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2, MAIL_MAX_ATTEMPTS=4
    )
    start = utcnow()
    with app.app_context():
        message = _queue()
        db.session.commit()
        message_id = message.id

        def attempt(after_seconds: float) -> tuple:
            mail.deliver(db.engine, app.config, now=start + timedelta(seconds=after_seconds))
            db.session.expire_all()
            row = db.session.get(OutboxMessage, message_id)
            wait = row.next_attempt_at and (row.next_attempt_at - start).total_seconds()
            return row.status, row.attempts, wait

        # 1, 2, 4 minutes between the attempts; nothing is tried before its time.
        assert attempt(0) == ("pending", 1, 60)
        assert attempt(59) == ("pending", 1, 60)
        assert attempt(60) == ("pending", 2, 60 + 120)
        assert attempt(179) == ("pending", 2, 180)
        assert attempt(180) == ("pending", 3, 180 + 240)
        status, attempts, _ = attempt(420)
        assert (status, attempts) == ("failed", 4)
        assert attempt(100_000)[:2] == ("failed", 4)  # failed stays failed
    assert smtp.messages == []

    # The admin sees it among the failed ones and sends it again, once the server is back.
    app.config["MAIL_PORT"] = smtp.port
    client = app.test_client()
    login(client, DEMO["admin"])
    failed_page = client.get("/utkorg?status=failed").get_data(True)
    assert f"/utkorg/{message_id}" in failed_page and "ConnectionRefusedError" in failed_page
    page = client.get(f"/utkorg/{message_id}")
    response = client.post(
        f"/utkorg/{message_id}/forsok-igen", data={"csrf_token": csrf_from(page.get_data(True))}
    )
    assert response.status_code == 302
    worker.run_once(app, now=utcnow())
    assert len(smtp.wait_for(1)) == 1
    with app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        assert (row.status, row.attempts) == ("sent", 1)


def test_a_coordinator_reads_the_failed_messages_but_only_an_admin_sends_them_again(app):
    with app.app_context():
        message = _queue()
        message.status = "failed"
        db.session.commit()
        message_id = message.id
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get(f"/utkorg/{message_id}").get_data(True)
    assert "Skicka igen" not in page
    token = csrf_from(page)
    assert (
        client.post(f"/utkorg/{message_id}/forsok-igen", data={"csrf_token": token}).status_code
        == 403
    )
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == "failed"


def test_a_refused_address_fails_alone_at_once_and_the_rest_of_the_batch_goes_out(make_app, smtp):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        ids = []
        for to in ("first@example.org", "refused@example.org", "third@example.org"):
            message = mail.queue(
                db.session, now=utcnow(), kind="test", to=to, subject=to, text="Text"
            )
            db.session.flush()
            ids.append(message.id)
        db.session.commit()
        result = mail.deliver(db.engine, app.config, now=utcnow(), only=ids)
        assert result == {"sent": 2, "retry": 0, "failed": 1}
        rows = {m.recipient: m for m in db.session.scalars(sa.select(OutboxMessage).where(OUR))}
        assert rows["refused@example.org"].status == "failed"
        assert "550" in rows["refused@example.org"].last_error
        assert rows["refused@example.org"].attempts == 1  # a refusal is not retried
    assert sorted(m["Subject"] for m in smtp.wait_for(2)) == [
        "first@example.org",
        "third@example.org",
    ]


def test_every_attempt_at_a_message_carries_the_same_message_id(mail_app, smtp):
    with mail_app.app_context():
        message = _queue()
        db.session.commit()
        first = mail.build_email(message, "modell@skr.example.org")["Message-ID"]
        again = mail.build_email(message, "modell@skr.example.org")["Message-ID"]
        assert (
            first
            == again
            == f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@skr.example.org>"
        )
        other = _queue(subject="Annan")
        db.session.commit()
        assert mail.build_email(other, "modell@skr.example.org")["Message-ID"] != first
        sender = mail_app.config["MAIL_DEFAULT_SENDER"]
        expected = {mail.message_id(row, sender) for row in (message, other)}
    assert {m["Message-ID"] for m in smtp.wait_for(2)} == expected


# Every socket a web request opens to the SMTP server's port (see the audit hook below).
_SMTP_WATCH: dict = {"port": None, "seen": []}


def _audit(event: str, args: tuple) -> None:
    if event != "socket.connect" or _SMTP_WATCH["port"] is None:
        return
    from flask import has_request_context, request

    address = args[1]
    if isinstance(address, tuple) and address[1:2] == (_SMTP_WATCH["port"],):
        _SMTP_WATCH["seen"].append(request.path if has_request_context() else None)


sys.addaudithook(_audit)  # a hook cannot be removed; it watches only while a port is set


def test_no_web_request_opens_an_smtp_connection_the_worker_does(make_app, smtp):
    """With a live mail server configured and no worker running, the requests that cause
    mail (a password reset, an account invitation, a meeting's invitations) only write the
    outbox; Python's own audit event for every socket connect shows no request connecting
    to the mail server. Then the worker delivers, so the server was there to be reached."""
    from tests.test_reminders import living_meeting

    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        meeting_id = living_meeting(2).id
        before = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == "pending")
        )
    _SMTP_WATCH.update(port=smtp.port, seen=[])
    try:
        anonymous = app.test_client()
        post_form(anonymous, "/konto/glomt-losenord", {"email": DEMO["participant"]})
        coordinator = app.test_client()
        login(coordinator, DEMO["coordinator"])
        invited = post_form(
            coordinator,
            "/konto/bjud-in",
            {
                "name": "Nina Ny",
                "email": "nina@example.org",
                "role": "member",
                "organisation": "Fagersta (Kommun, 1982)",
                "function": "strategist",
                "county_code": "",
            },
        )
        assert invited.status_code == 302
        sent = post_form(
            coordinator, f"/moten/{meeting_id}/bjud-in", {"bekraftat": "1"}, f"/moten/{meeting_id}"
        )
        assert sent.status_code == 302
        in_requests = [path for path in _SMTP_WATCH["seen"] if path is not None]
        assert in_requests == [], f"requests that talked SMTP: {in_requests}"
        assert smtp.messages == []
        with app.app_context():
            waiting = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending")
            )
        assert waiting > before  # the requests wrote mail...
        worker.run_once(app, now=utcnow())  # ...which the worker delivers
        assert len(smtp.wait_for(waiting)) >= waiting - before
        assert _SMTP_WATCH["seen"], "the worker's connection was not seen: the watch is blind"
    finally:
        _SMTP_WATCH["port"] = None
