"""Requests for quotation: buyers ask, suppliers in the matching category quote, the buyer accepts one.

Ownership and tenancy (docs/rfqs.md):

* ``rfqs`` rows belong to the buyer (a user, not a firm): a plain table, read by its buyer and, while they match,
  by suppliers. Every write to an RFQ row (quote count, closing, award, cancel) goes through ``_locked_rfq``.
* ``quotes`` rows belong to the quoting firm (``TenantScoped``, RLS). A supplier writes them in its own tenant; the
  buyer reads the quotes of *their* RFQ with ``all_tenants`` and an explicit ``Quote.rfq_id`` filter after the
  ``buyer_id`` check, which is exactly what PostgreSQL's ``quotes_extra_read`` policy allows. Accepting a quote
  writes only the buyer's RFQ row; "not selected" is derived from it, never written into other firms' rows.

Services take the actor and the tenant explicitly, ``flush()`` and never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saas.core.audit import record_event
from saas.core.domain import Conflict, NotFound
from saas.core.limits import LOCAL_TZ, check_daily, hold_allowance, local_day_start
from saas.core.links import external_url
from saas.core.mail import send_mail
from saas.marketplace.catalog import Catalog, SaleUnit, default_catalog
from saas.models import Firm, Product, Quote, Rfq, User
from saas.orgs.services import member_users

MAX_DEADLINE_DAYS = 90
MAX_VALIDITY_DAYS = 365
# Quantities, prices and lead times are bounded by saas.web.forms (QUANTITY, PRICE, WHOLE_DAYS: the columns' limits).


class RfqRefused(Conflict):
    """An action on an RFQ is not allowed in its current state; ``code`` keys ``labels.REFUSALS``."""


@dataclass(frozen=True)
class RfqInput:
    """A validated request (see ``forms.RfqForm``)."""

    category_slug: str
    title: str
    description: str
    quantity: Decimal
    unit: str
    target_price: Decimal | None
    deadline: datetime  # aware


@dataclass(frozen=True)
class QuoteInput:
    """A validated quote (see ``forms.QuoteForm``)."""

    unit_price: Decimal
    lead_time_days: int
    valid_until: date
    message: str


# --- Catalogue helpers ------------------------------------------------------------------------------------------------


def units_for(slug: str, catalog: Catalog | None = None) -> tuple[SaleUnit, ...]:
    """The units a request in this category may use: the category's sale units, or for a parent without its own,
    those of its descendants (first seen first)."""
    catalog = catalog or default_catalog()
    category = catalog.get(slug)
    if category is None:
        return ()
    if category.sale_units:
        return catalog.sale_units_for(category.slug)
    seen: dict[str, SaleUnit] = {}
    for other in catalog.categories(category.industry):
        if other.slug.startswith(category.slug + "/"):
            for unit in catalog.sale_units_for(other.slug):
                seen.setdefault(unit.id, unit)
    return tuple(seen.values())


def categories_match(rfq_slug: str, product_slug: str) -> bool:
    """The matching rule: the product's category is the RFQ's, lies under it, or the RFQ's lies under the product's."""
    return (
        product_slug == rfq_slug or product_slug.startswith(rfq_slug + "/") or rfq_slug.startswith(product_slug + "/")
    )


def _self_and_ancestors(slug: str) -> list[str]:
    parts = slug.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


# --- States -----------------------------------------------------------------------------------------------------------


def effective_status(rfq: Rfq, now: datetime) -> str:
    """The status as users see it: an open RFQ past its deadline or at its quote limit is closed."""
    if rfq.status == "open" and (rfq.deadline <= now or rfq.quote_count >= rfq.max_quotes):
        return "closed"
    return rfq.status


def _closed_reason(rfq: Rfq, now: datetime) -> str | None:
    """Why no quote can be added now, or None while the RFQ accepts quotes."""
    full = rfq.quote_count >= rfq.max_quotes
    if rfq.status in ("cancelled", "awarded"):
        return rfq.status
    if rfq.status == "closed" and full:
        return "full"
    if rfq.deadline <= now:
        return "deadline_passed"
    if full:
        return "full"
    return "closed" if rfq.status == "closed" else None


def can_accept(rfq: Rfq) -> bool:
    """The buyer may accept a quote while the RFQ is open or after it closed, once, and never after a cancel."""
    return rfq.status in ("open", "closed")


def can_cancel(rfq: Rfq) -> bool:
    """Cancelling is possible until a quote is accepted (open, or closed without an award)."""
    return rfq.status in ("open", "closed")


def quote_valid(quote: Quote, now: datetime) -> bool:
    """A quote can be accepted up to and including its ``valid_until`` day (Jiaxing time)."""
    return quote.valid_until >= local_date(now)


def quote_outcome(quote: Quote, rfq: Rfq) -> str:
    """pending / accepted / not_selected / cancelled, derived from the buyer's RFQ row."""
    if rfq.status == "cancelled":
        return "cancelled"
    if rfq.status == "awarded":
        return "accepted" if rfq.accepted_quote_id == quote.id else "not_selected"
    return "pending"


