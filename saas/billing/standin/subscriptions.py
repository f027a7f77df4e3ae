"""Subscriptions and their invoices: creation, renewal, failed payments (``past_due``), recovery and cancellation.

As in API versions from 2025 on, the billing period lives on each subscription item (``items.data[].
current_period_start/end``), and an invoice names its subscription under ``parent.subscription_details``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from saas.billing.standin import payments
from saas.billing.standin.params import INCLUDABLE, list_object
from saas.billing.standin.store import StandinError, State, new_id, public

LIVE = ("active", "past_due", "trialing", "unpaid")


def period_end(start: int, recurring: dict[str, Any]) -> int:
    """``start`` plus one billing interval, in calendar months/years as Stripe counts them (UTC)."""
    count = int(recurring.get("interval_count") or 1)
    when = dt.datetime.fromtimestamp(start, dt.UTC)
    interval = recurring["interval"]
    if interval in ("day", "week"):
        return start + count * (7 if interval == "week" else 1) * 86400
    months = count * (12 if interval == "year" else 1)
    month0 = when.month - 1 + months
    year, month = when.year + month0 // 12, month0 % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return int(when.replace(year=year, month=month, day=day).timestamp())


def current_period(sub: dict[str, Any]) -> tuple[int, int]:
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def _items(state: State, sub_id: str, lines: list[tuple[dict[str, Any], int]], start: int) -> dict[str, Any]:
    data = []
    for price, quantity in lines:
        data.append(
            {
                "id": new_id("si"),
                "object": "subscription_item",
                "created": state.now(),
                "current_period_start": start,
                "current_period_end": period_end(start, price["recurring"]),
                "metadata": {},
                "price": public(price),
                "quantity": quantity,
                "subscription": sub_id,
            }
        )
    return list_object(data, f"/v1/subscription_items?subscription={sub_id}")


def with_period(items: dict[str, Any], start: int) -> dict[str, Any]:
    fresh = list_object([dict(item) for item in items["data"]], items["url"])
    for item in fresh["data"]:
        item["current_period_start"] = start
        item["current_period_end"] = period_end(start, item["price"]["recurring"])
    return fresh


def add_subscription(
    state: State, customer: dict[str, Any], lines: list[tuple[dict[str, Any], int]], meta: dict[str, str]
) -> dict[str, Any]:
    """An active subscription from now (the caller invoices and pays its first period)."""
    now = state.now()
    sub_id = new_id("sub")
    return state.add(
        "subscription",
        {
            "id": sub_id,
            "billing_cycle_anchor": now,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "currency": lines[0][0]["currency"],
            "customer": customer["id"],
            "default_payment_method": None,
            "description": None,
            "ended_at": None,
            "items": _items(state, sub_id, lines, now),
            "latest_invoice": None,
            "metadata": dict(meta),
            "pause_collection": None,
            "start_date": now,
            "status": "active",
            "trial_end": None,
            "trial_start": None,
        },
    )


def open_invoice(state: State, sub: dict[str, Any], reason: str) -> dict[str, Any]:
    """Invoice the subscription's current period: ``invoice.created`` and ``invoice.finalized``, status ``open``."""
    customer = state.get("customer", sub["customer"])
    start, end = current_period(sub)
    inv_id = new_id("in")
    lines = []
    for item in sub["items"]["data"]:
        price = item["price"]
        lines.append(
            {
                "id": new_id("il"),
                "object": "line_item",
                "amount": price["unit_amount"] * item["quantity"],
                "currency": price["currency"],
                "description": f"{item['quantity']} × {price.get('nickname') or price['product']}",
                "invoice": inv_id,
                "livemode": False,
                "metadata": {},
                "parent": {
                    "type": "subscription_item_details",
                    "subscription_item_details": {
                        "subscription": sub["id"],
                        "subscription_item": item["id"],
                        "proration": False,
                        "invoice_item": None,
                    },
                },
                "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
                "pricing": {
                    "type": "price_details",
                    "price_details": {"price": price["id"], "product": price["product"]},
                    "unit_amount_decimal": str(price["unit_amount"]),
                },
                "quantity": item["quantity"],
                "subtotal": price["unit_amount"] * item["quantity"],
            }
        )
    total = sum(line["amount"] for line in lines)
    invoice = state.add(
        "invoice",
        {
            "id": inv_id,
            "amount_due": total,
            "amount_paid": 0,
            "amount_remaining": total,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": True,
            "billing_reason": reason,
            "collection_method": "charge_automatically",
            "currency": sub["currency"],
            "customer": customer["id"],
            "customer_email": customer.get("email"),
            "customer_name": customer.get("name"),
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "lines": list_object(lines, f"/v1/invoices/{inv_id}/lines"),
            "metadata": {},
            "next_payment_attempt": None,
            "number": f"{customer['invoice_prefix']}-{_invoice_count(state, customer['id']) + 1:04d}",
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"subscription": sub["id"], "metadata": dict(sub["metadata"])},
            },
            "period_start": start,
            "period_end": end if reason != "subscription_create" else start,
            "status": "open",
            "status_transitions": {"finalized_at": state.now(), "paid_at": None, "voided_at": None},
            "subtotal": total,
            "total": total,
            "_payments": [],
        },
    )
    sub["latest_invoice"] = inv_id
    state.emit("invoice.created", invoice)
    state.emit("invoice.finalized", invoice)
    return invoice


def _invoice_count(state: State, customer_id: str) -> int:
    return sum(1 for inv in state.objects["invoice"].values() if inv["customer"] == customer_id)


