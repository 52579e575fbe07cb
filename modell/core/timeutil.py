"""Time: stored in UTC, entered and shown in Europe/Stockholm."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def to_local(value: datetime) -> datetime:
    """A stored UTC instant as Stockholm wall-clock time (the instant as it is if it lies at
    the very end of what a datetime can hold)."""
    try:
        return value.astimezone(STOCKHOLM)
    except OverflowError:
        return value


def local_to_utc(day: date, clock: time) -> datetime:
    """Stockholm wall-clock date and time, as entered by a user, to a UTC instant.

    A time that does not exist (the spring gap) moves forward; an ambiguous time in
    the autumn is read as the first occurrence (fold=0), as calendars do.
    """
    local = datetime.combine(day, clock).replace(tzinfo=STOCKHOLM)
    return local.astimezone(UTC)


# Every date the app accepts lies in these years: far enough for the programme's history
# (the pilot began in 2015) and its future, near enough that date arithmetic never overflows.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


def in_range(day: date | datetime | None) -> bool:
    if day is None:
        return True
    if isinstance(day, datetime):
        day = day.date()
    return EARLIEST <= day <= LATEST


def add_days(day: date, days: int) -> date:
    """`day + days`, kept inside what a date can hold: data stored before the range was
    enforced (a meeting in 9999) must still show, not break the page."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def add_hours(moment: datetime, hours: float) -> datetime:
    try:
        return moment + timedelta(hours=hours)
    except OverflowError:
        return moment
