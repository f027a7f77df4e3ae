"""Marketplace products: firm-owned, moderated before they are public."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saas.models.base import Base, TenantScoped, utcnow
from saas.models.firm import Firm

PRODUCT_STATES = ("draft", "pending", "published", "rejected", "archived")


class Product(TenantScoped, Base):
    """A supplier's product. Only ``published`` rows are visible outside the firm (ORM filter and RLS policy)."""

    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_firm_id_status", "firm_id", "status"),
        Index("ix_products_status_category_slug", "status", "category_slug"),
        Index("uq_products_firm_id_sku", "firm_id", "sku", unique=True),
    )

    industry: Mapped[str] = mapped_column(String(20))
    category_slug: Mapped[str] = mapped_column(String(160))
    # The supplier's own article number: bulk imports update the product with the same SKU.
    sku: Mapped[str | None] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str | None] = mapped_column(String(160))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sale_unit: Mapped[str] = mapped_column(String(10))
    moq: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    order_multiple: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(1))
    # [{"min_qty": "100", "price": "38.50"}, …] ascending; empty with price_on_request
    price_tiers: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    price_on_request: Mapped[bool] = mapped_column(default=False)
    samples_available: Mapped[bool] = mapped_column(default=False)
    lead_time_days: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="draft")
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    moderated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    firm: Mapped[Firm] = relationship(lazy="joined")


class SearchGapVisit(Base):
    """One visitor's search for one thing that found nothing, once per day: the bureau's sourcing-gap report.

    Written only by ``saas.marketplace.misses`` (batched, capped per visitor and per day, never in a search's
    transaction). ``visitor`` is a keyed hash of the client's network (IPv4 address or IPv6 /64), never the address
    itself; no user is recorded. The report counts distinct visitors and days, so repeating a search adds nothing.
    """

    __tablename__ = "search_gap_visits"
    __table_args__ = (
        Index("ix_search_gap_visits_normalised_day", "normalised", "day"),
        Index("ix_search_gap_visits_day_visitor", "day", "visitor"),
    )

    day: Mapped[date] = mapped_column(primary_key=True)  # the calendar day in Jiaxing
    normalised: Mapped[str] = mapped_column(String(100), primary_key=True)
    visitor: Mapped[str] = mapped_column(String(16), primary_key=True)
    query: Mapped[str] = mapped_column(String(100))  # the first spelling seen that day
    industry: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ProductImage(TenantScoped, Base):
    """A product photo, re-encoded and stored under a random name in three sizes (original, medium, thumbnail)."""

    __tablename__ = "product_images"
    __table_args__ = (
        Index("ix_product_images_firm_id_product_id", "firm_id", "product_id"),
        ForeignKeyConstraint(["firm_id", "product_id"], ["products.firm_id", "products.id"], ondelete="CASCADE"),
    )

    product_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(40))
    extension: Mapped[str] = mapped_column(String(5))
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProductListing(Base):
    """The public search read model: one row per *published* product, with the supplier's county and verification.

    Written only by database triggers on ``products`` and ``firms`` (migration ``add_product_listings``); the app
    role may only read it. It holds nothing that is not public, so it has no row-level security, and the planner
    can use its indexes (on ``products``, RLS keeps the GIN and category indexes out of reach). It deliberately has
    no ``TenantScoped`` mixin: it is a cross-tenant public projection, like a Citus reference table.
    On PostgreSQL it also has ``search_tokens`` (a tsvector with a GIN index), outside the model. On SQLite its
    rowid is the product's rowid, so the FTS5 index on products finds listings directly.
    """

    __tablename__ = "product_listings"
    __table_args__ = (
        Index("ix_product_listings_category_slug_published_at", "category_slug", "published_at"),
        Index("ix_product_listings_industry_published_at", "industry", "published_at"),
        Index("ix_product_listings_published_at", "published_at"),
        Index("ix_product_listings_firm_id", "firm_id"),
        Index("ix_product_listings_moq", "moq"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    industry: Mapped[str] = mapped_column(String(20))
    category_slug: Mapped[str] = mapped_column(String(160).with_variant(String(160, collation="C"), "postgresql"))
    county: Mapped[str] = mapped_column(String(10))
    verified: Mapped[bool]
    moq: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    published_at: Mapped[datetime | None]
    title_zh: Mapped[str] = mapped_column(String(120))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
