"""Load and faults: gunicorn (2 workers) on PostgreSQL under 20 signed-in users, and through a
restart of the database server.

    make loadtest                              # national data, 60 s of load, a 60 s restart run
    .venv/bin/python -m bench.loadtest --short # demo data, 15 s and 30 s (make test runs it)

Everything runs on loopback: a PostgreSQL cluster of the test's own (bench.pgcluster, so the
machine's shared server is never restarted), gunicorn with 2 workers, the scheduler as its
own process (`flask modell scheduler`) delivering to an SMTP server in this process, and
locust (bench/locustfile.py) as the users.

1. **Load.** 20 users for 60 s read the main pages of their roles and write log entries.
   Passes with zero errors; reports throughput and p95.
2. **Restart.** The same load again; after a while the server is stopped the hard way
   (`pg_ctl -m immediate`, a crash: no checkpoint, every connection cut) and started again
   some seconds later. Reminders fall due while it is away. Passes when: every answer was a
   page, a redirect, or during the gap the app's own 503 page (and there was such a gap);
   the app served again afterwards without gunicorn or its workers being restarted; every
   log entry the app acknowledged is in the database; the scheduler process lived through
   it and delivered each reminder that fell due in the gap exactly once.

Prints a table and writes bench/loadtest.json; exits 1 when a check fails.
"""

import argparse
import json
import os
import secrets
import signal
import subprocess  # nosec B404 # locust, the scheduler and gunicorn, on loopback
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import url_for

from bench import pgcluster
from bench.pages import ROOT, Browser, Server, _free_port, build, percentile
from modell.auth.models import User
from modell.cohorts.models import Group, Participation
from modell.demo import DEMO_PASSWORD
from modell.extensions import db
from modell.improvements import services as improvements
from modell.improvements.models import ImprovementWork, LogEntry
from modell.meetings.models import Meeting
from modell.organisations.models import Person
from tests.scheduler_support import add_due_reminders

RESULTS = ROOT / "bench" / "loadtest.json"
USERS = 20


class Inbox:
    def __init__(self):
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.recipients.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


# --- who the users are ------------------------------------------------------------------------


def accounts(app, t) -> list[dict]:
    """Each benchmarking organisation of the running cohort's groups: one of its people, the
    pages they read and an improvement work to log in (made when it has none); and the
    coordinator, a mentor and the county observer."""
    now = datetime.now(UTC)
    with app.test_request_context():
        session = db.session
        groups = session.scalars(
            sa.select(Group).where(Group.cohort_id == t.cohort).order_by(Group.position)
        ).all()
        listed = []
        for group in groups:
            meeting = session.scalar(
                sa.select(Meeting.id).where(Meeting.group_id == group.id).order_by(Meeting.id)
            )
            for participation in group.members("benchmarking"):
                user = session.scalar(
                    sa.select(User)
                    .join(Person, User.person_id == Person.id)
                    .where(Person.organisation_id == participation.organisation_id)
                    .order_by(User.id)
                )
                if user is None:
                    continue
                work = session.scalar(
                    sa.select(ImprovementWork.id)
                    .where(ImprovementWork.participation_id == participation.id)
                    .order_by(ImprovementWork.id)
                ) or _new_work(session, participation, user, now)
                pages = [
                    ("start", url_for("start.home")),
                    ("group", url_for("cohorts.group", group_id=group.id)),
                    ("improvement work", url_for("improvements.workspace", participation_id=participation.id)),
                    ("indicator benchmarking", url_for("improvements.benchmarking", group_id=group.id)),
                    ("notifications", url_for("reminders.notifications")),
                ]  # fmt: skip
                if meeting:
                    pages.append(("meeting", url_for("meetings.meeting", meeting_id=meeting)))
                entry_form = url_for("improvements.edit_entry", work_id=work)
                listed.append({"email": user.email, "pages": pages, "entry_form": entry_form})
        session.commit()
        start = ("start", url_for("start.home"))
        staff = [
            {"email": "samordnare@example.org", "pages": [
                start, ("cohort", url_for("cohorts.detail", cohort_id=t.cohort)),
                ("cohort calendar", url_for("meetings.cohort_calendar", cohort_id=t.cohort)),
                ("cohort overview", url_for("improvements.overview", cohort_id=t.cohort)),
                ("organisation list", url_for("organisations.index")),
            ]},
            {"email": t.mentor, "pages": [start, ("group", url_for("cohorts.group", group_id=t.group))]},
            {"email": "lansstyrelsen@example.org", "pages": [start]},
        ]  # fmt: skip
    # Staff first, so that every role is among the first users started.
    return staff + listed[: max(USERS - len(staff), 1)]


def _new_work(session, participation: Participation, user: User, now: datetime) -> int:
    work = improvements.save_work(
        session,
        participation,
        improvements.WorkData(title="Jämställd biståndshandläggning"),
        now=now,
        user_id=user.id,
    )
    session.flush()
    return work.id


