"""Login, logout, password reset, invitations. Thin: parse, call a service, render."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.signals import user_loaded_from_cookie

from modell.auth import bp, services
from modell.auth.forms import (
    ChangePasswordForm,
    InviteForm,
    LanguageForm,
    LoginForm,
    ResetRequestForm,
    SetPasswordForm,
)
from modell.auth.models import ROLE_LABELS, ROLES, User
from modell.core.access import require_staff
from modell.core.clock import now
from modell.core.errors import RuleViolation
from modell.core.forms import add_error, options
from modell.extensions import db, limiter, login_manager
from modell.organisations.forms import chosen_organisation
from modell.organisations.models import FUNCTION_LABELS, FUNCTIONS, County
from modell.organisations.services import organisation_picks


@user_loaded_from_cookie.connect
def _renew_csrf_token(_app, user=None) -> None:
    """Signed in again from the remember-me cookie: a token from before is not carried over
    (it might have been planted with a session cookie of someone else's making)."""
    session.pop("csrf_token", None)


login_manager.login_view = "auth.login"
login_manager.login_message = None
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(token: str) -> User | None:
    return services.load_login_session(
        db.session,
        token,
        now=now(),
        idle_timeout=current_app.config["LOGIN_IDLE_TIMEOUT"],
        max_age=current_app.config["LOGIN_MAX_AGE"],
    )


def _safe_next(target: str | None) -> str:
    """Only redirect to a path on this site after login."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("start.home")


@bp.route("/logga-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("start.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email, moment = form.email.data, now()
        wait = services.reserve_login_attempt(db.session, email, now=moment)
        db.session.commit()  # the reservation is seen by every other worker before we check
        user = None if wait else services.authenticate(db.session, email, form.password.data)
        if user is None:
            wait = wait or services.login_hold_after_failure(db.session, email, now=moment)
            if wait is None:
                form.password.errors.append(_("Wrong e-mail address or password."))
            else:
                status = 429
                form.password.errors.append(
                    ngettext(
                        "Too many failed attempts for this address. Wait %(num)d minute and try "
                        "again, or choose a new password through “Forgot your password?”.",
                        "Too many failed attempts for this address. Wait %(num)d minutes and try "
                        "again, or choose a new password through “Forgot your password?”.",
                        services.minutes_to_wait(wait),
                    )
                )
        else:
            services.clear_login_failures(db.session, email)
            services.start_login_session(
                db.session, user, now=moment, user_agent=request.headers.get("User-Agent")
            )
            db.session.commit()
            # A token that was in the page before the login does not carry over into it.
            session.pop("csrf_token", None)
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), status


@bp.route("/logga-ut", methods=["POST"])
@login_required
def logout():
    services.end_login_session(db.session, current_user.login_token, now=now())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/glomt-losenord", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def forgot_password():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(db.session, form.email.data, now=now())
        db.session.commit()
        flash(
            _(
                "If the address belongs to an account, a link to choose a new password is on its way."
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


def _password_page(purpose: str, token: str, max_age_key: str, template: str):
    user = services.read_password_token(
        db.session,
        token,
        current_app.config["SECRET_KEY"],
        purpose=purpose,
        max_age=current_app.config[max_age_key],
    )
    if user is None:
        return render_template("auth/token_invalid.html"), 400
    form = SetPasswordForm()
    if form.validate_on_submit() and _set_password(form, user):
        flash(_("Your password is set. Log in with it now."), "success")
        return redirect(url_for("auth.login"))
    return render_template(template, form=form, user=user)


def _set_password(form: SetPasswordForm, user: User, keep_token: str | None = None) -> bool:
    """Set the new password, or show beside the field why the rules refuse it."""
    try:
        services.set_password(
            db.session,
            user,
            form.password.data,
            now=now(),
            keep_token=keep_token,
            min_length=current_app.config["PASSWORD_MIN_LENGTH"],
        )
    except RuleViolation as error:
        db.session.rollback()
        add_error(form, error.message, error.field)
        return False
    db.session.commit()
    return True


@bp.route("/nytt-losenord/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_page("reset", token, "PASSWORD_RESET_MAX_AGE", "auth/reset_password.html")


@bp.route("/inbjudan/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _password_page("invite", token, "INVITATION_MAX_AGE", "auth/accept_invitation.html")


@bp.route("/losenord", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not services.check_password(current_user, form.current_password.data):
            form.current_password.errors.append(_("The current password is not right."))
        elif _set_password(form, current_user, keep_token=current_user.login_token):
            flash(
                _(
                    "Your password is changed. Other browsers where you were logged in are "
                    "logged out."
                ),
                "success",
            )
            return redirect(url_for("start.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/bjud-in", methods=["GET", "POST"])
@login_required
def invite():
    require_staff()
    form = InviteForm()
    roles = ROLES if current_user.role == "admin" else [r for r in ROLES if r != "admin"]
    form.role.choices = options((r, ROLE_LABELS[r]) for r in roles)
    picks = organisation_picks(db.session)
    form.function.choices = options(((f, FUNCTION_LABELS[f]) for f in FUNCTIONS), blank=True)
    counties = db.session.scalars(sa.select(County).order_by(County.code)).all()
    form.county_code.choices = options(((c.code, c.name) for c in counties), blank=True)
    if form.validate_on_submit():
        organisation = chosen_organisation(form) if form.role.data == "member" else None
        if organisation is not False:
            try:
                user, _link = services.invite_user(
                    db.session,
                    now=now(),
                    invited_by=current_user,
                    email=form.email.data,
                    name=form.name.data,
                    role=form.role.data,
                    organisation_id=organisation.id if organisation else None,
                    function=form.function.data or None,
                    county_code=form.county_code.data or None,
                    secret_key=current_app.config["SECRET_KEY"],
                )
            except RuleViolation as error:
                db.session.rollback()
                add_error(form, error.message, error.field)
            else:
                db.session.commit()
                flash(_("An invitation was sent to %(email)s.", email=user.email), "success")
                return redirect(url_for("auth.invite"))
    return render_template("auth/invite.html", form=form, organisation_picks=picks)


@bp.route("/sprak", methods=["POST"])
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
