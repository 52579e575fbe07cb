"""Forms for the improvement work: baseline, work, log entry, good examples, mentor sessions."""

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from modell.cohorts.forms import MultiCheckboxField, VersionedForm, int_or_none
from modell.core.forms import Form, options
from modell.improvements.importing import parse_number
from modell.improvements.indicators import POPULATION_CHOICES
from modell.improvements.services import (
    EXPECTED_RESULT_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
    SUBGOAL_LABELS,
    TARGET_GROUP_LABELS,
)
from modell.organisations.models import FUNCTION_LABELS

LONG = 20000


def _text(label, description=None, required=False, max_length=LONG):
    validators = [DataRequired() if required else Optional(), Length(max=max_length)]
    return TextAreaField(label, validators=validators, description=description)


class BaselineForm(VersionedForm):
    mandate_decision = _text(
        _l("The political mandate"),
        _l("The decision to gender-mainstream the organisation: what was decided, by whom."),
    )
    mandate_date = DateField(_l("Date of the decision"), validators=[Optional()])
    responsible = StringField(
        _l("Who is responsible"),
        validators=[Optional(), Length(max=300)],
        description=_l("The politician, the manager and the key person who lead the work."),
    )
    demography = _text(_l("Demography"), _l("Population by sex and age, and what stands out."))
    organisation_text = _text(
        _l("Organisation"), _l("Administrations, companies, how governance is organised.")
    )
    goals = _text(_l("Goals"), _l("The goals for gender equality the organisation has set."))
    priority_areas = _text(_l("Priority areas"))
    functions = MultiCheckboxField(
        _l("Functions that take part"),
        choices=options(FUNCTION_LABELS.items()),
        description=_l("Involving the politician, the manager and the strategist is a key."),
    )


class WorkForm(VersionedForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = _text(
        _l("The inequality it addresses"),
        _l("What is unequal today, for whom, and how it shows."),
        required=True,
    )
    core_activity = StringField(
        _l("Core activity"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("For example home care, schools, labour-market measures, a cycling plan."),
    )
    target_groups = MultiCheckboxField(
        _l("Target groups"), choices=options(TARGET_GROUP_LABELS.items())
    )
    target_groups_other = StringField(_l("Other groups"), validators=[Optional(), Length(max=300)])
    goal = _text(_l("Goal"), _l("What should be different for women and men, girls and boys."))
    subgoals = MultiCheckboxField(
        _l("National gender-equality sub-goals"), choices=options(SUBGOAL_LABELS.items())
    )
    owner = StringField(
        _l("Owner"),
        validators=[Optional(), Length(max=200)],
        description=_l("Who leads the work in the organisation."),
    )
    status = SelectField(_l("Status"), choices=options(STATUS_LABELS.items()))


class EntryForm(VersionedForm):
    entry_date = DateField(_l("Date"), validators=[DataRequired()])
    text = _text(_l("What was done"), required=True)
    result_step = RadioField(
        _l("How far along the result chain did it reach?"),
        coerce=int,
        choices=options(STEP_LABELS.items()),
        validators=[InputRequired(message=_l("Choose the step the work reached."))],
    )
    indicator_id = SelectField(
        _l("The indicator that shows the change"),
        coerce=int_or_none,
        choices=[],
        validators=[Optional()],
        description=_l("Needed for step 4: values for women and men in at least two periods."),
    )
    expected_results = MultiCheckboxField(
        _l("Expected results this shows"), choices=options(EXPECTED_RESULT_LABELS.items())
    )
    evidence_link = URLField(
        _l("Evidence: a link"),
        validators=[Optional(), URL(), Length(max=500)],
        description=_l("A decision, a routine, a report, a web page."),
    )
    evidence_file = FileField(
        _l("Evidence: a file"),
        description=_l("PDF, Word, Excel, PowerPoint, OpenDocument, text or image."),
    )
    learned = _text(_l("What we learned"))
    obstacles = _text(_l("Obstacles"))
    next_steps = _text(_l("Next steps"))


class GoodExampleSearchForm(Form):
    class Meta:
        csrf = False

    aktivitet = StringField(_l("Core activity"), validators=[Optional(), Length(max=200)])
    delmal = SelectField(
        _l("Sub-goal"), choices=options(SUBGOAL_LABELS.items(), blank=True), validators=[Optional()]
    )
    text = StringField(_l("Words"), validators=[Optional(), Length(max=200)])


class MentorSessionForm(Form):
    held_on = DateField(_l("Date"), validators=[DataRequired()])
    organisation_ids = MultiCheckboxField(
        _l("Organisations that took part"), coerce=int, choices=[]
    )
    mode = SelectField(
        _l("How"),
        choices=options(
            [("on_site", _l("On site")), ("remote", _l("Video")), ("phone", _l("Phone"))]
        ),
    )
    duration_minutes = IntegerField(
        _l("Length in minutes"), validators=[Optional(), NumberRange(1, 24 * 60)]
    )
    topics = _text(_l("Topics"), required=True)
    notes = _text(_l("Advice given"))
    follow_ups = _text(_l("Follow-ups agreed"))


class IndicatorForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    unit = StringField(
        _l("Unit"),
        validators=[Optional(), Length(max=50)],
        description=_l("For example antal, procent, timmar, kronor."),
    )
    population = RadioField(
        _l("Split by"),
        choices=options(POPULATION_CHOICES.items()),
        default="adults",
        validators=[InputRequired()],
    )
    kolada_kpi = StringField(
        _l("Kolada key figure (optional)"),
        validators=[Optional(), Length(max=20)],
        description=_l("For example N00945, when the values come from Kolada."),
    )
    description = _text(_l("Description"), max_length=5000)


class NumberField(StringField):
    """A number as a Swedish user writes it ("12,5", "1 234"), or empty."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        try:
            self.data = parse_number(self.raw_text) if self.raw_text else None
        except ValueError:
            self.data = None
            self.process_errors.append(_l("Write a number, like 12,5 or 1 234."))

    def _value(self):
        if getattr(self, "raw_text", None) is not None:
            return self.raw_text
        return "" if self.data is None else format_decimal(self.data)


class ValueForm(Form):
    period = StringField(
        _l("Period"),
        validators=[DataRequired(), Length(max=10)],
        description=_l("A year (2024) or a year and month (2024-03)."),
    )
    women = NumberField(_l("Women"))
    men = NumberField(_l("Men"))
    total = NumberField(_l("Total"))


class ImportForm(Form):
    file = FileField(
        _l("CSV file"),
        description=_l(
            "From Excel: “CSV (semikolonavgränsad)” or “CSV UTF-8”, with the headings Period, "
            "Kvinnor, Män and Totalt."
        ),
    )
    content = HiddenField()