def _check_pages(app, listed: list[dict]) -> None:
    """Each page of the accounts answers 200 in-process before the load starts (a wrong
    address here would otherwise show as load errors)."""
    for account in listed:
        client = app.test_client()
        client.post("/konto/logga-in", data={"email": account["email"], "password": DEMO_PASSWORD})
        for name, url in account["pages"]:
            status = client.get(url).status_code
            if status != 200:
                raise RuntimeError(f"{account['email']} {name} {url}: {status}")


def _warm_up(port: int, listed: list[dict]) -> None:
    """Each page a few times, so that both workers have loaded their templates and opened
    their connections before anything is measured."""
    for account in listed[:4]:
        browser = Browser(port)
        browser.log_in(account["email"])
        for _ in range(3):
            for _name, url in account["pages"]:
                browser.request("GET", url)


# --- the parts ---------------------------------------------------------------------------------


def _scheduler(url: str, instance: str, smtp_port: int, secret: str) -> subprocess.Popen:
    env = os.environ | {
        "FLASK_APP": "wsgi",
        "MODELL_ENV": "production",
        "SECRET_KEY": secret,
        "DATABASE_URL": url,
        "MODELL_INSTANCE_DIR": instance,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "BASE_URL": "http://127.0.0.1",
        "SCHEDULER_TICK_SECONDS": "2",
        "SCHEDULER_LEASE_SECONDS": "3",
        "WORKER_POLL_SECONDS": "0.5",
        "MAIL_RETRY_BASE_SECONDS": "1",
        "MAIL_RETRY_MAX_SECONDS": "2",
    }
    log = open(Path(instance) / "scheduler.log", "wb")  # noqa: SIM115 # closed at the end
    return subprocess.Popen(  # nosec B603 # our own scheduler
        [sys.executable, "-m", "flask", "modell", "scheduler"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _locust(port: int, listed: list[dict], seconds: int, folder: Path, *, gap: bool):
    settings = folder / f"locust-{'restart' if gap else 'load'}.json"
    tally = settings.with_suffix(".tally.json")
    settings.write_text(
        json.dumps(
            {"accounts": listed, "password": DEMO_PASSWORD, "gap_allowed": gap,
             "tally": str(tally)}
        )
    )  # fmt: skip
    process = subprocess.Popen(  # nosec B603 # locust against our own server on loopback
        [
            str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"),
            "--headless", "--users", str(USERS), "--spawn-rate", "5",
            "--run-time", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
            "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING",
        ],
        cwd=ROOT, env=os.environ | {"MODELL_LOADTEST": str(settings)},
    )  # fmt: skip
    return process, tally


def _summary(tally: dict) -> dict:
    seconds = tally["stopped"] - tally["started"]
    return {
        "requests": tally["ok"] + tally["gap"] + len(tally["errors"]),
        "ok": tally["ok"],
        "errors": len(tally["errors"]),
        "first_errors": tally["errors"][:5],
        "gap_503": tally["gap"],
        "throughput_rps": round(tally["ok"] / seconds, 1),
        "p50_ms": round(percentile(tally["ok_ms"], 50), 1) if tally["ok_ms"] else None,
        "p95_ms": round(percentile(tally["ok_ms"], 95), 1) if tally["ok_ms"] else None,
        "sign_in_p95_ms": round(percentile(tally["sign_in_ms"], 95), 1)
        if tally["sign_in_ms"]
        else None,
        "writes_acknowledged": len(tally["acknowledged"]),
    }


def _stored(app) -> set[str]:
    """The load test's log entries in the database."""
    with app.app_context():
        texts = set(
            db.session.scalars(sa.select(LogEntry.text).where(LogEntry.text.like("Lasttest %")))
        )
        db.session.remove()
    return texts


def _worker_pids(server: Server) -> set[str]:
    path = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return set(path.read_text().split())


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


# --- the run -----------------------------------------------------------------------------------


def run(scale: str, load_seconds: int, restart_seconds: int, gap_seconds: int) -> dict:
    checks: list[tuple[str, bool]] = []
    cluster = pgcluster.Cluster()
    folder = Path(tempfile.mkdtemp(prefix="modell-load-"))
    server = scheduler = smtp = None
    try:
        url = cluster.create_database("modell_load")
        started = time.monotonic()
        app, t, _ = build(url, scale, str(folder))
        listed = accounts(app, t)
        _check_pages(app, listed)
        data_seconds = round(time.monotonic() - started)
        with app.app_context():
            db.engine.dispose()

        inbox = Inbox()
        smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
        smtp.start()
        secret = secrets.token_urlsafe(48)
        scheduler = _scheduler(url, str(folder), smtp.port, secret)
        server = Server(url, str(folder))
        _warm_up(server.port, listed)

        # 1. Load.
        process, tally_path = _locust(server.port, listed, load_seconds, folder, gap=False)
        process.wait(load_seconds + 60)
        load = json.loads(tally_path.read_text())
        checks.append(("load: zero errors", not load["errors"] and load["gap"] == 0))
        missing = set(load["acknowledged"]) - _stored(app)
        checks.append(("load: every acknowledged write stored", not missing))

        # 2. Restart, with reminders falling due while the server is away.
        lead = max(5, restart_seconds // 4)
        due_at = datetime.now(UTC) + timedelta(seconds=lead + gap_seconds / 2)
        with app.app_context():
            due = add_due_reminders(
                db.session, 40, due_at=due_at, now=datetime.now(UTC), tag="gap",
                cohort_id=t.cohort,
            )  # fmt: skip
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        workers_before = _worker_pids(server)
        process, tally_path = _locust(server.port, listed, restart_seconds, folder, gap=True)
        time.sleep(lead)
        cluster.stop("immediate")
        time.sleep(gap_seconds)
        cluster.start()
        process.wait(restart_seconds + 60)
        restart = json.loads(tally_path.read_text())
        checks.append(("restart: no error beside the app's own 503 page", not restart["errors"]))
        checks.append(("restart: the gap was answered with 503 and that page", restart["gap"] > 0))
        checks.append(
            ("restart: pages and writes served again after it", restart["ok_after_gap"] > 0)
        )
        checks.append((
            "restart: gunicorn and its workers not restarted",
            server.process.poll() is None and _worker_pids(server) == workers_before,
        ))  # fmt: skip
        stored = _stored(app)
        lost = set(restart["acknowledged"]) - stored
        checks.append(("restart: every acknowledged write stored", not lost))
        delivered = _wait(lambda: set(due) <= set(inbox.recipients), 60)
        counts = Counter(r for r in inbox.recipients if r in set(due))
        checks.append(("restart: every reminder due in the gap delivered", delivered))
        checks.append(("restart: none delivered twice", all(n == 1 for n in counts.values())))
        checks.append(("restart: the scheduler process lived through it", scheduler.poll() is None))
        with app.app_context():
            db.engine.dispose()
        return {
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}",
            "scale": scale,
            "data_seconds": data_seconds,
            "users": USERS,
            "accounts": len(listed),
            "load": {"seconds": load_seconds, **_summary(load)},
            "restart": {
                "seconds": restart_seconds,
                "gap_seconds": gap_seconds,
                **_summary(restart),
                "writes_stored_not_acknowledged": len(stored)
                - len(load["acknowledged"])
                - len(restart["acknowledged"])
                + len(lost),
                "writes_lost": len(lost),
                "reminders_due_in_gap": len(due),
                "reminders_delivered": sum(counts.values()),
            },
            "checks": [{"check": name, "passed": ok} for name, ok in checks],
        }
    finally:
        if server:
            server.process.send_signal(signal.SIGTERM)
            server.process.wait(30)
        if scheduler:
            scheduler.terminate()
            scheduler.wait(30)
            print((folder / "scheduler.log").read_text(errors="replace")[-2000:] if
                  any(not ok for _, ok in checks) else "", end="")  # fmt: skip
        if smtp:
            smtp.stop()
        cluster.close()


def report(result: dict) -> bool:
    print(f"\nLoad test ({result['scale']} data, {result['users']} users over "
          f"{result['accounts']} accounts, gunicorn 2 workers, PostgreSQL)")  # fmt: skip
    print(f"{'run':10} {'s':>4} {'requests':>9} {'errors':>7} {'503 gap':>8} {'req/s':>7} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'writes':>7}")  # fmt: skip
    for name in ("load", "restart"):
        r = result[name]
        print(f"{name:10} {r['seconds']:>4} {r['requests']:>9} {r['errors']:>7} {r['gap_503']:>8} "
              f"{r['throughput_rps']:>7} {r['p50_ms']:>7} {r['p95_ms']:>7} "
              f"{r['writes_acknowledged']:>7}")  # fmt: skip
        for error in r["first_errors"]:
            print(f"    {error}")
    r = result["restart"]
    print(f"restart: writes acknowledged {r['writes_acknowledged']}, lost {r['writes_lost']}; "
          f"reminders due in the gap {r['reminders_due_in_gap']}, delivered "
          f"{r['reminders_delivered']}")  # fmt: skip
    passed = True
    for check in result["checks"]:
        print(f"  {'ok    ' if check['passed'] else 'FAILED'} {check['check']}")
        passed &= check["passed"]
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="demo data, 15 s and 30 s (CI)")
    parser.add_argument("--no-write", action="store_true", help="do not write loadtest.json")
    args = parser.parse_args()
    if not pgcluster.available():
        print("PostgreSQL's server binaries are not installed: the load test cannot run")
        return 1
    if args.short:
        result = run("demo", load_seconds=15, restart_seconds=30, gap_seconds=5)
    else:
        result = run("national", load_seconds=60, restart_seconds=60, gap_seconds=8)
    passed = report(result)
    if not args.no_write:
        RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
