"""Billing services: entitlement state, checkout, portal, webhook fulfilment, reconciliation, invoices and vouchers.

Shape as elsewhere: validated input in; tenant, actor, clock and the gateway as arguments; ``BillingError`` out;
``flush()`` and never commit. The webhook handler records the event id in the same transaction as its effect.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from saas.billing import plans
from saas.billing.errors import AlreadyPro, NoCustomer, SnapshotRequired, UnknownProduct, VoucherInvalid, VoucherUsed
from saas.billing.gateway import Gateway
from saas.billing.rights import BillingState, Entitlements, PassState, SubscriptionState, entitlements
from saas.core.mail import send_mail
from saas.core.tenancy import set_tenant, tenant_select
from saas.models import (
    BillingCustomer,
    BillingEvent,
    BillingSubscription,
    Firm,
    InvoiceDetails,
    Membership,
    Product,
    Purchase,
    Quote,
    User,
    Voucher,
)

log = logging.getLogger(__name__)

HANDLED = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "charge.refunded",
)


def _ts(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


# --- Entitlements ------------------------------------------------------------------------------------------------


def billing_state(dbs: Session, firm: Firm) -> BillingState:
    """Read the firm's subscriptions, passes and bought reports."""
    subs = dbs.scalars(tenant_select(BillingSubscription).where(BillingSubscription.firm_id == firm.id)).all()
    paid = dbs.scalars(
        tenant_select(Purchase).where(
            Purchase.firm_id == firm.id, Purchase.product.in_(("pro_pass", "report")), Purchase.status == "paid"
        )
    ).all()
    return BillingState(
        subscriptions=tuple(SubscriptionState(s.status, s.current_period_end, s.cancel_at_period_end) for s in subs),
        passes=tuple(PassState(p.status, p.valid_until) for p in paid if p.product == "pro_pass"),
        report_snapshots=frozenset(p.snapshot_id for p in paid if p.product == "report" and p.snapshot_id),
    )


def entitlements_for(dbs: Session, firm: Firm, now: datetime, *, selling: bool = True) -> Entitlements:
    """What ``firm`` may do at ``now`` (the one decision; see ``saas.billing.rights``); ``selling``: billing is on."""
    return entitlements(billing_state(dbs, firm), now, selling=selling)


def product_limit_reached(dbs: Session, firm: Firm, rights: Entitlements) -> bool:
    """Whether the firm's live products (all but archived) have reached its plan's product limit."""

    if rights.product_limit is None:
        return False
    count = dbs.scalar(
        select(func.count()).select_from(Product).where(Product.firm_id == firm.id, Product.status != "archived")
    )
    return (count or 0) >= rights.product_limit


def rfq_quotes_left(dbs: Session, firm: Firm, rights: Entitlements, now: datetime) -> int:
    """RFQ quotes the firm may still send this calendar month (Asia/Shanghai)."""

    local = now.astimezone(ZoneInfo("Asia/Shanghai"))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    used = dbs.scalar(
        select(func.count()).select_from(Quote).where(Quote.firm_id == firm.id, Quote.created_at >= start)
    )
    return max(0, rights.rfq_quotes_per_month - (used or 0))


# --- Checkout and portal -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Urls:
    success: str  # with {CHECKOUT_SESSION_ID}
    cancel: str


def customer_id(dbs: Session, firm: Firm) -> str | None:
    row = dbs.scalar(tenant_select(BillingCustomer).where(BillingCustomer.firm_id == firm.id))
    return row.stripe_customer_id if row else None


