"""Cohort pages: the list, creating and changing a cohort, its page, its status and concluding
it. Registrations are in registration_routes.py, groups in group_routes.py. Thin: parse the
request, ask access, call a service, render."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from modell.cohorts import bp, groups, services
from modell.cohorts import registrations as applications
from modell.cohorts.forms import (
    CohortForm,
    ConcludeForm,
    StatusForm,
)
from modell.cohorts.models import (
    COHORT_STATUS_LABELS,
    PARTICIPATION_ROLE_LABELS,
    REGISTRATION_STATUS_LABELS,
    Cohort,
    ProgrammeTemplate,
)
from modell.core import revisions
from modell.core.access import may_view, require_staff, require_view
from modell.core.clock import now, today
from modell.core.dates import language
from modell.core.errors import RuleViolation, StaleEdit
from modell.core.forms import add_error, options
from modell.core.web import Confirmation, Translated, apply_change, confirm_first, rescuable
from modell.extensions import db
from modell.organisations.models import KIND_LABELS, Organisation


def cohort_or_404(cohort_id: int) -> Cohort:
    cohort = services.load_cohort(db.session, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


def page_labels() -> dict:
    return {
        "status_labels": Translated(COHORT_STATUS_LABELS),
        "role_labels": Translated(PARTICIPATION_ROLE_LABELS),
        "kind_labels": Translated(KIND_LABELS),
        "registration_status_labels": Translated(REGISTRATION_STATUS_LABELS),
    }


@bp.route("/")
@login_required
def index():
    cohorts = services.visible_cohorts(db.session, current_user)
    return render_template("cohorts/index.html", cohorts=cohorts, **page_labels())


# --- creating and changing a cohort ----------------------------------------------------------


def template_choices(form) -> None:
    """The current programme models, for a form's template_id."""
    templates = db.session.scalars(
        sa.select(ProgrammeTemplate)
        .where(ProgrammeTemplate.is_current)
        .order_by(ProgrammeTemplate.name)
    ).all()
    form.template_id.choices = options(((t.id, t.name) for t in templates), blank=True)


def _template_choices(form: CohortForm) -> None:
    template_choices(form)
    from modell.auth.models import User  # auth builds on cohorts' neighbours: import late

    leads = db.session.execute(
        sa.select(User.id, User.name)
        .where(User.role.in_(("admin", "coordinator")), User.active.is_(True))
        .order_by(User.name)
    ).all()
    form.project_lead_id.choices = options(((u.id, u.name) for u in leads), blank=True)


@bp.route("/ny", methods=["GET", "POST"])
@rescuable
@login_required
def create():
    require_staff()
    form = CohortForm()
    _template_choices(form)
    if form.validate_on_submit():
        template = db.session.get(ProgrammeTemplate, form.template_id.data)
        cohort = services.create_cohort(
            db.session,
            now=now(),
            user_id=current_user.id,
            name=form.name.data.strip(),
            template=template,
            registration_deadline=form.registration_deadline.data,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            description=form.description.data or None,
            project_lead_id=form.project_lead_id.data,
        )
        db.session.commit()
        flash(_("The cohort %(name)s is created as a draft.", name=cohort.name), "success")
        return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    return render_template("cohorts/form.html", form=form, cohort=None)


@bp.route("/<int:cohort_id>/andra", methods=["GET", "POST"])
@rescuable
@login_required
def edit(cohort_id: int):
    cohort = cohort_or_404(cohort_id)
    require_staff()
    form = CohortForm(obj=cohort if request.method == "GET" else None)
    _template_choices(form)
    if cohort.status != "draft":  # the template is fixed once the cohort is open
        form.template_id.choices = options([(cohort.template_id, cohort.template.name)])
        form.template_id.data = cohort.template_id
    if form.validate_on_submit():
        try:
            services.update_cohort(
                db.session,
                cohort,
                now=now(),
                user_id=current_user.id,
                expected_version=form.seen_version(),
                name=form.name.data.strip(),
                template_id=form.template_id.data,
                registration_deadline=form.registration_deadline.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                description=form.description.data or None,
                project_lead_id=form.project_lead_id.data,
            )
            db.session.commit()
            flash(_("The cohort is saved."), "success")
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
            if isinstance(error, StaleEdit):
                form.version.data = str(db.session.get(Cohort, cohort_id).version)
    elif request.method == "GET":
        form.version.data = str(cohort.version)
    return render_template("cohorts/form.html", form=form, cohort=cohort)


# --- a cohort's page and its status ---------------------------------------------------------


