"""Property-based fuzzing of every route (hypothesis), on SQLite and PostgreSQL.

For each endpoint the table FUZZ names how a user reaches it: the role and the page(s)
whose forms post to it (or the page itself, for GET routes). The test opens the page as
that role, reads its forms from the HTML (no field is hard-coded), and sends generated
values: empty, huge, control characters and NUL, unicode, numbers and dates out of range,
wrong types, and plausible values taken from the page. It also fuzzes the query string of
every GET route and every integer (and string) part of each route's address.

After every request:
- no response is a 5xx (in testing the app raises instead; the exception is the failure);
- a refused request (4xx, a form shown with its errors, a flashed warning) changed no row;
- no changed row holds a C0 control character other than tab, LF and CR, nor a date outside
  2000–2100, nor a line break that came from a one-line field;
- after a change, the pages that show what was changed still answer without a 5xx.

Besides the EXAMPLES generated requests, a sweep gives every date, time and number field
each boundary value (9999-12-31, 0001-01-01, 2**63, ...) and every text field a NUL once,
and every GET page huge numbers and a NUL in all its query parameters: these classes are
not left to chance. Each endpoint gets a fixed number of examples with a seed of its own, so the
run time is bounded and repeatable; every distinct problem is listed at the end of the test
(a failing example does not hide the others). A new route without an entry fails
`test_every_route_is_fuzzed`, like the access test.

The database: each worker prepares the demo data with the ids of tests/test_access.py (and
a few more, see fuzz_ids) once per backend, logs the roles in, and saves it; each test runs
on a copy. Forms that remove what they act on (conclude, cancel, delete) get the saved
state back when their form is gone (Case.reset).

To look at it: FUZZ_VERBOSE=1 (with -s, without -n) prints every request and how the app
answered; FUZZ_REPORT_DIR=dir writes each endpoint's problems and outcome counts there.
"""

import os
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import flask
import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from hypothesis import HealthCheck, Phase, given, seed, settings
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from modell import create_app
from modell.auth.models import User
from modell.auth.services import hash_password, make_password_token
from modell.cohorts import groups
from modell.cohorts import registrations as applications
from modell.cohorts import services as cohort_services
from modell.cohorts.models import Cohort, ProgrammeTemplate
from modell.core.models import OutboxMessage
from modell.core.types import utcnow
from modell.demo import COHORT_NAME, DEMO_PASSWORD, FEDERATION
from modell.extensions import db
from modell.meetings.models import Meeting
from modell.organisations.models import Organisation
from tests import fuzz_support as fz
from tests.conftest import DEMO, base_config, login
from tests.test_access import _ids

EXAMPLES = 8  # per endpoint (and per backend)
SWEPT_TEXTS_WITH_RESET = 6  # text fields given a NUL in the sweep, for forms that need a reset
VERBOSE = os.environ.get("FUZZ_VERBOSE") == "1"  # print every request (with pytest -s)
REPORT_DIR = os.environ.get("FUZZ_REPORT_DIR")  # write each endpoint's problems there
EXCLUDED = {"static", "bootstrap.static"}  # files, not the app's own code
REFUSED = {400, 403, 404, 405, 409, 410, 413, 422, 429}
# Tables (and columns) that change on every request or every refused login by design.
VOLATILE_TABLES = {"login_sessions", "login_throttles"}


def volatile(table: str) -> bool:
    """Login sessions, and any throttle or rate-limit table (they count refused attempts)."""
    return table in VOLATILE_TABLES or bool(re.search(r"throttle|rate_?limit", table))


# Query parameters worth trying on every GET, besides the page's own GET-form fields.
GENERIC_QUERY = {
    "sida": "number",
    "page": "number",
    "q": "text",
    "next": "url",
    "lang": "text",
    "typ": "text",
    "lan": "text",
    "status": "text",
    "basis": "text",
    "groups": "number",
}
HUGE_IDS = ["99999999999999999999", str(2**63), str(2**63 - 1), str(2**31), "-1", "0"]
BAD_SEGMENTS = ["%00", "a%00b", "%07", "%0A", "x" * 3000, "%F0%9F%8E%89", "..%2F..", "%C3%85%C3%84"]


@dataclass
class Case:
    """How a user reaches an endpoint: as `role`, from one of `pages` (url templates filled
    from the demo ids; an id that is a list makes one alternative per item, the first that
    shows the form is used). `views` are re-read after a change, to see it shown. With
    `reset`, the database is put back after every example that changed it (for forms that
    remove what they act on)."""

    role: str
    pages: list[str]
    views: list[str] = field(default_factory=list)
    reset: bool = False


MEETING_VIEWS = [
    "/moten/{own_meeting}",
    "/moten/{own_meeting}.ics",
    "/moten/grupp/{own_group}",
    "/moten/omgang/{cohort}",
    "/moten/omgang/{cohort}/pmi",
    "/moten/kalender",
    "/moten/kalender/{feed_token}.ics",
    "/omgangar/{cohort}",
]
COHORT_VIEWS = [
    "/omgangar/",
    "/omgangar/{cohort}",
    "/omgangar/{open_cohort}",
    "/omgangar/{open_cohort}/anmalningar",
    "/omgangar/{forming}",
    "/omgangar/{forming}/forslag",
    "/omgangar/grupper/{own_group}",
    "/moten/omgang/{cohort}",
    "/organisationer/{botkyrka}",
]
TEMPLATE_VIEWS = [
    "/omgangar/modeller/",
    "/omgangar/modeller/{copy}",
    "/omgangar/modeller/{template}",
]
IMPROVEMENT_VIEWS = [
    "/arbete/",
    "/arbete/{own_participation}",
    "/arbete/logg/{own_entry}",
    "/arbete/grupp/{own_group}",
    "/arbete/goda-exempel",
]
INDICATOR_VIEWS = [
    "/arbete/{own_participation}",
    "/arbete/{own_participation}/indikatorer/{own_indicator}",
    "/arbete/grupp/{own_group}/indikatorer",
    "/arbete/grupp/{own_group}",
]
ORG_VIEWS = ["/organisationer/", "/organisationer/{botkyrka}", "/organisationer/{federation}"]

S = "coordinator"  # SKR staff: sees every form
P = "participant"  # Botkyrka's strategist: hosts {own_meeting}, registered in {open_cohort}
M = "mentor"  # Uppsala's strategist: has the calendar feed {feed_token}
A = "anonymous"
AD = "admin"  # the one who sends a failed message again

