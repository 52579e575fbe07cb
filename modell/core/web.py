"""What every page shares: error pages, security headers, template helpers."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache, wraps
from urllib.parse import urlsplit

import nh3
from flask import (
    Flask,
    flash,
    g,
    has_request_context,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import BadRequest, HTTPException

from modell.core import dates
from modell.core.errors import RuleViolation
from modell.core.fields import fields_in_error, render_field
from modell.core.text import has_control_characters
from modell.extensions import db

# Fields never echoed back into a page.
_SECRET_FIELDS = {"csrf_token", "password", "password2", "new_password", "current_password"}
# Pages whose address is a secret (reset, invitation, answer, calendar feed): never cached,
# never sent on as a Referer.
SECRET_LINK_ENDPOINTS = {
    "auth.reset_password",
    "auth.accept_invitation",
    "meetings.answer",
    "meetings.feed",
    "cohorts.confirm_interest",
}


def _start_clean() -> None:
    """After a failed request: roll back what it began, or, when the connection itself is
    gone, drop the session, so that the error page's own queries work."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  the connection itself may be gone
        db.session.remove()


def _kept_fields() -> list[tuple[str, str]]:
    """What the user wrote in the posted form, to give back: no secrets, no control
    characters."""
    return [
        (name, value)
        for name, values in request.form.lists()
        for value in values
        if name not in _SECRET_FIELDS and not has_control_characters(name + value, "\n\t")
    ]


def rescuable(view):
    """Mark a long form whose text is worth keeping when its token has run out: a same-origin
    post to it with an expired token gets its values back with a fresh token. Never for
    forms that grant roles or change accounts."""
    view.rescuable = True
    return view


@dataclass
class Confirmation:
    """What a confirmation page says before a change with mass or irreversible effects."""

    question: str  # "Start Modellkommuner 2027?"
    consequences: list[str]  # what will happen, one line each
    button: str  # "Start the cohort"
    danger: bool = False


CONFIRMED = "bekraftat"


def confirm_first(describe):
    """A POST that changes much or cannot be undone asks first. Without `bekraftat=1` the
    request gets a page that says what will happen, with the same fields (and token) and a
    button that sends them again, confirmed; nothing is changed before. `describe` takes
    the view's arguments, checks access itself (it runs first), and returns a Confirmation,
    or None when there is nothing to confirm (the view then answers as usual)."""

    def wrap(view):
        @wraps(view)
        def confirmed(**kwargs):
            if request.form.get(CONFIRMED) == "1":
                return view(**kwargs)
            what = describe(**kwargs)
            if what is None:
                return view(**kwargs)
            fields = [
                (name, value)
                for name, values in request.form.lists()
                for value in values
                if name != CONFIRMED and not has_control_characters(name + value, "\n\t")
            ]
            back = request.referrer if same_origin() and request.referrer else None
            return render_template(
                "confirm.html", what=what, fields=fields, action=request.path, back=back
            )

        return confirmed

    return wrap


