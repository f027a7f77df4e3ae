"""Helpers for tests that use the Stripe stand-in: start it, aim the real client at it, receive its webhooks.

``Receiver`` is a tiny HTTP server that verifies every delivery with ``stripe.Webhook.construct_event`` and records
it; ``Standin`` bundles the stand-in's URL, a real ``stripe.StripeClient`` (``max_network_retries=2``) and
``control()`` for its ``/_test/`` API. The fixtures live in conftest.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import stripe

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk_test_standin_fixture_key"
WEBHOOK_SECRET = "whsec_standin_fixture_secret"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Delivery:
    event_id: str | None
    type: str | None
    verified: bool
    error: str | None
    signature: str
    status: int


@dataclass
class Receiver:
    """Answers 2xx to a correctly signed delivery and 400 otherwise (``fail_next`` answers 500 on purpose)."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    fail_next: int = 0
    fail_types: set[str] = field(default_factory=set)
    barrier: threading.Barrier | None = None  # deliveries wait here for each other (proves they are concurrent)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.deliveries.clear()
            self.fail_next = 0
            self.fail_types = set()
            self.barrier = None

    def verified(self, type: str | None = None) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.verified and (type is None or d.type == type)]

    def rejected(self) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if not d.verified]

    def handle(self, payload: bytes, signature: str) -> int:
        try:
            event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
            event_id, kind, verified, error = event.id, event.type, True, None
        except (stripe.SignatureVerificationError, ValueError) as exc:
            data = json.loads(payload or b"{}")
            event_id, kind, verified, error = data.get("id"), data.get("type"), False, str(exc)
        if verified and self.barrier is not None:
            try:
                self.barrier.wait(timeout=10)
            except threading.BrokenBarrierError:
                verified, error = False, "not delivered concurrently"
        with self.lock:
            status = 200 if verified else 400
            if verified and self.fail_next:
                self.fail_next -= 1
                status = 500
            elif verified and kind in self.fail_types:
                status = 500
            self.deliveries.append(Delivery(event_id, kind, verified, error, signature, status))
        return status


def receiver_server(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            payload = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.handle(payload, self.headers.get("Stripe-Signature", ""))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 - the success/cancel/return pages the stand-in redirects to
            body = f"<!doctype html><title>merchant</title><h1 id='merchant'>{self.path}</h1>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Standin:
    url: str
    client: stripe.StripeClient
    receiver: Receiver
    proc: subprocess.Popen[str] | None = None

    @property
    def merchant(self) -> str:
        """The receiver's base URL: use it for success/cancel/return URLs (it answers GET with a page)."""
        return self.receiver.url.rsplit("/", 1)[0]

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with NO_PROXY.open(request, timeout=70) as response:
            return json.loads(response.read())

    def wait(self, timeout: float = 30) -> None:
        """Wait until the stand-in has nothing queued or in flight for the receiver."""
        assert self.control("POST", "/_test/webhooks/wait", {"timeout": timeout})["idle"]

    def requests(self) -> list[dict[str, Any]]:
        return self.control("GET", "/_test/requests")["data"]


def start_standin(*extra: str, webhook_url: str | None = None) -> tuple[subprocess.Popen[str], str]:
    """Run ``python -m saas.billing.standin`` on a free port; return the process and its URL."""
    args = [sys.executable, "-m", "saas.billing.standin", "--host", "127.0.0.1", "--port", "0", "--quiet"]
    if webhook_url:
        args += ["--webhook-url", webhook_url, "--webhook-secret", WEBHOOK_SECRET]
    proc = subprocess.Popen([*args, *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"the Stripe stand-in did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1].strip()


def stop_standin(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


def make_client(url: str, api_key: str = API_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": url}, max_network_retries=2)


def wait_for(predicate: Any, timeout: float = 15, message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded); fail with ``message`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")
