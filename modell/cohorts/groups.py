"""Groups: two or three benchmarking participants with a mentor from an earlier cohort, the
mentor pool, the warnings a coordinator confirms with a reason, and the suggested grouping."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from modell.cohorts import grouping
from modell.cohorts.models import (
    PARTICIPATION_ROLES,
    Cohort,
    Group,
    Participation,
)
from modell.cohorts.services import (
    REASON_MAX,
    cohort_actions,
    completed_earlier,
    group_saved,
    ungrouped,
)
from modell.core import audit
from modell.core.errors import (
    NeedsConfirmation,
    RuleViolation,
    StaleEdit,
    check_version,
)
from modell.core.text import text_problem
from modell.organisations.models import Organisation

# --- the mentor pool -------------------------------------------------------------------------


@dataclass
class MentorCandidate:
    organisation: Organisation
    completed: Cohort  # the earlier cohort it completed as benchmarking participant
    mentored: list[Cohort] = field(default_factory=list)  # cohorts it has mentored in
    here: Participation | None = None  # its place in this cohort, if it has one


def mentor_pool(session: Session, cohort: Cohort) -> list[MentorCandidate]:
    """Organisations that completed an earlier cohort as benchmarking participants and
    committed to mentor, with the cohorts they have already mentored in."""
    rows = session.execute(
        sa.select(Participation, Cohort)
        .join(Cohort, Cohort.id == Participation.cohort_id)
        .where(
            Participation.role == "benchmarking",
            Participation.status == "completed",
            Participation.mentor_commitment.is_(True),
            Cohort.starts_on < cohort.starts_on,
        )
        .options(selectinload(Participation.organisation))
        .order_by(Cohort.starts_on)
    ).all()
    candidates: dict[int, MentorCandidate] = {}
    for participation, earlier in rows:
        candidates[participation.organisation_id] = MentorCandidate(
            participation.organisation, earlier
        )
    if not candidates:
        return []
    mentoring = session.execute(
        sa.select(Participation.organisation_id, Cohort)
        .join(Cohort, Cohort.id == Participation.cohort_id)
        .where(
            Participation.role.in_(("mentor", "support")),
            Participation.organisation_id.in_(candidates),
            Participation.cohort_id != cohort.id,
        )
        .order_by(Cohort.starts_on)
    ).all()
    for org_id, other in mentoring:
        candidates[org_id].mentored.append(other)
    for p in cohort.participations:
        if p.organisation_id in candidates:
            candidates[p.organisation_id].here = p
    return sorted(candidates.values(), key=lambda c: c.organisation.name)


# --- groups ----------------------------------------------------------------------------------


@dataclass
class GroupDraft:
    benchmarking: list[Organisation]
    mentors: list[Organisation] = field(default_factory=list)
    # (support organisation, the mentor it supports)
    support: list[tuple[Organisation, Organisation]] = field(default_factory=list)
    name: str | None = None
    basis: str = "geography"
    theme: str | None = None


def draft_of(group: Group) -> GroupDraft:
    """The group as it is stored, as a draft (to compare a change with)."""
    members = {role: [p.organisation for p in group.members(role)] for role in PARTICIPATION_ROLES}
    support = [
        (p.organisation, p.supports.organisation) for p in group.members("support") if p.supports
    ]
    return GroupDraft(members["benchmarking"], members["mentor"], support, group.name)


def group_warnings(session: Session, cohort: Cohort, draft: GroupDraft) -> list[str]:
    """What a coordinator must confirm with a reason to keep the group as it is."""
    template = cohort.template
    warnings = []
    n = len(draft.benchmarking)
    if n < template.group_min or n > template.group_max:
        warnings.append(
            _l(
                "The group has %(n)d benchmarking participants; the programme has groups of "
                "%(min)d to %(max)d.",
                n=n,
                min=template.group_min,
                max=template.group_max,
            )
        )
    for mentor in draft.mentors:
        if completed_earlier(session, mentor.id, cohort) is None:
            warnings.append(
                _l(
                    "%(name)s has not completed an earlier cohort as benchmarking participant.",
                    name=mentor.name,
                )
            )
    return [str(w) for w in warnings]


def _participation(cohort: Cohort, organisation_id: int) -> Participation | None:
    return next((p for p in cohort.participations if p.organisation_id == organisation_id), None)


def save_group(
    session: Session,
    cohort: Cohort,
    draft: GroupDraft,
    *,
    now: datetime,
    user_id: int | None,
    group: Group | None = None,
    expected_version: int | None = None,
    exception_reason: str | None = None,
) -> Group:
    """Create or change a group. Benchmarking participants come from the accepted
    registrations; mentors and support organisations take part through the group. An
    organisation is in at most one group per cohort."""
    if group is not None:
        check_version(group, expected_version)
    if not cohort_actions(cohort)["form_groups"]:
        raise RuleViolation(_l("Groups are formed while the cohort is forming groups or running."))
    if not draft.benchmarking:
        raise RuleViolation(
            _l("A group needs at least one benchmarking participant."), field="benchmarking"
        )
    chosen = [o.id for o in draft.benchmarking + draft.mentors + [s for s, _ in draft.support]]
    if len(chosen) != len(set(chosen)):
        raise RuleViolation(_l("An organisation can have only one place in a group."))
    own_group_id = group.id if group is not None else None
    for org in draft.benchmarking:
        p = _participation(cohort, org.id)
        if p is None or p.role != "benchmarking" or p.status != "active":
            raise RuleViolation(
                _l(
                    "%(name)s is not an accepted benchmarking participant of this cohort.",
                    name=org.name,
                ),
                field="benchmarking",
            )
        if p.group_id not in (None, own_group_id):
            raise RuleViolation(
                _l("%(name)s is already in another group.", name=org.name), field="benchmarking"
            )
    for orgs, field_name in (
        (draft.mentors, "mentors"),
        ([s for s, _ in draft.support], "support"),
    ):
        for org in orgs:
            p = _participation(cohort, org.id)
            if p is not None and (p.group_id != own_group_id or p.role == "benchmarking"):
                raise RuleViolation(
                    _l(
                        "%(name)s already takes part in this cohort in another place.",
                        name=org.name,
                    ),
                    field=field_name,
                )
    mentor_ids = {m.id for m in draft.mentors}
    for supporter, mentor in draft.support:
        if mentor.id not in mentor_ids:
            raise RuleViolation(
                _l(
                    "%(name)s supports a mentor of the group: choose one of its mentors.",
                    name=supporter.name,
                ),
                field="supported_mentor",
            )
    warnings = group_warnings(session, cohort, draft)
    reason = (exception_reason or "").strip() or None
    problem = text_problem(reason, multiline=True, max_length=REASON_MAX)
    if problem:
        raise RuleViolation(problem, field="exception_reason")
    if warnings and not reason:
        raise NeedsConfirmation(warnings)
    if warnings and group is not None and reason == group.exception_reason:
        # The reason given earlier covers the exceptions it was given for, not new ones.
        before = set(group_warnings(session, cohort, draft_of(group)))
        new = [w for w in warnings if w not in before]
        if new:
            raise NeedsConfirmation(new)

    if group is None:
        group = Group(cohort=cohort, position=len(cohort.groups) + 1, name="")
        session.add(group)
    group.name = (draft.name or "").strip() or ", ".join(o.name for o in draft.benchmarking)
    group.basis = draft.basis
    group.theme = draft.theme
    group.exception_reason = reason if warnings else None
    group.updated_at = now
    flag_modified(group, "updated_at")  # always an UPDATE: the version covers members too

    keep: set[int] = set()
    for org in draft.benchmarking:
        p = _participation(cohort, org.id)
        p.group = group
        keep.add(p.id)
    by_mentor: dict[int, Participation] = {}
    for org in draft.mentors:
        p = _participation(cohort, org.id)
        if p is None:
            p = Participation(cohort=cohort, organisation=org, role="mentor", created_at=now)
            session.add(p)
        p.role, p.group, p.supports = "mentor", group, None
        by_mentor[org.id] = p
    for supporter, mentor in draft.support:
        p = _participation(cohort, supporter.id)
        if p is None:
            p = Participation(cohort=cohort, organisation=supporter, role="support", created_at=now)
            session.add(p)
        p.role, p.group, p.supports = "support", group, by_mentor[mentor.id]
    session.flush()
    keep |= {p.id for p in by_mentor.values()}
    keep |= {_participation(cohort, s.id).id for s, _ in draft.support}
    for p in list(group.participations):
        if p.id in keep:
            continue
        if p.role == "benchmarking":
            p.group = None  # back among the ungrouped participants
        else:
            _drop(cohort, p)  # a mentor or support organisation takes part through a group
    audit.record(
        session,
        now=now,
        user_id=user_id,
        action="group_saved",
        obj=group,
        cohort_id=cohort.id,
        name=group.name,
        benchmarking=[o.name for o in draft.benchmarking],
        mentors=[o.name for o in draft.mentors],
        support=[s.name for s, _ in draft.support],
        exception_reason=group.exception_reason,
    )
    group_saved.send(group, session=session, now=now, user_id=user_id)
    return group


def _drop(cohort: Cohort, participation: Participation) -> None:
    participation.supports = None
    participation.group = None
    cohort.participations.remove(participation)  # delete-orphan: gone at the next flush


def delete_group(
    session: Session,
    group: Group,
    *,
    now: datetime,
    user_id: int | None,
    expected_version: int | None = None,
) -> None:
    """Dissolve a group while groups are being formed: its participants become ungrouped."""
    check_version(group, expected_version)
    cohort = group.cohort
    if not cohort_actions(cohort)["dissolve_groups"]:
        raise RuleViolation(_l("Groups can be dissolved only while groups are being formed."))
    for p in list(group.participations):
        if p.role == "benchmarking":
            p.group = None
        else:
            _drop(cohort, p)
    audit.record(
        session, now=now, user_id=user_id, action="group_deleted", obj=group, name=group.name
    )
    cohort.groups.remove(group)
    for i, g in enumerate(cohort.groups, start=1):
        g.position = i


def create_group(
    session: Session,
    *,
    now: datetime,
    user_id: int | None,
    cohort: Cohort,
    benchmarking: list[Organisation],
    mentors: list[Organisation] = (),
    support: dict[Organisation, Organisation] | None = None,
    name: str | None = None,
    basis: str = "geography",
    theme: str | None = None,
    exception_reason: str | None = None,
) -> Group:
    """A group of organisations that take part without a registration (the demo data, an
    import of an earlier cohort): their participations are created with it."""
    for org in benchmarking:
        if _participation(cohort, org.id) is None:
            session.add(
                Participation(
                    cohort=cohort,
                    organisation=org,
                    role="benchmarking",
                    status="active",
                    mentor_commitment=True,
                    created_at=now,
                )
            )
    session.flush()
    draft = GroupDraft(
        list(benchmarking),
        list(mentors),
        [(s, m) for s, m in (support or {}).items()],
        name=name,
        basis=basis,
        theme=theme,
    )
    return save_group(
        session,
        cohort,
        draft,
        now=now,
        user_id=user_id,
        exception_reason=exception_reason or "Gruppen bildades så av SKR.",
    )


# --- suggested grouping ----------------------------------------------------------------------


@dataclass
class Suggestion:
    proposal: grouping.Proposal
    organisations: dict[int, Organisation]
    unplaced: list[Organisation]  # without coordinates: the coordinator places them

    def groups(self) -> list[tuple[list[Organisation], list[Organisation], float]]:
        return [
            (
                [self.organisations[p.key] for p in g.benchmarking],
                [self.organisations[p.key] for p in g.mentors],
                g.km,
            )
            for g in self.proposal.groups
        ]

    @property
    def total_km(self) -> float:
        return self.proposal.total_km

    @property
    def fingerprint(self) -> str:
        """What the coordinator saw: accepting checks that the proposal is still the same."""
        text = "|".join(
            ",".join(str(o.id) for o in b) + "/" + ",".join(str(o.id) for o in m)
            for b, m, _km in self.groups()
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _point(org: Organisation, theme: str | None = None) -> grouping.Point | None:
    if org.latitude is None or org.longitude is None:
        return None
    return grouping.Point(org.id, org.latitude, org.longitude, theme)


def theme_key(participation: Participation) -> str | None:
    """The shared theme two participants can be grouped by: the area, else the first theme."""
    registration = participation.registration
    text = participation.area or (registration.themes if registration else None) or ""
    first = text.replace("\n", ",").split(",")[0].strip().casefold()
    return first or None


def suggest_groups(
    session: Session, cohort: Cohort, *, basis: str = "geography", groups: int | None = None
) -> Suggestion:
    """A draft grouping of the ungrouped accepted participants with mentors from the pool
    that have no place in the cohort yet."""
    orgs: dict[int, Organisation] = {}
    points, unplaced = [], []
    for p in sorted(ungrouped(cohort), key=lambda p: p.organisation.name):
        point = _point(p.organisation, theme_key(p) if basis == "theme" else None)
        orgs[p.organisation_id] = p.organisation
        (points.append(point) if point else unplaced.append(p.organisation))
    mentors = []
    if cohort.template.uses_mentors:
        for candidate in mentor_pool(session, cohort):
            point = _point(candidate.organisation)
            if candidate.here is None and point is not None:
                orgs[candidate.organisation.id] = candidate.organisation
                mentors.append(point)
    proposal = grouping.propose(
        points,
        mentors,
        group_min=cohort.template.group_min,
        group_max=cohort.template.group_max,
        groups=groups,
    )
    return Suggestion(proposal, orgs, unplaced)


def suggestion_warnings(session: Session, cohort: Cohort, suggestion: Suggestion) -> list[str]:
    """What accepting the proposal would have to confirm with a reason (a group too small)."""
    return [
        w
        for benchmarking, mentors, _km in suggestion.groups()
        for w in group_warnings(session, cohort, GroupDraft(benchmarking, mentors))
    ]


def accept_suggestion(
    session: Session,
    cohort: Cohort,
    suggestion: Suggestion,
    *,
    now: datetime,
    user_id: int | None,
    basis: str = "geography",
    exception_reason: str | None = None,
    fingerprint: str | None = None,
) -> list[Group]:
    """Form the proposed groups, if the proposal is still the one the coordinator saw."""
    if not cohort_actions(cohort)["suggest"]:
        raise RuleViolation(_l("Groups are formed while the cohort is forming groups."))
    if fingerprint is not None and fingerprint != suggestion.fingerprint:
        raise StaleEdit(
            _l("The registrations changed since you saw the suggestion: here is the new one.")
        )
    created = []
    for benchmarking, mentors, _km in suggestion.groups():
        created.append(
            save_group(
                session,
                cohort,
                GroupDraft(benchmarking, mentors, basis=basis),
                now=now,
                user_id=user_id,
                exception_reason=exception_reason,
            )
        )
    return created


def cohort_travel_km(cohort: Cohort) -> float:
    """The travel of the groups as formed (benchmarking participants and mentors)."""
    total = 0.0
    for g in cohort.groups:
        points = [
            _point(p.organisation) for p in g.participations if p.role in ("benchmarking", "mentor")
        ]
        total += grouping.travel_km([p for p in points if p])
    return total
