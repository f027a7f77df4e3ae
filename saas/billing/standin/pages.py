"""The hosted pages: ``/pay/<cs_id>`` (Checkout), the wallet wait page, and ``/portal/<bps_id>`` (Customer Portal).

Forms post back to the stand-in and answer with 303 redirects, like Stripe's pages, so Playwright and a person see
the same flow. Buttons carry stable ids (``#pay-card``, ``#pay-wechat_pay``, ``#async-confirm``, ``#cancel-<sub>``…).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from saas.billing.standin import checkout, subscriptions
from saas.billing.standin.store import StandinError, State, public
from saas.billing.standin.texts import helpers, pick_language

HERE = Path(__file__).resolve().parent
ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action *; frame-ancestors 'none'; base-uri 'none'"


def render(template: str, lang: str, status: int = 200, **context: Any) -> Response:
    html = ENV.get_template(template).render(**helpers(lang), **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def language(request: Request, locale: str | None = None) -> str:
    lang = request.args.get("lang") or request.form.get("lang")
    return pick_language(lang, locale, request.headers.get("Accept-Language"))


def not_found(request: Request) -> Response:
    lang = language(request)
    return render("message.html", lang, 404, title="404", message="not_found")


def success_url(session: dict[str, Any]) -> str | None:
    url = session.get("success_url")
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None


def _back(path: str, lang: str, **extra: str) -> Response:
    return redirect(f"{path}?{urlencode({'lang': lang, **extra})}", code=303)


# --- checkout -------------------------------------------------------------------------------------------------


def pay_page(state: State, request: Request, id: str) -> Response:
    with state.transaction():
        session = state.objects["checkout.session"].get(id)
        if session is None:
            return not_found(request)
        checkout.process_due(state)
        lang = language(request, session.get("locale"))
        error = request.args.get("error")
        email = session.get("customer_email") or ""
        if session.get("customer"):
            email = state.objects["customer"].get(session["customer"], {}).get("email") or email
        return render(
            "pay.html",
            lang,
            title=helpers(lang)["t"]("title_pay"),
            session=public(session),
            items=public(session["_line_items"]),
            error=error if error in ("declined",) else None,
            email=email or "tester@example.com",
            success_url=success_url(session),
        )


def pay_submit(state: State, request: Request, id: str) -> Response:
    method, _, outcome = request.form.get("choice", "").partition(":")
    lang = language(request)
    with state.transaction():
        session = state.objects["checkout.session"].get(id)
        if session is None:
            return not_found(request)
        try:
            result = checkout.pay(state, session, method, outcome or "success", request.form.get("email") or None)
        except StandinError:
            return _back(f"/pay/{id}", lang)
    if result == "declined":
        return _back(f"/pay/{id}", lang, error="declined")
    if method in checkout.ASYNC_METHODS:
        return _back(f"/pay/{id}/wait", lang)
    return redirect(success_url(session) or f"/pay/{id}?lang={lang}", code=303)


def pay_cancel(state: State, request: Request, id: str) -> Response:
    with state.lock:
        session = state.objects["checkout.session"].get(id)
    if session is None:
        return not_found(request)
    return redirect(session.get("cancel_url") or f"/pay/{id}", code=303)


def _qr(seed: str) -> list[bool]:
    """A 21×21 pattern that looks like a QR code (it encodes nothing)."""
    bits = "".join(f"{b:08b}" for b in hashlib.sha256(seed.encode()).digest() * 2)
    cells = []
    for row in range(21):
        for col in range(21):
            finder = any(r <= row < r + 7 and c <= col < c + 7 for r, c in ((0, 0), (0, 14), (14, 0)))
            if finder:
                r, c = row % 14 if row >= 14 else row, col % 14 if col >= 14 else col
                cells.append(r in (0, 6) or c in (0, 6) or (2 <= r <= 4 and 2 <= c <= 4))
            else:
                cells.append(bits[(row * 21 + col) % len(bits)] == "1")
    return cells


def wait_page(state: State, request: Request, id: str) -> Response:
    with state.transaction():
        session = state.objects["checkout.session"].get(id)
        if session is None or not session.get("payment_intent"):
            return not_found(request)
        checkout.process_due(state)
        intent = state.objects["payment_intent"][session["payment_intent"]]
        lang = language(request, session.get("locale"))
        if session["payment_status"] == "paid":
            return redirect(success_url(session) or f"/pay/{id}?lang={lang}", code=303)
        auto = any(job["session"] == id for job in state.async_jobs)
        failed = intent["status"] != "processing"
        return render(
            "wait.html",
            lang,
            title=helpers(lang)["t"]("pay_" + intent["_method"]),
            refresh=2 if auto and not failed else None,
            session=public(session),
            method=intent["_method"],
            qr=_qr(id),
            auto=auto,
            failed=failed,
            success_url=success_url(session),
        )


def async_submit(state: State, request: Request, id: str) -> Response:
    lang = language(request)
    succeeded = request.form.get("outcome") == "succeeded"
    with state.transaction():
        session = state.objects["checkout.session"].get(id)
        if session is None:
            return not_found(request)
        try:
            checkout.settle_async(state, session, succeeded)
        except StandinError:
            pass  # settled already (auto-confirm, the control API): show where it stands
    if succeeded and session["payment_status"] == "paid":
        return redirect(success_url(session) or f"/pay/{id}?lang={lang}", code=303)
    return _back(f"/pay/{id}/wait", lang)


# --- portal ---------------------------------------------------------------------------------------------------


def _sub_row(state: State, sub: dict[str, Any]) -> dict[str, Any]:
    item = sub["items"]["data"][0]
    price = item["price"]
    product = state.objects["product"].get(price["product"], {})
    return {
        **public(sub),
        "plan": price.get("nickname") or product.get("name") or price["id"],
        "amount": price["unit_amount"] * item["quantity"],
        "currency": price["currency"],
        "interval": price["recurring"]["interval"],
        "period_end": item["current_period_end"],
    }


def portal_page(state: State, request: Request, id: str) -> Response:
    with state.transaction():
        portal = state.objects["billing_portal.session"].get(id)
        if portal is None:
            return not_found(request)
        subscriptions.process_due(state)
        customer = state.get("customer", portal["customer"])
        lang = language(request, portal.get("locale"))
        subs = [_sub_row(state, s) for s in state.all("subscription") if s["customer"] == customer["id"]]
        invoices = [public(i) for i in state.all("invoice") if i["customer"] == customer["id"]]
        done = request.args.get("done")
        return render(
            "portal.html",
            lang,
            title=helpers(lang)["t"]("title_portal"),
            portal=public(portal),
            customer=public(customer),
            subs=subs,
            invoices=invoices,
            done=f"done_{done}" if done in ("cancel", "resume", "card") else None,
        )


def portal_action(state: State, request: Request, id: str) -> Response:
    lang = language(request)
    action = request.form.get("action")
    with state.transaction():
        portal = state.objects["billing_portal.session"].get(id)
        sub = state.objects["subscription"].get(request.form.get("subscription", ""))
        if portal is None or sub is None or sub["customer"] != portal["customer"]:
            return not_found(request)
        try:
            if action == "cancel":
                subscriptions.schedule_cancel(state, sub, True)
            elif action == "resume":
                subscriptions.schedule_cancel(state, sub, False)
            elif action == "update_card":
                subscriptions.recover(state, sub["customer"])
                action = "card"
        except StandinError:
            action = None
    return _back(f"/portal/{id}", lang, **({"done": action} if action else {}))


def stylesheet(state: State, request: Request) -> Response:
    response = Response((HERE / "static" / "standin.css").read_bytes(), mimetype="text/css")
    response.headers["Cache-Control"] = "max-age=300"
    return response
