"""The one function that decides what a firm may do (docs/billing.md, "Entitlements"). Pure: state and clock in.

Reports, products, bulk import and RFQs ask ``entitlements(state, now)``; nothing else reads billing rows. Search
ranking, badges and the bureau's selection never call it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from saas.billing.plans import (
    FREE_PRODUCT_LIMIT,
    FREE_RFQ_QUOTES_PER_MONTH,
    PAST_DUE_GRACE,
    PRO_RFQ_QUOTES_PER_MONTH,
)

GRANTING = ("active", "trialing")


@dataclass(frozen=True)
class SubscriptionState:
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool = False


@dataclass(frozen=True)
class PassState:
    status: str  # a purchase status: paid, refunded, ...
    valid_until: datetime | None


@dataclass(frozen=True)
class BillingState:
    """What the billing rows say about one firm."""

    subscriptions: tuple[SubscriptionState, ...] = ()
    passes: tuple[PassState, ...] = ()
    report_snapshots: frozenset[uuid.UUID] = frozenset()  # snapshots with a paid, unrefunded single report


@dataclass(frozen=True)
class Entitlements:
    plan: str  # free | pro
    reason: str  # free | subscription | grace | pass | not_selling
    pro_until: datetime | None
    full_report_all: bool
    report_snapshots: frozenset[uuid.UUID] = field(default_factory=frozenset)
    product_limit: int | None = FREE_PRODUCT_LIMIT
    bulk_import: bool = False
    rfq_quotes_per_month: int = FREE_RFQ_QUOTES_PER_MONTH

    def full_report(self, snapshot_id: uuid.UUID | None) -> bool:
        """Return whether the full PDF of ``snapshot_id`` may be downloaded."""
        return self.full_report_all or (snapshot_id is not None and snapshot_id in self.report_snapshots)


def _subscription_grant(sub: SubscriptionState, now: datetime) -> tuple[str, datetime | None] | None:
    end = sub.current_period_end
    if sub.status in GRANTING and (end is None or end > now):
        return "subscription", end
    if sub.status == "past_due" and end is not None and now < end + PAST_DUE_GRACE:
        return "grace", end + PAST_DUE_GRACE
    return None


def entitlements(state: BillingState, now: datetime, *, selling: bool = True) -> Entitlements:
    """Return what a firm in ``state`` may do at ``now``.

    ``selling`` is false when the platform does not sell (``BILLING_ENABLED`` off): then every firm gets what billing
    would sell, since nothing can be bought that is withheld (reason ``not_selling``, no end).
    """
    if not selling:
        return Entitlements(
            plan="pro",
            reason="not_selling",
            pro_until=None,
            full_report_all=True,
            report_snapshots=state.report_snapshots,
            product_limit=None,
            bulk_import=True,
            rfq_quotes_per_month=PRO_RFQ_QUOTES_PER_MONTH,
        )
    grants: list[tuple[str, datetime | None]] = []
    for sub in state.subscriptions:
        grant = _subscription_grant(sub, now)
        if grant:
            grants.append(grant)
    for p in state.passes:
        if p.status == "paid" and p.valid_until is not None and p.valid_until > now:
            grants.append(("pass", p.valid_until))
    if not grants:
        return Entitlements(
            plan="free",
            reason="free",
            pro_until=None,
            full_report_all=False,
            report_snapshots=state.report_snapshots,
            product_limit=FREE_PRODUCT_LIMIT,
            rfq_quotes_per_month=FREE_RFQ_QUOTES_PER_MONTH,
        )
    # the grant that lasts longest names the reason (an open-ended one first)
    reason, until = max(grants, key=lambda g: (g[1] is None, g[1] or now))
    return Entitlements(
        plan="pro",
        reason=reason,
        pro_until=until,
        full_report_all=True,
        report_snapshots=state.report_snapshots,
        product_limit=None,
        bulk_import=True,
        rfq_quotes_per_month=PRO_RFQ_QUOTES_PER_MONTH,
    )
