"""Demo data, part two: a cohort that is running now, so a newcomer sees a living programme.

Its dates are relative to the day the demo is loaded: the kickoff was sixteen weeks ago, the
first benchmarking meeting eight weeks ago (held, with attendance), the second is four weeks
ahead. The organisations have their baselines, improvement work with entries at several
steps of the result chain, a shared indicator per group with values for every organisation,
a mentor session and one approved good example. Everything goes through the services, as a
user's clicks would. The organisations are fictional participants of this round: the names
are real municipalities, the work is made up.
"""

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from modell.cohorts import groups
from modell.cohorts import services as cohorts
from modell.cohorts.models import Cohort, Group
from modell.core.models import OutboxMessage
from modell.core.timeutil import local_to_utc, to_local
from modell.improvements import indicators, mentoring, services
from modell.improvements.indicators import IndicatorData
from modell.improvements.mentoring import MentorSessionData
from modell.improvements.services import EntryData, WorkData
from modell.meetings import after_meeting, invitations
from modell.meetings import services as meetings
from modell.organisations.models import Organisation, Person
from modell.organisations.services import find_reference

LIVING_DESCRIPTION = (
    "Pågående omgång i demodata: uppstarten hölls för fyra månader sedan, grupperna har haft "
    "sin första benchmarkingträff och den andra närmar sig."
)
QUALIFIED = "{mentor} deltog i piloten 2015/16, innan appen fanns, och åtog sig att vara mentor."

# (benchmarking participants, mentor, shared indicator (name, unit), {org: (women, men) x 3})
GROUPS = [
    (
        ["Kalmar", "Karlskrona", "Växjö"],
        "Jönköping",
        ("Beviljad hemtjänst per brukare och månad", "timmar"),
        {
            "Kalmar": ((31.5, 38.0), (32.4, 36.1), (33.6, 34.2)),
            "Karlskrona": ((29.8, 35.5), (30.1, 35.9), (30.6, 35.2)),
            "Växjö": ((34.0, 37.2), (34.4, 36.8), (35.1, 36.0)),
        },
    ),
    (
        ["Gävle", "Hudiksvall", "Sandviken"],
        "Sundsvall",
        ("Deltagare i arbetsmarknadsinsatser", "antal"),
        {
            "Gävle": ((412, 655), (468, 630), (521, 602)),
            "Hudiksvall": ((96, 171), (104, 166), (118, 160)),
            "Sandviken": ((141, 233), (150, 228), (149, 231)),
        },
    ),
]

