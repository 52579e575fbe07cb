"""Users and their server-side login sessions."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modell.core.types import UTCDateTime, choice
from modell.extensions import db
from modell.organisations.models import Organisation, Person

# admin and coordinator are SKR staff; county_observer reads one county;
# member gets its rights from the organisation of its person.
ROLES = ("admin", "coordinator", "county_observer", "member")
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "coordinator": _l("SKR coordinator"),
    "county_observer": _l("County observer"),
    "member": _l("Member of an organisation"),
}


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(choice(*ROLES, name="user_role"), default="member")
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"), unique=True)
    county_code: Mapped[str | None] = mapped_column(sa.ForeignKey("counties.code"))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    # Reminders: the ones that are not essential may be turned off; mail at once or weekly.
    optional_reminders: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    reminder_mail: Mapped[str] = mapped_column(
        choice("immediate", "weekly", name="reminder_mail"),
        default="immediate",
        server_default="immediate",
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "role != 'county_observer' OR county_code IS NOT NULL", name="observer_has_county"
        ),
    )

    # Flask-Login: the id kept in the cookie is the login session's token, not the user id,
    # so that ending that session on the server makes a copied cookie useless.
    login_token = None  # set per request from the cookie; not a column

    def get_id(self) -> str | None:
        return self.login_token

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def organisation(self) -> Organisation | None:
        return self.person.organisation if self.person else None

    @property
    def organisation_id(self) -> int | None:
        return self.person.organisation_id if self.person else None

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "coordinator")


class LoginSession(db.Model):
    """One logged-in browser. Logout or a password change ends it here, on the server."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed logins per account, kept in the database so the limit holds across every
    worker and host. Keyed by a hash of the e-mail as typed (normalised), so an address
    without an account is throttled exactly like one with: nothing reveals which exist."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordResetRequest(db.Model):
    """ "Forgot your password?" as typed. The request only writes this row, the same for a
    known and an unknown address; the worker looks the address up and writes the mail."""

    __tablename__ = "password_reset_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
