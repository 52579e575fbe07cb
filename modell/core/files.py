"""Files people attach (meeting documents, evidence for a log entry): kept outside the
database under a random name, only of the kinds an office works with, never larger than
UPLOAD_MAX_MB. The record of a file is its domain's row; this module checks and stores."""

import mimetypes
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l

from modell.core.errors import RuleViolation
from modell.core.text import strip_format_characters

ALLOWED_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


@dataclass(frozen=True)
class StoredFile:
    filename: str  # as the user named it, cleaned
    stored_name: str  # the random name on disk
    mimetype: str
    size: int


def store_file(
    filename: str, content: bytes, *, folder: Path, max_bytes: int, field: str = "file"
) -> StoredFile:
    """Check and keep a file; a refusal names the form field it came from."""
    safe = strip_format_characters(Path(filename).name).strip() or "fil"
    suffix = Path(safe).suffix.lower()
    if suffix not in ALLOWED_TYPES:
        raise RuleViolation(
            _l(
                "Files of this type cannot be attached. Allowed: %(types)s.",
                types=", ".join(sorted(ALLOWED_TYPES)),
            ),
            field=field,
        )
    if not content:
        raise RuleViolation(_l("The file is empty."), field=field)
    if len(content) > max_bytes:
        raise RuleViolation(
            _l("The file is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024)), field=field
        )
    stored = f"{uuid.uuid4().hex}{suffix}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(content)
    mimetype = ALLOWED_TYPES.get(suffix) or mimetypes.guess_type(safe)[0]
    return StoredFile(safe[:255], stored, mimetype or "application/octet-stream", len(content))
