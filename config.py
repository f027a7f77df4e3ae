"""Configuration classes, every value read from the environment.

``create_app`` takes one of these classes. ``DevelopmentConfig`` runs on an embedded SQLite file under ``instance/``;
``TestingConfig`` is used by the test suite; ``ProductionConfig`` refuses to start without its secrets.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_bool(name: str, default: bool = False) -> bool:
    return (_env(name, "1" if default else "0") or "0").lower() in {"1", "true", "yes", "on"}


def env_proxies(name: str = "TRUST_PROXY") -> int:
    """How many reverse proxies stand in front of the app (0 = none: forwarded headers are ignored).

    ``TRUST_PROXY=2`` means a load balancer and a proxy each add one ``X-Forwarded-For`` entry; ``on``/``true``/``yes``
    count as 1 (the switch this setting used to be), ``off``/``false``/``no`` as 0.
    """
    raw = (_env(name, "0") or "0").strip().lower()
    if raw in {"on", "true", "yes"}:
        return 1
    if raw in {"off", "false", "no"}:
        return 0
    try:
        count = int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be the number of proxies in front of the app, not {raw!r}") from None
    if not 0 <= count <= 10:
        raise RuntimeError(f"{name} must be between 0 and 10, not {count}")
    return count


def env_hosts(name: str = "TRUSTED_HOSTS") -> list[str] | None:
    """A comma-separated host list (``jx.example,.jx.example``: a leading dot admits subdomains), or None."""
    hosts = [h.strip() for h in (_env(name) or "").split(",") if h.strip()]
    return hosts or None


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = _env("SECRET_KEY", "dev-only-not-secret")
    # The app connects as a non-owner role; migrations run as the owner (MIGRATIONS_DATABASE_URL).
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'dev.db'}")
    MIGRATIONS_DATABASE_URI = _env("MIGRATIONS_DATABASE_URL")
    # Name of the non-owner PostgreSQL role the migrations create and grant to.
    APP_DB_ROLE = _env("APP_DB_ROLE", "jx_app")
    SQLALCHEMY_ECHO = _env_bool("SQLALCHEMY_ECHO")

    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    # "auto" uses Redis when it answers and falls back to process memory otherwise.
    RATELIMIT_STORAGE = _env("RATELIMIT_STORAGE", "auto")
    RATELIMIT_LOGIN_PER_IP = _env("RATELIMIT_LOGIN_PER_IP", "20 per 10 minutes")
    RATELIMIT_LOGIN_PER_ACCOUNT = _env("RATELIMIT_LOGIN_PER_ACCOUNT", "5 per 10 minutes")
    RATELIMIT_SENSITIVE = _env("RATELIMIT_SENSITIVE", "10 per 10 minutes")

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "中文", "en": "English"}
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "saas" / "translations")

    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Server-side session limits (see saas/auth/sessions.py).
    SESSION_IDLE_TIMEOUT = timedelta(minutes=_env_int("SESSION_IDLE_MINUTES", 120))
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=_env_int("SESSION_ABSOLUTE_HOURS", 12))

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the server-side session
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    # argon2id parameters; a change makes the next login rehash the stored password.
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _env_int("ARGON2_MEMORY_COST", 65536)
    ARGON2_PARALLELISM = _env_int("ARGON2_PARALLELISM", 4)
    PASSWORD_MIN_LENGTH = 8
    PASSWORD_MAX_LENGTH = 128

    TOKEN_TTL_RESET = timedelta(hours=1)
    TOKEN_TTL_VERIFY = timedelta(days=2)
    INVITATION_TTL = timedelta(days=7)
    TOTP_ISSUER = "嘉兴企业信息化平台"

    # "outbox" stores mail in the database and logs it; "smtp" also delivers it.
    MAIL_BACKEND = _env("MAIL_BACKEND", "outbox")
    MAIL_SERVER = _env("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS")
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "noreply@jx-informatization.local")
    # The base of every URL that leaves the site (emails, sitemap, API ``url`` fields): saas/core/links.py.
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # Host names requests may name (Flask refuses others with 400); None admits any. Production defaults to the host
    # of PUBLIC_BASE_URL.
    TRUSTED_HOSTS = env_hosts()
    # Reverse proxies in front of the app: ProxyFix then takes the client address and scheme from that many
    # X-Forwarded-For / X-Forwarded-Proto entries (saas/__init__.py); rate limits key on that address.
    TRUST_PROXY = env_proxies()

    REPORTS_DIR = _env("REPORTS_DIR", str(INSTANCE_DIR / "reports"))
    REPORTS_SYNC = _env_bool("REPORTS_SYNC")  # render PDFs in the request even when Redis is there
    REPORT_RENDER_DELAY_S = _env("REPORT_RENDER_DELAY_S")  # tests only: widen the window for killing a worker
    EVIDENCE_DIR = _env("EVIDENCE_DIR", str(INSTANCE_DIR / "evidence"))
    PRODUCT_IMAGE_DIR = _env("PRODUCT_IMAGE_DIR", str(INSTANCE_DIR / "product-images"))
    PRODUCT_IMAGES_MAX = 8
    # Buyer limits against spam, per account and calendar day (Asia/Shanghai).
    INQUIRY_DAILY_LIMIT = _env_int("INQUIRY_DAILY_LIMIT", 20)
    RFQ_DAILY_LIMIT = _env_int("RFQ_DAILY_LIMIT", 5)
    RFQ_MAX_QUOTES = 10
    COMPARE_MAX = 4
    # Bulk catalogue import: the upload size and the rows one file may hold.
    IMPORT_MAX_BYTES = _env_int("IMPORT_MAX_MB", 10) * 1024 * 1024
    IMPORT_MAX_ROWS = 20_000
    # What one file may cost (docs/bulk-import.md, "Limits"): columns with a value, the declared unpacked size of an
    # XLSX and the compression ratio of its members over 1 MB (both checked before parsing), and the time to read and
    # check it (a file that takes longer is refused as too large or complex).
    IMPORT_MAX_COLUMNS = _env_int("IMPORT_MAX_COLUMNS", 200)
    IMPORT_MAX_UNPACKED_BYTES = _env_int("IMPORT_MAX_UNPACKED_MB", 32) * 1024 * 1024
    IMPORT_MAX_RATIO = _env_int("IMPORT_MAX_RATIO", 100)
    IMPORT_TIME_LIMIT_S = _env_int("IMPORT_TIME_LIMIT_S", 30)
    # Catalogue pages for visitors without a session are served from memory for this long (saas/core/pagecache.py).
    PUBLIC_PAGE_CACHE_SECONDS = _env_int("PUBLIC_PAGE_CACHE_SECONDS", 60)
    # Cached public search pages are keyed on the listing index's generation, re-read at most this often per process.
    LISTING_RECHECK_SECONDS = float(_env("LISTING_RECHECK_SECONDS", "1") or 1)
    IMPORT_UPLOAD_DIR = _env("IMPORT_UPLOAD_DIR", str(INSTANCE_DIR / "imports"))  # checked files awaiting import
    EVIDENCE_MAX_BYTES = _env_int("EVIDENCE_MAX_MB", 10) * 1024 * 1024
    EVIDENCE_MAX_PIXELS = 40_000_000

    # Peer benchmarking (docs/scoring.md §15): design choices, kept in config rather than in the pure engine.
    BENCHMARK = {
        "min_n": 10,
        "window_months": 24,
        "suppress_k": 5,
        "quantiles": {"p25": 25, "p50": 50, "p75": 75, "p90": 90},
        "bins": 10,
    }

    # Billing (docs/billing.md). Without a secret key billing is off; development aims at the local stand-in.
    BILLING_ENABLED = _env_bool("BILLING_ENABLED", True)
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_WEBHOOK_SECRET_OLD = _env("STRIPE_WEBHOOK_SECRET_OLD")  # accepted too while the secret is rotated
    STRIPE_API_BASE = _env("STRIPE_API_BASE")  # the stand-in's URL; unset for Stripe itself
    STRIPE_MAX_NETWORK_RETRIES = _env_int("STRIPE_MAX_NETWORK_RETRIES", 2)

    HSTS_SECONDS = 31536000
    PAGE_SIZE = 20
    # The zero-result search log (saas/marketplace/misses.py, docs/search.md §7b): caps and the batching delay.
    SEARCH_MISS_PER_VISITOR_DAY = _env_int("SEARCH_MISS_PER_VISITOR_DAY", 20)
    SEARCH_MISS_NEW_QUERIES_DAY = _env_int("SEARCH_MISS_NEW_QUERIES_DAY", 500)
    SEARCH_MISS_BUFFER = 2_000
    SEARCH_MISS_FLUSH_SECONDS = 2.0


class DevelopmentConfig(Config):
    """Local development: embedded SQLite under instance/, mail to the outbox."""

    DEBUG = False
    # No Stripe keys: the local stand-in that scripts/serve.sh starts (docs/stripe-standin.md).
    if not _env("STRIPE_SECRET_KEY"):
        STRIPE_SECRET_KEY = "sk_test_local_standin"
        STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET", "whsec_local_dev")
        STRIPE_API_BASE = _env("STRIPE_API_BASE", "http://127.0.0.1:12111")


class TestingConfig(Config):
    """The test suite: its own database, fast hashing, CSRF on (tests send tokens)."""

    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite:///" + str(INSTANCE_DIR / "test.db"))
    MIGRATIONS_DATABASE_URI = _env("TEST_MIGRATIONS_DATABASE_URL")
    RATELIMIT_STORAGE = "memory"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8192
    ARGON2_PARALLELISM = 1
    SERVER_NAME = None
    EVIDENCE_DIR = str(INSTANCE_DIR / "test-evidence")
    PRODUCT_IMAGE_DIR = str(INSTANCE_DIR / "test-product-images")
    IMPORT_UPLOAD_DIR = str(INSTANCE_DIR / "test-imports")
    PUBLIC_PAGE_CACHE_SECONDS = 0
    REPORTS_DIR = str(INSTANCE_DIR / "test-reports")
    REPORTS_SYNC = True
    SEARCH_MISS_FLUSH_SECONDS = 0  # store the zero-result log when the request ends (no thread on the test connection)


class ProductionConfig(Config):
    """Production: secrets are required, cookies are Secure and ``__Host-`` prefixed."""

    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "PUBLIC_BASE_URL")

    @classmethod
    def from_environment(cls) -> dict[str, object]:
        """Return the settings read now from the environment; refuse to start when one is missing or unusable.

        ``PUBLIC_BASE_URL`` must be an absolute http(s) URL: every emailed link is built from it. ``TRUSTED_HOSTS``
        defaults to its host, so a request naming any other host is refused with 400.
        """
        missing = [name for name in cls.REQUIRED if not _env(name)]
        if missing:
            raise RuntimeError(f"ProductionConfig refuses to start: missing {', '.join(missing)}")
        base = _env("PUBLIC_BASE_URL") or ""
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise RuntimeError(f"ProductionConfig refuses to start: PUBLIC_BASE_URL is not an http(s) URL: {base!r}")
        billing = _billing_settings()
        return {
            **billing,
            "SECRET_KEY": _env("SECRET_KEY") or "",
            "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL") or "",
            "PUBLIC_BASE_URL": base,
            "TRUSTED_HOSTS": env_hosts() or [parts.hostname],
            "TRUST_PROXY": env_proxies(),
        }


def _billing_settings() -> dict[str, object]:
    """Production billing: off unless BILLING_ENABLED; on, it needs a real secret key and a webhook secret."""
    if not _env_bool("BILLING_ENABLED", False):
        return {"BILLING_ENABLED": False, "STRIPE_SECRET_KEY": None}
    key = _env("STRIPE_SECRET_KEY") or ""
    secret = _env("STRIPE_WEBHOOK_SECRET") or ""
    if not key.startswith(("sk_live_", "rk_live_", "sk_test_")) or "standin" in key:
        raise RuntimeError(
            "ProductionConfig refuses to start billing: STRIPE_SECRET_KEY is missing or not a Stripe key"
        )
    if not secret.startswith("whsec_") or secret == "whsec_local_dev":
        raise RuntimeError("ProductionConfig refuses to start billing: STRIPE_WEBHOOK_SECRET is missing")
    if _env("STRIPE_API_BASE"):
        raise RuntimeError("ProductionConfig refuses to start billing: STRIPE_API_BASE (the stand-in) is set")
    return {"BILLING_ENABLED": True, "STRIPE_SECRET_KEY": key, "STRIPE_WEBHOOK_SECRET": secret}


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Pick the config class named by APP_ENV (development by default)."""
    return CONFIGS[_env("APP_ENV", "development")]
