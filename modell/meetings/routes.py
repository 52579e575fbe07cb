"""Meeting pages. Thin: parse, ask access, call a service, render."""

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from modell.cohorts.models import PARTICIPATION_ROLE_LABELS, Cohort, Group
from modell.core import revisions
from modell.core.access import may_change, may_view, require_change, require_staff, require_view
from modell.core.clock import now, today
from modell.core.dates import language
from modell.core.errors import RuleViolation, StaleEdit
from modell.core.files import current_store
from modell.core.forms import add_error, options
from modell.core.timeutil import to_local
from modell.core.web import (
    Confirmation,
    Translated,
    apply_change,
    confirm_first,
    page_of,
    rescuable,
)
from modell.extensions import db
from modell.meetings import after_meeting, bp, invitations, listing, services, titles
from modell.meetings.forms import (
    CancelForm,
    ChecklistForm,
    DocumentationForm,
    MeetingForm,
    PmiForm,
    ResponseForm,
    UploadForm,
)
from modell.meetings.models import Meeting, MeetingDocument
from modell.meetings.titles import title_text
from modell.organisations.models import CORE_FUNCTIONS, FUNCTION_LABELS
from modell.organisations.services import organisation_label

STATUS_LABELS = {"planned": _l("Planned"), "cancelled": _l("Cancelled"), "held": _l("Held")}


def _meeting_or_404(meeting_id: int, *, with_invitations: bool = True) -> Meeting:
    meeting = services.load_meeting(db.session, meeting_id, with_invitations=with_invitations)
    if meeting is None:
        abort(404)
    return meeting


# A meeting's title in the reader's language (meetings.titles), for every page and mail.
bp.add_app_template_filter(titles.title_html, "meeting_title")
bp.add_app_template_filter(titles.title_text, "meeting_title_text")


def _sender() -> str:
    return current_app.config.get("MAIL_DEFAULT_SENDER") or ""


def _labels() -> dict:
    """What the calendars' tables are labelled with, each translated once, not once per
    cell."""
    return {
        "function_labels": Translated(FUNCTION_LABELS),
        "core_functions": CORE_FUNCTIONS,
        "role_labels": Translated(PARTICIPATION_ROLE_LABELS),
        "came_of_held": _("%(came)d of %(held)d"),  # filled in by the template's format
        "needs_kept_days": invitations.NEEDS_KEPT_DAYS,
    }


# --- calendars of a cohort and a group --------------------------------------------------------


# Each of a calendar's two lists (coming, earlier) is shown this many meetings at a time.
CALENDAR_PER_PAGE = 25


def _search_words() -> str:
    """The calendar's search, as typed (bounded; control characters are refused before)."""
    return (request.args.get("sok") or "").strip()[:200]


def _calendar(cohort: Cohort, rows: list, *, organisation_id: int | None = None) -> dict:
    """The calendar's two lists of `rows` (listing.CalendarRow), coming and earlier, each a
    page of 25, filtered and searched; what is due of the meetings shown."""
    day = today()
    only_late = request.args.get("forsenat") == "1"
    search = _search_words()
    every = listing.checklists(db.session, cohort, day)
    coming, earlier = services.calendar_order(
        rows,
        every,
        now=now(),
        organisation_id=organisation_id,
        only_late=only_late,
        search=search,
    )
    coming, coming_page = page_of(coming, CALENDAR_PER_PAGE, "kommande")
    earlier, earlier_page = page_of(earlier, CALENDAR_PER_PAGE, "sida")
    return {
        "meetings": rows,
        "coming": coming,
        "earlier": earlier,
        "pages": {"coming": coming_page, "earlier": earlier_page},
        "dues": {m.id: services.checklist_due(every[m.id]) for m in coming + earlier},
        # Each item's name translated once, not once per meeting shown.
        "checklist_labels": Translated(services.CHECKLIST_LABELS),
        "today": day,
        "filters": {
            "mine": organisation_id is not None,
            "late": only_late,
            "search": search,
        },
        "pmi": after_meeting.pmi_for(db.session, rows) if current_user.is_staff else {},
    }


def _cohort_of_group(group_id: int):
    return sa.select(Group.cohort_id).where(Group.id == group_id).scalar_subquery()


