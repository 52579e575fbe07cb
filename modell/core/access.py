"""The one place that decides "may this user see / change this object".

Domains describe their objects with an `access_scope()` (which organisations take part,
which may change it, which counties it belongs to); the decision itself is made here,
the same way for every object, and every route asks through `require_view`,
`require_change` or `require_staff`.

- admin and SKR coordinator: see and change everything;
- county observer: sees, read-only, what concerns an organisation of its county;
- everyone else: rights through the organisation of their person.
"""

from dataclasses import dataclass, field
from typing import Protocol

from flask import abort
from flask_login import current_user


@dataclass(frozen=True)
class Scope:
    viewers: frozenset[int] = field(default_factory=frozenset)  # organisation ids
    editors: frozenset[int] = field(default_factory=frozenset)  # organisation ids
    counties: frozenset[str] = field(default_factory=frozenset)  # county codes
    public: bool = False  # every logged-in user may see it
    staff_edit: bool = True  # SKR may change it (not an organisation's own improvement work)


class HasScope(Protocol):
    def access_scope(self) -> Scope: ...


class Actor(Protocol):
    is_authenticated: bool
    role: str
    organisation_id: int | None
    county_code: str | None


STAFF_ROLES = ("admin", "coordinator")


def is_staff(user: Actor) -> bool:
    return bool(user.is_authenticated) and user.role in STAFF_ROLES


def is_admin(user: Actor) -> bool:
    return bool(user.is_authenticated) and user.role == "admin"


def may_view(user: Actor, obj: HasScope) -> bool:
    if not user.is_authenticated:
        return False
    if user.role in STAFF_ROLES:
        return True
    scope = obj.access_scope()
    if scope.public:
        return True
    if user.role == "county_observer":
        return user.county_code in scope.counties
    org = user.organisation_id
    return org is not None and (org in scope.viewers or org in scope.editors)


def may_change(user: Actor, obj: HasScope) -> bool:
    if not user.is_authenticated:
        return False
    if user.role in STAFF_ROLES:
        return obj.access_scope().staff_edit
    if user.role == "county_observer":
        return False
    org = user.organisation_id
    return org is not None and org in obj.access_scope().editors


def require_view(obj: HasScope, user: Actor | None = None) -> None:
    if not may_view(user or current_user, obj):
        abort(403)


def require_change(obj: HasScope, user: Actor | None = None) -> None:
    if not may_change(user or current_user, obj):
        abort(403)


def require_staff(user: Actor | None = None) -> None:
    if not is_staff(user or current_user):
        abort(403)


def require_admin(user: Actor | None = None) -> None:
    if not is_admin(user or current_user):
        abort(403)