def local_date(now: datetime) -> date:
    return now.astimezone(LOCAL_TZ).date()


def close_expired(dbs: Session, now: datetime) -> int:
    """Persist ``closed`` on open RFQs past their deadline (``flask close-rfqs``; every page already derives it)."""
    stmt = (
        update(Rfq)
        .where(Rfq.status == "open", Rfq.deadline <= now)
        .values(status="closed", closed_at=Rfq.deadline)
        .execution_options(synchronize_session=False)
    )
    count = dbs.execute(stmt).rowcount or 0
    if count:
        dbs.expire_all()
    return count


def _locked_rfq(dbs: Session, rfq_id: uuid.UUID) -> Rfq | None:
    """Load an RFQ with its row locked until commit (PostgreSQL ``FOR UPDATE``; SQLite serialises writers)."""
    return dbs.scalars(
        select(Rfq).where(Rfq.id == rfq_id).with_for_update().execution_options(populate_existing=True)
    ).first()


# --- Buyer side -------------------------------------------------------------------------------------------------------


def used_today(dbs: Session, buyer: User, now: datetime) -> int:
    """How many RFQs ``buyer`` created since midnight in Jiaxing."""
    stmt = select(func.count()).where(Rfq.buyer_id == buyer.id, Rfq.created_at >= local_day_start(now))
    return dbs.scalar(stmt) or 0


def check_rfq_allowance(dbs: Session, buyer: User, now: datetime, limit: int) -> None:
    """Raise ``DailyLimitReached`` when the buyer has created ``limit`` RFQs today."""
    check_daily(used_today(dbs, buyer, now), limit)


def create_rfq(dbs: Session, buyer: User, data: RfqInput, *, now: datetime, daily_limit: int, max_quotes: int) -> Rfq:
    """Store a new open RFQ; raise ``DailyLimitReached`` (nothing stored) past the daily allowance."""
    hold_allowance(dbs, "rfqs", buyer.id)
    check_rfq_allowance(dbs, buyer, now, daily_limit)
    category = default_catalog().category(data.category_slug)
    rfq = Rfq(
        buyer_id=buyer.id,
        industry=category.industry,
        category_slug=category.slug,
        title=data.title,
        description=data.description,
        quantity=data.quantity,
        unit=data.unit,
        target_price=data.target_price,
        currency="CNY",
        deadline=data.deadline,
        max_quotes=max_quotes,
        quote_count=0,
        status="open",
        created_at=now,
    )
    dbs.add(rfq)
    dbs.flush()
    return rfq


