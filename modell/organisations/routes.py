"""The organisation list, each organisation's page, and the coordinators' changes."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from modell.cohorts import services as cohorts
from modell.cohorts.models import (
    PARTICIPATION_ROLE_LABELS,
    Cohort,
    Participation,
)
from modell.core.access import require_staff, require_view
from modell.core.clock import now
from modell.core.collation import swedish
from modell.core.errors import NeedsConfirmation, RuleViolation
from modell.core.forms import add_error, options
from modell.core.web import page_number, rescuable
from modell.extensions import db
from modell.organisations import bp, services
from modell.organisations.forms import OrganisationForm, PersonForm, chosen_organisation
from modell.organisations.models import (
    FUNCTION_LABELS,
    KIND_LABELS,
    County,
    Organisation,
    Person,
)

PAGE_SIZE = 50

STATUS_LABELS = {
    "taking_part": _l("Taking part now"),
    "completed": _l("Has completed a cohort"),
    "titled": _l("Modellkommun or Modellregion"),
    "never": _l("Has not taken part"),
}
PARTICIPATION_STATUS_LABELS = {
    "active": _l("Taking part"),
    "completed": _l("Completed"),
    "not_completed": _l("Not completed"),
    "withdrawn": _l("Withdrawn"),
}


@bp.route("/")
@login_required
def index():
    q = request.args.get("q", "").strip()
    kind = request.args.get("typ", "")
    county = request.args.get("lan", "")
    status = request.args.get("status", "")
    sort = request.args.get("sortera", "")
    stmt = sa.select(Organisation).where(services.IN_REGISTER)
    stmt = stmt.options(selectinload(Organisation.county))
    if sort == "lan":  # by county, then name; those without a county last
        stmt = stmt.outerjoin(County, County.code == Organisation.county_code).order_by(
            County.name.is_(None), swedish(County.name), swedish(Organisation.name)
        )
    elif sort == "typ":
        stmt = stmt.order_by(Organisation.kind, swedish(Organisation.name))
    else:
        sort = ""
    stmt = stmt.order_by(swedish(Organisation.name), Organisation.kind, Organisation.id)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(Organisation.name.ilike(like), Organisation.scb_code == q))
    if kind in KIND_LABELS:
        stmt = stmt.where(Organisation.kind == kind)
    if county:
        stmt = stmt.where(Organisation.county_code == county)
    stmt = cohorts.where_programme_status(stmt, status)
    page = db.paginate(
        stmt,
        page=page_number(),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    titles = cohorts.titles_of(db.session, [o.id for o in page.items])
    counties = db.session.scalars(sa.select(County).order_by(County.name)).all()
    return render_template(
        "organisations/index.html",
        page=page,
        q=q,
        kind=kind,
        county=county,
        status=status,
        sort=sort,
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
        counties=counties,
        titles=titles,
        title_labels=cohorts.TITLE_LABELS,
    )


@bp.route("/personer")
@login_required
def people():
    """Every contact person of every organisation, for SKR: searched by name, e-mail or
    organisation, filtered by function, sorted and paged."""
    require_staff()
    q = request.args.get("q", "").strip()[:200]
    function = request.args.get("funktion", "")
    sort = request.args.get("sortera", "")
    stmt = (
        sa.select(Person)
        .join(Organisation, Organisation.id == Person.organisation_id)
        .where(Person.active.is_(True), services.IN_REGISTER)
        .options(selectinload(Person.organisation))
    )
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            sa.or_(Person.name.ilike(like), Person.email.ilike(like), Organisation.name.ilike(like))
        )
    if function in FUNCTION_LABELS:
        stmt = stmt.where(Person.function == function)
    else:
        function = ""
    if sort == "organisation":
        stmt = stmt.order_by(swedish(Organisation.name), swedish(Person.name), Person.id)
    else:
        sort = ""
        stmt = stmt.order_by(swedish(Person.name), swedish(Organisation.name), Person.id)
    page = db.paginate(stmt, page=page_number(), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "organisations/people.html",
        page=page,
        q=q,
        function=function,
        sort=sort,
        function_labels=FUNCTION_LABELS,
    )


@bp.route("/<int:organisation_id>")
@login_required
def detail(organisation_id: int):
    org = db.get_or_404(Organisation, organisation_id)
    require_view(org)
    history = db.session.scalars(
        sa.select(Participation)
        .join(Cohort)
        .where(Participation.organisation_id == org.id)
        .options(selectinload(Participation.cohort), selectinload(Participation.group))
        .order_by(Cohort.starts_on, Participation.id)
    ).all()
    title = cohorts.title_of(db.session, org.id)
    return render_template(
        "organisations/detail.html",
        org=org,
        history=history,
        title=title,
        title_cohort=db.session.get(Cohort, title.cohort_id) if title else None,
        kinds=KIND_LABELS,
        role_labels=PARTICIPATION_ROLE_LABELS,
        status_labels=PARTICIPATION_STATUS_LABELS,
        title_labels=cohorts.TITLE_LABELS,
        function_labels=FUNCTION_LABELS,
    )


def _organisation_choices(form: OrganisationForm) -> None:
    counties = db.session.scalars(sa.select(County).order_by(County.name)).all()
    form.county_code.choices = options(((c.code, c.name) for c in counties), blank=True)


def _chosen_seat(form: OrganisationForm) -> Organisation | None:
    """The municipality the seat input names (None when empty); anything else is refused
    beside the field."""
    seat = chosen_organisation(form, "seat")
    if seat is False:  # its reason is beside the field already; the caller shows it again
        raise RuleViolation(form.seat.errors.pop(), field="seat")
    if seat is not None and not (seat.kind == "municipality" and seat.is_reference):
        raise RuleViolation(str(SEAT_NOT_A_MUNICIPALITY), field="seat")
    return seat


SEAT_NOT_A_MUNICIPALITY = _l("Choose a municipality from the list.")


def _organisation_form(org: Organisation | None):
    form = OrganisationForm(obj=org if request.method == "GET" else None)
    _organisation_choices(form)
    if org is not None and org.is_reference:
        # SCB's facts stay as they are: only the contact details can change.
        for name in ("name", "confirm_duplicate", "kind", "county_code", "seat"):
            delattr(form, name)
    elif org is not None and request.method == "GET" and org.seat:
        seat = db.session.scalar(
            sa.select(Organisation).where(
                Organisation.kind == "municipality",
                Organisation.is_reference,
                Organisation.name == org.seat,
            )
        )
        form.seat.data = services.organisation_label(seat) if seat else org.seat
    # The confirmation is asked for once the name turns out to be taken, and kept while ticked.
    ask_confirmation = bool(form.confirm_duplicate and form.confirm_duplicate.data)
    if form.validate_on_submit():
        values = {
            "website": form.website.data or None,
            "email": form.email.data or None,
            "notes": form.notes.data or None,
        }
        seat = None
        if org is None or not org.is_reference:
            values.update(
                name=form.name.data.strip(),
                kind=form.kind.data,
                county_code=form.county_code.data or None,
            )
        try:
            if org is None or not org.is_reference:
                seat = _chosen_seat(form)
            saved = services.save_organisation(
                db.session,
                org,
                now=now(),
                user_id=current_user.id,
                seat=seat,
                confirm_duplicate=ask_confirmation,
                **values,
            )
            db.session.commit()
            flash(_("%(name)s is saved.", name=saved.name), "success")
            return redirect(url_for("organisations.detail", organisation_id=saved.id))
        except NeedsConfirmation as error:
            db.session.rollback()
            for warning in error.warnings:
                add_error(form, warning, error.field)
            ask_confirmation = True
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    return render_template(
        "organisations/form.html",
        form=form,
        org=org,
        ask_confirmation=ask_confirmation,
        municipalities=services.organisation_picks(
            db.session, Organisation.kind == "municipality", Organisation.is_reference
        )
        if "seat" in form
        else [],
    )


@bp.route("/ny", methods=["GET", "POST"])
@rescuable
@login_required
def create():
    require_staff()
    return _organisation_form(None)


@bp.route("/<int:organisation_id>/andra", methods=["GET", "POST"])
@rescuable
@login_required
def edit(organisation_id: int):
    org = db.get_or_404(Organisation, organisation_id)
    require_staff()
    return _organisation_form(org)


@bp.route("/<int:organisation_id>/personer/ny", methods=["GET", "POST"])
@bp.route("/<int:organisation_id>/personer/<int:person_id>", methods=["GET", "POST"])
@login_required
def person(organisation_id: int, person_id: int | None = None):
    org = db.get_or_404(Organisation, organisation_id)
    require_staff()
    existing = None
    if person_id is not None:
        existing = db.session.get(Person, person_id)
        if existing is None or existing.organisation_id != org.id:
            abort(404)
    form = PersonForm(obj=existing if request.method == "GET" else None)
    if form.validate_on_submit():
        services.save_person(
            db.session,
            org,
            existing,
            now=now(),
            user_id=current_user.id,
            name=form.name.data.strip(),
            function=form.function.data,
            title=form.title.data or None,
            email=form.email.data or None,
            phone=form.phone.data or None,
            active=form.active.data,
        )
        db.session.commit()
        flash(_("The contact is saved."), "success")
        return redirect(url_for("organisations.detail", organisation_id=org.id))
    return render_template("organisations/person.html", form=form, org=org, person=existing)
