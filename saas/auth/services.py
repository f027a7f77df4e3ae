"""Account services: registration, single-use tokens, password changes, two-factor. They flush; views commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.auth.sessions import revoke_sessions
from saas.core.audit import record_event
from saas.core.domain import Forbidden
from saas.core.links import external_url
from saas.core.mail import send_mail
from saas.core.security import hash_password, verify_totp
from saas.core.tenancy import set_tenant
from saas.models import AuthToken, Firm, Membership, User, UserSession, utcnow
from saas.reference import size_class


class EmailTaken(ValueError):
    """The email already belongs to an account."""


def normalise_email(email: str) -> str:
    """Return the canonical, lower-cased form under which emails are stored and looked up."""
    return email.strip().lower()


def find_user(dbs: Session, email: str) -> User | None:
    """Return the user with ``email`` (case-insensitive), or None."""
    return dbs.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(dbs: Session, *, email: str, name: str, password: str, kind: str, county: str | None = None) -> User:
    """Create a user; raise ``EmailTaken`` when the email is in use."""
    if find_user(dbs, email) is not None:
        raise EmailTaken(email)
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        password_hash=hash_password(password),
        kind=kind,
        staff_county=county,
    )
    dbs.add(user)
    dbs.flush()
    return user


def register_firm(
    dbs: Session,
    *,
    firm_name: str,
    uscc: str,
    industry: str,
    county: str,
    park: str | None,
    employees: int,
    revenue_wan: Decimal,
    contact_name: str,
    contact_phone: str | None,
    owner_name: str,
    email: str,
    password: str,
) -> tuple[Firm, User]:
    """Create the firm (the tenant), its owner account and the owner membership; send the verification email."""
    user = create_user(dbs, email=email, name=owner_name, password=password, kind="firm")
    firm = Firm(
        name=firm_name.strip(),
        uscc=uscc.strip().upper(),
        industry=industry,
        county=county,
        park=(park or "").strip() or None,
        employees=employees,
        revenue_wan=revenue_wan,
        size_class=size_class(employees, revenue_wan),
        contact_name=contact_name.strip(),
        contact_phone=(contact_phone or "").strip() or None,
    )
    dbs.add(firm)
    dbs.flush()
    set_tenant(dbs, firm.id, user.id)
    dbs.add(Membership(firm_id=firm.id, user_id=user.id, role="owner"))
    dbs.flush()
    record_event(dbs, user, "firm.registered", subject_firm_id=firm.id, uscc=firm.uscc)
    send_verification(dbs, user)
    return firm, user


def issue_token(dbs: Session, user: User, purpose: str, ttl: timedelta) -> str:
    """Store the hash of a fresh 256-bit token for ``user`` and return the raw token (only ever emailed)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    dbs.add(
        AuthToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hashlib.sha256(raw.encode()).hexdigest(),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    dbs.flush()
    return raw


def peek_token(dbs: Session, raw: str, purpose: str) -> AuthToken | None:
    """Return the live token row for ``raw`` without using it up, or None if unknown, used or expired."""
    row = dbs.scalar(
        select(AuthToken).where(
            AuthToken.token_hash == hashlib.sha256(raw.encode()).hexdigest(), AuthToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    return row


def consume_token(dbs: Session, raw: str, purpose: str) -> User | None:
    """Use up a live token and return its user, or None; every other token of that purpose dies with it."""
    row = peek_token(dbs, raw, purpose)
    if row is None:
        return None
    now = utcnow()
    for other in dbs.scalars(
        select(AuthToken).where(
            AuthToken.user_id == row.user_id, AuthToken.purpose == purpose, AuthToken.used_at.is_(None)
        )
    ):
        other.used_at = now
    return dbs.get(User, row.user_id)


def send_verification(dbs: Session, user: User) -> None:
    """Email ``user`` a link that confirms their address."""
    raw = issue_token(dbs, user, "verify_email", current_app.config["TOKEN_TTL_VERIFY"])
    link = external_url("auth.verify_email", token=raw)
    send_mail(dbs, user.email, "verify_email", user=user, link=link)


def verify_email(dbs: Session, raw: str) -> User | None:
    """Mark the token's user as verified; return the user or None for a bad token."""
    user = consume_token(dbs, raw, "verify_email")
    if user is not None and user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record_event(dbs, user, "account.email_verified")
    return user


def request_password_reset(dbs: Session, email: str) -> None:
    """Email a reset link if the account exists; do nothing visible otherwise (no account enumeration)."""
    user = find_user(dbs, email)
    if user is None or not user.is_active:
        return
    raw = issue_token(dbs, user, "reset_password", current_app.config["TOKEN_TTL_RESET"])
    link = external_url("auth.reset_password", token=raw)
    send_mail(dbs, user.email, "reset_password", user=user, link=link)


def reset_password(dbs: Session, raw: str, new_password: str) -> User | None:
    """Set a new password from a reset token, revoke every session, and return the user (None if bad token)."""
    user = consume_token(dbs, raw, "reset_password")
    if user is None:
        return None
    user.password_hash = hash_password(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the reset link proved the address
    revoke_sessions(dbs, user)
    record_event(dbs, user, "account.password_reset")
    return user


def change_password(dbs: Session, user: User, new_password: str, current: UserSession | None) -> int:
    """Set a new password and revoke the user's other sessions; return how many were revoked."""
    user.password_hash = hash_password(new_password)
    revoked = revoke_sessions(dbs, user, keep=current)
    record_event(dbs, user, "account.password_changed", other_sessions_revoked=revoked)
    return revoked


def check_totp(dbs: Session, user: User, code: str) -> bool:
    """Accept a TOTP code once; record the step so the same code cannot be replayed."""
    if not user.totp_secret:
        return False
    step = verify_totp(user.totp_secret, code, user.totp_last_step, utcnow())
    if step is None:
        return False
    user.totp_last_step = step
    return True


def enable_totp(dbs: Session, user: User, secret: str, code: str) -> bool:
    """Turn on TOTP with ``secret`` once the user proves the app shows a valid code."""
    step = verify_totp(secret, code, None, utcnow())
    if step is None:
        return False
    user.totp_secret, user.totp_enabled, user.totp_last_step = secret, True, step
    record_event(dbs, user, "account.totp_enabled")
    return True


def disable_totp(dbs: Session, user: User) -> None:
    """Turn off TOTP (refused for staff, for whom it is mandatory)."""
    if user.mfa_required:
        raise Forbidden("totp_mandatory")  # two-factor is mandatory for staff
    user.totp_secret, user.totp_enabled, user.totp_last_step = None, False, None
    record_event(dbs, user, "account.totp_disabled")
