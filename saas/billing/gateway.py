"""The only module that imports ``stripe``: a thin gateway that hands plain dicts to the rest of billing.

Every POST carries a deterministic idempotency key chosen by the caller; ``max_network_retries`` is set explicitly
(stripe-python's client default would not retry). ``STRIPE_API_BASE`` aims the real client at the local stand-in.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import stripe

from saas.billing.errors import BillingUnavailable, GatewayError, SignatureInvalid

log = logging.getLogger(__name__)
TOLERANCE_S = 300


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict(for_json=True)


@dataclass
class Gateway:
    secret_key: str
    webhook_secrets: tuple[str, ...]
    api_base: str | None = None
    max_network_retries: int = 2
    _prices: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        options: dict[str, Any] = {"max_network_retries": self.max_network_retries}
        if self.api_base:
            options["base_addresses"] = {"api": self.api_base}
        self.client = stripe.StripeClient(self.secret_key, **options)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return _plain(fn(*args, **kwargs))
        except stripe.StripeError as exc:
            log.warning("stripe %s failed: %s", what, exc)
            raise GatewayError(what) from exc

    # --- outgoing POSTs (deterministic idempotency keys) ---------------------------------------------------------

    def create_customer(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        return self._call("customer", self.client.v1.customers.create, params=params, options={"idempotency_key": key})

    def create_checkout_session(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        return self._call(
            "checkout", self.client.v1.checkout.sessions.create, params=params, options={"idempotency_key": key}
        )

    def create_portal_session(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        return self._call(
            "portal", self.client.v1.billing_portal.sessions.create, params=params, options={"idempotency_key": key}
        )

    # --- reads --------------------------------------------------------------------------------------------------

    def price_id(self, lookup_key: str) -> str:
        """Return the id of the active price with ``lookup_key`` (cached per process)."""
        if lookup_key not in self._prices:
            found = self._call(
                "prices", self.client.v1.prices.list, params={"lookup_keys": [lookup_key], "active": True}
            )
            if not found["data"]:
                raise BillingUnavailable(f"no price with lookup_key {lookup_key}")
            self._prices[lookup_key] = found["data"][0]["id"]
        return self._prices[lookup_key]

    def checkout_session(self, session_id: str) -> dict[str, Any]:
        return self._call("checkout.retrieve", self.client.v1.checkout.sessions.retrieve, session_id)

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._call("subscription.retrieve", self.client.v1.subscriptions.retrieve, subscription_id)

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._call("invoice.retrieve", self.client.v1.invoices.retrieve, invoice_id)

    def payment_intent(self, intent_id: str) -> dict[str, Any]:
        return self._call("payment_intent.retrieve", self.client.v1.payment_intents.retrieve, intent_id)

    def charge(self, charge_id: str) -> dict[str, Any]:
        return self._call("charge.retrieve", self.client.v1.charges.retrieve, charge_id)

    def undelivered_events(self, types: list[str]) -> list[dict[str, Any]]:
        """Every event whose delivery failed, oldest first (Stripe keeps 30 days)."""
        events: list[dict[str, Any]] = []
        params: dict[str, Any] = {"types": types, "delivery_success": False, "limit": 100}
        while True:
            page = self._call("events.list", self.client.v1.events.list, params=params)
            events.extend(page["data"])
            if not page.get("has_more") or not page["data"]:
                break
            params["starting_after"] = page["data"][-1]["id"]
        return list(reversed(events))

    # --- incoming ------------------------------------------------------------------------------------------------

    def verify_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """Check the ``Stripe-Signature`` over the raw body with any current secret (300 s tolerance)."""
        if not signature or not self.webhook_secrets:
            raise SignatureInvalid("missing signature")
        for secret in self.webhook_secrets:
            try:
                stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, TOLERANCE_S)
            except (stripe.SignatureVerificationError, UnicodeDecodeError):
                continue
            try:
                return json.loads(payload)
            except ValueError as exc:
                raise SignatureInvalid("not JSON") from exc
        raise SignatureInvalid("bad signature")


_cache: dict[tuple[Any, ...], Gateway] = {}


def gateway_for(config: Any) -> Gateway:
    """Return the gateway for an app's config; ``BillingUnavailable`` when billing has no secret key."""
    key = config.get("STRIPE_SECRET_KEY")
    if not key or not config.get("BILLING_ENABLED", True):
        raise BillingUnavailable("no Stripe secret key")
    secrets = tuple(s for s in (config.get("STRIPE_WEBHOOK_SECRET"), config.get("STRIPE_WEBHOOK_SECRET_OLD")) if s)
    ident = (key, secrets, config.get("STRIPE_API_BASE"), int(config.get("STRIPE_MAX_NETWORK_RETRIES", 2)))
    if ident not in _cache:
        _cache[ident] = Gateway(key, secrets, ident[2], ident[3])
    return _cache[ident]
