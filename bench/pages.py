"""Benchmark: every main page at national scale, against the framework's own floor.

For each database (SQLite always; PostgreSQL where TEST_DATABASE_URL names a server or one
answers on 127.0.0.1:5432) it builds two data sets with `modell.benchdata`: the demo and the
national one. On each it counts the SQL statements every page runs (in-process, one request
after a warm-up). On the national one it then starts gunicorn (2 workers) on loopback and
measures p50 and p95 of each page over many requests, with the floor (a trivial signed-in
page with the base layout, /konto/losenord) measured in the same run; then the workers'
peak RSS. Prints a table per database and writes bench/results.json.

    make bench                               # this, the scheduler tick and the grouping
    .venv/bin/python -m bench.pages --quick  # fewer requests (CI's short version)

Targets (issue #13): p95 at most 3x the floor's; the same number of queries on demo and
national data, and at most 12; a worker's RSS under 150 MB.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess  # nosec B404 # starts gunicorn on loopback
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import url_for
from flask_migrate import upgrade
from sqlalchemy import event

from modell import create_app
from modell.auth.models import User
from modell.benchdata import NATIONAL_NAME, generate
from modell.cohorts.models import Cohort, Group
from modell.demo import DEMO_PASSWORD
from modell.demo_living import LIVING_DESCRIPTION
from modell.extensions import db
from modell.meetings import calendar
from modell.meetings.models import Meeting
from modell.organisations.models import Person
from modell.organisations.services import load_reference

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
RATIO_TARGET, QUERY_TARGET, RSS_TARGET_MB = 3.0, 12, 150
FLOOR = "floor (/konto/losenord)"


@dataclass
class Target:
    """The objects whose pages are measured: the running cohort's first group, its first
    held meeting, a benchmarking organisation and the people who use them."""

    cohort: int
    group: int
    meeting: int
    organisation: int
    participation: int
    participant: str
    mentor: str
    feed: str


ROLES = {
    "coordinator": lambda t: "samordnare@example.org",
    "county": lambda t: "lansstyrelsen@example.org",
    "participant": lambda t: t.participant,
    "mentor": lambda t: t.mentor,
}


def pages(t: Target) -> list[tuple[str, str, str]]:
    """(name, role, url) of every main page; the floor first."""
    return [
        (FLOOR, "coordinator", url_for("auth.change_password")),
        ("start: coordinator", "coordinator", url_for("start.home")),
        ("start: participant", "participant", url_for("start.home")),
        ("start: mentor", "mentor", url_for("start.home")),
        ("start: county observer", "county", url_for("start.home")),
        ("cohort", "coordinator", url_for("cohorts.detail", cohort_id=t.cohort)),
        ("cohort calendar", "coordinator", url_for("meetings.cohort_calendar", cohort_id=t.cohort)),
        ("cohort overview", "coordinator", url_for("improvements.overview", cohort_id=t.cohort)),
        ("group", "participant", url_for("cohorts.group", group_id=t.group)),
        ("organisation", "coordinator", url_for("organisations.detail", organisation_id=t.organisation)),
        ("organisation list", "coordinator", url_for("organisations.index")),
        ("meeting", "participant", url_for("meetings.meeting", meeting_id=t.meeting)),
        ("improvement work", "participant", url_for("improvements.workspace", participation_id=t.participation)),
        ("indicator benchmarking", "participant", url_for("improvements.benchmarking", group_id=t.group)),
        ("notifications", "participant", url_for("reminders.notifications")),
        ("export: overview (xlsx)", "coordinator", url_for("improvements.export", cohort_id=t.cohort, kind="overview", fmt="xlsx")),
        ("export: organisations (csv)", "coordinator", url_for("cohorts.organisations_export", fmt="csv")),
        ("calendar feed", "anonymous", url_for("meetings.feed", token=t.feed)),
    ]  # fmt: skip


def target(session, scale: str) -> Target:
    """The running cohort of the data set: the demo's living one, or the national one."""
    if scale == "national":
        cohort = session.scalar(
            sa.select(Cohort)
            .where(
                Cohort.status == "running", Cohort.name.like(NATIONAL_NAME.split(" ")[0] + "%/%")
            )
            .order_by(Cohort.id.desc())
        )
    else:
        cohort = session.scalar(sa.select(Cohort).where(Cohort.description == LIVING_DESCRIPTION))
    group = session.scalar(
        sa.select(Group).where(Group.cohort_id == cohort.id).order_by(Group.position)
    )
    meeting = session.scalar(
        sa.select(Meeting)
        .where(Meeting.group_id == group.id, Meeting.status == "held")
        .order_by(Meeting.starts_at)
    )
    member = group.members("benchmarking")[0]
    mentor = group.members("mentor")[0]

    def user_of(organisation_id: int) -> User:
        return session.scalar(
            sa.select(User)
            .join(Person, User.person_id == Person.id)
            .where(Person.organisation_id == organisation_id)
            .order_by(User.id)
        )

    participant = user_of(member.organisation_id)
    token = calendar.renew_feed(session, participant, now=datetime.now(UTC))
    session.commit()
    return Target(
        cohort=cohort.id,
        group=group.id,
        meeting=meeting.id,
        organisation=member.organisation_id,
        participation=member.id,
        participant=participant.email,
        mentor=user_of(mentor.organisation_id).email,
        feed=token,
    )


