"""Firm services: profile edits, invitations and members. Every function takes the tenant (firm) explicitly."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.core.audit import record_event
from saas.core.domain import Invalid
from saas.core.links import external_url
from saas.core.mail import send_mail
from saas.core.tenancy import acting_in_tenant, set_tenant, tenant_select
from saas.models import Firm, Invitation, Membership, User, utcnow
from saas.reference import CERTIFICATIONS, size_class


class MembershipError(Invalid):
    """A member change that would break the firm (for example, removing its last owner)."""


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def update_profile(
    dbs: Session,
    firm: Firm,
    actor: User,
    *,
    name: str,
    park: str | None,
    employees: int,
    revenue_wan: Decimal,
    contact_name: str,
    contact_phone: str | None,
    certifications: list[str] | None = None,
) -> None:
    """Update the firm's editable profile and re-derive its size class. Industry, county and USCC stay fixed."""
    firm.name = name
    firm.park = park or None
    firm.employees = employees
    firm.revenue_wan = revenue_wan
    firm.size_class = size_class(employees, revenue_wan)
    firm.contact_name = contact_name
    firm.contact_phone = contact_phone or None
    if certifications is not None:
        firm.certifications = [c for c in CERTIFICATIONS if c in certifications]
    record_event(dbs, actor, "firm.profile_updated", subject_firm_id=firm.id)


def member_users(dbs: Session, firm_id: uuid.UUID) -> list[User]:
    """The accounts of a firm's members, for a service that acts for someone else (to notify or exclude them)."""
    with acting_in_tenant(dbs, firm_id):
        stmt = select(User).join(Membership, Membership.user_id == User.id).where(Membership.firm_id == firm_id)
        return list(dbs.scalars(stmt).unique())


def list_members(dbs: Session, firm: Firm) -> list[Membership]:
    """Return the firm's members, owners first."""
    stmt = tenant_select(Membership).where(Membership.firm_id == firm.id).order_by(Membership.role.desc())
    return list(dbs.scalars(stmt).unique())


def list_open_invitations(dbs: Session, firm: Firm) -> list[Invitation]:
    """Return invitations that are neither accepted, revoked nor expired."""
    stmt = (
        tenant_select(Invitation)
        .where(
            Invitation.firm_id == firm.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at.desc())
    )
    return list(dbs.scalars(stmt).unique())


def invite_member(dbs: Session, firm: Firm, actor: User, email: str, role: str) -> Invitation:
    """Create an invitation and email its link; the link carries the firm id and a secret stored hashed."""
    raw = secrets.token_urlsafe(32)
    invitation = Invitation(
        firm_id=firm.id,
        email=email.strip().lower(),
        role=role,
        token_hash=_token_hash(raw),
        invited_by_id=actor.id,
        expires_at=utcnow() + current_app.config["INVITATION_TTL"],
    )
    dbs.add(invitation)
    dbs.flush()
    link = external_url("auth.accept_invitation", firm_id=firm.id, token=raw)
    send_mail(dbs, invitation.email, "invitation", firm=firm.name, inviter=actor.name, link=link, role=role)
    record_event(dbs, actor, "firm.member_invited", subject_firm_id=firm.id, email=invitation.email, role=role)
    return invitation


def find_invitation(dbs: Session, firm_id: uuid.UUID, raw: str) -> Invitation | None:
    """Return the open invitation of ``firm_id`` matching ``raw``; the session is bound to that firm first."""
    set_tenant(dbs, firm_id)
    invitation = dbs.scalar(
        tenant_select(Invitation).where(Invitation.firm_id == firm_id, Invitation.token_hash == _token_hash(raw))
    )
    if invitation is None or invitation.accepted_at or invitation.revoked_at or invitation.expires_at < utcnow():
        return None
    return invitation


def accept_invitation(dbs: Session, invitation: Invitation, user: User) -> Membership:
    """Make ``user`` a member with the invited role (or raise ``MembershipError`` for non-firm accounts)."""
    if user.kind != "firm":
        raise MembershipError("only firm accounts can join a firm")
    membership = dbs.scalar(
        tenant_select(Membership).where(Membership.firm_id == invitation.firm_id, Membership.user_id == user.id)
    )
    if membership is None:
        membership = Membership(firm_id=invitation.firm_id, user_id=user.id, role=invitation.role)
        dbs.add(membership)
    invitation.accepted_at = utcnow()
    dbs.flush()
    record_event(dbs, user, "firm.invitation_accepted", subject_firm_id=invitation.firm_id)
    return membership


def revoke_invitation(dbs: Session, firm: Firm, actor: User, invitation: Invitation) -> None:
    """Revoke an open invitation so its link stops working."""
    invitation.revoked_at = utcnow()
    record_event(dbs, actor, "firm.invitation_revoked", subject_firm_id=firm.id, email=invitation.email)


def _owner_count(dbs: Session, firm: Firm) -> int:
    stmt = select(func.count()).select_from(Membership).where(Membership.firm_id == firm.id, Membership.role == "owner")
    return dbs.scalar(stmt) or 0


def change_role(dbs: Session, firm: Firm, actor: User, membership: Membership, role: str) -> None:
    """Change a member's role; the firm always keeps at least one owner."""
    if membership.role == "owner" and role != "owner" and _owner_count(dbs, firm) <= 1:
        raise MembershipError("last owner")
    membership.role = role
    record_event(dbs, actor, "firm.member_role_changed", subject_firm_id=firm.id, user=membership.user.email, role=role)


def remove_member(dbs: Session, firm: Firm, actor: User, membership: Membership) -> None:
    """Remove a member; the last owner cannot be removed."""
    if membership.role == "owner" and _owner_count(dbs, firm) <= 1:
        raise MembershipError("last owner")
    record_event(dbs, actor, "firm.member_removed", subject_firm_id=firm.id, user=membership.user.email)
    dbs.delete(membership)
