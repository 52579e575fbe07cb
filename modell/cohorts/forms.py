"""Forms for cohorts, interest registrations, groups and programme templates."""

import functools

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from modell.cohorts.models import (
    FEE_PAYERS,
    GROUP_BASES,
    MEETING_SCOPES,
    REMINDER_AUDIENCE_LABELS,
    REMINDER_AUDIENCES,
    REMINDER_CONDITION_LABELS,
    REMINDER_EVENT_LABELS,
    REMINDER_EVENTS,
)
from modell.core.forms import Form, options
from modell.organisations.models import (
    FUNCTION_LABELS,
    FUNCTIONS,
    KIND_LABELS,
    ORGANISATION_KINDS,
)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (readable and keyboard friendly, unlike a multiple select)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class VersionedForm(Form):
    """A form that edits a versioned object: the version seen when the form was opened."""

    version = HiddenField()

    def seen_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class CohortForm(VersionedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    template_id = SelectField(
        _l("Programme model"), coerce=int_or_none, choices=[], validators=[DataRequired()]
    )
    registration_deadline = DateField(
        _l("Registration deadline"),
        validators=[Optional()],
        description=_l("The last day an organisation can register interest."),
    )
    starts_on = DateField(_l("Starts (joint kickoff)"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends"), validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    project_lead_id = SelectField(
        _l("SKR's project lead"),
        coerce=int_or_none,
        choices=[],
        validators=[Optional()],
        description=_l("Gets a copy of every meeting invitation; if none, all coordinators do."),
    )

    def validate_registration_deadline(self, field):
        if field.data and self.starts_on.data and field.data >= self.starts_on.data:
            raise ValidationError(_l("The deadline must come before the start."))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data <= self.starts_on.data:
            raise ValidationError(_l("The end must come after the start."))


class StatusForm(VersionedForm):
    to = HiddenField(validators=[DataRequired()])


class ConcludeForm(VersionedForm):
    """The outcome of each participation is read from fields named per participation."""

    early_reason = TextAreaField(
        _l("Why the cohort is concluded before its period ends"),
        validators=[Optional(), Length(max=2000)],
    )


FEE_PAYER_LABELS = {
    "own": _l("The organisation itself"),
    "county_board": _l("The county administrative board"),
    "other": _l("Someone else"),
}


def _contact():
    """Name, e-mail and phone of one of the three named contacts."""
    return (
        StringField(_l("Name"), validators=[DataRequired(), Length(max=200)]),
        EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=320)]),
        StringField(_l("Phone"), validators=[Optional(), Length(max=50)]),
    )


# The id of the page's <datalist> of organisation labels. An input that names an organisation
# offers them (a native list: no script), and the server takes a label to mean its one
# organisation, so that two organisations of one name are never mixed up.
ORGANISATION_LIST = "organisation-labels"


def organisation_input(label, **kwargs) -> StringField:
    """A text input that names one organisation: a label chosen from the list, or a name."""
    return StringField(
        label,
        validators=[Optional(), Length(max=400)],
        render_kw={"list": ORGANISATION_LIST},
        **kwargs,
    )


