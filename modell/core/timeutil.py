"""Time: stored in UTC, entered and shown in Europe/Stockholm."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def to_local(value: datetime) -> datetime:
    """A stored UTC instant as Stockholm wall-clock time."""
    return value.astimezone(STOCKHOLM)


def local_to_utc(day: date, clock: time) -> datetime:
    """Stockholm wall-clock date and time, as entered by a user, to a UTC instant.

    A time that does not exist (the spring gap) moves forward; an ambiguous time in
    the autumn is read as the first occurrence (fold=0), as calendars do.
    """
    local = datetime.combine(day, clock).replace(tzinfo=STOCKHOLM)
    return local.astimezone(UTC)
