"""Settings read from the environment, with safe defaults.

`MODELL_ENV` is one of development, testing or production (the default).
Outside development and testing a `SECRET_KEY` must be given.
"""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """One settings class; `from_env()` reads the environment at app creation."""

    @classmethod
    def from_env(cls, overrides: dict | None = None) -> dict:
        env = (overrides or {}).get("MODELL_ENV") or os.environ.get("MODELL_ENV", "production")
        instance = Path(os.environ.get("MODELL_INSTANCE_DIR", BASE_DIR / "instance"))
        settings = {
            "MODELL_ENV": env,
            "SECRET_KEY": os.environ.get("SECRET_KEY"),
            "SQLALCHEMY_DATABASE_URI": os.environ.get(
                "DATABASE_URL", f"sqlite:///{instance / 'modell.db'}"
            ),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "MODELL_INSTANCE_DIR": str(instance),
            # Mail: without MAIL_SERVER every message stays in the outbox.
            "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
            "MAIL_PORT": _int("MAIL_PORT", 25),
            "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
            "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
            "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
            "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
            "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "modell@localhost"),
            # Where people write with questions, problems and accessibility reports.
            "CONTACT_EMAIL": os.environ.get("CONTACT_EMAIL")
            or os.environ.get("MAIL_DEFAULT_SENDER", "modell@localhost"),
            "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 10),
            # A failed attempt waits 1, 2, 4, ... minutes (capped at an hour); after the last
            # the message is failed and shown in the outbox, where staff can retry it.
            "MAIL_RETRY_BASE_SECONDS": float(os.environ.get("MAIL_RETRY_BASE_SECONDS", "60")),
            "MAIL_RETRY_MAX_SECONDS": float(os.environ.get("MAIL_RETRY_MAX_SECONDS", "3600")),
            "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 15),
            # A message claimed by a process that died is taken up again after this long.
            "MAIL_CLAIM_TIMEOUT_SECONDS": float(
                os.environ.get("MAIL_CLAIM_TIMEOUT_SECONDS", "600")
            ),
            # The address links in mails point to (no request exists in the scheduler).
            "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            # Languages and time: Swedish first, shown in Stockholm time, stored in UTC.
            "BABEL_DEFAULT_LOCALE": "sv",
            "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
            "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "modell" / "translations"),
            "LANGUAGES": ["sv", "en"],
            "WTF_I18N_ENABLED": True,
            # A CSRF token lives as long as the session, so a long text written over an
            # hour is not rejected; the session itself is revocable on the server.
            "WTF_CSRF_TIME_LIMIT": None,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
            "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_DURATION": timedelta(days=14),
            "LOGIN_IDLE_TIMEOUT": timedelta(hours=_int("LOGIN_IDLE_HOURS", 12)),
            # However busy, a login session ends this long after the login.
            "LOGIN_MAX_AGE": timedelta(days=_int("LOGIN_MAX_DAYS", 30)),
            # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host
            # (0: the address the app sees is the client's).
            "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
            "PASSWORD_RESET_MAX_AGE": _int("PASSWORD_RESET_MAX_AGE", 3600),
            "INVITATION_MAX_AGE": _int("INVITATION_MAX_AGE", 14 * 24 * 3600),
            "PASSWORD_MIN_LENGTH": 10,  # nosec B105 # a length, not a password
            "BOOTSTRAP_SERVE_LOCAL": True,
            "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", env != "testing"),
            # Shared by every worker and host when set to e.g. redis://127.0.0.1:6379/0;
            # the per-account login limit is in the database and holds either way.
            "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
            "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
            # The public interest form, per client address.
            "PUBLIC_FORM_RATE_LIMIT": os.environ.get("PUBLIC_FORM_RATE_LIMIT", "10 per hour"),
            "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(instance / "uploads")),
            # Kolada's open API (key figures by sex): off unless turned on; files always work.
            "KOLADA_ENABLED": _bool("KOLADA_ENABLED"),
            "KOLADA_BASE_URL": os.environ.get("KOLADA_BASE_URL", "https://api.kolada.se/v3"),
            "KOLADA_TIMEOUT": float(os.environ.get("KOLADA_TIMEOUT", "10")),
            # Seconds between two passes of the background worker (mail, reset links).
            "WORKER_POLL_SECONDS": float(os.environ.get("WORKER_POLL_SECONDS", "3")),
            # The scheduler: a tick every minute; the leader renews its lease three times per
            # lease period, so a dead leader's work is taken up within one tick.
            "SCHEDULER_TICK_SECONDS": float(os.environ.get("SCHEDULER_TICK_SECONDS", "60")),
            "SCHEDULER_LEASE_SECONDS": float(os.environ.get("SCHEDULER_LEASE_SECONDS", "45")),
            "UPLOAD_MAX_MB": _int("UPLOAD_MAX_MB", 20),
            # A request larger than the largest file (and its form) is refused with 413.
            "MAX_CONTENT_LENGTH": (_int("UPLOAD_MAX_MB", 20) + 1) * 1024 * 1024,
        }
        if env == "testing":
            settings["TESTING"] = True
        if overrides:
            settings.update(overrides)
        if settings["SESSION_COOKIE_SECURE"]:
            # "__Host-": the browser keeps them to this very host over HTTPS, so no sibling
            # host or plain-HTTP page can plant its own.
            settings.setdefault("SESSION_COOKIE_NAME", "__Host-modell")
            settings.setdefault("REMEMBER_COOKIE_NAME", "__Host-remember")
        if settings["MODELL_ENV"] in ("development", "testing"):
            settings["SECRET_KEY"] = settings["SECRET_KEY"] or DEV_SECRET_KEY
        else:
            # Kept, not raised here: the app refuses to serve and to sign links with such a
            # key (modell.create_app), but a migration needs no key and still runs.
            problem = secret_key_problem(settings["SECRET_KEY"])
            settings["SECRET_KEY_PROBLEM"] = problem and (
                f"SECRET_KEY {problem}. Generate one with: python -c "
                '"import secrets; print(secrets.token_urlsafe(48))" '
                "(or set MODELL_ENV=development for a local run)"
            )
        return settings


DEV_SECRET_KEY = "dev-only-not-secret"  # nosec B105 # development and tests only; refused in production
SECRET_KEY_MIN_BYTES = 32
# Keys people copy from examples and tutorials; refused whatever their length.
_KNOWN_KEYS = {
    DEV_SECRET_KEY,
    "changeme",
    "change-me",
    "secret",
    "secret-key",
    "secretkey",
    "supersecret",
    "your-secret-key",
    "dev",
    "development",
    "password",
    "correct horse battery staple",
}


def secret_key_problem(key: str | None) -> str | None:
    """Why a production SECRET_KEY must be refused, or None. Every signed link (reset,
    invitation, answer) is only as strong as this key: a short or guessable one is found
    offline from a single link, and then links can be forged."""
    if not key:
        return "must be set when MODELL_ENV is production"
    if len(key.encode()) < SECRET_KEY_MIN_BYTES:
        return f"is shorter than {SECRET_KEY_MIN_BYTES} bytes"
    lowered = key.lower()
    if any(known in lowered for known in _KNOWN_KEYS if len(known) >= 6) or lowered in _KNOWN_KEYS:
        return "contains a well-known example key"
    if len(set(key)) < 12:
        return "repeats too few different characters"
    from zxcvbn import zxcvbn

    if zxcvbn(key[:100])["guesses_log10"] < 20:
        return "is guessable (words, repetitions or sequences)"
    return None
