"""Programme templates: every logged-in user reads them; coordinators copy and change them."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from modell.cohorts import bp, programme
from modell.cohorts.forms import (
    SCOPE_LABELS,
    MeetingKindForm,
    ReminderRuleForm,
    StepForm,
    TemplateCopyForm,
    TemplateForm,
)
from modell.cohorts.models import (
    REMINDER_AUDIENCE_LABELS,
    REMINDER_CONDITION_LABELS,
    ProgrammeTemplate,
)
from modell.core.access import require_staff
from modell.core.clock import now
from modell.core.errors import RuleViolation
from modell.core.forms import add_error, options
from modell.core.text import strip_format_characters
from modell.core.web import Confirmation, confirm_first, rescuable
from modell.extensions import db
from modell.organisations.models import FUNCTION_LABELS


def _template_or_404(template_id: int) -> ProgrammeTemplate:
    return db.get_or_404(ProgrammeTemplate, template_id)


def _saved(template: ProgrammeTemplate, before_id: int):
    db.session.commit()
    if template.id != before_id:
        flash(
            _(
                "Cohorts use this template, so your change made version %(v)d; the cohorts keep "
                "the version they started with.",
                v=template.version,
            ),
            "info",
        )
    flash(_("The template is saved."), "success")
    return redirect(url_for("cohorts.template", template_id=template.id))


@bp.route("/modeller/")
@login_required
def templates():
    return render_template("cohorts/templates.html", templates=programme.templates(db.session))


def _part_or_404(find, template: ProgrammeTemplate, key):
    """A step or meeting kind of the template (programme.step_at / kind_with), or 404."""
    try:
        return find(template, key)
    except LookupError:
        abort(404)


def _template_page(template: ProgrammeTemplate, copy_form: TemplateCopyForm):
    return render_template(
        "cohorts/template.html",
        template=template,
        versions=programme.versions(db.session, template),
        in_use=programme.in_use(db.session, template),
        copy_form=copy_form,
        scope_labels=SCOPE_LABELS,
        function_labels=FUNCTION_LABELS,
        rule_timing=programme.rule_timing,
        used_by=programme.cohorts_using(db.session, template),
        kind_names={k.key: k.name for k in template.meeting_kinds},
        audience_labels=REMINDER_AUDIENCE_LABELS,
        condition_labels=REMINDER_CONDITION_LABELS,
    )


@bp.route("/modeller/<int:template_id>")
@login_required
def template(template_id: int):
    return _template_page(_template_or_404(template_id), TemplateCopyForm())


@bp.route("/modeller/<int:template_id>/kopiera", methods=["POST"])
@login_required
def copy_template(template_id: int):
    template = _template_or_404(template_id)
    require_staff()
    form = TemplateCopyForm()
    if form.validate_on_submit():
        try:
            copy = programme.copy_template(
                db.session, template, name=form.name.data, now=now(), user_id=current_user.id
            )
            db.session.commit()
            flash(_("The template is copied. Change it here."), "success")
            return redirect(url_for("cohorts.template", template_id=copy.id))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    return _template_page(template, form), 400


@bp.route("/modeller/<int:template_id>/andra", methods=["GET", "POST"])
@rescuable
@login_required
def edit_template(template_id: int):
    template = _template_or_404(template_id)
    require_staff()
    form = TemplateForm(obj=template if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            saved = programme.update_template(
                db.session,
                template,
                now=now(),
                user_id=current_user.id,
                name=form.name.data.strip(),
                description=form.description.data or None,
                duration_months=form.duration_months.data,
                group_min=form.group_min.data,
                group_max=form.group_max.data,
                uses_mentors=form.uses_mentors.data,
            )
            return _saved(saved, template_id)
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    return render_template(
        "cohorts/template_form.html", form=form, template=template, heading=_("Change the template")
    )


@bp.route("/modeller/<int:template_id>/steg/ny", methods=["GET", "POST"])
@bp.route("/modeller/<int:template_id>/steg/<int:position>", methods=["GET", "POST"])
@rescuable
@login_required
def edit_step(template_id: int, position: int | None = None):
    template = _template_or_404(template_id)
    require_staff()
    step = None if position is None else _part_or_404(programme.step_at, template, position)
    form = StepForm()
    if request.method == "GET" and step is not None:
        form.title.data = step.title
        form.description.data = step.description
        form.checklist.data = "\n".join(i.text for i in step.checklist_items)
    if form.validate_on_submit():
        try:
            saved = programme.save_step(
                db.session,
                template,
                position=position,
                title=form.title.data,
                description=form.description.data,
                checklist=form.checklist.data,
                now=now(),
                user_id=current_user.id,
            )
            return _saved(saved, template_id)
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    heading = _("Change step %(n)d", n=position) if step else _("Add a step")
    return render_template(
        "cohorts/template_form.html",
        form=form,
        template=template,
        heading=heading,
        delete_url=url_for("cohorts.delete_step", template_id=template.id, position=position)
        if step
        else None,
    )


def _remove(template_id: int, find, key, remove):
    """Remove a step or a meeting kind (CSRFProtect has checked the POST's token)."""
    template = _template_or_404(template_id)
    require_staff()
    _part_or_404(find, template, key)
    try:
        return _saved(remove(template), template_id)
    except RuleViolation as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("cohorts.template", template_id=template_id))


def _deleting_step(template_id: int, position: int):
    template = _template_or_404(template_id)
    require_staff()
    step = _part_or_404(programme.step_at, template, position)
    return Confirmation(
        question=_("Delete step %(n)d, %(title)s?", n=position, title=step.title),
        consequences=[
            _(
                "The model gets a new version without it; the cohorts keep the version they "
                "started with."
            )
        ],
        button=_("Delete the step"),
        danger=True,
    )


