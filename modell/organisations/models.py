"""Organisations, counties and people with their function."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modell.core.access import Scope
from modell.core.collation import swedish
from modell.core.types import UTCDateTime, choice
from modell.extensions import db

ORGANISATION_KINDS = (
    "municipality",
    "region",
    "agency",
    "federation",
    "district_administration",
    "other",
)

# The three functions every participating organisation brings, then the optional ones.
FUNCTIONS = (
    "politician",
    "manager",
    "strategist",
    "controller",
    "statistician",
    "communicator",
    "other",
)
CORE_FUNCTIONS = FUNCTIONS[:3]

KIND_LABELS = {
    "municipality": _l("Municipality"),
    "region": _l("Region"),
    "agency": _l("State agency"),
    "federation": _l("Federation of municipalities"),
    "district_administration": _l("District administration"),
    "other": _l("Other organisation"),
}
FUNCTION_LABELS = {
    "politician": _l("Politician"),
    "manager": _l("Manager"),
    "strategist": _l("Strategist"),
    "controller": _l("Controller"),
    "statistician": _l("Statistician"),
    "communicator": _l("Communicator"),
    "other": _l("Other function"),
}


class County(db.Model):
    """A county (län) with its two-digit SCB code."""

    __tablename__ = "counties"

    code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    kind: Mapped[str] = mapped_column(choice(*ORGANISATION_KINDS, name="organisation_kind"))
    # SCB code as text: "0180" for a municipality, "01" for a region. Null for others.
    scb_code: Mapped[str | None] = mapped_column(sa.String(4))
    county_code: Mapped[str | None] = mapped_column(sa.ForeignKey("counties.code"), index=True)
    seat: Mapped[str | None] = mapped_column(sa.String(100))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    is_reference: Mapped[bool] = mapped_column(default=False)
    website: Mapped[str | None] = mapped_column(sa.String(300))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Named by a stranger on the public form: not in the register (lists, pickers, exports,
    # matching) until SKR accepts its registration.
    proposed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    county: Mapped[County | None] = relationship()
    people: Mapped[list["Person"]] = relationship(
        back_populates="organisation", order_by=lambda: swedish(Person.name)
    )

    __table_args__ = (sa.UniqueConstraint("kind", "scb_code", name="uq_organisations_kind_scb"),)

    def __repr__(self) -> str:
        return f"<Organisation {self.name}>"

    def access_scope(self) -> Scope:
        # Names, codes and counties are public facts: every logged-in user may read them.
        return Scope(editors=frozenset(), public=True)


class Person(db.Model):
    """Someone in an organisation with a function (politician, manager, strategist, ...)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    function: Mapped[str] = mapped_column(choice(*FUNCTIONS, name="person_function"))
    title: Mapped[str | None] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="people")