@bp.route("/omgang/<int:cohort_id>")
@login_required
def cohort_calendar(cohort_id: int):
    revisions.revision_of(db.session, cohort_id)  # before anything it keeps is read
    cohort = db.get_or_404(Cohort, cohort_id)
    require_view(cohort)
    user = current_user._get_current_object()  # asked once for every meeting and row
    mine = request.args.get("mina") == "1" and user.organisation_id is not None
    rows = [r for r in listing.calendar_rows(db.session, cohort) if may_view(user, r)]
    return render_template(
        "meetings/calendar.html",
        cohort=cohort,
        group=None,
        **_calendar(cohort, rows, organisation_id=user.organisation_id if mine else None),
        summary=[
            r for r in after_meeting.attendance_summary(db.session, cohort.id) if may_view(user, r)
        ],
        **_labels(),
    )


@bp.route("/grupp/<int:group_id>")
@login_required
def group_calendar(group_id: int):
    revisions.revision_through(db.session, _cohort_of_group(group_id))  # before what it keeps
    group = db.get_or_404(Group, group_id)
    require_view(group)
    meetings = services.meetings_of(db.session, group=group, with_invitations=False)
    rows = [
        r for r in listing.calendar_rows(db.session, group.cohort) if r.group_id in (None, group.id)
    ]
    held = [m for m in meetings if m.status != "cancelled"]
    return render_template(
        "meetings/calendar.html",
        cohort=group.cohort,
        group=group,
        **_calendar(group.cohort, rows),
        attendance=after_meeting.attendance_by_function(
            held, group.participations, after_meeting.attended_functions(db.session, held)
        ),
        attendance_meetings=held,
        **_labels(),
    )


# --- one meeting ---------------------------------------------------------------------------


def _meeting_page(meeting: Meeting, *, forms: dict | None = None, status: int = 200):
    forms = forms or {}
    invitation = invitations.own_invitation(db.session, meeting, current_user.person_id)
    editable = may_change(current_user, meeting)
    may_give_pmi = invitations.may_give_feedback(meeting, current_user.organisation_id)
    feedback_open = after_meeting.feedback_open(meeting, now())
    group_visible = meeting.group is not None and may_view(current_user, meeting.group)
    # Only the forms the page shows are made: the host's (and SKR's) four, the answer to an
    # invitation, the feedback once the meeting has taken place.
    checklist_form = forms.get("checklist")  # a posted form has its choices already
    if checklist_form is None and editable:
        checklist_form = ChecklistForm(obj=meeting)
        _note_taker_choices(checklist_form, meeting)
    # The answer is given until the meeting has ended; afterwards it is only shown.
    answers_open = invitation is not None and invitations.answers_open(meeting, now())
    response_form = forms.get("response") or (
        ResponseForm(obj=invitation) if answers_open else None
    )
    record = after_meeting.record_of(db.session, meeting)
    gathered = record.feedback
    pmi_form = forms.get("pmi")
    if pmi_form is None and may_give_pmi and feedback_open:
        pmi_form = PmiForm(obj=next((f for f in gathered if f.user_id == current_user.id), None))
    return render_template(
        "meetings/meeting.html",
        meeting=meeting,
        editable=editable,
        invitation=invitation,
        checklist=services.checklist(meeting, today()),
        checklist_form=checklist_form,
        cancel_form=forms.get("cancel") or (CancelForm() if editable else None),
        response_form=response_form,
        answers_open=answers_open,
        documentation_form=forms.get("documentation")
        or (DocumentationForm(obj=meeting) if editable else None),
        upload_form=forms.get("upload") or (UploadForm() if editable else None),
        pmi_form=pmi_form,
        may_give_pmi=may_give_pmi,
        feedback_open=feedback_open,
        # Whoever sees the group sees its cohort (the group's organisations are the cohort's):
        # the cohort's participations are not read for a group's meeting.
        cohort_visible=group_visible or may_view(current_user, meeting.cohort),
        group_visible=group_visible,
        documents=record.documents,
        pmi=gathered if current_user.is_staff else [],
        # The invited, as the host and SKR see them: kept per revision of the cohort.
        invited=revisions.kept(
            db.session,
            meeting.cohort_id,
            "invited",
            lambda: Markup(  # nosec B704 # an autoescaped template
                render_template(
                    "meetings/_invited.html",
                    meeting=meeting,
                    invitations=invitations.invited(db.session, meeting),
                    editable=editable,
                    **_labels(),
                )
            ),
            meeting.id,
            editable,
            language(),
        )
        if editable
        else None,
        status_labels=STATUS_LABELS,
        **_labels(),
    ), status


