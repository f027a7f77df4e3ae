"""The firm (the tenant) and the firm-owned rows of the foundation: memberships and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saas.models.base import Base, TenantScoped, TimestampMixin
from saas.models.user import User

FIRM_ROLES = ("owner", "member")


class Firm(TimestampMixin, Base):
    """A registered enterprise; its ``id`` is the tenant key (``firm_id``) of every firm-owned table."""

    __tablename__ = "firms"
    __table_args__ = (Index("ix_firms_county_industry", "county", "industry"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(20))
    county: Mapped[str] = mapped_column(String(10))
    park: Mapped[str | None] = mapped_column(String(100))
    employees: Mapped[int]
    revenue_wan: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    size_class: Mapped[str] = mapped_column(String(10))
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    # Set by bureau staff once the USCC has been checked against the registration record.
    verified_at: Mapped[datetime | None]
    # Certification codes from saas.reference.CERTIFICATIONS, declared by the firm for its public profile.
    certifications: Mapped[list[str]] = mapped_column(JSON, default=list)


class Membership(TenantScoped, TimestampMixin, Base):
    """A user's role in a firm. Visible to the firm, and to the user across firms (for login and switching)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("firm_id", "user_id"),
        Index("ix_memberships_user_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))

    user: Mapped[User] = relationship(lazy="joined")
    firm: Mapped[Firm] = relationship(lazy="joined")


class Invitation(TenantScoped, TimestampMixin, Base):
    """An emailed invitation to join a firm; the link carries the firm id and a secret stored hashed."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("firm_id", "token_hash"),)

    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64))
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    firm: Mapped[Firm] = relationship(lazy="joined")
