"""`flask modell scheduler` and `flask modell reminders due|run|plan`.

`due` and `run` take an instant (`--at 2027-03-01T09:00`, Stockholm time unless an offset
is given) and call exactly what the scheduler's tick calls with the current time.
"""

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from modell.core import mail
from modell.core.timeutil import STOCKHOLM, to_local
from modell.core.types import utcnow
from modell.extensions import db
from modell.reminders import services

reminders_cli = AppGroup("reminders", help="The reminders between the meetings.")


def parse_instant(value: str | None) -> datetime:
    """An ISO 8601 instant; without an offset it is Stockholm time."""
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            f"”{value}” is not an instant like 2027-03-01T09:00 or 2027-03-01T09:00+01:00"
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STOCKHOLM)
    return moment.astimezone(UTC)


AT = click.option("--at", "at", help="The instant, e.g. 2027-03-01T09:00 (Stockholm time).")


@reminders_cli.command("due")
@AT
def due_command(at):
    """List what is due at the instant and has not been processed."""
    moment = parse_instant(at)
    with Session(db.engine) as session:
        lines = services.due_with_recipients(session, moment)
        count = 0
        for line in lines:
            s = line.scheduled
            names = ", ".join(r.email for r in line.recipients) or "(nobody)"
            click.echo(
                f"{to_local(s.due_at):%Y-%m-%d %H:%M}  {s.rule.key:22} {s.meeting.title}  → {names}"
            )
            count += len(line.recipients)
    click.echo(f"due {count}, sent 0, failed 0, skipped 0")


@reminders_cli.command("run")
@AT
def run_command(at):
    """Process what is due at the instant once, and deliver its mail."""
    moment = parse_instant(at)
    config = current_app.config
    with Session(db.engine) as session:
        summary = services.process(session, moment, config)
    if summary.messages and config.get("MAIL_SERVER"):
        result = mail.deliver(db.engine, config, now=utcnow(), only=summary.messages)
        summary.failed += result["failed"]
    click.echo(summary.line())


@reminders_cli.command("plan")
def plan_command():
    """Plan the reminders of every meeting of the running cohorts (idempotent)."""
    with Session(db.engine) as session:
        count = services.plan_all(session, now=utcnow())
        session.commit()
    click.echo(f"Planned the reminders of {count} meetings.")
