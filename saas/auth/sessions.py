"""Server-side, revocable login sessions.

The signed Flask cookie carries only a random session token; its SHA-256 lives in ``user_sessions``. Each request
looks the row up, so logout, a password change or "sign out other devices" take effect immediately, and a stolen
cookie stops working once its row is revoked. Idle and absolute timeouts are enforced here too.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from flask import current_app, g, request, session
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from saas.core.extensions import db
from saas.core.tenancy import set_staff_scope, set_tenant
from saas.models import Firm, Membership, User, UserSession, utcnow
from saas.web.forms import without_control_characters

TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_user(user: User) -> UserSession:
    """Start a fresh server-side session for ``user`` (the cookie is cleared first: no session fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        user_id=user.id,
        token_hash=_hash(token),
        created_at=now,
        last_seen_at=now,
        ip=request.remote_addr,
        user_agent=without_control_characters(request.user_agent.string or "")[:255],
    )
    db.session.add(row)
    user.last_login_at = now
    session["sid"] = token
    session.permanent = True
    g.user, g.user_session = user, row
    return row


def logout_user() -> None:
    """Revoke the current server-side session and clear the cookie."""
    row = g.get("user_session")
    if row is not None:
        row.revoked_at = utcnow()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    g.user = g.user_session = None


def revoke_sessions(dbs: Session, user: User, *, keep: UserSession | None = None) -> int:
    """Revoke every live session of ``user`` except ``keep``; return how many were revoked."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    result = dbs.execute(stmt.values(revoked_at=utcnow()), execution_options={"synchronize_session": "fetch"})
    return result.rowcount or 0


def load_request_user() -> None:
    """``before_app_request``: resolve the user from the session cookie, then the active firm (the tenant)."""
    g.user = g.user_session = g.tenant = g.membership = None
    set_tenant(db.session, None)
    set_staff_scope(db.session, None)
    token = session.get("sid")
    if not token:
        return
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    now = utcnow()
    cfg = current_app.config
    if (
        row is None
        or row.revoked_at is not None
        or not row.user.is_active
        or now - row.last_seen_at > cfg["SESSION_IDLE_TIMEOUT"]
        or now - row.created_at > cfg["SESSION_ABSOLUTE_TIMEOUT"]
    ):
        session.pop("sid", None)
        return
    if now - row.last_seen_at > TOUCH_EVERY:
        with db.writing(db.session):  # a GET reads: the touch is its own short write transaction
            row.last_seen_at = now
    g.user, g.user_session = row.user, row
    set_tenant(db.session, None, row.user.id)
    if row.user.is_staff:
        set_staff_scope(db.session, staff_scope(row.user))
    if row.user.kind == "firm":
        _load_tenant(row.user)


def user_memberships(dbs: Session, user_id: uuid.UUID) -> list[Membership]:
    """Return the user's memberships across firms (a deliberate cross-tenant read keyed on the user)."""
    stmt = (
        select(Membership)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at)
        .execution_options(all_tenants=True)
    )
    return list(dbs.scalars(stmt).unique())


def _load_tenant(user: User) -> None:
    memberships = user_memberships(db.session, user.id)
    if not memberships:
        return
    wanted = session.get("firm_id")
    chosen = next((m for m in memberships if str(m.firm_id) == wanted), memberships[0])
    g.membership = chosen
    g.tenant = chosen.firm
    g.memberships = memberships
    set_tenant(db.session, chosen.firm_id, user.id)


def switch_firm(firm: Firm) -> None:
    """Remember ``firm`` as the active tenant for this session."""
    session["firm_id"] = str(firm.id)


def staff_scope(user: User) -> str:
    """Return the RLS staff scope of a staff user: '*' for city-wide staff and admins, else the county code."""
    return "*" if user.kind == "admin" or user.staff_county is None else user.staff_county
