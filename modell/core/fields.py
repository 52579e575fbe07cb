"""One form field as every form shows it, for the `field` macro in templates/_forms.html:
its label, a hint tied to it with aria-describedby, its errors beside it (announced as
errors), and aria-invalid while it has any. Written here rather than in the macro because a
page with a dozen fields spent most of its time in the macro's logic."""

from flask_babel import gettext as _
from markupsafe import Markup, escape

CHOICES = ("RadioField", "MultiCheckboxField")


def _label(field, css: str) -> str:
    """The field's label, as WTForms writes it (its text escaped once)."""
    return f'<label class="{css}" for="{escape(field.label.field_id)}">{escape(field.label.text)}</label>'


def _hint(field) -> str:
    if not field.description:
        return ""
    return f'<div id="{escape(field.id)}-hint" class="form-hint small">{escape(field.description)}</div>'


def _errors(field) -> str:
    if not field.errors:
        return ""
    error = escape(_("Error:"))  # outside the f-string, where pybabel finds it
    said = f'<span class="visually-hidden">{error} </span>'
    messages = "".join(f"{said}{escape(e)} " for e in field.errors)
    return f'<div id="{escape(field.id)}-error" class="error-message">{messages}</div>'


def render_field(field, autocomplete: str | None = None, rows: int | None = None) -> Markup:
    """Written with f-strings and escape(), not Markup.format: a page with a dozen fields
    spent a tenth of its time in string.Formatter."""
    described = [f"{field.id}-hint"] if field.description else []
    if field.errors:
        described.append(f"{field.id}-error")
    attrs = {
        "aria-describedby": " ".join(described) or None,
        "aria-invalid": "true" if field.errors else None,
        "autocomplete": autocomplete,
        "rows": rows,
        "required": True if field.flags.required else None,
    }
    attrs = {k: v for k, v in attrs.items() if v is not None}
    invalid = " is-invalid" if field.errors else ""
    if field.type == "BooleanField":
        return Markup(  # nosec B704 # each part escaped, or WTForms' own markup
            f'<div class="form-check mb-3">{field(class_="form-check-input" + invalid, **attrs)}'
            f"{_label(field, 'form-check-label')}{_hint(field)}{_errors(field)}</div>"
        )
    if field.type in CHOICES:
        nothing = escape(_("None to choose from."))
        choices = (
            "".join(
                f'<div class="form-check">{sub(class_="form-check-input")} '
                f"{_label(sub, 'form-check-label')}</div>"
                for sub in field
            )
            or f'<p class="text-body-secondary">{nothing}</p>'
        )
        described_by = f' aria-describedby="{escape(" ".join(described))}"' if described else ""
        return Markup(  # nosec B704 # each part escaped, or WTForms' own markup
            f'<fieldset class="mb-3"{described_by}><legend class="form-label fs-6">'
            f"{escape(field.label.text)}</legend>{_hint(field)}{_errors(field)}{choices}</fieldset>"
        )
    select = "form-select" if field.type == "SelectField" else "form-control"
    required = ' <span aria-hidden="true">*</span>' if field.flags.required else ""
    return Markup(  # nosec B704 # each part escaped, or WTForms' own markup
        f'<div class="mb-3">{_label(field, "form-label")}{required}{_hint(field)}'
        f"{_errors(field)}{field(class_=select + invalid, **attrs)}</div>"
    )


def fields_in_error(form) -> list:
    """The form's fields that have errors (not its CSRF token), for the error summary: a
    page with five forms asked each of their fields in the template."""
    return [f for f in form if f.errors and f.type != "CSRFTokenField"]
