"""Modell: the workflow application for SKR's Modellkommuner / Modellregioner programme."""

import click
from flask import Flask, has_request_context, request, session
from flask_login import current_user
from sqlalchemy.orm import Session as OrmSession
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import BASE_DIR, Config
from modell.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, CLI. Nothing else happens here."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        instance_path=Config.from_env(overrides)["MODELL_INSTANCE_DIR"],
    )
    app.config.update(Config.from_env(overrides))
    # A weak or missing SECRET_KEY: a web server (gunicorn) does not start. Under the `flask`
    # command it does, so `flask db upgrade` works; the commands that sign links refuse, and
    # so would every request (core.web).
    if app.config.get("SECRET_KEY_PROBLEM") and click.get_current_context(silent=True) is None:
        raise RuntimeError(app.config["SECRET_KEY_PROBLEM"])
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    # An id in an address beyond what an id column holds is no page (404), not a database error.
    app.url_map.converters["int"] = IdConverter

    from modell import models  # noqa: F401  (every table registered before migrations)
    from modell.core import revisions

    # Every session of the process keeps the cohorts' revisions (what is kept is keyed by them).
    revisions.install(OrmSession)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)

    # The routes modules attach their views to the blueprints; importing them here (not
    # from the packages) lets any script import a domain's models without its views.
    from modell.auth import bp as auth_bp
    from modell.auth import routes as _auth  # noqa: F401
    from modell.cohorts import bp as cohorts_bp
    from modell.cohorts import group_routes as _groups  # noqa: F401
    from modell.cohorts import import_routes as _imports  # noqa: F401
    from modell.cohorts import public_routes as _public  # noqa: F401
    from modell.cohorts import registration_routes as _registrations  # noqa: F401
    from modell.cohorts import routes as _cohorts  # noqa: F401
    from modell.cohorts import template_routes as _templates  # noqa: F401
    from modell.core import sqlite as _sqlite  # noqa: F401  every SQLite connection waits
    from modell.core.routes import bp as core_bp
    from modell.core.web import install as install_web
    from modell.improvements import bp as improvements_bp
    from modell.improvements import follow_up_routes as _follow_up  # noqa: F401
    from modell.improvements import indicator_routes as _indicators  # noqa: F401
    from modell.improvements import routes as _improvements  # noqa: F401
    from modell.meetings import bp as meetings_bp
    from modell.meetings import routes as _meetings  # noqa: F401
    from modell.organisations import bp as organisations_bp
    from modell.organisations import routes as _organisations  # noqa: F401
    from modell.reminders import bp as reminders_bp
    from modell.reminders import routes as _reminders_routes  # noqa: F401
    from modell.start import bp as start_bp
    from modell.start import routes as _start  # noqa: F401

    for bp in (
        start_bp,
        core_bp,
        auth_bp,
        organisations_bp,
        cohorts_bp,
        meetings_bp,
        improvements_bp,
        reminders_bp,
    ):
        app.register_blueprint(bp)
    install_web(app)

    from modell.auth.services import connect_signals, process_reset_requests
    from modell.cohorts import public
    from modell.core import worker

    worker.register("password_reset", process_reset_requests)
    worker.register("pending_registrations", public.expire)
    from modell.meetings.invitations import forget_needs

    worker.register("special_needs", forget_needs)
    connect_signals()  # accepted registrations: their contacts are invited to accounts
    public.connect_signals()  # decided registrations: their senders are told
    # The reminders listen to the meetings' changes (plan, move, cancel).
    from modell.cli import cli
    from modell.reminders import planning as _reminders  # noqa: F401

    app.cli.add_command(cli)
    return app


class IdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)  # ids are INTEGER columns
        super().__init__(map, *args, **kwargs)


def _select_locale() -> str:
    """The user's own setting, then the language chosen in this browser, then the browser's
    preference, then Swedish."""
    languages = ("sv", "en")
    if not has_request_context():  # the CLI and the scheduler write in Swedish
        return "sv"
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or "sv"