def ensure_customer(dbs: Session, gw: Gateway, firm: Firm, email: str) -> str:
    """Return the firm's Stripe customer, creating it once (key ``customer:{firm_id}``: a retry finds the same one).

    The firm's ``BillingCustomer`` row is returned locked (``FOR UPDATE``) until the transaction ends, so the checkouts
    of one firm run one after another. Two first checkouts both ask Stripe with the same key (one customer) and insert
    with ``ON CONFLICT DO NOTHING``: the second waits for the first's row and then locks it.
    """
    locked = select(BillingCustomer).where(BillingCustomer.firm_id == firm.id).with_for_update()
    row = dbs.scalar(locked)
    if row is not None:
        return row.stripe_customer_id
    customer = gw.create_customer(
        {"name": firm.name, "email": email, "metadata": {"firm_id": str(firm.id), "uscc": firm.uscc}},
        key=f"customer:{firm.id}",
    )
    values = {"id": uuid.uuid4(), "firm_id": firm.id, "stripe_customer_id": customer["id"], "singleton": 1}
    dbs.execute(
        _insert(dbs, BillingCustomer).values(**values).on_conflict_do_nothing(index_elements=["firm_id", "singleton"])
    )
    row = dbs.scalar(locked.execution_options(populate_existing=True))
    assert row is not None
    return row.stripe_customer_id


def _insert(dbs: Session, model: Any) -> Any:
    """An INSERT with the dialect's ON CONFLICT (PostgreSQL and SQLite both have it; the core insert does not)."""
    dialect = dbs.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def start_checkout(
    dbs: Session,
    gw: Gateway,
    firm: Firm,
    actor: User,
    product_key: str,
    *,
    snapshot_id: uuid.UUID | None,
    assessment_id: uuid.UUID | None,
    urls: Urls,
    locale: str,
    now: datetime,
) -> str:
    """Create a Checkout Session for an allow-listed product and return its URL (the caller answers 303).

    A pending purchase of the same product (and snapshot) whose session is still open is reused, so a double click
    makes one session; otherwise a new purchase row gives a new session with the key ``checkout:{firm}:{purchase}``.
    The firm's customer row is locked first, so two simultaneous checkouts of one firm see each other's purchase.
    A Pro subscription or pass is refused (``AlreadyPro``) while the firm already has Pro from either.
    """
    try:
        product = plans.product(product_key)
    except KeyError:
        raise UnknownProduct(product_key) from None
    if product.key == "report" and snapshot_id is None:
        raise SnapshotRequired()
    if product.key != "report":
        snapshot_id = assessment_id = None
    if product.key in ("pro_monthly", "pro_pass") and entitlements_for(dbs, firm, now).plan == "pro":
        raise AlreadyPro()
    customer = ensure_customer(dbs, gw, firm, actor.email)  # locks the firm's checkouts until commit
    pending = dbs.scalars(
        tenant_select(Purchase)
        .where(
            Purchase.firm_id == firm.id,
            Purchase.product == product.key,
            Purchase.status == "pending",
            Purchase.source == "stripe",
            Purchase.checkout_session_id.is_not(None),
        )
        .order_by(Purchase.created_at.desc())
    ).all()
    for purchase in pending:
        if purchase.snapshot_id == snapshot_id:
            session = gw.checkout_session(purchase.checkout_session_id or "")
            if session.get("status") == "open":
                return session["url"]
            break
    purchase = Purchase(
        firm_id=firm.id,
        product=product.key,
        snapshot_id=snapshot_id,
        assessment_id=assessment_id,
        amount=product.amount,
        created_by_id=actor.id,
        created_at=now,
    )
    dbs.add(purchase)
    dbs.flush()
    metadata = {"firm_id": str(firm.id), "purchase_id": str(purchase.id), "product": product.key}
    params: dict[str, Any] = {
        "mode": product.mode,
        "customer": customer,
        "line_items": [{"price": gw.price_id(product.lookup_key), "quantity": 1}],
        "client_reference_id": str(purchase.id),
        "metadata": metadata,
        "payment_method_types": list(product.methods),
        "success_url": urls.success,
        "cancel_url": urls.cancel,
        "locale": "en" if locale.startswith("en") else "zh",
    }
    if product.mode == "subscription":
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["payment_intent_data"] = {"metadata": metadata}
        if "wechat_pay" in product.methods:
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
    session = gw.create_checkout_session(params, key=f"checkout:{firm.id}:{purchase.id}")
    purchase.checkout_session_id = session["id"]
    dbs.flush()
    return session["url"]