# organisation: (title, inequality, core activity, goal, sub-goals, target groups, entries)
# entries: (weeks after the kickoff, step, what was done, learned, next steps)
WORK = {
    "Kalmar": (
        "Likvärdig biståndsbedömning i hemtjänsten",
        "Kvinnor beviljas i snitt färre hemtjänsttimmar än män med liknande behov.",
        "Hemtjänst",
        "Inga omotiverade skillnader i hur mycket hemtjänst kvinnor och män beviljas.",
        ["unpaid_care", "health"],
        ["women_men"],
        [
            (
                2,
                1,
                "Kartlade beviljade timmar per kön och behovsnivå för 2023–2025.",
                "Skillnaden var störst för ensamboende över 80 år.",
                "Gå igenom bedömningsstödet med biståndshandläggarna.",
            ),
            (
                6,
                2,
                "Tog fram en ny rutin för behovsbedömning med samma frågor till alla.",
                "Handläggarna ville ha konkreta exempel, inte bara principer.",
                "Pröva rutinen i två handläggargrupper.",
            ),
            (
                11,
                3,
                "Alla biståndshandläggare bedömer nu behov med den nya rutinen.",
                "Uppföljning varje månad i ledningsgruppen håller frågan levande.",
                "Följ upp beviljade timmar per kön efter ett halvår.",
            ),
            (
                14,
                4,
                "Skillnaden i beviljade timmar mellan kvinnor och män har minskat från 6,5 "
                "till 0,6 timmar per månad.",
                "Förändringen syns först när rutinen använts ett helt år.",
                "Presentera resultatet på resultatkonferensen.",
            ),
        ],
    ),
    "Karlskrona": (
        "Jämställd fördelning av föreningsbidrag",
        "Föreningar med flest pojkar får merparten av fritidsbidragen.",
        "Fritid och föreningsliv",
        "Bidragen når flickor och pojkar i lika hög grad.",
        ["economic_equality", "power_influence"],
        ["girls_boys"],
        [
            (
                3,
                1,
                "Räknade ut bidrag per deltagare, uppdelat på flickor och pojkar.",
                "Statistiken fanns men hade aldrig sammanställts per kön.",
                "Ta upp resultatet i kultur- och fritidsnämnden.",
            ),
            (
                9,
                2,
                "Nämnden beslutade om nya riktlinjer för föreningsbidrag.",
                "Politikerna ville se effekterna före beslutet.",
                "Informera föreningarna om de nya riktlinjerna.",
            ),
        ],
    ),
    "Växjö": (
        "Snöröjning i jämställd ordning",
        "Gång- och cykelvägar röjs efter bilvägarna, trots att fler kvinnor går och cyklar.",
        "Gata och park",
        "Snöröjningen prioriterar de vägar som kvinnor och män faktiskt använder.",
        ["health", "economic_equality"],
        ["women_men"],
        [
            (
                4,
                1,
                "Gick igenom resvanor per kön och olycksstatistik vid halka.",
                "Fallolyckor kostar mer än snöröjningen.",
                "Ta fram ett förslag till ny röjningsordning.",
            ),
            (
                12,
                3,
                "Gång- och cykelvägar till skolor och förskolor röjs nu först.",
                "Entreprenören behövde nya kartor, inte bara ett nytt beslut.",
                "Mäta fallolyckor vintern ut.",
            ),
        ],
    ),
    "Gävle": (
        "Fler kvinnor i arbetsmarknadsinsatser",
        "Utrikes födda kvinnor deltar i mindre grad än män i kommunens insatser.",
        "Arbetsmarknadsinsatser",
        "Jämn fördelning av kvinnor och män bland deltagarna.",
        ["economic_equality"],
        ["women_men", "other"],
        [
            (
                2,
                1,
                "Utbildade handläggarna i jämställdhetsintegrering.",
                "Många trodde att insatserna redan var könsneutrala.",
                "Se över hur deltagare rekryteras.",
            ),
            (
                7,
                2,
                "Ny rutin för uppsökande arbete bland föräldralediga.",
                "Samarbete med öppna förskolan når fler.",
                "Börja använda rutinen i alla stadsdelar.",
            ),
            (
                13,
                3,
                "Uppsökande arbete i öppna förskolan är nu en del av ordinarie verksamhet.",
                "Det tar tid att bygga förtroende.",
                "Följ andelen kvinnor bland nya deltagare.",
            ),
        ],
    ),
    "Hudiksvall": (
        "Könsuppdelad statistik i nämndernas uppföljning",
        "Nämndernas uppföljning redovisar sällan resultat för kvinnor och män.",
        "Styrning och uppföljning",
        "All individbaserad statistik i årsredovisningen är könsuppdelad.",
        ["power_influence"],
        ["women_men"],
        [
            (
                5,
                1,
                "Inventerade nyckeltalen i årsredovisningen.",
                "Hälften av de individbaserade nyckeltalen var inte könsuppdelade.",
                "Ta fram en anvisning för budget och uppföljning.",
            ),
        ],
    ),
    "Sandviken": (
        "Jämställd tilldelning av platser i feriearbete",
        "Fler pojkar än flickor får feriearbete inom tekniska verksamheter.",
        "Arbetsmarknadsinsatser",
        "Flickor och pojkar får feriearbete i alla verksamheter.",
        ["economic_equality", "education"],
        ["girls_boys"],
        [
            (
                3,
                1,
                "Sammanställde placeringar i feriearbete per kön och verksamhet.",
                "Ungdomarna söker det de känner till.",
                "Informera på skolorna om alla verksamheter.",
            ),
            (
                10,
                2,
                "Ny annons och informationsmaterial som visar alla yrken.",
                "Bilderna i materialet spelade roll.",
                "Utvärdera sommarens placeringar.",
            ),
        ],
    ),
}