# endpoint -> how it is reached. Ids: see tests.test_access._ids and fuzz_ids below.
FUZZ: dict[str, list[Case]] = {
    "start.home": [Case(S, ["/"])],
    "organisations.people": [Case(S, ["/organisationer/personer"])],
    "start.accessibility": [Case(A, ["/tillganglighet"])],
    "start.favicon": [Case(A, ["/favicon.ico"])],
    "start.privacy": [Case(A, ["/personuppgifter"])],
    "start.help": [Case(A, ["/hjalp"])],
    "start.contact": [Case(A, ["/kontakt"])],
    "core.health": [Case(A, ["/healthz"])],
    "core.outbox": [Case(S, ["/utkorg"])],
    "core.outbox_message": [Case(S, ["/utkorg/{message}"])],
    "core.outbox_action": [Case(AD, ["/utkorg/{message}"], ["/utkorg"], reset=True)],
    "core.outbox_retry_failed": [Case(AD, ["/utkorg"], ["/utkorg"], reset=True)],
    "auth.login": [Case(A, ["/konto/logga-in"])],
    "auth.logout": [Case(P, ["/omgangar/"])],
    "auth.forgot_password": [Case(A, ["/konto/glomt-losenord"])],
    "auth.reset_password": [Case(A, ["/konto/nytt-losenord/{reset_token}"])],
    "auth.accept_invitation": [Case(A, ["/konto/inbjudan/{invite_token}"])],
    "auth.change_password": [Case(P, ["/konto/losenord"])],
    "auth.invite": [Case(S, ["/konto/bjud-in"], ["/organisationer/{botkyrka}"])],
    "auth.set_language": [Case(P, ["/omgangar/"], ["/omgangar/"])],
    "reminders.notifications": [Case(P, ["/aviseringar"])],
    "reminders.mark_read": [Case(P, ["/aviseringar"], ["/aviseringar"])],
    "reminders.settings": [Case(P, ["/konto/paminnelser"], ["/konto/paminnelser"])],
    "organisations.index": [Case(P, ["/organisationer/"])],
    "organisations.detail": [Case(P, ["/organisationer/{botkyrka}"])],
    "organisations.create": [Case(S, ["/organisationer/ny"], ORG_VIEWS)],
    "organisations.edit": [
        Case(
            S,
            ["/organisationer/{botkyrka}/andra", "/organisationer/{federation}/andra"],
            ORG_VIEWS,
        )
    ],
    "organisations.person": [
        Case(
            S,
            [
                "/organisationer/{botkyrka}/personer/ny",
                "/organisationer/{botkyrka}/personer/{person}",
            ],
            ORG_VIEWS,
        )
    ],
    "cohorts.index": [Case(P, ["/omgangar/"])],
    "cohorts.detail": [Case(S, ["/omgangar/{cohort}"])],
    "cohorts.group": [Case(S, ["/omgangar/grupper/{own_group}"])],
    "cohorts.create": [Case(S, ["/omgangar/ny"], COHORT_VIEWS)],
    "cohorts.edit": [
        Case(S, ["/omgangar/{open_cohort}/andra", "/omgangar/{cohort}/andra"], COHORT_VIEWS)
    ],
    "cohorts.change_status": [
        Case(
            S,
            ["/omgangar/{open_cohort}", "/omgangar/{forming}", "/omgangar/{cohort}"],
            COHORT_VIEWS,
            reset=True,
        )
    ],
    "cohorts.conclude": [Case(S, ["/omgangar/{cohort}/avsluta"], COHORT_VIEWS, reset=True)],
    "cohorts.register": [Case(S, ["/omgangar/{open_cohort}/anmal"], COHORT_VIEWS)],
    "cohorts.registrations": [Case(S, ["/omgangar/{open_cohort}/anmalningar"])],
    "cohorts.registration": [
        Case(S, ["/omgangar/anmalningar/{registrations}"], COHORT_VIEWS, reset=True)
    ],
    "cohorts.edit_registration": [
        Case(
            P,
            ["/omgangar/anmalningar/{registration}/andra"],
            ["/omgangar/anmalningar/{registration}"],
        )
    ],
    "cohorts.withdraw_registration": [
        Case(S, ["/omgangar/anmalningar/{registrations}"], COHORT_VIEWS, reset=True)
    ],
    "cohorts.new_group": [
        Case(S, ["/omgangar/{forming}/grupper/ny", "/omgangar/{cohort}/grupper/ny"], COHORT_VIEWS)
    ],
    "cohorts.edit_group": [
        Case(
            S,
            ["/omgangar/grupper/{forming_group}/andra", "/omgangar/grupper/{own_group}/andra"],
            COHORT_VIEWS,
        )
    ],
    "cohorts.delete_group": [
        Case(S, ["/omgangar/grupper/{forming_group}/andra"], COHORT_VIEWS, reset=True)
    ],
    "cohorts.mentor_pool": [Case(S, ["/omgangar/{cohort}/mentorer"])],
    "cohorts.suggestion": [Case(S, ["/omgangar/{forming}/forslag"], COHORT_VIEWS, reset=True)],
    "cohorts.templates": [Case(P, ["/omgangar/modeller/"])],
    "cohorts.template": [Case(P, ["/omgangar/modeller/{template}"])],
    "cohorts.copy_template": [Case(S, ["/omgangar/modeller/{template}"], TEMPLATE_VIEWS)],
    "cohorts.edit_template": [
        Case(
            S,
            ["/omgangar/modeller/{copy}/andra", "/omgangar/modeller/{template}/andra"],
            TEMPLATE_VIEWS,
        )
    ],
    "cohorts.edit_step": [
        Case(
            S,
            ["/omgangar/modeller/{copy}/steg/ny", "/omgangar/modeller/{copy}/steg/1"],
            TEMPLATE_VIEWS,
        )
    ],
    "cohorts.delete_step": [
        Case(S, ["/omgangar/modeller/{copy}/steg/{steps}"], TEMPLATE_VIEWS, reset=True)
    ],
    "cohorts.edit_meeting_kind": [
        Case(
            S,
            [
                "/omgangar/modeller/{copy}/motestyper/ny",
                "/omgangar/modeller/{copy}/motestyper/benchmarking",
            ],
            TEMPLATE_VIEWS,
        )
    ],
    "cohorts.open_cohorts": [Case(A, ["/omgangar/oppna"])],
    "cohorts.public_register": [Case(A, ["/omgangar/{open_cohort}/intresse"], ["/omgangar/oppna"])],
    "cohorts.public_sent": [Case(A, ["/omgangar/{open_cohort}/intresse/skickad"])],
    "cohorts.confirm_interest": [
        Case(A, ["/omgangar/intresse/bekrafta/{interest_token}"], reset=True)
    ],
    "cohorts.import_cohort": [Case(S, ["/omgangar/importera"], COHORT_VIEWS)],
    "cohorts.import_template": [Case(S, ["/omgangar/importera/mall.xlsx"])],
    "cohorts.organisations_export": [Case(P, ["/omgangar/organisationer.csv"])],
    # The version the running cohort uses: its reminders are planned again after each change.
    "cohorts.edit_reminder": [
        Case(
            S,
            [
                "/omgangar/modeller/{template}/paminnelser/ny",
                "/omgangar/modeller/{template}/paminnelser/send_invitation",
            ],
            [*TEMPLATE_VIEWS, "/moten/{own_meeting}", "/aviseringar"],
        )
    ],
    "cohorts.delete_meeting_kind": [
        Case(S, ["/omgangar/modeller/{copy}/motestyper/{kinds}"], TEMPLATE_VIEWS, reset=True)
    ],
    "meetings.cohort_calendar": [Case(S, ["/moten/omgang/{cohort}"])],
    "meetings.group_calendar": [Case(P, ["/moten/grupp/{own_group}"])],
    "meetings.meeting": [Case(P, ["/moten/{own_meeting}"])],
    "meetings.edit": [
        Case(P, ["/moten/{own_meeting}/andra"], MEETING_VIEWS),
        Case(S, ["/moten/{kickoff}/andra"], MEETING_VIEWS),
    ],
    "meetings.checklist": [Case(P, ["/moten/{own_meeting}"], MEETING_VIEWS)],
    "meetings.invite": [Case(P, ["/moten/{own_meeting}"], MEETING_VIEWS)],
    "meetings.cancel": [Case(S, ["/moten/{meetings}"], MEETING_VIEWS, reset=True)],
    "meetings.answer": [Case(A, ["/moten/svar/{answer_token}"], ["/moten/svar/{answer_token}"])],
    "meetings.respond": [Case(P, ["/moten/{own_meeting}"], MEETING_VIEWS)],
    "meetings.attendance": [Case(P, ["/moten/{own_meeting}/narvaro"], MEETING_VIEWS)],
    "meetings.documentation": [Case(P, ["/moten/{own_meeting}"], MEETING_VIEWS)],
    "meetings.upload": [Case(P, ["/moten/{own_meeting}"], MEETING_VIEWS)],
    "meetings.document": [Case(P, ["/moten/filer/{document}"])],
    "meetings.pmi": [Case(P, ["/moten/{held_meeting}"], MEETING_VIEWS)],
    "meetings.cohort_pmi": [Case(S, ["/moten/omgang/{cohort}/pmi"])],
    "meetings.ics": [Case(P, ["/moten/{own_meeting}.ics"])],
    "meetings.my_calendar": [Case(M, ["/moten/kalender"])],
    "meetings.feed": [Case(A, ["/moten/kalender/{feed_token}.ics"])],
    "meetings.renew_feed": [Case(M, ["/moten/kalender"], ["/moten/kalender"])],
    "meetings.revoke_feed": [Case(M, ["/moten/kalender"], ["/moten/kalender"], reset=True)],
    "improvements.index": [Case(P, ["/arbete/"])],
    "improvements.workspace": [Case(P, ["/arbete/{own_participation}"])],
    "improvements.baseline": [
        Case(P, ["/arbete/{own_participation}/utgangslage"], IMPROVEMENT_VIEWS)
    ],
    "improvements.edit_work": [
        Case(
            P,
            ["/arbete/{own_participation}/arbeten/ny", "/arbete/arbeten/{own_work}/andra"],
            IMPROVEMENT_VIEWS,
        )
    ],
    "improvements.edit_entry": [
        Case(
            P,
            ["/arbete/arbeten/{own_work}/logg/ny", "/arbete/logg/{own_entry}/andra"],
            IMPROVEMENT_VIEWS,
        )
    ],
    "improvements.entry": [Case(P, ["/arbete/logg/{own_entry}"])],
    "improvements.evidence": [Case(P, ["/arbete/logg/{own_entry}/bevis"])],
    "improvements.propose": [Case(P, ["/arbete/logg/{own_entry}"], IMPROVEMENT_VIEWS, reset=True)],
    "improvements.decide": [
        Case(
            S,
            ["/arbete/logg/{proposed_entry}", "/arbete/logg/{other_entry}"],
            IMPROVEMENT_VIEWS,
            reset=True,
        )
    ],
    "improvements.good_examples": [Case(P, ["/arbete/goda-exempel"])],
    "improvements.group": [Case(P, ["/arbete/grupp/{own_group}"])],
    "improvements.mentor_session": [
        Case(M, ["/arbete/grupp/{own_group}/mentorsmote"], IMPROVEMENT_VIEWS)
    ],
    "improvements.new_indicator": [
        Case(P, ["/arbete/{own_participation}/indikatorer/ny"], INDICATOR_VIEWS)
    ],
    "improvements.indicator": [
        Case(P, ["/arbete/{own_participation}/indikatorer/{own_indicator}"])
    ],
    "improvements.save_value": [
        Case(P, ["/arbete/{own_participation}/indikatorer/{own_indicator}"], INDICATOR_VIEWS)
    ],
    "improvements.import_values": [
        Case(
            P,
            ["/arbete/{own_participation}/indikatorer/{own_indicator}/import"],
            INDICATOR_VIEWS,
        )
    ],
    "improvements.benchmarking": [
        Case(P, ["/arbete/grupp/{own_group}/indikatorer"], INDICATOR_VIEWS)
    ],
    "improvements.own_values": [
        Case(P, ["/arbete/grupp/{own_group}/indikatorer"], INDICATOR_VIEWS)
    ],
    "improvements.overview": [Case(S, ["/arbete/omgang/{cohort}/oversikt"])],
    "improvements.digest": [Case(S, ["/arbete/omgang/{cohort}/pa-gang"])],
    "improvements.export": [
        Case(S, ["/arbete/omgang/{cohort}/export/overview.xlsx"]),
        Case(S, ["/arbete/omgang/{cohort}/export/entries.csv"]),
    ],
}


