"""The control and fault API under ``/_test/`` (not Stripe's): JSON in, JSON out, no API key.

Tests and testers use it to reset, seed, move the clock, complete checkouts, renew or fail subscriptions, inject
faults into the next API answers, bend webhook delivery, and read what happened (requests, idempotency keys,
deliveries). docs/stripe-standin.md lists every route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from saas.billing.standin import catalog, checkout, subscriptions
from saas.billing.standin.store import StandinError, public

if TYPE_CHECKING:
    from saas.billing.standin.server import StandinApp

CARD_OUTCOMES = ("ok", "decline", "requires_action")
COMPLETE_OUTCOMES = ("success", "decline", "pending", "async_failure")


def _number(body: dict[str, Any], key: str, default: float = 0) -> float:
    value = body.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise StandinError(f"{key} must be a number", param=key)
    return value


def reset(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    with app.state.transaction():
        app.state.clear()
        app.state.settings.update(app.settings)
        app.faults.clear()
        app.requests.clear()
        app.dispatcher.reset()
        if app.state.seed:
            catalog.apply_seed(app.state, app.state.seed)
    return {"reset": True}


def seed(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    with app.state.transaction():
        catalog.apply_seed(app.state, body)
    return {"products": len(app.state.all("product")), "prices": len(app.state.all("price"))}


def faults(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    """``{"next": [500, 429, 409, "reset", {"status": 500, "should_retry": false}]}`` for the next API requests."""
    entries = body.get("next", [])
    if not isinstance(entries, list):
        raise StandinError("next must be a list", param="next")
    for entry in entries:
        spec = entry if isinstance(entry, dict) else {"status": entry}
        if spec.get("status") != "reset" and spec.get("status") not in (400, 402, 409, 429, 500, 502, 503):
            raise StandinError(f"unsupported fault: {entry!r}", param="next")
        app.faults.append(spec)
    return {"pending": list(app.faults)}


def clear_faults(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    app.faults.clear()
    return {"pending": []}


def webhooks(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    if body:
        try:
            app.dispatcher.configure(body)
        except ValueError as exc:
            raise StandinError(str(exc)) from None
    return app.dispatcher.status()


def release(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("hold") is not None:
        app.dispatcher.configure({"hold": bool(body["hold"])})
    return {"released": app.dispatcher.release()}


def wait(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    return {"idle": app.dispatcher.wait_idle(min(_number(body, "timeout", 10), 60))}


def deliveries(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    with app.dispatcher.cond:
        rows = list(app.dispatcher.deliveries)
    if body.get("event"):
        rows = [r for r in rows if r["event"] == body["event"]]
    return {"data": rows}


def redeliver(app: StandinApp, body: dict[str, Any], id: str) -> dict[str, Any]:
    with app.state.lock:
        app.state.get("event", id)
    app.dispatcher.deliver_again(id)
    return {"queued": id}


def clock(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    return {"now": app.state.now(), "offset": app.state.clock_offset}


def advance(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    """Move the clock by ``seconds`` + ``days`` (or ``to`` a timestamp), then renew/expire whatever fell due."""
    with app.state.transaction() as state:
        if "to" in body:
            delta = int(_number(body, "to")) - state.now()
        else:
            delta = int(_number(body, "seconds") + _number(body, "days") * 86400)
        if delta < 0:
            raise StandinError("the clock only moves forward", param="seconds")
        state.clock_offset += delta
        checkout.process_due(state)
        subscriptions.process_due(state)
        return {"now": state.now(), "offset": state.clock_offset}


def complete_session(app: StandinApp, body: dict[str, Any], id: str) -> dict[str, Any]:
    """Pay a checkout session as the hosted page would: ``method`` and ``outcome`` (see COMPLETE_OUTCOMES)."""
    outcome = body.get("outcome", "success")
    if outcome not in COMPLETE_OUTCOMES:
        raise StandinError(f"outcome must be one of {', '.join(COMPLETE_OUTCOMES)}", param="outcome")
    with app.state.transaction() as state:
        session = state.get("checkout.session", id)
        method = body.get("method") or session["payment_method_types"][0]
        wallet = method in checkout.ASYNC_METHODS
        result = checkout.pay(
            state, session, method, "decline" if outcome == "decline" else "success", body.get("email")
        )
        if wallet and outcome in ("success", "async_failure"):
            checkout.settle_async(state, session, outcome == "success")
        return {"result": result, "session": public(session)}


def settle(app: StandinApp, body: dict[str, Any], id: str) -> dict[str, Any]:
    """Settle a pending WeChat Pay / Alipay payment: ``{"outcome": "succeeded" | "failed"}``."""
    with app.state.transaction() as state:
        session = state.get("checkout.session", id)
        checkout.settle_async(state, session, body.get("outcome", "succeeded") == "succeeded")
        return {"session": public(session)}


def expire_session(app: StandinApp, body: dict[str, Any], id: str) -> dict[str, Any]:
    with app.state.transaction() as state:
        session = state.get("checkout.session", id)
        if session["status"] == "open":
            checkout.expire(state, session)
        return {"session": public(session)}


def renew(app: StandinApp, body: dict[str, Any], id: str) -> dict[str, Any]:
    outcome = body.get("outcome", "ok")
    if outcome not in CARD_OUTCOMES:
        raise StandinError(f"outcome must be one of {', '.join(CARD_OUTCOMES)}", param="outcome")
    with app.state.transaction() as state:
        sub = state.get("subscription", id)
        state.clock_offset += max(0, subscriptions.current_period(sub)[1] - state.now())
        invoice = subscriptions.renew(state, sub, outcome)
        return {"subscription": public(sub), "invoice": public(invoice) if invoice else None}


def fail_payment(app: StandinApp, body: dict[str, Any], id: str) -> dict[str, Any]:
    """The card stops working: retry an open invoice (or renew) with a failure; later charges fail too."""
    reason = body.get("reason", "decline")
    if reason not in ("decline", "requires_action"):
        raise StandinError("reason must be decline or requires_action", param="reason")
    with app.state.transaction() as state:
        sub = state.get("subscription", id)
        state.cards[sub["customer"]] = reason
        pending = subscriptions.open_invoices(state, sub)
        if pending:
            subscriptions.pay_invoice(state, pending[0], reason)
            invoice = pending[0]
        else:
            state.clock_offset += max(0, subscriptions.current_period(sub)[1] - state.now())
            invoice = subscriptions.renew(state, sub, reason)
        return {"subscription": public(sub), "invoice": public(invoice) if invoice else None}


def recover(app: StandinApp, body: dict[str, Any], id: str) -> dict[str, Any]:
    with app.state.transaction() as state:
        sub = state.get("subscription", id)
        paid = subscriptions.recover(state, sub["customer"])
        return {"subscription": public(sub), "invoices_paid": paid}


def cancel(app: StandinApp, body: dict[str, Any], id: str) -> dict[str, Any]:
    """End now (``customer.subscription.deleted``), or ``{"at_period_end": true}`` to schedule it."""
    with app.state.transaction() as state:
        sub = state.get("subscription", id)
        if body.get("at_period_end"):
            subscriptions.schedule_cancel(state, sub, True)
        elif sub["status"] != "canceled":
            subscriptions.end_subscription(state, sub)
        return {"subscription": public(sub)}


def card(app: StandinApp, body: dict[str, Any], id: str) -> dict[str, Any]:
    """How the customer's card answers off-session charges: ``ok``, ``decline`` or ``requires_action``."""
    outcome = body.get("outcome", "ok")
    if outcome not in CARD_OUTCOMES:
        raise StandinError(f"outcome must be one of {', '.join(CARD_OUTCOMES)}", param="outcome")
    with app.state.transaction() as state:
        state.get("customer", id)
        state.cards[id] = outcome
    return {"customer": id, "card": outcome}


