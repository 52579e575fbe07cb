"""Accounts: passwords, login sessions that end on the server, reset and invitation tokens."""

import hashlib
import math
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from modell.auth.models import LoginSession, LoginThrottle, PasswordResetRequest, User
from modell.core import audit, mail
from modell.core.errors import RuleViolation
from modell.core.links import external_url
from modell.core.text import strip_control_characters
from modell.core.types import UTCDateTime
from modell.organisations.models import FUNCTION_LABELS, Person

# Argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane; Password
# Storage Cheat Sheet), not argon2-cffi's default of 64 MiB: each login holds that memory while
# it hashes, so 64 MiB set a web worker's peak at 170 MB and let a burst of logins exhaust a
# host. Hashes made with other settings still verify and are rehashed at the next login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_dummy_hash: list[str] = []


def _dummy() -> str:
    """A hash to verify against for an unknown e-mail, so that its login is as slow as a
    known one's; made at the first login, not when a worker starts."""
    if not _dummy_hash:
        _dummy_hash.append(_hasher.hash("not-a-real-password"))
    return _dummy_hash[0]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user and user.password_hash else None
    try:
        ok = _hasher.verify(stored or _dummy(), password)
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
            user_agent=strip_control_characters(user_agent or "")[:300] or None,
        )
    )
    user.last_login_at = now
    user.login_token = token
    return token


def load_login_session(
    session: Session,
    token: str,
    *,
    now: datetime,
    idle_timeout: timedelta,
    max_age: timedelta = timedelta(days=30),
) -> User | None:
    """The user behind a cookie's token, if that login session is still open, not idle and
    not older than its absolute lifetime (a stolen cookie kept busy still runs out)."""
    # The session, its user and the user's person in one query: every page asks who the
    # user is and which organisation they belong to.
    row = session.scalar(
        sa.select(LoginSession)
        .where(LoginSession.token_hash == _token_hash(token), LoginSession.ended_at.is_(None))
        .options(joinedload(LoginSession.user).joinedload(User.person))
    )
    if row is None:
        return None
    if now - row.last_seen_at > idle_timeout or now - row.created_at > max_age:
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


PASSWORD_MAX_LENGTH = 200  # the strength estimator's time grows with the length


# Words a Swedish password is built from that zxcvbn's English lists do not know; given to it
# as dictionary words, so "Lösenord123" and "Sommar2026!" score as the guesses they are.
SWEDISH_WORDS = (
    "lösenord",
    "losenord",
    "hemligt",
    "hemlig",
    "sommar",
    "vinter",
    "våren",
    "hösten",
    "höst",
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
    "måndag",
    "fredag",
    "kommun",
    "kommunen",
    "region",
    "regionen",
    "sverige",
    "svensk",
    "stockholm",
    "göteborg",
    "malmö",
    "uppsala",
    "modell",
    "jämställdhet",
    "jamstalldhet",
    "skr",
    "välkommen",
    "valkommen",
    "kärlek",
    "hejsan",
)
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "+": "t",
    }
)


def password_problem(
    password: str,
    *,
    email: str,
    name: str,
    min_length: int = 10,
    organisation: str | None = None,
):
    """Why this password must not be used, or None. Too short, too long, containing the
    user's e-mail address, name or organisation (also written with digits for letters, as
    in "B0dil"), or easy to guess by zxcvbn's estimate (score below 3 of 4: common
    passwords and words, Swedish ones included, names, dates, keyboard and number runs)."""
    if len(password) < min_length:
        return _l("The password must be at least %(n)d characters.", n=min_length)
    if len(password) > PASSWORD_MAX_LENGTH:
        return _l("The password can be at most %(n)d characters.", n=PASSWORD_MAX_LENGTH)
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    personal = {email, local, *local.replace("-", ".").replace("_", ".").split(".")}
    personal |= {part for part in domain.split(".") if part not in ("example", "com", "org", "se")}
    personal |= {part for part in name.casefold().split()}
    personal |= {part for part in (organisation or "").casefold().split()}
    personal = {p for p in personal if len(p) >= 3}
    plain = password.casefold()
    readable = plain.translate(_LEET)
    if any(p in plain or p in readable for p in personal):
        return _l(
            "The password must not contain your e-mail address, your name or your organisation."
        )
    inputs = [*personal, *SWEDISH_WORDS]
    from zxcvbn import zxcvbn  # its word lists take 12 MB: loaded when a password is set

    if zxcvbn(password, user_inputs=inputs)["score"] < 3:
        return _l(
            "The password is too easy to guess: common words, names, dates and sequences such "
            "as 1234 are tried first. Use a few unrelated words or more characters."
        )
    return None


