"""The start page, the outbox for staff, a health check."""

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from modell.core.access import require_staff
from modell.core.models import OutboxMessage
from modell.core.web import page_number
from modell.extensions import db

bp = Blueprint("core", __name__)

OUTBOX_PAGE = 50
STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}
KIND_LABELS = {
    "password": _l("Password reset"),
    "invitation": _l("Invitation to an account"),
    "meeting": _l("Meeting invitation or change"),
}


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("cohorts.index"))


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
    pagination = db.paginate(
        sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()),
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
        "core/outbox.html", pagination=pagination, counts=counts, status_labels=STATUS_LABELS
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
    )
