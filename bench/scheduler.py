"""Benchmark: a scheduler tick costs what is due, not what is stored.

On SQLite and (when TEST_DATABASE_URL names one, or a server answers on 127.0.0.1:5432)
PostgreSQL: the demo data, 5,000 stored outbox rows and 5,000 due reminders, one tick
(`reminders.services.process`, which writes 5,000 messages) and one delivery claim; then
200,000 stored outbox rows and another 5,000 due, the same again. Prints both times, their
ratio, and the query plans of the two queries that find what is due.

    .venv/bin/python -m bench.scheduler        # `make bench` runs it too
"""

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from modell import create_app
from modell.core import mail
from modell.core.claims import claim
from modell.core.models import OutboxMessage
from modell.demo import load_demo
from modell.extensions import db
from modell.organisations.services import load_reference
from modell.reminders import services
from modell.reminders.models import ScheduledReminder
from tests.scheduler_support import add_due_reminders

DUE = 5_000
SMALL, LARGE = 5_000, 200_000


def _store_outbox(target: int, now: datetime) -> None:
    """Fill the outbox with sent messages up to `target` rows (one INSERT per 10,000)."""
    have = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    rows = [
        {
            "created_at": now - timedelta(days=400) + timedelta(seconds=i),
            "kind": "meeting",
            "recipient": f"stored{i}@example.org",
            "subject": "Kallelse",
            "body_text": "Text",
            "status": "sent",
            "attempts": 1,
            "sent_at": now - timedelta(days=400) + timedelta(seconds=i),
        }
        for i in range(max(target - have, 0))
    ]
    for start in range(0, len(rows), 10_000):
        db.session.execute(sa.insert(OutboxMessage), rows[start : start + 10_000])
    db.session.commit()


def _plan(statement) -> list[str]:
    compiled = statement.compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        lines = connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
        plan = [row[0] for row in lines]
    else:
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        lines = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params)
        plan = [row[-1] for row in lines]
    db.session.rollback()
    return plan


def _due_queries(now: datetime):
    due = (
        sa.select(ScheduledReminder.id)
        .where(ScheduledReminder.state == "pending", ScheduledReminder.due_at <= now)
        .order_by(ScheduledReminder.due_at, ScheduledReminder.id)
        .limit(services.BATCH)
    )
    outbox = (
        sa.select(OutboxMessage.id)
        .where(mail._claimable(now, {}, force=False))
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    return due, outbox


def _round(app, stored: int, tag: str, now: datetime) -> tuple[float, float, int]:
    with app.app_context():
        _store_outbox(stored, now)
        add_due_reminders(db.session, DUE, due_at=now - timedelta(minutes=5), now=now, tag=tag)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("ANALYZE"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        start = time.perf_counter()
        summary = services.process(db.session, now, app.config)
        tick = time.perf_counter() - start
        start = time.perf_counter()
        claimed = claim(
            db.session,
            OutboxMessage,
            mail._claimable(now, {}, force=False),
            order_by=(OutboxMessage.id,),
            limit=1,
            values={"status": "sending", "claimed_at": now},
        )
        db.session.rollback()  # measured, not kept
        claim_ms = (time.perf_counter() - start) * 1000
        stored_now = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    assert summary.sent == DUE and len(claimed) == 1, (summary.line(), len(claimed))
    return tick, claim_ms, stored_now


def run_on(name: str, url: str, tmp: str) -> None:
    app = create_app(
        {
            "MODELL_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "MODELL_INSTANCE_DIR": tmp,
            "MAIL_SERVER": None,
            "BASE_URL": "http://127.0.0.1",
        }
    )
    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        upgrade()
        load_reference(db.session, now=now)
        load_demo(db.session, now=now, development=True)
        db.session.commit()
    small = _round(app, SMALL, "small", now)
    large = _round(app, LARGE, "large", now + timedelta(seconds=1))
    print(f"\n{name}: a tick with {DUE:,} due reminders")
    print(f"{'outbox rows stored':>20} {'tick s':>8} {'per due ms':>11} {'delivery claim ms':>18}")
    for stored, (tick, claim_ms, _) in ((SMALL, small), (LARGE, large)):
        print(f"{stored:>20,} {tick:8.1f} {tick * 1000 / DUE:11.2f} {claim_ms:18.1f}")
    print(
        f"ratio (200,000 / 5,000 stored): tick {large[0] / small[0]:.2f}, "
        f"claim {large[1] / max(small[1], 0.01):.2f}"
    )
    with app.app_context():
        due, outbox = _due_queries(now)
        print("plan, due reminders:   " + " | ".join(_plan(due)))
        print("plan, outbox to send:  " + " | ".join(_plan(outbox)))
        db.engine.dispose()


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    try:
        import psycopg

        psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", connect_timeout=2).close()
    except Exception:  # no local server: SQLite only
        return None
    return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin(url: str, sql: str) -> None:
    import psycopg

    admin = sa.make_url(url)
    with psycopg.connect(
        host=admin.host,
        port=admin.port or 5432,
        user=admin.username,
        password=admin.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        run_on("SQLite", f"sqlite:///{Path(tmp) / 'scheduler.db'}", tmp)
        base = _postgres_url()
        if base:
            name = "modell_bench_scheduler"
            _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _admin(base, f'CREATE DATABASE "{name}"')
            try:
                run_on("PostgreSQL", str(sa.make_url(base).set(database=name)), tmp)
            finally:
                _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print("\nPostgreSQL: no server (set TEST_DATABASE_URL): SQLite only")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
