"""The start page, and the pages about the service. Thin: who is asking decides which parts
the services fill in."""

from datetime import date

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user

from modell.cohorts.models import (
    COHORT_STATUS_LABELS,
    PARTICIPATION_ROLE_LABELS,
    PARTICIPATION_STATUS_LABELS,
)
from modell.cohorts.public import PENDING_HOURS
from modell.cohorts.services import TITLE_LABELS
from modell.core.clock import now
from modell.core.timeutil import to_local
from modell.extensions import db
from modell.meetings.invitations import NEEDS_KEPT_DAYS
from modell.organisations.models import County
from modell.start import bp, services


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    moment = now()
    coordinator = member = county = county_history = None
    county_name = None
    if current_user.is_staff:
        coordinator = services.coordinator_start(db.session, now=moment)
    elif current_user.role == "county_observer":
        county = services.county_start(db.session, current_user.county_code)
        county_history = services.county_history(db.session, current_user.county_code)
        found = db.session.get(County, current_user.county_code)
        county_name = found.name if found else current_user.county_code
    else:
        member = services.member_start(db.session, current_user, now=moment)
    return render_template(
        "start/home.html",
        coordinator=coordinator,
        member=member,
        county=county,
        county_history=county_history,
        county_name=county_name,
        role_labels=PARTICIPATION_ROLE_LABELS,
        title_labels=TITLE_LABELS,
        participation_status_labels=PARTICIPATION_STATUS_LABELS,
        cohort_status_labels=COHORT_STATUS_LABELS,
        today=to_local(moment).date(),
    )


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico before they read the page: the same drawing."""
    return current_app.send_static_file("favicon.svg")


# --- what a Swedish public service must have: open to everyone, signed in or not ---------------


STATEMENT_REVIEWED = date(2026, 11, 24)  # when the accessibility statement was last checked


def _page(template: str, **context):
    return render_template(
        template,
        contact=current_app.config["CONTACT_EMAIL"],
        needs_kept_days=NEEDS_KEPT_DAYS,
        pending_hours=PENDING_HOURS,
        **context,
    )


@bp.route("/tillganglighet")
def accessibility():
    """The accessibility statement (tillgänglighetsredogörelse), after DIGG's model."""
    return _page("start/accessibility.html", reviewed=STATEMENT_REVIEWED)


@bp.route("/personuppgifter")
def privacy():
    return _page("start/privacy.html")


@bp.route("/hjalp")
def help():
    return _page("start/help.html")


@bp.route("/kontakt")
def contact():
    return _page("start/contact.html")
