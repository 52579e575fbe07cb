"""Meetings: the schedule, hosts, the checklist, invitations that arrive with calendar
entries that stay in step, answers, attendance by function, documents, PMI and feeds."""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest
import sqlalchemy as sa

from modell.auth.models import User
from modell.cohorts import groups
from modell.cohorts import services as cohorts
from modell.cohorts.models import Cohort
from modell.core.errors import RuleViolation
from modell.core.files import FolderStore
from modell.core.timeutil import to_local
from modell.demo import COHORT_NAME
from modell.extensions import db
from modell.meetings import after_meeting, invitations, listing, services
from modell.meetings.models import Invitation, Meeting
from modell.organisations.models import Organisation, Person
from tests.conftest import DEMO, csrf_from, login, post_form

START = datetime(2019, 1, 20, 9, tzinfo=UTC)


def start_demo(now=START) -> Cohort:
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME))
    cohorts.change_status(db.session, cohort, "running", now=now, user_id=None)
    db.session.flush()
    return cohort


def group_meeting(cohort, member, number=1) -> Meeting:
    group = next(g for g in cohort.groups if member in g.name)
    return db.session.scalar(
        sa.select(Meeting).where(Meeting.group_id == group.id, Meeting.number == number)
    )


def calendar_of(message) -> icalendar.Calendar:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def only_event(cal):
    (event,) = [c for c in cal.walk("VEVENT")]
    return event


def test_starting_the_2019_cohort_makes_kickoff_three_meetings_per_group_and_the_conference(
    app, ctx
):
    cohort = start_demo()
    meetings = services.meetings_of(db.session, cohort=cohort)
    kinds = [m.kind.key for m in meetings]
    assert kinds.count("kickoff") == 1 and kinds.count("result_conference") == 1
    assert kinds.count("benchmarking") == 18
    kickoff = next(m for m in meetings if m.kind.key == "kickoff")
    assert kickoff.group_id is None and kickoff.host_organisation_id is None
    # Proposed at 10:00 Swedish time on the start date, stored in UTC (09:00 in winter).
    assert to_local(kickoff.starts_at).date() == date(2019, 2, 7)
    assert to_local(kickoff.starts_at).time() == time(10, 0)
    assert kickoff.starts_at.astimezone(UTC).hour == 9
    # The host rotates among the group's participants.
    hosts = [group_meeting(cohort, "Nordmaling", n).host.name for n in (1, 2, 3)]
    assert hosts == ["Nordmaling", "Robertsfors", "Örnsköldsvik"]
    # Starting again makes nothing new.
    assert services.generate_schedule(db.session, cohort, now=START) == []


def test_the_proposed_schedule_avoids_weekends_holidays_christmas_and_july(app, ctx):
    """Whatever day a cohort starts on, no meeting is proposed on a Saturday or Sunday, a
    Swedish public holiday or midsummer eve, between 20 December and 6 January, or in July;
    a cohort whose result conference would fall on Christmas Eve gets it after Epiphany."""
    import holidays

    from modell.meetings.workdays import is_meeting_day

    assert not is_meeting_day(date(2026, 12, 24)) and not is_meeting_day(date(2027, 6, 25))
    assert not is_meeting_day(date(2027, 7, 14)) and is_meeting_day(date(2027, 8, 2))
    template = cohorts.current_template(db.session, "modellkommuner")
    conference = next(k for k in template.meeting_kinds if k.key == "result_conference")
    christmas_eve = date(2027, 12, 24)
    starts = christmas_eve - timedelta(weeks=conference.offset_weeks)
    swedish = holidays.country_holidays("SE", years=range(2026, 2030))
    for n, first_day in enumerate(
        [starts, *(starts + timedelta(days=9 * i) for i in range(1, 12))]
    ):
        cohort = cohorts.create_cohort(
            db.session, now=START, user_id=None, name=f"Schema {n}", template=template,
            starts_on=first_day, registration_deadline=None,
        )  # fmt: skip
        db.session.flush()
        meetings = services.generate_schedule(db.session, cohort, now=START)
        days = [to_local(m.starts_at).date() for m in meetings if m.starts_at]
        assert days, first_day
        for day in days:
            if day == first_day:
                continue  # the kickoff is on the day the coordinator chose
            assert day.weekday() < 5 and day not in swedish and day.month != 7, (first_day, day)
            assert not (day.month == 12 and day.day >= 20) and not (day.month == 1 and day.day <= 6)
        if n == 0:  # no end date: after Epiphany
            (moved,) = [m for m in meetings if m.kind.key == "result_conference"]
            assert to_local(moved.starts_at).date() == date(2028, 1, 7)
    # A cohort that ends on 15 December 2027 has its result conference before the end.
    ending = cohorts.create_cohort(
        db.session, now=START, user_id=None, name="Schema med slut", template=template,
        starts_on=starts, ends_on=date(2027, 12, 15), registration_deadline=None,
    )  # fmt: skip
    db.session.flush()
    made = services.generate_schedule(db.session, ending, now=START)
    (conference,) = [m for m in made if m.kind.key == "result_conference"]
    assert to_local(conference.starts_at).date() == date(2027, 12, 15)  # a Wednesday
    assert all(to_local(m.starts_at).date() <= date(2027, 12, 15) for m in made if m.starts_at)


