"""Every string of the UI goes through Flask-Babel and has its Swedish translation."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_every_string_in_code_and_templates_has_a_swedish_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "modell/translations/sv/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="sv")
    translated = {
        m.id
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(str(m) for m in wanted - translated)
    assert missing == [], "strings without a Swedish translation (run `make i18n-extract`)"


def test_templates_contain_no_untranslated_visible_english(app):
    # The pages users see first render in Swedish.
    html = app.test_client().get("/konto/logga-in").get_data(True)
    for english in ("Log in", "Password", "Forgot your password?", "Skip to content"):
        assert f">{english}<" not in html


def test_every_kind_of_mail_has_a_name_in_the_outbox():
    """The outbox names each message's kind in the reader's language, never by its key."""
    import re
    from pathlib import Path

    from modell.core.routes import KIND_LABELS

    source = "\n".join(p.read_text() for p in Path("modell").rglob("*.py"))
    kinds = set(re.findall(r'\bkind="([a-z_]+)"', source)) - {"agency", "federation"}
    assert {"confirmation", "reminder", "registration_decided"} <= kinds
    assert not {k for k in kinds if k.split("_")[0] not in KIND_LABELS}
