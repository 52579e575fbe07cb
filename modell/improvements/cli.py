"""`flask modell indicators ...`: import indicator values from a file, as a page would.

The commands read the whole file first and write only when it has no error, so a failed
run leaves the database as it was (no indicator is created either) and says, line by line,
what to correct.
"""

import json
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from modell.core.errors import RuleViolation
from modell.core.types import utcnow
from modell.extensions import db
from modell.improvements.importing import (
    MAX_BYTES,
    ParsedFile,
    RowError,
    find_indicator,
    find_or_create_indicator,
    import_values,
    parse_indicator_csv,
)
from modell.improvements.kolada import (
    KOLADA_CREDIT,
    MAX_RESPONSE_BYTES,
    kolada_id,
    parse_kolada_response,
)
from modell.organisations.models import Organisation

indicators_cli = AppGroup("indicators", help="Indicators split by sex (könsuppdelad statistik).")

_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


def _organisation(code: str) -> Organisation:
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.scb_code == code))
    if organisation is None:
        raise click.UsageError(f"no organisation has the SCB code {code}")
    return organisation


def _read(path: Path, limit: int) -> bytes:
    """At most one byte past the limit: enough for the importer to refuse a large file
    without reading all of it."""
    with path.open("rb") as f:
        return f.read(limit + 1)


def describe(error: RowError, where: str = "line") -> str:
    """ "line 3, Kvinnor: ..." as the user finds it in the file; "file: ..." for the whole."""
    if not error.line:
        return f"file: {error.message}"
    place = f"{where} {error.line}"
    if error.column:
        place += f", {error.column}"
    return f"{place}: {error.message}"


def _import(
    parsed: ParsedFile,
    *,
    organisation: Organisation,
    name: str,
    unit: str | None,
    source: str,
    kpi: str | None = None,
    where: str = "line",
) -> None:
    if parsed.errors:
        for error in parsed.errors:
            click.echo(describe(error, where), err=True)
        click.echo(f"Nothing was imported: the file has {len(parsed.errors)} error(s).", err=True)
        click.get_current_context().exit(1)
    now = utcnow()
    try:
        indicator = find_or_create_indicator(
            db.session, organisation, name, now=now, unit=unit, source=source, kolada_kpi=kpi
        )
        result = import_values(db.session, indicator, parsed, now=now, user_id=None, source=source)
    except RuleViolation as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(
        f"{result.written} value(s) written to “{indicator.name}” of {organisation.name}: "
        f"{result.created} new, {result.updated} changed, {result.unchanged} unchanged"
        + (f", {result.skipped} period(s) without values left out." if result.skipped else ".")
    )


@indicators_cli.command("import")
@click.argument("file", type=_FILE)
@click.option("--organisation", "code", required=True, help="The organisation's SCB code.")
@click.option("--indicator", "name", required=True, help="The indicator's name (made if new).")
@click.option("--unit", help="The unit, e.g. antal or procent (a count cannot be negative).")
def import_command(file: Path, code: str, name: str, unit: str | None):
    """Import a CSV file: Period plus Kvinnor, Män, Totalt (or Women, Men, Total) columns,
    as Excel saves it (semicolons and decimal commas) or plain comma CSV."""
    organisation = _organisation(code)
    existing = find_indicator(db.session, organisation, name)
    unit = unit or (existing.unit if existing else None)
    parsed = parse_indicator_csv(_read(file, MAX_BYTES), unit=unit, max_bytes=MAX_BYTES)
    _import(parsed, organisation=organisation, name=name, unit=unit, source="csv")


@indicators_cli.command("import-kolada")
@click.argument("file", type=_FILE)
@click.option("--organisation", "code", required=True, help="The organisation's SCB code.")
@click.option("--indicator", "name", required=True, help="The indicator's name (made if new).")
@click.option("--kpi", required=True, help="Kolada's KPI id, e.g. N00945.")
@click.option("--unit", help="The unit, e.g. antal or procent (a count cannot be negative).")
def import_kolada_command(file: Path, code: str, name: str, kpi: str, unit: str | None):
    """Import a saved Kolada v3 data response (/v3/data/kpi/.../municipality/.../year/...)."""
    organisation = _organisation(code)
    municipality = kolada_id(organisation)
    if municipality is None:
        raise click.UsageError(f"{organisation.name} has no id in Kolada")
    content = _read(file, MAX_RESPONSE_BYTES)
    if len(content) > MAX_RESPONSE_BYTES:
        raise click.ClickException("the file is larger than a Kolada response can be")
    try:
        data = json.loads(content)
    except ValueError as error:
        raise click.ClickException(f"the file is not JSON: {error}") from error
    existing = find_indicator(db.session, organisation, name)
    unit = unit or (existing.unit if existing else None)
    parsed = parse_kolada_response(data, municipality=municipality, kpi=kpi, unit=unit)
    _import(
        parsed,
        organisation=organisation,
        name=name,
        unit=unit,
        source="kolada",
        kpi=kpi,
        where="entry",
    )
    click.echo(str(KOLADA_CREDIT))
