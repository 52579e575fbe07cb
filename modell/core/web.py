"""What every page shares: error pages, security headers, template helpers."""

import nh3
from flask import Flask, flash, render_template, request
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markdown_it import MarkdownIt
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from modell.core.errors import RuleViolation
from modell.core.timeutil import to_local
from modell.extensions import db

# Fields never echoed back into a page.
_SECRET_FIELDS = {"csrf_token", "password", "password2", "new_password", "current_password"}


def install(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        # Keep what the user wrote: show it again with a fresh token, one click to resend.
        fields = [
            (name, value)
            for name, values in request.form.lists()
            for value in values
            if name not in _SECRET_FIELDS
        ]
        return render_template("errors/csrf.html", fields=fields, action=request.path), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code not in (400, 403, 404, 405, 413, 429):
            return error
        return render_template("errors/error.html", code=code, message=_MESSAGES[code]), code

    @app.errorhandler(500)
    def server_error(error):
        return render_template("errors/error.html", code=500, message=_MESSAGES[500]), 500

    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["drop_none"] = lambda d: {k: v for k, v in d.items() if v is not None}
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["datetime"] = lambda v, fmt="medium": format_datetime(v, fmt) if v else ""
    app.jinja_env.filters["date"] = lambda v, fmt="medium": format_date(v, fmt) if v else ""
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["timespan"] = timespan


def timespan(start, end=None) -> str:
    """ "torsdag 4 april 2019 10:00–15:00" in Stockholm time (the end's date if it differs)."""
    if start is None:
        return ""
    text = f"{format_date(start, 'full')} {format_time(start, 'short')}"
    if end is not None:
        same_day = to_local(start).date() == to_local(end).date()
        text += "–" + (format_time(end, "short") if same_day else format_datetime(end, "short"))
    return text


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def render_markdown(text: str | None) -> Markup:
    """Markdown a user wrote, as HTML that can do no harm: raw HTML is not passed through,
    and nh3 keeps only harmless tags and attributes (links get rel=noopener)."""
    if not text:
        return Markup("")
    return Markup(nh3.clean(_markdown.render(text)))


_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to see or change this."),
    404: _l("The page or object you asked for does not exist."),
    405: _l("That action is not possible here."),
    413: _l("The file is too large."),
    429: _l("Too many attempts. Wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing you wrote was saved; try again."),
}


def apply_change(change, success) -> bool:
    """Run a service's change from a button: commit and say so, or roll back and say why a
    rule refused it. `success` is the message, or a function of the change's result."""
    try:
        result = change()
    except RuleViolation as error:
        db.session.rollback()
        flash(error.message, "danger")
        return False
    db.session.commit()
    flash(success(result) if callable(success) else success, "success")
    return True
