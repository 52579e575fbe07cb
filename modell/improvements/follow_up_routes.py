"""SKR's follow-up pages: the cohort overview, the "På gång" digest, the exports."""

from datetime import date, timedelta
from urllib.parse import quote

from flask import Response, abort, render_template, request
from flask_login import login_required

from modell.cohorts.models import Cohort
from modell.core import revisions
from modell.core.access import require_staff
from modell.core.clock import today
from modell.core.timeutil import in_range
from modell.extensions import db
from modell.improvements import bp, exports
from modell.improvements import overview as follow_up
from modell.improvements.routes import _labels


def _cohort(cohort_id: int) -> Cohort:
    revisions.revision_of(db.session, cohort_id)  # before anything kept is read
    cohort = db.get_or_404(Cohort, cohort_id)
    require_staff()
    return cohort


@bp.route("/omgang/<int:cohort_id>/oversikt")
@login_required
def overview(cohort_id: int):
    cohort = _cohort(cohort_id)
    sort = request.args.get("sortera", "group")
    group_id = request.args.get("grupp", type=int)
    only_overdue = request.args.get("forsenat") == "1"
    everyone = follow_up.overview(db.session, cohort, today=today())
    rows = follow_up.select_rows(
        everyone,
        sort=sort if sort in follow_up.SORTS else "group",
        group_id=group_id,
        only_overdue=only_overdue,
    )
    return render_template(
        "improvements/overview.html",
        cohort=cohort,
        rows=rows,
        picture=follow_up.step_picture(everyone),
        total=len(everyone),
        sort=sort,
        group_id=group_id,
        only_overdue=only_overdue,
        **_labels(),
    )


def _day(name: str, default: date) -> date:
    try:
        day = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default
    return day if in_range(day) else default


@bp.route("/omgang/<int:cohort_id>/pa-gang")
@login_required
def digest(cohort_id: int):
    """What each organisation has been doing in a period: a printable page per cohort."""
    cohort = _cohort(cohort_id)
    until = _day("till", today())
    since = _day("fran", until - timedelta(days=30))
    if since > until:
        since, until = until, since
    entries = follow_up.entries_of(db.session, cohort, since=since, until=until)
    by_organisation: dict[str, list] = {}
    for e in entries:
        by_organisation.setdefault(e.work.participation.organisation.name, []).append(e)
    return render_template(
        "improvements/digest.html",
        cohort=cohort,
        since=since,
        until=until,
        by_organisation=sorted(by_organisation.items(), key=lambda kv: kv[0].casefold()),
        **_labels(),
    )


@bp.route("/omgang/<int:cohort_id>/export/<kind>.<fmt>")
@login_required
def export(cohort_id: int, kind: str, fmt: str):
    cohort = _cohort(cohort_id)
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        abort(404)
    content, mimetype, filename = exports.export(db.session, cohort, kind, fmt, today=today())
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