def portal_url(dbs: Session, gw: Gateway, firm: Firm, return_url: str, locale: str, now: datetime) -> str:
    """A Customer Portal session for the firm's own customer (created on demand; the caller answers 303)."""
    customer = customer_id(dbs, firm)
    if not customer:
        raise NoCustomer()
    minute = int(now.timestamp()) // 60
    params = {"customer": customer, "return_url": return_url, "locale": "en" if locale.startswith("en") else "zh"}
    # the params' hash is in the key: the same key with other params (another language) is Stripe's idempotency_error
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    session = gw.create_portal_session(params, key=f"portal:{firm.id}:{minute}:{digest}")
    return session["url"]


# --- Webhook fulfilment ------------------------------------------------------------------------------------------


@dataclass
class Effects:
    """What a handled event asks for after commit (mail is already in the outbox; it leaves after commit)."""

    outcome: str  # processed | duplicate | ignored
    firm_id: uuid.UUID | None = None


def _firm_from(metadata: dict[str, Any] | None, dbs: Session) -> Firm | None:
    raw = (metadata or {}).get("firm_id")
    try:
        fid = uuid.UUID(str(raw))
    except ValueError:
        return None
    return dbs.get(Firm, fid)


def _record_event(dbs: Session, event: dict[str, Any], status: str, now: datetime) -> bool:
    """Insert the event id (ON CONFLICT DO NOTHING); return False when it was already there (a duplicate)."""
    values = {
        "id": event["id"],
        "type": event.get("type", ""),
        "created": int(event.get("created") or 0),
        "livemode": bool(event.get("livemode")),
        "received_at": now,
        "processed_at": now,
        "status": status,
        "payload": {"object_id": (event.get("data") or {}).get("object", {}).get("id")},
    }
    stmt = _insert(dbs, BillingEvent).values(**values).on_conflict_do_nothing(index_elements=["id"])
    # RETURNING, not rowcount: an ORM-enabled insert reports no rowcount on psycopg
    return dbs.execute(stmt.returning(BillingEvent.id)).scalar() is not None


def handle_event(dbs: Session, gw: Gateway, event: dict[str, Any], *, now: datetime, portal_link: str) -> Effects:
    """Apply one verified Stripe event; a duplicate id is a no-op. Objects are re-fetched, never trusted by order."""
    kind = event.get("type", "")
    handled = kind in HANDLED
    if not _record_event(dbs, event, "processed" if handled else "ignored", now):
        return Effects("duplicate")
    if not handled:
        return Effects("ignored")
    obj = (event.get("data") or {}).get("object") or {}
    if kind.startswith("checkout.session."):
        firm = _fulfil(dbs, gw, obj["id"], kind, now)
    elif kind.startswith("customer.subscription."):
        firm = sync_subscription(dbs, gw, obj["id"], now)
    elif kind in ("invoice.paid", "invoice.payment_failed"):
        firm = _invoice(dbs, gw, obj["id"], kind, now, portal_link)
    else:  # charge.refunded
        firm = _refund(dbs, gw, obj["id"], now)
    return Effects("processed", firm.id if firm else None)


def fulfil_checkout(dbs: Session, gw: Gateway, firm: Firm, session_id: str, now: datetime) -> Purchase | None:
    """The success page's call of the webhook's fulfilment (idempotent); only for the firm's own session."""
    session = gw.checkout_session(session_id)
    if (session.get("metadata") or {}).get("firm_id") != str(firm.id):
        return None
    _fulfil(dbs, gw, session_id, "checkout.session.completed", now, session=session)
    return _purchase_for(dbs, session)


def _purchase_for(dbs: Session, session: dict[str, Any]) -> Purchase | None:
    try:
        pid = uuid.UUID(str((session.get("metadata") or {}).get("purchase_id")))
    except ValueError:
        return None
    return dbs.scalar(tenant_select(Purchase).where(Purchase.id == pid))


