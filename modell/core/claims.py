"""Claiming rows for one process: what the mail delivery and the reminders share.

A claim marks up to `limit` rows as this process's (a state and a claim time) so that no
other process, on this host or another, takes them: on PostgreSQL with
`SELECT ... FOR UPDATE SKIP LOCKED` (a row locked by another transaction is passed over,
not waited for), elsewhere with one conditional `UPDATE ... RETURNING`, which SQLite runs
under its single writer lock. Either way a row is claimed by one process or none.
"""

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


def claim(
    session: Session,
    model: Any,
    claimable: sa.ColumnElement[bool],
    *,
    order_by: tuple,
    limit: int,
    values: Mapping[str, Any],
) -> list[int]:
    """Claim up to `limit` rows of `model` matching `claimable`; return their ids.
    The caller commits (the claim is visible to others once committed)."""
    wanted = sa.select(model.id).where(claimable).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(wanted.with_for_update(skip_locked=True)))
        if ids:
            session.execute(sa.update(model).where(model.id.in_(ids)).values(**values))
        return ids
    taken = session.scalars(
        sa.update(model)
        .where(model.id.in_(wanted.scalar_subquery()), claimable)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(taken)