PERIODS = ("2023", "2024", "2025")


def _thursday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() - 3) % 7)


def _at(day: date, hour: int = 9) -> datetime:
    return local_to_utc(day, time(hour, 0))


def add_core_people(session: Session, org: Organisation, now: datetime) -> None:
    """Each organisation brings a politician, a manager and a strategist."""
    if any(p.function == "politician" for p in org.people):
        return
    slug = org.name.lower().translate(str.maketrans("åäöé ", "aaoe-"))
    for function, title in (
        ("politician", "Kommunalråd"),
        ("manager", "Kommundirektör"),
        ("strategist", "Jämställdhetsstrateg"),
    ):
        session.add(
            Person(
                organisation=org,
                name=f"{title} {org.name}",
                function=function,
                title=title,
                email=f"{function}@{slug}.example.org",
                created_at=now,
            )
        )


def living_cohort(session: Session, *, now: datetime) -> Cohort | None:
    """Create the running demo cohort unless it is there (None then)."""
    if session.scalar(sa.select(Cohort).where(Cohort.description == LIVING_DESCRIPTION)):
        return None
    today = to_local(now).date()
    start = _thursday_on_or_before(today - timedelta(weeks=16))
    formed = _at(start - timedelta(weeks=6))
    template = cohorts.current_template(session, "modellkommuner")
    cohort = cohorts.create_cohort(
        session,
        now=formed,
        user_id=None,
        name=f"Modellkommuner {start.year}",
        template=template,
        registration_deadline=start - timedelta(weeks=10),
        starts_on=start,
        ends_on=start + timedelta(weeks=50),
        description=LIVING_DESCRIPTION,
    )
    cohort.status = "forming"
    orgs = {
        name: find_reference(session, "municipality", name)
        for members, mentor, _shared, _values in GROUPS
        for name in [*members, mentor]
    }
    for org in orgs.values():
        add_core_people(session, org, formed)
    session.flush()
    formed_groups = []
    for members, mentor, _shared, _values in GROUPS:
        formed_groups.append(
            groups.create_group(
                session,
                now=formed,
                user_id=None,
                cohort=cohort,
                benchmarking=[orgs[n] for n in members],
                mentors=[orgs[mentor]],
                exception_reason=QUALIFIED.format(mentor=mentor),
            )
        )
    cohorts.change_status(session, cohort, "running", now=formed, user_id=None)
    session.flush()
    _hold_past_meetings(session, cohort, today)
    for group, (members, mentor, shared_def, values) in zip(formed_groups, GROUPS, strict=True):
        _improvement_work(session, cohort, group, members, shared_def, values, start)
        _mentor_session(session, group, orgs[mentor], start)
    _past_reminders(session, now)
    return cohort


def _past_reminders(session: Session, now: datetime) -> None:
    """The scheduler ran while the cohort did: what came due before today was processed at
    its time (and its mail delivered then)."""
    from flask import current_app

    from modell.reminders import services as reminders
    from modell.reminders.models import ScheduledReminder

    session.flush()
    instants = sorted(
        set(
            session.scalars(
                sa.select(ScheduledReminder.due_at).where(
                    ScheduledReminder.state == "pending", ScheduledReminder.due_at <= now
                )
            )
        )
    )
    for instant in instants:
        summary = reminders.process(session, instant, current_app.config)
        if summary.messages:
            session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(summary.messages))
                .values(status="sent", sent_at=instant, attempts=1)
            )