class RegistrationForm(Form):
    FIELD_GROUPS = {
        "politician_": FUNCTION_LABELS["politician"],
        "manager_": FUNCTION_LABELS["manager"],
        "strategist_": FUNCTION_LABELS["strategist"],
        "extra_": _l("Another contact"),
    }
    organisation = organisation_input(
        _l("Organisation"),
        description=_l(
            "Type a few letters of its name or its SCB code and choose it from the list."
        ),
    )
    decision_date = DateField(
        _l("Date of the political decision"),
        validators=[DataRequired()],
        description=_l("The decision to gender-mainstream the whole organisation."),
    )
    decision_body = StringField(
        _l("Decided by"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("For example the municipal council or the regional executive board."),
    )
    decision_reference = StringField(
        _l("Reference (case number)"), validators=[Optional(), Length(max=200)]
    )
    cemr_signed = BooleanField(_l("The organisation has signed the CEMR declaration"))

    politician_name, politician_email, politician_phone = _contact()
    manager_name, manager_email, manager_phone = _contact()
    strategist_name, strategist_email, strategist_phone = _contact()
    # No Optional() here: it would stop the check below that a named contact has a function.
    extra_function = SelectField(_l("Function"), choices=[], default="")
    extra_name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    extra_email = EmailField(
        _l("E-mail address"), validators=[Optional(), Email(), Length(max=320)]
    )

    themes = TextAreaField(
        _l("Themes you want to improve"),
        validators=[DataRequired(), Length(max=5000)],
        description=_l(
            "The first line is used to group organisations with a shared theme, "
            "for example “Home care” or “Public health”."
        ),
    )
    core_activities = TextAreaField(
        _l("Core activities"),
        validators=[Optional(), Length(max=5000)],
        description=_l("For example home care, schools, labour-market measures."),
    )
    area = StringField(
        _l("Area the work is limited to (regions)"),
        validators=[Optional(), Length(max=200)],
        description=_l("For example health care, regional development or public health."),
    )
    mentor_commitment = BooleanField(
        _l("We commit to be a mentor in the next cohort after completing this one")
    )
    fee_payer = RadioField(
        _l("Who pays the participation fee?"),
        choices=options((k, FEE_PAYER_LABELS[k]) for k in FEE_PAYERS),
        default="own",
    )
    fee_payer_note = StringField(
        _l("Who, if someone else pays"), validators=[Optional(), Length(max=300)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra_function.choices = options(
            ((f, FUNCTION_LABELS[f]) for f in FUNCTIONS[3:]), blank=True
        )

    def validate_mentor_commitment(self, field):
        if not field.data:
            raise ValidationError(
                _l(
                    "Taking part includes being a mentor in the next cohort: confirm the commitment."
                )
            )

    def validate_extra_name(self, field):
        if (self.extra_function.data or self.extra_email.data) and not field.data:
            raise ValidationError(_l("Give the name of the extra contact."))

    def validate_extra_function(self, field):
        if self.extra_name.data and not field.data:
            raise ValidationError(_l("Choose the extra contact's function."))

    def validate_fee_payer_note(self, field):
        if self.fee_payer.data == "other" and not field.data:
            raise ValidationError(_l("Say who pays the fee."))


class DecisionForm(Form):
    reason = TextAreaField(
        _l("Reason"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Required when the registration is declined; the organisation sees it."),
    )


# The group form's lists of organisations: one input each, numbered ("Other mentor 2").
PICKS = {
    "other_mentors": lambda n: _l("Other mentor %(n)d", n=n),
    "support": lambda n: _l("Support organisation %(n)d", n=n),
}
PICKS_MAX = 20


BASIS_LABELS = {
    "geography": _l("Geographic proximity"),
    "theme": _l("Shared theme"),
    "other": _l("Other"),
}


class GroupForm(VersionedForm):
    name = StringField(
        _l("Name"),
        validators=[Optional(), Length(max=200)],
        description=_l("Leave empty to name the group after its participants."),
    )
    basis = SelectField(_l("Formed by"), choices=options((b, BASIS_LABELS[b]) for b in GROUP_BASES))
    theme = StringField(_l("Shared theme"), validators=[Optional(), Length(max=300)])
    benchmarking = MultiCheckboxField(_l("Benchmarking participants"), coerce=int, choices=[])
    mentors = MultiCheckboxField(
        _l("Mentors from the mentor pool"),
        coerce=int,
        choices=[],
        description=_l("Organisations that completed an earlier cohort and committed to mentor."),
    )
    supported_mentor = organisation_input(
        _l("The mentor they support"),
        description=_l("Needed only when the group has more than one mentor."),
    )
    exception_reason = TextAreaField(
        _l("Reason for the exception"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "A group outside the rules (one participant, more than the model allows, a mentor "
            "that has not completed a cohort) is kept only with a reason."
        ),
    )

    pick_counts: dict[str, int] = {}

    def picks(self, prefix: str) -> list:
        """The inputs of one list of organisations ("other_mentors", "support"), in order."""
        return [self[f"{prefix}_{n}"] for n in range(1, self.pick_counts.get(prefix, 0) + 1)]


@functools.cache
def _sized_group_form(counts: tuple[tuple[str, int], ...]) -> type[GroupForm]:
    class SizedGroupForm(GroupForm):
        pick_counts = dict(counts)

    for prefix, count in counts:
        for n in range(1, count + 1):
            setattr(SizedGroupForm, f"{prefix}_{n}", organisation_input(PICKS[prefix](n)))
    return SizedGroupForm


def group_form(counts: dict[str, int] | None = None, **kwargs) -> GroupForm:
    """The group form with `counts[prefix]` inputs in each list of organisations (two at
    least, at most PICKS_MAX), each an input of its own that names one organisation."""
    sized = tuple((p, min(max((counts or {}).get(p, 0), 2), PICKS_MAX)) for p in PICKS)
    return _sized_group_form(sized)(**kwargs)


class SuggestionForm(Form):
    basis = SelectField(
        _l("Group by"), choices=options((b, BASIS_LABELS[b]) for b in ("geography", "theme"))
    )
    groups = SelectField(_l("Number of groups"), coerce=int_or_none, choices=[])
    fingerprint = HiddenField()
    exception_reason = TextAreaField(
        _l("Reason for the exception"), validators=[Optional(), Length(max=2000)]
    )


class TemplateCopyForm(Form):
    name = StringField(_l("Name of the new template"), validators=[DataRequired(), Length(max=200)])


class TemplateForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    duration_months = IntegerField(
        _l("Length in months"), validators=[InputRequired(), NumberRange(1, 60)]
    )
    group_min = IntegerField(
        _l("Smallest group (benchmarking participants)"),
        validators=[InputRequired(), NumberRange(1, 10)],
    )
    group_max = IntegerField(
        _l("Largest group (benchmarking participants)"),
        validators=[InputRequired(), NumberRange(1, 10)],
    )
    uses_mentors = BooleanField(_l("Groups have mentors"))


class StepForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    checklist = TextAreaField(
        _l("Checklist"),
        validators=[Optional(), Length(max=10000)],
        description=_l("One item per line."),
    )


SCOPE_LABELS = {"cohort": _l("The whole cohort"), "group": _l("Each group")}


class MeetingKindForm(Form):
    key = StringField(
        _l("Key"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[a-z][a-z0-9_]*$", message=_l("Lower-case letters, digits and _ only.")),
        ],
        description=_l("A short name used by reminders, for example “benchmarking”."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    scope = SelectField(_l("For"), choices=options((s, SCOPE_LABELS[s]) for s in MEETING_SCOPES))
    count = IntegerField(_l("How many"), validators=[InputRequired(), NumberRange(1, 20)])
    offset_weeks = IntegerField(
        _l("First one, weeks after the start"), validators=[InputRequired(), NumberRange(0, 200)]
    )
    interval_weeks = IntegerField(
        _l("Weeks between them"), validators=[InputRequired(), NumberRange(0, 100)], default=0
    )
    duration_hours = FloatField(
        _l("Length in hours"), validators=[InputRequired(), NumberRange(0.5, 24)], default=4
    )
    prepares_key = SelectField(_l("Prepares"), choices=[], validators=[Optional()])
    audience = SelectField(_l("Only for"), choices=[], validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.audience.choices = options(((f, FUNCTION_LABELS[f]) for f in FUNCTIONS), blank=True)


class ReminderRuleForm(Form):
    """A reminder of a programme template: when, to whom, on what condition, what it says."""

    subject = StringField(_l("Subject (Swedish)"), validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(_l("Text (Swedish)"), validators=[DataRequired(), Length(max=5000)])
    subject_en = StringField(_l("Subject (English)"), validators=[Optional(), Length(max=300)])
    body_en = TextAreaField(_l("Text (English)"), validators=[Optional(), Length(max=5000)])
    meeting_kind = SelectField(_l("Meeting kind"), choices=[])
    event = SelectField(
        _l("Counted from"),
        choices=options((e, REMINDER_EVENT_LABELS[e]) for e in REMINDER_EVENTS),
    )
    offset_days = IntegerField(
        _l("Days"),
        validators=[InputRequired(), NumberRange(-365, 365)],
        description=_l("Negative: days before; positive: days after; 0: the same day."),
    )
    send_hour = IntegerField(
        _l("Hour it goes out (Stockholm time)"),
        validators=[InputRequired(), NumberRange(0, 23)],
        default=8,
    )
    audience = SelectField(
        _l("To"), choices=options((a, REMINDER_AUDIENCE_LABELS[a]) for a in REMINDER_AUDIENCES)
    )
    condition = SelectField(
        _l("Condition"),
        choices=options(REMINDER_CONDITION_LABELS.items()),
        validators=[Optional()],
    )
    cc_mentor = BooleanField(_l("A copy to the organisation's mentor"))
    essential = BooleanField(
        _l("Essential"), description=_l("Nobody can turn it off in their settings.")
    )
    active = BooleanField(_l("In use"), default=True)


class CohortImportForm(Form):
    """A cohort from a spreadsheet: the file, and what the file does not say."""

    file = FileField(
        _l("File"),
        description=_l(
            "Excel (.xlsx) or CSV, one row per organisation, with the headings of the template."
        ),
    )
    content = HiddenField()
    name = StringField(
        _l("Name of the cohort"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("For example “Modellkommuner 2017–2018”."),
    )
    template_id = SelectField(
        _l("Programme model"), coerce=int_or_none, choices=[], validators=[DataRequired()]
    )
    starts_on = DateField(_l("Started (joint kickoff)"), validators=[DataRequired()])
    ends_on = DateField(_l("Ended (result conference)"), validators=[DataRequired()])
    concluded = BooleanField(
        _l("The cohort is concluded"),
        description=_l(
            "The file says for every organisation whether it completed (Fullföljt). Titles are "
            "awarded as when a cohort is concluded in the app."
        ),
    )

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data <= self.starts_on.data:
            raise ValidationError(_l("The end must come after the start."))


class PublicRegistrationForm(RegistrationForm):
    """The interest registration for someone without an account: the organisation is typed
    (the browser suggests the register's names) or named as new with its kind; the sender's
    own address gets the confirmation link. `website` is a honeypot: people never see it."""

    new_name = StringField(
        _l("Or, if it is not in the list: its name"), validators=[Optional(), Length(max=200)]
    )
    new_kind = SelectField(_l("Kind of organisation"), choices=[], default="")
    submitter_email = EmailField(
        _l("Your e-mail address"),
        validators=[DataRequired(), Email(), Length(max=320)],
        description=_l("We send a link there. The registration counts once you have confirmed it."),
    )
    website = StringField(_l("Leave this field empty"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_kind.choices = options(
            ((k, KIND_LABELS[k]) for k in ORGANISATION_KINDS), blank=True
        )

    def validate_new_kind(self, field):
        if self.new_name.data and not field.data:
            raise ValidationError(_l("Give the kind of the organisation you name."))
