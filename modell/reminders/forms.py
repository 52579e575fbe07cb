from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from modell.core.forms import Form


class ReminderSettingsForm(Form):
    # The weekly digest (users.reminder_mail) is stored but not offered until it is sent.
    optional_reminders = BooleanField(
        _l("Reminders that are not essential"),
        description=_l(
            "A week and a day before a meeting, halfway between meetings, Plus – Minus – "
            "Interesting. Reminders to hosts and of the result presentation always come."
        ),
    )