def buyer_rfqs_page(dbs: Session, buyer: User, *, page: int, per_page: int) -> tuple[list[Rfq], int]:
    """One page of the buyer's RFQs, newest first, and the total."""
    base = select(Rfq).where(Rfq.buyer_id == buyer.id)
    total = dbs.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = dbs.scalars(base.order_by(Rfq.created_at.desc(), Rfq.id).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def get_buyer_rfq(dbs: Session, buyer: User, rfq_id: uuid.UUID) -> Rfq:
    """The buyer's own RFQ, or 404 (another user's RFQ is indistinguishable from a missing one)."""
    rfq = dbs.scalar(select(Rfq).where(Rfq.id == rfq_id, Rfq.buyer_id == buyer.id))
    if rfq is None:
        raise NotFound("rfq")
    return rfq


def quotes_for_buyer(dbs: Session, buyer: User, rfq: Rfq) -> list[tuple[Quote, Firm]]:
    """Every quote of the buyer's RFQ with its supplier, cheapest first.

    A deliberate cross-tenant read: quotes belong to the suppliers. Only after the ownership check, and only this
    RFQ's rows (PostgreSQL's ``quotes_extra_read`` policy allows the same rows and no others).
    """
    if rfq.buyer_id != buyer.id:
        raise NotFound("rfq")
    stmt = (
        select(Quote, Firm)
        .join(Firm, Firm.id == Quote.firm_id)
        .where(Quote.rfq_id == rfq.id)
        .order_by(Quote.unit_price, Quote.created_at)
        .execution_options(all_tenants=True)
    )
    return [(quote, firm) for quote, firm in dbs.execute(stmt)]


def accept_quote(dbs: Session, buyer: User, rfq_id: uuid.UUID, quote_id: uuid.UUID, *, now: datetime) -> Quote:
    """Award the RFQ to one quote: the RFQ closes, the supplier is emailed, the other quotes are not selected."""
    rfq = _locked_rfq(dbs, rfq_id)
    if rfq is None or rfq.buyer_id != buyer.id:
        raise NotFound("rfq")
    quote = dbs.scalar(
        select(Quote).where(Quote.rfq_id == rfq.id, Quote.id == quote_id).execution_options(all_tenants=True)
    )
    if quote is None:
        raise NotFound("rfq")
    if rfq.status == "cancelled":
        raise RfqRefused("cancelled")
    if rfq.status == "awarded":
        raise RfqRefused("awarded")
    if not quote_valid(quote, now):
        raise RfqRefused("quote_expired")
    rfq.status = "awarded"
    rfq.accepted_quote_id, rfq.accepted_firm_id = quote.id, quote.firm_id
    rfq.closed_at = rfq.closed_at or min(now, rfq.deadline)
    dbs.flush()
    record_event(dbs, buyer, "rfq.quote_accepted", subject_firm_id=quote.firm_id, rfq=rfq.id, quote=quote.id)
    author = dbs.get(User, quote.author_id) if quote.author_id is not None else None
    # the quote's author, or every member of the firm when that account is gone or disabled
    recipients = [author] if author is not None and author.is_active else member_users(dbs, quote.firm_id)
    for member in (m for m in recipients if m.is_active):
        send_mail(
            dbs,
            member.email,
            "quote_accepted",
            user=member,
            rfq=rfq.title,
            buyer_name=buyer.name,
            buyer_email=buyer.email,
            link=external_url("rfqs.firm_detail", rfq_id=rfq.id),
        )
    return quote


def cancel_rfq(dbs: Session, buyer: User, rfq_id: uuid.UUID, *, now: datetime) -> Rfq:
    """Withdraw the request; no quote can be added or accepted afterwards."""
    rfq = _locked_rfq(dbs, rfq_id)
    if rfq is None or rfq.buyer_id != buyer.id:
        raise NotFound("rfq")
    if not can_cancel(rfq):
        raise RfqRefused("not_cancellable")
    rfq.status = "cancelled"
    rfq.closed_at = rfq.closed_at or min(now, rfq.deadline)
    dbs.flush()
    record_event(dbs, buyer, "rfq.cancelled", rfq=rfq.id)
    return rfq


# --- Supplier side ----------------------------------------------------------------------------------------------------


def firm_categories(dbs: Session, firm: Firm) -> list[str]:
    """The categories of the firm's published products (read in the firm's own tenant)."""
    stmt = (
        select(Product.category_slug)
        .where(Product.firm_id == firm.id, Product.status == "published")
        .distinct()
        .order_by(Product.category_slug)
    )
    return list(dbs.scalars(stmt))


def _matching(slugs: list[str]) -> Any:
    prefixes = sorted({prefix for slug in slugs for prefix in _self_and_ancestors(slug)})
    return or_(
        Rfq.category_slug.in_(prefixes), *(Rfq.category_slug.startswith(s + "/", autoescape=True) for s in slugs)
    )


def firm_matches(dbs: Session, firm: Firm, rfq: Rfq) -> bool:
    """Whether the firm has a published product in a matching category (``categories_match``)."""
    return any(categories_match(rfq.category_slug, slug) for slug in firm_categories(dbs, firm))


def open_rfqs_for_firm(dbs: Session, firm: Firm, *, now: datetime, page: int, per_page: int) -> tuple[list[Rfq], int]:
    """One page of open RFQs matching the firm's categories (closing soonest first), and the total.

    Requests made by the firm's own members are left out: a firm never quotes for itself.
    """
    slugs = firm_categories(dbs, firm)
    if not slugs:
        return [], 0
    base = select(Rfq).where(
        Rfq.status == "open",
        Rfq.deadline > now,
        Rfq.quote_count < Rfq.max_quotes,
        _matching(slugs),
    )
    members = [member.id for member in member_users(dbs, firm.id)]
    if members:
        base = base.where(Rfq.buyer_id.not_in(members))
    total = dbs.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = dbs.scalars(base.order_by(Rfq.deadline, Rfq.id).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def own_quote(dbs: Session, firm: Firm, rfq_id: uuid.UUID) -> Quote | None:
    """The firm's quote for this RFQ, if any (tenant-scoped)."""
    return dbs.scalar(select(Quote).where(Quote.firm_id == firm.id, Quote.rfq_id == rfq_id))


def quoted_rfq_ids(dbs: Session, firm: Firm, rfq_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not rfq_ids:
        return set()
    return set(dbs.scalars(select(Quote.rfq_id).where(Quote.firm_id == firm.id, Quote.rfq_id.in_(rfq_ids))))


def get_rfq_for_firm(dbs: Session, firm: Firm, rfq_id: uuid.UUID) -> Rfq:
    """An RFQ the firm may see: it matches the firm's categories, or the firm has quoted for it; else 404."""
    rfq = dbs.scalar(select(Rfq).where(Rfq.id == rfq_id))
    if rfq is None or not (firm_matches(dbs, firm, rfq) or own_quote(dbs, firm, rfq.id) is not None):
        raise NotFound("rfq")
    return rfq


def quote_refusal(dbs: Session, firm: Firm, rfq: Rfq, now: datetime) -> str | None:
    """Why the firm cannot quote for this RFQ now (a ``labels.REFUSALS`` code), or None."""
    if rfq.buyer_id in [member.id for member in member_users(dbs, firm.id)]:
        return "own_request"
    if own_quote(dbs, firm, rfq.id) is not None:
        return "already_quoted"
    return _closed_reason(rfq, now)


def submit_quote(dbs: Session, firm: Firm, actor: User, rfq_id: uuid.UUID, data: QuoteInput, *, now: datetime) -> Quote:
    """Add the firm's quote; the quote that reaches ``max_quotes`` closes the RFQ. The buyer is emailed.

    The RFQ row is locked first, so concurrent quotes are counted one after the other; the count is raised by a
    conditional UPDATE as well, so even without the lock no RFQ passes its limit. On any ``RfqRefused`` the caller
    rolls back: nothing of the attempt is kept.
    """
    rfq = _locked_rfq(dbs, rfq_id)
    if rfq is None or not firm_matches(dbs, firm, rfq):
        raise NotFound("rfq")
    refusal = quote_refusal(dbs, firm, rfq, now)
    if refusal is not None:
        raise RfqRefused(refusal)
    counted = dbs.execute(
        update(Rfq)
        .where(Rfq.id == rfq.id, Rfq.status == "open", Rfq.deadline > now, Rfq.quote_count < Rfq.max_quotes)
        .values(quote_count=Rfq.quote_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if counted != 1:
        raise RfqRefused("full")
    quote = Quote(
        firm_id=firm.id,
        rfq_id=rfq.id,
        author_id=actor.id,
        unit_price=data.unit_price,
        currency="CNY",
        lead_time_days=data.lead_time_days,
        valid_until=data.valid_until,
        message=data.message,
        created_at=now,
    )
    dbs.add(quote)
    try:
        with dbs.begin_nested():
            dbs.flush()
    except IntegrityError:
        raise RfqRefused("already_quoted") from None  # the unique (rfq_id, firm_id) key: a concurrent double submit
    dbs.refresh(rfq)
    if rfq.quote_count >= rfq.max_quotes:
        rfq.status, rfq.closed_at = "closed", now
    dbs.flush()
    record_event(dbs, actor, "rfq.quote_submitted", subject_firm_id=firm.id, rfq=rfq.id, quote=quote.id)
    buyer = dbs.get(User, rfq.buyer_id)
    if buyer is not None and buyer.is_active:
        send_mail(
            dbs,
            buyer.email,
            "quote_received",
            user=buyer,
            rfq=rfq.title,
            supplier=firm.name,
            unit_price=f"{data.unit_price:,.2f}",
            lead_time_days=data.lead_time_days,
            valid_until=data.valid_until,
            link=external_url("rfqs.detail", rfq_id=rfq.id),
        )
    return quote


def firm_quotes_page(dbs: Session, firm: Firm, *, page: int, per_page: int) -> tuple[list[tuple[Quote, Rfq]], int]:
    """One page of the firm's own quotes (tenant-scoped) with their RFQs, newest first, and the total."""
    base = select(Quote, Rfq).join(Rfq, Rfq.id == Quote.rfq_id).where(Quote.firm_id == firm.id)
    total = dbs.scalar(select(func.count()).select_from(Quote).where(Quote.firm_id == firm.id)) or 0
    rows = dbs.execute(base.order_by(Quote.created_at.desc(), Quote.id).offset((page - 1) * per_page).limit(per_page))
    return [(quote, rfq) for quote, rfq in rows], total


def deadline_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The earliest (exclusive) and latest (inclusive) deadline a new RFQ may have."""
    return now, now + timedelta(days=MAX_DEADLINE_DAYS)