def test_a_group_formed_after_the_start_gets_its_meetings_and_nothing_else_changes(app, ctx):
    cohort = start_demo()
    before = {
        m.id: (m.starts_at, m.ical_sequence)
        for m in services.meetings_of(db.session, cohort=cohort)
    }
    orgs = [
        db.session.scalar(sa.select(Organisation).where(Organisation.name == n))
        for n in ("Kumla", "Hallsberg")
    ]
    group = groups.create_group(
        db.session, now=START, user_id=None, cohort=cohort, benchmarking=orgs
    )
    db.session.flush()
    new = services.meetings_of(db.session, group=group)
    assert [(m.kind.key, m.number, m.host.name) for m in new] == [
        ("benchmarking", 1, "Hallsberg"),
        ("benchmarking", 2, "Kumla"),
        ("benchmarking", 3, "Hallsberg"),
    ]
    after = services.meetings_of(db.session, cohort=cohort)
    assert len(after) == len(before) + 3
    assert all((m.starts_at, m.ical_sequence) == before[m.id] for m in after if m.id in before)


def test_the_two_year_concept_prepares_each_meeting_with_the_strategists(app, ctx):
    template = cohorts.current_template(db.session, "modellkoncept")
    cohort = cohorts.create_cohort(
        db.session,
        now=START,
        user_id=None,
        name="Modellkoncept 2023",
        template=template,
        registration_deadline=date(2022, 12, 1),
        starts_on=date(2023, 2, 1),
    )
    cohort.status = "forming"
    orgs = [
        db.session.scalar(sa.select(Organisation).where(Organisation.name == n))
        for n in ("Kumla", "Hallsberg")
    ]
    groups.create_group(db.session, now=START, user_id=None, cohort=cohort, benchmarking=orgs)
    for org in orgs:
        for function in ("politician", "strategist"):
            db.session.add(
                Person(
                    organisation=org,
                    name=f"{function} {org.name}",
                    function=function,
                    email=f"{function}@{org.id}.example.org",
                    created_at=START,
                )
            )
    cohorts.change_status(db.session, cohort, "running", now=START, user_id=None)
    meetings = services.meetings_of(db.session, cohort=cohort)
    prep = [m for m in meetings if m.kind.key == "strategist_preparation"]
    bench = [m for m in meetings if m.kind.key == "benchmarking"]
    assert [m.host_organisation_id for m in prep] == [m.host_organisation_id for m in bench]
    assert all(p.starts_at < b.starts_at for p, b in zip(prep, bench, strict=True))
    assert {p.function for p in invitations.invitees(db.session, prep[0])} == {"strategist"}
    assert len([m for m in meetings if m.kind.key == "learning"]) == 3


