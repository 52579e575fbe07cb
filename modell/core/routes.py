"""The start page, the outbox for staff, a health check."""

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from modell.core.access import require_staff
from modell.core.models import OutboxMessage
from modell.extensions import db

bp = Blueprint("core", __name__)

OUTBOX_PAGE = 50


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
    """Every message the app has written, newest first: in development nothing is delivered,
    so this is where the mails are read."""
    require_staff()
    page = request.args.get("sida", 1, type=int)
    pagination = db.paginate(
        sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()),
        page=max(page, 1),
        per_page=OUTBOX_PAGE,
        error_out=False,
    )
    counts = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return render_template("core/outbox.html", pagination=pagination, counts=counts)


@bp.route("/utkorg/<int:message_id>")
@login_required
def outbox_message(message_id: int):
    require_staff()
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template("core/outbox_message.html", message=message)
