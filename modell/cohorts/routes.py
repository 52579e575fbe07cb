"""Cohort and group pages."""

from flask import abort, render_template
from flask_login import current_user, login_required

from modell.cohorts import bp, services
from modell.cohorts.models import COHORT_STATUS_LABELS, PARTICIPATION_ROLE_LABELS, Group
from modell.core.access import require_view
from modell.extensions import db


@bp.route("/")
@login_required
def index():
    cohorts = services.visible_cohorts(db.session, current_user)
    return render_template(
        "cohorts/index.html", cohorts=cohorts, status_labels=COHORT_STATUS_LABELS
    )


@bp.route("/<int:cohort_id>")
@login_required
def detail(cohort_id: int):
    cohort = services.load_cohort(db.session, cohort_id)
    if cohort is None:
        abort(404)
    require_view(cohort)
    return render_template(
        "cohorts/detail.html",
        cohort=cohort,
        status_labels=COHORT_STATUS_LABELS,
        role_labels=PARTICIPATION_ROLE_LABELS,
    )


@bp.route("/grupper/<int:group_id>")
@login_required
def group(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_view(group)
    return render_template("cohorts/group.html", group=group, role_labels=PARTICIPATION_ROLE_LABELS)
