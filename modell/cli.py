"""`flask modell ...`: each command calls the services, like a route would."""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext

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
    """Load the demo cohorts (2019 as history, one running now, the next one open for
    registration) and the demo users (idempotent)."""
    from modell.demo import DEMO_USERS, load_demo

    development = current_app.config["MODELL_ENV"] == "development"
    result = load_demo(db.session, now=utcnow(), development=development)
    db.session.commit()
    if result.created_cohort or result.created_living or result.created_open:
        click.echo(
            "Demo cohorts created: 2019 (concluded, recorded as history), one running now and "
            "the next one open for interest registration."
        )
    else:
        click.echo("Demo cohorts already there.")
    click.echo("Demo logins:")
    for email, _name, role, *_rest in DEMO_USERS:
        click.echo(f"  {role:16} {email}")
    if development:
        click.echo(f"  password for all: {result.password}")
    else:
        click.echo("  (no passwords outside development: use 'Forgot your password?')")


def _log_to_stderr() -> None:
    """A long-running process says what it does (who leads, what was sent) at INFO."""
    import logging

    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        # APScheduler's own line for every run of every job is noise; its warnings stay.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _require_a_strong_key() -> None:
    """The commands that sign links (invitations, reset mails) need the production key."""
    problem = current_app.config.get("SECRET_KEY_PROBLEM")
    if problem:
        raise click.UsageError(problem)


@cli.command("bench-data")
@click.option("--scale", type=click.Choice(["demo", "national"]), default="national")
def bench_data_command(scale):
    """Fill an empty database with data for measuring: the demo, or a decade of the
    programme at national scale (development and testing only: every account gets the demo
    password)."""
    import time

    from modell.benchdata import generate
    from modell.cohorts.models import Cohort
    from modell.organisations.services import load_reference

    if current_app.config["MODELL_ENV"] not in ("development", "testing"):
        raise click.ClickException("bench-data is for development and testing databases only.")
    if db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)):
        raise click.ClickException("The database already has cohorts: start from an empty one.")
    started = time.monotonic()
    load_reference(db.session, now=utcnow())
    quiet = current_app.logger.level
    current_app.logger.setLevel("ERROR")  # not every invitation's text in development's log
    try:
        counts = generate(db.session, scale, now=utcnow())
    finally:
        current_app.logger.setLevel(quiet)
    for name, n in counts.created.items():
        click.echo(f"{name:18} {n:>9,}".replace(",", " "))
    click.echo(f"{scale} data in {time.monotonic() - started:.0f} s")


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
@click.argument("kind", type=click.Choice(["overview", "entries", "indicators", "organisations"]))
@click.option("--cohort", "cohort_id", type=int, help="The cohort's id (not for organisations).")
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
    """A cohort's overview, log entries or indicator values, as in the app; or the list of
    organisations with their titles and cohorts (what SKR publishes)."""
    from modell.cohorts import history
    from modell.cohorts.models import Cohort
    from modell.core.timeutil import to_local
    from modell.improvements import exports
    from modell.organisations.models import Organisation

    if kind == "organisations":
        content, _mimetype, _name = history.export_organisations(db.session, fmt)
        _write(content, output)
        return
    if cohort_id is None:
        raise click.UsageError("give the cohort with --cohort ID")
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
    _write(content, output)


def _write(content: bytes, output: str | None) -> None:
    if output:
        with open(output, "wb") as f:
            f.write(content)
        click.echo(f"Wrote {len(content)} bytes to {output}.", err=True)
    else:
        click.echo(content, nl=False)


@cli.command("import-cohort")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help="The cohort's name, e.g. “Modellkommuner 2017–2018”.")
@click.option(
    "--template", "template_key", required=True, help="The programme model, e.g. modellkommuner."
)
@click.option("--starts", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--ends", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--concluded", is_flag=True, help="The cohort is over: the file has the outcomes.")
def import_cohort_command(file, name, template_key, starts, ends, concluded):
    """A cohort from an XLSX or CSV file (one row per organisation: Organisation, SCB-kod,
    Roll, Grupp, Fullföljt, Orsak, Typ). Nothing is written unless the whole file is valid."""
    from modell.cohorts import intake
    from modell.cohorts.services import current_template
    from modell.core.errors import RuleViolation

    try:
        template = current_template(db.session, template_key)
    except sa.exc.NoResultFound:
        raise click.UsageError(
            _("No programme model is called %(key)s.", key=template_key)
        ) from None
    with open(file, "rb") as f:
        content = f.read()
    plan = intake.read_cohort_file(
        db.session, content, template=template, starts_on=starts.date(), concluded=concluded
    )
    # Said in the app's language (Swedish), as the file's own messages are: this is SKR's
    # command, not a developer's.
    for warning in plan.warnings:
        click.echo(_("Warning: %(warning)s", warning=warning), err=True)
    if plan.errors:
        for e in plan.errors:
            where = _("Line %(n)d", n=e.line) if e.line else _("The file")
            column = f" ({e.column})" if e.column else ""
            click.echo(f"{where}{column}: {e.message}", err=True)
        click.echo(
            ngettext(
                "Nothing was imported: %(num)d error.",
                "Nothing was imported: %(num)d errors.",
                len(plan.errors),
            ),
            err=True,
        )
        raise SystemExit(1)
    try:
        cohort = intake.import_cohort(
            db.session,
            plan,
            name=name,
            template=template,
            starts_on=starts.date(),
            ends_on=ends.date(),
            concluded=concluded,
            now=utcnow(),
            user_id=None,
        )
    except RuleViolation as error:
        db.session.rollback()
        click.echo(_("Nothing was imported: %(reason)s", reason=error.message), err=True)
        raise SystemExit(1) from None
    db.session.commit()
    organisations = ngettext("%(num)d organisation", "%(num)d organisations", len(plan.rows))
    groups = ngettext("%(num)d group", "%(num)d groups", len(plan.groups))
    new = ngettext(
        "%(num)d new in the register", "%(num)d new in the register", len(plan.new_organisations)
    )
    click.echo(
        _(
            "Imported “%(name)s” (cohort no. %(id)d): %(organisations)s in %(groups)s, %(new)s.",
            name=cohort.name,
            id=cohort.id,
            organisations=organisations,
            groups=groups,
            new=new,
        )
    )
    if concluded:
        completed = sum(1 for p in cohort.participations if p.status == "completed")
        click.echo(
            ngettext(
                "Concluded: %(num)d organisation completed it.",
                "Concluded: %(num)d organisations completed it.",
                completed,
            )
        )


@cli.command("worker")
def worker_command():
    """Deliver mail and write reset links, a pass every WORKER_POLL_SECONDS, until stopped.
    Web requests never talk SMTP: run one of these beside the web server."""
    from modell.core import worker

    _require_a_strong_key()
    _log_to_stderr()
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
    _log_to_stderr()
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
