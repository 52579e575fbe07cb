"""Data for measuring the product at national scale (`flask modell bench-data`).

`demo` is the demo data. `national` adds what a decade of the programme leaves behind: every
municipality and region plus 50 agencies, with their people and accounts; 12 cohorts of 10
groups each, 2015 to now (eleven concluded, the last one running), whose meetings were held
with invitations and attendance; baselines, improvement work, log entries, indicators with
their values, mentor sessions; and the outbox that all of it filled.

Everything with rules goes through the services, as a user's clicks would: organisations,
cohorts, groups, the schedule, invitations, attendance, baselines, work, the first entries of
every piece of work, indicators and their first values, mentor sessions, conclusions and
titles. The bulk beyond that (most log entries and indicator values, and old sent mail) is
written in batches with the same shape the services give, because a million service calls
would measure the generator rather than the product.
"""

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from modell.auth.models import User
from modell.auth.services import hash_password
from modell.cohorts import groups, programme
from modell.cohorts import services as cohorts
from modell.cohorts.models import Cohort, Participation
from modell.core import revisions
from modell.core.models import OutboxMessage
from modell.core.timeutil import local_to_utc, to_local
from modell.demo import DEMO_PASSWORD, load_demo
from modell.improvements import indicators, mentoring, services
from modell.improvements.indicators import IndicatorData
from modell.improvements.mentoring import MentorSessionData
from modell.improvements.models import ImprovementWork, Indicator, IndicatorValue, LogEntry
from modell.improvements.services import EntryData, WorkData
from modell.meetings import after_meeting, invitations
from modell.meetings import services as meetings
from modell.meetings.models import Invitation, Meeting
from modell.organisations.models import Organisation, Person
from modell.reminders.models import ScheduledReminder

SCALES = ("demo", "national")
NATIONAL_NAME = "Modellkommuner {year}/{next:02d}"  # unlike the demo's "Modellkommuner 2019"
FIRST_YEAR = 2015
COHORTS = 12
GROUPS_PER_COHORT = 10
USERS = 3_000
LOG_ENTRIES = 60_000
INDICATOR_VALUES = 80_000
OUTBOX_ROWS = 200_000
BATCH = 5_000

# Real agencies of the kind that took part in Modellmyndigheter (names only).
AGENCIES = (
    "Arbetsförmedlingen",
    "Försäkringskassan",
    "Skatteverket",
    "Pensionsmyndigheten",
    "Migrationsverket",
    "Polismyndigheten",
    "Kriminalvården",
    "Trafikverket",
    "Transportstyrelsen",
    "Socialstyrelsen",
    "Folkhälsomyndigheten",
    "Skolverket",
    "Specialpedagogiska skolmyndigheten",
    "Universitets- och högskolerådet",
    "Centrala studiestödsnämnden",
    "Boverket",
    "Lantmäteriet",
    "Naturvårdsverket",
    "Havs- och vattenmyndigheten",
    "Jordbruksverket",
    "Livsmedelsverket",
    "Myndigheten för samhällsskydd och beredskap",
    "Statens institutionsstyrelse",
    "Sjöfartsverket",
    "Tillväxtverket",
    "Vinnova",
    "Energimyndigheten",
    "Kronofogdemyndigheten",
    "Bolagsverket",
    "Konsumentverket",
    "Myndigheten för delaktighet",
    "Jämställdhetsmyndigheten",
    "Inspektionen för vård och omsorg",
    "Statens skolinspektion",
    "Myndigheten för ungdoms- och civilsamhällesfrågor",
    "Arbetsmiljöverket",
    "Domstolsverket",
    "Åklagarmyndigheten",
    "Tullverket",
    "Statistiska centralbyrån",
    "Riksantikvarieämbetet",
    "Kulturrådet",
    "Konstnärsnämnden",
    "Statens servicecenter",
    "Ekonomistyrningsverket",
    "Myndigheten för digital förvaltning",
    "Läkemedelsverket",
    "Tandvårds- och läkemedelsförmånsverket",
    "Sametinget",
    "Statens fastighetsverk",
)

EXTRA_FUNCTIONS = ("other", "other", "other", "other", "other", "other")
ACTIVITIES = (
    "Hemtjänst",
    "Föreningsbidrag",
    "Snöröjning",
    "Arbetsmarknadsinsatser",
    "Feriearbete",
    "Biståndsbedömning",
    "Skolans elevhälsa",
    "Kollektivtrafik",
    "Bygglov",
    "Våld i nära relationer",
)


@dataclass
class Counts:
    scale: str
    created: dict[str, int] = field(default_factory=dict)


def _at(day: date, hour: int = 9) -> datetime:
    return local_to_utc(day, time(hour, 0))


