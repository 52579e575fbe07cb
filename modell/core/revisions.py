"""A cohort's revision: a number in the database that changes with every change inside the
cohort, in the transaction that makes the change (a fresh random number, so that no two
databases, say those of two test runs, ever share a cohort id and revision). What a page computes from a national
cohort's thousands of rows (attendance counted over its invitations, the steps of its log
entries, its calendar) is kept under (cohort, revision) and used until the number changes:
every web worker and host reads the number from the shared database, so none shows what
another has since changed.

The rule is kept in one place, the session's flush: every row written or deleted that
belongs to a cohort (directly, through a meeting, a participation, a work, an indicator, an
organisation taking part, or the programme template whose meeting kinds name its meetings)
marks that cohort, and the commit renews the marked cohorts' numbers, in id order so that two
transactions never wait for each other crosswise. A statement that bypasses the ORM (an
UPDATE of many rows) calls `touch` itself.
"""

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

MARKED = "modell_cohorts_changed"

# How a changed row finds its cohorts: (attribute, what it names), per model; filled by
# `follow` from the models' modules, so this module imports none of them.
_FOLLOWED: dict[type, tuple[tuple[str, str], ...]] = {}
# What each kind of id resolves to, as SQL giving cohort ids (None: the id is a cohort's).
_RESOLVE: dict[str, Callable[[list[int]], sa.Select] | None] = {"cohort": None}


def follow(model: type, *links: tuple[str, str]) -> None:
    """Declare the model's rows part of the cohorts its `links` lead to, e.g.
    follow(Invitation, ("meeting_id", "meeting"))."""
    _FOLLOWED[model] = links


def resolver(kind: str, select: Callable[[list[int]], sa.Select]) -> None:
    """How ids of `kind` lead to cohort ids: a function of the ids giving a SELECT."""
    _RESOLVE[kind] = select


def _values(obj, attribute: str) -> set[int]:
    """The attribute's value now and, if it changed, before: a row moved from one cohort's
    group to another's marks both."""
    state = sa.inspect(obj)
    values = {getattr(obj, attribute, None)}
    if attribute in state.attrs:
        values.update(state.attrs[attribute].history.deleted or ())
    return {v for v in values if v is not None}


def cohorts_of(session: Session, objects: Iterable) -> set[int]:
    """The cohorts the objects belong to, asked of the database where the link is indirect
    (a log entry's work's participation's cohort)."""
    wanted: dict[str, set[int]] = {}
    for obj in objects:
        for attribute, kind in _links(obj) or ():
            wanted.setdefault(kind, set()).update(_values(obj, attribute))
    found = set(wanted.pop("cohort", ()))
    for kind, ids in wanted.items():
        if ids:
            found.update(session.connection().execute(_RESOLVE[kind](sorted(ids))).scalars())
    return found


def _links(obj) -> tuple[tuple[str, str], ...] | None:
    """How the object's rows find their cohorts (declared for its class or a base), if at all."""
    return next((_FOLLOWED[c] for c in type(obj).__mro__ if c in _FOLLOWED), None)


def touch(session: Session, cohort_ids: Iterable[int]) -> None:
    """Mark cohorts changed by a statement the flush does not see; renewed at commit."""
    session.info.setdefault(MARKED, set()).update(i for i in cohort_ids if i is not None)


def _after_flush(session: Session, _context) -> None:
    changed = [
        *(o for o in (*session.new, *session.deleted) if _links(o)),
        *(o for o in session.dirty if _links(o) and session.is_modified(o)),
    ]
    if changed:
        touch(session, cohorts_of(session, changed))


def _before_commit(session: Session) -> None:
    session.flush()  # what is still pending is marked before the numbers move
    marked = session.info.pop(MARKED, None)
    if not marked:
        return
    from modell.cohorts.models import Cohort

    table = Cohort.__table__
    for cohort_id in sorted(marked):
        session.connection().execute(
            sa.update(table).where(table.c.id == cohort_id).values(revision=new_revision())
        )


def new_revision() -> int:
    """Never 0: 0 is a cohort written before revisions were kept, or by a bulk load that
    did not touch it; its results are computed every time."""
    return secrets.randbits(62) | 1


def _forget(session: Session, *_args) -> None:
    session.info.pop(MARKED, None)
    session.info.pop(READ, None)


