"""Text that may be stored or shown: no control characters.

A NUL breaks PostgreSQL ("text fields cannot contain NUL"); BEL, ESC, VT and the like
break pages and calendar feeds. Forms refuse them beside the field (core.forms.Form);
values that arrive outside a form (a file's name, the browser's User-Agent) lose them.
"""

import re
import unicodedata

from flask_babel import lazy_gettext as _l

# C0 controls, DEL and the C1 controls.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_characters(value: str, allowed: str = "") -> bool:
    return any(ch not in allowed for ch in CONTROL.findall(value))


def strip_control_characters(value: str) -> str:
    return CONTROL.sub("", value)


def strip_format_characters(value: str) -> str:
    """Control characters and the invisible format characters (right-to-left override,
    zero-width space, ...) that make a name read as something else."""
    return "".join(ch for ch in strip_control_characters(value) if unicodedata.category(ch) != "Cf")


CONTROL_MESSAGE = _l(
    "The text contains characters that are not allowed (control characters, such as a "
    "copied line break in a one-line field). Remove them and send again."
)


def said(value: str | None) -> str | None:
    """What a person wrote, without the invisible characters around and inside it, or None
    when nothing visible is left: a reason of only a zero-width space is no reason."""
    text = strip_format_characters(value or "").strip()
    return text or None


def text_problem(value: str | None, *, multiline: bool, max_length: int):
    """Why a free text may not be stored (control characters, too long), or None. For text
    that does not come through a form field (the forms check the same through core.forms)."""
    if not value:
        return None
    if has_control_characters(value, "\t\r\n" if multiline else "\t"):
        return CONTROL_MESSAGE
    if len(value) > max_length:
        return _l("At most %(n)d characters.", n=max_length)
    return None


# Å, Ä and Ö come after Z in Swedish (and Æ, Ø as Ä, Ö; Ü as Y; accents as their letter).
_SWEDISH_ORDER = str.maketrans({"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}", "ü": "y"})


def swedish_key(text: str) -> str:
    """A sort key that orders names the Swedish way: case-insensitive, Å Ä Ö after Z."""
    folded = unicodedata.normalize("NFC", text).casefold().translate(_SWEDISH_ORDER)
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
