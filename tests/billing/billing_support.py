"""The app's side of billing tests: aim the app at the stand-in and deliver the stand-in's events to the webhook.

``Billing.deliver()`` lists the stand-in's events (the real client, oldest first) that the webhook has not been sent
yet and posts each to ``/billing/webhook`` signed exactly as Stripe signs (``t=…,v1=HMAC-SHA256("{t}.{body}")``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from standin_support import API_KEY, Standin

WEBHOOK_SECRET = "whsec_app_test_secret"


def sign(body: bytes, secret: str = WEBHOOK_SECRET, t: int | None = None) -> str:
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass
class Billing:
    app: Flask
    standin: Standin
    sent: set[str] = field(default_factory=set)

    def events(self, **params: Any) -> list[dict[str, Any]]:
        """Every event of the stand-in, oldest first."""
        out: list[dict[str, Any]] = []
        query: dict[str, Any] = {"limit": 100, **params}
        while True:
            page = self.standin.client.v1.events.list(params=query).to_dict(for_json=True)
            out.extend(page["data"])
            if not page["has_more"]:
                break
            query["starting_after"] = page["data"][-1]["id"]
        return list(reversed(out))

    def post(self, event: dict[str, Any], signature: str | None = None) -> Any:
        body = json.dumps(event).encode()
        headers = {"Stripe-Signature": signature if signature is not None else sign(body)}
        with self.app.test_client() as raw:
            return raw.post("/billing/webhook", data=body, headers=headers, content_type="application/json")

    def deliver(self, *, shuffle: random.Random | None = None, duplicates: float = 0.0) -> list[Any]:
        """Post the events not sent yet (optionally shuffled, with a share of duplicates); return the responses."""
        self.standin.wait()
        new = [e for e in self.events() if e["id"] not in self.sent]
        batch = list(new)
        if duplicates and shuffle is not None:
            batch += [shuffle.choice(new) for _ in range(int(len(new) * duplicates))]
        if shuffle is not None:
            shuffle.shuffle(batch)
        responses = []
        for event in batch:
            response = self.post(event)
            assert response.status_code == 200, (event["type"], response.status_code, response.get_data(as_text=True))
            responses.append(response)
            self.sent.add(event["id"])
        return responses

    def complete(self, session_url: str, method: str = "card", outcome: str = "success") -> str:
        session_id = session_url.rsplit("/", 1)[1]
        self.standin.control(
            "POST", f"/_test/checkout_sessions/{session_id}/complete", {"method": method, "outcome": outcome}
        )
        return session_id


def configure(app: Flask, standin: Standin, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "BILLING_ENABLED", True)
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", API_KEY)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET_OLD", None)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", standin.url)