def _after_commit(session: Session) -> None:
    session.info.pop(READ, None)  # the numbers this transaction renewed are read anew


def install(session_class) -> None:
    """Track changes on every session of the app (called once from create_app)."""
    if event.contains(session_class, "after_flush", _after_flush):
        return
    event.listen(session_class, "after_flush", _after_flush)
    event.listen(session_class, "before_commit", _before_commit)
    event.listen(session_class, "after_commit", _after_commit)
    event.listen(session_class, "after_rollback", _forget)
    event.listen(session_class, "after_soft_rollback", _forget)


READ = "modell_revisions_read"


def revision_of(session: Session, cohort_id: int) -> int | None:
    """The cohort's number as the database had it when first asked in this transaction (not
    as a loaded object remembers it): whatever is read after it is at least as new. A view
    whose results are kept asks first, before it reads anything of the cohort, so that
    nothing older than the number is ever kept under it."""
    read = session.info.setdefault(READ, {})
    if cohort_id not in read:
        from modell.cohorts.models import Cohort

        table = Cohort.__table__
        read[cohort_id] = session.connection().scalar(
            sa.select(table.c.revision).where(table.c.id == cohort_id)
        )
    return read[cohort_id]


def revision_through(session: Session, cohort_id_of) -> int | None:
    """revision_of for a view that knows the cohort only through another row (a meeting's,
    a group's): `cohort_id_of` is a scalar subquery giving the cohort's id. One query for
    both, before anything else of the cohort is read."""
    from modell.cohorts.models import Cohort

    table = Cohort.__table__
    row = (
        session.connection()
        .execute(sa.select(table.c.id, table.c.revision).where(table.c.id == cohort_id_of))
        .first()
    )
    if row is None:
        return None
    read = session.info.setdefault(READ, {})
    return read.setdefault(row.id, row.revision)


# --- what is kept ------------------------------------------------------------------------

# What a worker keeps, at most, by the estimate of `_weight`: a national cohort's calendar is
# some 200 kB, a page's written part 10–50 kB; the least recently used goes first.
KEPT_BYTES = 8 * 1024 * 1024
_kept: OrderedDict = OrderedDict()  # key: (value, weight)
_weights = 0
_lock = threading.Lock()


def _weight(value, depth: int = 0) -> int:
    """About how many bytes the value holds: text by its length, containers and dataclasses
    by what they hold (a few levels down), anything else a small constant."""
    if isinstance(value, str | bytes):
        return 50 + len(value)
    if depth > 4:
        return 64
    if isinstance(value, set | frozenset):
        return 200 + 40 * len(value)  # of ids
    if isinstance(value, dict):
        value = list(value.items())
    if isinstance(value, list | tuple):
        # A long sequence by its first few: its rows are alike.
        sample = value[:8]
        each = sum(_weight(v, depth + 1) for v in sample) / max(len(sample), 1)
        return 56 + int(each * len(value))
    # Asked of the type: asking a lazy translation for an attribute would translate it.
    fields = getattr(type(value), "__dataclass_fields__", None)
    if fields:
        return 64 + sum(_weight(getattr(value, f), depth + 1) for f in fields)
    return 32


def kept(
    session: Session, cohort_id: int, name: str, compute: Callable[[], object], *key: Hashable
):
    """compute(), or what it gave before for this cohort at its present revision (and the
    same `key`: the language, the day). The result must be plain data or markup, never a
    loaded object, and must not be changed by its reader. Within a transaction that has
    changed something, always computed: the number changes only at commit."""
    global _weights
    if session.new or session.dirty or session.deleted or session.info.get(MARKED):
        return compute()
    revision = revision_of(session, cohort_id)
    if not revision:
        return compute()
    cache_key = (name, cohort_id, revision, *key)
    with _lock:
        found = _kept.get(cache_key)
        if found is not None:
            _kept.move_to_end(cache_key)
            return found[0]
    value = compute()
    weight = _weight(value)
    if weight > KEPT_BYTES // 4:
        return value  # too large to keep
    with _lock:
        if cache_key not in _kept:
            _kept[cache_key] = (value, weight)
            _weights += weight
        while _weights > KEPT_BYTES:
            _old, (_value, old_weight) = _kept.popitem(last=False)
            _weights -= old_weight
    return value
