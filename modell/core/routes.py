"""The outbox for staff and a health check."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from modell.core import mail
from modell.core.access import is_admin, require_admin, require_staff
from modell.core.forms import ButtonForm
from modell.core.models import OUTBOX_STATUSES, OutboxMessage
from modell.core.web import Confirmation, confirm_first, page_number
from modell.extensions import db

bp = Blueprint("core", __name__)

OUTBOX_PAGE = 50
STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled, not to be sent"),
}
KIND_LABELS = {
    "password": _l("Password reset"),
    "invitation": _l("Invitation to an account"),
    "meeting": _l("Meeting invitation or change"),
    "reminder": _l("Reminder"),
    "digest": _l("Weekly digest of reminders"),
    "confirmation": _l("Confirmation of an interest registration"),
    "registration": _l("SKR's decision on an interest registration"),
}


@bp.route("/healthz")
def health():
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}


@bp.route("/utkorg")
@login_required
def outbox():
    """Every message the app has written, newest first: that it went out, to whom, when, and
    why it failed. Never its text: that may hold someone else's secret link."""
    require_staff()
    status = request.args.get("status")
    q = request.args.get("q", "").strip()[:200]
    oldest_first = request.args.get("ordning") == "aldst"
    query = sa.select(OutboxMessage).order_by(
        OutboxMessage.id.asc() if oldest_first else OutboxMessage.id.desc()
    )
    if status in OUTBOX_STATUSES:
        query = query.where(OutboxMessage.status == status)
    else:
        status = None
    if q:  # a recipient or words of the subject
        like = f"%{q}%"
        query = query.where(
            sa.or_(OutboxMessage.recipient.ilike(like), OutboxMessage.subject.ilike(like))
        )
    pagination = db.paginate(
        query,
        page=page_number(),
        per_page=OUTBOX_PAGE,
        error_out=False,
    )
    counts = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return render_template(
        "core/outbox.html",
        pagination=pagination,
        counts=counts,
        status=status,
        q=q,
        order="aldst" if oldest_first else None,
        status_labels=STATUS_LABELS,
        button=ButtonForm(),
        may_act=is_admin(current_user),
    )


@bp.route("/utkorg/<int:message_id>")
@login_required
def outbox_message(message_id: int):
    require_staff()
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template(
        "core/outbox_message.html",
        message=message,
        kind_label=KIND_LABELS.get(message.kind.split("_")[0], message.kind),
        status_label=STATUS_LABELS.get(message.status, message.status),
        button=ButtonForm(),
        may_act=is_admin(current_user),
    )


@bp.route("/utkorg/<int:message_id>/<any('forsok-igen', 'avbryt'):action>", methods=["POST"])
@login_required
def outbox_action(message_id: int, action: str):
    """An admin sends a failed message again (the worker takes it at its next pass) or
    cancels one that should never go out."""
    require_admin()
    message = db.get_or_404(OutboxMessage, message_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if action == "forsok-igen":
        done = mail.retry(db.session, message)
        text = _("The message will be sent again within seconds.")
    else:
        done = mail.cancel(db.session, message)
        text = _("The message is cancelled and will not be sent.")
    if done:
        db.session.commit()
        flash(text, "success")
    else:
        flash(_("Only a waiting or failed message can be sent again or cancelled."), "warning")
    return redirect(url_for("core.outbox_message", message_id=message.id))


def _retrying():
    require_admin()
    failed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == "failed")
    )
    return Confirmation(
        question=_("Send the failed messages again?"),
        consequences=[
            ngettext(
                "%(num)d message is tried again, with the same Message-ID.",
                "%(num)d messages are tried again, each with its same Message-ID.",
                failed,
            )
        ],
        button=_("Send them again"),
    )


@bp.route("/utkorg/forsok-igen", methods=["POST"])
@login_required
@confirm_first(_retrying)
def outbox_retry_failed():
    require_admin()
    if not ButtonForm().validate_on_submit():
        abort(400)
    failed = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.status == "failed")
    ).all()
    for message in failed:
        mail.retry(db.session, message)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d failed message will be sent again.",
            "%(num)d failed messages will be sent again.",
            len(failed),
        ),
        "success",
    )
    return redirect(url_for("core.outbox", status="pending"))
