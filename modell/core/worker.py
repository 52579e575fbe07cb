"""The background worker: what must not happen inside a web request.

Web requests only write rows (an outbox message, a reset request); this process turns
them into mail and delivers it, a few seconds later. Domains register their jobs here
(`register`), so core imports no domain; each job is a plain function of a session,
`now` and the app's settings, and is as safe to run in two workers at once as the mail
delivery is (it claims its rows with a conditional update).

`flask modell worker` runs `run_forever`; tests run the same loop in a thread.
"""

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from modell.core import mail
from modell.core.types import utcnow

log = logging.getLogger(__name__)

Job = Callable[[Session, datetime, Mapping], int]
_JOBS: list[tuple[str, Job]] = []


def register(name: str, job: Job) -> None:
    """Add a job that runs on every pass, before the mail is delivered."""
    if all(existing != name for existing, _ in _JOBS):
        _JOBS.append((name, job))


def run_once(app: Flask, *, now: datetime) -> dict:
    """One pass: every registered job in its own transaction, then the mail delivery."""
    done: dict[str, int] = {}
    with app.app_context():
        from modell.extensions import db

        for name, job in _JOBS:
            with Session(db.engine) as session:
                try:
                    done[name] = job(session, now, app.config)
                    session.commit()
                except Exception:  # one broken job must not stop the mail
                    session.rollback()
                    log.exception("worker job %s failed", name)
                    done[name] = -1
        result = mail.flush(db.engine, app.config, now=now)
    if result.get("sent") or result.get("retry") or result.get("failed"):
        log.info(
            "mail: sent %d, to be retried %d, failed %d",
            result["sent"],
            result["retry"],
            result["failed"],
        )
    return done | {"mail_" + k: v for k, v in result.items()}


def run_forever(app: Flask, *, poll_seconds: float, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            clock = app.config.get("CLOCK")  # the app's time (a test may set it), else now
            run_once(app, now=clock() if clock else utcnow())
        except Exception:  # the database may be restarting: try again next pass
            log.exception("worker pass failed")
        stop.wait(poll_seconds)
