"""Text that may be stored or shown: no control characters.

A NUL breaks PostgreSQL ("text fields cannot contain NUL"); BEL, ESC, VT and the like
break pages and calendar feeds. Forms refuse them beside the field (core.forms.Form);
values that arrive outside a form (a file's name, the browser's User-Agent) lose them.
"""

import re

# C0 controls, DEL and the C1 controls.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_characters(value: str, allowed: str = "") -> bool:
    return any(ch not in allowed for ch in CONTROL.findall(value))


def strip_control_characters(value: str) -> str:
    return CONTROL.sub("", value)
