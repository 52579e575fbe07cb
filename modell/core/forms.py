"""Small helpers shared by every domain's forms."""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice


def options(pairs: Iterable[tuple[object, object]], blank: bool = False) -> list[SelectChoice]:
    """Choices for a SelectField, optionally starting with an empty "– choose –"."""
    result = [SelectChoice("", str(_l("– choose –")))] if blank else []
    return result + [SelectChoice(value, str(label)) for value, label in pairs]
