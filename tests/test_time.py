"""Time is stored in UTC and entered and shown in Europe/Stockholm."""

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa

from modell.core.models import AuditEntry
from modell.core.timeutil import local_to_utc, to_local
from modell.extensions import db


def test_a_stored_time_comes_back_as_the_same_aware_utc_instant(app, ctx):
    instant = datetime(2019, 2, 7, 9, 30, tzinfo=UTC)
    db.session.add(AuditEntry(at=instant, action="t", object_type="x", details={}))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(sa.select(AuditEntry.at).where(AuditEntry.action == "t"))
    assert stored == instant and stored.tzinfo is not None and stored.utcoffset().seconds == 0


def test_a_naive_time_is_refused_rather_than_guessed(app, ctx):
    db.session.add(AuditEntry(at=datetime(2019, 2, 7, 9, 30), action="t", object_type="x"))
    with pytest.raises(sa.exc.StatementError):
        db.session.commit()
    db.session.rollback()


def test_stockholm_wall_clock_times_convert_across_summer_time():
    winter = local_to_utc(date(2019, 2, 7), time(10, 0))
    summer = local_to_utc(date(2019, 6, 7), time(10, 0))
    assert winter == datetime(2019, 2, 7, 9, 0, tzinfo=UTC)
    assert summer == datetime(2019, 6, 7, 8, 0, tzinfo=UTC)
    assert to_local(summer).hour == 10