def test_every_route_is_fuzzed(app):
    registered = {rule.endpoint for rule in app.url_map.iter_rules()} - EXCLUDED
    assert registered - set(FUZZ) == set(), "routes without a fuzz entry"
    assert set(FUZZ) - registered == set(), "fuzz entries for routes that do not exist"


# --- the demo data the table refers to ----------------------------------------------------------


def fuzz_ids(app) -> dict:
    """The ids of test_access (a running 2019 cohort with invitations, an open cohort with a
    registration, a template copy, ...) and lists of alternatives for the forms that remove
    what they act on."""
    ids = _ids(app)
    from tests.test_cohorts import registration_data

    with app.app_context():
        now = utcnow()
        open_cohort = db.session.get(Cohort, ids["open_cohort"])
        extra = db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.kind == "municipality")
            .where(Organisation.name.in_(["Uppsala", "Umeå", "Kiruna", "Lund", "Gävle"]))
            .order_by(Organisation.name)
        ).all()
        registrations = [
            applications.submit_registration(
                db.session, open_cohort, org, registration_data(), now=now, user_id=None
            ).id
            for org in extra
        ]
        for email, password in (
            ("fuzz.reset@example.org", DEMO_PASSWORD),
            ("fuzz.invite@example.org", None),
        ):
            db.session.add(
                User(
                    email=email,
                    name="Fuzz Användare",
                    role="coordinator",
                    password_hash=hash_password(password) if password else None,
                    created_at=now,
                    active=True,
                )
            )
        # A registration from the public form, waiting for its sender's confirmation.
        from datetime import timedelta as _td

        from modell.cohorts.models import PendingRegistration
        from modell.cohorts.public import _data_to_json, _hash

        db.session.add(
            PendingRegistration(
                cohort=open_cohort,
                new_name="Fuzzby kommunförbund",
                new_kind="federation",
                submitter_email="fuzz.sender@example.org",
                data=_data_to_json(registration_data()),
                token_hash=_hash("fuzz-interest-token"),
                created_at=now,
                expires_at=now + _td(days=3650),
            )
        )
        ids["interest_token"] = "fuzz-interest-token"
        # A message that failed for good: the admin's forms to send it again are shown.
        failed = db.session.get(OutboxMessage, ids["message"])
        failed.status, failed.attempts = "failed", 15
        failed.last_error = "SMTPRecipientsRefused: 550 no such user"
        db.session.commit()
        ids.update(forming_cohort(cohort=db.session.get(Cohort, ids["cohort"]), now=now))
        ids.update(proposed_entry(ids, now=now))
        cohort = db.session.get(Cohort, ids["cohort"])
        copy = db.session.get(ProgrammeTemplate, ids["copy"])
        meetings = db.session.scalars(
            sa.select(Meeting.id).where(Meeting.cohort_id == cohort.id).order_by(Meeting.id.desc())
        ).all()
        ids.update(
            federation=db.session.scalar(
                sa.select(Organisation.id).where(Organisation.name == FEDERATION)
            ),
            registrations=[*registrations, ids["registration"]],
            meetings=[m for m in meetings if m != ids["own_meeting"]],
            steps=[s.position for s in sorted(copy.steps, key=lambda s: -s.position)],
            kinds=[k.key for k in copy.meeting_kinds],
        )
        assert cohort.name == COHORT_NAME
    return ids