def _payments(state: State, inv_id: str) -> dict[str, Any]:
    invoice = state.get("invoice", inv_id)
    return list_object(public(invoice["_payments"]), f"/v1/invoice_payments?invoice={inv_id}")


INCLUDABLE[("invoice", "payments")] = _payments


def pay_invoice(state: State, invoice: dict[str, Any], outcome: str, intent: dict[str, Any] | None = None) -> bool:
    """One payment attempt: ``ok`` pays (``invoice.paid``), ``decline`` / ``requires_action`` leave it open."""
    customer = state.get("customer", invoice["customer"])
    intent = intent or payments.start_payment(
        state,
        amount=invoice["amount_due"],
        currency=invoice["currency"],
        method="card",
        customer=customer["id"],
        description=f"Invoice {invoice['number']}",
    )
    invoice["attempted"] = True
    invoice["attempt_count"] += 1
    sub = state.get("subscription", invoice["parent"]["subscription_details"]["subscription"])
    if outcome != "ok":
        payments.fail_payment(state, intent, "authentication_required" if outcome == "requires_action" else "")
        invoice["next_payment_attempt"] = state.now() + 3 * 86400
        kind = "invoice.payment_action_required" if outcome == "requires_action" else "invoice.payment_failed"
        state.emit(kind, invoice)
        set_status(state, sub, "past_due")
        return False
    payments.succeed_payment(state, intent, customer.get("email"))
    now = state.now()
    invoice.update(amount_paid=invoice["amount_due"], amount_remaining=0, status="paid", next_payment_attempt=None)
    invoice["status_transitions"] = {**invoice["status_transitions"], "paid_at": now}
    invoice["_payments"].append(
        {
            "id": new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": invoice["amount_due"],
            "amount_requested": invoice["amount_due"],
            "created": now,
            "currency": invoice["currency"],
            "invoice": invoice["id"],
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
            "status": "paid",
            "status_transitions": {"canceled_at": None, "paid_at": now},
        }
    )
    state.emit("invoice.paid", invoice)
    state.emit("invoice.payment_succeeded", invoice)
    still_open = [i for i in open_invoices(state, sub) if i["id"] != invoice["id"]]
    if sub["status"] in ("past_due", "unpaid", "incomplete") and not still_open:
        set_status(state, sub, "active")
    return True


def open_invoices(state: State, sub: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        inv
        for inv in state.all("invoice")
        if inv["status"] == "open" and inv["parent"]["subscription_details"]["subscription"] == sub["id"]
    ]


def set_status(state: State, sub: dict[str, Any], status: str) -> None:
    previous = state.update(sub, {"status": status})
    if previous:
        state.emit("customer.subscription.updated", sub, previous)


def renew(state: State, sub: dict[str, Any], outcome: str | None = None) -> dict[str, Any] | None:
    """Start the next period (or end the subscription if it cancels at period end); invoice and charge it."""
    if sub["status"] not in LIVE:
        raise StandinError(f"Subscription {sub['id']} is {sub['status']} and cannot renew.", param="subscription")
    start = current_period(sub)[1]
    if sub["cancel_at_period_end"] or (sub["cancel_at"] and sub["cancel_at"] <= start):
        end_subscription(state, sub)
        return None
    previous = state.update(sub, {"items": with_period(sub["items"], start)})
    state.emit("customer.subscription.updated", sub, previous)
    invoice = open_invoice(state, sub, "subscription_cycle")
    pay_invoice(state, invoice, outcome or state.cards.get(sub["customer"], "ok"))
    return invoice


def end_subscription(state: State, sub: dict[str, Any], reason: str = "cancellation_requested") -> None:
    now = state.now()
    details = {**sub["cancellation_details"], "reason": reason}
    changes = {"status": "canceled", "ended_at": now, "canceled_at": sub["canceled_at"] or now}
    previous = state.update(sub, {**changes, "cancellation_details": details})
    for invoice in open_invoices(state, sub):
        invoice.update(status="void", amount_remaining=0)
        invoice["status_transitions"] = {**invoice["status_transitions"], "voided_at": now}
        state.emit("invoice.voided", invoice)
    state.emit("customer.subscription.deleted", sub, previous)


def schedule_cancel(state: State, sub: dict[str, Any], at_period_end: bool, comment: str | None = None) -> None:
    """Cancel at period end, or resume (``at_period_end=False``): ``customer.subscription.updated``."""
    if sub["status"] not in LIVE:
        raise StandinError(f"Subscription {sub['id']} is {sub['status']}.", param="subscription")
    changes: dict[str, Any] = {
        "cancel_at_period_end": at_period_end,
        "cancel_at": current_period(sub)[1] if at_period_end else None,
        "canceled_at": state.now() if at_period_end else None,
    }
    if comment is not None:
        changes["cancellation_details"] = {**sub["cancellation_details"], "comment": comment}
    previous = state.update(sub, changes)
    if previous:
        state.emit("customer.subscription.updated", sub, previous)


def recover(state: State, customer_id: str) -> int:
    """The customer 'updated the card': later charges succeed and every open invoice is paid now."""
    state.cards[customer_id] = "ok"
    paid = 0
    for sub in state.all("subscription"):
        if sub["customer"] == customer_id and sub["status"] in LIVE:
            for invoice in reversed(open_invoices(state, sub)):
                paid += pay_invoice(state, invoice, "ok")
    return paid


def process_due(state: State) -> None:
    """Renew or end every live subscription whose period ended on the stand-in's clock (bounded per call)."""
    now = state.now()
    for sub in reversed(state.all("subscription")):
        for _ in range(120):
            if sub["status"] not in LIVE or current_period(sub)[1] > now:
                break
            renew(state, sub)
