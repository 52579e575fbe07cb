"""The organisation list and each organisation's page."""

import sqlalchemy as sa
from flask import render_template, request
from flask_login import login_required
from sqlalchemy.orm import selectinload

from modell.cohorts.models import PARTICIPATION_ROLE_LABELS, Participation
from modell.core.access import require_view
from modell.extensions import db
from modell.organisations import bp
from modell.organisations.models import KIND_LABELS, County, Organisation

PAGE_SIZE = 50


@bp.route("/")
@login_required
def index():
    q = request.args.get("q", "").strip()
    kind = request.args.get("typ", "")
    county = request.args.get("lan", "")
    stmt = sa.select(Organisation).order_by(Organisation.name)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(Organisation.name.ilike(like), Organisation.scb_code == q))
    if kind in KIND_LABELS:
        stmt = stmt.where(Organisation.kind == kind)
    if county:
        stmt = stmt.where(Organisation.county_code == county)
    page = db.paginate(
        stmt,
        page=max(request.args.get("sida", 1, type=int), 1),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    counties = db.session.scalars(sa.select(County).order_by(County.name)).all()
    return render_template(
        "organisations/index.html",
        page=page,
        q=q,
        kind=kind,
        county=county,
        kinds=KIND_LABELS,
        counties=counties,
    )


@bp.route("/<int:organisation_id>")
@login_required
def detail(organisation_id: int):
    org = db.get_or_404(Organisation, organisation_id)
    require_view(org)
    history = db.session.scalars(
        sa.select(Participation)
        .where(Participation.organisation_id == org.id)
        .options(selectinload(Participation.cohort), selectinload(Participation.group))
        .order_by(Participation.id)
    ).all()
    return render_template(
        "organisations/detail.html",
        org=org,
        history=history,
        kinds=KIND_LABELS,
        role_labels=PARTICIPATION_ROLE_LABELS,
    )
