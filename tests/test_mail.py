"""All mail goes through the outbox: written with the change, delivered by the worker."""

import time

import sqlalchemy as sa

from modell.core import mail, worker
from modell.core.models import OutboxMessage
from modell.core.types import utcnow
from modell.extensions import db
from tests.conftest import DEMO, free_port, login

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
        again = mail.deliver(db.engine, [message.id], mail_app.config, now=utcnow())
        flushed = mail.flush(db.engine, mail_app.config, now=utcnow())
    assert again == {"sent": 0, "failed": 0, "skipped": 1}
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