def _fulfil(
    dbs: Session, gw: Gateway, session_id: str, kind: str, now: datetime, session: dict[str, Any] | None = None
) -> Firm | None:
    session = session or gw.checkout_session(session_id)
    firm = _firm_from(session.get("metadata"), dbs)
    if firm is None:
        return None
    set_tenant(dbs, firm.id)
    if session.get("customer") and not customer_id(dbs, firm):
        dbs.add(BillingCustomer(firm_id=firm.id, stripe_customer_id=session["customer"]))
    purchase = _purchase_for(dbs, session)
    if purchase is None:
        return firm
    if session.get("subscription"):
        sync_subscription(dbs, gw, session["subscription"], now)
    settled = session.get("status") == "complete" and session.get("payment_status") in ("paid", "no_payment_required")
    if settled and purchase.status in ("pending", "failed", "expired"):
        product = plans.product(purchase.product)
        purchase.status = "paid"
        purchase.paid_at = now
        purchase.amount = int(session.get("amount_total") or purchase.amount)
        purchase.payment_intent_id = session.get("payment_intent")
        purchase.invoice_id = session.get("invoice")
        purchase.method = "card" if session.get("mode") == "subscription" else purchase.method
        if product.valid_for:
            purchase.valid_until = now + product.valid_for
    elif kind == "checkout.session.async_payment_failed" and purchase.status == "pending":
        purchase.status = "failed"
    elif kind == "checkout.session.expired" and purchase.status == "pending":
        purchase.status = "expired"
    if purchase.payment_intent_id is None and session.get("payment_intent"):
        purchase.payment_intent_id = session["payment_intent"]
    dbs.flush()
    return firm


def sync_subscription(dbs: Session, gw: Gateway, subscription_id: str, now: datetime) -> Firm | None:
    """Upsert the local copy from a fresh ``subscriptions.retrieve`` (so event order does not matter)."""
    sub = gw.subscription(subscription_id)
    firm = _firm_from(sub.get("metadata"), dbs)
    if firm is None:
        return None
    set_tenant(dbs, firm.id)
    item = ((sub.get("items") or {}).get("data") or [{}])[0]
    product = plans.by_lookup_key((item.get("price") or {}).get("lookup_key"))
    row = dbs.scalar(
        tenant_select(BillingSubscription).where(BillingSubscription.stripe_subscription_id == subscription_id)
    )
    if row is None:
        row = BillingSubscription(firm_id=firm.id, stripe_subscription_id=subscription_id, product="pro_monthly")
        dbs.add(row)
    row.product = product.key if product else row.product
    row.status = sub.get("status") or row.status
    row.current_period_start = _ts(item.get("current_period_start") or sub.get("current_period_start"))
    row.current_period_end = _ts(item.get("current_period_end") or sub.get("current_period_end"))
    row.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    row.canceled_at = _ts(sub.get("canceled_at"))
    row.updated_at = now
    dbs.flush()
    return firm


def _invoice(dbs: Session, gw: Gateway, invoice_id: str, kind: str, now: datetime, portal_link: str) -> Firm | None:
    invoice = gw.invoice(invoice_id)
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    subscription_id = details.get("subscription")
    if not subscription_id:
        return None
    firm = sync_subscription(dbs, gw, subscription_id, now)
    if firm is None:
        return None
    # the first invoice is the checkout's purchase (fulfilled from the session); renewals get a row each
    if (
        kind == "invoice.paid"
        and invoice.get("status") == "paid"
        and invoice.get("billing_reason") != "subscription_create"
    ):
        exists = dbs.scalar(tenant_select(Purchase).where(Purchase.invoice_id == invoice_id))
        if exists is None:
            line = ((invoice.get("lines") or {}).get("data") or [{}])[0]
            dbs.add(
                Purchase(
                    firm_id=firm.id,
                    product="pro_monthly",
                    status="paid",
                    invoice_id=invoice_id,
                    amount=int(invoice.get("amount_paid") or 0),
                    currency=invoice.get("currency") or "cny",
                    method="card",
                    paid_at=_ts((invoice.get("status_transitions") or {}).get("paid_at")) or now,
                    valid_until=_ts((line.get("period") or {}).get("end")),
                    created_at=now,
                )
            )
    elif kind == "invoice.payment_failed":
        for user in owners(dbs, firm):
            send_mail(dbs, user.email, "billing_payment_failed", user=user, firm=firm.name, link=portal_link)
    dbs.flush()
    return firm


