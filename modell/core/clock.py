"""The app's clock. Services take `now` as an argument; routes ask here.

`CLOCK` in the config (a callable returning an aware UTC datetime) sets the time for the
whole app, so a browser test can walk a 2019 cohort as if it were 2019.
"""

from datetime import date, datetime

from flask import current_app

from modell.core.timeutil import to_local
from modell.core.types import utcnow


def now() -> datetime:
    clock = current_app.config.get("CLOCK")
    return clock() if clock else utcnow()


def today() -> date:
    """Today's date in Stockholm."""
    return to_local(now()).date()