AGENDA = """1. Välkomna och presentation av värdorganisationen
2. Nuläget: vad har hänt sedan senaste träffen?
3. Erfarenhetsutbyte kring förbättringsarbetet och nyckeltalen
4. Analys: vad kan vi lära och föra över till oss?
5. Förbättringsmål till nästa träff
6. Plus – Minus – Intressant och datum för nästa träff"""
COHORT_AGENDA = """1. Välkomna: programmet och året som kommer
2. Jämställdhetsintegrering av styrning och ledning
3. Grupperna möts och planerar sina benchmarkingträffar
4. Förbättringsarbete och könsuppdelade nyckeltal mellan träffarna"""
COHORT_MINUTES = """SKR presenterade programmet. Grupperna bestämde datum och värdar för sina tre
benchmarkingträffar."""
MINUTES = """Alla organisationer redovisade sitt förbättringsarbete. Samtalet handlade om hur
könsuppdelad statistik kan följas upp i verksamhetsplanen."""
DECISIONS = "Nästa träff hålls enligt schemat. Varje organisation tar med ett nyckeltal."

# Plus – Minus – Intressant that the demo's people gave on a held meeting.
FEEDBACK = {
    "strateg@kalmar.example.org": (
        "Konkreta exempel från hemtjänsten.",
        "För lite tid till analysen.",
        "Växjös sätt att redovisa nyckeltalen.",
    ),
    "mentor@jonkoping.example.org": (
        "Alla tre funktionerna var med.",
        None,
        "Hur styrdokumenten kan bära jämställdhetsmålen.",
    ),
}


def give_feedback(session: Session, *, now: datetime) -> None:
    """The demo's people gave their Plus – Minus – Intressant on the latest held meeting of
    their group (called once their accounts exist)."""
    from modell.auth.models import User
    from modell.meetings.models import Meeting, PmiFeedback

    cohort = session.scalar(sa.select(Cohort).where(Cohort.description == LIVING_DESCRIPTION))
    if cohort is None:
        return
    for email, (plus, minus, interesting) in FEEDBACK.items():
        user = session.scalar(sa.select(User).where(User.email == email))
        if user is None or user.person is None:
            continue
        group = next(
            (
                g
                for g in cohort.groups
                if any(p.organisation_id == user.person.organisation_id for p in g.participations)
            ),
            None,
        )
        if group is None:
            continue
        held = session.scalar(
            sa.select(Meeting)
            .where(Meeting.group_id == group.id, Meeting.starts_at < now)
            .order_by(Meeting.starts_at.desc())
            .limit(1)
        )
        if held is None or session.scalar(
            sa.select(PmiFeedback).where(
                PmiFeedback.meeting_id == held.id, PmiFeedback.user_id == user.id
            )
        ):
            continue
        after_meeting.save_pmi(
            session,
            held,
            user,
            plus=plus,
            minus=minus,
            interesting=interesting,
            now=held.ends_at or held.starts_at,
        )


def _hold_past_meetings(session: Session, cohort: Cohort, today: date) -> None:
    """Invitations went out two weeks before each past meeting (delivered then) and the
    host recorded who came: everyone but one politician per group."""
    for meeting in meetings.meetings_of(session, cohort=cohort):
        if meeting.starts_at is None:
            continue
        whole_cohort = meeting.group is None  # the kickoff and the result conference
        meeting.agenda = COHORT_AGENDA if whole_cohort else AGENDA
        meeting.location = (
            "SKR, Hornsgatan 20, Stockholm"
            if whole_cohort
            else f"Stadshuset, {meeting.host.seat or meeting.host.name}"
        )
        if to_local(meeting.starts_at).date() >= today:
            continue
        # The host (SKR for the whole cohort) worked through the checklist and wrote down
        # what was decided; the note taker is a strategist of the host, or of the cohort.
        for key in meetings.CHECKLIST_FIELDS:
            setattr(meeting, key, True)
        people = (
            meeting.host.people
            if meeting.host is not None
            else [p for part in cohort.participations for p in part.organisation.people]
        )
        meeting.note_taker_id = next((p.id for p in people if p.function == "strategist"), None)
        meeting.minutes = COHORT_MINUTES if whole_cohort else MINUTES
        meeting.decisions = None if whole_cohort else DECISIONS
        sent = meeting.starts_at - timedelta(weeks=2)
        invitations.send_invitations(session, meeting, now=sent, user_id=None)
        session.flush()
        session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.created_at == sent)
            .values(status="sent", sent_at=sent, attempts=1)
        )
        absent_politician = meeting.group is not None
        attended = set()
        for invitation in meeting.invitations:
            if absent_politician and invitation.person.function == "politician":
                absent_politician = False
                continue
            attended.add(invitation.id)
        after_meeting.record_attendance(
            session, meeting, attended, now=meeting.ends_at or meeting.starts_at, user_id=None
        )


