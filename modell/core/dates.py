"""One way to write dates, times and numbers, for every page, mail and calendar text.

Swedish follows Språkrådet: "7 februari 2019", "7 februari 2019 kl. 10.00", "kl. 10.00–16.00",
"torsdag 7 februari 2019", "12,5", "1 234". English is written unambiguously for European
readers: "7 February 2019", "7 February 2019, 10:00", "Thursday 7 February 2019". Instants are
shown in Stockholm time. Exports and machine formats use ISO 8601 and never come here.

Each function takes the language (else the request's or the mail's, `get_locale()`).
"""

from datetime import UTC, date, datetime, time
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_time as _format_time
from babel.numbers import format_decimal
from flask import has_app_context
from flask_babel import get_locale

from modell.core.timeutil import to_local

# Patterns per language: the day, the day with its weekday, the time of day.
_DAY = {"sv": "d MMMM y", "en": "d MMMM y"}
_WEEKDAY = {"sv": "EEEE d MMMM y", "en": "EEEE d MMMM y"}
_WEEKDAY_SHORT = {"sv": "EEEE d MMMM", "en": "EEEE d MMMM"}
_TIME = {"sv": "HH.mm", "en": "HH:mm"}
_AT = {"sv": "{day} kl. {time}", "en": "{day}, {time}"}
_CLOCK = {"sv": "kl. {time}", "en": "{time}"}

# An instant this near the end of what a datetime holds cannot be moved into local time.
_SHOWN_MIN = datetime(1, 1, 2, tzinfo=UTC)
_SHOWN_MAX = datetime(9999, 12, 30, tzinfo=UTC)


_LOCALES = {"sv": Locale("sv"), "en": Locale("en")}


# A page shows the same days and times many times over (due dates, 10.00): each is written
# once per worker. Pure functions of their arguments, bounded.
@lru_cache(maxsize=4096)
def _day_text(value: date, pattern: str, lang: str) -> str:
    return _format_date(value, pattern, locale=_LOCALES[lang])


@lru_cache(maxsize=1024)
def _time_text(value: time, pattern: str, lang: str) -> str:
    return _format_time(value, pattern, locale=_LOCALES[lang])


def _language(language: str | None) -> str:
    if language:
        return "en" if language.startswith("en") else "sv"
    # The request's language, or the one a mail is rendered in (force_locale); Swedish
    # outside the app.
    locale = get_locale() if has_app_context() else None
    return "en" if locale is not None and locale.language == "en" else "sv"


def language() -> str:
    """The language dates and texts are shown in now: "sv" or "en"."""
    return _language(None)


def _local(value):
    """A stored instant in Stockholm time; data stored before the date range was enforced
    still shows (at the edge of what can be shown) instead of breaking the page."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return to_local(min(max(value, _SHOWN_MIN), _SHOWN_MAX))
    return value


def _on_day(value) -> date:
    value = _local(value)
    return value.date() if isinstance(value, datetime) else value


def day(value: date | datetime | None, language: str | None = None) -> str:
    """ "7 februari 2019" / "7 February 2019"."""
    if value is None:
        return ""
    lang = _language(language)
    return _day_text(_on_day(value), _DAY[lang], lang)


def weekday(value: date | datetime | None, language: str | None = None, *, year=True) -> str:
    """ "torsdag 7 februari 2019" / "Thursday 7 February 2019" (without the year: "torsdag
    7 februari")."""
    if value is None:
        return ""
    lang = _language(language)
    pattern = (_WEEKDAY if year else _WEEKDAY_SHORT)[lang]
    return _day_text(_on_day(value), pattern, lang)


def clock(value: datetime | None, language: str | None = None, *, prefix=True) -> str:
    """ "kl. 10.00" / "10:00" (Swedish without "kl." inside a span)."""
    if value is None:
        return ""
    lang = _language(language)
    text = _time_text(_local(value).time(), _TIME[lang], lang)
    return _CLOCK[lang].format(time=text) if prefix else text


def instant(value: datetime | None, language: str | None = None) -> str:
    """ "7 februari 2019 kl. 10.00" / "7 February 2019, 10:00"."""
    if value is None:
        return ""
    lang = _language(language)
    return _AT[lang].format(day=day(value, lang), time=clock(value, lang, prefix=False))


def span(start: datetime | None, end: datetime | None = None, language: str | None = None) -> str:
    """A meeting's time: "torsdag 7 februari 2019 kl. 10.00–16.00" / "Thursday 7 February
    2019, 10:00–16:00"; over several days both ends in full, with a spaced dash."""
    if start is None:
        return ""
    lang = _language(language)
    first = _AT[lang].format(day=weekday(start, lang), time=clock(start, lang, prefix=False))
    if end is None:
        return first
    if _on_day(start) == _on_day(end):
        return f"{first}–{clock(end, lang, prefix=False)}"
    last = _AT[lang].format(day=weekday(end, lang), time=clock(end, lang, prefix=False))
    return f"{first} – {last}"


def period(first: date | None, last: date | None, language: str | None = None) -> str:
    """ "26 januari 2017 – 15 mars 2018"; an open end shows as "26 januari 2017 –"."""
    if first is None:
        return ""
    return f"{day(first, language)} – {day(last, language)}".rstrip()


def number(value, language: str | None = None) -> str:
    """ "1 234", "12,5" / "1,234", "12.5"; "–" for no value."""
    if value is None:
        return "–"
    return _number_text(0 if value == 0 else value, _language(language))  # not "−0"


@lru_cache(maxsize=8192, typed=True)  # a table of figures repeats many of them
def _number_text(value, lang: str) -> str:
    text = format_decimal(value, locale=_LOCALES[lang], group_separator=True)
    # Swedish writes a negative number with the minus sign, not a hyphen (Språkrådet).
    return text.replace("-", "\u2212") if lang == "sv" else text
