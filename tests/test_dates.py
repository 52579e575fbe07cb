"""One way to write dates, times and numbers: Språkrådet's Swedish, unambiguous English, in
Stockholm time; the same on pages, in mail and in calendar text."""

import re
from datetime import UTC, date, datetime

import sqlalchemy as sa

from modell.core import dates
from modell.extensions import db
from modell.meetings.models import Meeting
from tests.conftest import DEMO, login, post_form

# 7 February 2019 10:00 and 16:00 in Stockholm (UTC+1 in winter).
START = datetime(2019, 2, 7, 9, 0, tzinfo=UTC)
END = datetime(2019, 2, 7, 15, 0, tzinfo=UTC)
SUMMER = datetime(2019, 6, 13, 7, 30, tzinfo=UTC)  # 09.30 in Stockholm (UTC+2)


def test_swedish_follows_spraakraadet():
    assert dates.day(date(2019, 2, 7), "sv") == "7 februari 2019"
    assert dates.instant(START, "sv") == "7 februari 2019 kl. 10.00"
    assert dates.instant(SUMMER, "sv") == "13 juni 2019 kl. 09.30"
    assert dates.clock(START, "sv") == "kl. 10.00"
    assert dates.weekday(START, "sv", year=False) == "torsdag 7 februari"
    assert dates.span(START, END, "sv") == "torsdag 7 februari 2019 kl. 10.00–16.00"
    two_days = dates.span(START, END.replace(day=8), "sv")
    assert two_days == "torsdag 7 februari 2019 kl. 10.00 – fredag 8 februari 2019 kl. 16.00"
    assert dates.number(12.5, "sv") == "12,5"
    assert dates.number(1234, "sv").replace("\xa0", " ") == "1 234"
    assert dates.number(-5.7, "sv") == "\u22125,7"


def test_english_is_unambiguous_for_european_readers():
    assert dates.day(date(2019, 2, 7), "en") == "7 February 2019"
    assert dates.instant(START, "en") == "7 February 2019, 10:00"
    assert dates.span(START, END, "en") == "Thursday 7 February 2019, 10:00–16:00"
    assert dates.number(12.5, "en") == "12.5"
    assert dates.number(1234, "en") == "1,234"


def test_pages_write_dates_one_way_in_each_language(app):
    """No page shows the shapes the audit found: "7 feb. 2019", "2019-02-07 10:00",
    "24 nov. 2026 00:16:41", "2/7/19, 10:00 AM"."""
    client = app.test_client()
    login(client, DEMO["coordinator"])
    with app.app_context():
        meeting = db.session.scalar(
            sa.select(Meeting).where(Meeting.starts_at.is_not(None)).order_by(Meeting.id).limit(1)
        )
        meeting_id, shown = meeting.id, dates.span(meeting.starts_at, meeting.ends_at, "sv")
        cohort_id = meeting.cohort_id
    pages = [f"/moten/{meeting_id}", f"/omgangar/{cohort_id}", f"/moten/omgang/{cohort_id}",
             "/utkorg", "/omgangar/"]  # fmt: skip
    assert shown in client.get(pages[0]).get_data(True)
    abbreviated = re.compile(r"\b\d{1,2} (jan|feb|mars|apr|maj|juni|juli|aug|sep|okt|nov|dec)\.")
    wrong = [
        abbreviated,
        re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}"),  # ISO with a time, on a page
        re.compile(r"\d{2}:\d{2}:\d{2}"),  # seconds
        re.compile(r"\b\d{1,2}/\d{1,2}/\d{2}\b"),  # American
        re.compile(r"\b\d{2}:\d{2}\b"),  # a Swedish time is written 10.00
    ]
    for url in pages:
        page = client.get(url).get_data(True)
        text = re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1])
        for pattern in wrong:
            assert not pattern.search(text), (url, pattern.pattern, pattern.search(text))
    post_form(client, "/konto/sprak", {"lang": "en", "next": "/"}, "/omgangar/")
    english = client.get(pages[0]).get_data(True)
    with app.app_context():
        assert dates.span(meeting.starts_at, meeting.ends_at, "en") in english


def test_generated_meeting_titles_are_in_the_readers_language(app, ctx):
    """ "Benchmarkingträff 1 – Kalmar, Karlskrona, Växjö" reads "Benchmarking meeting 1 – …"
    in English, the group's names marked as Swedish; a title someone wrote stays as it is."""
    from flask_babel import force_locale

    from modell.meetings.titles import title_html, title_text

    meeting = db.session.scalar(
        sa.select(Meeting).where(Meeting.title.like("Benchmarkingträff %")).limit(1)
    )
    group = meeting.group.name
    with force_locale("en"):
        assert title_text(meeting) == f"Benchmarking meeting {meeting.number} – {group}"
        assert str(title_html(meeting)) == (
            f'Benchmarking meeting {meeting.number} – <span lang="sv">{group}</span>'
        )
    with force_locale("sv"):
        assert title_text(meeting) == meeting.title
    meeting.title = "Träff på stadshuset"
    with force_locale("en"):
        assert title_text(meeting) == "Träff på stadshuset"
        assert 'lang="sv"' in str(title_html(meeting))
