"""Accounts: passwords, login sessions that end on the server, reset and invitation tokens."""

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from modell.auth.models import LoginSession, User
from modell.core import audit, mail
from modell.organisations.models import Person

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown e-mail as slow as for a known one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user and user.password_hash else None
    try:
        ok = _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored is not None


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (without telling which was wrong)."""
    user = find_user(session, email)
    if not check_password(user, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


# --- login sessions ----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(
    session: Session, user: User, *, now: datetime, user_agent: str | None = None
) -> str:
    """Open a server-side login session; the returned token goes into the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    user.last_login_at = now
    user.login_token = token
    return token


def load_login_session(
    session: Session, token: str, *, now: datetime, idle_timeout: timedelta
) -> User | None:
    """The user behind a cookie's token, if that login session is still open and not idle."""
    row = session.scalar(
        sa.select(LoginSession).where(
            LoginSession.token_hash == _token_hash(token), LoginSession.ended_at.is_(None)
        )
    )
    if row is None:
        return None
    if now - row.last_seen_at > idle_timeout:
        row.ended_at = now
        session.commit()
        return None
    if now - row.last_seen_at > timedelta(minutes=5):
        row.last_seen_at = now  # written at most every five minutes, not on every request
        session.commit()
    user = row.user
    if not user.active:
        return None
    user.login_token = token
    return user


def end_login_session(session: Session, token: str | None, *, now: datetime) -> None:
    if token:
        session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(token), LoginSession.ended_at.is_(None))
            .values(ended_at=now)
        )


def end_all_login_sessions(
    session: Session, user: User, *, now: datetime, keep_token: str | None = None
) -> None:
    stmt = sa.update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    if keep_token:
        stmt = stmt.where(LoginSession.token_hash != _token_hash(keep_token))
    session.execute(stmt.values(ended_at=now))


# --- passwords -----------------------------------------------------------------------------


def set_password(
    session: Session, user: User, password: str, *, now: datetime, keep_token: str | None = None
) -> None:
    """Change the password and end every other login session of the user."""
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    end_all_login_sessions(session, user, now=now, keep_token=keep_token)
    audit.record(session, now=now, user_id=user.id, action="password_changed", obj=user)


# A token is signed, expires, and is bound to the current password hash: once the password
# is set, the same link stops working.
_SALT = "modell-password"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_password_token(user: User, secret_key: str, purpose: str) -> str:
    return _serializer(secret_key).dumps({"u": user.id, "f": _fingerprint(user), "p": purpose})


def read_password_token(
    session: Session, token: str, secret_key: str, *, purpose: str, max_age: int
) -> User | None:
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or data.get("p") != purpose:
        return None
    user = session.get(User, data.get("u"))
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


def request_password_reset(
    session: Session, email: str, *, now: datetime, secret_key: str, base_url: str
) -> None:
    """Mail a reset link if the address belongs to an active user; say nothing either way."""
    user = find_user(session, email)
    if user is None or not user.active:
        return
    token = make_password_token(user, secret_key, "reset")
    link = base_url + url_for("auth.reset_password", token=token)
    _mail_user(
        session,
        user,
        now=now,
        kind="password_reset",
        template="password_reset",
        subject=_l("Reset your password in Modell"),
        link=link,
    )
    audit.record(session, now=now, user_id=None, action="password_reset_requested", obj=user)


def invite_user(
    session: Session,
    *,
    now: datetime,
    invited_by: User,
    email: str,
    name: str,
    role: str,
    organisation_id: int | None,
    function: str | None,
    county_code: str | None,
    secret_key: str,
    base_url: str,
) -> User:
    """Create the account and mail a link where the invited person chooses a password.

    A member gets its rights from an organisation, so it is created as a person of that
    organisation with a function (politician, manager, strategist, ...).
    """
    person_id = None
    if role == "member":
        if organisation_id is None or function is None:
            raise ValueError("a member needs an organisation and a function")
        person = Person(
            organisation_id=organisation_id,
            name=name.strip(),
            email=normalise_email(email),
            function=function,
            created_at=now,
        )
        session.add(person)
        session.flush()
        person_id = person.id
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        role=role,
        person_id=person_id,
        county_code=county_code if role == "county_observer" else None,
        created_at=now,
        active=True,
    )
    session.add(user)
    session.flush()
    token = make_password_token(user, secret_key, "invite")
    link = base_url + url_for("auth.accept_invitation", token=token)
    _mail_user(
        session,
        user,
        now=now,
        kind="invitation",
        template="invitation",
        subject=_l("You are invited to Modell"),
        link=link,
        inviter=invited_by,
    )
    audit.record(
        session,
        now=now,
        user_id=invited_by.id,
        action="user_invited",
        obj=user,
        email=user.email,
        role=role,
    )
    return user


def _mail_user(
    session: Session, user: User, *, now: datetime, kind: str, template: str, subject, **context
) -> None:
    """Render the mail in the recipient's language (not the sender's) and queue it."""
    with force_locale(user.locale or "sv"):
        text = render_template(f"emails/{template}.txt", user=user, **context)
        html = render_template(f"emails/{template}.html", user=user, **context)
        subject_text = str(subject)
    mail.queue(
        session, now=now, kind=kind, to=user.email, subject=subject_text, text=text, html=html
    )
