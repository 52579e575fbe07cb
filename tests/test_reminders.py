"""The reminders between the meetings: planned from the template's rules at the local send
hour (across daylight saving), moved and cancelled with their meeting, skipped with a reason
when their condition is met or they come too late, one message per person, exactly once,
and one active scheduler through the lease."""

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from modell.cohorts.models import Cohort
from modell.core.models import OutboxMessage
from modell.core.timeutil import to_local
from modell.core.types import utcnow
from modell.demo_living import LIVING_DESCRIPTION
from modell.extensions import db
from modell.meetings import after_meeting, invitations
from modell.meetings import services as meetings
from modell.meetings.models import Meeting
from modell.reminders import digest, services
from modell.reminders.cli import reminders_cli
from modell.reminders.models import ReminderDelivery, ScheduledReminder
from modell.reminders.scheduler import Scheduler
from tests.test_meetings import START, group_meeting, start_demo

DEFAULT_RULES = {
    "send_invitation": ("host", -21),
    "meeting_in_a_week": ("invited", -7),
    "meeting_tomorrow": ("invited", -1),
    "log_nudge": ("organisations", 0),
    "post_documentation": ("host", 2),
    "give_pmi": ("invited", 2),
    "prepare_results": ("organisations", -30),
}


def scheduled(meeting, key) -> ScheduledReminder:
    return db.session.scalars(
        sa.select(ScheduledReminder).where(
            ScheduledReminder.meeting_id == meeting.id,
            ScheduledReminder.rule.has(key=key),
        )
    ).one()


def change(meeting, day: date, hour: int = 10):
    return meetings.MeetingChange(
        day=day,
        start=time(hour),
        end=time(hour + 5),
        location=meeting.location,
        video_link=meeting.video_link,
        agenda=meeting.agenda,
        accessibility_info=meeting.accessibility_info,
    )


def living_meeting(number: int) -> Meeting:
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.description == LIVING_DESCRIPTION))
    group = next(g for g in cohort.groups if "Kalmar" in g.name)
    return db.session.scalar(
        sa.select(Meeting).where(Meeting.group_id == group.id, Meeting.number == number)
    )


def test_every_shipped_model_carries_the_default_rules(app, ctx):
    from modell.cohorts.services import current_template

    for family in ("modellkommuner", "modellregioner", "modellkoncept", "modellmyndigheter"):
        rules = {
            r.key: (r.audience, r.offset_days)
            for r in current_template(db.session, family).reminder_rules
        }
        assert {k: rules[k] for k in DEFAULT_RULES} == DEFAULT_RULES
    nudge = next(
        r
        for r in current_template(db.session, "modellkommuner").reminder_rules
        if r.key == "log_nudge"
    )
    assert nudge.event == "between_meetings" and nudge.cc_mentor and nudge.send_hour == 8