def generate(session: Session, scale: str, *, now: datetime, seed: int = 2015) -> Counts:
    """Fill an empty, migrated database (reference data loaded) with the data set `scale`."""
    if scale not in SCALES:
        raise ValueError(scale)
    load_demo(session, now=now, development=True)
    session.flush()
    counts = Counts(scale)
    if scale == "national":
        _National(session, now, random.Random(seed), counts).build()  # nosec B311 # test data
    # The bulk rows went in past the session's flush: every cohort's revision is renewed.
    revisions.touch(session, session.scalars(sa.select(Cohort.id)))
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # Statistics for the planner after a bulk load, as after any large import (the
        # autovacuum would gather them a while later): without them it guesses one row per
        # table and scans where an index would do.
        with session.get_bind().connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
    for name, model in (
        ("organisations", Organisation),
        ("users", User),
        ("cohorts", Cohort),
        ("participations", Participation),
        ("meetings", Meeting),
        ("invitations", Invitation),
        ("log_entries", LogEntry),
        ("indicator_values", IndicatorValue),
        ("outbox_messages", OutboxMessage),
    ):
        counts.created[name] = session.scalar(sa.select(sa.func.count()).select_from(model))
    return counts


class _National:
    def __init__(self, session: Session, now: datetime, rng: random.Random, counts: Counts):
        self.session, self.now, self.rng, self.counts = session, now, rng, counts
        self.password_hash = hash_password(DEMO_PASSWORD)  # one hash, every bench account

    def build(self) -> None:
        s = self.session
        agencies = self._agencies()
        orgs = (
            list(
                s.scalars(
                    sa.select(Organisation)
                    .where(Organisation.kind.in_(("municipality", "region")))
                    .order_by(Organisation.kind, Organisation.scb_code)
                )
            )
            + agencies
        )
        self._people(orgs)
        template = self._template()
        graduates: list[Organisation] = []
        benchmarking = list(orgs)
        self.rng.shuffle(benchmarking)
        per_cohort = len(benchmarking) // COHORTS
        for n in range(COHORTS):
            year = FIRST_YEAR + n
            members = benchmarking[n * per_cohort : (n + 1) * per_cohort][: GROUPS_PER_COHORT * 3]
            running = n == COHORTS - 1
            self._cohort(template, year, members, graduates, running=running)
            if not running:
                graduates += members
        self._bulk_entries()
        self._bulk_values()
        self._bulk_outbox()

    # --- organisations and people ----------------------------------------------------------

    def _agencies(self) -> list[Organisation]:
        made = []
        for name in AGENCIES:
            org = Organisation(name=name, kind="agency", county_code="01", created_at=self.now)
            self.session.add(org)
            made.append(org)
        self.session.flush()
        return made

    def _people(self, orgs: list[Organisation]) -> None:
        """Each organisation brings its politician, manager and strategist, and others who
        take part; 3,000 of them have accounts."""
        from modell.demo_living import add_core_people

        for org in orgs:
            add_core_people(self.session, org, self.now)
        self.session.flush()
        have = self.session.scalar(sa.select(sa.func.count()).select_from(User))
        slugs = itertools.count(1)
        people = []
        for org in itertools.cycle(orgs):
            if len(people) + have >= USERS:
                break
            n = next(slugs)
            people.append(
                Person(
                    organisation=org,
                    name=f"Deltagare {n} {org.name}",
                    function=EXTRA_FUNCTIONS[n % len(EXTRA_FUNCTIONS)],
                    title="Utvecklare",
                    email=f"deltagare{n}@bench.example.org",
                    created_at=self.now,
                )
            )
        self.session.add_all(people)
        self.session.flush()
        for person in people:
            self.session.add(
                User(
                    email=person.email,
                    name=person.name,
                    role="member",
                    person=person,
                    password_hash=self.password_hash,
                    password_changed_at=self.now,
                    created_at=self.now,
                    active=True,
                )
            )
        self.session.flush()

    # --- the programme ----------------------------------------------------------------------

    def _template(self):
        """The classic model with mentor meetings between the benchmarking meetings and three
        learning seminars for the whole cohort: twelve meetings per group, five per cohort."""
        s = self.session
        source = cohorts.current_template(s, "modellkommuner")
        template = programme.copy_template(
            s, source, name="Modellkommuner med mentorträffar", now=self.now, user_id=None
        )
        s.flush()
        for key, name, scope, count, offset, interval in (
            ("mentoring", "Mentorträff", "group", 9, 3, 4),
            ("learning", "Lärandeseminarium", "cohort", 3, 10, 12),
        ):
            template = programme.save_meeting_kind(
                s,
                template,
                key=None,
                values={
                    "key": key,
                    "name": name,
                    "scope": scope,
                    "count": count,
                    "offset_weeks": offset,
                    "interval_weeks": interval,
                    "duration_hours": 3.0,
                    "prepares_key": None,
                    "audience": None,
                    "description": None,
                },
                now=self.now,
                user_id=None,
            )
        s.flush()
        return template

    def _cohort(self, template, year, members, graduates, *, running: bool) -> Cohort:
        s = self.session
        # The running one started sixteen weeks ago, like the demo's.
        start = to_local(self.now).date() - timedelta(weeks=16) if running else date(year, 2, 5)
        formed = _at(start - timedelta(weeks=8))
        cohort = cohorts.create_cohort(
            s,
            now=formed,
            user_id=None,
            name=NATIONAL_NAME.format(year=start.year, next=(start.year + 1) % 100),
            template=template,
            registration_deadline=start - timedelta(weeks=12),
            starts_on=start,
            ends_on=start + timedelta(weeks=44),
        )
        cohort.status = "forming"
        mentors = graduates[-GROUPS_PER_COHORT:] if graduates else members[:0]
        made = []
        for g in range(GROUPS_PER_COHORT):
            trio = members[g * 3 : g * 3 + 3]
            mentor = [mentors[g]] if mentors else []
            made.append(
                groups.create_group(
                    s,
                    now=formed,
                    user_id=None,
                    cohort=cohort,
                    benchmarking=trio,
                    mentors=mentor,
                    exception_reason="Mätdata: grupperna bildas utan hänsyn till reglerna.",
                )
            )
        cohorts.change_status(s, cohort, "running", now=formed, user_id=None)
        s.flush()
        today = to_local(self.now).date()
        self._hold_meetings(cohort, today)
        for group in made:
            self._work(group, start, today)
        # The scheduler ran while the cohort did: its reminders are history, not due now.
        s.execute(
            sa.update(ScheduledReminder)
            .where(ScheduledReminder.state == "pending", ScheduledReminder.due_at <= self.now)
            .values(state="done")
        )
        if not running:
            ends = _at(cohort.ends_on + timedelta(days=1), 10)
            outcomes = {p.id: cohorts.Outcome(True) for p in cohort.participations}
            cohorts.conclude(s, cohort, outcomes, now=ends, user_id=None)
        s.flush()
        s.commit()
        return cohort

    def _hold_meetings(self, cohort: Cohort, today: date) -> None:
        s = self.session
        for meeting in meetings.meetings_of(s, cohort=cohort):
            if meeting.starts_at is None or to_local(meeting.starts_at).date() >= today:
                continue
            sent = meeting.starts_at - timedelta(weeks=2)
            invitations.send_invitations(s, meeting, now=sent, user_id=None)
            s.flush()
            came = {i.id for i in meeting.invitations if self.rng.random() < 0.85}
            after_meeting.record_attendance(
                s, meeting, came, now=meeting.ends_at or meeting.starts_at, user_id=None
            )
        s.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.created_at < self.now)
            .values(status="sent", sent_at=OutboxMessage.created_at, attempts=1)
        )

    def _work(self, group, start: date, today: date) -> None:
        """A baseline, two pieces of work with their first entries and two indicators with
        their first values for every benchmarking organisation, the first followed by the
        whole group; a mentor session."""
        s = self.session
        last = min(start + timedelta(weeks=40), today)
        # The group follows the first indicator together (the benchmarking view's chart).
        shared = indicators.create_shared(
            s,
            group,
            IndicatorData(name="Nyckeltal 1", unit="antal"),
            now=_at(start + timedelta(weeks=2)),
            user_id=None,
        )
        for participation in group.members("benchmarking"):
            org = participation.organisation
            services.save_baseline(
                s,
                participation,
                now=_at(start + timedelta(weeks=1)),
                user_id=None,
                mandate_decision=f"Beslut i {org.name} om jämställdhetsintegrering.",
                mandate_date=date(start.year - 1, 4, 15),
                responsible="Ledningen, med strategen som processledare.",
                demography=None,
                organisation_text=None,
                goals="Jämställdhetsintegrering av styrning och ledning.",
                priority_areas=None,
                functions=["politician", "manager", "strategist"],
            )
            for w in range(2):
                activity = ACTIVITIES[(org.id + w) % len(ACTIVITIES)]
                work = services.save_work(
                    s,
                    participation,
                    WorkData(
                        title=f"{activity} i {org.name}",
                        core_activity=activity,
                        target_groups=["women_men"],
                        status="ongoing",
                    ),
                    now=_at(start + timedelta(weeks=1)),
                    user_id=None,
                )
                s.flush()
                for step in (1, 2):
                    day = start + timedelta(weeks=2 + 3 * step + w)
                    if day > last:
                        break
                    services.save_entry(
                        s,
                        work,
                        EntryData(
                            entry_date=day,
                            text=f"Steg {step} i arbetet med {activity}.",
                            result_step=step,
                            learned="Det tar tid.",
                            next_steps="Vidare.",
                        ),
                        now=_at(day, 14),
                        user_id=None,
                    )
            for i in range(2):
                indicator = indicators.create_indicator(
                    s,
                    org,
                    IndicatorData(name=f"Nyckeltal {i + 1}", unit="antal"),
                    now=_at(start + timedelta(weeks=2)),
                    user_id=None,
                    shared=shared if i == 0 else None,
                )
                for year in (start.year - 2, start.year - 1):
                    women, men = self.rng.randint(100, 900), self.rng.randint(100, 900)
                    indicators.save_value(
                        s,
                        indicator,
                        period=str(year),
                        women=women,
                        men=men,
                        total=women + men,
                        now=_at(start + timedelta(weeks=2)),
                        user_id=None,
                    )
        mentor = next(iter(group.members("mentor")), None)
        held = start + timedelta(weeks=10)
        if mentor is not None and held <= today:
            mentoring.save_mentor_session(
                s,
                group,
                mentor,
                MentorSessionData(
                    held_on=held,
                    organisation_ids=[p.organisation_id for p in group.members("benchmarking")],
                    topics="Från kartläggning till nytt arbetssätt.",
                    notes=None,
                    follow_ups=None,
                    mode="remote",
                    duration_minutes=90,
                ),
                now=_at(held, 16),
                user_id=None,
            )
        s.flush()

    # --- the bulk ----------------------------------------------------------------------------

    def _bulk_entries(self) -> None:
        """Log entries up to 60,000: each piece of work's log continues, a week apart, never
        after today (the app refuses an entry dated in the future)."""
        s = self.session
        have = s.scalar(sa.select(sa.func.count()).select_from(LogEntry))
        works = s.execute(
            sa.select(ImprovementWork.id, ImprovementWork.created_at).order_by(ImprovementWork.id)
        ).all()
        rows = []
        for n in range(max(LOG_ENTRIES - have, 0)):
            work_id, created = works[n % len(works)]
            weeks = max(1, (min(created + timedelta(weeks=40), self.now) - created).days // 7)
            written = min(created + timedelta(days=7 * (n // len(works) % weeks) + 1), self.now)
            step = 1 + n % 3
            rows.append(
                {
                    "work_id": work_id,
                    "entry_date": to_local(written).date(),
                    "text": f"Arbetet fortsätter (logg {n}).",
                    "result_step": step,
                    "learned": "Uppföljning håller frågan levande.",
                    "next_steps": "Fortsätt.",
                    "expected_results": [],
                    "created_at": written,
                    "version": 1,
                }
            )
        self._insert(LogEntry, rows)

    def _bulk_values(self) -> None:
        """Indicator values up to 80,000: monthly figures back in time."""
        s = self.session
        have = s.scalar(sa.select(sa.func.count()).select_from(IndicatorValue))
        ids = list(s.scalars(sa.select(Indicator.id).order_by(Indicator.id)))
        rows = []
        for n in range(max(INDICATOR_VALUES - have, 0)):
            indicator_id = ids[n % len(ids)]
            months = n // len(ids)
            period = f"{2024 - months // 12}-{12 - months % 12:02d}"
            women, men = self.rng.randint(100, 900), self.rng.randint(100, 900)
            rows.append(
                {
                    "indicator_id": indicator_id,
                    "period": period,
                    "women": women,
                    "men": men,
                    "total": women + men,
                    "source": "manual",
                    "updated_at": self.now,
                }
            )
        self._insert(IndicatorValue, rows)

    def _bulk_outbox(self) -> None:
        """The outbox up to 200,000 rows: a decade of delivered mail."""
        s = self.session
        have = s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        first = datetime(FIRST_YEAR, 1, 1, tzinfo=self.now.tzinfo)
        span = (self.now - first).total_seconds()
        missing = max(OUTBOX_ROWS - have, 0)
        rows = [
            {
                "created_at": first + timedelta(seconds=span * i / max(missing, 1)),
                "kind": "reminder",
                "recipient": f"deltagare{i % USERS + 1}@bench.example.org",
                "subject": "Påminnelse: skriv i loggen",
                "body_text": "Hej! Det är dags att skriva i loggen.",
                "status": "sent",
                "attempts": 1,
                "sent_at": first + timedelta(seconds=span * i / max(missing, 1)),
            }
            for i in range(missing)
        ]
        self._insert(OutboxMessage, rows)

    def _insert(self, model, rows: list[dict]) -> None:
        for start in range(0, len(rows), BATCH):
            self.session.execute(sa.insert(model), rows[start : start + BATCH])
        self.session.commit()
