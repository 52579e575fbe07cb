"""The pages for people without an account: the open cohorts, the interest registration and
its confirmation. Thin: read, ask the services, render."""

import math
import time

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from modell.cohorts import bp, public
from modell.cohorts import registrations as applications
from modell.cohorts.forms import ORGANISATION_LIST, PublicRegistrationForm
from modell.cohorts.models import Cohort
from modell.cohorts.registration_routes import registration_data
from modell.core.clock import now, today
from modell.core.errors import RuleViolation
from modell.core.forms import ButtonForm, add_error
from modell.core.web import rescuable
from modell.extensions import db, limiter
from modell.organisations.forms import chosen_organisation
from modell.organisations.services import organisation_picks


@bp.route("/oppna")
def open_cohorts():
    return render_template(
        "cohorts/public_open.html", cohorts=public.open_cohorts(db.session, today=today())
    )


def _form_page(form, cohort: Cohort):
    return render_template(
        "cohorts/public_register.html",
        form=form,
        cohort=cohort,
        organisation_picks=organisation_picks(db.session),
        organisation_list=ORGANISATION_LIST,
        hours=public.PENDING_HOURS,
    )


def _too_many(limit):
    """Over the limit: the form again with everything the sender wrote, and when to send it
    (not a bare error page that loses a long form)."""
    cohort = db.session.get(Cohort, request.view_args.get("cohort_id", 0))
    if cohort is None:
        return None  # the usual 429 page
    form = PublicRegistrationForm()
    seconds = max(1, math.ceil(limit.reset_at - time.time()))
    minutes = math.ceil(seconds / 60)
    form.form_errors.append(
        ngettext(
            "Too many interest registrations have been sent from your network. Nothing was "
            "sent, but what you wrote is still here: send it again in %(num)d minute.",
            "Too many interest registrations have been sent from your network. Nothing was "
            "sent, but what you wrote is still here: send it again in %(num)d minutes.",
            minutes,
        )
    )
    return make_response(_form_page(form, cohort), 429, {"Retry-After": str(seconds)})


@bp.route("/<int:cohort_id>/intresse", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["PUBLIC_FORM_RATE_LIMIT"], methods=["POST"], on_breach=_too_many
)
@rescuable
def public_register(cohort_id: int):
    """Register interest without an account; it counts once the e-mail is confirmed."""
    cohort = db.get_or_404(Cohort, cohort_id)
    if not applications.registration_open(cohort, today()):
        return render_template("cohorts/public_closed.html", cohort=cohort), 404
    form = PublicRegistrationForm()
    if form.is_submitted():
        valid = form.validate_on_submit()
        if valid and form.website.data:  # only a robot fills in what people cannot see
            return redirect(url_for("cohorts.public_sent", cohort_id=cohort.id))
        # The organisation is looked up on every submission, so that its problem is listed
        # with the others at once, not only once they are put right.
        organisation = chosen_organisation(form)  # None: a new one, named below
        if organisation is None and not (form.new_name.data or "").strip():
            add_error(form, public.CHOOSE_ORGANISATION, "organisation")
            organisation = False
        if valid and organisation is not False:
            try:
                public.start(
                    db.session,
                    cohort,
                    organisation=organisation,
                    new_name=form.new_name.data,
                    new_kind=form.new_kind.data or None,
                    data=registration_data(form),
                    submitter_email=form.submitter_email.data,
                    now=now(),
                )
                db.session.commit()
                return redirect(url_for("cohorts.public_sent", cohort_id=cohort.id))
            except RuleViolation as error:
                db.session.rollback()
                add_error(form, error.message, error.field)
    return _form_page(form, cohort)


@bp.route("/<int:cohort_id>/intresse/skickad")
def public_sent(cohort_id: int):
    cohort = db.get_or_404(Cohort, cohort_id)
    return render_template("cohorts/public_sent.html", cohort=cohort, hours=public.PENDING_HOURS)


@bp.route("/intresse/bekrafta/<token>", methods=["GET", "POST"])
@rescuable
def confirm_interest(token: str):
    """The link from the mail: a page with a button (a mail program that opens links to check
    them must not confirm anything), then the registration is submitted."""
    try:
        pending = public.pending_for(db.session, token, now=now())
    except RuleViolation as error:
        return render_template("cohorts/public_confirm.html", problem=error.message), 400
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            registration = public.confirm(db.session, token, now=now())
            db.session.commit()
        except RuleViolation as error:
            db.session.rollback()
            return render_template("cohorts/public_confirm.html", problem=error.message), 400
        flash(
            _(
                "Thank you: the interest registration of %(name)s is received. SKR decides it; "
                "if it is accepted, its contacts are invited to accounts.",
                name=registration.organisation.name,
            ),
            "success",
        )
        return redirect(url_for("cohorts.public_sent", cohort_id=registration.cohort_id, klar=1))
    return render_template("cohorts/public_confirm.html", pending=pending, form=form)