def same_origin() -> bool:
    """Whether the browser says this request comes from one of our own pages. Without
    positive evidence (Sec-Fetch-Site, Origin or Referer naming this host) it does not."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc == request.host


def install(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        view = app.view_functions.get(request.endpoint or "")
        if not (getattr(view, "rescuable", False) and same_origin()):
            # A cross-site post (or one to an account form) gets nothing it could resubmit.
            return render_template("errors/error.html", code=400, message=_MESSAGES["csrf"]), 400
        # The user's own page had an expired token: keep what they wrote, one click to resend.
        return render_template("errors/csrf.html", fields=_kept_fields(), action=request.path), 400

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(error):
        """Two people saved the same thing at the same moment (the row's version moved between
        reading and writing): the later save is refused, not half-written, and not a crash.
        On a long form of the user's own, what they wrote comes back to send again."""
        _start_clean()
        view = app.view_functions.get(request.endpoint or "")
        keep = getattr(view, "rescuable", False) and same_origin()
        fields = _kept_fields() if keep else []
        return render_template("errors/changed.html", fields=fields, action=request.path), 409

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if error.response is not None:  # a page of its own (the public form over its limit)
            return error.response
        if code not in _MESSAGES:
            return error
        message = error.description if getattr(error, "modell_message", False) else None
        return render_template(
            "errors/error.html", code=code, message=message or _MESSAGES[code]
        ), code

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    def database_unavailable(error):
        """The database does not answer (a restart, a lost connection, a lock held too long):
        503 with a page of our own that needs no database, and a time to try again. The pool
        checks each connection before use (pool_pre_ping), so the app recovers by itself
        once the server is back; nothing of the refused request was committed."""
        _start_clean()
        app.logger.warning("database unavailable: %s", getattr(error, "orig", error))
        # Rendered without the context processors: Flask-Login's loads the user, from the
        # database that is not answering.
        page = app.jinja_env.get_template("errors/unavailable.html").render()
        return page, 503, {"Retry-After": "30"}

    @app.teardown_appcontext
    def close_session_quietly(_error):
        """The page is made; the session's closing ROLLBACK then meets a connection the
        database dropped (a restart at that instant). Nothing is lost (what the request
        committed is committed) and the answer stands: the connection is discarded instead
        of turning a finished page into a 500. Registered after Flask-SQLAlchemy's, so it
        runs first (teardowns run last-registered first)."""
        try:
            db.session.remove()
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as error:
            app.logger.warning("connection lost while closing: %s", getattr(error, "orig", error))
            db.session.registry.clear()

    @app.errorhandler(500)
    def server_error(error):
        # The request's transaction may be broken (a failed flush): start clean, or the
        # error page itself fails on its first query.
        _start_clean()
        try:
            page = render_template("errors/error.html", code=500, message=_MESSAGES[500])
        except Exception:  # noqa: BLE001  last resort: a page that needs nothing
            app.logger.exception("the error page could not be rendered")
            page = _BARE_500
        return page, 500

    @app.before_request
    def refuse_to_serve_with_a_weak_key():
        """Started through `flask` with a weak key (as a migration may be): no page is served,
        since every signed link and cookie would be forgeable."""
        if app.config.get("SECRET_KEY_PROBLEM"):
            return app.config["SECRET_KEY_PROBLEM"], 503, {"Content-Type": "text/plain"}

    @app.before_request
    def refuse_cross_site_changes():
        """A change (POST, ...) is accepted only from this site's own pages. Besides the CSRF
        token: a page on a sibling host or another port of the same host could otherwise
        plant its own session cookie and a token that matches it."""
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        site = request.headers.get("Sec-Fetch-Site")
        origin = request.headers.get("Origin")
        if origin == "null":
            # A page sent with "Referrer-Policy: no-referrer" (a secret link's page) posts
            # with Origin: null; the browser's own Sec-Fetch-Site still says where from.
            if site != "same-origin":
                raise _bad_request(_MESSAGES["csrf"])
        elif (site is not None and site not in ("same-origin", "none")) or (
            origin and urlsplit(origin).netloc != request.host
        ):
            raise _bad_request(_MESSAGES["csrf"])
        # No signed-in session, but a remember-me cookie: the session (and the token in it)
        # is not the one the user signed in with, so its token proves nothing. Treated as an
        # expired token: the user's own long text is offered again, on their own page only.
        remember = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        if "_user_id" not in session and request.cookies.get(remember):
            raise CSRFError(_MESSAGES["csrf"])

    @app.before_request
    def refuse_control_characters():
        """Query parameters and path segments never carry control characters (a NUL breaks
        PostgreSQL, the others break pages and calendar feeds). Form fields get their own
        message beside the field (core.forms.Form)."""
        values = [*request.args.keys(), *request.args.values()]
        values += [v for v in (request.view_args or {}).values() if isinstance(v, str)]
        if any(has_control_characters(v) for v in values):
            raise _bad_request(_MESSAGES["control"])

    @app.after_request
    def no_store_for_personal_pages(response):
        """A signed-in page or a secret link's page is never kept by the browser or a proxy
        (the back button on a shared computer must not show it after logout)."""
        personal = request.endpoint in SECRET_LINK_ENDPOINTS
        if not personal and request.endpoint != "static":
            try:
                personal = current_user.is_authenticated
            except Exception:  # noqa: BLE001  a broken session: treat as personal
                personal = True
        if personal:
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        if request.endpoint in SECRET_LINK_ENDPOINTS:
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.after_request
    def error_title(response):
        """A page that shows a refused form's error summary says so first in its title
        ("Fel: …"), which is what a screen reader announces on arrival (WCAG 3.3.1)."""
        if g.get("refused_form") and response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            prefix = str(_l("Error:"))
            head, title, rest = page.partition("<title>")
            if title and not rest.startswith(prefix):
                response.set_data(f"{head}<title>{prefix} {rest}")
        return response

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
    app.jinja_env.globals["refused"] = _refused
    app.jinja_env.globals["render_field"] = render_field
    app.jinja_env.globals["fields_in_error"] = fields_in_error
    app.jinja_env.filters["datetime"] = dates.instant
    app.jinja_env.filters["date"] = dates.day
    app.jinja_env.filters["weekday"] = dates.weekday
    app.jinja_env.filters["number"] = dates.number
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["sv"] = swedish_part
    app.jinja_env.filters["timespan"] = dates.span
    app.jinja_env.globals["timespan"] = dates.span