@bp.route("/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    # The cohort's revision before anything kept is read (core.revisions).
    revisions.revision_through(
        db.session, sa.select(Meeting.cohort_id).where(Meeting.id == meeting_id).scalar_subquery()
    )
    meeting = _meeting_or_404(meeting_id, with_invitations=False)
    require_view(meeting)
    return _meeting_page(meeting)


@bp.route("/<int:meeting_id>/andra", methods=["GET", "POST"])
@rescuable
@login_required
def edit(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    require_change(meeting)
    form = MeetingForm()
    hosts = []
    if meeting.group is not None:
        hosts = [
            (p.organisation_id, organisation_label(p.organisation))
            for p in meeting.group.participations
        ]
    form.host_organisation_id.choices = options(sorted(hosts, key=lambda h: h[1]), blank=True)
    if request.method == "GET":
        form.process(obj=meeting)
        form.version.data = str(meeting.version)
        if meeting.starts_at:
            start, end = to_local(meeting.starts_at), to_local(meeting.ends_at or meeting.starts_at)
            form.day.data, form.start.data, form.end.data = start.date(), start.time(), end.time()
    elif form.validate_on_submit():
        change = services.MeetingChange(
            day=form.day.data,
            start=form.start.data,
            end=form.end.data,
            location=form.location.data,
            video_link=form.video_link.data,
            agenda=form.agenda.data,
            accessibility_info=form.accessibility_info.data,
            host_organisation_id=form.host_organisation_id.data if hosts else None,
        )
        try:
            informed = services.update_meeting(
                db.session,
                meeting,
                change,
                now=now(),
                user_id=current_user.id,
                expected_version=form.seen_version(),
                sender=_sender(),
            )
            db.session.commit()
            flash(
                _("The meeting is saved; everyone invited is told of the change.")
                if informed
                else _("The meeting is saved."),
                "success",
            )
            return redirect(url_for("meetings.meeting", meeting_id=meeting.id))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
            if isinstance(error, StaleEdit):
                form.version.data = str(_meeting_or_404(meeting_id).version)
    return render_template("meetings/edit.html", form=form, meeting=meeting)


def _note_taker_choices(form: ChecklistForm, meeting: Meeting) -> None:
    names = revisions.kept(
        db.session,
        meeting.cohort_id,
        "invitee names",
        lambda: tuple(invitations.invitee_names(db.session, meeting)),
        meeting.id,
    )
    form.note_taker_id.choices = options(names, blank=True)


def _post(meeting_id: int, *, change: bool = True):
    meeting = _meeting_or_404(meeting_id)
    (require_change if change else require_view)(meeting)
    return meeting


def _done(meeting: Meeting, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("meetings.meeting", meeting_id=meeting.id))


def _refused(meeting_id: int, error: RuleViolation, form, key: str):
    db.session.rollback()
    add_error(form, error.message, error.field)
    return _meeting_page(_meeting_or_404(meeting_id), forms={key: form}, status=400)


@bp.route("/<int:meeting_id>/checklista", methods=["POST"])
@login_required
def checklist(meeting_id: int):
    meeting = _post(meeting_id)
    form = ChecklistForm()
    _note_taker_choices(form, meeting)
    if not form.validate_on_submit():
        return _meeting_page(meeting, forms={"checklist": form}, status=400)
    try:
        services.update_checklist(
            db.session,
            meeting,
            values={k: form[k].data for k in services.CHECKLIST_FIELDS},
            note_taker_id=form.note_taker_id.data,
            now=now(),
            user_id=current_user.id,
        )
        return _done(meeting, _("The checklist is saved."))
    except RuleViolation as error:
        return _refused(meeting_id, error, form, "checklist")


def _inviting(meeting_id: int):
    meeting = _post(meeting_id)
    people = len(invitations.invitees(db.session, meeting))
    return Confirmation(
        question=_("Send the invitation to %(title)s?", title=title_text(meeting)),
        consequences=[
            ngettext(
                "%(num)d person gets the invitation with the agenda and a calendar entry by "
                "e-mail; SKR’s project lead gets a copy.",
                "%(num)d people get the invitation with the agenda and a calendar entry by "
                "e-mail; SKR’s project lead gets a copy.",
                people,
            )
        ],
        button=_("Send the invitation"),
    )


def _cancelling(meeting_id: int):
    meeting = _post(meeting_id)
    people = len(meeting.invitations) if meeting.invitation_sent_at else 0
    told = (
        ngettext(
            "%(num)d person is told by e-mail, with your reason, and the entry leaves "
            "their calendar.",
            "%(num)d people are told by e-mail, with your reason, and the entry leaves "
            "their calendars.",
            people,
        )
        if people
        else _("No invitation has been sent, so nobody is told by e-mail.")
    )
    return Confirmation(
        question=_("Cancel %(title)s?", title=title_text(meeting)),
        consequences=[told, _("A cancelled meeting cannot be planned again.")],
        button=_("Cancel the meeting"),
        danger=True,
    )


@bp.route("/<int:meeting_id>/bjud-in", methods=["POST"])
@login_required
@confirm_first(_inviting)
def invite(meeting_id: int):
    meeting = _post(meeting_id)
    apply_change(
        lambda: invitations.send_invitations(
            db.session, meeting, now=now(), user_id=current_user.id, sender=_sender()
        ),
        lambda count: _("The invitation is sent to %(n)d people.", n=count),
    )
    return redirect(url_for("meetings.meeting", meeting_id=meeting_id))


@bp.route("/<int:meeting_id>/stall-in", methods=["POST"])
@login_required
@confirm_first(_cancelling)
def cancel(meeting_id: int):
    meeting = _post(meeting_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _meeting_page(meeting, forms={"cancel": form}, status=400)
    try:
        services.cancel_meeting(
            db.session,
            meeting,
            reason=form.reason.data,
            now=now(),
            user_id=current_user.id,
            sender=_sender(),
        )
        return _done(
            meeting,
            _("The meeting is cancelled; everyone invited is told.")
            if meeting.invitation_sent_at
            else _("The meeting is cancelled. No invitation had been sent, so nobody was mailed."),
        )
    except RuleViolation as error:
        return _refused(meeting_id, error, form, "cancel")


def _respond(invitation, form: ResponseForm, user_id: int | None) -> None:
    invitations.respond(
        db.session,
        invitation,
        response=form.response.data,
        diet=form.diet.data,
        needs_hearing_loop=form.needs_hearing_loop.data,
        other_needs=form.other_needs.data,
        now=now(),
        user_id=user_id,
    )


@bp.route("/<int:meeting_id>/svar", methods=["POST"])
@login_required
def respond(meeting_id: int):
    meeting = _post(meeting_id, change=False)
    invitation = invitations.own_invitation(db.session, meeting, current_user.person_id)
    if invitation is None:
        abort(403)
    form = ResponseForm()
    if not form.validate_on_submit():
        return _meeting_page(meeting, forms={"response": form}, status=400)
    try:
        _respond(invitation, form, current_user.id)
        return _done(meeting, _("Your answer is saved."))
    except RuleViolation as error:
        return _refused(meeting_id, error, form, "response")


@bp.route("/svar/<token>", methods=["GET", "POST"])
def answer(token: str):
    """Answer from the link in the invitation, without an account: the link is personal."""
    invitation = invitations.invitation_for_token(
        db.session, token, current_app.config["SECRET_KEY"]
    )
    if invitation is None:
        abort(404)
    if not invitations.answer_link_open(invitation, now()):
        return render_template("meetings/answer_closed.html"), 410
    form = ResponseForm(obj=invitation if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            _respond(invitation, form, None)
            db.session.commit()
            flash(_("Your answer is saved. Thank you!"), "success")
            return redirect(url_for("meetings.answer", token=token))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    return render_template(
        "meetings/answer.html",
        invitation=invitation,
        meeting=invitation.meeting,
        form=form,
        needs_kept_days=invitations.NEEDS_KEPT_DAYS,
    )


@bp.route("/<int:meeting_id>/narvaro", methods=["GET", "POST"])
@login_required
def attendance(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    require_change(meeting)
    form = DocumentationForm()  # only its CSRF token is used here
    invited = sorted(meeting.invitations, key=lambda i: (i.person.organisation.name, i.person.name))
    if request.method == "POST" and form.validate_on_submit():
        attended = {int(v) for v in request.form.getlist("attended") if v.isdigit()}
        try:
            after_meeting.record_attendance(
                db.session, meeting, attended, now=now(), user_id=current_user.id
            )
            return _done(meeting, _("Attendance is recorded."))
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message)
    return render_template(
        "meetings/attendance.html", meeting=meeting, form=form, invitations=invited, **_labels()
    )


@bp.route("/<int:meeting_id>/dokumentation", methods=["POST"])
@rescuable
@login_required
def documentation(meeting_id: int):
    meeting = _post(meeting_id)
    form = DocumentationForm()
    if not form.validate_on_submit():
        return _meeting_page(meeting, forms={"documentation": form}, status=400)
    after_meeting.save_documentation(
        db.session,
        meeting,
        minutes=form.minutes.data,
        decisions=form.decisions.data,
        now=now(),
        user_id=current_user.id,
    )
    return _done(meeting, _("The documentation is saved."))


@bp.route("/<int:meeting_id>/filer", methods=["POST"])
@login_required
def upload(meeting_id: int):
    meeting = _post(meeting_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _meeting_page(meeting, forms={"upload": form}, status=400)
    storage = form.file.data
    try:
        after_meeting.store_document(
            db.session,
            meeting,
            filename=storage.filename or "",
            content=storage.read(),
            store=current_store(),
            max_bytes=current_app.config["UPLOAD_MAX_MB"] * 1024 * 1024,
            now=now(),
            user_id=current_user.id,
        )
        return _done(meeting, _("The file is attached."))
    except RuleViolation as error:
        return _refused(meeting_id, error, form, "upload")


@bp.route("/filer/<int:document_id>")
@login_required
def document(document_id: int):
    doc = db.get_or_404(MeetingDocument, document_id)
    require_view(_meeting_or_404(doc.meeting_id))
    content = current_store().open(doc.stored_name)
    if content is None:
        abort(404)
    return send_file(content, mimetype=doc.mimetype, as_attachment=True, download_name=doc.filename)


@bp.route("/<int:meeting_id>/pmi", methods=["POST"])
@rescuable
@login_required
def pmi(meeting_id: int):
    meeting = _post(meeting_id, change=False)
    if not invitations.may_give_feedback(meeting, current_user.organisation_id):
        abort(403)
    form = PmiForm()
    if not form.validate_on_submit():
        return _meeting_page(meeting, forms={"pmi": form}, status=400)
    try:
        after_meeting.save_pmi(
            db.session,
            meeting,
            current_user,
            plus=form.plus.data,
            minus=form.minus.data,
            interesting=form.interesting.data,
            now=now(),
        )
        return _done(meeting, _("Thank you for your feedback."))
    except RuleViolation as error:
        return _refused(meeting_id, error, form, "pmi")


@bp.route("/omgang/<int:cohort_id>/pmi")
@login_required
def cohort_pmi(cohort_id: int):
    cohort = db.get_or_404(Cohort, cohort_id)
    require_staff()
    meetings = services.meetings_of(db.session, cohort=cohort)
    gathered = after_meeting.pmi_for(db.session, meetings)
    return render_template(
        "meetings/pmi.html",
        cohort=cohort,
        meetings=[m for m in meetings if gathered.get(m.id)],
        pmi=gathered,
    )


# --- calendar files and feeds -------------------------------------------------------------------


def _ics(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/<int:meeting_id>.ics")
@login_required
def ics(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    require_view(meeting)
    body = services.calendar_for([meeting], method="PUBLISH", now=now(), organizer=_sender())
    return _ics(body, f"mote-{meeting.id}.ics")


@bp.route("/kalender")
@login_required
def my_calendar():
    feed = services.active_feed(db.session, current_user)
    return render_template(
        "meetings/my_calendar.html",
        feed=feed,
        form=CancelForm(),
        meetings=services.meetings_for_person(db.session, current_user.person_id),
    )


@bp.route("/kalender/ny", methods=["POST"])
@login_required
def renew_feed():
    token = services.renew_feed(db.session, current_user, now=now())
    db.session.commit()
    url = url_for("meetings.feed", token=token, _external=False)
    flash(
        _("Your new calendar address is shown once below; the old one no longer works."), "success"
    )
    return render_template(
        "meetings/my_calendar.html",
        feed=services.active_feed(db.session, current_user),
        form=CancelForm(),
        new_url=current_app.config["BASE_URL"].rstrip("/") + url,
        meetings=services.meetings_for_person(db.session, current_user.person_id),
    )


@bp.route("/kalender/avsluta", methods=["POST"])
@login_required
def revoke_feed():
    services.revoke_feed(db.session, current_user, now=now())
    db.session.commit()
    flash(_("Your calendar address no longer works."), "success")
    return redirect(url_for("meetings.my_calendar"))


@bp.route("/kalender/<token>.ics")
def feed(token: str):
    """The personal subscription: no login, the secret address is the key."""
    user = services.user_for_feed(db.session, token)
    if user is None:
        abort(404)
    meetings = services.meetings_for_person(db.session, user.person_id)
    body = services.calendar_for(
        meetings, method="PUBLISH", now=now(), organizer=_sender(), name=_("Modell – my meetings")
    )
    return _ics(body, "modell.ics")
