"""The HTTP side of subscriptions and invoices: create, retrieve, list, update, cancel; invoices and their payments."""

from __future__ import annotations

from typing import Any

from saas.billing.standin.params import as_bool, as_list, choice, expand, metadata, paginate
from saas.billing.standin.store import StandinError, State, public
from saas.billing.standin.subscriptions import (
    LIVE,
    add_subscription,
    current_period,
    end_subscription,
    open_invoice,
    pay_invoice,
    schedule_cancel,
    set_status,
    with_period,
)

# --- subscriptions ------------------------------------------------------------------------------------------


def _lines(state: State, params: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    lines = []
    for i, item in enumerate(as_list(params, "items")):
        price = state.get("price", item.get("price") if isinstance(item, dict) else None, param=f"items[{i}][price]")
        if not price["recurring"]:
            raise StandinError(
                f"The price specified ({price['id']}) is not recurring; subscriptions need a recurring price.",
                param=f"items[{i}][price]",
            )
        lines.append((price, int(item.get("quantity") or 1)))
    if not lines:
        raise StandinError("Missing required param: items.", code="parameter_missing", param="items")
    return lines


def create_subscription(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """Start a subscription and charge its first invoice with the customer's card on file (see /_test/cards)."""
    customer = state.get("customer", params.get("customer"), param="customer")
    sub = add_subscription(state, customer, _lines(state, params), metadata(params))
    state.emit("customer.subscription.created", sub)
    invoice = open_invoice(state, sub, "subscription_create")
    if not pay_invoice(state, invoice, state.cards.get(customer["id"], "ok")):
        set_status(state, sub, "incomplete")
    return expand(state, public(sub), params)


def retrieve_subscription(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    return expand(state, public(state.get("subscription", id)), params)


def list_subscriptions(state: State, params: dict[str, Any]) -> dict[str, Any]:
    status = choice(params, "status", (*LIVE, "canceled", "incomplete", "incomplete_expired", "paused", "all"))
    objs = state.all("subscription")
    if status != "all":
        objs = [s for s in objs if s["status"] == status] if status else [s for s in objs if s["status"] != "canceled"]
    if params.get("customer"):
        objs = [s for s in objs if s["customer"] == params["customer"]]
    if params.get("price"):
        objs = [s for s in objs if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])]
    return paginate(objs, params, "/v1/subscriptions", state)


def update_subscription(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    """``cancel_at_period_end``, ``metadata``, ``cancellation_details[comment]`` and a price swap via ``items``."""
    sub = state.get("subscription", id)
    if "cancel_at_period_end" in params:
        comment = (params.get("cancellation_details") or {}).get("comment")
        schedule_cancel(state, sub, bool(as_bool(params, "cancel_at_period_end")), comment)
    changes: dict[str, Any] = {"metadata": metadata(params, sub["metadata"])}
    if params.get("items"):
        items = with_period(sub["items"], current_period(sub)[0])
        for i, change in enumerate(as_list(params, "items")):
            target = next((it for it in items["data"] if it["id"] == change.get("id")), None)
            if target is None:
                raise StandinError(f"No such subscription item: '{change.get('id')}'", param=f"items[{i}][id]")
            if change.get("price"):
                target["price"] = public(state.get("price", change["price"], param=f"items[{i}][price]"))
            if change.get("quantity"):
                target["quantity"] = int(change["quantity"])
        changes["items"] = items
    previous = state.update(sub, changes)
    if previous:
        state.emit("customer.subscription.updated", sub, previous)
    return expand(state, public(sub), params)


def cancel_subscription(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    sub = state.get("subscription", id)
    if sub["status"] == "canceled":
        raise StandinError(f"No such subscription: '{id}'", status=404, code="resource_missing", param="id")
    comment = (params.get("cancellation_details") or {}).get("comment")
    if comment:
        sub["cancellation_details"] = {**sub["cancellation_details"], "comment": comment}
    end_subscription(state, sub)
    return expand(state, public(sub), params)


# --- invoices -------------------------------------------------------------------------------------------------


def retrieve_invoice(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    return expand(state, public(state.get("invoice", id)), params)


def list_invoices(state: State, params: dict[str, Any]) -> dict[str, Any]:
    objs = state.all("invoice")
    if params.get("customer"):
        objs = [i for i in objs if i["customer"] == params["customer"]]
    if params.get("subscription"):
        objs = [i for i in objs if i["parent"]["subscription_details"]["subscription"] == params["subscription"]]
    if params.get("status"):
        objs = [i for i in objs if i["status"] == params["status"]]
    return paginate(objs, params, "/v1/invoices", state)


def list_invoice_lines(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    invoice = state.get("invoice", id)
    return paginate(list(invoice["lines"]["data"]), params, f"/v1/invoices/{id}/lines", state)


def pay_invoice_api(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    """``invoices.pay``: one attempt with the customer's card on file; a decline is a 402 ``card_error``."""
    invoice = state.get("invoice", id)
    if invoice["status"] != "open":
        raise StandinError(
            "Invoice is already paid" if invoice["status"] == "paid" else "Invoice is not open",
            code="invoice_not_open" if invoice["status"] != "paid" else "invoice_already_paid",
        )
    if not pay_invoice(state, invoice, state.cards.get(invoice["customer"], "ok")):
        raise StandinError("Your card was declined.", status=402, type="card_error", code="card_declined")
    return expand(state, public(invoice), params)


def list_invoice_payments(state: State, params: dict[str, Any]) -> dict[str, Any]:
    rows = [p for inv in state.all("invoice") for p in reversed(inv["_payments"])]
    if params.get("invoice"):
        rows = [p for p in rows if p["invoice"] == params["invoice"]]
    return paginate(rows, params, "/v1/invoice_payments", state)


# --- the customer portal --------------------------------------------------------------------------------------


def create_portal_session(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """A portal session whose ``url`` is the stand-in's own portal page (cancel, resume, update the card)."""
    customer = state.get("customer", params.get("customer"), param="customer")
    portal = state.add(
        "billing_portal.session",
        {
            "configuration": params.get("configuration") or "bpc_standin_default",
            "customer": customer["id"],
            "flow": None,
            "locale": params.get("locale"),
            "on_behalf_of": None,
            "return_url": params.get("return_url"),
            "url": None,
        },
    )
    portal["url"] = f"{state.settings.get('base_url', '')}/portal/{portal['id']}"
    return expand(state, public(portal), params)
