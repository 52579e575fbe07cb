"""`flask modell ...`: each command calls the services, like a route would."""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from modell.auth.models import ROLES
from modell.core import mail
from modell.core.types import utcnow
from modell.extensions import db
from modell.improvements.cli import indicators_cli
from modell.organisations.models import FUNCTIONS
from modell.reminders.cli import reminders_cli

cli = AppGroup("modell", help="Modell's own commands.")


@cli.command("load-reference")
def load_reference_command():
    """Load the 290 municipalities, 21 regions and the counties (idempotent)."""
    from modell.cohorts.services import load_shipped_templates
    from modell.organisations.services import load_reference

    result = load_reference(db.session, now=utcnow())
    templates = load_shipped_templates(db.session, now=utcnow())
    db.session.commit()
    click.echo(
        f"Reference data: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged; templates added: {', '.join(templates) or 'none'}."
    )


@cli.command("demo")
def demo_command():
    """Load the demo cohorts (2019, and one running now) and the demo users (idempotent)."""
    from modell.demo import DEMO_USERS, load_demo

    development = current_app.config["MODELL_ENV"] == "development"
    result = load_demo(db.session, now=utcnow(), development=development)
    db.session.commit()
    if result.created_cohort or result.created_living:
        click.echo("Demo cohorts created: the 2019 cohort and one running now.")
    else:
        click.echo("Demo cohorts already there.")
    click.echo("Demo logins:")
    for email, _name, role, *_ in DEMO_USERS:
        click.echo(f"  {role:16} {email}")
    if development:
        click.echo(f"  password for all: {result.password}")
    else:
        click.echo("  (no passwords outside development: use 'Forgot your password?')")


def _require_a_strong_key() -> None:
    """The commands that sign links (invitations, reset mails) need the production key."""
    problem = current_app.config.get("SECRET_KEY_PROBLEM")
    if problem:
        raise click.UsageError(problem)


@cli.command("create-user")
@click.option("--email", required=True, help="The person's e-mail address.")
@click.option("--name", required=True, help="The person's name.")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES),
)
@click.option("--organisation", "organisation_code", help="SCB code (members only), e.g. 0127.")
@click.option("--county", "county_code", help="County code (county observers only), e.g. 24.")
@click.option(
    "--function",
    default="strategist",
    show_default=True,
    type=click.Choice(FUNCTIONS),
    help="The member's function in the organisation.",
)
def create_user_command(email, name, role, organisation_code, county_code, function):
    """Create an account, the first one on an empty database included. With MAIL_SERVER the
    person gets an invitation by mail; without it, a one-time link to choose a password is
    printed here (it stops working once used, and after INVITATION_MAX_AGE)."""
    from modell.auth.services import invite_user
    from modell.core.errors import RuleViolation
    from modell.organisations.models import County, Organisation

    _require_a_strong_key()

    organisation_id = None
    if role == "member":
        if not organisation_code:
            raise click.UsageError("a member needs --organisation (its SCB code)")
        org = db.session.scalar(
            sa.select(Organisation).where(Organisation.scb_code == organisation_code)
        )
        if org is None:
            raise click.UsageError(f"no organisation has the SCB code {organisation_code}")
        organisation_id = org.id
    if role == "county_observer" and (
        not county_code or db.session.get(County, county_code) is None
    ):
        raise click.UsageError(
            "a county observer needs --county with a known county code "
            "(run `flask modell load-reference` first)"
        )
    send = bool(current_app.config.get("MAIL_SERVER"))
    try:
        user, link = invite_user(
            db.session,
            now=utcnow(),
            invited_by=None,
            email=email,
            name=name,
            role=role,
            organisation_id=organisation_id,
            function=function if role == "member" else None,
            county_code=county_code,
            secret_key=current_app.config["SECRET_KEY"],
            send_mail=send,
        )
    except RuleViolation as error:
        raise click.UsageError(str(error.message)) from error
    db.session.commit()
    if send:
        result = mail.flush(db.engine, current_app.config, now=utcnow(), force=True)
        click.echo(f"Created {role} {user.email}; invitation mailed (sent {result['sent']}).")
    else:
        click.echo(f"Created {role} {user.email}. No MAIL_SERVER is set: give this one-time")
        click.echo("link to that person only; it sets the password and then stops working:")
        click.echo(f"  {link}")


@cli.command("export")
@click.argument("kind", type=click.Choice(["overview", "entries", "indicators"]))
@click.option("--cohort", "cohort_id", required=True, type=int, help="The cohort's id.")
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True
)
@click.option(
    "--organisation", "organisation_code", help="SCB code (indicators of one organisation)."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="File to write (default: stdout)."
)
def export_command(kind, cohort_id, fmt, organisation_code, output):
    """The cohort overview, the log entries or the indicator values, as in the app."""
    from modell.cohorts.models import Cohort
    from modell.core.timeutil import to_local
    from modell.improvements import exports
    from modell.organisations.models import Organisation

    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        raise click.UsageError(f"no cohort has the id {cohort_id}")
    organisation_id = None
    if organisation_code:
        organisation_id = db.session.scalar(
            sa.select(Organisation.id).where(Organisation.scb_code == organisation_code)
        )
        if organisation_id is None:
            raise click.UsageError(f"no organisation has the SCB code {organisation_code}")
    content, _mimetype, _name = exports.export(
        db.session,
        cohort,
        kind,
        fmt,
        today=to_local(utcnow()).date(),
        organisation_id=organisation_id,
    )
    if output:
        with open(output, "wb") as f:
            f.write(content)
        click.echo(f"Wrote {len(content)} bytes to {output}.", err=True)
    else:
        click.echo(content, nl=False)


@cli.command("worker")
def worker_command():
    """Deliver mail and write reset links, a pass every WORKER_POLL_SECONDS, until stopped.
    Web requests never talk SMTP: run one of these beside the web server."""
    from modell.core import worker

    _require_a_strong_key()
    app = current_app._get_current_object()
    click.echo(f"Worker started (a pass every {app.config['WORKER_POLL_SECONDS']} s).")
    try:
        worker.run_forever(app, poll_seconds=app.config["WORKER_POLL_SECONDS"])
    except KeyboardInterrupt:
        click.echo("Worker stopped.")


mail_cli = AppGroup("mail", help="The outbox.")
cli.add_command(mail_cli)
cli.add_command(indicators_cli)
cli.add_command(reminders_cli)


@cli.command("scheduler")
def scheduler_command():
    """The scheduler process: reminders every minute (one active process, through a lease in
    the database) and mail delivery every WORKER_POLL_SECONDS. Stop it with Ctrl-C."""
    from modell.reminders.scheduler import run_forever

    _require_a_strong_key()
    app = current_app._get_current_object()
    click.echo(
        f"Scheduler started (a tick every {app.config['SCHEDULER_TICK_SECONDS']:g} s, "
        f"delivery every {app.config['WORKER_POLL_SECONDS']:g} s)."
    )
    try:
        run_forever(app)
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")


@mail_cli.command("flush")
def mail_flush_command():
    """Deliver every waiting message now, without waiting out a retry delay."""
    result = mail.flush(db.engine, current_app.config, now=utcnow(), force=True)
    if not current_app.config.get("MAIL_SERVER"):
        click.echo(f"No MAIL_SERVER configured: {result['kept']} message(s) kept in the outbox.")
    else:
        click.echo(
            f"Sent {result['sent']}, to be retried {result['retry']}, failed {result['failed']}."
        )
