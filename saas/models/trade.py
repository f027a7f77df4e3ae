"""Buyer–supplier trade: favourites, inquiry threads, requests for quotation (RFQs) and quotes.

Tenancy: inquiries, their messages and quotes belong to the *supplier* firm (``firm_id``) and are read by the buyer
through an extra RLS read policy on the buyer's user id. Favourites and RFQs belong to a user, not a firm: a buyer
account has no firm. RFQs are deliberately visible to suppliers in the matching category while open.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saas.models.base import Base, TenantScoped, utcnow

RFQ_STATES = ("open", "closed", "awarded", "cancelled")


class Favourite(Base):
    """A product a user saved. Keeps the product's tenant key so that the row can follow it when distributed."""

    __tablename__ = "favourites"
    __table_args__ = (
        ForeignKeyConstraint(
            ["product_firm_id", "product_id"], ["products.firm_id", "products.id"], ondelete="CASCADE"
        ),
        Index("ix_favourites_user_id_created_at", "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    product_firm_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Inquiry(TenantScoped, Base):
    """A buyer's question about one product: a thread between the buyer and the supplier (``firm_id``)."""

    __tablename__ = "inquiries"
    __table_args__ = (
        ForeignKeyConstraint(["firm_id", "product_id"], ["products.firm_id", "products.id"], ondelete="CASCADE"),
        Index("ix_inquiries_firm_id_last_message_at", "firm_id", "last_message_at"),
        Index("ix_inquiries_buyer_id_last_message_at", "buyer_id", "last_message_at"),
    )

    product_id: Mapped[uuid.UUID]
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(160))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The supplier's first reply: the response-rate and response-time figures are computed from it.
    first_response_at: Mapped[datetime | None]
    buyer_read_at: Mapped[datetime | None]
    supplier_read_at: Mapped[datetime | None]


class InquiryMessage(TenantScoped, Base):
    """One message of an inquiry thread."""

    __tablename__ = "inquiry_messages"
    __table_args__ = (
        ForeignKeyConstraint(["firm_id", "inquiry_id"], ["inquiries.firm_id", "inquiries.id"], ondelete="CASCADE"),
        Index("ix_inquiry_messages_firm_id_inquiry_id_created_at", "firm_id", "inquiry_id", "created_at"),
    )

    inquiry_id: Mapped[uuid.UUID]
    sender_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_supplier: Mapped[bool]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rfq(Base):
    """A buyer's request for quotation in one category; closes at ``max_quotes`` quotes or at the deadline."""

    __tablename__ = "rfqs"
    __table_args__ = (
        Index("ix_rfqs_status_category_slug_deadline", "status", "category_slug", "deadline"),
        Index("ix_rfqs_buyer_id_created_at", "buyer_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    industry: Mapped[str] = mapped_column(String(20))
    category_slug: Mapped[str] = mapped_column(String(160))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit: Mapped[str] = mapped_column(String(10))
    target_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    deadline: Mapped[datetime]
    max_quotes: Mapped[int] = mapped_column(default=10)
    quote_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    accepted_quote_id: Mapped[uuid.UUID | None]
    accepted_firm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("firms.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class Quote(TenantScoped, Base):
    """A supplier's answer to an RFQ: one per firm and RFQ."""

    __tablename__ = "quotes"
    __table_args__ = (
        UniqueConstraint("rfq_id", "firm_id", name="uq_quotes_rfq_id_firm_id"),
        Index("ix_quotes_firm_id_created_at", "firm_id", "created_at"),
    )

    rfq_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rfqs.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    lead_time_days: Mapped[int]
    valid_until: Mapped[date]
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