def forming_cohort(cohort: Cohort, now) -> dict:
    """A cohort that forms its groups (groups are dissolved and suggested only then): eight
    accepted registrations, two of them grouped, the others waiting for the suggestion."""
    from datetime import date, timedelta

    from tests.test_cohorts import registration_data

    forming = cohort_services.create_cohort(
        db.session,
        now=now,
        user_id=None,
        name="Omgång som bildar grupper",
        template=cohort.template,
        registration_deadline=date.today() + timedelta(days=30),
        starts_on=date.today() + timedelta(days=60),
    )
    db.session.flush()
    cohort_services.change_status(db.session, forming, "open", now=now, user_id=None)
    names = ["Borås", "Falun", "Gävle", "Kiruna", "Lund", "Malmö", "Umeå", "Växjö"]
    orgs = db.session.scalars(
        sa.select(Organisation)
        .where(Organisation.kind == "municipality", Organisation.name.in_(names))
        .order_by(Organisation.name)
    ).all()
    for org in orgs:
        registration = applications.submit_registration(
            db.session, forming, org, registration_data(), now=now, user_id=None
        )
        applications.decide_registration(
            db.session, registration, accept=True, reason=None, now=now, user_id=None
        )
    cohort_services.change_status(db.session, forming, "forming", now=now, user_id=None)
    db.session.flush()
    group = groups.create_group(
        db.session,
        now=now,
        user_id=None,
        cohort=forming,
        benchmarking=orgs[:2],
        exception_reason="Utan mentor i testet.",
    )
    db.session.commit()
    return {"forming": forming.id, "forming_group": group.id}


def proposed_entry(ids: dict, now) -> dict:
    """A log entry proposed as a good example (SKR decides on it)."""
    from modell.improvements import services as improvements
    from modell.improvements.models import ImprovementWork

    work = db.session.get(ImprovementWork, ids["own_work"])
    entry = improvements.save_entry(
        db.session,
        work,
        improvements.EntryData(now.date(), "Förslag till gott exempel", 2),
        now=now,
        user_id=None,
    )
    improvements.propose_good_example(db.session, entry, now=now, user_id=None)
    db.session.commit()
    return {"proposed_entry": entry.id}


def fresh_tokens(app) -> dict:
    """Signed links change when the password does: made anew for every example."""
    with app.app_context():
        secret = app.config["SECRET_KEY"]
        reset = db.session.scalar(sa.select(User).where(User.email == "fuzz.reset@example.org"))
        invite = db.session.scalar(sa.select(User).where(User.email == "fuzz.invite@example.org"))
        tokens = {
            "reset_token": make_password_token(reset, secret, "reset"),
            "invite_token": make_password_token(invite, secret, "invite"),
        }
        db.session.remove()
    return tokens


# --- the fuzzer -----------------------------------------------------------------------------------


