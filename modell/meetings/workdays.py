"""The days a meeting can be proposed on: a weekday that is not a Swedish public holiday or
an eve that works as one (midsummer), outside the weeks around Christmas and New Year and
outside July, when Swedish public offices are on leave."""

from datetime import date, timedelta
from functools import cache

import holidays

# Christmas and New Year: from the Monday of Christmas week ... to Epiphany.
CHRISTMAS_FROM = (12, 20)
CHRISTMAS_TO = (1, 6)
SUMMER_MONTH = 7


@cache
def _holidays(year: int) -> frozenset[date]:
    days = set(holidays.country_holidays("SE", years=year))
    days |= {d - timedelta(days=1) for d, name in holidays.country_holidays("SE", years=year).items()
             if "Midsummer" in name}  # fmt: skip
    return frozenset(days)


def is_meeting_day(day: date) -> bool:
    """Whether a meeting may be proposed on this day."""
    if day.weekday() >= 5 or day.month == SUMMER_MONTH:
        return False
    if (day.month, day.day) >= CHRISTMAS_FROM or (day.month, day.day) <= CHRISTMAS_TO:
        return False
    return day not in _holidays(day.year)


def nearest_meeting_day(
    day: date, first: date, last: date, *, period_ends: date | None = None
) -> date | None:
    """The first meeting day from `day` on, else the last one before it, within first..last
    (None if the window has none). Nothing is proposed after the cohort's period ends
    (`period_ends`): a result conference due in the Christmas weeks, or after the end,
    comes on the last meeting day of the period."""
    if period_ends is not None:
        last = min(last, period_ends)
        day = min(day, last)
    forward = day
    while forward <= last:
        if forward >= first and is_meeting_day(forward):
            return forward
        forward += timedelta(days=1)
    backward = day - timedelta(days=1)
    while backward >= first:
        if is_meeting_day(backward):
            return backward
        backward -= timedelta(days=1)
    return None
