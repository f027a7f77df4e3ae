"""Signed webhook delivery with retries, and the knobs that make it misbehave on purpose.

Each batch of events (those one request or clock tick emitted) is scheduled together, so ``order`` reorders within a
batch; ``hold`` collects batches until ``release`` delivers them as one. One worker thread delivers in due order
(``parallel`` sends each due group at once from several threads) and never holds the state lock while it waits on
the receiver, which may call the stand-in back.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import random
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from saas.billing.standin.store import State, public

STALE_SECONDS = 600  # twice the 300 s tolerance of stripe.Webhook.construct_event
COUNTED = ("bad_signature", "stale_timestamp", "drop")  # int: the next N deliveries (events for drop); true: all
DEFAULT_KNOBS: dict[str, Any] = {
    "duplicate": 1,
    "order": "in_order",
    "seed": None,
    "delay_ms": 0,
    "hold": False,
    "parallel": False,
    "bad_signature": 0,
    "stale_timestamp": 0,
    "drop": 0,
    "drop_types": [],
    "max_attempts": 6,
    "retry_base_ms": 500,
    "timeout_s": 10,
}
ORDERS = ("in_order", "reverse", "shuffle")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the receiver is local: never via a proxy


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe sends: ``t=…,v1=hex(hmac_sha256(secret, f"{t}.{payload}"))``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class Dispatcher:
    def __init__(self, state: State, url: str | None, secret: str | None, **defaults: Any) -> None:
        self.state = state
        self.defaults = {**DEFAULT_KNOBS, **defaults, "url": url, "secret": secret}
        self.cond = threading.Condition()
        self._ticket = itertools.count()
        self._stop = False
        self.reset()
        state.on_batch = self.on_batch
        self.thread = threading.Thread(target=self._run, name="standin-webhooks", daemon=True)
        self.thread.start()

    def reset(self) -> None:
        with self.cond:
            self.knobs: dict[str, Any] = json.loads(json.dumps(self.defaults))
            self.queue: list[tuple[float, int, dict[str, Any]]] = []
            self.held: list[str] = []
            self.deliveries: list[dict[str, Any]] = []
            self.dropped: list[str] = []
            self.inflight = 0
            self.rng = random.Random(self.knobs["seed"])
            self.cond.notify_all()

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        unknown = set(changes) - set(self.knobs)
        if unknown:
            raise ValueError(f"unknown webhook knobs: {', '.join(sorted(unknown))}")
        if changes.get("order", "in_order") not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}")
        with self.cond:
            self.knobs.update(changes)
            if "seed" in changes:
                self.rng = random.Random(changes["seed"])
            self.cond.notify_all()
            return dict(self.knobs)

    def _take(self, knob: str) -> bool:
        value = self.knobs[knob]
        if value is True:
            return True
        if isinstance(value, int) and value > 0:
            self.knobs[knob] = value - 1
            return True
        return False

    # --- scheduling -------------------------------------------------------------------------------------------

    def on_batch(self, event_ids: list[str]) -> None:
        """Called by the state when a transaction that emitted events ends."""
        with self.cond:
            kept = []
            for event_id in event_ids:
                kind = self.state.objects["event"][event_id]["type"]
                wanted = not self.knobs["drop_types"] or kind in self.knobs["drop_types"]
                if wanted and self._take("drop"):
                    self.dropped.append(event_id)
                else:
                    kept.append(event_id)
            if self.knobs["hold"]:
                self.held.extend(kept)
            else:
                self._schedule(kept)

    def release(self) -> int:
        """Deliver every held event now, as one batch (so ``order`` applies across all of them)."""
        with self.cond:
            held, self.held = self.held, []
            self._schedule(held)
            return len(held)

    def deliver_again(self, event_id: str) -> None:
        with self.cond:
            self._push(time.monotonic(), {"event": event_id, "attempt": 1, "fault": None})

    def _schedule(self, event_ids: list[str]) -> None:
        items = [eid for eid in event_ids for _ in range(max(1, int(self.knobs["duplicate"])))]
        if self.knobs["order"] == "reverse":
            items.reverse()
        elif self.knobs["order"] == "shuffle":
            self.rng.shuffle(items)
        due = time.monotonic() + self.knobs["delay_ms"] / 1000
        for event_id in items:
            fault = "bad_signature" if self._take("bad_signature") else None
            if fault is None and self._take("stale_timestamp"):
                fault = "stale_timestamp"
            self._push(due, {"event": event_id, "attempt": 1, "fault": fault})

    def _push(self, due: float, item: dict[str, Any]) -> None:
        heapq.heappush(self.queue, (due, next(self._ticket), item))
        self.cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or in flight (held events do not count)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.queue or self.inflight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.2))
            return True

    def status(self) -> dict[str, Any]:
        with self.cond:
            return {
                "knobs": {k: v for k, v in self.knobs.items() if k != "secret"},
                "queued": len(self.queue),
                "held": list(self.held),
                "dropped": list(self.dropped),
                "inflight": self.inflight,
            }

    def stop(self) -> None:
        with self.cond:
            self._stop = True
            self.cond.notify_all()

    # --- the worker -------------------------------------------------------------------------------------------

    def _next_group(self) -> list[dict[str, Any]] | None:
        with self.cond:
            while not self._stop:
                now = time.monotonic()
                if self.queue and self.queue[0][0] <= now:
                    group = [heapq.heappop(self.queue)[2]]
                    if self.knobs["parallel"]:
                        while self.queue and self.queue[0][0] <= now:
                            group.append(heapq.heappop(self.queue)[2])
                    self.inflight += len(group)
                    return group
                self.cond.wait(min(self.queue[0][0] - now, 1.0) if self.queue else 1.0)
            return None

    def _run(self) -> None:
        while (group := self._next_group()) is not None:
            if len(group) == 1:
                self._deliver(group[0])
                continue
            threads = [threading.Thread(target=self._deliver, args=(item,)) for item in group]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

    def _deliver(self, item: dict[str, Any]) -> None:
        try:
            self._attempt(item)
        finally:
            with self.cond:
                self.inflight -= 1
                self.cond.notify_all()

    def _attempt(self, item: dict[str, Any]) -> None:
        with self.cond:
            url, secret, timeout = self.knobs["url"], self.knobs["secret"] or "", self.knobs["timeout_s"]
        with self.state.lock:
            event = self.state.objects["event"].get(item["event"])
            payload = json.dumps(public(event), indent=2, ensure_ascii=False).encode() if event else None
        if payload is None or not url:
            return
        timestamp = int(time.time()) - (STALE_SECONDS if item["fault"] == "stale_timestamp" else 0)
        key = secret + "_wrong" if item["fault"] == "bad_signature" else secret
        status, error = _post(url, payload, sign(payload, key, timestamp), timeout)
        ok = status is not None and 200 <= status < 300
        record = {
            "event": item["event"],
            "type": event["type"],
            "attempt": item["attempt"],
            "fault": item["fault"],
            "status": status,
            "error": error,
            "at": time.time(),
        }
        with self.cond:
            self.deliveries.append(record)
            del self.deliveries[:-5000]
            if not ok and item["attempt"] < int(self.knobs["max_attempts"]):
                delay = self.knobs["retry_base_ms"] / 1000 * 2 ** (item["attempt"] - 1)
                self._push(time.monotonic() + delay, {**item, "attempt": item["attempt"] + 1, "fault": None})
        if ok:
            with self.state.transaction():
                event["pending_webhooks"] = 0


def _post(url: str, payload: bytes, signature: str, timeout: float) -> tuple[int | None, str | None]:
    request = urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
