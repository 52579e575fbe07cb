"""One form field as every form shows it, for the `field` macro in templates/_forms.html:
its label, a hint tied to it with aria-describedby, its errors beside it (announced as
errors), and aria-invalid while it has any. Written here rather than in the macro because a
page with a dozen fields spent most of its time in the macro's logic."""

from flask_babel import gettext as _
from markupsafe import Markup, escape

CHOICES = ("RadioField", "MultiCheckboxField")


def _hint(field) -> Markup:
    if not field.description:
        return Markup("")
    return Markup('<div id="{}-hint" class="form-hint small">{}</div>').format(
        field.id, field.description
    )


def _errors(field) -> Markup:
    if not field.errors:
        return Markup("")
    said = Markup('<span class="visually-hidden">{} </span>').format(_("Error:"))
    messages = Markup("").join(Markup("{}{} ").format(said, e) for e in field.errors)
    return Markup('<div id="{}-error" class="error-message">{}</div>').format(field.id, messages)


def render_field(field, autocomplete: str | None = None, rows: int | None = None) -> Markup:
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
        return Markup('<div class="form-check mb-3">{}{}{}{}</div>').format(
            field(class_="form-check-input" + invalid, **attrs),
            field.label(class_="form-check-label"),
            _hint(field),
            _errors(field),
        )
    if field.type in CHOICES:
        choices = Markup("").join(
            Markup('<div class="form-check">{} {}</div>').format(
                sub(class_="form-check-input"), sub.label(class_="form-check-label")
            )
            for sub in field
        ) or Markup('<p class="text-body-secondary">{}</p>').format(_("None to choose from."))
        described_by = (
            Markup(' aria-describedby="{}"').format(" ".join(described)) if described else ""
        )
        return Markup(
            '<fieldset class="mb-3"{}><legend class="form-label fs-6">{}</legend>{}{}{}</fieldset>'
        ).format(described_by, escape(field.label.text), _hint(field), _errors(field), choices)
    select = "form-select" if field.type == "SelectField" else "form-control"
    required = Markup(' <span aria-hidden="true">*</span>') if field.flags.required else ""
    return Markup('<div class="mb-3">{}{}{}{}{}</div>').format(
        field.label(class_="form-label"),
        required,
        _hint(field),
        _errors(field),
        field(class_=select + invalid, **attrs),
    )
