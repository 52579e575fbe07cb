"""Files people attach (meeting documents, evidence for a log entry): kept outside the
database under a random name, only of the kinds an office works with, never larger than
UPLOAD_MAX_MB. The record of a file is its domain's row; this module checks and stores.

Where the bytes live is one interface, `FileStore` (put, open). Every web host must serve a
file any host received, so a larger installation gives them one store: `FolderStore` on a
folder they share (NFS, SMB, a cluster file system), or an object store (S3-compatible)
behind the same two methods. The app's store is `current_store()`, made from UPLOAD_DIR."""

import mimetypes
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app
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


class FileStore(Protocol):
    def put(self, name: str, content: bytes) -> None:
        """Keep `content` under `name` (a random name this module chose)."""

    def open(self, name: str) -> BinaryIO | None:
        """The file to read, or None when there is none by that name."""


class FolderStore:
    """Files in a folder, local or shared between hosts. A file appears whole or not at all:
    written under a temporary name and renamed, so a host reading the shared folder never
    serves half of one."""

    def __init__(self, root: Path):
        self.root = root

    def put(self, name: str, content: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{name}.{uuid.uuid4().hex}.part"
        partial.write_bytes(content)
        os.replace(partial, self.root / name)

    def open(self, name: str) -> BinaryIO | None:
        if Path(name).name != name or name.startswith("."):
            return None  # only the names this module gives
        try:
            return (self.root / name).open("rb")
        except FileNotFoundError:
            return None


def current_store() -> FileStore:
    """The app's store (made once per app from UPLOAD_DIR)."""
    store = current_app.extensions.get("modell.files")
    if store is None:
        store = current_app.extensions["modell.files"] = FolderStore(
            Path(current_app.config["UPLOAD_DIR"])
        )
    return store


def store_file(
    filename: str, content: bytes, *, store: FileStore, max_bytes: int, field: str = "file"
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
    store.put(stored, content)
    mimetype = ALLOWED_TYPES.get(suffix) or mimetypes.guess_type(safe)[0]
    return StoredFile(safe[:255], stored, mimetype or "application/octet-stream", len(content))