@bp.route("/<int:cohort_id>")
@login_required
def detail(cohort_id: int):
    revisions.revision_of(db.session, cohort_id)  # before anything kept is read
    cohort = cohort_or_404(cohort_id)
    require_view(cohort)
    shown = [g for g in cohort.groups if may_view(current_user, g)]
    staff = current_user.is_staff
    actions = services.cohort_actions(cohort)
    own = None
    if current_user.organisation_id:
        own = applications.registration_for(db.session, cohort, current_user.organisation_id)
    may_change_groups = bool(staff and actions["form_groups"])
    context = {
        "cohort": cohort,
        "groups": shown,
        # The groups and their members as the page lists them, written once per revision.
        "groups_html": revisions.kept(
            db.session,
            cohort.id,
            "cohort groups",
            lambda: Markup(  # nosec B704 # an autoescaped template
                render_template(
                    "cohorts/_groups.html",
                    groups=shown,
                    may_change_groups=may_change_groups,
                    **page_labels(),
                )
            ),
            tuple(g.id for g in shown),
            may_change_groups,
            language(),
        ),
        "own_registration": own,
        "registration_open": applications.registration_open(cohort, today()),
        "actions": actions,
        **page_labels(),
    }
    if staff:
        context.update(
            next_steps=services.next_steps(db.session, cohort, today=today()),
            status_form=StatusForm(version=str(cohort.version)),
            ungrouped=services.ungrouped(cohort),
            registrations=applications.registrations_of(db.session, cohort),
            travel_km=groups.cohort_travel_km(cohort),
            concluding_early=services.concluded_early(cohort, now()),
        )
    return render_template("cohorts/detail.html", **context)


def _starting(cohort_id: int):
    cohort = cohort_or_404(cohort_id)
    require_staff()
    if request.form.get("to") != "running":
        return None
    groups = len(cohort.groups)
    return Confirmation(
        question=_("Start %(name)s?", name=cohort.name),
        consequences=[
            ngettext(
                "The meetings of the programme model are planned for its %(num)d group, and "
                "the reminders to hosts and participants start.",
                "The meetings of the programme model are planned for its %(num)d groups, and "
                "the reminders to hosts and participants start.",
                groups,
            ),
            _("The groups are fixed from then on, and a running cohort cannot be reopened."),
        ],
        button=_("Start the cohort"),
    )


@bp.route("/<int:cohort_id>/status", methods=["POST"])
@login_required
@confirm_first(_starting)
def change_status(cohort_id: int):
    cohort = cohort_or_404(cohort_id)
    require_staff()
    form = StatusForm()
    if form.validate_on_submit():
        apply_change(
            lambda: services.change_status(
                db.session,
                cohort,
                form.to.data,
                now=now(),
                user_id=current_user.id,
                expected_version=form.seen_version(),
            ),
            lambda result: _(
                "The cohort is now: %(status)s.", status=COHORT_STATUS_LABELS[cohort.status]
            ),
        )
    return redirect(url_for("cohorts.detail", cohort_id=cohort_id))


@bp.route("/<int:cohort_id>/avsluta", methods=["GET", "POST"])
@login_required
def conclude(cohort_id: int):
    cohort = cohort_or_404(cohort_id)
    require_staff()
    if cohort.status != "running":
        flash(_("Only a running cohort can be concluded."), "danger")
        return redirect(url_for("cohorts.detail", cohort_id=cohort_id))
    active = sorted(
        (p for p in cohort.participations if p.status == "active"),
        key=lambda p: (p.group.position if p.group else 999, p.role, p.organisation.name),
    )
    form = ConcludeForm(version=str(cohort.version))
    values = {p.id: ("completed", "") for p in active}
    if form.validate_on_submit():
        outcomes = {}
        for p in active:
            outcome = request.form.get(f"outcome-{p.id}", "completed")
            reason = request.form.get(f"reason-{p.id}", "")
            values[p.id] = (outcome, reason)
            outcomes[p.id] = services.Outcome(outcome == "completed", reason)
        try:
            titles = services.conclude(
                db.session,
                cohort,
                outcomes,
                now=now(),
                user_id=current_user.id,
                expected_version=form.seen_version(),
                early_reason=form.early_reason.data,
            )
            db.session.commit()
            flash(_("The cohort is concluded."), "success")
            for t in titles:
                org = db.session.get(Organisation, t.organisation_id)
                flash(
                    _(
                        "%(name)s may now call itself %(title)s.",
                        name=org.name,
                        title=services.TITLE_LABELS[t.title],
                    ),
                    "success",
                )
            return redirect(url_for("cohorts.detail", cohort_id=cohort_id))
        except RuleViolation as error:
            db.session.rollback()  # expires what was changed: the page shows it as stored
            add_error(form, error.message, error.field)
    return render_template(
        "cohorts/conclude.html",
        early=services.concluded_early(cohort, now()),
        form=form,
        cohort=cohort,
        active=active,
        values=values,
        **page_labels(),
    )
