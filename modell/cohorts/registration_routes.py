"""Interest registration pages: an organisation applies, changes or withdraws; SKR reads and
decides."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from modell.cohorts import bp, public
from modell.cohorts import registrations as applications
from modell.cohorts.forms import (
    FEE_PAYER_LABELS,
    ORGANISATION_LIST,
    DecisionForm,
    RegistrationForm,
)
from modell.cohorts.models import (
    InterestRegistration,
)
from modell.cohorts.routes import cohort_or_404, page_labels
from modell.core.access import may_change, may_view, require_change, require_staff, require_view
from modell.core.clock import now, today
from modell.core.errors import RuleViolation
from modell.core.forms import add_error
from modell.core.web import Confirmation, apply_change, confirm_first, page_of, rescuable
from modell.extensions import db
from modell.organisations.forms import chosen_organisation
from modell.organisations.models import FUNCTION_LABELS, Organisation
from modell.organisations.services import organisation_picks

# --- interest registration ------------------------------------------------------------------


def registration_data(form: RegistrationForm) -> applications.RegistrationData:
    contacts = [
        applications.Contact(
            function,
            form[f"{function}_name"].data.strip(),
            form[f"{function}_email"].data.strip(),
            (form[f"{function}_phone"].data or "").strip() or None,
        )
        for function in ("politician", "manager", "strategist")
    ]
    if form.extra_name.data:
        contacts.append(
            applications.Contact(
                form.extra_function.data,
                form.extra_name.data.strip(),
                (form.extra_email.data or "").strip(),
            )
        )
    return applications.RegistrationData(
        decision_date=form.decision_date.data,
        decision_body=form.decision_body.data.strip(),
        decision_reference=form.decision_reference.data or None,
        cemr_signed=form.cemr_signed.data,
        contacts=contacts,
        themes=form.themes.data or None,
        core_activities=form.core_activities.data or None,
        area=form.area.data or None,
        mentor_commitment=form.mentor_commitment.data,
        fee_payer=form.fee_payer.data,
        fee_payer_note=form.fee_payer_note.data or None,
    )


@bp.route("/<int:cohort_id>/anmal", methods=["GET", "POST"])
@rescuable
@login_required
def register(cohort_id: int):
    cohort = cohort_or_404(cohort_id)
    require_view(cohort)
    staff = current_user.is_staff
    if not staff and current_user.organisation_id is None:
        abort(403)  # county observers read; they do not register
    if not applications.registration_open(cohort, today()):
        flash(_("The interest registration for this cohort is closed."), "danger")
        return redirect(url_for("cohorts.detail", cohort_id=cohort_id))
    form = RegistrationForm()
    picks = []
    if staff:
        taken = applications.registered_organisation_ids(db.session, cohort)
        picks = [p for p in organisation_picks(db.session) if p[0] not in taken]
    else:
        del form.organisation
        existing = applications.registration_for(db.session, cohort, current_user.organisation_id)
        if existing is not None and existing.status not in applications.REGISTERABLE_AGAIN:
            return redirect(url_for("cohorts.registration", registration_id=existing.id))
    if form.validate_on_submit():
        if staff:
            organisation = chosen_organisation(form)
            if organisation is None:
                add_error(form, _("Choose the organisation that registers."), "organisation")
        else:
            organisation = db.session.get(Organisation, current_user.organisation_id)
        if organisation:
            try:
                registration = applications.submit_registration(
                    db.session,
                    cohort,
                    organisation,
                    registration_data(form),
                    now=now(),
                    user_id=current_user.id,
                )
                db.session.commit()
                flash(
                    _("The interest registration of %(name)s is received.", name=organisation.name),
                    "success",
                )
                return redirect(url_for("cohorts.registration", registration_id=registration.id))
            except RuleViolation as error:
                db.session.rollback()
                add_error(form, error.message, error.field)
    return render_template(
        "cohorts/register.html",
        form=form,
        cohort=cohort,
        organisation_picks=picks,
        organisation_list=ORGANISATION_LIST,
    )


def _fill_registration_form(form: RegistrationForm, registration: InterestRegistration) -> None:
    form.process(obj=registration)
    extra = [
        c
        for c in registration.contacts
        if c.function not in ("politician", "manager", "strategist")
    ]
    for c in registration.contacts:
        if c.function in ("politician", "manager", "strategist"):
            form[f"{c.function}_name"].data = c.name
            form[f"{c.function}_email"].data = c.email
            form[f"{c.function}_phone"].data = c.phone
    if extra:
        form.extra_function.data, form.extra_name.data = extra[0].function, extra[0].name
        form.extra_email.data = extra[0].email


@bp.route("/anmalningar/<int:registration_id>/andra", methods=["GET", "POST"])
@rescuable
@login_required
def edit_registration(registration_id: int):
    registration = db.get_or_404(InterestRegistration, registration_id)
    require_change(registration)
    form = RegistrationForm()
    del form.organisation
    if request.method == "GET":
        _fill_registration_form(form, registration)
    elif form.validate_on_submit():
        try:
            applications.update_registration(
                db.session,
                registration,
                registration_data(form),
                now=now(),
                user_id=current_user.id,
            )
            db.session.commit()
            flash(_("The interest registration is saved."), "success")
            return redirect(url_for("cohorts.registration", registration_id=registration.id))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    return render_template(
        "cohorts/register.html", form=form, cohort=registration.cohort, registration=registration
    )


def _withdrawing(registration_id: int):
    registration = db.get_or_404(InterestRegistration, registration_id)
    require_change(registration)
    return Confirmation(
        question=_(
            "Withdraw the interest registration of %(name)s?", name=registration.organisation.name
        ),
        consequences=[
            _("SKR will not decide it. You may register again while the cohort is open.")
        ],
        button=_("Withdraw the registration"),
        danger=True,
    )


@bp.route("/anmalningar/<int:registration_id>/aterkalla", methods=["POST"])
@login_required
@confirm_first(_withdrawing)
def withdraw_registration(registration_id: int):
    registration = db.get_or_404(InterestRegistration, registration_id)
    require_change(registration)
    apply_change(
        lambda: applications.withdraw_registration(
            db.session, registration, now=now(), user_id=current_user.id
        ),
        _("The interest registration is withdrawn."),
    )
    return redirect(url_for("cohorts.registration", registration_id=registration_id))


REGISTRATIONS_PAGE = 50


@bp.route("/<int:cohort_id>/anmalningar")
@login_required
def registrations(cohort_id: int):
    cohort = cohort_or_404(cohort_id)
    require_view(cohort)
    visible = [
        r for r in applications.registrations_of(db.session, cohort) if may_view(current_user, r)
    ]
    if not current_user.is_staff and not visible:
        abort(403)
    shown = applications.sift(
        visible,
        q=request.args.get("q", ""),
        status=request.args.get("status", ""),
        sort=request.args.get("sortera", ""),
    )
    page, where = page_of(shown, REGISTRATIONS_PAGE)
    return render_template(
        "cohorts/registrations.html",
        cohort=cohort,
        registrations=visible,
        shown=page,
        matching=len(shown),
        page=where["number"],
        pages=where["count"],
        q=request.args.get("q", "").strip(),
        status=request.args.get("status", ""),
        sort=request.args.get("sortera", ""),
        fee_labels=FEE_PAYER_LABELS,
        **page_labels(),
    )


@bp.route("/anmalningar/<int:registration_id>", methods=["GET", "POST"])
@rescuable
@login_required
def registration(registration_id: int):
    registration = db.get_or_404(InterestRegistration, registration_id)
    require_view(registration)
    form = DecisionForm()
    if request.method == "POST":
        require_staff()
        if form.validate_on_submit():
            accept = request.form.get("decision") == "accept"
            try:
                applications.decide_registration(
                    db.session,
                    registration,
                    accept=accept,
                    reason=form.reason.data,
                    now=now(),
                    user_id=current_user.id,
                )
                db.session.commit()
                flash(
                    _("%(name)s is accepted.", name=registration.organisation.name)
                    if accept
                    else _("%(name)s is declined.", name=registration.organisation.name),
                    "success",
                )
                for note in registration.__dict__.get("invitation_notes", []):
                    flash(str(note), "info")  # accepted all the same: for information
                return redirect(url_for("cohorts.registrations", cohort_id=registration.cohort_id))
            except RuleViolation as error:
                db.session.rollback()
                add_error(form, error.message, error.field)
    return render_template(
        "cohorts/registration.html",
        editable=may_change(current_user, registration)
        and applications.registration_editable(registration, today()),
        decidable=current_user.is_staff and applications.registration_decidable(registration),
        registration=registration,
        source=public.source_of(db.session, registration) if current_user.is_staff else None,
        form=form,
        fee_labels=FEE_PAYER_LABELS,
        function_labels=FUNCTION_LABELS,
        **page_labels(),
    )
