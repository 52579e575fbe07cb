"""Pages of the improvement work. Thin: parse, ask access, call a service, render."""

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from modell.cohorts.models import Group, Participation
from modell.core import revisions
from modell.core.access import may_change, may_view, require_change, require_staff, require_view
from modell.core.clock import now, today
from modell.core.dates import language
from modell.core.errors import RuleViolation, StaleEdit
from modell.core.files import current_store
from modell.core.forms import ButtonForm, add_error, options
from modell.core.web import Translated, apply_change, page_of, rescuable
from modell.extensions import db
from modell.improvements import bp, mentoring, pace, services
from modell.improvements.forms import (
    BaselineForm,
    EntryForm,
    GoodExampleSearchForm,
    MentorSessionForm,
    WorkForm,
)
from modell.improvements.models import (
    ImprovementWork,
    LogEntry,
    Workspace,
    may_write_for_group,
    work_open,
)
from modell.organisations.models import FUNCTION_LABELS

# A piece of work's log is shown this many entries at a time.
LOG_PER_PAGE = 10


def _labels() -> dict:
    return {
        "step_labels": Translated(services.STEP_LABELS),
        "step_help": Translated(services.STEP_HELP),
        "subgoal_labels": Translated(services.SUBGOAL_LABELS),
        "target_group_labels": Translated(services.TARGET_GROUP_LABELS),
        "status_labels": Translated(services.STATUS_LABELS),
        "expected_result_labels": Translated(services.EXPECTED_RESULT_LABELS),
        "function_labels": Translated(FUNCTION_LABELS),
    }


def _participation_or_404(participation_id: int) -> Participation:
    participation = services.load_participation(db.session, participation_id)
    if participation is None:
        abort(404)
    return participation


def _workspace(participation_id: int, *, change: bool = False) -> Participation:
    participation = _participation_or_404(participation_id)
    (require_change if change else require_view)(Workspace(participation))
    return participation


