"""A cohort from a spreadsheet (SKR's history, or groups formed outside the app), and the
list of organisations with their titles. Thin: read, show, confirm, call."""

import base64
import binascii
from io import BytesIO

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from modell.cohorts import bp, history, intake
from modell.cohorts.forms import CohortImportForm
from modell.cohorts.models import PARTICIPATION_ROLE_LABELS, ProgrammeTemplate
from modell.cohorts.routes import template_choices
from modell.core.access import require_staff
from modell.core.clock import now
from modell.core.errors import RuleViolation
from modell.core.forms import add_error
from modell.core.web import rescuable
from modell.extensions import db
from modell.organisations.models import KIND_LABELS


def _content(form: CohortImportForm) -> bytes | None:
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        return upload.read(intake.MAX_BYTES + 1)
    if form.content.data:
        try:
            return base64.b64decode(form.content.data, validate=True)
        except (binascii.Error, ValueError):
            return None
    return None


@bp.route("/importera", methods=["GET", "POST"])
@rescuable
@login_required
def import_cohort():
    """Upload, see the groups as they will be formed with the rules' warnings (or every row's
    error), then import: nothing is written until the whole file is valid and seen."""
    require_staff()
    form = CohortImportForm()
    template_choices(form)
    plan = None
    if form.validate_on_submit():
        content = _content(form)
        template = db.session.get(ProgrammeTemplate, form.template_id.data)
        if content is None:
            add_error(form, _("Choose a file."), "file")
        else:
            plan = intake.read_cohort_file(
                db.session,
                content,
                template=template,
                starts_on=form.starts_on.data,
                concluded=form.concluded.data,
            )
            if intake.name_taken(db.session, form.name.data):
                add_error(
                    form,
                    _("A cohort is already called %(name)s.", name=form.name.data.strip()),
                    "name",
                )
            confirmed = request.form.get("bekrafta") == "1" and not form.file.data
            if plan.valid and confirmed and not form.name.errors:
                try:
                    cohort = intake.import_cohort(
                        db.session,
                        plan,
                        name=form.name.data.strip(),
                        template=template,
                        starts_on=form.starts_on.data,
                        ends_on=form.ends_on.data,
                        concluded=form.concluded.data,
                        now=now(),
                        user_id=current_user.id,
                    )
                    db.session.commit()
                    flash(
                        _(
                            "The cohort %(name)s is imported: %(n)d organisations in %(g)d groups.",
                            name=cohort.name,
                            n=len(plan.rows),
                            g=len(plan.groups),
                        ),
                        "success",
                    )
                    return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
                except RuleViolation as error:
                    db.session.rollback()
                    add_error(form, error.message, error.field)
            form.content.data = base64.b64encode(content).decode() if plan.valid else ""
    return render_template(
        "cohorts/import.html",
        form=form,
        plan=plan,
        role_labels=PARTICIPATION_ROLE_LABELS,
        kind_labels=KIND_LABELS,
        headings=intake.TEMPLATE_HEADINGS,
    )


@bp.route("/importera/mall.<any(xlsx, csv):fmt>")
@login_required
def import_template(fmt: str):
    require_staff()
    content, mimetype, name = history.import_template(fmt)
    return send_file(BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=name)


@bp.route("/organisationer.<any(xlsx, csv):fmt>")
@login_required
def organisations_export(fmt: str):
    """Every organisation with its title and cohorts: the list SKR publishes."""
    content, mimetype, name = history.export_organisations(db.session, fmt)
    return send_file(BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=name)
