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