def _deleting_kind(template_id: int, key: str):
    template = _template_or_404(template_id)
    require_staff()
    kind = _part_or_404(programme.kind_with, template, key)
    consequences = [
        _(
            "The model gets a new version without it; the cohorts keep the version they "
            "started with."
        )
    ]
    reminders = sum(1 for r in template.reminder_rules if r.meeting_kind_key == key)
    if reminders:
        consequences.append(
            ngettext(
                "Its %(num)d reminder is deleted with it.",
                "Its %(num)d reminders are deleted with it.",
                reminders,
            )
        )
    return Confirmation(
        question=_("Delete the meeting kind %(name)s?", name=kind.name),
        consequences=consequences,
        button=_("Delete the meeting kind"),
        danger=True,
    )


@bp.route("/modeller/<int:template_id>/steg/<int:position>/ta-bort", methods=["POST"])
@login_required
@confirm_first(_deleting_step)
def delete_step(template_id: int, position: int):
    return _remove(
        template_id,
        programme.step_at,
        position,
        lambda t: programme.delete_step(
            db.session, t, position=position, now=now(), user_id=current_user.id
        ),
    )


def _kind_choices(form: MeetingKindForm, template: ProgrammeTemplate, key: str | None) -> None:
    form.prepares_key.choices = options(
        ((k.key, k.name) for k in template.meeting_kinds if k.key != key), blank=True
    )


@bp.route("/modeller/<int:template_id>/motestyper/ny", methods=["GET", "POST"])
@bp.route("/modeller/<int:template_id>/motestyper/<key>", methods=["GET", "POST"])
@rescuable
@login_required
def edit_meeting_kind(template_id: int, key: str | None = None):
    template = _template_or_404(template_id)
    require_staff()
    kind = None if key is None else _part_or_404(programme.kind_with, template, key)
    form = MeetingKindForm(obj=kind if request.method == "GET" else None)
    _kind_choices(form, template, key)
    if form.validate_on_submit():
        values = {
            "key": form.key.data,
            "name": form.name.data.strip(),
            "scope": form.scope.data,
            "count": form.count.data,
            "offset_weeks": form.offset_weeks.data,
            "interval_weeks": form.interval_weeks.data,
            "duration_hours": form.duration_hours.data,
            "prepares_key": form.prepares_key.data or None,
            "audience": form.audience.data or None,
            "description": form.description.data or None,
        }
        try:
            saved = programme.save_meeting_kind(
                db.session, template, key=key, values=values, now=now(), user_id=current_user.id
            )
            return _saved(saved, template_id)
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    heading = (
        _("Change the meeting kind %(name)s", name=kind.name) if kind else _("Add a meeting kind")
    )
    return render_template(
        "cohorts/template_form.html",
        form=form,
        template=template,
        heading=heading,
        delete_url=url_for("cohorts.delete_meeting_kind", template_id=template.id, key=key)
        if kind
        else None,
    )


@bp.route("/modeller/<int:template_id>/motestyper/<key>/ta-bort", methods=["POST"])
@login_required
@confirm_first(_deleting_kind)
def delete_meeting_kind(template_id: int, key: str):
    return _remove(
        template_id,
        programme.kind_with,
        key,
        lambda t: programme.delete_meeting_kind(
            db.session, t, key=key, now=now(), user_id=current_user.id
        ),
    )


@bp.route("/modeller/<int:template_id>/paminnelser/ny", methods=["GET", "POST"])
@bp.route("/modeller/<int:template_id>/paminnelser/<key>", methods=["GET", "POST"])
@rescuable
@login_required
def edit_reminder(template_id: int, key: str | None = None):
    """A coordinator changes (or adds) one of the template's reminders. Any version may be
    changed: the one a running cohort uses is the one its reminders follow."""
    template = _template_or_404(template_id)
    require_staff()
    rule = None if key is None else _part_or_404(programme.rule_with, template, key)
    form = ReminderRuleForm(obj=rule if request.method == "GET" else None)
    form.meeting_kind.choices = options((k.key, k.name) for k in template.meeting_kinds)
    if request.method == "GET" and rule is not None:
        form.meeting_kind.data = rule.meeting_kind_key
        form.condition.data = rule.condition or ""
    if form.validate_on_submit():
        values = {
            # No invisible characters (a right-to-left override) in what goes out by mail.
            "subject": strip_format_characters(form.subject.data).strip(),
            "body": strip_format_characters(form.body.data).strip(),
            "subject_en": strip_format_characters(form.subject_en.data or "").strip() or None,
            "body_en": strip_format_characters(form.body_en.data or "").strip() or None,
            "meeting_kind_key": form.meeting_kind.data,
            "event": form.event.data,
            "offset_days": form.offset_days.data,
            "send_hour": form.send_hour.data,
            "audience": form.audience.data,
            "condition": form.condition.data or None,
            "cc_mentor": form.cc_mentor.data,
            "essential": form.essential.data,
            "active": form.active.data,
        }
        try:
            programme.save_reminder_rule(
                db.session, template, key=key, values=values, now=now(), user_id=current_user.id
            )
            db.session.commit()
            flash(
                _("The reminder is saved. The cohorts that use this version follow it."),
                "success",
            )
            return redirect(
                url_for("cohorts.template", template_id=template.id, _anchor="paminnelser")
            )
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    heading = (
        _("Change the reminder “%(subject)s”", subject=rule.subject)
        if rule
        else _("Add a reminder")
    )
    return render_template(
        "cohorts/template_form.html", form=form, template=template, heading=heading
    )
