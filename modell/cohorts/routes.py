"""Cohort pages: the lifecycle, interest registrations, groups, the mentor pool and the
suggested grouping. Thin: parse the request, ask access, call a service, render."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from modell.cohorts import bp, services
from modell.cohorts.forms import (
    FEE_PAYER_LABELS,
    ORGANISATION_LIST,
    PICKS,
    CohortForm,
    ConcludeForm,
    DecisionForm,
    GroupForm,
    RegistrationForm,
    StatusForm,
    SuggestionForm,
    group_form,
)
from modell.cohorts.grouping import feasible_group_counts
from modell.cohorts.models import (
    COHORT_STATUS_LABELS,
    PARTICIPATION_ROLE_LABELS,
    REGISTRATION_STATUS_LABELS,
    Cohort,
    Group,
    InterestRegistration,
    ProgrammeTemplate,
)
from modell.core.access import may_change, may_view, require_change, require_staff, require_view
from modell.core.clock import now, today
from modell.core.errors import NeedsConfirmation, RuleViolation, StaleEdit
from modell.core.forms import add_error, options
from modell.core.web import apply_change, rescuable
from modell.extensions import db
from modell.organisations.models import FUNCTION_LABELS, KIND_LABELS, Organisation
from modell.organisations.services import (
    organisation_choices,
    organisation_label,
    organisations_called,
)


def _cohort_or_404(cohort_id: int) -> Cohort:
    cohort = services.load_cohort(db.session, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


def _labels() -> dict:
    return {
        "status_labels": COHORT_STATUS_LABELS,
        "role_labels": PARTICIPATION_ROLE_LABELS,
        "kind_labels": KIND_LABELS,
        "registration_status_labels": REGISTRATION_STATUS_LABELS,
    }


@bp.route("/")
@login_required
def index():
    cohorts = services.visible_cohorts(db.session, current_user)
    return render_template("cohorts/index.html", cohorts=cohorts, **_labels())


# --- creating and changing a cohort ----------------------------------------------------------


def _template_choices(form: CohortForm) -> None:
    templates = db.session.scalars(
        sa.select(ProgrammeTemplate)
        .where(ProgrammeTemplate.is_current)
        .order_by(ProgrammeTemplate.name)
    ).all()
    form.template_id.choices = options(((t.id, t.name) for t in templates), blank=True)
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
    cohort = _cohort_or_404(cohort_id)
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
    cohort = _cohort_or_404(cohort_id)
    require_view(cohort)
    groups = [g for g in cohort.groups if may_view(current_user, g)]
    staff = current_user.is_staff
    own = None
    if current_user.organisation_id:
        own = services.registration_for(db.session, cohort, current_user.organisation_id)
    context = {
        "cohort": cohort,
        "groups": groups,
        "own_registration": own,
        "registration_open": services.registration_open(cohort, today()),
        "actions": services.cohort_actions(cohort),
        **_labels(),
    }
    if staff:
        context.update(
            next_steps=services.next_steps(db.session, cohort, today=today()),
            status_form=StatusForm(version=str(cohort.version)),
            ungrouped=services.ungrouped(cohort),
            registrations=services.registrations_of(db.session, cohort),
            travel_km=services.cohort_travel_km(cohort),
        )
    return render_template("cohorts/detail.html", **context)


@bp.route("/<int:cohort_id>/status", methods=["POST"])
@login_required
def change_status(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
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
    cohort = _cohort_or_404(cohort_id)
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
            add_error(form, error.message)
    return render_template(
        "cohorts/conclude.html",
        form=form,
        cohort=cohort,
        active=active,
        values=values,
        **_labels(),
    )


# --- interest registration ------------------------------------------------------------------


def _registration_data(form: RegistrationForm) -> services.RegistrationData:
    contacts = [
        services.Contact(
            function,
            form[f"{function}_name"].data.strip(),
            form[f"{function}_email"].data.strip(),
            (form[f"{function}_phone"].data or "").strip() or None,
        )
        for function in ("politician", "manager", "strategist")
    ]
    if form.extra_name.data:
        contacts.append(
            services.Contact(
                form.extra_function.data,
                form.extra_name.data.strip(),
                (form.extra_email.data or "").strip(),
            )
        )
    return services.RegistrationData(
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
    cohort = _cohort_or_404(cohort_id)
    require_view(cohort)
    staff = current_user.is_staff
    if not staff and current_user.organisation_id is None:
        abort(403)  # county observers read; they do not register
    if not services.registration_open(cohort, today()):
        flash(_("The interest registration for this cohort is closed."), "danger")
        return redirect(url_for("cohorts.detail", cohort_id=cohort_id))
    form = RegistrationForm()
    if staff:
        taken = services.registered_organisation_ids(db.session, cohort)
        form.organisation_id.choices = options(
            (c for c in organisation_choices(db.session) if c[0] not in taken), blank=True
        )
    else:
        del form.organisation_id
        existing = services.registration_for(db.session, cohort, current_user.organisation_id)
        if existing is not None and existing.status != "withdrawn":
            return redirect(url_for("cohorts.registration", registration_id=existing.id))
    if form.validate_on_submit():
        org_id = form.organisation_id.data if staff else current_user.organisation_id
        organisation = db.session.get(Organisation, org_id) if org_id else None
        if organisation is None:
            add_error(form, _("Choose the organisation that registers."), "organisation_id")
        else:
            try:
                registration = services.submit_registration(
                    db.session,
                    cohort,
                    organisation,
                    _registration_data(form),
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
    return render_template("cohorts/register.html", form=form, cohort=cohort)


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
    del form.organisation_id
    if request.method == "GET":
        _fill_registration_form(form, registration)
    elif form.validate_on_submit():
        try:
            services.update_registration(
                db.session,
                registration,
                _registration_data(form),
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


@bp.route("/anmalningar/<int:registration_id>/aterkalla", methods=["POST"])
@login_required
def withdraw_registration(registration_id: int):
    registration = db.get_or_404(InterestRegistration, registration_id)
    require_change(registration)
    apply_change(
        lambda: services.withdraw_registration(
            db.session, registration, now=now(), user_id=current_user.id
        ),
        _("The interest registration is withdrawn."),
    )
    return redirect(url_for("cohorts.registration", registration_id=registration_id))


@bp.route("/<int:cohort_id>/anmalningar")
@login_required
def registrations(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    require_view(cohort)
    visible = [
        r for r in services.registrations_of(db.session, cohort) if may_view(current_user, r)
    ]
    if not current_user.is_staff and not visible:
        abort(403)
    return render_template(
        "cohorts/registrations.html",
        cohort=cohort,
        registrations=visible,
        fee_labels=FEE_PAYER_LABELS,
        **_labels(),
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
                services.decide_registration(
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
                return redirect(url_for("cohorts.registrations", cohort_id=registration.cohort_id))
            except RuleViolation as error:
                db.session.rollback()
                add_error(form, error.message, error.field)
    return render_template(
        "cohorts/registration.html",
        editable=may_change(current_user, registration)
        and services.registration_editable(registration, today()),
        decidable=current_user.is_staff and services.registration_decidable(registration),
        registration=registration,
        form=form,
        fee_labels=FEE_PAYER_LABELS,
        function_labels=FUNCTION_LABELS,
        **_labels(),
    )


# --- groups ---------------------------------------------------------------------------------


@bp.route("/grupper/<int:group_id>")
@login_required
def group(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_view(group)
    return render_template(
        "cohorts/group.html",
        group=group,
        actions=services.cohort_actions(group.cohort),
        **_labels(),
    )


def _posted_count(prefix: str) -> int:
    """How many inputs of one list of organisations the sent form had."""
    numbers = [k.removeprefix(prefix + "_") for k in request.form if k.startswith(prefix + "_")]
    return max((int(n) for n in numbers if n.isdecimal() and len(n) < 4), default=0)


def _chosen_organisations(form: GroupForm) -> dict[str, list[Organisation]] | None:
    """The organisations the group form's inputs name, by list. Each input must name exactly
    one: a label from the list, or a name that only one organisation has. Otherwise a message
    beside the input, and None: a name two organisations share is never guessed."""
    inputs = {prefix: form.picks(prefix) for prefix in PICKS}
    inputs["supported_mentor"] = [form.supported_mentor]
    texts = {f.name: (f.data or "").strip() for fields in inputs.values() for f in fields}
    meaning = organisations_called(db.session, [t for t in texts.values() if t])
    chosen: dict[str, list[Organisation]] = {key: [] for key in inputs}
    clear = True
    for key, fields in inputs.items():
        for f in fields:
            if not texts[f.name]:
                continue
            found = meaning[texts[f.name]]
            if len(found) == 1:
                chosen[key].append(found[0])
                continue
            clear = False
            if found:
                message = _(
                    "Several organisations are called %(name)s: choose one from the list: "
                    "%(labels)s.",
                    name=texts[f.name],
                    labels="; ".join(organisation_label(o) for o in found),
                )
            else:
                message = _("No organisation is called %(names)s.", names=texts[f.name])
            add_error(form, message, f.name)
    return chosen if clear else None


def _group_form_choices(
    form: GroupForm, cohort: Cohort, group: Group | None, pool: list[services.MentorCandidate]
) -> None:
    own = group.id if group else None
    participants = [
        p
        for p in cohort.participations
        if p.role == "benchmarking" and p.status == "active" and p.group_id in (None, own)
    ]
    form.benchmarking.choices = [
        (p.organisation_id, organisation_label(p.organisation))
        for p in sorted(participants, key=lambda p: p.organisation.name)
    ]
    form.mentors.choices = [
        (
            c.organisation.id,
            organisation_label(c.organisation)
            + (" – " + _("has mentored before") if c.mentored else ""),
        )
        for c in pool
        if c.here is None or c.here.group_id == own and c.here.role == "mentor"
    ]


def _fill_group_form(form: GroupForm, group: Group, pool_ids: set[int]) -> None:
    """The group as it is: every organisation by its label, which names it and no other, so
    saving the form unchanged keeps the same organisations."""
    form.process(obj=group)
    form.version.data = str(group.version)
    members = group.members("benchmarking")
    if group.name == ", ".join(p.organisation.name for p in members):
        form.name.data = ""  # named after its participants: it follows them
    form.benchmarking.data = [p.organisation_id for p in members]
    mentors = group.members("mentor")
    form.mentors.data = [p.organisation_id for p in mentors if p.organisation_id in pool_ids]
    others = [p for p in mentors if p.organisation_id not in pool_ids]
    supporters = group.members("support")
    for prefix, taking_part in (("other_mentors", others), ("support", supporters)):
        for f, p in zip(form.picks(prefix), taking_part, strict=False):
            f.data = organisation_label(p.organisation)
    if supporters and supporters[0].supports:
        form.supported_mentor.data = organisation_label(supporters[0].supports.organisation)


def _save_group_view(cohort: Cohort, group: Group | None):
    pool = services.mentor_pool(db.session, cohort)
    pool_ids = {c.organisation.id for c in pool}
    if request.method == "POST":
        counts = {prefix: _posted_count(prefix) for prefix in PICKS}
    elif group is not None:  # as many inputs as the group has, and one more to add
        others = [p for p in group.members("mentor") if p.organisation_id not in pool_ids]
        counts = {"other_mentors": len(others) + 1, "support": len(group.members("support")) + 1}
    else:
        counts = {}
    form = group_form(counts)
    _group_form_choices(form, cohort, group, pool)
    warnings: list[str] = []
    if request.method == "GET":
        if group is not None:
            _fill_group_form(form, group, pool_ids)
    elif form.validate_on_submit():
        benchmarking = [db.session.get(Organisation, i) for i in form.benchmarking.data]
        chosen = [db.session.get(Organisation, i) for i in form.mentors.data]
        named = _chosen_organisations(form)
        if named is not None:
            mentors = chosen + [o for o in named["other_mentors"] if o not in chosen]
            supporters, supported = named["support"], named["supported_mentor"]
            support = []
            if supporters:
                target = supported[0] if supported else (mentors[0] if mentors else None)
                if target is None:
                    add_error(
                        form,
                        _("A support organisation supports a mentor: add a mentor."),
                        "support_1",
                    )
                else:
                    support = [(s, target) for s in supporters]
            if not form.errors and not form.form_errors:
                draft = services.GroupDraft(
                    benchmarking,
                    mentors,
                    support,
                    name=form.name.data,
                    basis=form.basis.data,
                    theme=form.theme.data or None,
                )
                try:
                    saved = services.save_group(
                        db.session,
                        cohort,
                        draft,
                        now=now(),
                        user_id=current_user.id,
                        group=group,
                        expected_version=form.seen_version() if group else None,
                        exception_reason=form.exception_reason.data,
                    )
                    db.session.commit()
                    flash(_("The group %(name)s is saved.", name=saved.name), "success")
                    return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
                except NeedsConfirmation as error:
                    db.session.rollback()
                    warnings = error.warnings
                    add_error(
                        form,
                        _("The group is outside the rules: give a reason to keep it."),
                        "exception_reason",
                    )
                except RuleViolation as error:
                    db.session.rollback()
                    # A rule about the support organisations is shown beside the first of them.
                    field = "support_1" if error.field == "support" else error.field
                    add_error(form, error.message, field)
                    if isinstance(error, StaleEdit):
                        form.version.data = str(db.session.get(Group, group.id).version)
    return render_template(
        "cohorts/group_form.html",
        form=form,
        cohort=cohort,
        group=group,
        warnings=warnings,
        organisation_labels=[label for _id, label in organisation_choices(db.session)]
        if cohort.template.uses_mentors
        else [],
        organisation_list=ORGANISATION_LIST,
        actions=services.cohort_actions(cohort),
        **_labels(),
    )


@bp.route("/<int:cohort_id>/grupper/ny", methods=["GET", "POST"])
@login_required
def new_group(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    require_staff()
    return _save_group_view(cohort, None)


@bp.route("/grupper/<int:group_id>/andra", methods=["GET", "POST"])
@login_required
def edit_group(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_staff()
    return _save_group_view(_cohort_or_404(group.cohort_id), group)


@bp.route("/grupper/<int:group_id>/ta-bort", methods=["POST"])
@login_required
def delete_group(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_staff()
    form = StatusForm(to="delete")
    cohort_id = group.cohort_id
    if form.validate_on_submit():
        apply_change(
            lambda: services.delete_group(
                db.session,
                group,
                now=now(),
                user_id=current_user.id,
                expected_version=form.seen_version(),
            ),
            _("The group is dissolved; its participants are ungrouped."),
        )
    return redirect(url_for("cohorts.detail", cohort_id=cohort_id))


# --- mentor pool and suggested grouping -----------------------------------------------------


@bp.route("/<int:cohort_id>/mentorer")
@login_required
def mentor_pool(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    require_staff()
    pool = services.mentor_pool(db.session, cohort)
    return render_template("cohorts/mentor_pool.html", cohort=cohort, pool=pool, **_labels())


@bp.route("/<int:cohort_id>/forslag", methods=["GET", "POST"])
@login_required
def suggestion(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    require_staff()
    form = SuggestionForm(request.values, meta={"csrf": request.method == "POST"})
    counts = feasible_group_counts(
        len(services.ungrouped(cohort)), cohort.template.group_min, cohort.template.group_max
    )
    form.groups.choices = options(((n, str(n)) for n in counts), blank=True)
    form.groups.choices[0].label = _("Least travel")
    basis = form.basis.data if form.basis.data in ("geography", "theme") else "geography"
    groups = form.groups.data if form.groups.data in counts else None
    result = services.suggest_groups(db.session, cohort, basis=basis, groups=groups)
    if request.method == "POST" and form.validate():
        try:
            created = services.accept_suggestion(
                db.session,
                cohort,
                result,
                now=now(),
                user_id=current_user.id,
                basis=basis,
                exception_reason=form.exception_reason.data,
                fingerprint=form.fingerprint.data,
            )
            db.session.commit()
            flash(_("%(n)d groups are formed from the suggestion.", n=len(created)), "success")
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(error.message, "warning" if isinstance(error, StaleEdit) else "danger")
            cohort = _cohort_or_404(cohort_id)
            result = services.suggest_groups(db.session, cohort, basis=basis, groups=groups)
    form.fingerprint.data = result.fingerprint
    return render_template(
        "cohorts/suggestion.html",
        cohort=cohort,
        form=form,
        suggestion=result,
        formed_km=services.cohort_travel_km(cohort),
        actions=services.cohort_actions(cohort),
        warnings=services.suggestion_warnings(db.session, cohort, result),
        **_labels(),
    )
