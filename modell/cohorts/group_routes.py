"""Group pages: a group, forming and changing one (with the warnings to confirm), the mentor
pool and the suggested grouping."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from modell.cohorts import bp, groups, services
from modell.cohorts.forms import (
    ORGANISATION_LIST,
    PICKS,
    GroupForm,
    StatusForm,
    SuggestionForm,
    group_form,
)
from modell.cohorts.grouping import feasible_group_counts
from modell.cohorts.models import (
    Cohort,
    Group,
)
from modell.cohorts.routes import cohort_or_404, page_labels
from modell.core.access import require_staff, require_view
from modell.core.clock import now
from modell.core.errors import NeedsConfirmation, RuleViolation, StaleEdit
from modell.core.forms import add_error, options
from modell.core.web import Confirmation, apply_change, confirm_first
from modell.extensions import db
from modell.organisations.models import Organisation
from modell.organisations.services import (
    organisation_label,
    organisation_picks,
    organisations_called,
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
        **page_labels(),
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
    form: GroupForm, cohort: Cohort, group: Group | None, pool: list[groups.MentorCandidate]
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
    pool = groups.mentor_pool(db.session, cohort)
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
                draft = groups.GroupDraft(
                    benchmarking,
                    mentors,
                    support,
                    name=form.name.data,
                    basis=form.basis.data,
                    theme=form.theme.data or None,
                )
                try:
                    saved = groups.save_group(
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
        organisation_picks=organisation_picks(db.session) if cohort.template.uses_mentors else [],
        organisation_list=ORGANISATION_LIST,
        actions=services.cohort_actions(cohort),
        **page_labels(),
    )


@bp.route("/<int:cohort_id>/grupper/ny", methods=["GET", "POST"])
@login_required
def new_group(cohort_id: int):
    cohort = cohort_or_404(cohort_id)
    require_staff()
    return _save_group_view(cohort, None)


@bp.route("/grupper/<int:group_id>/andra", methods=["GET", "POST"])
@login_required
def edit_group(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_staff()
    return _save_group_view(cohort_or_404(group.cohort_id), group)


def _dissolving(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_staff()
    return Confirmation(
        question=_("Dissolve the group %(name)s?", name=group.name),
        consequences=[
            ngettext(
                "Its %(num)d organisation is left without a group, to be placed again.",
                "Its %(num)d organisations are left without a group, to be placed again.",
                len(group.participations),
            )
        ],
        button=_("Dissolve the group"),
        danger=True,
    )


@bp.route("/grupper/<int:group_id>/ta-bort", methods=["POST"])
@login_required
@confirm_first(_dissolving)
def delete_group(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_staff()
    form = StatusForm(to="delete")
    cohort_id = group.cohort_id
    if form.validate_on_submit():
        apply_change(
            lambda: groups.delete_group(
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
    cohort = cohort_or_404(cohort_id)
    require_staff()
    pool = groups.mentor_pool(db.session, cohort)
    return render_template("cohorts/mentor_pool.html", cohort=cohort, pool=pool, **page_labels())


@bp.route("/<int:cohort_id>/forslag", methods=["GET", "POST"])
@login_required
def suggestion(cohort_id: int):
    cohort = cohort_or_404(cohort_id)
    require_staff()
    form = SuggestionForm(request.values, meta={"csrf": request.method == "POST"})
    counts = feasible_group_counts(
        len(services.ungrouped(cohort)), cohort.template.group_min, cohort.template.group_max
    )
    form.groups.choices = options(((n, str(n)) for n in counts), blank=True)
    form.groups.choices[0].label = _("Least travel")
    basis = form.basis.data if form.basis.data in ("geography", "theme") else "geography"
    count = form.groups.data if form.groups.data in counts else None
    result = groups.suggest_groups(db.session, cohort, basis=basis, groups=count)
    if request.method == "POST" and form.validate():
        try:
            created = groups.accept_suggestion(
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
            cohort = cohort_or_404(cohort_id)
            result = groups.suggest_groups(db.session, cohort, basis=basis, groups=count)
    form.fingerprint.data = result.fingerprint
    return render_template(
        "cohorts/suggestion.html",
        cohort=cohort,
        form=form,
        suggestion=result,
        formed_km=groups.cohort_travel_km(cohort),
        actions=services.cohort_actions(cohort),
        warnings=groups.suggestion_warnings(db.session, cohort, result),
        **page_labels(),
    )