def _improvement_work(
    session: Session,
    cohort: Cohort,
    group: Group,
    members: list[str],
    shared_def: tuple[str, str],
    values: dict[str, tuple],
    start: date,
) -> None:
    agreed = _at(start + timedelta(weeks=8))
    shared = indicators.create_shared(
        session,
        group,
        IndicatorData(name=shared_def[0], unit=shared_def[1]),
        now=agreed,
        user_id=None,
    )
    by_name = {p.organisation.name: p for p in group.members("benchmarking")}
    for name in members:
        participation = by_name[name]
        org = participation.organisation
        services.save_baseline(
            session,
            participation,
            now=_at(start + timedelta(weeks=1)),
            user_id=None,
            mandate_decision=f"Kommunfullmäktige i {name} undertecknade CEMR-deklarationen.",
            mandate_date=date(start.year - 3, 4, 15),
            responsible="Kommundirektören, med jämställdhetsstrategen som processledare.",
            demography=f"{name} har omkring lika många kvinnor som män bland invånarna.",
            organisation_text="Nämnder och förvaltningar; kommunstyrelsen samordnar arbetet.",
            goals="Jämställdhetsintegrering av styrning och ledning i hela organisationen.",
            priority_areas="Förbättringsarbetet nedan, och könsuppdelad statistik i uppföljningen.",
            functions=["politician", "manager", "strategist"],
        )
        own = indicators.own_for_shared(session, shared, org, now=agreed, user_id=None)
        for period, (women, men) in zip(PERIODS, values[name], strict=True):
            indicators.save_value(
                session,
                own,
                period=period,
                women=women,
                men=men,
                total=women + men if shared_def[1] == "antal" else None,
                now=agreed,
                user_id=None,
            )
        session.flush()
        title, problem, activity, goal, subgoals, targets, entries = WORK[name]
        work = services.save_work(
            session,
            participation,
            WorkData(
                title=title,
                description=problem,
                core_activity=activity,
                target_groups=targets,
                target_groups_other="Utrikes födda kvinnor" if "other" in targets else None,
                goal=goal,
                subgoals=subgoals,
                owner=f"Jämställdhetsstrateg {name}",
                status="ongoing",
            ),
            now=_at(start + timedelta(weeks=1)),
            user_id=None,
        )
        session.flush()
        for weeks, step, text, learned, next_steps in entries:
            written = _at(start + timedelta(weeks=weeks), 14)
            entry = services.save_entry(
                session,
                work,
                EntryData(
                    entry_date=to_local(written).date(),
                    text=text,
                    result_step=step,
                    learned=learned,
                    next_steps=next_steps,
                    indicator_id=own.id if step == 4 else None,
                    expected_results=(
                        ["core_activity"] if step == 3 else ["indicators"] if step == 4 else []
                    ),
                ),
                now=written,
                user_id=None,
            )
            session.flush()
            if step == 4:
                services.propose_good_example(session, entry, now=written, user_id=None)
                services.decide_good_example(
                    session, entry, approve=True, now=written + timedelta(days=1), user_id=None
                )


def _mentor_session(session: Session, group: Group, mentor: Organisation, start: date) -> None:
    participation = mentoring.mentor_participation(group, mentor.id)
    held = start + timedelta(weeks=10)
    mentoring.save_mentor_session(
        session,
        group,
        participation,
        MentorSessionData(
            held_on=held,
            organisation_ids=[p.organisation_id for p in group.members("benchmarking")],
            topics="Hur man går från kartläggning till ett nytt arbetssätt (steg 3).",
            notes="Börja smått: pröva rutinen i en grupp och följ upp varje månad.",
            follow_ups="Varje organisation väljer ett nyckeltal att följa till nästa träff.",
            mode="remote",
            duration_minutes=90,
        ),
        now=_at(held, 16),
        user_id=None,
    )
