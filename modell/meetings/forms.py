"""Forms for meetings: time and place, checklist, answers, attendance, documentation, PMI."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional

from modell.core.forms import Form, options


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class MeetingForm(Form):
    version = HiddenField()
    day = DateField(_l("Date"), validators=[DataRequired()])
    start = TimeField(
        _l("Starts"),
        validators=[DataRequired()],
        description=_l("Swedish time (Europe/Stockholm)."),
    )
    end = TimeField(_l("Ends"), validators=[DataRequired()])
    host_organisation_id = SelectField(
        _l("Host"), coerce=_int_or_none, choices=[], validators=[Optional()]
    )
    location = StringField(
        _l("Place"), validators=[Optional(), Length(max=300)], description=_l("Address and room.")
    )
    video_link = URLField(_l("Video link"), validators=[Optional(), URL(), Length(max=500)])
    agenda = TextAreaField(
        _l("Agenda"),
        validators=[Optional(), Length(max=20000)],
        description=_l("Markdown: headings with #, lists with -."),
    )
    accessibility_info = TextAreaField(
        _l("Accessibility"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Entrance, lift, hearing loop, parking."),
    )

    def seen_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class ChecklistForm(Form):
    venue_booked = BooleanField(_l("Venue booked"))
    wheelchair_access = BooleanField(_l("Accessible by wheelchair"))
    hearing_loop = BooleanField(_l("Hearing loop"))
    public_transport = BooleanField(_l("Reachable by public transport"))
    remote_participation = BooleanField(_l("Remote participation possible"))
    note_taker_id = SelectField(
        _l("Note taker"), coerce=_int_or_none, choices=[], validators=[Optional()]
    )
    next_meeting_set = BooleanField(_l("Date of the next meeting set"))


class CancelForm(Form):
    reason = StringField(_l("Why it is cancelled"), validators=[Optional(), Length(max=500)])


RESPONSE_LABELS = {"yes": _l("Yes, I will come"), "no": _l("No, I cannot come")}


class ResponseForm(Form):
    response = RadioField(
        _l("Will you come?"),
        choices=options((k, v) for k, v in RESPONSE_LABELS.items()),
        validators=[InputRequired(message=_l("Answer yes or no."))],
    )
    diet = StringField(_l("Special diet"), validators=[Optional(), Length(max=300)])
    needs_hearing_loop = BooleanField(_l("I need a hearing loop"))
    other_needs = TextAreaField(_l("Other needs"), validators=[Optional(), Length(max=2000)])


class DocumentationForm(Form):
    minutes = TextAreaField(
        _l("Minutes"), validators=[Optional(), Length(max=50000)], description=_l("Markdown.")
    )
    decisions = TextAreaField(_l("Decisions"), validators=[Optional(), Length(max=20000)])


class UploadForm(Form):
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l("PDF, Word, Excel, PowerPoint, OpenDocument, text or image."),
    )


class PmiForm(Form):
    plus = TextAreaField(
        _l("Plus"), validators=[Optional(), Length(max=5000)], description=_l("What worked well.")
    )
    minus = TextAreaField(
        _l("Minus"),
        validators=[Optional(), Length(max=5000)],
        description=_l("What could be better."),
    )
    interesting = TextAreaField(
        _l("Interesting"),
        validators=[Optional(), Length(max=5000)],
        description=_l("What you want to take further."),
    )
