"""Checkout sessions: the API (create, retrieve, list, line items, expire) and what paying on the hosted page does.

Card payments settle at once. WeChat Pay and Alipay are asynchronous, as on Stripe: the session completes with
``payment_status="unpaid"`` and a later ``checkout.session.async_payment_succeeded`` or ``…_failed`` settles it.
"""

from __future__ import annotations

from typing import Any

from saas.billing.standin import catalog, payments, subscriptions
from saas.billing.standin.params import (
    INCLUDABLE,
    as_int,
    as_list,
    choice,
    expand,
    list_object,
    metadata,
    paginate,
)
from saas.billing.standin.store import StandinError, State, public

ASYNC_METHODS = ("wechat_pay", "alipay")
WECHAT_CLIENTS = ("web", "mobile", "android", "ios")
CREATE_PARAMS = {
    "mode", "line_items", "customer", "customer_email", "customer_creation", "client_reference_id", "metadata",
    "payment_method_types", "payment_method_options", "subscription_data", "payment_intent_data", "success_url",
    "cancel_url", "expires_at", "locale", "expand", "allow_promotion_codes", "billing_address_collection", "ui_mode",
    "invoice_creation", "tax_id_collection", "custom_text", "submit_type", "automatic_tax", "consent_collection",
    "phone_number_collection", "customer_update", "saved_payment_method_options",
}  # fmt: skip


def _line_items(state: State, params: dict[str, Any], mode: str) -> list[dict[str, Any]]:
    items = []
    for i, line in enumerate(as_list(params, "line_items")):
        if not isinstance(line, dict):
            raise StandinError("Invalid array", param="line_items")
        if line.get("price_data"):
            data = dict(line["price_data"])
            price = catalog.add_price(state, data)
        else:
            price = state.get("price", line.get("price"), param=f"line_items[{i}][price]")
        if not price["active"]:
            raise StandinError(f"The price `{price['id']}` is not active.", param=f"line_items[{i}][price]")
        if mode == "payment" and price["recurring"]:
            raise StandinError(
                "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode "
                "or use only one-time prices.",
                param=f"line_items[{i}][price]",
            )
        quantity = as_int(line, "quantity", 1, param=f"line_items[{i}][quantity]")
        amount = price["unit_amount"] * quantity
        product = state.objects["product"].get(price["product"], {})
        items.append(
            {
                "id": f"li_{session_suffix(state)}",
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price["currency"],
                "description": product.get("name"),
                "price": public(price),
                "quantity": quantity,
            }
        )
    if not items:
        raise StandinError("Missing required param: line_items.", code="parameter_missing", param="line_items")
    if mode == "subscription" and not any(item["price"]["recurring"] for item in items):
        raise StandinError(
            "You must specify at least one recurring price in `subscription` mode when using prices.",
            param="line_items",
        )
    if len({item["currency"] for item in items}) > 1:
        raise StandinError("All prices must be in the same currency.", param="line_items")
    return items


def session_suffix(state: State) -> str:
    return f"{state.next_number():08d}standin"


def _methods(params: dict[str, Any], mode: str) -> list[str]:
    methods = [str(m) for m in as_list(params, "payment_method_types")] or ["card"]
    options = params.get("payment_method_options") or {}
    for method in methods:
        if method not in payments.METHODS:
            raise StandinError(
                f"The payment method type `{method}` is invalid (the stand-in knows {', '.join(payments.METHODS)}).",
                param="payment_method_types",
            )
        if mode == "subscription" and method != "card":
            raise StandinError(
                f"The payment method type `{method}` cannot be used in `subscription` mode.",
                param="payment_method_types",
            )
    if "wechat_pay" in methods and (options.get("wechat_pay") or {}).get("client") not in WECHAT_CLIENTS:
        raise StandinError(
            "payment_method_options[wechat_pay][client] is required when `wechat_pay` is a payment method type.",
            param="payment_method_options[wechat_pay][client]",
        )
    return methods


