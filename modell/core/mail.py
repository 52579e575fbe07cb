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
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from modell.core.claims import claim
from modell.core.models import OutboxAttachment, OutboxMessage

# With the default delays (1, 2, 4, ... minutes, capped at an hour) the last of 15 attempts
# falls about ten hours after the first: a mail server down overnight loses nothing.
MAX_ATTEMPTS = 15


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


def retry_delay(attempts: int, config: Mapping) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, ... minutes, capped."""
    base = config.get("MAIL_RETRY_BASE_SECONDS", 60)
    cap = config.get("MAIL_RETRY_MAX_SECONDS", 3600)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def _claimable(now: datetime, config: Mapping, *, force: bool) -> sa.ColumnElement[bool]:
    """Pending and due (or, forced, pending at all), or claimed by a process that died."""
    stale = now - timedelta(seconds=config.get("MAIL_CLAIM_TIMEOUT_SECONDS", 600))
    due = (
        sa.true()
        if force
        else sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)
    )
    return sa.and_(
        # The partial index's own condition, as constants: so that the planner (SQLite's
        # too, which matches the terms as written) uses that index.
        sa.text("outbox_messages.status IN ('pending', 'sending')"),
        sa.or_(
            sa.and_(OutboxMessage.status == "pending", due),
            sa.and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < stale),
        ),
    )


def deliver(
    engine: sa.Engine,
    config: Mapping,
    *,
    now: datetime,
    only: list[int] | None = None,
    force: bool = False,
) -> dict:
    """Send what is due (or only the given messages), one claimed message at a time over
    one SMTP connection.

    A claimed row is this process's alone (see core/claims.py), so any number of workers
    and schedulers may deliver at once and no message is sent twice, unless a process dies
    between the SMTP server's "250 accepted" and its own commit: then the claim lapses
    after MAIL_CLAIM_TIMEOUT_SECONDS and the message is sent again, with the same
    Message-ID, so the copy is recognisable. Claiming one message at a time keeps every
    claim younger than one SMTP exchange (MAIL_TIMEOUT), far below that timeout, so a live
    process's claim never looks abandoned. A failed attempt waits a growing delay; after
    MAIL_MAX_ATTEMPTS, or at once when the server refuses the message for good (a 5xx
    answer), the message is failed and shown in the outbox, where staff can retry it.
    """
    result = {"sent": 0, "retry": 0, "failed": 0}
    if only is not None and not only:
        return result
    claimable = _claimable(now, config, force=force)
    if only is not None:
        claimable = sa.and_(claimable, OutboxMessage.id.in_(only))
    smtp: smtplib.SMTP | None = None
    with Session(engine) as s:
        try:
            while True:
                ids = claim(
                    s,
                    OutboxMessage,
                    claimable,
                    order_by=(OutboxMessage.id,),
                    limit=1,
                    values={"status": "sending", "claimed_at": now},
                )
                s.commit()
                if not ids:
                    return result
                message = s.get(OutboxMessage, ids[0])
                if smtp is None:
                    try:
                        smtp = _connect(config)
                    except OSError as exc:  # smtplib's errors are OSErrors too
                        _attempt_failed(message, exc, now, config, result)
                        s.commit()
                        return result  # the server is away: the next pass tries again
                if not _send_one(smtp, message, config, now, result):
                    s.commit()
                    return result  # the connection broke: the next pass reconnects
                s.commit()
        finally:
            if smtp is not None:
                with contextlib.suppress(OSError):
                    smtp.quit()


def wait_while_sending(engine: sa.Engine, ids: list[int], *, timeout: float) -> None:
    """Wait (at most `timeout` seconds) until no message of `ids` is being sent."""
    deadline = time.monotonic() + timeout
    with Session(engine) as s:
        while time.monotonic() < deadline:
            sending = s.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
            )
            s.rollback()
            if not sending:
                return
            time.sleep(0.05)


def flush(engine: sa.Engine, config: Mapping, *, now: datetime, force: bool = False) -> dict:
    """Deliver what is due; `force` also what waits for its next attempt (an operator who
    has just fixed the mail server). Without MAIL_SERVER nothing leaves: `kept` counts."""
    if not config.get("MAIL_SERVER"):
        with Session(engine) as s:
            kept = s.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending")
            )
        return {"sent": 0, "retry": 0, "failed": 0, "kept": kept}
    return deliver(engine, config, now=now, force=force) | {"kept": 0}


def _send_one(
    smtp: smtplib.SMTP, m: OutboxMessage, config: Mapping, now: datetime, result: dict
) -> bool:
    """Send one claimed message and record how it went; False when the connection broke."""
    try:
        smtp.send_message(build_email(m, config["MAIL_DEFAULT_SENDER"], sent_at=now))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        _attempt_failed(m, exc, now, config, result, final=min(codes) >= 500)
    except smtplib.SMTPResponseException as exc:
        _attempt_failed(m, exc, now, config, result, final=exc.smtp_code >= 500)
    except OSError as exc:  # smtplib's other errors too: the connection is gone
        _attempt_failed(m, exc, now, config, result)
        return False
    except Exception as exc:  # a header that cannot be encoded: this message only
        _attempt_failed(m, exc, now, config, result, final=True)
    else:
        m.status, m.sent_at, m.last_error, m.next_attempt_at = "sent", now, None, None
        m.attempts += 1
        result["sent"] += 1
    return True


def describe_error(exc: Exception) -> str:
    """What went wrong, as the mail server said it: "550 5.1.1 No such mailbox (to ...)"."""

    def said(code: int, text) -> str:
        words = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{code} {words}".strip()

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{said(code, text)} ({address})" for address, (code, text) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return said(exc.smtp_code, exc.smtp_error)
    return f"{type(exc).__name__}: {exc}"


def _attempt_failed(
    message: OutboxMessage,
    exc: Exception,
    now: datetime,
    config: Mapping,
    result: dict,
    *,
    final: bool = False,
) -> None:
    message.attempts += 1
    message.last_error = describe_error(exc)[:2000]
    message.claimed_at = None
    if final or message.attempts >= config.get("MAIL_MAX_ATTEMPTS", MAX_ATTEMPTS):
        message.status, message.next_attempt_at = "failed", None
        result["failed"] += 1
    else:
        message.status = "pending"
        message.next_attempt_at = now + retry_delay(message.attempts, config)
        result["retry"] += 1


# --- what staff may do with a message ------------------------------------------------------


def retry(session: Session, message: OutboxMessage) -> bool:
    """Send a failed (or waiting) message again at the next pass, with a fresh set of
    attempts. False when there is nothing to retry (sent, being sent, cancelled)."""
    if message.status not in ("failed", "pending"):
        return False
    message.status, message.attempts, message.next_attempt_at = "pending", 0, None
    return True


def cancel(session: Session, message: OutboxMessage) -> bool:
    """Never send a failed or waiting message (a wrong address, an outdated notice)."""
    if message.status not in ("failed", "pending"):
        return False
    message.status, message.next_attempt_at = "cancelled", None
    return True


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


def message_id(message: OutboxMessage, sender: str) -> str:
    """The same Message-ID for every attempt at the same row: a copy sent twice (a process
    killed between the server's acceptance and its own commit) is recognisable as one."""
    domain = sender.rpartition("@")[2].strip(" >") or "modell.invalid"
    return f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"


def build_email(
    message: OutboxMessage, sender: str, *, sent_at: datetime | None = None
) -> EmailMessage:
    """The outbox row as an RFC 5322 message (text, optional HTML, attachments)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    if message.cc:
        email["Cc"] = message.cc
    email["Subject"] = message.subject
    email["Date"] = format_datetime(sent_at or message.created_at)
    email["Message-ID"] = message_id(message, sender)
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
