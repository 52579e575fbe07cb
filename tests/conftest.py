"""Fixtures: a prepared database per backend, cloned for every test; a real SMTP server.

Every test that takes `app` runs on SQLite and, when TEST_DATABASE_URL names a PostgreSQL
database, on PostgreSQL too. The prepared database is built once per backend (and per
xdist worker) through the real migrations, the reference data and the demo data; each
test gets its own copy (a file copy for SQLite, CREATE DATABASE ... TEMPLATE for
PostgreSQL), so tests never see each other's rows.
"""

import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask_migrate import upgrade

from modell import create_app
from modell.core import worker
from modell.core.types import utcnow
from modell.demo import DEMO_PASSWORD, load_demo
from modell.extensions import db
from modell.organisations.services import load_reference

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL")
REQUIRE_ALL = os.environ.get("MODELL_REQUIRE_ALL") == "1"

BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config, items):
    if REQUIRE_ALL and not PG_URL:
        raise pytest.UsageError("MODELL_REQUIRE_ALL=1 but TEST_DATABASE_URL is not set")


# --- databases ---------------------------------------------------------------------------


def _pg_admin_url() -> sa.URL:
    return sa.make_url(PG_URL).set(database="postgres")


def _pg_exec(sql: str) -> None:
    url = _pg_admin_url()
    with psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


def base_config(url: str, **overrides) -> dict:
    config = {
        "MODELL_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": url,
        "MAIL_SERVER": None,
        "BASE_URL": "http://127.0.0.1",
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    config.update(overrides)
    return config


def prepare(url: str, tmp: Path, demo: bool = True) -> None:
    """Migrate an empty database and load the reference and demo data into it."""
    app = create_app(base_config(url, MODELL_INSTANCE_DIR=str(tmp)))
    with app.app_context():
        upgrade()
        load_reference(db.session, now=utcnow())
        if demo:
            load_demo(db.session, now=utcnow(), development=True, living_programme=False)
        else:  # what `flask modell load-reference` gives, and one coordinator
            from modell.auth.models import User
            from modell.auth.services import hash_password
            from modell.cohorts.services import load_shipped_templates

            load_shipped_templates(db.session, now=utcnow())
            db.session.add(
                User(
                    email="samordnare@example.org",
                    name="Sara Samordnare",
                    role="coordinator",
                    password_hash=hash_password(DEMO_PASSWORD),
                    created_at=utcnow(),
                    active=True,
                )
            )
        db.session.commit()
        db.engine.dispose()


class Backend:
    def __init__(self, name: str, tmp: Path, worker: str):
        self.name, self.tmp, self.worker = name, tmp, worker
        self._bases: dict[bool, str] = {}

    def _pg_name(self, suffix: str) -> str:
        return f"{sa.make_url(PG_URL).database}_{self.worker}_{suffix}"[:63]

    def base(self, demo: bool = True) -> str:
        """The prepared database: migrated, with the reference data and (unless demo=False)
        the demo data. Built once per backend, flavour and worker."""
        if demo not in self._bases:
            suffix = "base" if demo else "bare"
            if self.name == "sqlite":
                path = self.tmp / f"{suffix}.db"
                prepare(f"sqlite:///{path}", self.tmp, demo=demo)
                self._bases[demo] = str(path)
            else:
                name = self._pg_name(suffix)
                _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                _pg_exec(f'CREATE DATABASE "{name}"')
                prepare(str(sa.make_url(PG_URL).set(database=name)), self.tmp, demo=demo)
                self._bases[demo] = name
        return self._bases[demo]

    def clone(self, demo: bool = True) -> tuple[str, callable]:
        """A fresh copy of the prepared database: (url, drop)."""
        base = self.base(demo)
        if self.name == "sqlite":
            path = self.tmp / f"t-{uuid.uuid4().hex}.db"
            shutil.copy(base, path)
            return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
        name = self._pg_name(uuid.uuid4().hex[:10])
        _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
        return (
            str(sa.make_url(PG_URL).set(database=name)),
            lambda: _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'),
        )

    def empty(self) -> tuple[str, callable]:
        """An empty database (for the migration tests)."""
        if self.name == "sqlite":
            path = self.tmp / f"e-{uuid.uuid4().hex}.db"
            return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
        name = self._pg_name("e" + uuid.uuid4().hex[:10])
        _pg_exec(f'CREATE DATABASE "{name}"')
        return (
            str(sa.make_url(PG_URL).set(database=name)),
            lambda: _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'),
        )

    def close(self) -> None:
        if self.name == "postgresql":
            for name in self._bases.values():
                _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def backends(tmp_path_factory):
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "main")
    made = {}

    def get(name: str) -> Backend:
        if name not in made:
            made[name] = Backend(name, tmp_path_factory.mktemp(name), worker_id)
        return made[name]

    yield get
    for b in made.values():
        b.close()


@pytest.fixture(params=BACKENDS)
def backend(request, backends) -> Backend:
    if request.param == "postgresql" and not PG_URL:
        if REQUIRE_ALL:
            pytest.fail("PostgreSQL test would be skipped in CI: set TEST_DATABASE_URL")
        pytest.skip("PostgreSQL: TEST_DATABASE_URL is not set")
    return backends(request.param)


@pytest.fixture
def make_app(backend, tmp_path):
    """Build an app on a fresh copy of the prepared database; extra settings as keywords."""
    made = []

    def make(demo: bool = True, **overrides):
        url, drop = backend.clone(demo)
        app = create_app(
            base_config(
                url,
                MODELL_INSTANCE_DIR=str(tmp_path),
                UPLOAD_DIR=str(tmp_path / "uploads"),
                **overrides,
            )
        )
        made.append((app, drop))
        return app

    yield make
    for app, drop in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


# --- a real SMTP server on loopback -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the SMTP server received. It refuses for good (550) any address with "refused"
    in it, as a real server refuses an unknown mailbox."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "refused" in address:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [m for _, m in self.messages]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def mail_app(make_app, smtp):
    """An app with a mail server, and the background worker running beside it as in
    production: requests only write the outbox, the worker delivers."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run_forever, args=(app,), kwargs={"poll_seconds": 0.05, "stop": stop}
    )
    thread.start()
    yield app
    stop.set()
    thread.join(10)


# --- logging in ---------------------------------------------------------------------------

DEMO = {
    "admin": "admin@example.org",
    "coordinator": "samordnare@example.org",
    "county_observer": "lansstyrelsen@example.org",
    "participant": "strateg@botkyrka.example.org",
    "mentor": "mentor@uppsala.example.org",
}


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    if marker not in html:
        marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def login(client, email: str, password: str = DEMO_PASSWORD, remember: bool = False):
    page = client.get("/konto/logga-in")
    data = {"email": email, "password": password, "csrf_token": csrf_from(page.get_data(True))}
    if remember:
        data["remember"] = "y"
    return client.post("/konto/logga-in", data=data)


def post_form(client, url: str, data: dict, page_url: str | None = None):
    """Post a form the way a browser does: with the CSRF token of the page it is on."""
    page = client.get(page_url or url)
    return client.post(url, data={**data, "csrf_token": csrf_from(page.get_data(True))})