# --- the start of the work ------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    """Where a member finds its organisation's work and its mentor groups; staff find the
    good examples waiting for a decision."""
    participations = (
        services.participations_of_organisation(db.session, current_user.organisation_id)
        if current_user.organisation_id
        else []
    )
    # The groups it mentors now: a concluded cohort's group needs no nudge.
    mentored = [
        p
        for p in participations
        if p.role in ("mentor", "support") and p.group and work_open(p.cohort)
    ]
    quiet = pace.silent_by_group(db.session, [p.group for p in mentored], today=today())
    silent = {p.group_id: quiet.get(p.group_id, []) for p in mentored}
    proposed = (
        services.good_examples(db.session, status="proposed") if current_user.is_staff else []
    )
    coming = {
        p.group_id: mentoring.coming_meetings(db.session, p.group, now=now()) for p in mentored
    }
    return render_template(
        "improvements/index.html",
        participations=[p for p in participations if p.role == "benchmarking"],
        mentoring=mentored,
        silent=silent,
        coming=coming,
        proposed=proposed,
        **_labels(),
    )


@bp.route("/<int:participation_id>")
@login_required
def workspace(participation_id: int):
    # The cohort's revision before anything kept is read (core.revisions).
    revisions.revision_through(
        db.session,
        sa.select(Participation.cohort_id)
        .where(Participation.id == participation_id)
        .scalar_subquery(),
    )
    participation = _workspace(participation_id)
    editable = may_change(current_user, Workspace(participation))

    def body() -> Markup:
        """All but the frame, written once per revision of the cohort: an organisation's
        year of log entries is read far more often than it is written."""
        works = services.works_of(db.session, participation)
        meeting_days = pace.benchmarking_dates(db.session, participation.group)
        # Each piece of work's log, newest first, a page at a time (a year's log is long).
        logs = {w.id: page_of(w.entries[::-1], LOG_PER_PAGE, f"logg{w.id}") for w in works}
        html = render_template(
            "improvements/_workspace.html",
            participation=participation,
            editable=editable,
            baseline=services.baseline_of(db.session, participation),
            works=works,
            logs=logs,
            intervals={
                e.id: pace.interval_label(e.entry_date, meeting_days)
                for shown, _where in logs.values()
                for e in shown
            },
            results=services.expected_results_of(works),
            highest=services.highest_step(works),
            indicators=services.indicators_of(db.session, participation.organisation_id),
            **_labels(),
        )
        return Markup(html)  # nosec B704 # an autoescaped template

    # The pages of the logs (and the pagers' links) follow the address's arguments: kept
    # under the query string exactly as written, and only for a short one (a crafted long
    # one is worked out, not kept).
    asked = request.query_string
    return render_template(
        "improvements/workspace.html",
        participation=participation,
        body=revisions.kept(
            db.session,
            participation.cohort_id,
            "workspace",
            body,
            participation.id,
            editable,
            language(),
            today(),
            asked,
        )
        if len(asked) <= 200
        else body(),
    )


# --- the baseline -----------------------------------------------------------------------------


@bp.route("/<int:participation_id>/utgangslage", methods=["GET", "POST"])
@rescuable
@login_required
def baseline(participation_id: int):
    participation = _workspace(participation_id, change=True)
    current = services.baseline_of(db.session, participation)
    form = BaselineForm(obj=current if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(current.version) if current else ""
    elif form.validate_on_submit():
        try:
            services.save_baseline(
                db.session,
                participation,
                now=now(),
                user_id=current_user.id,
                expected_version=form.seen_version(),
                **{k: form[k].data for k in services.BASELINE_FIELDS},
            )
            db.session.commit()
            flash(_("The baseline is saved."), "success")
            return redirect(url_for("improvements.workspace", participation_id=participation.id))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
            if isinstance(error, StaleEdit):
                form.version.data = str(services.baseline_of(db.session, participation).version)
    return render_template(
        "improvements/baseline_form.html", form=form, participation=participation
    )


# --- improvement work -------------------------------------------------------------------------


def _work_or_404(work_id: int) -> ImprovementWork:
    return db.get_or_404(ImprovementWork, work_id)


@bp.route("/<int:participation_id>/arbeten/ny", methods=["GET", "POST"])
@bp.route("/arbeten/<int:work_id>/andra", methods=["GET", "POST"])
@rescuable
@login_required
def edit_work(participation_id: int | None = None, work_id: int | None = None):
    work = _work_or_404(work_id) if work_id is not None else None
    participation = _workspace(work.participation_id if work else participation_id, change=True)
    form = WorkForm(obj=work if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(work.version) if work else ""
    elif form.validate_on_submit():
        data = services.WorkData(
            **{k: form[k].data for k in services.WorkData.__dataclass_fields__}
        )
        try:
            saved = services.save_work(
                db.session,
                participation,
                data,
                now=now(),
                user_id=current_user.id,
                work=work,
                expected_version=form.seen_version(),
            )
            db.session.commit()
            flash(_("The improvement work %(title)s is saved.", title=saved.title), "success")
            return redirect(url_for("improvements.workspace", participation_id=participation.id))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
            if isinstance(error, StaleEdit):
                form.version.data = str(_work_or_404(work_id).version)
    return render_template(
        "improvements/work_form.html", form=form, participation=participation, work=work
    )


# --- the log ----------------------------------------------------------------------------------


def _entry_or_404(entry_id: int) -> LogEntry:
    return db.get_or_404(LogEntry, entry_id)


def _indicator_choices(form: EntryForm, participation: Participation) -> None:
    indicators = services.indicators_of(db.session, participation.organisation_id)
    form.indicator_id.choices = options(((i.id, i.name) for i in indicators), blank=True)


@bp.route("/arbeten/<int:work_id>/logg/ny", methods=["GET", "POST"])
@bp.route("/logg/<int:entry_id>/andra", methods=["GET", "POST"])
@rescuable
@login_required
def edit_entry(work_id: int | None = None, entry_id: int | None = None):
    entry = _entry_or_404(entry_id) if entry_id is not None else None
    work = entry.work if entry else _work_or_404(work_id)
    participation = _workspace(work.participation_id, change=True)
    form = EntryForm(obj=entry if request.method == "GET" else None)
    _indicator_choices(form, participation)
    if request.method == "GET":
        form.version.data = str(entry.version) if entry else ""
        if entry is None:
            form.entry_date.data = today()
    elif form.validate_on_submit():
        upload = form.evidence_file.data
        evidence = None
        if upload and getattr(upload, "filename", ""):
            evidence = services.Evidence(
                filename=upload.filename,
                content=upload.read(),
                store=current_store(),
                max_bytes=current_app.config["UPLOAD_MAX_MB"] * 1024 * 1024,
            )
        data = services.EntryData(
            **{k: form[k].data for k in services.EntryData.__dataclass_fields__}
        )
        try:
            saved = services.save_entry(
                db.session,
                work,
                data,
                now=now(),
                user_id=current_user.id,
                entry=entry,
                expected_version=form.seen_version(),
                evidence=evidence,
            )
            db.session.commit()
            flash(_("The entry is saved."), "success")
            return redirect(url_for("improvements.entry", entry_id=saved.id))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
            if isinstance(error, StaleEdit):
                form.version.data = str(_entry_or_404(entry_id).version)
    return render_template(
        "improvements/entry_form.html",
        form=form,
        participation=participation,
        work=work,
        entry=entry,
        **_labels(),
    )


@bp.route("/logg/<int:entry_id>")
@login_required
def entry(entry_id: int):
    entry = _entry_or_404(entry_id)
    require_view(entry)
    participation = entry.work.participation
    meeting_days = pace.benchmarking_dates(db.session, participation.group)
    return render_template(
        "improvements/entry.html",
        entry=entry,
        work=entry.work,
        participation=participation,
        interval=pace.interval_label(entry.entry_date, meeting_days),
        editable=may_change(current_user, entry),
        in_workspace=may_view(current_user, Workspace(participation)),
        form=ButtonForm(),
        **_labels(),
    )


@bp.route("/logg/<int:entry_id>/bevis")
@login_required
def evidence(entry_id: int):
    entry = _entry_or_404(entry_id)
    require_view(entry)
    if not entry.evidence_stored_name:
        abort(404)
    content = current_store().open(entry.evidence_stored_name)
    if content is None:
        abort(404)
    return send_file(
        content,
        mimetype=entry.evidence_mimetype,
        as_attachment=True,
        download_name=entry.evidence_filename,
    )


@bp.route("/logg/<int:entry_id>/gott-exempel", methods=["POST"])
@login_required
def propose(entry_id: int):
    entry = _entry_or_404(entry_id)
    require_change(entry)
    if ButtonForm().validate_on_submit():
        apply_change(
            lambda: services.propose_good_example(
                db.session, entry, now=now(), user_id=current_user.id
            ),
            _("The entry is proposed as a good example; SKR decides."),
        )
    return redirect(url_for("improvements.entry", entry_id=entry_id))


@bp.route("/logg/<int:entry_id>/beslut", methods=["POST"])
@login_required
def decide(entry_id: int):
    entry = _entry_or_404(entry_id)
    require_staff()
    approve = request.form.get("beslut") == "godkann"
    if ButtonForm().validate_on_submit():
        apply_change(
            lambda: services.decide_good_example(
                db.session, entry, approve=approve, now=now(), user_id=current_user.id
            ),
            _("The entry is now a good example that everyone can read.")
            if approve
            else _("The entry is not a good example."),
        )
    return redirect(url_for("improvements.entry", entry_id=entry_id))


@bp.route("/goda-exempel")
@login_required
def good_examples():
    form = GoodExampleSearchForm(request.args)
    form.validate()
    found = services.good_examples(
        db.session,
        core_activity=form.aktivitet.data,
        subgoal=form.delmal.data or None,
        text=form.text.data,
    )
    return render_template("improvements/good_examples.html", form=form, entries=found, **_labels())


# --- the group ----------------------------------------------------------------------------------


@bp.route("/grupp/<int:group_id>")
@login_required
def group(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_view(group)
    members = [p for p in group.participations if p.role == "benchmarking"]
    members.sort(key=lambda p: p.organisation.name)
    found = services.baselines_of(db.session, [p.id for p in members])
    baselines = {p.id: found.get(p.id) for p in members}
    mentor = mentoring.mentor_participation(group, current_user.organisation_id)
    return render_template(
        "improvements/group.html",
        group=group,
        members=[p for p in members if may_view(current_user, Workspace(p))],
        baselines=baselines,
        silent=pace.silent_since_last_meeting(db.session, group, today=today()),
        last_entries=pace.last_entry_dates(db.session, [p.id for p in members]),
        sessions=mentoring.mentor_sessions_of(db.session, group),
        may_log_session=mentor is not None and may_write_for_group(current_user, group),
        organisation_names={p.organisation_id: p.organisation.name for p in members},
        **_labels(),
    )


@bp.route("/grupp/<int:group_id>/mentorsmote", methods=["GET", "POST"])
@rescuable
@login_required
def mentor_session(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_view(group)
    mentor = mentoring.mentor_participation(group, current_user.organisation_id)
    if mentor is None or not may_write_for_group(current_user, group):
        abort(403)
    form = MentorSessionForm()
    members = sorted(
        (p for p in group.participations if p.role == "benchmarking"),
        key=lambda p: p.organisation.name,
    )
    form.organisation_ids.choices = [(p.organisation_id, p.organisation.name) for p in members]
    if request.method == "GET":
        form.held_on.data = today()
        form.organisation_ids.data = [p.organisation_id for p in members]
    elif form.validate_on_submit():
        data = mentoring.MentorSessionData(
            **{k: form[k].data for k in mentoring.MentorSessionData.__dataclass_fields__}
        )
        try:
            mentoring.save_mentor_session(
                db.session, group, mentor, data, now=now(), user_id=current_user.id
            )
            db.session.commit()
            flash(_("The mentoring session is logged."), "success")
            return redirect(url_for("improvements.group", group_id=group.id))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    return render_template("improvements/mentor_session_form.html", form=form, group=group)