def expand(template: str, ids: dict) -> list[str]:
    """The template filled from the ids; a list-valued id gives one url per item."""
    names = re.findall(r"{(\w+)}", template)
    lists = [n for n in names if isinstance(ids.get(n), list)]
    if not lists:
        return [template.format(**ids)]
    name = lists[0]
    return [u for item in ids[name] for u in expand(template, {**ids, name: item})]


@dataclass
class Failure:
    what: str  # method, rule and the problem
    example: str  # what was sent, the first time
    count: int = 1
    fields: set = field(default_factory=set)


class Fuzzer:
    """Sends generated requests to one endpoint and checks every answer (see the module doc)."""

    def __init__(self, app, endpoint: str, ids: dict, cookies: dict):
        self.app, self.endpoint, self.ids, self.cookies = app, endpoint, ids, cookies
        self.adapter = app.url_map.bind("localhost")
        self.clients: dict = {}
        self.failures: dict[tuple, Failure] = {}
        self.harness: list[str] = []
        self.sent = 0  # fuzzed requests that reached the endpoint
        self.unreached: list[str] = []
        self.known_args: dict = {}
        self.uses_tokens = any("_token}" in p for c in FUZZ[endpoint] for p in c.pages)
        self.saved, self.dirty = None, False
        # A field whose usual value the app refused gets the next plausible one (per rule).
        self.shift: Counter = Counter()
        self.error_fields: set = set()
        self.outcomes: Counter = Counter()
        self.changes = 0  # requests that changed rows (a page read before may be stale)
        self._swept_page: tuple = (None, [])
        self._events()
        self.watch = fz.Watch(app)
        start = self.last = fz.snapshot(app, None, self.watch)
        empty = fz.Snapshot({}, {}, [])
        for problem in fz.problems_in(fz.changed_rows(empty, start)) + start.errors:
            self.harness.append(f"the prepared database already breaks a rule: {problem}")

    # events of the app, read to tell a refusal from a success
    def _events(self):
        self.started = False
        self.flashed: list[str] = []
        self.rendered: list[tuple[str, dict]] = []
        self.csrf_refused = False
        app = self.app
        flask.request_started.connect(self._on_start, app)
        flask.message_flashed.connect(self._on_flash, app)
        flask.template_rendered.connect(self._on_render, app)
        original = self._original_handler = app.handle_user_exception

        def spy(error):  # CSRFProtect's refusal, told apart from any other 400
            if isinstance(error, CSRFError):
                self.csrf_refused = True
            return original(error)

        app.handle_user_exception = spy

    def _on_start(self, sender, **extra):
        self.started = True

    def _on_flash(self, sender, message, category, **extra):
        self.flashed.append(category)

    def _on_render(self, sender, template, context, **extra):
        self.rendered.append((template.name, context))

    def close(self):
        self.watch.close()
        if self.saved is not None:
            fz.drop_saved(self.saved)
        flask.request_started.disconnect(self._on_start, self.app)
        flask.message_flashed.disconnect(self._on_flash, self.app)
        flask.template_rendered.disconnect(self._on_render, self.app)
        self.app.handle_user_exception = self._original_handler

    # routing
    def match(self, url: str, method: str):
        parts = urlsplit(url)
        try:
            return self.adapter.match(parts.path, method=method)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            return None, {}

    def rule_of(self, url: str, method: str) -> str:
        parts = urlsplit(url)
        try:
            rule, _ = self.adapter.match(parts.path, method=method, return_rule=True)
            return rule.rule
        except HTTPException:
            return parts.path[:80]
        except RequestRedirect:
            return parts.path[:80]

    # clients
    def client(self, role: str):
        if role not in self.clients:
            client = self.app.test_client()
            if role in self.cookies:  # logged in when the database was prepared
                client.set_cookie(COOKIE, self.cookies[role], domain="localhost")
            elif role != "anonymous":
                assert login(client, DEMO[role]).status_code == 302, f"{role} cannot log in"
            self.clients[role] = client
        return self.clients[role]

    def open_page(self, role: str, url: str):
        """GET a page as the role (logging in again if a fuzzed request logged it out)."""
        client = self.client(role)
        for _attempt in range(2):
            try:
                response = client.get(url)
            except Exception as error:  # the page itself is broken
                self.fail("GET", url, f"raised {fz.one_line(error)} ({fz.where(error)})", "page")
                return None
            if response.status_code >= 500:
                self.fail("GET", url, f"status {response.status_code}", "page")
                return None
            location = response.headers.get("Location", "")
            if (
                role != "anonymous"
                and response.status_code == 302
                and "/konto/logga-in" in location
            ):
                assert login(client, DEMO[role]).status_code == 302, f"{role} cannot log in again"
                continue
            return response
        return response

    # failures
    def fail(self, method: str, url: str, problem: str, example: str, field_name=None):
        what = f"{method} {self.rule_of(url, method)}: {problem}"
        key = (method, self.rule_of(url, method), problem)
        found = self.failures.get(key)
        if found is None:
            found = self.failures[key] = Failure(what, example)
        else:
            found.count += 1
        if field_name:
            found.fields.add(field_name)

    # one example
    def start(self):
        """Log every role of the table in; save the database for the forms that need it."""
        for case in FUZZ[self.endpoint]:
            self.client(case.role)
        if any(case.reset for case in FUZZ[self.endpoint]):
            self.saved = fz.save_database(self.app)

    def restore(self):
        if self.saved is not None and self.dirty:
            self.watch.close()
            fz.restore_database(self.app, self.saved)
            self.watch.open()
            self.dirty = False
            self.changes += 1

    def example(self, plan: dict):
        cases = FUZZ[self.endpoint]
        case = fz._pick(cases, plan["case"])
        page = fz._pick(case.pages, plan["page"])
        targets = self.targets(case, page)
        if not targets and case.reset and self.dirty:
            # An earlier example removed what the form acts on: start again from the saved state.
            self.restore()
            targets = self.targets(case, page)
        if not targets:
            self.unreached.append(page)
            return
        forms = [t for t in targets if t[1] == "form"]
        if forms:  # one of the page's forms that go to the endpoint
            url, _kind, form = fz._pick(forms, plan["form"])
            self.fuzz_form(plan, case, url, form)
        for url, kind, get_forms in targets:  # the endpoint's own page: its query string
            if kind == "query":
                self.fuzz_query(plan, case, url, get_forms)

    def targets(self, case: Case, page: str) -> list:
        """What the page offers to fuzz: its query string (if it is the endpoint's own page)
        and its forms that go to the endpoint. The first alternative that has any is used."""
        if self.uses_tokens:
            self.ids.update(fresh_tokens(self.app))
        targets = []
        for url in expand(page, self.ids):
            response = self.open_page(case.role, url)
            if response is None:
                continue
            here = self.match(url, "GET")[0] == self.endpoint
            forms = []
            if response.status_code == 200 and response.mimetype == "text/html":
                forms = fz.parse_forms(response.get_data(True), url)
            hits = [f for f in forms if self.match(f.action, f.method)[0] == self.endpoint]
            if here:
                targets.append((url, "query", [f for f in forms if f.method == "GET"]))
            targets += [(url, "form", f) for f in hits]
            if targets:
                break
        return targets

    def query_values(self, pairs: list, fields: dict, names: list) -> dict:
        query = {}
        for n, spec in pairs:
            name = fz._pick(names, n)
            f = fields.get(name) or fz.Field(name, GENERIC_QUERY.get(name, "text"), current=["1"])
            value = fz.resolve(spec, f)
            if value is fz.OMIT or isinstance(value, tuple):
                continue
            query[name] = value
        return query

    def fuzz_query(self, plan: dict, case: Case, url: str, get_forms: list):
        fields = {f.name: f for form in get_forms for f in form.fields.values()}
        names = sorted(set(fields) | set(GENERIC_QUERY))
        query = self.query_values(plan["query"], fields, names)
        self.send(case, "GET", url, query=query, sent=dict(query), form=None)

    def fuzz_form(self, plan: dict, case: Case, page_url: str, form: fz.Form):
        fields = fields_of(form)
        chosen = None
        rule = self.rule_of(form.action, form.method)
        if plan["mode"] == "one" and fields:
            # One field breaks, the others as a user would leave or fill them.
            values = {f.name: fz.baseline(f, self.shift[rule, f.name]) for f in fields}
            chosen = fz._pick(fz.weighted(fields), plan["field"])
            values[chosen.name] = fz.resolve(plan["one"], chosen)
            query = {}
        else:
            values = {
                f.name: fz.resolve(fz._pick(plan["values"], k), f) for k, f in enumerate(fields)
            }
            query = self.query_values(plan["post_query"], {}, ["next", "sida", "lang"])
        self.submit(case, form, values, query, chosen)

    def submit(self, case: Case, form: fz.Form, values: dict, query: dict, chosen=None):
        if form.method == "GET":
            flat = {
                k: (v[1] if isinstance(v, tuple) else v)
                for k, v in values.items()
                if v is not fz.OMIT
            }
            self.send(
                case,
                "GET",
                form.action,
                query={**flat, **query},
                sent=values,
                form=form,
                chosen=chosen,
            )
            return
        payload = {"csrf_token": form.csrf_token} if form.csrf_token is not None else {}
        for f in fields_of(form):
            value = values[f.name]
            if value is fz.OMIT:
                continue
            if f.kind == "file":
                content, filename = value
                payload[f.name] = (BytesIO(content), filename)
            else:
                payload[f.name] = value
        kwargs = {"data": payload}
        if form.multipart:
            kwargs["content_type"] = "multipart/form-data"
        self.send(
            case, "POST", form.action, query=query, sent=values, form=form, chosen=chosen, **kwargs
        )

    def sweep(self):
        """Besides the random examples, each date, time and number field of the endpoint's
        forms gets every boundary value once (9999-12-31, 2**63, ...), each text field a
        NUL, and each of its own pages huge and negative numbers and a NUL in every query
        parameter: these classes are too important to leave to chance. A field that two
        pages share (the same form for another object) is swept once."""
        done = set()
        for case in FUZZ[self.endpoint]:
            for page in case.pages:
                targets = self.targets(case, page)
                for url, kind, target in targets:
                    if kind == "query" and self.rule_of(url, "GET") not in done:
                        done.add(self.rule_of(url, "GET"))
                        fields = {f.name: f for form in target for f in form.fields.values()}
                        names = sorted(set(fields) | set(GENERIC_QUERY))
                        for bad in fz.QUERY_BOUNDARIES:
                            query = dict.fromkeys(names, bad)
                            self.send(case, "GET", url, query=query, sent=query, form=None)
                forms = [t[2] for t in targets if t[1] == "form"]
                for index, form in enumerate(forms):
                    rule, texts = self.rule_of(form.action, form.method), 0
                    for f in fields_of(form):
                        if (rule, f.name) in done:
                            continue
                        done.add((rule, f.name))
                        if fz.NUL_INSIDE in fz.BOUNDARIES.get(f.kind, []):
                            texts += 1
                            if case.reset and texts > SWEPT_TEXTS_WITH_RESET:
                                continue  # each accepted one costs a restore
                        for bad in fz.BOUNDARIES.get(f.kind, []):
                            self.sweep_one(case, page, index, f.name, bad)

    def sweep_one(self, case, page, index, name, bad):
        """Send the page's form number `index` with `bad` in field `name`, the others as
        the page shows them (read again after a change: it may show other values now)."""
        key = (case.role, page, self.changes)
        if self._swept_page[0] != key:
            forms = [t[2] for t in self.targets(case, page) if t[1] == "form"]
            if len(forms) <= index and case.reset and self.dirty:
                self.restore()
                forms = [t[2] for t in self.targets(case, page) if t[1] == "form"]
            self._swept_page = (key, forms)
        forms = self._swept_page[1]
        if len(forms) <= index:
            return
        form = forms[index]
        fields = {f.name: f for f in fields_of(form)}
        if name not in fields:
            return
        rule = self.rule_of(form.action, form.method)
        values = {f.name: fz.baseline(f, self.shift[rule, f.name]) for f in fields.values()}
        values[name] = f"{values[name]}\x00x" if bad is fz.NUL_INSIDE else bad
        self.submit(case, form, values, {}, fields[name])

    # one request, and every check on it
    def send(self, case, method, url, *, query, sent, form, chosen=None, **kwargs):
        endpoint, args = self.match(url, method)
        if endpoint == self.endpoint:
            self.known_args.update(args)
        client = self.client(case.role)
        before = fz.snapshot(self.app, self.last, self.watch)
        self.started, self.flashed, self.rendered, self.csrf_refused = False, [], [], False
        error = response = None
        try:
            response = client.open(url, method=method, query_string=query or None, **kwargs)
        except Exception as raised:
            error = raised
        after = self.last = fz.snapshot(self.app, before, self.watch)
        self.sent += 1
        example = self.describe(method, url, query, sent, form, chosen)
        field_name = chosen.name if chosen is not None else None
        if error is not None:
            if not self.started:  # the test client itself could not send it
                self.harness.append(f"could not send {example}: {fz.one_line(error)}")
                return
            self.fail(
                method, url, f"raised {fz.one_line(error)} ({fz.where(error)})", example, field_name
            )
            return
        if response.status_code >= 500:
            self.fail(method, url, f"status {response.status_code}", example, field_name)
        if self.csrf_refused and form is not None and form.csrf_token is None:
            self.fail(
                method, url, "the page's form has no CSRF token: it is always refused", example
            )
        elif self.csrf_refused:
            self.harness.append(f"CSRF token refused: {example}")
        changes = fz.changed_rows(before, after)
        solid = {t: c for t, c in changes.items() if not volatile(t)}
        self.error_fields = set()
        refused = self.refusal(response)
        if chosen is not None and form is not None:
            rule = self.rule_of(form.action, form.method)
            for name in self.error_fields - {chosen.name}:
                self.shift[rule, name] += 1
        self.outcomes["refused" if refused else "changed" if solid else "unchanged"] += 1
        if VERBOSE:
            outcome = f"refused: {refused}" if refused else f"changed {sorted(solid)}"
            print(f"  {response.status_code} {example[:240]}\n      -> {outcome}")
        if refused and solid:
            summary = ", ".join(f"{t} +{len(a)}/-{r}" for t, (a, r) in sorted(solid.items()))
            self.fail(
                method, url, f"refused ({refused}) but rows changed: {summary}", example, field_name
            )
        for problem in fz.problems_in(changes) + after.errors:
            self.fail(method, url, problem, example, field_name)
        self.check_single_line(method, url, sent, form, changes, example)
        self.follow(case, method, url, response, example)
        if solid:
            self.dirty = True
            self.changes += 1
        if solid and fz.stores_any(solid, self.needles(sent, form, chosen)):
            for view in case.views:
                for view_url in expand(view, self.ids)[:1]:
                    self.check_view(case, view_url, f"after {example}")

    def needles(self, sent: dict, form, chosen) -> list[str]:
        """The values sent that a user would not normally type (to look for in the rows)."""
        fields = form.fields if form is not None else {}
        found = []
        for name, value in sent.items():
            if chosen is not None and name != chosen.name:
                continue
            f = fields.get(name)
            usual = set(fz.plausible(f)) if f is not None else set()
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and v not in usual:
                    found.append(v.strip())
        return found

    def refusal(self, response) -> str | None:
        """Why the answer says the input was refused (None: it was not): a 4xx, a flashed
        warning, a form shown with its errors (read from the rendered context), or the
        error markup of templates/_forms.html."""
        shown = None
        for name, context in self.rendered:
            for value in context.values():
                if isinstance(value, FlaskForm) and value.errors:
                    self.error_fields |= {str(k) for k in value.errors}
                    errors = value.errors if VERBOSE else sorted(map(str, value.errors))
                    shown = shown or f"{name} shows errors {errors}"
        if response.status_code in REFUSED:
            return f"status {response.status_code}" + (f", {shown}" if shown and VERBOSE else "")
        bad = [c for c in self.flashed if c in ("danger", "error", "warning")]
        if bad:
            return f"flashed {bad[0]}"
        if shown:
            return shown
        if response.mimetype == "text/html":
            html = response.get_data(True)
            for marker in (
                'id="error-summary"',
                'aria-invalid="true"',
                "error-message",
                "is-invalid",
                "invalid-feedback",
            ):
                if marker in html:
                    return f"page shows {marker}"
        return None

    def check_single_line(self, method, url, sent, form, changes, example):
        """A line break typed in a one-line field never reaches the database."""
        if form is None or not changes:
            return
        multiline_values = set()
        for f in form.fields.values():
            if f.multiline and isinstance(sent.get(f.name), str):
                multiline_values.add(sent[f.name].strip())
        for f in form.fields.values():
            value = sent.get(f.name)
            if f.multiline or f.kind == "file" or value is fz.OMIT:
                continue
            for text in value if isinstance(value, list) else [value]:
                core = text.strip() if isinstance(text, str) else ""
                if ("\n" in core or "\r" in core) and core not in multiline_values:
                    for column, cell in fz.text_cells(changes):
                        if core in cell:
                            self.fail(
                                method,
                                url,
                                f"line break from one-line field {f.name} stored in {column}",
                                example,
                                f.name,
                            )
                            break

    def follow(self, case, method, url, response, example):
        """Where a redirect leads must show (it shows what was just saved, or why not)."""
        if response.status_code not in (301, 302, 303) or method == "GET":
            return
        location = urlsplit(response.headers.get("Location", ""))
        if location.netloc and location.netloc != "localhost":
            return
        target = location.path + (f"?{location.query}" if location.query else "")
        self.check_view(case, target, f"redirect after {example}")

    def check_view(self, case, url, why):
        try:
            response = self.client(case.role).get(url)
        except Exception as error:
            self.fail("GET", url, f"raised {fz.one_line(error)} ({fz.where(error)})", why)
            return
        if response.status_code >= 500:
            self.fail("GET", url, f"status {response.status_code}", why)

    def describe(self, method, url, query, sent, form, chosen) -> str:
        parts = []
        if chosen is not None:
            parts.append(f"{chosen.name}={fz.show(sent[chosen.name])} (others as the page shows)")
        elif form is not None:
            parts += [f"{k}={fz.show(v, 40)}" for k, v in sent.items()]
        if query and (form is not None or chosen is None):
            parts += [
                f"?{k}={fz.show(v, 40)}" for k, v in query.items() if form is not None or k in query
            ]
        text = f"{method} {url} " + ", ".join(parts)
        return text[:600]

    # the parts of the address
    def fuzz_path(self):
        """Every argument of every rule of the endpoint, replaced by a huge, negative or
        nonsense value: a 404 (or 400/403/302), never a 5xx, never a page."""
        case = FUZZ[self.endpoint][0]
        self.restore()
        self._token = self.token(case.role)  # and logged in, for the probes below
        for rule in self.app.url_map.iter_rules(self.endpoint):
            missing = [a for a in rule.arguments if a not in self.known_args]
            if missing:
                self.harness.append(
                    f"{rule.rule}: no example gave {missing}; the path is not fuzzed"
                )
                continue
            method = "GET" if "GET" in rule.methods else "POST"
            for argument in sorted(rule.arguments):
                is_int = type(rule._converters[argument]).__name__ != "UnicodeConverter"
                for bad in HUGE_IDS if is_int else BAD_SEGMENTS:
                    url = _build(rule, {**self.known_args, argument: bad})
                    self.probe(case, method, url, f"{argument}={fz.show(bad, 30)}")

    def token(self, role: str) -> str | None:
        """A CSRF token of the role's session (logged in again if a request logged it out)."""
        page_url = "/konto/logga-in" if role == "anonymous" else "/konto/losenord"
        page = self.open_page(role, page_url)
        forms = fz.parse_forms(page.get_data(True), page_url) if page else []
        return next((f.csrf_token for f in forms if f.csrf_token), None)

    def probe(self, case, method, url, what):
        client = self.client(case.role)
        kwargs = {}
        if method == "POST":
            token = self._token or self.token(case.role)
            kwargs["data"] = {"csrf_token": token} if token else {}
        before = fz.snapshot(self.app, self.last, self.watch)
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as error:
            self.fail(
                method,
                url,
                f"raised {fz.one_line(error)} ({fz.where(error)})",
                f"{method} {url[:200]} ({what})",
            )
            return
        after = self.last = fz.snapshot(self.app, before, self.watch)
        status = response.status_code
        if status >= 500 or 200 <= status < 300:
            self.fail(
                method,
                url,
                f"status {status} for a missing object",
                f"{method} {url[:200]} ({what})",
            )
        solid = {t for t in fz.changed_rows(before, after) if not volatile(t)}
        if solid:
            self.fail(
                method,
                url,
                f"an address with no object changed {sorted(solid)}",
                f"{method} {url[:200]}",
            )

    def report(self) -> list[str]:
        lines = []
        for f in self.failures.values():
            fields = f" fields: {sorted(f.fields)}" if f.fields else ""
            lines.append(f"{f.what}  [{f.count}x{fields}]\n      e.g. {f.example}")
        lines += [f"HARNESS: {h}" for h in dict.fromkeys(self.harness)]
        if self.sent == 0:
            lines.append(
                f"HARNESS: no fuzzed request reached {self.endpoint} (pages {self.unreached})"
            )
        return lines


