"""What every form shares: the base class with the guards for bad input, and helpers.

Every form of the app derives from `Form` (a test walks them). Its guards run before the
field validators, so a NUL or an out-of-range date never reaches a query:
- control characters: refused beside the field, except tab everywhere and newlines in
  multi-line fields (a browser's CR LF becomes LF);
- dates: only years 2000–2100 (`EARLIEST`..`LATEST`), whatever the field.
"""

from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import DateField, DecimalField, FloatField, IntegerField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.widgets.core import clean_key

from modell.core.errors import DATE_RANGE_MESSAGE
from modell.core.text import CONTROL, CONTROL_MESSAGE, has_control_characters
from modell.core.timeutil import EARLIEST, LATEST

MAX_NUMBER_LENGTH = 15  # digits: more is no count, length or year anyone means
NUMBER_MESSAGE = _l("The number is too large.")
NO_SUCH_DATE_MESSAGE = _l("There is no such date: write it like 2027-02-28.")


class _Select(widgets.Select):
    """WTForms' select with the same markup, its plain options written directly: a list of
    a few hundred organisations or people spent most of a page's time in html_params."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        value = choice.value
        if (
            kwargs
            or choice.render_kw
            or isinstance(value, bool)
            or not isinstance(value, str | int)
        ):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        option = f'<option {selected}value="{escape(value)}">{label}</option>'
        return Markup(option)  # nosec B704 # value and label escaped


_SELECT = _Select()


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def render_field(self, field, render_kw):
            # A page holds several forms, each with its hidden CSRF token: written without
            # an id, they do not repeat one on the page.
            if field.type == "CSRFTokenField":
                render_kw = {"id": False, **render_kw}
            if type(field.widget) is widgets.Select and not field.widget.multiple:
                # As DefaultMeta.render_field does it, with the faster options.
                render_kw = {clean_key(k): v for k, v in render_kw.items()}
                other = getattr(field, "render_kw", None)
                if other is not None:
                    render_kw = dict({clean_key(k): v for k, v in other.items()}, **render_kw)
                return _SELECT(field, **render_kw)
            return super().render_field(field, render_kw)

    # Field-name prefixes and the part of the form they belong to, so that the error summary
    # names a field fully: "Politician – name", not "Name" three times.
    FIELD_GROUPS: dict = {}

    def full_label(self, field) -> str:
        label = str(field.label.text)
        for prefix, group in self.FIELD_GROUPS.items():
            if field.name.startswith(prefix):
                return f"{group} – {label[:1].lower()}{label[1:]}"
        return label

    def validate(self, extra_validators=None) -> bool:
        refused: dict[str, str] = {}
        for field in self:
            multiline = isinstance(field, TextAreaField)
            raw = [v for v in (field.raw_data or []) if isinstance(v, str)]
            if any(has_control_characters(v, "\t\r\n" if multiline else "\t") for v in raw):
                refused[field.name] = str(CONTROL_MESSAGE)
                # What the user wrote stays in the form, without the offending characters.
                if isinstance(field.data, str):
                    field.data = CONTROL.sub("", field.data)
                field.raw_data = [CONTROL.sub("", v) for v in raw]
            elif multiline and isinstance(field.data, str):
                field.data = field.data.replace("\r\n", "\n").replace("\r", "\n")
            elif isinstance(field, IntegerField | DecimalField | FloatField) and any(
                len(v.strip()) > MAX_NUMBER_LENGTH for v in raw
            ):
                refused[field.name] = str(NUMBER_MESSAGE)
                field.data = None
        valid = super().validate(extra_validators)
        for field in self:
            if field.name in refused:
                field.errors = [refused[field.name]]
            elif (
                isinstance(field, DateField)
                and field.data is None
                and any(v.strip() for v in (field.raw_data or []) if isinstance(v, str))
            ):
                # WTForms would say "This field is required" of a date that does not exist.
                field.errors = [str(NO_SUCH_DATE_MESSAGE)]
                valid = False
            elif isinstance(field.data, date):  # a date, or a datetime (never a time)
                day = field.data.date() if isinstance(field.data, datetime) else field.data
                if not EARLIEST <= day <= LATEST:
                    field.errors = [*field.errors, str(DATE_RANGE_MESSAGE)]
                    valid = False
        return valid and not refused


def options(pairs: Iterable[tuple[object, object]], blank: bool = False) -> list[SelectChoice]:
    """Choices for a SelectField, optionally starting with an empty "– choose –"."""
    # Labels stay lazy: they are translated when the field is rendered, in the user's language.
    result = [SelectChoice("", _l("– choose –"))] if blank else []
    return result + [SelectChoice(value, label) for value, label in pairs]


def add_error(form, message, field: str | None = None) -> None:
    """Show a service's message beside the field it names, else at the top of the form."""
    target = form._fields.get(field) if field else None
    if target is not None:
        target.errors = [*target.errors, str(message)]
    else:
        form.form_errors.append(str(message))


class ButtonForm(Form):
    """A button that changes something: only its CSRF token."""
