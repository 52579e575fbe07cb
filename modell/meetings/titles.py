"""Meeting titles in the reader's language. A title the app made from a shipped meeting kind
("Benchmarkingträff 1 – Kalmar, Karlskrona, Växjö") is shown with the kind's name in the
reader's language; a title someone wrote or changed, or one of a kind a coordinator named,
is shown as it was written (and marked as Swedish in the English interface)."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from modell.core.web import swedish_part

# The shipped kinds, by key and their Swedish name (a renamed kind is the coordinator's).
SHIPPED_KIND_NAMES = {
    ("kickoff", "Gemensam uppstart"): _l("Joint kickoff"),
    ("benchmarking", "Benchmarkingträff"): _l("Benchmarking meeting"),
    ("result_conference", "Resultatkonferens"): _l("Result conference"),
    ("strategist_preparation", "Förberedande träff för strateger"): _l(
        "Preparatory meeting for strategists"
    ),
    ("learning", "Lärandeträff"): _l("Learning meeting"),
}


def generated_title(kind_name: str, count: int, number: int, group_name: str | None) -> str:
    """The title the app gives a meeting: the kind (numbered when it has several), then the
    group."""
    name = f"{kind_name} {number}" if count > 1 else kind_name
    return f"{name} – {group_name}" if group_name else name


def _parts(meeting) -> tuple[str, str | None] | None:
    """(the kind's part in the reader's language, the group's name) of a title the app made
    from a shipped kind, else None."""
    kind = meeting.kind
    label = SHIPPED_KIND_NAMES.get((kind.key, kind.name))
    group = meeting.group.name if meeting.group else None
    if label is None or meeting.title != generated_title(
        kind.name, kind.count, meeting.number, group
    ):
        return None
    name = f"{label} {meeting.number}" if kind.count > 1 else str(label)
    return name, group


def title_text(meeting) -> str:
    """The title as plain text, for mail, calendars and page titles."""
    parts = _parts(meeting)
    if parts is None:
        return meeting.title
    name, group = parts
    return f"{name} – {group}" if group else name


def title_html(meeting) -> Markup:
    """The title for a page; in the English interface the Swedish parts (the group's names, a
    title someone wrote) carry lang="sv"."""
    parts = _parts(meeting)
    if parts is None:
        return escape(swedish_part(meeting.title))
    name, group = parts
    return Markup("{} – {}").format(name, swedish_part(group)) if group else escape(name)