# --- building the data ---------------------------------------------------------------------


def _app(url: str, instance: str):
    return create_app(
        {
            "MODELL_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "MODELL_INSTANCE_DIR": instance,
            "UPLOAD_DIR": str(Path(instance) / "uploads"),
            "RATELIMIT_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "WTF_CSRF_ENABLED": False,
        }
    )


def build(url: str, scale: str, instance: str) -> tuple[object, Target, float]:
    app = _app(url, instance)
    started = time.monotonic()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_reference(db.session, now=datetime.now(UTC))
        generate(db.session, scale, now=datetime.now(UTC))
        with app.test_request_context():
            t = target(db.session, scale)
    return app, t, time.monotonic() - started


def count_queries(app, t: Target) -> dict[str, int]:
    """Statements per page, for one request after a warm-up one (caches filled)."""
    counts: dict[str, int] = {}
    clients = {}
    with app.app_context():
        engine = db.engine
    seen = []
    listener = lambda *args: seen.append(1)  # noqa: E731
    with app.test_request_context():
        listed = pages(t)
    for name, role, url in listed:
        client = clients.get(role)
        if client is None:
            client = clients[role] = app.test_client()
            if role != "anonymous":
                client.post(
                    "/konto/logga-in",
                    data={"email": ROLES[role](t), "password": DEMO_PASSWORD},
                )
        assert client.get(url).status_code == 200, (name, url)
        seen.clear()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code == 200, (name, url, response.status_code)
        counts[name] = len(seen)
    return counts