def test_reminders_fall_at_eight_local_time_on_both_sides_of_the_spring_switch(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")  # 4 April 2019, after 31 March
    assert to_local(meeting.starts_at).date() == date(2019, 4, 4)
    week, day = scheduled(meeting, "meeting_in_a_week"), scheduled(meeting, "meeting_tomorrow")
    # 28 March is winter time (UTC+1), 3 April summer time (UTC+2): 08:00 local both times.
    assert week.due_at == datetime(2019, 3, 28, 7, tzinfo=UTC)
    assert day.due_at == datetime(2019, 4, 3, 6, tzinfo=UTC)
    assert to_local(week.due_at).hour == to_local(day.due_at).hour == 8


def test_and_across_the_autumn_switch_when_the_meeting_moves_there(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka", 3)
    meetings.update_meeting(
        db.session, meeting, change(meeting, date(2019, 10, 29)), now=START, user_id=None
    )
    db.session.flush()
    week, day = scheduled(meeting, "meeting_in_a_week"), scheduled(meeting, "meeting_tomorrow")
    assert week.due_at == datetime(2019, 10, 22, 6, tzinfo=UTC)  # summer time, UTC+2
    assert day.due_at == datetime(2019, 10, 28, 7, tzinfo=UTC)  # winter time, UTC+1
    after = scheduled(meeting, "post_documentation")
    assert to_local(after.due_at) == datetime(2019, 10, 31, 8, tzinfo=to_local(after.due_at).tzinfo)


def test_moving_a_meeting_moves_its_pending_reminders_and_cancelling_cancels_them(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    before = {s.rule.key: s.due_at for s in meeting_rows(meeting)}
    day = to_local(meeting.starts_at).date()
    meetings.update_meeting(
        db.session, meeting, change(meeting, day + timedelta(days=7)), now=START, user_id=None
    )
    db.session.flush()
    after = {s.rule.key: s.due_at for s in meeting_rows(meeting)}
    assert after.keys() == before.keys() and len(after) >= 5
    # A week later in local time: the same hour, though some cross the switch to summer time.
    for key in after:
        old, new = to_local(before[key]), to_local(after[key])
        assert (new.date() - old.date(), new.hour) == (timedelta(days=7), old.hour), key
    # The next meeting's nudge counts from the midpoint, which moved half as far (3 days).
    following = group_meeting(meeting.cohort, "Botkyrka", 2)
    nudge = scheduled(following, "log_nudge")
    first, second = to_local(meeting.starts_at).date(), to_local(following.starts_at).date()
    assert to_local(nudge.due_at).date() == first + timedelta(days=(second - first).days // 2)

    meetings.cancel_meeting(db.session, meeting, reason="Sjukdom", now=START, user_id=None)
    db.session.flush()
    assert {(s.state, s.reason) for s in meeting_rows(meeting)} == {
        ("cancelled", "meeting_cancelled")
    }


def meeting_rows(meeting):
    return db.session.scalars(
        sa.select(ScheduledReminder).where(ScheduledReminder.meeting_id == meeting.id)
    ).all()


def test_the_demo_host_is_reminded_21_days_before_once_at_a_real_smtp_server(mail_app, smtp):
    app = mail_app
    with app.app_context():
        meeting = living_meeting(2)
        day = to_local(meeting.starts_at).date() - timedelta(days=21)
        host = meeting.host.name
        title = meeting.title
    at = f"{day.isoformat()}T08:00"
    runner = app.test_cli_runner()
    listed = runner.invoke(reminders_cli, ["due", "--at", at])
    assert listed.exit_code == 0, listed.output
    (line,) = [x for x in listed.output.splitlines() if "send_invitation" in x and title in x]
    assert f"strategist@{host.lower()}.example.org" in line.replace("å", "a").replace("ä", "a")
    ran = runner.invoke(reminders_cli, ["run", "--at", at])
    assert ran.exit_code == 0, ran.output
    assert ran.output.splitlines()[0] == "due 2, sent 2, failed 0, skipped 0", ran.output
    arrived = smtp.wait_for(2)
    ours = [m for m in arrived if title in m["Subject"]]
    assert len(ours) == 1 and ours[0]["Subject"] == f"Dags att skicka inbjudan: {title}"
    assert ours[0]["Message-ID"]
    assert any(p.get_content_type() == "text/calendar" for p in ours[0].iter_attachments())
    again = runner.invoke(reminders_cli, ["run", "--at", at])
    assert again.output.splitlines()[0] == "due 0, sent 0, failed 0, skipped 0"
    assert len(smtp.messages) == 2


def test_a_reminder_whose_condition_is_met_is_skipped_with_the_reason(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    invitations.send_invitations(db.session, meeting, now=START, user_id=None)
    db.session.commit()
    row = scheduled(meeting, "send_invitation")
    services.process(db.session, row.due_at, app.config)  # the other groups' hosts get theirs
    deliveries = db.session.scalars(
        sa.select(ReminderDelivery).where(ReminderDelivery.scheduled_id == row.id)
    ).all()
    assert deliveries and {(d.state, d.reason) for d in deliveries} == {
        ("skipped", "invitation_sent")
    }
    assert all(d.outbox_message_id is None for d in deliveries)
    assert not db.session.scalar(
        sa.select(OutboxMessage.id).where(
            OutboxMessage.kind == "reminder", OutboxMessage.recipient.like("%botkyrka%")
        )
    )


def test_what_came_due_while_nothing_ran_is_skipped_once_it_no_longer_makes_sense(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    row = scheduled(meeting, "meeting_tomorrow")
    db.session.commit()
    # The scheduler comes back after the meeting: reminding of it is pointless.
    summary = services.process(db.session, meeting.starts_at + timedelta(hours=1), app.config)
    assert summary.sent == 0
    reasons = {
        d.reason
        for d in db.session.scalars(
            sa.select(ReminderDelivery).where(ReminderDelivery.scheduled_id == row.id)
        )
    }
    assert reasons == {"too_late"}


def test_several_reminders_due_the_same_day_make_one_message(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")  # hosted by Botkyrka
    invitations.send_invitations(db.session, meeting, now=START, user_id=None)
    after_meeting.record_attendance(
        db.session,
        meeting,
        {i.id for i in meeting.invitations},
        now=meeting.starts_at + timedelta(hours=6),
        user_id=None,
    )
    db.session.commit()
    due = scheduled(meeting, "post_documentation").due_at
    assert scheduled(meeting, "give_pmi").due_at == due
    summary = services.process(db.session, due + timedelta(minutes=1), app.config)
    assert summary.failed == 0
    # Bodil is Botkyrka's strategist (so the host's key person) and took part: two reminders.
    to_bodil = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.recipient == "strateg@botkyrka.example.org",
            OutboxMessage.kind == "reminder",
        )
    ).all()
    assert len(to_bodil) == 1
    assert to_bodil[0].subject == "2 påminnelser från Modell"
    assert "Lägg upp dokumentationen" in to_bodil[0].body_text
    assert "Plus – Minus – Intressant" in to_bodil[0].body_text


def test_one_scheduler_leads_and_another_takes_over_within_two_ticks_when_it_dies(app):
    clock = {"now": datetime(2027, 3, 1, 8, tzinfo=UTC)}
    first = Scheduler(app, clock=lambda: clock["now"])
    second = Scheduler(app, clock=lambda: clock["now"])
    assert first.tick() is not None and second.tick() is None
    tick = timedelta(seconds=app.config["SCHEDULER_TICK_SECONDS"])
    clock["now"] += tick
    assert first.tick() is not None and second.tick() is None  # renewed
    # The first dies (no more ticks). The second takes over within two of its ticks.
    took_over = None
    for n in (1, 2):
        clock["now"] += tick
        if second.tick() is not None:
            took_over = n
            break
    assert took_over is not None
    assert first.tick() is None  # back from the dead, it does not lead


def test_the_new_leader_takes_back_what_a_dead_one_had_claimed(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    row = scheduled(meeting, "meeting_in_a_week")
    row.state, row.claimed_at = "sending", row.due_at  # claimed, then the process was killed
    db.session.commit()
    leader = Scheduler(app, clock=lambda: row.due_at + timedelta(minutes=1))
    summary = leader.tick()
    db.session.expire_all()
    assert summary.sent >= 1 and scheduled(meeting, "meeting_in_a_week").state == "done"


def test_a_meeting_kind_without_rules_gets_no_reminders(app, ctx):
    cohort = start_demo()
    kickoff = db.session.scalar(
        sa.select(Meeting).where(Meeting.cohort_id == cohort.id, Meeting.group_id.is_(None))
    )
    assert meeting_rows(kickoff) == []


def test_a_user_who_turns_optional_reminders_off_gets_only_the_essential_ones(app):
    from modell.auth.models import User
    from tests.conftest import DEMO, login, post_form

    client = app.test_client()
    login(client, DEMO["participant"])
    saved = post_form(client, "/konto/paminnelser", {}, "/konto/paminnelser")  # box unticked
    assert saved.status_code == 302
    with app.app_context():
        bodil = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))
        assert bodil.optional_reminders is False
        meeting = group_meeting(start_demo(), "Botkyrka")
        db.session.commit()
        week = scheduled(meeting, "meeting_in_a_week")
        services.process(db.session, week.due_at, app.config)
        (mine,) = db.session.scalars(
            sa.select(ReminderDelivery).where(
                ReminderDelivery.scheduled_id == week.id, ReminderDelivery.user_id == bodil.id
            )
        ).all()
        assert (mine.state, mine.reason) == ("skipped", "turned_off")
        # The host's reminder to send the invitation is essential: it comes, and shows in-app.
        invitation = scheduled(meeting, "send_invitation")
        services.process(db.session, invitation.due_at, app.config)
    page = client.get("/aviseringar").get_data(True)
    assert "Dags att skicka inbjudan" in page
    assert "Benchmarkingträff om en vecka" not in page
    header = client.get("/konto/paminnelser").get_data(True)
    assert "olästa" in header


def test_a_user_on_the_weekly_digest_gets_the_optional_reminders_in_one_monday_message(app):
    from modell.auth.models import User
    from modell.reminders.models import Notification
    from tests.conftest import DEMO, login, post_form

    client = app.test_client()
    login(client, DEMO["participant"])
    saved = post_form(
        client,
        "/konto/paminnelser",
        {"optional_reminders": "y", "reminder_mail": "weekly"},
        "/konto/paminnelser",
    )
    assert saved.status_code == 302
    with app.app_context():
        bodil = db.session.scalar(sa.select(User).where(User.email == DEMO["participant"]))
        assert bodil.reminder_mail == "weekly"
        meeting = group_meeting(start_demo(), "Botkyrka")  # Botkyrka hosts it
        db.session.commit()

        def mine(kind):
            return db.session.scalars(
                sa.select(OutboxMessage).where(
                    OutboxMessage.recipient == DEMO["participant"], OutboxMessage.kind == kind
                )
            ).all()

        # The essential reminder to the host still comes at once.
        invitation = scheduled(meeting, "send_invitation")
        services.process(db.session, invitation.due_at, app.config)
        assert [m.subject.split(":")[0] for m in mine("reminder")] == ["Dags att skicka inbjudan"]
        # The week's reminder is held for the digest: a notification, no mail.
        week = scheduled(meeting, "meeting_in_a_week")
        services.process(db.session, week.due_at, app.config)
        assert len(mine("reminder")) == 1 and mine("digest") == []
        held = db.session.scalars(
            sa.select(Notification).where(
                Notification.user_id == bodil.id, Notification.digested_at.is_(None)
            )
        ).all()
        assert [n.subject for n in held] == ["Benchmarkingträff om en vecka"]
        # On the Monday after, at 08:00 Stockholm time, one digest holds it.
        local = to_local(week.due_at)
        monday = local.date() + timedelta(days=7 - local.weekday())
        eight = datetime.combine(monday, time(8), tzinfo=local.tzinfo).astimezone(UTC)
        services.process(db.session, eight - timedelta(minutes=1), app.config)
        assert mine("digest") == []  # not before its hour
        services.process(db.session, eight, app.config)
        services.process(db.session, eight + timedelta(hours=1), app.config)  # and only once
        (digest,) = mine("digest")
        assert digest.subject == "Dina påminnelser den här veckan från Modell"
        assert "Benchmarkingträff om en vecka" in digest.body_text
        assert "Dags att skicka inbjudan" not in digest.body_text  # mailed already


def test_the_weekly_digest_is_due_on_monday_at_eight_stockholm_time_in_winter_and_summer():
    for day, utc_hour in ((date(2027, 1, 11), 7), (date(2027, 7, 5), 6)):  # Mondays
        monday_eight = datetime.combine(day, time(utc_hour), tzinfo=UTC)
        assert digest.digest_instant(monday_eight) == monday_eight
        assert digest.digest_instant(monday_eight + timedelta(days=6)) == monday_eight
        assert digest.digest_instant(monday_eight - timedelta(seconds=1)) == (
            monday_eight - timedelta(days=7)
        )


def _rule_form(**changes) -> dict:
    form = {
        "subject": "Dags att skicka inbjudan",
        "body": "Skicka inbjudan.",
        "meeting_kind": "benchmarking",
        "event": "meeting",
        "offset_days": "-21",
        "send_hour": "8",
        "audience": "host",
        "condition": "invitation_not_sent",
        "essential": "y",
        "active": "y",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_a_coordinator_changes_a_templates_reminder_and_the_running_cohort_follows(app):
    from tests.conftest import DEMO, login, post_form

    with app.app_context():
        meeting = living_meeting(2)  # four weeks ahead
        template_id = meeting.cohort.template_id
        before = scheduled(meeting, "send_invitation").due_at
        week = scheduled(meeting, "meeting_in_a_week")
        assert week.state == "pending"
    url = f"/omgangar/modeller/{template_id}/paminnelser/send_invitation"
    client = app.test_client()
    login(client, DEMO["coordinator"])
    page = client.get(f"/omgangar/modeller/{template_id}").get_data(True)
    assert "21 dagar före varje Benchmarkingträff, kl. 08.00" in page

    # A condition about someone else than the recipients is refused beside its field.
    refused = post_form(client, url, _rule_form(audience="invited"))
    assert refused.status_code == 200
    assert "Villkoret gäller någon annan" in refused.get_data(True)
    with app.app_context():
        assert scheduled(living_meeting(2), "send_invitation").due_at == before

    # Four weeks instead of three, at seven: the pending reminder moves.
    saved = post_form(client, url, _rule_form(offset_days="-28", send_hour="7"))
    assert saved.status_code == 302
    with app.app_context():
        moved = scheduled(living_meeting(2), "send_invitation")
        assert to_local(moved.due_at).date() == to_local(before).date() - timedelta(days=7)
        assert to_local(moved.due_at).hour == 7

    # Turned off: its pending reminders are cancelled; turned on again: pending again.
    week_url = f"/omgangar/modeller/{template_id}/paminnelser/meeting_in_a_week"
    off = _rule_form(
        subject="Benchmarkingträff om en vecka",
        offset_days="-7",
        audience="invited",
        condition="",
        essential=None,
        active=None,
    )
    assert post_form(client, week_url, off).status_code == 302
    with app.app_context():
        row = scheduled(living_meeting(2), "meeting_in_a_week")
        assert (row.state, row.reason) == ("cancelled", "rule_inactive")
    assert post_form(client, week_url, off | {"active": "y"}).status_code == 302
    with app.app_context():
        assert scheduled(living_meeting(2), "meeting_in_a_week").state == "pending"

    # A new reminder: planned for the cohort's coming meetings at once.
    new = _rule_form(subject="Boka lokal", offset_days="-40", condition="", essential=None)
    assert (
        post_form(client, f"/omgangar/modeller/{template_id}/paminnelser/ny", new).status_code
        == 302
    )
    with app.app_context():
        meeting = living_meeting(2)
        rows = db.session.scalars(
            sa.select(ScheduledReminder).where(
                ScheduledReminder.meeting_id == meeting.id,
                ScheduledReminder.rule.has(subject="Boka lokal"),
            )
        ).all()
        assert len(rows) == 1
        assert to_local(rows[0].due_at).date() == to_local(meeting.starts_at).date() - timedelta(
            days=40
        )


def test_only_staff_change_reminders(app):
    from tests.conftest import DEMO, login

    with app.app_context():
        template_id = living_meeting(2).cohort.template_id
    client = app.test_client()
    login(client, DEMO["participant"])
    url = f"/omgangar/modeller/{template_id}/paminnelser/send_invitation"
    assert client.get(url).status_code == 403
    assert client.get(f"/omgangar/modeller/{template_id}/paminnelser/nope").status_code == 403


def test_a_changed_rule_never_sends_a_burst_about_the_past(app):
    from tests.conftest import DEMO, login, post_form

    with app.app_context():
        meeting = living_meeting(2)  # ahead: a rule two days further back has passed
        template_id = meeting.cohort.template_id
        ahead = (to_local(meeting.starts_at).date() - to_local(utcnow()).date()).days
        assert ahead > 0
    client = app.test_client()
    login(client, DEMO["coordinator"])
    month = _rule_form(
        subject="Benchmarkingträff om en vecka",
        offset_days=str(-(ahead + 2)),
        audience="invited",
        condition="",
        essential=None,
    )
    url = f"/omgangar/modeller/{template_id}/paminnelser/meeting_in_a_week"
    assert post_form(client, url, month).status_code == 302
    with app.app_context():
        row = scheduled(living_meeting(2), "meeting_in_a_week")
        assert (row.state, row.reason) == ("cancelled", "rule_changed")
        summary = services.process(db.session, utcnow(), app.config)
        assert not [
            d
            for d in db.session.scalars(sa.select(ReminderDelivery))
            if d.meeting_id == row.meeting_id and d.rule_id == row.rule_id
        ]
        assert summary.failed == 0


def test_a_meeting_moved_after_its_reminder_went_out_is_reminded_of_again(app, ctx):
    meeting = group_meeting(start_demo(), "Botkyrka")
    db.session.commit()
    week = scheduled(meeting, "meeting_in_a_week")
    first_due = week.due_at
    services.process(db.session, first_due, app.config)
    assert scheduled(meeting, "meeting_in_a_week").state == "done"
    # Moved three weeks later, decided the day after the reminder went out.
    new_day = to_local(meeting.starts_at).date() + timedelta(days=21)
    meetings.update_meeting(
        db.session, meeting, change(meeting, new_day), now=first_due + timedelta(days=1),
        user_id=None,
    )  # fmt: skip
    db.session.commit()
    again = scheduled(meeting, "meeting_in_a_week")
    assert again.state == "pending" and to_local(again.due_at).date() == new_day - timedelta(7)
    services.process(db.session, again.due_at, app.config)
    sent = db.session.scalars(
        sa.select(ReminderDelivery.due_at).where(
            ReminderDelivery.rule_id == again.rule_id,
            ReminderDelivery.meeting_id == meeting.id,
            ReminderDelivery.state == "sent",
        )
    ).all()
    assert sorted(set(sent)) == [first_due, again.due_at]


def test_the_commands_say_what_would_be_skipped_and_what_really_went_out(app):
    with app.app_context():
        meeting = living_meeting(2)
        day = to_local(meeting.starts_at).date() - timedelta(days=7)
    at = f"{day.isoformat()}T08:00"
    runner = app.test_cli_runner()
    listed = runner.invoke(reminders_cli, ["due", "--at", at])
    assert listed.exit_code == 0 and "listed only: nothing sent" in listed.output
    ran = runner.invoke(reminders_cli, ["run", "--at", at])
    first = ran.output.splitlines()[0]
    assert first.startswith("due ") and ", sent 0, " in first  # no MAIL_SERVER: nothing sent
    assert "kept in the outbox: no MAIL_SERVER is set" in ran.output
    for bad in ("0001-01-01", "9999-12-31T23:59-14:00", "", "igår", "1999-12-31T08:00"):
        result = runner.invoke(reminders_cli, ["due", "--at", bad])
        assert result.exit_code == 2 and "Traceback" not in result.output, (bad, result.output)


def test_a_rule_that_could_reach_nobody_is_refused_beside_its_field(app):
    from tests.conftest import DEMO, login, post_form

    with app.app_context():
        template_id = living_meeting(2).cohort.template_id
    client = app.test_client()
    login(client, DEMO["coordinator"])
    url = f"/omgangar/modeller/{template_id}/paminnelser/ny"
    no_host = post_form(
        client, url, _rule_form(meeting_kind="result_conference", condition="", subject="X")
    )
    assert "har ingen värdorganisation" in no_host.get_data(True)
    copy = post_form(client, url, _rule_form(condition="", cc_mentor="y", subject="Y"))
    assert "En kopia till mentorn går med påminnelser till" in copy.get_data(True)
    hidden = post_form(client, url, _rule_form(condition="", subject="Ny\u202epåminnelse"))
    assert hidden.status_code == 302
    with app.app_context():
        from modell.cohorts.models import ReminderRule

        subjects = set(db.session.scalars(sa.select(ReminderRule.subject)))
        assert "Nypåminnelse" in subjects and not {"X", "Y"} & subjects