def _check_create(state: State, params: dict[str, Any], mode: str) -> None:
    unknown = sorted(set(params) - CREATE_PARAMS)
    if unknown:
        raise StandinError(f"Received unknown parameter: {unknown[0]}", param=unknown[0])
    if params.get("customer") and params.get("customer_email"):
        raise StandinError("You may only specify one of these parameters: customer, customer_email.", param="customer")
    if params.get("customer"):
        state.get("customer", params["customer"], param="customer")
    if params.get("customer_creation"):
        choice(params, "customer_creation", ("always", "if_required"))
        if mode != "payment":
            raise StandinError("`customer_creation` can only be used in `payment` mode.", param="customer_creation")
    if len(str(params.get("client_reference_id") or "")) > 200:
        raise StandinError("client_reference_id must be at most 200 characters.", param="client_reference_id")


def create_session(state: State, params: dict[str, Any]) -> dict[str, Any]:
    mode = choice(params, "mode", ("payment", "subscription", "setup"))
    if mode is None or mode == "setup":
        raise StandinError("`mode` must be `payment` or `subscription` on the stand-in.", param="mode")
    _check_create(state, params, mode)
    methods = _methods(params, mode)
    now = state.now()
    expires_at = as_int(params, "expires_at", now + 86400)
    if not now + 1800 - 60 <= expires_at <= now + 86400 + 60:
        raise StandinError(
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    items = _line_items(state, params, mode)
    total = sum(item["amount_total"] for item in items)
    session = state.add(
        "checkout.session",
        {
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "currency": items[0]["currency"],
            "customer": params.get("customer"),
            "customer_creation": params.get("customer_creation"),
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "invoice": None,
            "locale": params.get("locale"),
            "metadata": metadata(params),
            "mode": mode,
            "payment_intent": None,
            "payment_method_options": params.get("payment_method_options") or {},
            "payment_method_types": methods,
            "payment_status": "unpaid",
            "status": "open",
            "subscription": None,
            "success_url": params.get("success_url"),
            "ui_mode": "hosted",
            "url": None,
            "_line_items": items,
            "_subscription_metadata": metadata(params.get("subscription_data") or {}),
            "_payment_metadata": metadata(params.get("payment_intent_data") or {}),
        },
    )
    session["url"] = f"{state.settings.get('base_url', '')}/pay/{session['id']}"
    return expand(state, public(session), params)


def retrieve_session(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    return expand(state, public(state.get("checkout.session", id)), params)


def list_sessions(state: State, params: dict[str, Any]) -> dict[str, Any]:
    objs = state.all("checkout.session")
    for key in ("customer", "payment_intent", "subscription", "status"):
        if params.get(key):
            objs = [s for s in objs if s[key] == params[key]]
    return paginate(objs, params, "/v1/checkout/sessions", state)


def _session_line_items(state: State, session_id: str) -> dict[str, Any]:
    return list_object(public(state.get("checkout.session", session_id)["_line_items"]), "/v1/checkout/sessions")


INCLUDABLE[("checkout.session", "line_items")] = _session_line_items


def list_line_items(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    items = state.get("checkout.session", id)["_line_items"]
    return paginate(items, params, f"/v1/checkout/sessions/{id}/line_items", state)


def expire_session(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    session = state.get("checkout.session", id)
    if session["status"] != "open":
        raise StandinError(
            f"Only Checkout Sessions with a status of `open` can be expired; this one is `{session['status']}`.",
            param="session",
        )
    expire(state, session)
    return expand(state, public(session), params)


def expire(state: State, session: dict[str, Any]) -> None:
    session.update(status="expired", url=None)
    state.emit("checkout.session.expired", session)


# --- paying ---------------------------------------------------------------------------------------------------


def pay(state: State, session: dict[str, Any], method: str, outcome: str = "success", email: str | None = None) -> str:
    """Pay an open session. ``outcome`` is ``success`` or ``decline`` (card); WeChat Pay / Alipay always start
    asynchronously. Returns the session's ``payment_status`` afterwards, or ``"declined"``."""
    if session["status"] == "open" and session["expires_at"] <= state.now():
        expire(state, session)
    if session["status"] != "open":
        raise StandinError(f"This Checkout Session is {session['status']}.", code="checkout_session_not_open")
    if method not in session["payment_method_types"]:
        raise StandinError(f"`{method}` is not a payment method of this session.", param="method")
    if outcome == "decline":
        if session["mode"] == "payment":
            intent = _intent(state, session, method, session["customer"])
            payments.fail_payment(state, intent)
        return "declined"
    customer = _customer(state, session, email)
    details = {"email": (customer or {}).get("email") or email or session["customer_email"], "name": None}
    details.update(phone=None, address=None, tax_exempt="none", tax_ids=[])
    session.update(status="complete", customer=customer and customer["id"], customer_details=details)
    if session["mode"] == "subscription":
        _start_subscription(state, session, customer)
    else:
        intent = _intent(state, session, method, session["customer"])
        session["payment_intent"] = intent["id"]
        if method in ASYNC_METHODS:
            delay = int(state.settings.get("async_auto_confirm_ms") or 0)
            if delay > 0:
                state.async_jobs.append({"session": session["id"], "due": state.now() + max(1, delay // 1000)})
        else:
            payments.succeed_payment(state, intent, details["email"])
            session["payment_status"] = "paid"
    state.emit("checkout.session.completed", session)
    return session["payment_status"]


def _customer(state: State, session: dict[str, Any], email: str | None) -> dict[str, Any] | None:
    if session["customer"]:
        return state.get("customer", session["customer"])
    if session["mode"] == "subscription" or session["customer_creation"] == "always":
        return catalog.add_customer(state, {"email": session["customer_email"] or email})
    return None


def _intent(state: State, session: dict[str, Any], method: str, customer: str | None) -> dict[str, Any]:
    return payments.start_payment(
        state,
        amount=session["amount_total"],
        currency=session["currency"],
        method=method,
        customer=customer,
        meta=session["_payment_metadata"],
    )


def _start_subscription(state: State, session: dict[str, Any], customer: dict[str, Any]) -> None:
    lines = [(i["price"], i["quantity"]) for i in session["_line_items"] if i["price"]["recurring"]]
    prices = [(state.get("price", price["id"]), qty) for price, qty in lines]
    sub = subscriptions.add_subscription(state, customer, prices, session["_subscription_metadata"])
    state.emit("customer.subscription.created", sub)
    invoice = subscriptions.open_invoice(state, sub, "subscription_create")
    subscriptions.pay_invoice(state, invoice, "ok")
    session.update(subscription=sub["id"], invoice=invoice["id"], payment_status="paid")


def settle_async(state: State, session: dict[str, Any], succeeded: bool) -> None:
    """The wallet answered: ``checkout.session.async_payment_succeeded`` (paid) or ``…_failed`` (stays unpaid)."""
    intent = state.get("payment_intent", session.get("payment_intent"))
    if session["status"] != "complete" or session["payment_status"] != "unpaid" or intent["status"] != "processing":
        raise StandinError("This session has no asynchronous payment waiting.", code="no_pending_async_payment")
    state.async_jobs = [job for job in state.async_jobs if job["session"] != session["id"]]
    if succeeded:
        payments.succeed_payment(state, intent, (session["customer_details"] or {}).get("email"))
        session["payment_status"] = "paid"
        state.emit("checkout.session.async_payment_succeeded", session)
    else:
        intent.update(
            status="requires_payment_method",
            last_payment_error={"code": "payment_method_provider_decline", "message": "The wallet declined."},
        )
        state.emit("payment_intent.payment_failed", intent)
        state.emit("checkout.session.async_payment_failed", session)


def process_due(state: State) -> None:
    """Expire open sessions past ``expires_at``; confirm wallet payments whose auto-confirm delay has passed."""
    now = state.now()
    for session in state.all("checkout.session"):
        if session["status"] == "open" and session["expires_at"] <= now:
            expire(state, session)
    for job in [job for job in state.async_jobs if job["due"] <= now]:
        session = state.get("checkout.session", job["session"])
        settle_async(state, session, True)
