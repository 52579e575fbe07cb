"""SQLite as the embedded default: the web server, the worker and the scheduler each hold
connections to one file, and a writer waits for another's transaction to end. The driver's
default wait is 5 seconds; on a busy machine a mail delivery or a scheduler tick can take
longer, so every SQLite connection waits up to SQLITE_BUSY_MS before "database is locked"."""

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_MS = 30_000


@event.listens_for(Engine, "connect")
def _wait_for_the_lock(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")


def write_lock(session) -> None:
    """On SQLite, begin the session's transaction with BEGIN IMMEDIATE, holding the write
    lock from its first read. A transaction that reads inside a savepoint and then writes
    would otherwise deadlock with another writer, and SQLite answers that at once with
    "database is locked", without waiting. For the background processes that read, decide
    and write in one go (the reminders); a no-op on other databases or inside a transaction
    that has begun already."""
    if session.get_bind().dialect.name != "sqlite":
        return
    dbapi = session.connection().connection.dbapi_connection
    if not dbapi.in_transaction:
        dbapi.execute("BEGIN IMMEDIATE")
