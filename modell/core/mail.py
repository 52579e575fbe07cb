"""One way for all mail: the outbox.

A message is added to the outbox in the same transaction as the change that caused
it, so a rolled-back change sends nothing and a committed change never loses its
mail. No web request talks SMTP: the worker (`flask modell worker`, see core/worker.py)
delivers pending messages a few seconds later and retries failed ones, so a slow mail
server never stalls a page and a page's timing reveals nothing about who got mail.
Without MAIL_SERVER nothing is delivered: messages wait in the outbox, where staff see
that they were written, to whom and when, but never their text (it may hold a secret
link). In development the text is written to the server log instead.
"""

import contextlib
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from modell.core.models import OutboxAttachment, OutboxMessage

MAX_ATTEMPTS = 20
STALE_CLAIM = timedelta(minutes=10)


@dataclass(frozen=True)
class Attachment:
    filename: str
    mimetype: str  # may carry parameters, e.g. "text/calendar; method=REQUEST"
    content: bytes


def queue(
    session: Session,
    *,
    now: datetime,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    cc: Iterable[str] = (),
    attachments: Iterable[Attachment] = (),
) -> OutboxMessage:
    """Put a message in the outbox as part of the caller's transaction."""
    message = OutboxMessage(
        created_at=now,
        kind=kind,
        recipient=to,
        cc=", ".join(cc) or None,
        subject=subject,
        body_text=text,
        body_html=html,
        status="pending",
        attempts=0,
    )
    for a in attachments:
        message.attachments.append(
            OutboxAttachment(filename=a.filename, mimetype=a.mimetype, content=a.content)
        )
    session.add(message)
    _log_in_development(message)
    return message


def _log_in_development(message: OutboxMessage) -> None:
    """Without a mail server in development, the only place a reset or invitation link may
    be read is the server's own log (never a page)."""
    if not has_app_context():
        return
    config = current_app.config
    if config.get("MODELL_ENV") == "development" and not config.get("MAIL_SERVER"):
        current_app.logger.warning(
            "Mail kept in the outbox (no MAIL_SERVER) to %s: %s\n%s",
            message.recipient,
            message.subject,
            message.body_text,
        )


# --- delivery ------------------------------------------------------------------------


def deliver(engine: sa.Engine, ids: list[int], config: Mapping, *, now: datetime) -> dict:
    """Claim and send the given messages; failures stay pending with the error kept.

    A claim is an UPDATE that only succeeds on a pending (or long-stale) message, so
    two workers or a worker and the scheduler never send the same message twice.
    """
    result = {"sent": 0, "failed": 0, "skipped": 0}
    if not ids:
        return result
    with Session(engine) as s:
        claimed = []
        for message_id in ids:
            row = s.execute(
                sa.update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    sa.or_(
                        OutboxMessage.status == "pending",
                        sa.and_(
                            OutboxMessage.status == "sending",
                            OutboxMessage.claimed_at < now - STALE_CLAIM,
                        ),
                    ),
                )
                .values(status="sending", claimed_at=now)
            )
            if row.rowcount == 1:
                claimed.append(message_id)
            else:
                result["skipped"] += 1
        s.commit()
        if not claimed:
            return result
        messages = s.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
        ).all()
        try:
            smtp = _connect(config)
        except (OSError, smtplib.SMTPException) as exc:
            for m in messages:
                _failed(m, exc)
            result["failed"] += len(messages)
            s.commit()
            return result
        try:
            for m in messages:
                try:
                    smtp.send_message(build_email(m, config["MAIL_DEFAULT_SENDER"]))
                except (OSError, smtplib.SMTPException) as exc:
                    _failed(m, exc)
                    result["failed"] += 1
                else:
                    m.status, m.sent_at, m.last_error = "sent", now, None
                    m.attempts += 1
                    result["sent"] += 1
                s.commit()
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
    return result


def flush(engine: sa.Engine, config: Mapping, *, now: datetime) -> dict:
    """Retry every pending message (and any claim left behind by a crashed worker)."""
    with Session(engine) as s:
        ids = s.scalars(
            sa.select(OutboxMessage.id)
            .where(
                sa.or_(
                    OutboxMessage.status == "pending",
                    sa.and_(
                        OutboxMessage.status == "sending",
                        OutboxMessage.claimed_at < now - STALE_CLAIM,
                    ),
                )
            )
            .order_by(OutboxMessage.id)
        ).all()
    if not config.get("MAIL_SERVER"):
        return {"sent": 0, "failed": 0, "skipped": 0, "kept": len(ids)}
    return deliver(engine, list(ids), config, now=now) | {"kept": 0}


def _failed(message: OutboxMessage, exc: Exception) -> None:
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    message.status = "failed" if message.attempts >= MAX_ATTEMPTS else "pending"


def _connect(config: Mapping) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    if config.get("MAIL_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    return smtp


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The outbox row as an RFC 5322 message (text, optional HTML, attachments)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    if message.cc:
        email["Cc"] = message.cc
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain="modell.local")
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    for a in message.attachments:
        mime, _, params_text = a.mimetype.partition(";")
        maintype, _, subtype = mime.strip().partition("/")
        params = {}
        for part in params_text.split(";"):
            key, _, value = part.strip().partition("=")
            if key:
                params[key] = value
        email.add_attachment(
            a.content, maintype=maintype, subtype=subtype, filename=a.filename, params=params
        )
    return email
