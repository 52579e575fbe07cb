"""Forms for logging in, passwords and invitations."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from modell.core.forms import Form, options


class LoginForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me logged in on this computer"))


class ResetRequestForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=320)])


def _min_length(form, field):
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(_l("The password must be at least %(n)d characters.", n=minimum))


class SetPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), _min_length, Length(max=200)],
        description=_l(
            "At least 10 characters, not your name or e-mail address, and hard to guess. "
            "A few unrelated words make a good password."
        ),
    )
    password2 = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )


class InviteForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=320)])
    role = SelectField(_l("Role"), choices=[])
    # A label from the register's list (its county beside it), resolved by identity.
    organisation = StringField(
        _l("Organisation"),
        validators=[Length(max=400)],
        description=_l(
            "Type a few letters of its name or its SCB code and choose it from the list."
        ),
        render_kw={"list": "organisation-labels"},
    )
    # No Optional() here: it would stop the checks below, which depend on the role.
    function = SelectField(_l("Function in the organisation"), choices=[])
    county_code = SelectField(_l("County (for county observers)"), choices=[])

    def validate_organisation(self, field):
        if self.role.data == "member" and not (field.data or "").strip():
            raise ValidationError(_l("Choose the organisation the person belongs to."))

    def validate_function(self, field):
        if self.role.data == "member" and not field.data:
            raise ValidationError(_l("Choose the person's function."))

    def validate_county_code(self, field):
        if self.role.data == "county_observer" and not field.data:
            raise ValidationError(_l("Choose the county the observer follows."))


class LanguageForm(Form):
    """The language switch: a small form so it is a POST with a CSRF token."""

    lang = SelectField(_l("Language"), choices=options([("sv", "Svenska"), ("en", "English")]))