def _refund(dbs: Session, gw: Gateway, charge_id: str, now: datetime) -> Firm | None:
    """Withdraw a refunded purchase. A charge need not carry the checkout's metadata: then the firm is read from its
    payment intent and the purchase is found by the payment intent id stored at fulfilment."""
    charge = gw.charge(charge_id)
    intent_id = charge.get("payment_intent")
    firm = _firm_from(charge.get("metadata"), dbs)
    if firm is None and intent_id:
        firm = _firm_from(gw.payment_intent(intent_id).get("metadata"), dbs)
    if firm is None:
        return None
    set_tenant(dbs, firm.id)
    purchase = _purchase_for(dbs, charge)
    if purchase is None and intent_id:
        purchase = dbs.scalar(
            tenant_select(Purchase).where(Purchase.firm_id == firm.id, Purchase.payment_intent_id == intent_id)
        )
    if purchase is not None and charge.get("refunded") and purchase.status == "paid":
        purchase.status = "refunded"
        purchase.refunded_at = now
        dbs.flush()
    return firm


def owners(dbs: Session, firm: Firm) -> list[User]:
    return list(
        dbs.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.firm_id == firm.id, Membership.role == "owner")
        )
    )


def reconcile(
    run: Callable[[Callable[[Session], Effects]], Effects], gw: Gateway, *, now: datetime, portal_link: str
) -> dict[str, int]:
    """Feed every undelivered event through ``handle_event``; ``run`` executes one step in its own transaction.

    A failing event is logged and counted as ``failed`` (its step rolled back, so the next run tries it again); the
    events after it are still applied.
    """
    counts = {"processed": 0, "duplicate": 0, "ignored": 0, "failed": 0}
    for event in gw.undelivered_events(list(HANDLED)):
        try:
            effects = run(lambda dbs, e=event: handle_event(dbs, gw, e, now=now, portal_link=portal_link))
        except Exception:
            log.exception("reconciling stripe event %s (%s) failed", event.get("id"), event.get("type"))
            counts["failed"] += 1
            continue
        counts[effects.outcome] += 1
    return counts


# --- Invoice details (发票) ----------------------------------------------------------------------------------------


def invoice_details(dbs: Session, firm: Firm) -> InvoiceDetails | None:
    return dbs.scalar(tenant_select(InvoiceDetails).where(InvoiceDetails.firm_id == firm.id))


def save_invoice_details(
    dbs: Session, firm: Firm, *, title: str, tax_number: str, email: str | None, now: datetime
) -> InvoiceDetails:
    row = invoice_details(dbs, firm)
    if row is None:
        row = InvoiceDetails(firm_id=firm.id, title=title, tax_number=tax_number)
        dbs.add(row)
    row.title, row.tax_number, row.email, row.updated_at = title, tax_number, email or None, now
    dbs.flush()
    return row


def payments(dbs: Session, firm: Firm) -> list[Purchase]:
    return list(
        dbs.scalars(
            tenant_select(Purchase)
            .where(Purchase.firm_id == firm.id, Purchase.status != "pending")
            .order_by(Purchase.created_at.desc())
        )
    )


def subscriptions(dbs: Session, firm: Firm) -> list[BillingSubscription]:
    return list(dbs.scalars(tenant_select(BillingSubscription).where(BillingSubscription.firm_id == firm.id)))


