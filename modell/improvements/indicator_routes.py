"""Indicator pages: an organisation's indicators with values, gap and chart; the CSV import
with a preview; the group's shared indicators side by side. Thin: parse, ask, call, render."""

import base64
import binascii

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from modell.cohorts.models import Group, Participation
from modell.core import dates, revisions
from modell.core.access import may_change, require_change, require_view
from modell.core.clock import now
from modell.core.errors import RuleViolation
from modell.core.forms import ButtonForm, add_error
from modell.core.web import rescuable
from modell.extensions import db
from modell.improvements import bp, importing, services
from modell.improvements import indicators as rules
from modell.improvements.forms import ImportForm, IndicatorForm, ValueForm
from modell.improvements.models import (
    Indicator,
    SharedIndicator,
    Workspace,
    may_write_for_group,
)
from modell.improvements.routes import _workspace


def _number(value) -> str:
    return dates.number(value)


def _indicator(participation: Participation, indicator_id: int) -> Indicator:
    indicator = db.get_or_404(Indicator, indicator_id)
    if indicator.organisation_id != participation.organisation_id:
        abort(404)
    return indicator


def _data(form: IndicatorForm) -> rules.IndicatorData:
    return rules.IndicatorData(
        name=form.name.data,
        unit=form.unit.data,
        description=form.description.data,
        population=form.population.data,
        kolada_kpi=form.kolada_kpi.data,
    )


@bp.route("/<int:participation_id>/indikatorer/ny", methods=["GET", "POST"])
@login_required
def new_indicator(participation_id: int):
    participation = _workspace(participation_id, change=True)
    form = IndicatorForm()
    if form.validate_on_submit():
        try:
            indicator = rules.create_indicator(
                db.session,
                participation.organisation,
                _data(form),
                now=now(),
                user_id=current_user.id,
            )
            db.session.commit()
            flash(_("The indicator %(name)s is added.", name=indicator.name), "success")
            return redirect(
                url_for(
                    "improvements.indicator",
                    participation_id=participation.id,
                    indicator_id=indicator.id,
                )
            )
        except RuleViolation as error:
            db.session.rollback()
            add_error(form, error.message, error.field)
    return render_template(
        "improvements/indicator_form.html", form=form, participation=participation
    )


def _indicator_page(participation, indicator, *, value_form=None, status=200):
    women, men = rules.POPULATION_LABELS[indicator.population]
    values = indicator.values
    chart = rules.chart(
        [
            (str(women), {v.period: v.women for v in values}),
            (str(men), {v.period: v.men for v in values}),
        ],
        _number,
    )
    return render_template(
        "improvements/indicator.html",
        participation=participation,
        indicator=indicator,
        values=values,
        gaps={v.id: rules.gap(v) for v in values},
        chart=chart,
        women_label=women,
        men_label=men,
        number=_number,
        editable=may_change(current_user, Workspace(participation)),
        value_form=value_form or ValueForm(),
    ), status


@bp.route("/<int:participation_id>/indikatorer/<int:indicator_id>")
@login_required
def indicator(participation_id: int, indicator_id: int):
    participation = _workspace(participation_id)
    return _indicator_page(participation, _indicator(participation, indicator_id))


@bp.route("/<int:participation_id>/indikatorer/<int:indicator_id>/varde", methods=["POST"])
@login_required
def save_value(participation_id: int, indicator_id: int):
    participation = _workspace(participation_id, change=True)
    indicator = _indicator(participation, indicator_id)
    form = ValueForm()
    if not form.validate_on_submit():
        return _indicator_page(participation, indicator, value_form=form, status=400)
    try:
        rules.save_value(
            db.session,
            indicator,
            period=form.period.data,
            women=form.women.data,
            men=form.men.data,
            total=form.total.data,
            now=now(),
            user_id=current_user.id,
        )
    except RuleViolation as error:
        db.session.rollback()
        add_error(form, error.message, error.field)
        return _indicator_page(participation, indicator, value_form=form, status=400)
    db.session.commit()
    flash(_("The values are saved."), "success")
    return redirect(
        url_for(
            "improvements.indicator", participation_id=participation.id, indicator_id=indicator.id
        )
    )


@bp.route("/<int:participation_id>/indikatorer/<int:indicator_id>/import", methods=["GET", "POST"])
@rescuable
@login_required
def import_values(participation_id: int, indicator_id: int):
    """Upload, see the rows (or every row's error), then import: nothing is written until the
    whole file is valid and the user has seen what it holds."""
    participation = _workspace(participation_id, change=True)
    indicator = _indicator(participation, indicator_id)
    form = ImportForm()
    parsed = None
    if form.validate_on_submit():
        content = None
        upload = form.file.data
        if upload and getattr(upload, "filename", ""):
            content = upload.read(importing.MAX_BYTES + 1)
        elif form.content.data:
            try:
                content = base64.b64decode(form.content.data, validate=True)
            except (binascii.Error, ValueError):
                content = None
        if content is None:
            add_error(form, _("Choose a CSV file."), "file")
        else:
            parsed = importing.parse_indicator_csv(content, unit=indicator.unit)
            if parsed.valid and request.form.get("bekrafta") == "1" and not upload:
                try:
                    result = importing.import_values(
                        db.session, indicator, parsed, now=now(), user_id=current_user.id
                    )
                    db.session.commit()
                    flash(_("%(n)d values are imported.", n=result.written), "success")
                    return redirect(
                        url_for(
                            "improvements.indicator",
                            participation_id=participation.id,
                            indicator_id=indicator.id,
                        )
                    )
                except RuleViolation as error:
                    db.session.rollback()
                    add_error(form, error.message)
            form.content.data = base64.b64encode(content).decode() if parsed.valid else ""
    return render_template(
        "improvements/import.html",
        form=form,
        participation=participation,
        indicator=indicator,
        parsed=parsed,
        number=_number,
        max_kb=importing.MAX_BYTES // 1024,
    ), (400 if parsed is not None and not parsed.valid else 200)


