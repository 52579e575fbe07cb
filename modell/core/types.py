"""Column types shared by all domains."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A point in time, stored in UTC and always returned timezone-aware.

    SQLite keeps no time zone; PostgreSQL keeps `timestamptz`. Either way the
    application sees an aware UTC datetime and never a naive one.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def choice(*values: str, name: str, length: int = 32) -> sa.Enum:
    """A closed set of string values, stored as VARCHAR with a CHECK constraint."""
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
    )


def utcnow() -> datetime:
    """The current time in UTC. Only routes, CLI and the scheduler call this; rules take `now`."""
    return datetime.now(UTC)
