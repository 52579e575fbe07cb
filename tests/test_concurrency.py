"""Two people at the same moment: what they do side by side both counts, and where their
changes truly collide, the later one is refused with a page that keeps what was written,
never a crash (found by the load test: two colleagues logging in the same improvement work
got a 500)."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from modell.extensions import db
from modell.improvements import services
from modell.improvements.models import ImprovementWork, LogEntry
from modell.meetings.models import Meeting
from tests.conftest import DEMO, csrf_from, login
from tests.test_improvements import LATER, a_work, participation
from tests.test_meetings import group_meeting, start_demo


def test_two_people_logging_in_the_same_work_at_the_same_moment_both_save(app, ctx):
    work_id = a_work(participation(start_demo(), "Botkyrka")).id
    db.session.commit()
    first, second = Session(db.engine), Session(db.engine)
    try:
        # Both open the work (the same version), then each adds an entry.
        works = [s.get(ImprovementWork, work_id) for s in (first, second)]
        for session, work, text in zip((first, second), works, ("Hennes", "Hans"), strict=True):
            entry = services.EntryData(date(2019, 5, 2), f"{text} genomgång av beslut", 1)
            services.save_entry(session, work, entry, now=LATER, user_id=None)
            session.commit()
        # And one of them then edits the work itself, from the version it opened: adding
        # entries did not make that edit stale.
        services.save_work(
            second,
            works[1].participation,
            services.WorkData(title="Jämställd hemtjänst i hela kommunen"),
            now=LATER,
            user_id=None,
            work=works[1],
            expected_version=1,
        )
        second.commit()
    finally:
        first.close()
        second.close()
    texts = db.session.scalars(sa.select(LogEntry.text).where(LogEntry.work_id == work_id))
    assert sorted(texts) == ["Hans genomgång av beslut", "Hennes genomgång av beslut"]
    work = db.session.get(ImprovementWork, work_id)
    db.session.refresh(work)
    assert work.title == "Jämställd hemtjänst i hela kommunen" and work.updated_at is not None


def test_a_save_that_meets_another_at_the_same_moment_is_refused_with_409_keeping_the_text(app):
    """The other save is simulated where it would land: between this request's read of the
    meeting and its write, on the same connection, so the row's version has moved."""
    with app.app_context():
        meeting_id = group_meeting(start_demo(), "Botkyrka").id
        db.session.commit()
    client = app.test_client()
    login(client, DEMO["participant"])
    token = csrf_from(client.get(f"/moten/{meeting_id}").get_data(True))

    def someone_else_saves(mapper, connection, target):
        connection.execute(
            sa.update(Meeting.__table__)
            .where(Meeting.__table__.c.id == target.id)
            .values(version=Meeting.__table__.c.version + 1)
        )

    event.listen(Meeting, "before_update", someone_else_saves)
    try:
        page = client.post(
            f"/moten/{meeting_id}/dokumentation",
            data={"csrf_token": token, "minutes": "Vi gick igenom\nhemtjänstens beslut", "decisions": ""},
            headers={"Sec-Fetch-Site": "same-origin"},
        )  # fmt: skip
    finally:
        event.remove(Meeting, "before_update", someone_else_saves)
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "Någon annan sparade här i samma ögonblick" in html
    assert "Vi gick igenom\nhemtjänstens beslut" in html  # kept, to send again
    assert f'action="/moten/{meeting_id}/dokumentation"' in html
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).minutes is None  # nothing half-written
    # Sent again, it is saved.
    again = client.post(
        f"/moten/{meeting_id}/dokumentation",
        data={"csrf_token": csrf_from(html), "minutes": "Vi gick igenom", "decisions": ""},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).minutes == "Vi gick igenom"
