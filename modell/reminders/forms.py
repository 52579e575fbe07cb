from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField

from modell.core.forms import Form, options

REMINDER_MAIL_CHOICES = [
    ("immediate", _l("By e-mail on the morning they come due")),
    ("weekly", _l("In one e-mail a week, on Monday morning")),
]


class ReminderSettingsForm(Form):
    optional_reminders = BooleanField(
        _l("Reminders that are not essential"),
        description=_l(
            "The reminders the programme does not mark as essential, for example a week and "
            "a day before a meeting. The essential ones always come."
        ),
    )
    reminder_mail = RadioField(
        _l("How reminders reach you"),
        choices=options(REMINDER_MAIL_CHOICES),
        default="immediate",
        description=_l(
            "Essential reminders always come by e-mail at once. Every reminder is also on "
            "your notifications page."
        ),
    )
