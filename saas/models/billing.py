"""Billing rows (issue 13, docs/billing.md): the firm's Stripe customer, subscriptions, purchases, invoice details,
processed webhook events (dedup by id) and the bureau's innovation vouchers (创新券).

Firm-owned tables keep ``firm_id`` first in every key (RLS like the rest). ``billing_events`` and ``vouchers`` are
platform rows: an event is recorded before its tenant is known, and a voucher belongs to its funder until redeemed
(``redeemed_by_firm_id``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saas.models.base import Base, TenantScoped, utcnow

PURCHASE_STATES = ("pending", "paid", "failed", "expired", "refunded")
SUBSCRIPTION_STATES = ("incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid")


class BillingCustomer(TenantScoped, Base):
    """The firm's Stripe customer (one per firm; created on the first checkout with the key ``customer:{firm_id}``)."""

    __tablename__ = "billing_customers"
    __table_args__ = (UniqueConstraint("firm_id", "stripe_customer_id"), UniqueConstraint("firm_id", "singleton"))

    stripe_customer_id: Mapped[str] = mapped_column(String(64))
    singleton: Mapped[int] = mapped_column(default=1)  # one customer per firm
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BillingSubscription(TenantScoped, Base):
    """A local copy of a Stripe subscription, always upserted from a fresh ``subscriptions.retrieve``."""

    __tablename__ = "billing_subscriptions"
    __table_args__ = (UniqueConstraint("firm_id", "stripe_subscription_id"),)

    stripe_subscription_id: Mapped[str] = mapped_column(String(64))
    product: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    current_period_start: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    canceled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Purchase(TenantScoped, Base):
    """One checkout attempt or voucher redemption: a yearly pass, a single report (for one snapshot) or a subscription
    start. Its id is the Checkout Session's ``client_reference_id`` and part of the idempotency key."""

    __tablename__ = "billing_purchases"
    __table_args__ = (
        UniqueConstraint("firm_id", "checkout_session_id"),
        Index("ix_billing_purchases_firm_id_status", "firm_id", "status"),
    )

    product: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    source: Mapped[str] = mapped_column(String(10), default="stripe")  # stripe | voucher
    snapshot_id: Mapped[uuid.UUID | None]  # the report bought (product "report")
    assessment_id: Mapped[uuid.UUID | None]
    checkout_session_id: Mapped[str | None] = mapped_column(String(100))
    payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    invoice_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(default=0)  # fen
    currency: Mapped[str] = mapped_column(String(3), default="cny")
    method: Mapped[str | None] = mapped_column(String(20))
    voucher_code: Mapped[str | None] = mapped_column(String(20))
    paid_at: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]  # the pass's end
    refunded_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvoiceDetails(TenantScoped, Base):
    """What a 发票 needs: the title (抬头) and the tax number (税号, the USCC by default)."""

    __tablename__ = "billing_invoice_details"
    __table_args__ = (UniqueConstraint("firm_id", "singleton"),)

    singleton: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(100))
    tax_number: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BillingEvent(Base):
    """A Stripe event seen by the webhook (or the reconciliation): inserted in the transaction of its effect."""

    __tablename__ = "billing_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    created: Mapped[int]
    livemode: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10), default="processed")  # processed | ignored
    payload: Mapped[dict] = mapped_column(JSON, default=dict)


class Voucher(Base):
    """A 创新券 from the bureau, funded by a county or a programme round, redeemable once for a pass or a report."""

    __tablename__ = "vouchers"
    __table_args__ = (Index("ix_vouchers_funder_county", "funder_county"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    product: Mapped[str] = mapped_column(String(20))  # pro_pass | report
    value: Mapped[int]  # fen, the funder's cost
    funder_county: Mapped[str] = mapped_column(String(10))
    funder_round: Mapped[str] = mapped_column(String(50))
    issued_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    redeemed_by_firm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("firms.id", ondelete="SET NULL"))
    redeemed_at: Mapped[datetime | None]
