"""Forms for organisations and their contacts."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import URL, DataRequired, Email, Length, Optional

from modell.core.forms import Form, add_error, options
from modell.organisations.models import FUNCTION_LABELS, FUNCTIONS, KIND_LABELS

# Municipalities and regions come from SCB's reference data; coordinators add the others.
ADDABLE_KINDS = ("agency", "federation", "district_administration", "other")


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class OrganisationForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    # Shown only after the warning that an organisation of the same kind has the name.
    confirm_duplicate = BooleanField(
        _l("It is another organisation: save it with the same name"),
        description=_l("Check first that it is none of those named above."),
    )
    kind = SelectField(_l("Kind"), choices=options((k, KIND_LABELS[k]) for k in ADDABLE_KINDS))
    county_code = SelectField(_l("County"), choices=[], validators=[Optional()])
    # A municipality's label from the register's list, resolved by identity.
    seat = StringField(
        _l("Seat (municipality)"),
        validators=[Optional(), Length(max=400)],
        description=_l(
            "Type a few letters and choose the municipality from the list. Its coordinates are "
            "used to suggest groups by proximity."
        ),
        render_kw={"list": "municipality-labels"},
    )
    website = URLField(_l("Website"), validators=[Optional(), URL(), Length(max=300)])
    email = EmailField(_l("E-mail address"), validators=[Optional(), Email(), Length(max=320)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class PersonForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    function = SelectField(
        _l("Function"), choices=options((f, FUNCTION_LABELS[f]) for f in FUNCTIONS)
    )
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[Optional(), Email(), Length(max=320)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    active = BooleanField(_l("Still a contact"), default=True)


def chosen_organisation(form: Form, name: str = "organisation"):
    """The organisation a form's organisation input names: a label from the register's list,
    a name only one organisation has, or an SCB code. None when the input is empty; False,
    with the reason beside the field, when it names none or several."""
    from modell.extensions import db
    from modell.organisations.services import one_organisation_called

    text = (form[name].data or "").strip()
    if not text:
        return None
    organisation, problem = one_organisation_called(db.session, text)
    if organisation is None:
        add_error(form, problem, name)
        return False
    return organisation
