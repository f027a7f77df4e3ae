"""The entitlement state table: every plan and subscription state -> what the firm may do (saas.billing.rights)."""

from __future__ import annotations

import re
import uuid
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from saas.billing.plans import FREE_PRODUCT_LIMIT, FREE_RFQ_QUOTES_PER_MONTH, PAST_DUE_GRACE, PRO_RFQ_QUOTES_PER_MONTH
from saas.billing.rights import BillingState, Entitlements, PassState, SubscriptionState, entitlements

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=10)
EARLIER = NOW - timedelta(days=1)
SNAP = uuid.UUID(int=7)
OTHER = uuid.UUID(int=8)


def sub(status, end=LATER, cancel=False):
    return BillingState(subscriptions=(SubscriptionState(status, end, cancel),))


# (state, plan, reason)
TABLE = [
    ("no billing at all", BillingState(), "free", "free"),
    ("active", sub("active"), "pro", "subscription"),
    ("trialing", sub("trialing"), "pro", "subscription"),
    ("active, cancelling at period end", sub("active", cancel=True), "pro", "subscription"),
    ("active but the period is over (no renewal seen)", sub("active", EARLIER), "free", "free"),
    ("past_due inside the grace", sub("past_due", EARLIER), "pro", "grace"),
    ("past_due after the grace", sub("past_due", NOW - PAST_DUE_GRACE - timedelta(seconds=1)), "free", "free"),
    ("canceled", sub("canceled"), "free", "free"),
    ("unpaid", sub("unpaid"), "free", "free"),
    ("incomplete", sub("incomplete"), "free", "free"),
    ("incomplete_expired", sub("incomplete_expired"), "free", "free"),
    ("paused", sub("paused"), "free", "free"),
    ("pass paid, valid", BillingState(passes=(PassState("paid", LATER),)), "pro", "pass"),
    ("pass paid, expired", BillingState(passes=(PassState("paid", EARLIER),)), "free", "free"),
    ("pass refunded", BillingState(passes=(PassState("refunded", LATER),)), "free", "free"),
    ("pass pending", BillingState(passes=(PassState("pending", LATER),)), "free", "free"),
    (
        "canceled subscription but a valid pass",
        BillingState(subscriptions=(SubscriptionState("canceled", LATER),), passes=(PassState("paid", LATER),)),
        "pro",
        "pass",
    ),
    (
        "active subscription and a longer pass",
        BillingState(
            subscriptions=(SubscriptionState("active", LATER),),
            passes=(PassState("paid", LATER + timedelta(days=300)),),
        ),
        "pro",
        "pass",
    ),
]


@pytest.mark.parametrize(("label", "state", "plan", "reason"), TABLE, ids=[row[0] for row in TABLE])
def test_state_table(label, state, plan, reason):
    rights = entitlements(state, NOW)
    assert (rights.plan, rights.reason) == (plan, reason)
    pro = plan == "pro"
    assert rights.full_report_all is pro and rights.full_report(SNAP) is pro
    assert rights.bulk_import is pro
    assert rights.product_limit == (None if pro else FREE_PRODUCT_LIMIT)
    assert rights.rfq_quotes_per_month == (PRO_RFQ_QUOTES_PER_MONTH if pro else FREE_RFQ_QUOTES_PER_MONTH)
    assert (rights.pro_until is not None) is pro


def test_a_bought_report_opens_that_snapshot_only():
    rights = entitlements(BillingState(report_snapshots=frozenset({SNAP})), NOW)
    assert rights.plan == "free" and rights.full_report(SNAP) and not rights.full_report(OTHER)
    assert not rights.full_report(None)


def test_grace_ends_a_week_after_the_period_end():
    rights = entitlements(sub("past_due", EARLIER), NOW)
    assert rights.pro_until == EARLIER + PAST_DUE_GRACE


def test_every_entitlement_is_read_by_a_feature():
    """Nothing is sold that no feature delivers: each field of ``Entitlements`` is read outside rights.py (the two
    report fields through ``full_report``), so a planned extra cannot sit in Pro's list unread."""
    root = Path(__file__).resolve().parents[2]
    rights_py = root / "saas/billing/rights.py"
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for pattern in ("saas/**/*.py", "templates/**/*.html")
        for p in root.glob(pattern)
        if p != rights_py and "standin" not in p.parts
    )
    via_full_report = {"full_report_all", "report_snapshots"}
    assert re.search(r"\.full_report\(", sources)
    unread = [f.name for f in fields(Entitlements) if f.name not in via_full_report]
    unread = [name for name in unread if not re.search(rf"\.{name}\b", sources)]
    assert unread == []


@pytest.mark.parametrize(
    "state",
    [BillingState(), sub("canceled"), BillingState(passes=(PassState("refunded", LATER),))],
    ids=["no billing at all", "canceled", "pass refunded"],
)
def test_billing_disabled_grants_what_billing_would_sell(state):
    """The state table's row for ``BILLING_ENABLED`` off: whatever the rows say, the platform withholds nothing."""
    rights = entitlements(state, NOW, selling=False)
    assert (rights.plan, rights.reason, rights.pro_until) == ("pro", "not_selling", None)
    assert rights.full_report(SNAP) and rights.full_report(OTHER) and rights.bulk_import
    assert rights.product_limit is None and rights.rfq_quotes_per_month == PRO_RFQ_QUOTES_PER_MONTH
