"""Payment intents, charges and refunds: what a checkout or an invoice payment leaves behind, and refunds of it."""

from __future__ import annotations

from typing import Any

from saas.billing.standin.params import as_int, choice, expand, metadata, paginate
from saas.billing.standin.store import StandinError, State, public

METHODS = ("card", "wechat_pay", "alipay")
DECLINE = {"code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."}


def _method_details(method: str) -> dict[str, Any]:
    if method == "card":
        card = {
            "brand": "visa",
            "last4": "4242",
            "exp_month": 12,
            "exp_year": 2034,
            "country": "CN",
            "funding": "credit",
        }
        return {"type": "card", "card": card}
    return {"type": method, method: {}}


def start_payment(
    state: State,
    *,
    amount: int,
    currency: str,
    method: str,
    customer: str | None,
    description: str | None = None,
    meta: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A payment intent awaiting its outcome (``processing`` for the asynchronous wallets)."""
    return state.add(
        "payment_intent",
        {
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "customer": customer,
            "description": description,
            "last_payment_error": None,
            "latest_charge": None,
            "metadata": dict(meta or {}),
            "payment_method": None,
            "payment_method_types": [method],
            "status": "processing" if method != "card" else "requires_confirmation",
            "_method": method,
        },
    )


def succeed_payment(state: State, intent: dict[str, Any], email: str | None = None) -> dict[str, Any]:
    """Charge the intent: a succeeded charge, ``charge.succeeded`` and ``payment_intent.succeeded``."""
    method = intent["_method"]
    charge = state.add(
        "charge",
        {
            "amount": intent["amount"],
            "amount_captured": intent["amount"],
            "amount_refunded": 0,
            "billing_details": {"email": email, "name": None, "phone": None, "address": None},
            "captured": True,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "failure_code": None,
            "failure_message": None,
            "metadata": dict(intent["metadata"]),
            "paid": True,
            "payment_intent": intent["id"],
            "payment_method": f"pm_standin_{method}",
            "payment_method_details": _method_details(method),
            "receipt_email": email,
            "receipt_url": None,
            "refunded": False,
            "status": "succeeded",
        },
    )
    intent.update(
        status="succeeded",
        amount_received=intent["amount"],
        latest_charge=charge["id"],
        payment_method=f"pm_standin_{method}",
        last_payment_error=None,
    )
    state.emit("charge.succeeded", charge)
    state.emit("payment_intent.succeeded", intent)
    return charge


def fail_payment(state: State, intent: dict[str, Any], code: str = "card_declined") -> None:
    """The payment failed: ``payment_intent.payment_failed`` (the intent may be retried)."""
    if code == "authentication_required":
        error = {"code": code, "message": "This payment requires authentication (3D Secure).", "type": "card_error"}
        status = "requires_action"
    else:
        error = {**DECLINE, "type": "card_error"}
        status = "requires_payment_method"
    intent.update(status=status, last_payment_error=error)
    state.emit("payment_intent.payment_failed", intent)


def retrieve_payment_intent(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    return expand(state, public(state.get("payment_intent", id)), params)


def list_payment_intents(state: State, params: dict[str, Any]) -> dict[str, Any]:
    objs = state.all("payment_intent")
    if params.get("customer"):
        objs = [o for o in objs if o["customer"] == params["customer"]]
    return paginate(objs, params, "/v1/payment_intents", state)


def retrieve_charge(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    return expand(state, public(state.get("charge", id)), params)


def list_charges(state: State, params: dict[str, Any]) -> dict[str, Any]:
    objs = state.all("charge")
    for key in ("customer", "payment_intent"):
        if params.get(key):
            objs = [o for o in objs if o[key] == params[key]]
    return paginate(objs, params, "/v1/charges", state)


# --- refunds --------------------------------------------------------------------------------------------------


def _charge_for_refund(state: State, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("charge"):
        return state.get("charge", params["charge"], param="charge")
    if params.get("payment_intent"):
        intent = state.get("payment_intent", params["payment_intent"], param="payment_intent")
        if not intent["latest_charge"]:
            raise StandinError(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        return state.get("charge", intent["latest_charge"])
    raise StandinError("One of `charge` or `payment_intent` is required.", code="parameter_missing")


def create_refund(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """Refund all or ``amount`` of a charge: ``refund.created`` and ``charge.refunded`` with the new totals."""
    charge = _charge_for_refund(state, params)
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining <= 0:
        raise StandinError(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded", param="charge"
        )
    amount = as_int(params, "amount", remaining)
    if amount <= 0 or amount > remaining:
        raise StandinError(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
            param="amount",
        )
    refund = state.add(
        "refund",
        {
            "amount": amount,
            "charge": charge["id"],
            "currency": charge["currency"],
            "metadata": metadata(params),
            "payment_intent": charge["payment_intent"],
            "reason": choice(params, "reason", ("duplicate", "fraudulent", "requested_by_customer")),
            "status": "succeeded",
        },
    )
    previous = state.update(
        charge, {"amount_refunded": charge["amount_refunded"] + amount, "refunded": amount == remaining}
    )
    state.emit("refund.created", refund)
    state.emit("charge.refunded", charge, previous)
    return expand(state, public(refund), params)


def retrieve_refund(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    return expand(state, public(state.get("refund", id)), params)


def list_refunds(state: State, params: dict[str, Any]) -> dict[str, Any]:
    objs = state.all("refund")
    for key in ("charge", "payment_intent"):
        if params.get(key):
            objs = [o for o in objs if o[key] == params[key]]
    return paginate(objs, params, "/v1/refunds", state)
