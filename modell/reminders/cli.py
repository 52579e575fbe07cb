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
from modell.reminders import planning, services

reminders_cli = AppGroup("reminders", help="The reminders between the meetings.")


def parse_instant(value: str | None) -> datetime:
    """An ISO 8601 instant in the years 2000–2100; without an offset it is Stockholm time.
    Without --at: now."""
    if value is None:
        return utcnow()
    problem = f"“{value}” is not an instant like 2027-03-01T09:00 or 2027-03-01T09:00+01:00"
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=STOCKHOLM)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise click.BadParameter(problem) from error
    if not 2000 <= moment.year <= 2100:
        raise click.BadParameter(f"“{value}” is outside the years 2000–2100")
    return moment


AT = click.option("--at", "at", help="The instant, e.g. 2027-03-01T09:00 (Stockholm time).")


@reminders_cli.command("due")
@AT
def due_command(at):
    """List what is due at the instant and has not been processed, each recipient with the
    reason it would be skipped (a condition met, a setting, too late). Sends nothing."""
    moment = parse_instant(at)
    due = skipped = 0
    with Session(db.engine) as session:
        for line in services.due_with_recipients(session, moment):
            s = line.scheduled
            names = ", ".join(
                r.email + (f" (skipped: {reason})" if reason else "")
                for r, reason in zip(line.recipients, line.reasons, strict=True)
            )
            click.echo(
                f"{to_local(s.due_at):%Y-%m-%d %H:%M}  {s.rule.key:22} {s.meeting.title}  "
                f"→ {names or '(nobody)'}"
            )
            due += len(line.recipients)
            skipped += sum(1 for reason in line.reasons if reason)
    click.echo(f"due {due}, sent 0, failed 0, skipped {skipped} (listed only: nothing sent)")


@reminders_cli.command("run")
@AT
def run_command(at):
    """Process what is due at the instant once, and deliver its mail."""
    moment = parse_instant(at)
    config = current_app.config
    with Session(db.engine) as session:
        summary = services.process(session, moment, config)
        if summary.messages and config.get("MAIL_SERVER"):
            mail.deliver(db.engine, config, now=utcnow(), only=summary.messages)
            # A running worker may have taken some of them: let it finish before counting.
            mail.wait_while_sending(db.engine, summary.messages, timeout=config["MAIL_TIMEOUT"])
        outcome = services.mail_outcome(
            session, summary, has_server=bool(config.get("MAIL_SERVER"))
        )
    # "sent": the reminders whose mail the mail server accepted; "failed": those that could
    # not be made or whose mail was not delivered yet (the outbox retries it).
    click.echo(
        f"due {summary.due}, sent {outcome.delivered}, "
        f"failed {summary.failed + outcome.undelivered}, skipped {summary.skipped}"
    )
    if outcome.kept:
        click.echo(f"{outcome.kept} kept in the outbox: no MAIL_SERVER is set.")
    if outcome.held:
        click.echo(f"{outcome.held} held for the weekly digest (and shown in the app).")
    if outcome.undelivered:
        click.echo(f"{outcome.undelivered} not delivered yet: the outbox retries them.")


@reminders_cli.command("plan")
def plan_command():
    """Plan the reminders of every meeting of the running cohorts (idempotent)."""
    with Session(db.engine) as session:
        count = planning.plan_all(session, now=utcnow())
        session.commit()
    click.echo(f"Planned the reminders of {count} meetings.")
