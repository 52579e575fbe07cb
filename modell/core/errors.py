"""What a service says when a rule of the programme stops a change.

Routes catch these and show the message beside the field it names (or above the form);
nothing is stored, because the service raises before anything is committed.
"""

from flask_babel import lazy_gettext as _l

# The years the app accepts (core.timeutil.EARLIEST..LATEST), said where a date is refused.
DATE_RANGE_MESSAGE = _l("Give a date in the years 2000 to 2100.")


class RuleViolation(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class StaleEdit(RuleViolation):
    """Someone else changed the object since this user opened the form."""


class NeedsConfirmation(RuleViolation):
    """The change breaks a rule that a coordinator may set aside with a reason."""

    def __init__(self, warnings: list[str], field: str | None = "exception_reason"):
        super().__init__("; ".join(str(w) for w in warnings), field)
        self.warnings = warnings


def check_version(obj, expected_version: int | None) -> None:
    """Optimistic locking: refuse a change made from a form that showed an older version."""
    if expected_version is not None and obj.version != expected_version:
        raise StaleEdit(
            _l(
                "Someone else changed this while you were editing. Their version is shown; "
                "what you wrote is kept in the form below: check it and send it again."
            )
        )