def test_the_checklist_shows_what_is_late(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    start = to_local(meeting.starts_at).date()
    on_time = {i.key: i.late for i in services.checklist(meeting, start - timedelta(days=30))}
    assert not any(on_time.values())
    late = {i.key: i.late for i in services.checklist(meeting, start - timedelta(days=13))}
    assert late["invitation"] and late["venue_booked"] and not late["note_taker"]
    meeting.venue_booked = True
    meeting.invitation_sent_at = START
    done = {i.key: i.late for i in services.checklist(meeting, start - timedelta(days=13))}
    assert not done["invitation"] and not done["venue_booked"]


def test_once_held_only_what_falls_due_after_the_meeting_can_be_late(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    start = to_local(meeting.starts_at).date()
    week_after = start + timedelta(days=8)
    planned = {i.key for i in services.checklist(meeting, week_after) if i.late}
    assert {"venue_booked", "invitation", "note_taker", "next_meeting_set"} <= planned
    meeting.status = "held"
    held = {i.key for i in services.checklist(meeting, week_after) if i.late}
    assert held == {"next_meeting_set"}
    assert not any(i.late for i in services.checklist(meeting, start + timedelta(days=3)))
    meeting.status = "cancelled"
    assert not any(i.late for i in services.checklist(meeting, week_after))


def test_the_invitation_arrives_with_a_calendar_entry_and_updates_keep_its_uid(mail_app, smtp):
    with mail_app.app_context():
        meeting = group_meeting(start_demo(), "Botkyrka")
        invited = {p.email for p in invitations.invitees(db.session, meeting)}
        assert "strateg@botkyrka.example.org" in invited and "mentor@uppsala.example.org" in invited
        invitations.send_invitations(
            db.session, meeting, now=START, user_id=None, sender="modell@example.org"
        )
        db.session.commit()
        uid = meeting.ical_uid
        leads = set(invitations.project_lead_emails(db.session, meeting.cohort))

        messages = smtp.wait_for(len(invited) + len(leads))
        assert len(messages) == len(invited) + len(leads)
        by_to = {m["To"]: m for m in messages}
        assert set(by_to) == invited | leads
        body = by_to["mentor@uppsala.example.org"].get_body(("plain",)).get_content()
        assert f"http://127.0.0.1/moten/{meeting.id}" in body  # where to answer
        # The time as Språkrådet writes it, not "2019-03-14 10:00–16:00".
        from modell.core import dates

        assert f"När: {dates.span(meeting.starts_at, meeting.ends_at, 'sv')}" in body
        first = calendar_of(by_to["mentor@uppsala.example.org"])
        assert str(first["method"]) == "REQUEST"
        event = only_event(first)
        assert (str(event["uid"]), int(event["sequence"])) == (uid, 0)
        assert event.decoded("dtstart") == meeting.starts_at
        assert by_to[next(iter(leads))]["Subject"].startswith("Kopia av inbjudan")

        # Moving the meeting tells everyone: same UID, higher SEQUENCE.
        local = to_local(meeting.starts_at)
        services.update_meeting(
            db.session,
            meeting,
            services.MeetingChange(
                day=local.date() + timedelta(days=1),
                start=time(13),
                end=time(16),
                location="Stadshuset, Botkyrka",
                video_link=None,
                agenda=None,
                accessibility_info=None,
            ),
            now=START,
            user_id=None,
            expected_version=meeting.version,
            sender="modell@example.org",
        )
        db.session.commit()
        updates = smtp.wait_for(len(messages) + len(invited))[len(messages) :]
        assert len(updates) == len(invited)
        event = only_event(calendar_of(updates[0]))
        assert (str(event["uid"]), int(event["sequence"])) == (uid, 1)
        assert to_local(event.decoded("dtstart")).hour == 13
        assert str(event["location"]) == "Stadshuset, Botkyrka"
        # The entry leads back to the meeting at the address the app is served on.
        assert str(event["url"]) == f"http://127.0.0.1/moten/{meeting.id}"
        assert f"http://127.0.0.1/moten/{meeting.id}" in str(event["description"])

        services.cancel_meeting(
            db.session,
            meeting,
            reason="Sjukdom",
            now=START,
            user_id=None,
            sender="modell@example.org",
        )
        db.session.commit()
        cancels = smtp.wait_for(len(messages) + 2 * len(invited))[len(messages) + len(invited) :]
        cal = calendar_of(cancels[0])
        assert str(cal["method"]) == "CANCEL"
        event = only_event(cal)
        assert (str(event["uid"]), int(event["sequence"]), str(event["status"])) == (
            uid,
            2,
            "CANCELLED",
        )


def test_a_change_that_does_not_move_the_meeting_sends_nothing(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    invitations.send_invitations(db.session, meeting, now=START, user_id=None)
    db.session.flush()
    local = to_local(meeting.starts_at)
    informed = services.update_meeting(
        db.session,
        meeting,
        services.MeetingChange(
            day=local.date(),
            start=local.time(),
            end=to_local(meeting.ends_at).time(),
            location=None,
            video_link=None,
            agenda="# Dagordning",
            accessibility_info=None,
        ),
        now=START,
        user_id=None,
    )
    assert not informed and meeting.ical_sequence == 0
    with pytest.raises(RuleViolation):
        services.update_meeting(
            db.session,
            meeting,
            services.MeetingChange(
                day=local.date(),
                start=time(15),
                end=time(14),
                location=None,
                video_link=None,
                agenda=None,
                accessibility_info=None,
            ),
            now=START,
            user_id=None,
        )


def test_attendance_is_shown_by_function_per_organisation_and_meeting(app, ctx):
    cohort = start_demo()
    meeting = group_meeting(cohort, "Botkyrka")
    invitations.send_invitations(db.session, meeting, now=START, user_id=None)
    db.session.flush()
    came = {
        i.id
        for i in meeting.invitations
        if i.person.organisation.name == "Botkyrka" and i.person.function != "politician"
    }
    with pytest.raises(RuleViolation):
        after_meeting.record_attendance(db.session, meeting, came, now=START, user_id=None)
    after_meeting.record_attendance(db.session, meeting, came, now=meeting.starts_at, user_id=None)
    rows = {
        r.organisation: r
        for r in after_meeting.attendance_by_function([meeting], meeting.group.participations)
    }
    assert rows["Botkyrka"].by_meeting[meeting.id] == {
        "politician": False,
        "manager": True,
        "strategist": True,
    }
    assert rows["Västerås"].by_meeting[meeting.id] == {
        "politician": False,
        "manager": False,
        "strategist": False,
    }
    assert meeting.status == "held"


def test_the_cohort_page_sums_attendance_by_function_per_organisation(app):
    with app.app_context():
        cohort = start_demo()
        meeting = group_meeting(cohort, "Botkyrka")
        invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        db.session.flush()
        came = {i.id for i in meeting.invitations if i.person.function == "strategist"}
        after_meeting.record_attendance(
            db.session, meeting, came, now=meeting.starts_at, user_id=None
        )
        db.session.commit()
        cohort_id = cohort.id
    client = app.test_client()
    login(client, DEMO["coordinator"])
    html = client.get(f"/moten/omgang/{cohort_id}").get_data(True)
    row = html[html.index('<th scope="row">Botkyrka') :]
    row = row[: row.index("</tr>")]
    assert [c.split("</td>")[0] for c in row.split("<td>")[1:]] == ["0 av 1", "0 av 1", "1 av 1"]


def test_attendance_counted_in_the_database_follows_the_rule_of_who_a_meeting_is_for(app, ctx):
    """The cohort's summary counts in SQL (invitations.is_for); it must agree with
    invitations.meetings_for read from the invitations themselves: group meetings and the
    cohort-wide ones, an organisation that withdrew, someone who came to some only."""
    import random

    cohort = start_demo()
    rng = random.Random(7)
    meetings = [m for m in services.meetings_of(db.session, cohort=cohort) if m.starts_at]
    chosen = [m for m in meetings if m.group_id is None][:2] + [
        m for m in meetings if m.group_id is not None
    ][:8]
    assert any(m.group_id is None for m in chosen) and len(chosen) == 10
    for m in chosen:
        invitations.send_invitations(db.session, m, now=START, user_id=None)
        db.session.flush()
        came = {i.id for i in m.invitations if rng.random() < 0.6}
        after_meeting.record_attendance(db.session, m, came, now=m.starts_at, user_id=None)
    withdrawn = next(p for p in cohort.participations if p.group_id == chosen[-1].group_id)
    withdrawn.status = "withdrawn"
    db.session.flush()

    held = [m for m in meetings if m.status == "held"]
    counted = after_meeting.attendance_counted(db.session, cohort.id)
    invited = invitations.counted_for(cohort.participations, held)
    assert invited == {p.id: len(invitations.meetings_for(p, held)) for p in cohort.participations}
    for p in cohort.participations:
        mine = invitations.meetings_for(p, held)
        expected = {
            f: (
                sum(
                    1
                    for m in mine
                    if any(
                        i.attended
                        and i.person.organisation_id == p.organisation_id
                        and i.person.function == f
                        for i in m.invitations
                    )
                ),
                len(mine),
            )
            for f in ("politician", "manager", "strategist")
        }
        assert after_meeting.attendance_counts(p, invited[p.id], counted) == expected, (
            p.organisation.name
        )
    assert after_meeting.attendance_counts(withdrawn, invited[withdrawn.id], counted)[
        "strategist"
    ] == (0, 0)
    assert any(
        sum(c[0] for c in after_meeting.attendance_counts(p, invited[p.id], counted).values())
        for p in cohort.participations
    )


def test_the_personal_feed_has_exactly_the_persons_meetings_and_can_be_revoked(app, ctx):
    cohort = start_demo()
    mine = group_meeting(cohort, "Botkyrka")
    other = group_meeting(cohort, "Askersund")
    for m in (mine, other):
        invitations.send_invitations(db.session, m, now=START, user_id=None)
    user = db.session.scalar(sa.select(User).where(User.email == DEMO["mentor"]))
    token = services.renew_feed(db.session, user, now=START)
    db.session.commit()
    client = app.test_client()
    response = client.get(f"/moten/kalender/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.data)
    assert [str(e["uid"]) for e in cal.walk("VEVENT")] == [mine.ical_uid]
    (event,) = cal.walk("VEVENT")
    if mine.agenda:
        assert mine.agenda.strip() in str(event["description"])
    assert str(event["url"]).endswith(f"/moten/{mine.id}")
    newer = services.renew_feed(db.session, user, now=START)
    db.session.commit()
    assert client.get(f"/moten/kalender/{token}.ics").status_code == 404
    assert client.get(f"/moten/kalender/{newer}.ics").status_code == 200
    services.revoke_feed(db.session, user, now=START)
    db.session.commit()
    assert client.get(f"/moten/kalender/{newer}.ics").status_code == 404


def test_documents_keep_to_their_types_and_sizes_and_live_outside_the_database(app, ctx, tmp_path):
    meeting = group_meeting(start_demo(), "Botkyrka")
    folder = tmp_path / "files"
    store = FolderStore(folder)
    doc = after_meeting.store_document(
        db.session,
        meeting,
        filename="../../minnes.pdf",
        content=b"%PDF-1.4",
        store=store,
        max_bytes=100,
        now=START,
        user_id=None,
    )
    assert doc.filename == "minnes.pdf" and (folder / doc.stored_name).read_bytes() == b"%PDF-1.4"
    assert Path(doc.stored_name).parent == Path(".")
    with pytest.raises(RuleViolation, match="typ"):
        after_meeting.store_document(
            db.session,
            meeting,
            filename="virus.exe",
            content=b"MZ",
            store=store,
            max_bytes=100,
            now=START,
            user_id=None,
        )
    with pytest.raises(RuleViolation, match="MB"):
        after_meeting.store_document(
            db.session,
            meeting,
            filename="stor.pdf",
            content=b"x" * 101,
            store=store,
            max_bytes=100,
            now=START,
            user_id=None,
        )


def test_pmi_is_one_per_person_and_meeting_and_not_empty(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    after = meeting.starts_at + timedelta(hours=6)
    user = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))
    with pytest.raises(RuleViolation):
        after_meeting.save_pmi(
            db.session, meeting, user, plus=" ", minus=None, interesting=None, now=after
        )
    after_meeting.save_pmi(
        db.session, meeting, user, plus="Bra samtal", minus=None, interesting=None, now=after
    )
    after_meeting.save_pmi(
        db.session,
        meeting,
        user,
        plus="Bra samtal",
        minus="För kort",
        interesting="Västerås uppföljning",
        now=after,
    )
    db.session.flush()
    (feedback,) = after_meeting.pmi_for(db.session, [meeting])[meeting.id]
    assert (feedback.minus, feedback.interesting) == ("För kort", "Västerås uppföljning")


def test_the_host_sets_the_time_in_swedish_time_and_the_agenda_is_sanitised(app):
    with app.app_context():
        meeting_id = group_meeting(start_demo(), "Botkyrka").id
        db.session.commit()
    client = app.test_client()
    login(client, DEMO["participant"])  # Botkyrka hosts
    url = f"/moten/{meeting_id}/andra"
    page = client.get(url).get_data(True)
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    response = post_form(
        client,
        url,
        {
            "version": version,
            "day": "2019-06-27",
            "start": "09:30",
            "end": "15:00",
            "location": "Tumba",
            "agenda": "# Dagordning\n\n- Nuläget\n\n<script>alert(1)</script>",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.starts_at == datetime(2019, 6, 27, 7, 30, tzinfo=UTC)  # summer: UTC+2
    html = client.get(f"/moten/{meeting_id}").get_data(True)
    assert "<h1>Dagordning</h1>" in html or "<h1>Dagordning" in html
    assert "<script>alert(1)</script>" not in html
    # An end before the start is refused beside the field, with what was typed kept.
    page = client.get(url).get_data(True)
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    response = post_form(
        client,
        url,
        {
            "version": str(version),
            "day": "2019-06-27",
            "start": "15:00",
            "end": "09:00",
            "location": "Tumba",
        },
    )
    html = response.get_data(True)
    assert 'id="end-error"' in html and 'value="Tumba"' in html


def test_people_without_an_account_answer_from_the_link_in_their_invitation(mail_app, smtp):
    mail_app.config["CLOCK"] = lambda: START  # before the meeting: the link works
    with mail_app.app_context():
        meeting = group_meeting(start_demo(), "Botkyrka")
        count = invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        db.session.commit()
        meeting_id = meeting.id
    politician = next(
        m for m in smtp.wait_for(count) if m["To"] == "politician@vasteras.example.org"
    )
    body = politician.get_body(("plain",)).get_content()
    link = next(w for w in body.split() if "/moten/svar/" in w)
    path = link.replace("http://127.0.0.1", "")

    client = mail_app.test_client()  # not logged in
    page = client.get(path)
    assert page.status_code == 200 and "Kommer du?" in page.get_data(True)
    response = post_form(client, path, {"response": "yes", "diet": "Glutenfri"})
    assert response.status_code == 302
    with mail_app.app_context():
        invitation = next(
            i
            for i in db.session.get(Meeting, meeting_id).invitations
            if i.person.email == "politician@vasteras.example.org"
        )
        assert (invitation.response, invitation.diet) == ("yes", "Glutenfri")
    # A link that was tampered with leads nowhere.
    assert client.get(path[:-3] + "abc").status_code == 404


def test_the_copy_goes_to_the_cohorts_project_lead_when_one_is_named(app):
    client = app.test_client()
    login(client, DEMO["coordinator"])
    with app.app_context():
        cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == COHORT_NAME))
        everyone = set(invitations.project_lead_emails(db.session, cohort))
        admin_id = db.session.scalar(sa.select(User.id).where(User.email == DEMO["admin"]))
        cohort_id, template_id = cohort.id, cohort.template_id
    url = f"/omgangar/{cohort_id}/andra"
    page = client.get(url).get_data(True)
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    response = post_form(
        client,
        url,
        {
            "version": version,
            "name": COHORT_NAME,
            "template_id": str(template_id),
            "registration_deadline": "2018-10-30",
            "starts_on": "2019-02-07",
            "ends_on": "2019-12-31",
            "project_lead_id": str(admin_id),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        assert everyone == {DEMO["coordinator"]}
        assert invitations.project_lead_emails(db.session, cohort) == [DEMO["admin"]]


def test_the_cohort_calendar_shows_the_coming_meetings_first_and_filters(app):
    """Coming meetings first, soonest first, then the earlier ones, latest first; a member
    can keep only its organisation's meetings, anyone only those with something late."""
    with app.test_request_context():
        cohort = start_demo()
        db.session.commit()
        cohort_id = cohort.id
        meetings = services.meetings_of(db.session, cohort=cohort)
        dated = sorted((m for m in meetings if m.starts_at), key=lambda m: m.starts_at)
        middle = dated[len(dated) // 2].starts_at
        checklists = {m.id: services.checklist(m, to_local(middle).date()) for m in meetings}
        meetings = [listing.row_of(m) for m in meetings]
        by_id = {m.id: m for m in services.meetings_of(db.session, cohort=cohort)}
        coming, earlier = services.calendar_order(meetings, checklists, now=middle)
        assert all(m.starts_at >= middle for m in coming if m.starts_at)
        assert [m.starts_at for m in coming if m.starts_at] == sorted(
            m.starts_at for m in coming if m.starts_at
        )
        assert [m.starts_at for m in earlier] == sorted(
            (m.starts_at for m in earlier), reverse=True
        )
        assert len(coming) + len(earlier) == len(meetings)
        late, _ = services.calendar_order(
            meetings, checklists, now=dated[0].starts_at, only_late=True
        )
        assert all(any(i.late for i in checklists[m.id]) for m in late)
        botkyrka = db.session.scalar(
            sa.select(Organisation.id).where(Organisation.name == "Botkyrka")
        )
        mine, _ = services.calendar_order(meetings, checklists, now=START, organisation_id=botkyrka)
        assert mine and all(
            by_id[m.id].group is None
            or any(p.organisation_id == botkyrka for p in by_id[m.id].group.participations)
            for m in mine
        )
    app.config["CLOCK"] = lambda: middle
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get(f"/moten/omgang/{cohort_id}").get_data(True)
    assert page.index("Kommande träffar") < page.index("Tidigare träffar")
    member = app.test_client()
    login(member, DEMO["participant"])
    assert 'name="mina"' in member.get(f"/moten/omgang/{cohort_id}").get_data(True)
    assert member.get(f"/moten/omgang/{cohort_id}?mina=1&forsenat=1").status_code == 200


def test_pmi_is_feedback_on_a_meeting_that_has_begun(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    user = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))
    before = meeting.starts_at - timedelta(minutes=1)
    with pytest.raises(RuleViolation, match="börjat"):
        after_meeting.save_pmi(
            db.session, meeting, user, plus="Bra", minus=None, interesting=None, now=before
        )
    assert not after_meeting.pmi_for(db.session, [meeting])[meeting.id]
    after_meeting.save_pmi(
        db.session, meeting, user, plus="Bra", minus=None, interesting=None,
        now=meeting.starts_at,
    )  # fmt: skip
    assert len(after_meeting.pmi_for(db.session, [meeting])[meeting.id]) == 1


def test_a_coming_meeting_offers_no_feedback_form_yet(app):
    from modell.demo_living import LIVING_DESCRIPTION
    from tests.conftest import login

    with app.app_context():
        cohort = db.session.scalar(
            sa.select(Cohort).where(Cohort.description == LIVING_DESCRIPTION)
        )
        group = next(g for g in cohort.groups if "Kalmar" in g.name)
        coming, held = (
            db.session.scalar(
                sa.select(Meeting).where(Meeting.group_id == group.id, Meeting.number == n)
            ).id
            for n in (2, 1)
        )
    client = app.test_client()
    login(client, "strateg@kalmar.example.org")
    page = client.get(f"/moten/{coming}").get_data(as_text=True)
    assert "Skicka återkopplingen" not in page and "När träffen har hållits" in page
    assert "Skicka återkopplingen" in client.get(f"/moten/{held}").get_data(as_text=True)


def test_the_cohort_calendar_is_searched_and_its_earlier_meetings_paged(app, monkeypatch):
    from modell.meetings import routes
    from tests.conftest import login

    with app.app_context():
        cohort = start_demo()
        db.session.commit()
        cohort_id = cohort.id
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(Meeting).where(Meeting.cohort_id == cohort_id)
        )
    monkeypatch.setattr(routes, "CALENDAR_PER_PAGE", 5)
    client = app.test_client()
    login(client, DEMO["coordinator"])
    url = f"/moten/omgang/{cohort_id}"
    pages = (total + 4) // 5  # 2019's meetings are all earlier than today
    first = client.get(url).get_data(as_text=True)
    assert f"Sida 1 av {pages}" in first and "sida=2" in first
    last = client.get(f"{url}?sida={pages}").get_data(as_text=True)
    assert f"Sida {pages} av {pages}" in last and "Föregående" in last
    shown = client.get(f"{url}?sok=botkyrka").get_data(as_text=True)
    # Botkyrka's group meets three times; the meetings of other groups are not listed.
    assert shown.count("Benchmarkingträff") == 3 and "Askersund, Fagersta" not in shown
    assert "Inga med de här valen" in client.get(f"{url}?sok=ingen+sådan").get_data(True)


def test_a_page_of_several_forms_repeats_no_id(app):
    """The meeting page holds the host's forms and the answer to the invitation, each with
    its hidden CSRF token: none of them repeats an id (a screen reader and a label's `for`
    find one element by it)."""
    import re
    from collections import Counter

    with app.app_context():
        meeting = group_meeting(start_demo(), "Botkyrka")
        invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        db.session.commit()
        url = f"/moten/{meeting.id}"
    client = app.test_client()
    login(client, DEMO["coordinator"])
    html = client.get(url).get_data(True)
    assert html.count('name="csrf_token"') >= 4
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert not [i for i, n in ids.items() if n > 1]


def test_an_invitation_is_answered_until_the_meeting_has_ended(app):
    """After the meeting there is nothing to answer: the service refuses a late answer (no
    special needs given after they were erased), and the page shows the answer without the
    form."""
    with app.app_context():
        cohort = start_demo()
        meeting = group_meeting(cohort, "Botkyrka")
        invitations.send_invitations(db.session, meeting, now=START, user_id=None)
        db.session.flush()
        person = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))
        invitation = invitations.own_invitation(db.session, meeting, person.person_id)
        answer = dict(response="yes", diet="Vegetarisk", needs_hearing_loop=False, other_needs=None)
        invitations.respond(db.session, invitation, **answer, now=START, user_id=None)
        ended = meeting.ends_at
        with pytest.raises(RuleViolation):
            invitations.respond(db.session, invitation, **answer, now=ended, user_id=None)
        db.session.commit()
        meeting_id, invitation_id = meeting.id, invitation.id
    client = app.test_client()
    login(client, DEMO["participant"])
    app.config["CLOCK"] = lambda: ended - timedelta(minutes=1)
    page = client.get(f"/moten/{meeting_id}").get_data(True)
    assert f"/moten/{meeting_id}/svar" in page and "Du har svarat: ja." in page
    app.config["CLOCK"] = lambda: ended
    page = client.get(f"/moten/{meeting_id}").get_data(True)
    assert f"/moten/{meeting_id}/svar" not in page and "Du har svarat: ja." in page
    assert "Träffen är över: det finns inget att svara på längre." in page
    refused = client.post(
        f"/moten/{meeting_id}/svar", data={"response": "no", "csrf_token": csrf_from(page)}
    )
    assert refused.status_code in (302, 400, 409)
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).response == "yes"
