"""Swedish alphabetical order in the database: case-insensitive, Å Ä Ö after Z.

`ORDER BY swedish(Organisation.name)` sorts as a Swedish reader expects on both databases:
PostgreSQL through its ICU collation "sv-SE-x-icu", SQLite through a collation of the same
name registered on every connection (core.text.swedish_key).
"""

import sqlite3
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from modell.core.text import swedish_key


class swedish(FunctionElement):  # noqa: N801 # used like a SQL function
    """A text column compared the Swedish way."""

    inherit_cache = True
    type = sa.String()


@compiles(swedish)
def _sqlite(element, compiler, **kw):
    return f"{compiler.process(element.clauses, **kw)} COLLATE swedish"


@compiles(swedish, "postgresql")
def _postgresql(element, compiler, **kw):
    return f'{compiler.process(element.clauses, **kw)} COLLATE "sv-SE-x-icu"'


# SQLite asks for a comparison of two names thousands of times to sort one list (a few
# hundred organisations): each name's key is made once, not in every comparison.
_key = lru_cache(maxsize=16384)(swedish_key)


def _compare(a: str, b: str) -> int:
    ka, kb = _key(a), _key(b)
    return (ka > kb) - (ka < kb)


@event.listens_for(Engine, "connect")
def _register(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_collation("swedish", _compare)
