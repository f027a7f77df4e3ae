"""The WSGI app: routing, API-key check, injected faults, idempotency, JSON answers; and ``serve()``.

An API request goes: authenticate (``sk_test_…`` as Bearer or Basic, else 401) → the next injected fault, if any
(never stored) → decode the form → replay or refuse a known ``Idempotency-Key`` → run the handler under the state
lock → store the answer under the key. Faults and idempotency follow https://docs.stripe.com/idempotency.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from saas.billing.standin import catalog, checkout, control, events, pages, payments, subscription_api, subscriptions
from saas.billing.standin.params import parse_form
from saas.billing.standin.store import API_VERSION, StandinError, State, new_id
from saas.billing.standin.webhooks import Dispatcher

sub_api = subscription_api
API_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/v1/products", catalog.create_product),
    ("GET", "/v1/products", catalog.list_products),
    ("GET", "/v1/products/<id>", catalog.retrieve_product),
    ("POST", "/v1/products/<id>", catalog.update_product),
    ("POST", "/v1/prices", catalog.create_price),
    ("GET", "/v1/prices", catalog.list_prices),
    ("GET", "/v1/prices/<id>", catalog.retrieve_price),
    ("POST", "/v1/prices/<id>", catalog.update_price),
    ("POST", "/v1/customers", catalog.create_customer),
    ("GET", "/v1/customers", catalog.list_customers),
    ("GET", "/v1/customers/search", catalog.search_customers),
    ("GET", "/v1/customers/<id>", catalog.retrieve_customer),
    ("POST", "/v1/customers/<id>", catalog.update_customer),
    ("DELETE", "/v1/customers/<id>", catalog.delete_customer),
    ("POST", "/v1/checkout/sessions", checkout.create_session),
    ("GET", "/v1/checkout/sessions", checkout.list_sessions),
    ("GET", "/v1/checkout/sessions/<id>", checkout.retrieve_session),
    ("GET", "/v1/checkout/sessions/<id>/line_items", checkout.list_line_items),
    ("POST", "/v1/checkout/sessions/<id>/expire", checkout.expire_session),
    ("GET", "/v1/payment_intents", payments.list_payment_intents),
    ("GET", "/v1/payment_intents/<id>", payments.retrieve_payment_intent),
    ("GET", "/v1/charges", payments.list_charges),
    ("GET", "/v1/charges/<id>", payments.retrieve_charge),
    ("POST", "/v1/refunds", payments.create_refund),
    ("GET", "/v1/refunds", payments.list_refunds),
    ("GET", "/v1/refunds/<id>", payments.retrieve_refund),
    ("POST", "/v1/subscriptions", sub_api.create_subscription),
    ("GET", "/v1/subscriptions", sub_api.list_subscriptions),
    ("GET", "/v1/subscriptions/<id>", sub_api.retrieve_subscription),
    ("POST", "/v1/subscriptions/<id>", sub_api.update_subscription),
    ("DELETE", "/v1/subscriptions/<id>", sub_api.cancel_subscription),
    ("GET", "/v1/invoices", sub_api.list_invoices),
    ("GET", "/v1/invoices/<id>", sub_api.retrieve_invoice),
    ("GET", "/v1/invoices/<id>/lines", sub_api.list_invoice_lines),
    ("POST", "/v1/invoices/<id>/pay", sub_api.pay_invoice_api),
    ("GET", "/v1/invoice_payments", sub_api.list_invoice_payments),
    ("POST", "/v1/billing_portal/sessions", sub_api.create_portal_session),
    ("GET", "/v1/events", events.list_events),
    ("GET", "/v1/events/<id>", events.retrieve_event),
]
PAGE_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/pay/<id>", pages.pay_page),
    ("POST", "/pay/<id>/pay", pages.pay_submit),
    ("POST", "/pay/<id>/cancel", pages.pay_cancel),
    ("GET", "/pay/<id>/wait", pages.wait_page),
    ("POST", "/pay/<id>/async", pages.async_submit),
    ("GET", "/portal/<id>", pages.portal_page),
    ("POST", "/portal/<id>/action", pages.portal_action),
    ("GET", "/static/standin.css", pages.stylesheet),
]
FAULT_BODIES = {
    409: ("invalid_request_error", "lock_timeout", "(stand-in fault) This object is locked by another request."),
    429: ("invalid_request_error", "rate_limit", "(stand-in fault) Too many requests hit the API too quickly."),
    400: ("invalid_request_error", "parameter_invalid", "(stand-in fault) Bad request."),
    402: ("card_error", "card_declined", "(stand-in fault) Your card was declined."),
}


def _api_key(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[0]
        except ValueError:
            return None
    return None


def json_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False, indent=2), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class StandinApp:
    """The stand-in as a WSGI callable around one ``State`` and one webhook ``Dispatcher``."""

    def __init__(self, state: State, dispatcher: Dispatcher, base_url: str, api_key: str | None = None) -> None:
        self.state, self.dispatcher, self.api_key = state, dispatcher, api_key
        self.settings = {"base_url": base_url, "async_auto_confirm_ms": state.settings.get("async_auto_confirm_ms", 0)}
        state.settings["base_url"] = base_url
        self.faults: list[dict[str, Any]] = []
        self.requests: collections.deque[dict[str, Any]] = collections.deque(maxlen=2000)
        rules = [Rule(p, methods=[m], endpoint=("api", f)) for m, p, f in API_ROUTES]
        rules += [Rule(p, methods=[m], endpoint=("page", f)) for m, p, f in PAGE_ROUTES]
        rules += [Rule(p, methods=[m], endpoint=("control", f)) for m, p, f in control.ROUTES]
        self.url_map = Map(rules, strict_slashes=False)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            (kind, handler), args = self.url_map.bind_to_environ(environ).match()
        except (NotFound, MethodNotAllowed):
            response = self._unknown(request)
        else:
            if kind == "api":
                response = self.api(request, handler, args)
            elif kind == "control":
                response = self.control(request, handler, args)
            else:
                response = handler(self.state, request, **args)
        return response(environ, start_response)

    def _unknown(self, request: Request) -> Response:
        if request.path.startswith("/v1/") or request.path.startswith("/_test/"):
            error = StandinError(f"Unrecognized request URL ({request.method}: {request.path}).", status=404)
            return json_response(error.body(), 404)
        return pages.not_found(request)

    def control(self, request: Request, handler: Any, args: dict[str, str]) -> Response:
        try:
            body = request.get_json(silent=True) if request.data else {}
            if body is None or not isinstance(body, dict):
                raise StandinError("the control API takes a JSON object")
            body = {**request.args.to_dict(), **body}
            return json_response(handler(self, body, **args))
        except StandinError as exc:
            return json_response(exc.body(), exc.status)

    # --- the Stripe API ---------------------------------------------------------------------------------------

    def api(self, request: Request, handler: Any, args: dict[str, str]) -> Response:
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        log = {"id": new_id("req", 14), "method": request.method, "path": request.path, "idempotency_key": key}
        log.update(stripe_version=request.headers.get("Stripe-Version"), at=time.time(), fault=None, replayed=False)
        self.requests.append(log)
        headers = {"Request-Id": log["id"], "Stripe-Version": log["stripe_version"] or API_VERSION}
        if key:
            headers["Idempotency-Key"] = key
        api_key = _api_key(request)
        if not api_key or not api_key.startswith("sk_test_") or (self.api_key and api_key != self.api_key):
            log["status"] = 401
            return json_response(_auth_error(api_key).body(), 401, headers)
        fault = self.faults.pop(0) if self.faults else None
        if fault:
            log["fault"] = fault
            return self._fault(request, fault, headers, log)
        body = request.get_data(as_text=True) if request.method == "POST" else request.query_string.decode()
        params = parse_form(body)
        status, payload, replayed = self._execute(api_key, key, request, handler, args, params, log["id"])
        log.update(status=status, replayed=replayed)
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return json_response(payload, status, headers)

    def _execute(self, api_key: str, key: str | None, request: Request, handler: Any, args: dict[str, str],
                 params: dict[str, Any], request_id: str) -> tuple[int, dict[str, Any], bool]:  # fmt: skip
        record_key = hashlib.sha256(api_key.encode()).hexdigest()[:12] + ":" + key if key else None
        params_key = json.dumps([request.method, request.path, params], sort_keys=True)
        with self.state.transaction() as state:
            if key and len(key) > 255:
                return 400, StandinError("Idempotency-Key must be at most 255 characters.").body(), False
            record = state.idempotency.get(record_key) if record_key else None
            if record is not None:
                if record["params_key"] != params_key:
                    error = StandinError(
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    )
                    record["conflicts"] += 1
                    return 400, error.body(), False
                record["replays"] += 1
                return record["status"], record["body"], True
            state.current_request = {"id": request_id, "idempotency_key": key}
            try:
                status, payload = 200, handler(state, params, **args)
            except StandinError as exc:
                status, payload = exc.status, exc.body()
            finally:
                state.current_request = None
            if record_key and (status < 400 or status == 402):
                state.idempotency[record_key] = {
                    "key": key,
                    "method": request.method,
                    "path": request.path,
                    "params": params,
                    "params_key": params_key,
                    "status": status,
                    "body": payload,
                    "replays": 0,
                    "conflicts": 0,
                    "created": state.now(),
                }
            return status, payload, False

    def _fault(self, request: Request, fault: dict[str, Any], headers: dict[str, str], log: dict[str, Any]) -> Response:
        request.get_data()  # read the whole request first, as a real server would
        if fault.get("should_retry") is not None:
            headers["Stripe-Should-Retry"] = "true" if fault["should_retry"] else "false"
        if fault["status"] == "reset":
            log["status"] = "reset"  # before the reset: the client may read the log as soon as it sees the RST
            sock = request.environ.get("werkzeug.socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("stand-in fault: connection reset")  # werkzeug drops the connection quietly
        status = int(fault["status"])
        type_, code, message = FAULT_BODIES.get(status, ("api_error", None, "(stand-in fault) Something went wrong."))
        log["status"] = status
        return json_response(StandinError(message, status=status, type=type_, code=code).body(), status, headers)


def _auth_error(api_key: str | None) -> StandinError:
    if not api_key:
        message = "You did not provide an API key. Provide it in the Authorization header (Bearer auth)."
    else:
        message = f"Invalid API Key provided: {api_key[:8]}{'*' * max(0, len(api_key) - 12)}{api_key[-4:]}"
    return StandinError(message, status=401)


def tick(state: State) -> None:
    """Expire sessions, confirm wallets and renew subscriptions that fell due in real time."""
    with state.transaction():
        checkout.process_due(state)
        subscriptions.process_due(state)


def serve(host: str, port: int, state: State, dispatcher: Dispatcher, api_key: str | None = None) -> None:
    """Serve until interrupted (threaded: a webhook receiver may call back while a delivery waits for it)."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the Stripe stand-in binds to the loopback interface only")
    server = make_server(host, port, None, threaded=True)  # bind first: port 0 picks a free port
    base_url = f"http://{host}:{server.server_port}"
    server.app = StandinApp(state, dispatcher, base_url, api_key)
    stop = threading.Event()

    def ticker() -> None:
        while not stop.wait(1.0):
            try:
                tick(state)
            except Exception:  # noqa: BLE001 - a tick must never kill the server
                pass

    threading.Thread(target=ticker, name="standin-clock", daemon=True).start()
    print(f"Stripe stand-in listening on {base_url}", flush=True)
    try:
        server.serve_forever()
    finally:
        stop.set()
        dispatcher.stop()
        server.server_close()