def fields_of(form: fz.Form) -> list[fz.Field]:
    """The form's fields, and the button pressed (sent like a field)."""
    fields = list(form.fields.values())
    if form.buttons:
        names: dict = {}
        for name, value in form.buttons:
            names.setdefault(name, []).append(value)
        fields += [fz.Field(n, "select", options=v, current=v[:1]) for n, v in names.items()]
    return fields


def _build(rule, values: dict) -> str:
    """The rule's path with the values put in as they are (a converter would refuse them)."""

    def put(match):
        return str(values[match.group(2)])

    return re.sub(r"<(?:([\w]+)(?:\([^)]*\))?:)?(\w+)>", put, rule.rule)


ENDPOINTS = sorted(FUZZ)
COOKIE = "session"
LOGGED_IN = (S, P, M)


@pytest.fixture(scope="session")
def fuzz_databases():
    """Per backend (and xdist worker): the demo database with the fuzz ids added and the
    roles logged in, saved once; every fuzz test starts from a copy of it."""
    prepared: dict = {}
    yield prepared
    for entry in prepared.values():
        fz.drop_saved(entry[0])


@pytest.fixture
def fuzz_app(backend, fuzz_databases, tmp_path):
    """An app (as conftest's make_app builds it) on a copy of the prepared database:
    (app, ids, session cookies per role). The first test of a worker prepares it."""
    import shutil

    uploads = tmp_path / "uploads"
    prepared = fuzz_databases.get(backend.name)
    if prepared is None:
        url, drop = backend.clone()
    else:
        url, drop = fz.clone_saved(prepared[0], backend.tmp)
        if prepared[3].exists():
            shutil.copytree(prepared[3], uploads, dirs_exist_ok=True)
    app = create_app(base_config(url, MODELL_INSTANCE_DIR=str(tmp_path), UPLOAD_DIR=str(uploads)))
    try:
        if prepared is None:
            ids = fuzz_ids(app)
            cookies = {}
            for role in LOGGED_IN:
                client = app.test_client()
                assert login(client, DEMO[role]).status_code == 302, f"{role} cannot log in"
                cookies[role] = client.get_cookie(COOKIE).value
            kept = backend.tmp / "fuzz-uploads"
            if uploads.exists():
                shutil.copytree(uploads, kept, dirs_exist_ok=True)
            prepared = fuzz_databases[backend.name] = (fz.save_database(app), ids, cookies, kept)
        yield app, dict(prepared[1]), dict(prepared[2])
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_fuzz_route(fuzz_app, endpoint):
    """EXAMPLES generated requests to the endpoint, then its address parts; every distinct
    problem is listed at the end (a failing example does not stop the others)."""
    app, ids, cookies = fuzz_app
    fuzzer = Fuzzer(app, endpoint, ids, cookies)
    fuzzer.start()

    @seed(zlib.crc32(endpoint.encode()))  # fixed, and not the same for every endpoint
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(fz.PLAN)
    def fuzz(plan):
        fuzzer.example(plan)

    try:
        fuzz()
        fuzzer.sweep()
        fuzzer.fuzz_path()
    finally:
        fuzzer.close()
    problems = fuzzer.report()
    if VERBOSE:
        print(f"{endpoint}: {dict(fuzzer.outcomes)}")
    if REPORT_DIR:  # one file per test, for a summary over the whole run
        name = f"{endpoint}-{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}.txt"
        Path(REPORT_DIR, name).write_text("\n".join(problems) + "\n")
        Path(REPORT_DIR, name + ".stats").write_text(f"{endpoint}: {dict(fuzzer.outcomes)}\n")
    assert not problems, f"{endpoint}: {len(problems)} problem(s)\n  " + "\n  ".join(problems)
