"""Small helpers shared by every domain's forms."""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice


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
