"""Indicators split by sex: values per period, the gap between women and men, charts that
read without colour, and the group's shared indicators side by side (the benchmarking view).

Rules take a session and `now`; the chart is geometry computed here and drawn by a template
as SVG, with the numbers in a table beside it.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from modell.cohorts.models import Group
from modell.core import audit
from modell.core.errors import RuleViolation
from modell.core.text import text_problem
from modell.improvements.importing import (
    find_indicator,
    is_count_unit,
    negative_count,
    parse_period,
)
from modell.improvements.models import (
    CONCLUDED,
    POPULATIONS,
    Indicator,
    IndicatorValue,
    SharedIndicator,
    work_open,
)
from modell.organisations.models import Organisation

POPULATION_LABELS = {
    "adults": (_l("Women"), _l("Men")),
    "children": (_l("Girls"), _l("Boys")),
}
POPULATION_CHOICES = {"adults": _l("Women and men"), "children": _l("Girls and boys")}


@dataclass
class IndicatorData:
    name: str
    unit: str | None = None
    description: str | None = None
    population: str = "adults"
    kolada_kpi: str | None = None


def _check(data: IndicatorData) -> None:
    if not (data.name or "").strip():
        raise RuleViolation(_l("Give the indicator a name."), field="name")
    if data.population not in POPULATIONS:
        raise RuleViolation(_l("Choose women and men or girls and boys."), field="population")
    for field, value, limit in (("name", data.name, 300), ("unit", data.unit, 50)):
        problem = text_problem(value, multiline=False, max_length=limit)
        if problem:
            raise RuleViolation(problem, field=field)


def create_indicator(
    session: Session,
    organisation: Organisation,
    data: IndicatorData,
    *,
    now: datetime,
    user_id: int | None,
    shared: SharedIndicator | None = None,
) -> Indicator:
    """A new indicator of the organisation; a name it already uses is refused (names are how
    people and the import command find an indicator)."""
    _check(data)
    if find_indicator(session, organisation, data.name) is not None:
        raise RuleViolation(
            _l("Your organisation already has an indicator called %(name)s.", name=data.name),
            field="name",
        )
    indicator = Indicator(
        organisation=organisation,
        name=data.name.strip(),
        unit=(data.unit or "").strip() or None,
        description=(data.description or "").strip() or None,
        population=data.population,
        kolada_kpi=(data.kolada_kpi or "").strip() or None,
        source="kolada" if data.kolada_kpi else "manual",
        shared=shared,
        created_at=now,
    )
    session.add(indicator)
    audit.record(session, now=now, user_id=user_id, action="indicator_created", obj=indicator)
    return indicator


def save_value(
    session: Session,
    indicator: Indicator,
    *,
    period: str,
    women: float | None,
    men: float | None,
    total: float | None,
    now: datetime,
    user_id: int | None,
) -> IndicatorValue:
    """One period's values, typed in: the same rules as a file (a real period, no negative
    count)."""
    try:
        normalised = parse_period(period or "")
    except ValueError as error:
        raise RuleViolation(error.args[0], field="period") from error
    if women is None and men is None and total is None:
        raise RuleViolation(_l("Give at least one value."), field="women")
    for field, value in (("women", women), ("men", men), ("total", total)):
        if value is not None and value < 0 and is_count_unit(indicator.unit):
            raise RuleViolation(negative_count(indicator.unit), field=field)
        if value is not None and abs(value) > 1e15:
            raise RuleViolation(_l("The number is too large."), field=field)
    value = session.scalar(
        sa.select(IndicatorValue).where(
            IndicatorValue.indicator_id == indicator.id, IndicatorValue.period == normalised
        )
    )
    if value is None:
        value = IndicatorValue(indicator=indicator, period=normalised)
        session.add(value)
    value.women, value.men, value.total = women, men, total
    value.source, value.updated_at = "manual", now
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="indicator_value_saved",
        obj=indicator,
        period=normalised,
    )
    return value


# --- the gap between women and men ------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    difference: float | None  # women − men
    ratio: float | None  # women / men


def gap(value: IndicatorValue) -> Gap:
    if value.women is None or value.men is None:
        return Gap(None, None)
    ratio = value.women / value.men if value.men else None
    return Gap(value.women - value.men, ratio)


# --- charts -------------------------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT, MARGIN = 640, 260, 48


@dataclass
class Series:
    label: str
    points: list[tuple[float, float, str, float]]  # x, y, period, value
    marker: str  # "circle", "square", "triangle", "diamond": told apart without colour
    dash: str  # the line's dash pattern, also without colour

    @property
    def path(self) -> str:
        return " ".join(
            f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}"
            for i, (x, y, _p, _v) in enumerate(self.points)
        )


@dataclass
class Chart:
    periods: list[str]
    series: list[Series]
    ticks: list[tuple[float, str]]  # y, label
    x_labels: list[tuple[float, str]]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


MARKERS = ("circle", "square", "triangle", "diamond")
DASHES = ("", "6 4", "2 3", "8 3 2 3")


def _scale(low: float, high: float) -> tuple[float, float, float]:
    """The axis from a round number at or below the lowest value to one at or above the
    highest, in three to six steps of 1, 2, 2.5 or 5 times a power of ten: ticks read
    "0, 2, 4, 6, 8, 10", never "8,975"."""
    if high == low:
        high = low + 1
    for step in _steps(high - low):
        bottom, top = math.floor(low / step) * step, math.ceil(high / step) * step
        if round((top - bottom) / step) <= 6:
            return bottom, top, step
    raise AssertionError("a step always fits")  # pragma: no cover - the steps grow to span


def _steps(span: float):
    power = 10.0 ** math.floor(math.log10(span / 6))
    while True:
        for factor in (1, 2, 2.5, 5):
            yield factor * power
        power *= 10


def _round(value: float, step: float) -> float:
    """A tick's value without floating-point dust (0.30000000000000004), to the step's
    decimals."""
    decimals = max(0, -Decimal(str(step)).normalize().as_tuple().exponent)
    return round(value, decimals) + 0.0


def chart(lines: list[tuple[str, dict[str, float | None]]], number_format) -> Chart | None:
    """Lines (label, {period: value}) as chart geometry: periods along the x axis in order,
    values scaled from zero (or the lowest negative) to the highest."""
    periods = sorted({p for _label, values in lines for p, v in values.items() if v is not None})
    values = [v for _label, vs in lines for v in vs.values() if v is not None]
    if not periods or not values:
        return None
    low, high, step = _scale(min(0.0, min(values)), max(values))
    inner_w, inner_h = CHART_WIDTH - 2 * MARGIN, CHART_HEIGHT - 2 * MARGIN

    def x(period: str) -> float:
        if len(periods) == 1:
            return MARGIN + inner_w / 2
        return MARGIN + inner_w * periods.index(period) / (len(periods) - 1)

    def y(value: float) -> float:
        return MARGIN + inner_h * (1 - (value - low) / (high - low))

    series = []
    for i, (label, vs) in enumerate(lines):
        points = [(x(p), y(v), p, v) for p, v in sorted(vs.items()) if v is not None]
        if points:
            series.append(Series(label, points, MARKERS[i % 4], DASHES[(i // 4 + i) % 4]))
    count = round((high - low) / step)
    ticks = [
        (y(low + step * k), number_format(_round(low + step * k, step))) for k in range(count + 1)
    ]
    return Chart(periods, series, ticks, [(x(p), p) for p in _labelled(periods, inner_w)])


def _labelled(periods: list[str], width: float) -> list[str]:
    """The periods named under the x axis: as many as fit side by side (about 7 units a
    character, with a gap), spread evenly, the first and the last always named."""
    room = int(width // (7 * max(len(p) for p in periods) + 14))
    if len(periods) <= max(room, 2):
        return periods
    count = max(room, 2)
    picked = {round(i * (len(periods) - 1) / (count - 1)) for i in range(count)}
    return [periods[i] for i in sorted(picked)]


# --- shared indicators: the benchmarking view ----------------------------------------------------


def create_shared(
    session: Session, group: Group, data: IndicatorData, *, now: datetime, user_id: int | None
) -> SharedIndicator:
    """The group agrees to follow an indicator together (while its cohort is not concluded)."""
    if not work_open(group.cohort):
        raise RuleViolation(CONCLUDED)
    _check(data)
    taken = {s.name.casefold() for s in shared_of(session, group)}
    if data.name.strip().casefold() in taken:
        raise RuleViolation(
            _l("The group already follows an indicator called %(name)s.", name=data.name),
            field="name",
        )
    shared = SharedIndicator(
        group=group,
        name=data.name.strip(),
        unit=(data.unit or "").strip() or None,
        description=(data.description or "").strip() or None,
        population=data.population,
        kolada_kpi=(data.kolada_kpi or "").strip() or None,
        created_at=now,
    )
    session.add(shared)
    audit.record(session, now=now, user_id=user_id, action="shared_indicator_created", obj=shared)
    return shared


def shared_of(session: Session, group: Group) -> list[SharedIndicator]:
    return list(
        session.scalars(
            sa.select(SharedIndicator)
            .where(SharedIndicator.group_id == group.id)
            .order_by(SharedIndicator.name)
        )
    )


def own_for_shared(
    session: Session,
    shared: SharedIndicator,
    organisation: Organisation,
    *,
    now: datetime,
    user_id: int | None,
) -> Indicator:
    """The organisation's own indicator for a shared one, made on first use: its values are
    the organisation's, the definition is the group's."""
    own = session.scalar(
        sa.select(Indicator).where(
            Indicator.shared_id == shared.id, Indicator.organisation_id == organisation.id
        )
    )
    if own is not None:
        return own
    existing = find_indicator(session, organisation, shared.name)
    if existing is not None and existing.shared_id is None:
        existing.shared = shared
        return existing
    return create_indicator(
        session,
        organisation,
        IndicatorData(
            shared.name, shared.unit, shared.description, shared.population, shared.kolada_kpi
        ),
        now=now,
        user_id=user_id,
        shared=shared,
    )


# The benchmarking view shows the latest periods this many at first (a year of months, twelve
# years); all of them when asked.
PERIODS_SHOWN = 12


def latest_periods(
    values: dict[int, list[IndicatorValue]], count: int | None
) -> tuple[dict[int, list[IndicatorValue]], int]:
    """Each organisation's values of the `count` latest periods that any of them has (all,
    for None), and how many periods there are in all."""
    periods = sorted({v.period for vs in values.values() for v in vs})
    kept = set(periods if count is None else periods[-count:])
    return {key: [v for v in vs if v.period in kept] for key, vs in values.items()}, len(periods)


def benchmark(
    session: Session, shared: SharedIndicator, organisations: list[Organisation]
) -> dict[int, list[IndicatorValue]]:
    """Every organisation's values for one shared indicator, in two queries whatever the
    number of organisations: {organisation id: values by period}."""
    wanted = [o.id for o in organisations]
    indicators = session.execute(
        sa.select(Indicator.id, Indicator.organisation_id).where(
            Indicator.shared_id == shared.id, Indicator.organisation_id.in_(wanted or [-1])
        )
    ).all()
    by_indicator = {row.id: row.organisation_id for row in indicators}
    result: dict[int, list[IndicatorValue]] = {o.id: [] for o in organisations}
    if not by_indicator:
        return result
    for value in session.scalars(
        sa.select(IndicatorValue)
        .where(IndicatorValue.indicator_id.in_(list(by_indicator)))
        .order_by(IndicatorValue.period)
    ):
        result[by_indicator[value.indicator_id]].append(value)
    return result