def set_password(
    session: Session,
    user: User,
    password: str,
    *,
    now: datetime,
    keep_token: str | None = None,
    min_length: int = 10,
) -> None:
    """Change the password and end every other login session of the user."""
    organisation = user.organisation.name if user.organisation else None
    problem = password_problem(
        password,
        email=user.email,
        name=user.name,
        min_length=min_length,
        organisation=organisation,
    )
    if problem is not None:
        raise RuleViolation(problem, field="password")
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    clear_login_failures(session, user.email)
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


def request_password_reset(session: Session, email: str, *, now: datetime) -> None:
    """Note the request and nothing else: the same single insert whether or not the address
    belongs to anyone, so the reply's timing tells nothing. The worker writes the mail."""
    session.add(PasswordResetRequest(email=normalise_email(email)[:320], requested_at=now))


RESETS_PER_HOUR = 3  # mails to one account; more requests are noted and dropped


def process_reset_requests(session: Session, now: datetime, config: Mapping) -> int:
    """The worker's job: mail a reset link for each waiting request whose address belongs
    to an active user. Each request is claimed with a conditional update, so two workers
    never mail the same one. Returns how many mails were written."""
    written = 0
    waiting = session.scalars(
        sa.select(PasswordResetRequest)
        .where(PasswordResetRequest.processed_at.is_(None))
        .order_by(PasswordResetRequest.id)
        .limit(500)
    ).all()
    for request in waiting:
        claimed = session.execute(
            sa.update(PasswordResetRequest)
            .where(
                PasswordResetRequest.id == request.id,
                PasswordResetRequest.processed_at.is_(None),
            )
            .values(processed_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue
        user = find_user(session, request.email)
        if user is None or not user.active or _recent_resets(session, user, now) >= RESETS_PER_HOUR:
            continue
        token = make_password_token(user, config["SECRET_KEY"], "reset")
        _mail_user(
            session,
            user,
            now=now,
            kind="password_reset",
            template="password_reset",
            subject=_l("Reset your password in Modell"),
            link=external_url("auth.reset_password", token=token),
        )
        audit.record(session, now=now, user_id=None, action="password_reset_mailed", obj=user)
        written += 1
    # Requests are kept a month for the audit of abuse, then forgotten.
    session.execute(
        sa.delete(PasswordResetRequest).where(
            PasswordResetRequest.requested_at < now - timedelta(days=30)
        )
    )
    return written


def _recent_resets(session: Session, user: User, now: datetime) -> int:
    from modell.core.models import OutboxMessage

    return session.scalar(
        sa.select(sa.func.count()).where(
            OutboxMessage.kind == "password_reset",
            OutboxMessage.recipient == user.email,
            OutboxMessage.created_at > now - timedelta(hours=1),
        )
    )


def invite_user(
    session: Session,
    *,
    now: datetime,
    invited_by: User | None,
    email: str,
    name: str,
    role: str,
    organisation_id: int | None,
    function: str | None,
    county_code: str | None,
    secret_key: str,
    send_mail: bool = True,
    person: Person | None = None,
    cohort=None,
) -> tuple[User, str]:
    """Create the account and mail a link where the invited person chooses a password.
    Returns the user and the link; the link is for the invited person only (the CLI prints
    it when no mail server is set, for the very first account).

    A member gets its rights from an organisation, so it is created as a person of that
    organisation with a function (politician, manager, strategist, ...).
    """
    if find_user(session, email) is not None:
        raise RuleViolation(_l("There is already an account with this e-mail address."), "email")
    person_id = None
    if person is not None:  # someone the register knows already (a registration's contact)
        person_id = person.id
    elif role == "member":
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
    link = external_url("auth.accept_invitation", token=token)
    if send_mail:
        _mail_user(
            session,
            user,
            now=now,
            kind="invitation",
            template="invitation",
            subject=_l("You are invited to Modell"),
            link=link,
            inviter=invited_by,
            person=session.get(Person, person_id) if person_id else None,
            cohort=cohort,
            function_labels=FUNCTION_LABELS,
        )
    audit.record(
        session,
        now=now,
        user_id=invited_by.id if invited_by else None,
        action="user_invited",
        obj=user,
        email=user.email,
        role=role,
    )
    return user, link


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


# --- login throttling per account ------------------------------------------------------------

LOGIN_FREE_FAILURES = 5  # passwords tried before the account is held
LOGIN_WINDOW = timedelta(hours=1)  # quiet this long after the last try or hold: start over
LOGIN_MAX_BLOCK = timedelta(hours=1)


def _throttle_key(email: str) -> str:
    return hashlib.sha256(("login:" + normalise_email(email)).encode()).hexdigest()


def _hold(attempts: int) -> timedelta:
    """One minute at the last free attempt, doubling with each attempt after, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - LOGIN_FREE_FAILURES, 0)), LOGIN_MAX_BLOCK)


def reserve_login_attempt(session: Session, email: str, *, now: datetime) -> timedelta | None:
    """Reserve the right to check one password for this address, before it is checked, in
    one conditional statement: however many workers and hosts try at once, the first
    LOGIN_FREE_FAILURES attempts are checked and after that one attempt per hold. Returns
    how long to wait when the address is held (its password is then not checked at all).
    The caller commits before checking the password, so other workers see the reservation.
    An address without an account is counted exactly like one with."""
    key = _throttle_key(email)
    table = LoginThrottle.__table__
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    session.execute(
        insert(LoginThrottle)
        .values(key=key, failures=0, first_failed_at=now, last_failed_at=now, blocked_until=None)
        .on_conflict_do_nothing(index_elements=[table.c.key])
    )
    last_event = sa.case(
        (table.c.blocked_until > table.c.last_failed_at, table.c.blocked_until),
        else_=table.c.last_failed_at,
    )
    attempts = sa.case((last_event < now - LOGIN_WINDOW, 1), else_=table.c.failures + 1)
    at = sa.literal(now, UTCDateTime())
    window_over = last_event < sa.literal(now - LOGIN_WINDOW, UTCDateTime())
    attempts = sa.case((window_over, 1), else_=table.c.failures + 1)
    # From the last free attempt on, the same statement holds the address (for a minute
    # here; the length is set just below), so a second try at the same moment finds it held.
    reserved = session.execute(
        sa.update(LoginThrottle)
        .where(
            LoginThrottle.key == key,
            sa.or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now),
        )
        .values(
            failures=attempts,
            first_failed_at=sa.case((window_over, at), else_=table.c.first_failed_at),
            last_failed_at=now,
            blocked_until=sa.case(
                (
                    attempts >= LOGIN_FREE_FAILURES,
                    sa.literal(now + timedelta(minutes=1), UTCDateTime()),
                ),
                else_=None,
            ),
        )
        .returning(LoginThrottle.failures)
        .execution_options(synchronize_session=False)
    ).scalar()
    if reserved is not None:
        if reserved > LOGIN_FREE_FAILURES:
            session.execute(
                sa.update(LoginThrottle)
                .where(LoginThrottle.key == key)
                .values(blocked_until=now + _hold(reserved))
                .execution_options(synchronize_session=False)
            )
        return None
    until = session.scalar(sa.select(LoginThrottle.blocked_until).where(LoginThrottle.key == key))
    return (until - now) if until and until > now else timedelta(minutes=1)


def login_hold_after_failure(session: Session, email: str, *, now: datetime) -> timedelta | None:
    """After a wrong password: how long the address is now held (the last free attempt and
    every later one start a hold), or None."""
    until = session.scalar(
        sa.select(LoginThrottle.blocked_until).where(LoginThrottle.key == _throttle_key(email))
    )
    return (until - now) if until and until > now else None


def clear_login_failures(session: Session, email: str) -> None:
    """A right password, or a new one set through a reset link, lifts the hold."""
    session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == _throttle_key(email)))


def minutes_to_wait(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))


# --- accounts for the contacts of an accepted registration -------------------------------------


def _contacts_invited(registration, *, session: Session, now: datetime, user_id: int | None):
    """SKR accepted a registration: each named contact without an account is invited to
    one, bound to the organisation and the function the registration gives. Nobody gets an
    account before this (the public form creates none)."""
    from flask import current_app

    inviter = session.get(User, user_id) if user_id else None
    organisation = registration.organisation
    # What the coordinator is told besides "accepted": who got no invitation, and why.
    notes = registration.__dict__.setdefault("invitation_notes", [])
    invited: dict[str, str] = {}
    for contact in registration.contacts:
        email = normalise_email(contact.email or "")
        if not email:
            continue
        if email in invited:
            notes.append(
                _l(
                    "%(email)s is named for more than one function: one account, as %(function)s.",
                    email=email,
                    function=str(FUNCTION_LABELS[invited[email]]).lower(),
                )
            )
            continue
        existing = find_user(session, email)
        if existing is not None:
            notes.append(
                _l("%(email)s already has an account: no invitation was sent.", email=email)
            )
            continue
        invited[email] = contact.function
        person = session.scalar(
            sa.select(Person).where(
                Person.organisation_id == organisation.id, sa.func.lower(Person.email) == email
            )
        )
        if person is None:
            person = Person(
                organisation_id=organisation.id,
                name=contact.name.strip(),
                email=email,
                function=contact.function,
                phone=contact.phone,
                created_at=now,
            )
            session.add(person)
            session.flush()
        invite_user(
            session,
            now=now,
            invited_by=inviter,
            email=email,
            name=contact.name,
            role="member",
            organisation_id=organisation.id,
            function=contact.function,
            county_code=None,
            secret_key=current_app.config["SECRET_KEY"],
            person=person,
            cohort=registration.cohort,
        )


def connect_signals() -> None:
    from modell.cohorts.registrations import registration_accepted

    registration_accepted.connect(_contacts_invited, weak=False)
