"""The audit trail: one call beside every change."""

from datetime import datetime

from sqlalchemy.orm import Session

from modell.core.models import AuditEntry


def record(
    session: Session,
    *,
    now: datetime,
    user_id: int | None,
    action: str,
    obj: object | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    **details: object,
) -> AuditEntry:
    """Add an audit entry to the current transaction (it commits or rolls back with the change)."""
    if obj is not None:
        session.flush()
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    entry = AuditEntry(
        at=now,
        user_id=user_id,
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        details={k: _plain(v) for k, v in details.items()},
    )
    session.add(entry)
    return entry


def _plain(value: object) -> object:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
