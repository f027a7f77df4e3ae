"""Password hashing, the password policy, TOTP, access decorators and the HTTP security headers."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from saas.models import User

# A short list of the passwords seen most often in Chinese and English leaks; a breached-password
# service can be plugged in behind ``password_problem`` later.
COMMON_PASSWORDS = frozenset(
    """
    123456 12345678 123456789 1234567890 111111 000000 888888 666666 123123 654321 password password1 passw0rd
    qwerty qwertyuiop 1qaz2wsx abc123 abcd1234 a123456 a12345678 woaini 5201314 woaini1314 iloveyou admin admin123
    admin888 root123 1q2w3e4r 11111111 88888888 12341234 147258369 zxcvbnm asdfghjkl qazwsx 112233 121212 aaaaaa
    password123 welcome letmein monkey dragon baseball football sunshine princess 666888 168168 999999 520520
    jiaxing123 zhejiang qq123456 taobao123 123qwe 123456a 123456abc 12345678a
    """.split()
)


def password_hasher() -> PasswordHasher:
    """Return an argon2id hasher with the configured cost parameters."""
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return password_hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    """Check ``password`` against the user's hash and upgrade the hash when the parameters have changed."""
    hasher = password_hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def burn_password_check(password: str) -> None:
    """Spend the same time as a real check, so unknown accounts cannot be told apart by timing."""
    hasher = password_hasher()
    try:
        hasher.verify(_dummy_hash(hasher), password)
    except (VerificationError, InvalidHashError):
        pass


_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash(secrets.token_hex(16))
    return _DUMMY[key]


def password_problem(password: str, *, email: str = "") -> str | None:
    """Return a localised reason why ``password`` is not acceptable, or None (NIST 800-63B rules, no composition)."""
    cfg = current_app.config
    if len(password) < cfg["PASSWORD_MIN_LENGTH"]:
        return str(_l("Use at least %(n)d characters.", n=cfg["PASSWORD_MIN_LENGTH"]))
    if len(password) > cfg["PASSWORD_MAX_LENGTH"]:
        return str(_l("Use at most %(n)d characters.", n=cfg["PASSWORD_MAX_LENGTH"]))
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 3:
        return str(_l("This password is too common; choose another."))
    if email and lowered == email.lower().split("@")[0]:
        return str(_l("The password must not be your email name."))
    return None


# --- TOTP -----------------------------------------------------------------------------------------------------

TOTP_INTERVAL = 30


def new_totp_secret() -> str:
    """Return a fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def totp_uri(user: User, secret: str) -> str:
    """Return the otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["TOTP_ISSUER"])


def verify_totp(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """Return the accepted time step for ``code`` (±1 step of drift), or None; a used step is never accepted again."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


# --- Access decorators ----------------------------------------------------------------------------------------


def _login_redirect() -> Any:
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the login page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return _login_redirect()
        return view(*args, **kwargs)

    return wrapped


def require_firm_member() -> Any:
    """``before_request`` guard for firm blueprints: a logged-in member with an active firm, else 403."""
    if g.get("user") is None:
        return _login_redirect()
    if g.get("tenant") is None:
        abort(403)
    return None


def require_owner() -> None:
    """Abort with 403 unless the current member owns the firm."""
    membership = g.get("membership")
    if membership is None or membership.role != "owner":
        abort(403)


def require_staff() -> Any:
    """``before_request`` guard for bureau blueprints: staff or admin, logged in with TOTP."""
    if g.get("user") is None:
        return _login_redirect()
    if not g.user.is_staff:
        abort(403)
    return None


def in_staff_scope(user: User, county: str) -> bool:
    """Return whether staff ``user`` may see a firm in ``county`` (city-wide staff and admins see all)."""
    return user.kind == "admin" or user.staff_county is None or user.staff_county == county


# --- Security headers -----------------------------------------------------------------------------------------


def _standin_origin(app: Flask) -> str:
    """The local Stripe stand-in's origin, when billing points at it: Checkout and the portal redirect there."""

    base = urlsplit(app.config.get("STRIPE_API_BASE") or "")
    return f" {base.scheme}://{base.netloc}" if base.scheme in ("http", "https") and base.netloc else ""


def register_security_headers(app: Flask) -> None:
    """Add CSP, HSTS, nosniff, frame and referrer headers to every response."""

    @app.before_request
    def _nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.after_request
    def _headers(response: Any) -> Any:
        nonce = g.get("csp_nonce", "")
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            f"form-action 'self' https://checkout.stripe.com https://billing.stripe.com{_standin_origin(app)}"
        )
        response.headers["Strict-Transport-Security"] = f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if g.get("user") is not None:
            response.headers["Cache-Control"] = "no-store"
        return response