def settings(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    with app.state.transaction() as state:
        if "async_auto_confirm_ms" in body:
            state.settings["async_auto_confirm_ms"] = int(_number(body, "async_auto_confirm_ms"))
        return {k: v for k, v in state.settings.items() if k != "base_url"}


def idempotency_keys(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    with app.state.lock:
        rows = [
            {k: v for k, v in record.items() if k not in ("body", "params_key")}
            for record in app.state.idempotency.values()
        ]
    return {"data": rows}


def requests(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(app.requests)}


def dump(app: StandinApp, body: dict[str, Any]) -> dict[str, Any]:
    with app.state.lock:
        return {"objects": public(app.state.objects), "clock_offset": app.state.clock_offset}


ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/_test/reset", reset),
    ("POST", "/_test/seed", seed),
    ("POST", "/_test/faults", faults),
    ("DELETE", "/_test/faults", clear_faults),
    ("GET", "/_test/webhooks", webhooks),
    ("POST", "/_test/webhooks", webhooks),
    ("POST", "/_test/webhooks/release", release),
    ("POST", "/_test/webhooks/wait", wait),
    ("GET", "/_test/webhooks/deliveries", deliveries),
    ("POST", "/_test/events/<id>/deliver", redeliver),
    ("GET", "/_test/clock", clock),
    ("POST", "/_test/clock/advance", advance),
    ("POST", "/_test/checkout_sessions/<id>/complete", complete_session),
    ("POST", "/_test/checkout_sessions/<id>/async", settle),
    ("POST", "/_test/checkout_sessions/<id>/expire", expire_session),
    ("POST", "/_test/subscriptions/<id>/renew", renew),
    ("POST", "/_test/subscriptions/<id>/fail_payment", fail_payment),
    ("POST", "/_test/subscriptions/<id>/recover", recover),
    ("POST", "/_test/subscriptions/<id>/cancel", cancel),
    ("POST", "/_test/customers/<id>/card", card),
    ("GET", "/_test/settings", settings),
    ("POST", "/_test/settings", settings),
    ("GET", "/_test/idempotency_keys", idempotency_keys),
    ("GET", "/_test/requests", requests),
    ("GET", "/_test/state", dump),
]