# --- the group's shared indicators: the benchmarking view ---------------------------------------


@bp.route("/grupp/<int:group_id>/indikatorer", methods=["GET", "POST"])
@login_required
def benchmarking(group_id: int):
    # The cohort's revision before anything kept is read.
    revisions.revision_through(
        db.session, sa.select(Group.cohort_id).where(Group.id == group_id).scalar_subquery()
    )
    group = services.load_group(db.session, group_id)
    if group is None:
        abort(404)
    require_view(group)
    members = sorted(
        (p for p in group.participations if p.role == "benchmarking"),
        key=lambda p: p.organisation.name,
    )
    form = IndicatorForm()
    may_add = may_write_for_group(current_user, group)
    if request.method == "POST":
        if not may_add:
            abort(403)
        if form.validate_on_submit():
            try:
                shared = rules.create_shared(
                    db.session, group, _data(form), now=now(), user_id=current_user.id
                )
                db.session.commit()
                flash(_("The group now follows %(name)s.", name=shared.name), "success")
                return redirect(
                    url_for("improvements.benchmarking", group_id=group.id, indikator=shared.id)
                )
            except RuleViolation as error:
                db.session.rollback()
                add_error(form, error.message, error.field)
    shared_list = rules.shared_of(db.session, group)
    chosen_id = request.args.get("indikator", type=int)
    chosen = next(
        (s for s in shared_list if s.id == chosen_id), shared_list[0] if shared_list else None
    )
    organisations = [p.organisation for p in members]
    every_period = request.args.get("alla") == "1"

    def compared() -> tuple[int, Markup]:
        """The chart and the table of the chosen indicator, written once per revision of
        the cohort (core.revisions): the group's values over the years change seldom."""
        values, period_count = rules.latest_periods(
            rules.benchmark(db.session, chosen, organisations),
            None if every_period else rules.PERIODS_SHOWN,
        )
        women, men = rules.POPULATION_LABELS[chosen.population]
        lines = []
        for org in organisations:
            lines.append((f"{org.name}: {women}", {v.period: v.women for v in values[org.id]}))
            lines.append((f"{org.name}: {men}", {v.period: v.men for v in values[org.id]}))
        html = render_template(
            "improvements/_compared.html",
            chosen=chosen,
            organisations=organisations,
            values=values,
            chart=rules.chart(lines, _number),
            gaps={v.id: rules.gap(v) for vs in values.values() for v in vs},
            labels=(women, men),
            number=_number,
        )
        return period_count, Markup(html)  # nosec B704 # an autoescaped template

    period_count, compared_html = (
        revisions.kept(
            db.session,
            group.cohort_id,
            "indicators compared",
            compared,
            group.id,
            chosen.id,
            every_period,
            dates.language(),
        )
        if chosen
        else (0, Markup(""))
    )
    own = next((p for p in members if p.organisation_id == current_user.organisation_id), None)
    return render_template(
        "improvements/benchmarking.html",
        group=group,
        shared_list=shared_list,
        chosen=chosen,
        compared=compared_html,
        every_period=every_period,
        period_count=period_count,
        periods_shown=rules.PERIODS_SHOWN,
        number=_number,
        form=form,
        own=own,
        may_add=may_add,
        button=ButtonForm(),
    ), (400 if form.errors else 200)


@bp.route("/grupp/<int:group_id>/indikatorer/<int:shared_id>/vara-varden", methods=["POST"])
@login_required
def own_values(group_id: int, shared_id: int):
    """A member of the group opens its own values of a shared indicator (made on first use)."""
    group = db.get_or_404(Group, group_id)
    shared = db.get_or_404(SharedIndicator, shared_id)
    if shared.group_id != group.id:
        abort(404)
    participation = next(
        (
            p
            for p in group.participations
            if p.role == "benchmarking" and p.organisation_id == current_user.organisation_id
        ),
        None,
    )
    if participation is None:
        abort(403)
    require_change(Workspace(participation))
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        own = rules.own_for_shared(
            db.session, shared, participation.organisation, now=now(), user_id=current_user.id
        )
    except RuleViolation as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(
            url_for("improvements.benchmarking", group_id=group.id, indikator=shared.id)
        )
    db.session.commit()
    return redirect(
        url_for("improvements.indicator", participation_id=participation.id, indicator_id=own.id)
    )
