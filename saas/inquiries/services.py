"""Inquiry threads: a buyer asks about one published product, the supplier answers, both sides reply in the app and
are told by email. Rows belong to the supplier firm; the buyer reaches them through ``buyer_id``.

Writes by the buyer happen in the supplier's tenant (``acting_in_tenant``) after this module has checked that the
buyer owns the thread. On PostgreSQL the ``inquiries_extra_read`` and ``inquiry_messages_extra_read`` policies let
the buyer read exactly their own threads.

Responsiveness (shown on the supplier's public page once there are at least ``MIN_SAMPLE`` inquiries): over the last
``WINDOW_DAYS`` days, the response rate is the share of inquiries the supplier answered within ``ANSWER_HOURS``
hours, among those old enough to judge (older than ``ANSWER_HOURS`` or already answered); the response time is the
median time to the first answer of the answered ones.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.core.domain import Invalid, NotFound
from saas.core.limits import check_daily, hold_allowance, local_day_start
from saas.core.links import external_url
from saas.core.mail import send_mail
from saas.core.tenancy import acting_in_tenant, get_in_tenant_or_404
from saas.models import Firm, Inquiry, InquiryMessage, Product, User, utcnow
from saas.orgs.services import member_users
from saas.web.forms import QUANTITY, has_control_characters, parse_decimal
from saas.web.pagination import page_count

MAX_BODY = 2000
WINDOW_DAYS = 90
ANSWER_HOURS = 24
MIN_SAMPLE = 5


class InquiryRefused(Invalid):
    """The inquiry cannot be sent; ``code`` says why (own_product, staff, empty, control_chars, too_long,
    bad_quantity)."""


def clean_body(text: str) -> str:
    """Return the message text stripped, or raise ``InquiryRefused`` when empty or too long."""
    body = (text or "").replace("\r\n", "\n").strip()
    if not body:
        raise InquiryRefused("empty")
    if has_control_characters(body, multiline=True):
        raise InquiryRefused("control_chars")
    if len(body) > MAX_BODY:
        raise InquiryRefused("too_long")
    return body


def sent_today(dbs: Session, buyer: User, now: datetime) -> int:
    """Inquiries the buyer started since midnight in Jiaxing (across suppliers: the buyer's own rows only)."""
    stmt = (
        select(func.count())
        .select_from(Inquiry)
        .where(Inquiry.buyer_id == buyer.id, Inquiry.created_at >= local_day_start(now))
        .execution_options(all_tenants=True)
    )
    return dbs.scalar(stmt) or 0


def start(
    dbs: Session, buyer: User, product: Product, text: str, quantity: str = "", *, now: datetime, daily_limit: int
) -> Inquiry:
    """Open a thread on a published product and tell the supplier's members by email.

    ``now`` is the clock and ``daily_limit`` the buyer's allowance per day (``INQUIRY_DAILY_LIMIT``): the view passes
    them, like ``rfqs.services.create_rfq``.

    :raises InquiryRefused: for bad input or an own product; :raises DailyLimitReached: over the daily allowance.
    """
    if buyer.is_staff:
        raise InquiryRefused("staff")
    if buyer.id in {member.id for member in member_users(dbs, product.firm_id)}:
        raise InquiryRefused("own_product")
    body = clean_body(text)
    qty = parse_decimal(quantity, QUANTITY) if quantity.strip() else None  # Numeric(14, 3): nothing rounds to 0
    if quantity.strip() and qty is None:
        raise InquiryRefused("bad_quantity")
    hold_allowance(dbs, "inquiries", buyer.id)
    check_daily(sent_today(dbs, buyer, now), daily_limit)
    with acting_in_tenant(dbs, product.firm_id):
        inquiry = Inquiry(
            firm_id=product.firm_id,
            product_id=product.id,
            buyer_id=buyer.id,
            subject=product.title_zh[:160],
            quantity=qty,
            created_at=now,
            last_message_at=now,
            buyer_read_at=now,
        )
        dbs.add(inquiry)
        dbs.flush()
        dbs.add(
            InquiryMessage(
                firm_id=product.firm_id,
                inquiry_id=inquiry.id,
                sender_id=buyer.id,
                from_supplier=False,
                body=body,
                created_at=now,
            )
        )
    _notify_supplier(dbs, inquiry, buyer, body, "inquiry_new")
    return inquiry


def reply(
    dbs: Session, inquiry: Inquiry, sender: User, text: str, *, from_supplier: bool, now: datetime
) -> InquiryMessage:
    """Add a message to a thread the caller has already been authorised for, and email the other side."""
    body = clean_body(text)
    with acting_in_tenant(dbs, inquiry.firm_id):
        message = InquiryMessage(
            firm_id=inquiry.firm_id,
            inquiry_id=inquiry.id,
            sender_id=sender.id,
            from_supplier=from_supplier,
            body=body,
            created_at=now,
        )
        dbs.add(message)
        inquiry.last_message_at = now
        if from_supplier:
            inquiry.supplier_read_at = now
            if inquiry.first_response_at is None:
                inquiry.first_response_at = now
        else:
            inquiry.buyer_read_at = now
    if from_supplier:
        buyer = dbs.get(User, inquiry.buyer_id)
        if buyer is not None and buyer.is_active:
            send_mail(
                dbs,
                buyer.email,
                "inquiry_reply",
                user=buyer,
                product=inquiry.subject,
                body=body,
                link=_link("inquiries.buyer_thread", inquiry),
            )
    else:
        _notify_supplier(dbs, inquiry, sender, body, "inquiry_reply")
    return message


def _link(endpoint: str, inquiry: Inquiry) -> str:
    return external_url(endpoint, inquiry_id=inquiry.id)


def _notify_supplier(dbs: Session, inquiry: Inquiry, buyer: User, body: str, template: str) -> None:
    for member in member_users(dbs, inquiry.firm_id):
        if member.is_active:
            send_mail(
                dbs,
                member.email,
                template,
                user=member,
                product=inquiry.subject,
                body=body,
                buyer=buyer.name,
                link=_link("inquiries.supplier_thread", inquiry),
            )


# --- Reading --------------------------------------------------------------------------------------------------


def for_buyer(dbs: Session, buyer: User, inquiry_id: uuid.UUID) -> Inquiry:
    """The buyer's own thread, or 404 (another buyer's thread is indistinguishable from a missing one)."""
    inquiry = dbs.scalar(
        select(Inquiry)
        .where(Inquiry.id == inquiry_id, Inquiry.buyer_id == buyer.id)
        .execution_options(all_tenants=True)
    )
    if inquiry is None:
        raise NotFound("inquiry")
    return inquiry


def for_supplier(dbs: Session, firm: Firm, inquiry_id: uuid.UUID) -> Inquiry:
    """One of the firm's threads, or 404."""
    return get_in_tenant_or_404(dbs, Inquiry, inquiry_id, firm.id)


def messages(dbs: Session, inquiry: Inquiry) -> list[InquiryMessage]:
    """The thread's messages, oldest first (the caller is authorised for ``inquiry``)."""
    stmt = (
        select(InquiryMessage)
        .where(InquiryMessage.firm_id == inquiry.firm_id, InquiryMessage.inquiry_id == inquiry.id)
        .order_by(InquiryMessage.created_at, InquiryMessage.id)
        .execution_options(all_tenants=True)
    )
    return list(dbs.scalars(stmt))


def mark_read(dbs: Session, inquiry: Inquiry, *, by_supplier: bool) -> None:
    """Record that one side has read the thread up to now."""
    with acting_in_tenant(dbs, inquiry.firm_id):
        if by_supplier:
            inquiry.supplier_read_at = utcnow()
        else:
            inquiry.buyer_read_at = utcnow()


def is_unread(inquiry: Inquiry, *, for_supplier_side: bool) -> bool:
    read = inquiry.supplier_read_at if for_supplier_side else inquiry.buyer_read_at
    return read is None or read < inquiry.last_message_at


@dataclass
class Page:
    items: list[Inquiry]
    total: int
    pages: int
    products: dict[uuid.UUID, Product]
    names: dict[uuid.UUID, str]  # firm names (buyer side) or buyer names (supplier side)
    unread: set[uuid.UUID]  # threads with news for the side that lists them


def buyer_inbox(dbs: Session, buyer: User, page: int, per_page: int) -> Page:
    """The buyer's threads across suppliers, the most recent activity first."""
    stmt = select(Inquiry).where(Inquiry.buyer_id == buyer.id).execution_options(all_tenants=True)
    total, items = _page(dbs, stmt, page, per_page)
    firm_ids = {i.firm_id for i in items}
    names = dict(dbs.execute(select(Firm.id, Firm.name).where(Firm.id.in_(firm_ids))).all()) if firm_ids else {}
    unread = {i.id for i in items if is_unread(i, for_supplier_side=False)}
    return Page(items, total, page_count(total, per_page), products_of(dbs, items), names, unread)


def supplier_inbox(dbs: Session, firm: Firm, page: int, per_page: int, *, unanswered: bool = False) -> Page:
    """The firm's threads, the most recent activity first; ``unanswered`` keeps those without a reply."""
    stmt = select(Inquiry).where(Inquiry.firm_id == firm.id)
    if unanswered:
        stmt = stmt.where(Inquiry.first_response_at.is_(None))
    total, items = _page(dbs, stmt, page, per_page)
    buyer_ids = {i.buyer_id for i in items}
    names = dict(dbs.execute(select(User.id, User.name).where(User.id.in_(buyer_ids))).all()) if buyer_ids else {}
    unread = {i.id for i in items if is_unread(i, for_supplier_side=True)}
    return Page(items, total, page_count(total, per_page), products_of(dbs, items), names, unread)


def _page(dbs: Session, stmt, page: int, per_page: int) -> tuple[int, list[Inquiry]]:  # type: ignore[no-untyped-def]
    count = select(func.count()).select_from(stmt.subquery()).execution_options(**stmt.get_execution_options())
    total = dbs.scalar(count) or 0
    rows = dbs.scalars(
        stmt.order_by(Inquiry.last_message_at.desc(), Inquiry.id).offset((page - 1) * per_page).limit(per_page)
    )
    return total, list(rows)


def products_of(dbs: Session, items: list[Inquiry]) -> dict[uuid.UUID, Product]:
    if not items:
        return {}
    stmt = select(Product).where(  # both halves of the primary key
        Product.firm_id.in_({i.firm_id for i in items}), Product.id.in_({i.product_id for i in items})
    )
    stmt = stmt.execution_options(all_tenants=True)
    # the buyer sees the product only while it is published; the supplier always sees its own
    return {p.id: p for p in dbs.scalars(stmt).unique()}


# --- Responsiveness ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Responsiveness:
    sample: int
    rate: float  # 0..1, answered within ANSWER_HOURS
    median_hours: float | None  # of the answered ones


def response_times(created: list[tuple[datetime, datetime | None]], now: datetime) -> Responsiveness | None:
    """Compute the figures from (asked, first answer) pairs; None when fewer than ``MIN_SAMPLE`` can be judged."""
    due = timedelta(hours=ANSWER_HOURS)
    judged = [(asked, answered) for asked, answered in created if answered is not None or now - asked >= due]
    if len(judged) < MIN_SAMPLE:
        return None
    on_time = sum(1 for asked, answered in judged if answered is not None and answered - asked <= due)
    waits = [(answered - asked).total_seconds() / 3600 for asked, answered in judged if answered is not None]
    return Responsiveness(len(judged), on_time / len(judged), statistics.median(waits) if waits else None)


def responsiveness(dbs: Session, firm_id: uuid.UUID) -> Responsiveness | None:
    """The supplier's response rate and median response time over the last ``WINDOW_DAYS`` days (platform-computed)."""
    now = utcnow()
    with acting_in_tenant(dbs, firm_id):
        rows = dbs.execute(
            select(Inquiry.created_at, Inquiry.first_response_at).where(
                Inquiry.firm_id == firm_id, Inquiry.created_at >= now - timedelta(days=WINDOW_DAYS)
            )
        ).all()
    return response_times([(r[0], r[1]) for r in rows], now)
