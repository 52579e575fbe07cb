"""The programme's history as SKR publishes it: every organisation with its title and the
cohorts it took part in, with their roles; and the file a past cohort is imported from.

The list of organisations is a machine format, the same whoever asks: Swedish headings
(`Organisation`, `SCB-kod`, `Typ`, `Län`, `Titel`, `Omgångar`), dates in ISO 8601.
"""

from collections import defaultdict

import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.orm import Session

from modell.cohorts.intake import TEMPLATE_HEADINGS
from modell.cohorts.models import (
    PARTICIPATION_ROLE_LABELS,
    Cohort,
    OrganisationTitle,
    Participation,
)
from modell.cohorts.services import TITLE_LABELS
from modell.core.spreadsheets import CSV_MIME, add_sheet, to_csv, to_xlsx
from modell.core.text import swedish_key
from modell.organisations.models import KIND_LABELS, County, Organisation
from modell.organisations.services import IN_REGISTER

ORGANISATION_HEADINGS = ["Organisation", "SCB-kod", "Typ", "Län", "Titel", "Omgångar"]
STATUS_WORDS = {"completed": "fullföljt", "not_completed": "ej fullföljt", "withdrawn": "avbrutet"}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def organisations_table(session: Session) -> list[list]:
    """Every organisation of the register, the Swedish way sorted, with its title and its
    cohorts ("Modellkommuner 2017–2018 (benchmarking, fullföljt)"), oldest first."""
    # Plain rows, not objects: the register and a decade of participations.
    organisations = session.execute(
        sa.select(
            Organisation.id,
            Organisation.name,
            Organisation.scb_code,
            Organisation.kind,
            County.name,
        )
        .outerjoin(County, County.code == Organisation.county_code)
        .where(IN_REGISTER)
    ).all()
    titles = dict(
        session.execute(sa.select(OrganisationTitle.organisation_id, OrganisationTitle.title)).all()
    )
    with force_locale("sv"):
        roles = {k: str(label).lower() for k, label in PARTICIPATION_ROLE_LABELS.items()}
        kinds = {k: str(label) for k, label in KIND_LABELS.items()}
    taken: dict[int, list[str]] = defaultdict(list)
    for organisation_id, role, status, cohort in session.execute(
        sa.select(
            Participation.organisation_id, Participation.role, Participation.status, Cohort.name
        )
        .join(Cohort, Participation.cohort_id == Cohort.id)
        .order_by(Cohort.starts_on.nulls_last(), Cohort.id)
    ):
        what = roles[role]
        if status in STATUS_WORDS:
            what += ", " + STATUS_WORDS[status]
        taken[organisation_id].append(f"{cohort} ({what})")
    return [
        [
            name,
            scb_code or "",
            kinds[kind],
            county or "",
            TITLE_LABELS.get(titles.get(organisation_id), ""),
            "; ".join(taken[organisation_id]),
        ]
        for organisation_id, name, scb_code, kind, county in sorted(
            organisations, key=lambda o: (swedish_key(o[1]), o[3])
        )
    ]


def export_organisations(session: Session, fmt: str) -> tuple[bytes, str, str]:
    """(content, mimetype, file name) of the list of organisations."""
    rows = organisations_table(session)
    if fmt == "xlsx":
        return (
            to_xlsx(ORGANISATION_HEADINGS, rows, title="Organisationer"),
            XLSX_MIME,
            ("organisationer.xlsx"),
        )
    if fmt == "csv":
        return to_csv(ORGANISATION_HEADINGS, rows), CSV_MIME, "organisationer.csv"
    raise ValueError(f"unknown format {fmt!r}")


# What each column of the import takes, with an example, for the template's second sheet. In
# Swedish, as the headings are: the file is a machine format.
TEMPLATE_GUIDE = [
    ["Kolumn", "Vad den tar", "Exempel"],
    ["Organisation", "Organisationens namn, som i registret (krävs).", "Hudiksvall"],
    ["SCB-kod", "Kommun- eller länskod (valfri; matchar säkrast).", "2184"],
    ["Roll", "benchmarking, mentor eller stöd (krävs).", "benchmarking"],
    ["Grupp", "Valfri beteckning; rader med samma beteckning blir en grupp (krävs).", "A"],
    ["Fullföljt", "ja eller nej, för en avslutad omgång (valfri).", "ja"],
    ["Orsak", "Varför, när Fullföljt är nej.", ""],
    [
        "Typ",
        "Organisationens typ, för en organisation som inte finns i registret: den läggs då "
        "till (valfri).",
        "Kommunförbund",
    ],
    [],
    ["Exempel på en grupp (skriv raderna på bladet Omgång, inte här):"],
    list(TEMPLATE_HEADINGS),
    ["Hudiksvall", "2184", "benchmarking", "A", "ja", "", ""],
    ["Nordanstig", "2132", "benchmarking", "A", "nej", "Valet 2018", ""],
    ["Region Gävleborg", "21", "mentor", "A", "ja", "", ""],
    ["Hälsingerådet", "", "stöd", "A", "ja", "", "Kommunförbund"],
]


def import_template(fmt: str) -> tuple[bytes, str, str]:
    """The file to fill in for a cohort import: the headings on the first sheet, and in a
    workbook a second sheet that says what each column takes, with an example group. The CSV
    is the headings only (the import page says the rest): an example row there would be
    imported."""
    headings = list(TEMPLATE_HEADINGS)
    if fmt == "xlsx":
        book = to_xlsx(headings, [], title="Omgång")
        return add_sheet(book, TEMPLATE_GUIDE, title="Instruktioner"), XLSX_MIME, "omgang-mall.xlsx"
    return to_csv(headings, []), CSV_MIME, "omgang-mall.csv"