def _refused() -> str:
    """Called by a page that shows a refused form's errors: its title then says so."""
    g.refused_form = True
    return ""


def swedish_part(value) -> Markup | str:
    """Content in Swedish (the names of organisations, cohorts and groups, titles people
    wrote) marked as such in the English interface, so that a screen reader pronounces it
    as Swedish (WCAG 3.1.2)."""
    if value is None:
        return ""
    locale = get_locale()
    if locale is None or locale.language == "sv":
        return value
    return Markup('<span lang="sv">{}</span>').format(value)


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def _safe_html(text: str) -> Markup:
    return Markup(nh3.clean(_markdown.render(text)))  # nosec B704 # raw HTML off, nh3 cleans


# The same text gives the same HTML: an agenda or minutes shown on every visit to a meeting
# is rendered and cleaned once per worker, not on every page. Bounded: at most 256 texts of
# up to 16,000 characters (a few MB); longer ones are rendered each time.
_kept_html = lru_cache(maxsize=256)(_safe_html)
_KEPT_CHARS = 16_000


def render_markdown(text: str | None) -> Markup:
    """Markdown a user wrote, as HTML that can do no harm: raw HTML is not passed through,
    and nh3 keeps only harmless tags and attributes (links get rel=noopener)."""
    if not text:
        return Markup("")
    html = _kept_html(text) if len(text) <= _KEPT_CHARS else _safe_html(text)
    locale = get_locale() if has_request_context() else None
    if locale is not None and locale.language != "sv":  # what people here write is Swedish
        return Markup('<div lang="sv">{}</div>').format(html)
    return html


_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to see or change this."),
    404: _l("The page or object you asked for does not exist."),
    405: _l("That action is not possible here."),
    413: _l("The file is too large."),
    410: _l("This link no longer works."),
    429: _l("Too many attempts. Wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing you wrote was saved; try again."),
    "csrf": _l(
        "The form was not sent from this site's own page, or the page was open too long, so "
        "it was not saved. Open the page again and fill it in there."
    ),
    "control": _l(
        "The address contains characters that are not allowed (control characters). "
        "Check the link or search again."
    ),
}

_BARE_500 = (
    "<!doctype html><html lang=sv><meta charset=utf-8><title>500 – Modell</title>"
    "<h1>Något gick fel / Something went wrong (500)</h1>"
    "<p>Inget av det du skrev sparades. Försök igen. / Nothing you wrote was saved; try again."
    '<p><a href="/">Startsidan / Start page</a>'
)


def _bad_request(message) -> BadRequest:
    error = BadRequest(str(message))
    error.modell_message = True
    return error


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


class Translated(Mapping):
    """A page's labels (lazy strings), each translated at its first use and then kept: a
    table that shows a label in every row asks gettext once, not once per row. Made for
    one request, in the language it is rendered in."""

    def __init__(self, labels: Mapping):
        self._labels = labels
        self._done: dict = {}

    def __getitem__(self, key) -> str:
        try:
            return self._done[key]
        except KeyError:
            text = self._done[key] = str(self._labels[key])
            return text

    def __iter__(self) -> Iterator:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


MAX_PAGE = 100_000


def page_of(rows: list, per_page: int, param: str = "sida") -> tuple[list, dict]:
    """One page of a list held in memory, and where it is: its number, the count of pages,
    the number of rows in all, and the addresses of its neighbours (the other arguments, another list's page among them,
    kept)."""
    count = max(1, -(-len(rows) // per_page))
    number = min(page_number(param), count)
    start = (number - 1) * per_page

    def address(n: int) -> str:
        kept = {k: v for k, v in request.args.items() if k != param and v}
        return url_for(request.endpoint, **request.view_args, **kept, **{param: n})

    where = {
        "number": number,
        "count": count,
        "total": len(rows),
        "previous": address(number - 1) if number > 1 else None,
        "next": address(number + 1) if number < count else None,
    }
    return rows[start : start + per_page], where


def page_number(name: str = "sida") -> int:
    """The page asked for in a paged list: a number from 1 up, anything else is page 1 and
    a page past the end is an empty one (never an offset the database cannot hold)."""
    value = request.args.get(name, "")
    return min(max(int(value), 1), MAX_PAGE) if value.isdecimal() and len(value) < 10 else 1
