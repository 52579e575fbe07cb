"""The notifications page and each user's reminder settings."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from modell.core.clock import now
from modell.core.forms import ButtonForm
from modell.extensions import db
from modell.reminders import bp
from modell.reminders import notifications as inbox
from modell.reminders.forms import ReminderSettingsForm


@bp.route("/aviseringar")
@login_required
def notifications():
    items = inbox.notifications_of(db.session, current_user.id)
    titles = inbox.meeting_titles(db.session, {n.meeting_id for n in items} - {None})
    return render_template(
        "reminders/notifications.html", items=items, titles=titles, button=ButtonForm()
    )


@bp.route("/aviseringar/last", methods=["POST"])
@login_required
def mark_read():
    if ButtonForm().validate_on_submit():
        inbox.mark_read(db.session, current_user.id, now=now())
        db.session.commit()
        flash(_("Every notification is marked as read."), "success")
    return redirect(url_for("reminders.notifications"))


@bp.route("/konto/paminnelser", methods=["GET", "POST"])
@login_required
def settings():
    form = ReminderSettingsForm(obj=current_user)
    if form.validate_on_submit():
        inbox.save_settings(
            current_user,
            optional_reminders=form.optional_reminders.data,
            reminder_mail=form.reminder_mail.data,
        )
        db.session.commit()
        flash(_("Your reminder settings are saved."), "success")
        return redirect(url_for("reminders.settings"))
    return render_template("reminders/settings.html", form=form)


@bp.app_context_processor
def _unread():
    """The header's count of unread notifications (one query, only when a page shows it)."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return inbox.unread_count(db.session, current_user.id)

    return {"unread_notifications": unread_notifications}