# --- Vouchers (创新券) -----------------------------------------------------------------------------------------------

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"JX-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def issue_vouchers(
    dbs: Session,
    staff: User,
    *,
    product: str,
    county: str,
    funder_round: str,
    count: int,
    value: int,
    expires_at: datetime | None,
    now: datetime,
) -> list[Voucher]:
    """Issue ``count`` vouchers for ``product``, funded by ``county`` in ``funder_round``."""
    if product not in plans.VOUCHER_PRODUCTS:
        raise UnknownProduct(product)
    made = [
        Voucher(
            code=_code(),
            product=product,
            value=value,
            funder_county=county,
            funder_round=funder_round,
            issued_by_id=staff.id,
            issued_at=now,
            expires_at=expires_at,
        )
        for _ in range(count)
    ]
    dbs.add_all(made)
    dbs.flush()
    return made


def normalise_code(raw: str) -> str:
    text = "".join(ch for ch in raw.upper() if ch.isalnum())
    if text.startswith("JX"):
        text = text[2:]
    return f"JX-{text[:4]}-{text[4:8]}-{text[8:]}" if len(text) == 12 else raw.strip().upper()


def redeem_voucher(
    dbs: Session,
    firm: Firm,
    actor: User,
    raw_code: str,
    *,
    snapshot_id: uuid.UUID | None,
    assessment_id: uuid.UUID | None,
    now: datetime,
) -> Purchase:
    """Redeem a voucher once (row locked) for a pass or the report of ``snapshot_id``."""
    code = normalise_code(raw_code)
    voucher = dbs.scalar(select(Voucher).where(Voucher.code == code).with_for_update())
    if voucher is None or (voucher.expires_at is not None and voucher.expires_at <= now):
        raise VoucherInvalid()
    if voucher.redeemed_at is not None:
        raise VoucherUsed()
    if voucher.product == "report" and snapshot_id is None:
        raise SnapshotRequired()
    product = plans.product(voucher.product)
    voucher.redeemed_at, voucher.redeemed_by_firm_id = now, firm.id
    purchase = Purchase(
        firm_id=firm.id,
        product=product.key,
        status="paid",
        source="voucher",
        voucher_code=voucher.code,
        snapshot_id=snapshot_id if product.key == "report" else None,
        assessment_id=assessment_id if product.key == "report" else None,
        amount=0,
        method="voucher",
        paid_at=now,
        valid_until=now + product.valid_for if product.valid_for else None,
        created_by_id=actor.id,
        created_at=now,
    )
    dbs.add(purchase)
    dbs.flush()
    return purchase


@dataclass(frozen=True)
class VoucherRow:
    county: str
    industry: str | None
    issued: int
    issued_value: int
    redeemed: int | None  # None: suppressed (fewer than k firms)
    redeemed_value: int | None


def voucher_report(dbs: Session, county: str | None, k: int) -> list[VoucherRow]:
    """Issued and redeemed vouchers by funder county and the redeeming firm's industry (cells under k suppressed)."""
    issued_q = select(Voucher.funder_county, func.count(), func.coalesce(func.sum(Voucher.value), 0)).group_by(
        Voucher.funder_county
    )
    redeemed_q = (
        select(
            Voucher.funder_county,
            Firm.industry,
            func.count(),
            func.coalesce(func.sum(Voucher.value), 0),
            func.count(func.distinct(Firm.id)),
        )
        .join(Firm, Firm.id == Voucher.redeemed_by_firm_id)
        .group_by(Voucher.funder_county, Firm.industry)
    )
    if county:
        issued_q = issued_q.where(Voucher.funder_county == county)
        redeemed_q = redeemed_q.where(Voucher.funder_county == county)
    rows: list[VoucherRow] = []
    for c, n, value in dbs.execute(issued_q.order_by(Voucher.funder_county)):
        rows.append(VoucherRow(c, None, n, int(value), None, None))
        for _c, industry, rn, rvalue, firms in dbs.execute(
            redeemed_q.where(Voucher.funder_county == c).order_by(Firm.industry)
        ):
            shown = firms >= k
            rows.append(VoucherRow(c, industry, 0, 0, rn if shown else None, int(rvalue) if shown else None))
    return rows