# --- gunicorn -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, instance: str, workers: int = 2, secret: str | None = None):
        """Servers given the same instance folder and `secret` are hosts of one
        installation: one upload folder, sessions and links valid on each."""
        self.port = _free_port()
        env = os.environ | {
            "MODELL_ENV": "production",
            "SECRET_KEY": secret or secrets.token_urlsafe(48),
            "DATABASE_URL": url,
            "MODELL_INSTANCE_DIR": instance,
            "UPLOAD_DIR": str(Path(instance) / "uploads"),
            "SESSION_COOKIE_SECURE": "0",
            "BASE_URL": f"http://127.0.0.1:{self.port}",
            "LOGIN_RATE_LIMIT": "1000 per minute",
        }
        self.process = subprocess.Popen(  # nosec B603 # our own gunicorn, loopback only
            [
                sys.executable, "-m", "gunicorn", "--workers", str(workers),
                "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def worker_rss_mb(self) -> float:
        """The peak resident memory (VmHWM) of the busiest worker."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        peaks = []
        for pid in children.read_text().split():
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
        return max(peaks)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


class Browser:
    """One signed-in user over one kept-alive connection."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, url: str, body: dict | None = None, files: dict | None = None
    ) -> tuple[int, bytes]:
        """`files`: {field: (filename, bytes)}, sent with `body` as multipart/form-data."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if files is not None:
            data, headers["Content-Type"] = _multipart(body or {}, files)
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        elif body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        self.connection.request(method, url, body=data, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response.status, content

    def log_in(self, email: str) -> None:
        _status, page = self.request("GET", "/konto/logga-in")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = {"email": email, "password": DEMO_PASSWORD, "csrf_token": token.decode()}
        status, _ = self.request("POST", "/konto/logga-in", form)
        assert status == 302, f"login of {email}: {status}"


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def latencies(port: int, t: Target, listed, requests: int) -> dict[str, list[float]]:
    """Each page `requests` times, interleaved round by round so that noise on the machine
    falls on every page alike."""
    browsers: dict[str, Browser] = {}
    for _name, role, _url in listed:
        if role not in browsers:
            browsers[role] = Browser(port)
            if role != "anonymous":
                browsers[role].log_in(ROLES[role](t))
    times: dict[str, list[float]] = {name: [] for name, _r, _u in listed}
    for round_ in range(requests + 3):
        for name, role, url in listed:
            start = time.perf_counter()
            status, _body = browsers[role].request("GET", url)
            elapsed = (time.perf_counter() - start) * 1000
            assert status == 200, (name, url, status)
            if round_ >= 3:  # the first rounds warm the workers
                times[name].append(elapsed)
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- one database ---------------------------------------------------------------------------


def measure(label: str, make_url, requests: int) -> dict:
    with tempfile.TemporaryDirectory() as instance:
        demo_app, demo_t, _ = build(make_url("demo"), "demo", instance)
        queries_demo = count_queries(demo_app, demo_t)
        national_url = make_url("national")
        app, t, seconds = build(national_url, "national", instance)
        queries_national = count_queries(app, t)
        with app.test_request_context():
            listed = pages(t)
        server = Server(national_url, instance)
        try:
            times = latencies(server.port, t, listed, requests)
            rss = server.worker_rss_mb()
        finally:
            server.stop()
    floor_p95 = percentile(times[FLOOR], 95)
    rows = []
    for name, _role, _url in listed:
        p50, p95 = statistics.median(times[name]), percentile(times[name], 95)
        rows.append(
            {
                "page": name,
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "ratio_p95": round(p95 / floor_p95, 2),
                "queries_demo": queries_demo[name],
                "queries_national": queries_national[name],
            }
        )
    return {
        "database": label,
        "requests_per_page": requests,
        "data_seconds": round(seconds),
        "floor_p95_ms": round(floor_p95, 1),
        "worker_rss_mb": round(rss, 1),
        "pages": rows,
    }


def report(result: dict) -> list[str]:
    """Prints the table; returns the targets missed."""
    missed = []
    print(f"\n{result['database']}: {result['requests_per_page']} requests per page, "
          f"gunicorn 2 workers, national data built in {result['data_seconds']} s")  # fmt: skip
    print(f"{'page':30} {'p50 ms':>7} {'p95 ms':>7} {'× floor':>8} {'queries demo/national':>22}")
    for row in result["pages"]:
        flags = []
        if row["page"] != FLOOR and row["ratio_p95"] > RATIO_TARGET:
            flags.append(f"> {RATIO_TARGET:g}× floor")
        if row["queries_demo"] != row["queries_national"]:
            flags.append("queries grow with the data")
        if row["queries_national"] > QUERY_TARGET:
            flags.append(f"> {QUERY_TARGET} queries")
        missed += [f"{result['database']} {row['page']}: {f}" for f in flags]
        queries = f"{row['queries_demo']}/{row['queries_national']}"
        print(
            f"{row['page']:30} {row['p50_ms']:7.1f} {row['p95_ms']:7.1f} "
            f"{row['ratio_p95']:8.2f} {queries:>22}  {'; '.join(flags)}"
        )
    print(f"worker peak RSS: {result['worker_rss_mb']:.0f} MB")
    if result["worker_rss_mb"] >= RSS_TARGET_MB:
        missed.append(f"{result['database']} worker RSS {result['worker_rss_mb']:.0f} MB")
    return missed


def _postgres_server() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.rsplit("/", 1)[0]
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return "postgresql+psycopg://postgres@127.0.0.1:5432"
    except OSError:
        return None


def _postgres_urls(server: str):
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    made = []

    def make(scale: str) -> str:
        name = f"modell_bench_{scale}_{os.getpid()}"
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return f"{server}/{name}"

    def drop():
        with admin.connect() as c:
            for name in made:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make, drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 requests per page, not 200")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    requests = 20 if args.quick else 200
    results, missed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        result = measure("SQLite", lambda scale: f"sqlite:///{Path(tmp) / scale}.db", requests)
        results.append(result)
        missed += report(result)
    server = None if args.sqlite_only else _postgres_server()
    if server:
        make, drop = _postgres_urls(server)
        try:
            result = measure("PostgreSQL", make, requests)
        finally:
            drop()
        results.append(result)
        missed += report(result)
    else:
        print("\nPostgreSQL: no server (set TEST_DATABASE_URL): not measured")
    machine = f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}"
    RESULTS.write_text(
        json.dumps(
            {"measured": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine,
             "targets": {"ratio_p95": RATIO_TARGET, "queries": QUERY_TARGET,
                         "worker_rss_mb": RSS_TARGET_MB},
             "results": results},
            indent=2, ensure_ascii=False,
        ) + "\n"
    )  # fmt: skip
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    if missed:
        print("targets missed:\n  " + "\n  ".join(missed))
        return 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
