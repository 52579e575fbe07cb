"""The scheduler process: APScheduler as the clock, the app's own tables as the memory.

`flask modell scheduler` runs a blocking APScheduler with three jobs and no job store of its
own (nothing pickled, nothing lost across restarts):

- the **lease**, every third of SCHEDULER_LEASE_SECONDS: take or renew the lease;
- the **tick**, every SCHEDULER_TICK_SECONDS (a minute): if this process holds the lease,
  process the reminders due now (`services.process`) and the weekly digests;
- the **delivery**, every WORKER_POLL_SECONDS: the outbox worker (`core.worker.run_once`),
  which any number of processes may run at once, since each message is claimed before it
  is sent.

Several scheduler processes may run, on one host or many: exactly one holds the lease (a
row with an expiry, taken with a conditional UPDATE, which works on SQLite and PostgreSQL
alike). The holder renews it three times per lease period; when it dies, the lease lapses
within SCHEDULER_LEASE_SECONDS (45 s by default) and the next lease check of another
process, at most a third of that later, takes it and ticks at once: a dead leader's work
is taken up within one tick. A leader that could not renew (the database was away) stops
processing before its lease can have lapsed.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modell.core import worker
from modell.core.types import utcnow
from modell.reminders import services
from modell.reminders.models import SchedulerLease

log = logging.getLogger(__name__)

LEASE_NAME = "reminders"


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def take_lease(session: Session, holder: str, *, now: datetime, seconds: float) -> bool:
    """Take or renew the lease. A conditional UPDATE succeeds only for the holder or once
    the lease has lapsed; the very first process takes it with an INSERT."""
    expires = now + timedelta(seconds=seconds)
    result = session.execute(
        sa.update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE_NAME,
            sa.or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=expires, heartbeat_at=now)
    )
    if result.rowcount == 1:
        session.commit()
        return True
    if session.get(SchedulerLease, LEASE_NAME) is None:
        session.add(
            SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=expires, heartbeat_at=now)
        )
        try:
            session.commit()
            return True
        except IntegrityError:  # another process inserted it first
            session.rollback()
            return False
    session.rollback()
    return False


def release_lease(session: Session, holder: str) -> None:
    session.execute(
        sa.delete(SchedulerLease).where(
            SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder
        )
    )
    session.commit()


class Scheduler:
    """One process's part: its name, whether it leads, the lease check and the tick."""

    def __init__(self, app: Flask, *, clock: Callable[[], datetime] = utcnow):
        self.app = app
        self.clock = clock
        self.holder = holder_name()
        self.leading = False
        self.lease_seconds = app.config["SCHEDULER_LEASE_SECONDS"]
        self.on_lead: Callable[[], None] | None = None  # run_forever: tick at once

    def lease(self, *, tick_on_lead: bool = True) -> bool:
        """Take or renew the lease; True while this process leads. Newly leading, the lease
        check asks for a tick at once (the tick itself does not ask for another)."""
        now = self.clock()
        with self.app.app_context():
            from modell.extensions import db

            with Session(db.engine) as session:
                held = take_lease(session, self.holder, now=now, seconds=self.lease_seconds)
                if held and not self.leading:
                    # A new leader takes back whatever a dead one had claimed.
                    released = services.release_claims(session)
                    session.commit()
                    log.info("scheduler %s leads (took back %d claims)", self.holder, released)
                elif not held and self.leading:
                    log.warning("scheduler %s lost the lease", self.holder)
        was_leading, self.leading = self.leading, held
        if held and not was_leading and tick_on_lead and self.on_lead is not None:
            self.on_lead()
        return held

    def tick(self) -> services.Summary | None:
        """If this process leads (the lease renewed now), process what is due. None when
        another process leads."""
        if not self.lease(tick_on_lead=False):
            return None
        now = self.clock()
        with self.app.app_context():
            from modell.extensions import db

            with Session(db.engine) as session:
                summary = services.process(session, now, self.app.config)
        if summary.due or summary.messages:
            log.info("reminders at %s: %s", now.isoformat(), summary.line())
        return summary

    def deliver(self) -> None:
        worker.run_once(self.app, now=self.clock())

    def stop(self) -> None:
        with self.app.app_context():
            from modell.extensions import db

            with Session(db.engine) as session:
                release_lease(session, self.holder)


def run_forever(app: Flask, *, stop: threading.Event | None = None) -> None:
    """The blocking process: APScheduler's clock fires the lease check, the tick and the
    delivery; each is coalesced and never runs twice at once."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    process = Scheduler(app)
    clock = BlockingScheduler(
        timezone="Europe/Stockholm",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )

    def guarded(job: Callable[[], object], name: str) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            except Exception:  # the database may be restarting: the next run tries again
                log.exception("scheduler %s failed", name)
                if name == "lease":
                    process.leading = False  # unsure of the lease: do not act on it

        return run

    started = datetime.now().astimezone()
    clock.add_job(
        guarded(process.lease, "lease"),
        "interval",
        seconds=app.config["SCHEDULER_LEASE_SECONDS"] / 3,
        next_run_time=started,
        id="lease",
    )
    clock.add_job(
        guarded(process.tick, "tick"),
        "interval",
        seconds=app.config["SCHEDULER_TICK_SECONDS"],
        next_run_time=started,
        id="tick",
    )
    clock.add_job(
        guarded(process.deliver, "delivery"),
        "interval",
        seconds=app.config["WORKER_POLL_SECONDS"],
        next_run_time=started,
        id="delivery",
    )
    # Taking over from a dead leader: tick now rather than at the next whole interval.
    process.on_lead = lambda: clock.modify_job("tick", next_run_time=datetime.now().astimezone())
    if stop is not None:
        threading.Thread(
            target=lambda: (stop.wait(), clock.shutdown(wait=False)), daemon=True
        ).start()
    log.info("scheduler %s started", process.holder)
    try:
        clock.start()
    finally:
        process.stop()
