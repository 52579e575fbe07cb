"""`flask modell ...`: each command calls the services, like a route would."""

import click
from flask import current_app
from flask.cli import AppGroup

from modell.core import mail
from modell.core.types import utcnow
from modell.extensions import db

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
    """Load the 2019 demo cohort and one demo user per role (idempotent)."""
    from modell.demo import DEMO_USERS, load_demo

    development = current_app.config["MODELL_ENV"] == "development"
    result = load_demo(db.session, now=utcnow(), development=development)
    db.session.commit()
    click.echo("Demo cohort created." if result.created_cohort else "Demo cohort already there.")
    click.echo("Demo logins:")
    for email, _name, role, *_ in DEMO_USERS:
        click.echo(f"  {role:16} {email}")
    if development:
        click.echo(f"  password for all: {result.password}")
    else:
        click.echo("  (no passwords outside development: use 'Forgot your password?')")


mail_cli = AppGroup("mail", help="The outbox.")
cli.add_command(mail_cli)


@mail_cli.command("flush")
def mail_flush_command():
    """Deliver every pending message (the scheduler calls this too)."""
    result = mail.flush(db.engine, current_app.config, now=utcnow())
    if not current_app.config.get("MAIL_SERVER"):
        click.echo(f"No MAIL_SERVER configured: {result['kept']} message(s) kept in the outbox.")
    else:
        click.echo(
            f"Sent {result['sent']}, failed {result['failed']}, skipped {result['skipped']}."
        )
