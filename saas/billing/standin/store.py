"""The stand-in's state: objects by kind, the clock, events, idempotency records, persisted as one JSON file.

Every change happens under ``State.lock`` (one request or one clock tick at a time). Events emitted while the lock is
held form a *batch*; when the outermost ``State.transaction()`` ends, the batch goes to the webhook dispatcher and the
state is saved. Keys starting with ``_`` in an object are the stand-in's own bookkeeping and never leave it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
import string
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

API_VERSION = "2026-10-28.endive"  # what the pinned stripe-python 16.1 sends; echoed when a request names another
ID_ALPHABET = string.ascii_letters + string.digits

# Object kind -> id prefix. The prefix also tells expand[] which collection an id belongs to.
PREFIXES = {
    "product": "prod",
    "price": "price",
    "customer": "cus",
    "checkout.session": "cs_test",
    "payment_intent": "pi",
    "charge": "ch",
    "refund": "re",
    "subscription": "sub",
    "invoice": "in",
    "billing_portal.session": "bps",
    "event": "evt",
}
KIND_BY_PREFIX = {prefix: kind for kind, prefix in PREFIXES.items()}
NAMES = {  # how Stripe names a kind in "No such …" messages
    "checkout.session": "checkout.session",
    "payment_intent": "payment_intent",
    "billing_portal.session": "billing portal session",
}


class StandinError(Exception):
    """An API error answered as Stripe does: ``{"error": {"type", "code", "message", "param"}}``."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.type, self.code, self.param = status, type, code, param
        self.message = message
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        error = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def public(obj: Any) -> Any:
    """A deep copy of ``obj`` without the stand-in's ``_`` bookkeeping keys: what the API and events show."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


class State:
    """All objects, the clock offset, events and idempotency records; optionally persisted to ``path``."""

    def __init__(self, path: str | Path | None = None, seed: dict[str, Any] | None = None) -> None:
        self.lock = threading.RLock()
        self.path = Path(path) if path else None
        self.seed = seed
        self.on_batch: Callable[[list[str]], None] = lambda ids: None
        self._depth = 0
        self._batch: list[str] = []
        self._saved: str | None = None
        self.clear()
        if self.path and self.path.exists():
            self._load(json.loads(self.path.read_text("utf-8")))

    # --- lifecycle --------------------------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything (the clock too); seeding is the caller's business."""
        self.objects: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in PREFIXES}
        self.clock_offset = 0
        self.event_seq = 0
        self.counter = 0
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, str] = {}  # customer id -> "ok" | "decline" | "requires_action" for off-session charges
        self.async_jobs: list[dict[str, Any]] = []  # {"session", "due"}: WeChat Pay / Alipay confirmations
        self.settings: dict[str, Any] = {"async_auto_confirm_ms": 0}

    def _load(self, data: dict[str, Any]) -> None:
        for kind, objs in data.get("objects", {}).items():
            self.objects.setdefault(kind, {}).update(objs)
        self.clock_offset = data.get("clock_offset", 0)
        self.event_seq = data.get("event_seq", 0)
        self.counter = data.get("counter", 0)
        self.idempotency = data.get("idempotency", {})
        self.cards = data.get("cards", {})
        self.async_jobs = data.get("async_jobs", [])
        self.settings.update(data.get("settings", {}))

    def dump(self) -> dict[str, Any]:
        return {
            "version": 1,
            "objects": self.objects,
            "clock_offset": self.clock_offset,
            "event_seq": self.event_seq,
            "counter": self.counter,
            "idempotency": self.idempotency,
            "cards": self.cards,
            "async_jobs": self.async_jobs,
            "settings": self.settings,
        }

    def save(self) -> None:
        if not self.path:
            return
        text = json.dumps(self.dump(), ensure_ascii=False)
        if text == self._saved:
            return  # the 1 s ticker found nothing to do: no write
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, self.path)
        self._saved = text

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        """Hold the lock; when the outermost block ends, save and hand the events it emitted to the dispatcher."""
        with self.lock:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
                if self._depth == 0:
                    batch, self._batch = self._batch, []
                    self.save()
                    if batch:
                        self.on_batch(batch)

    def discard_batch(self, keep: set[str]) -> None:
        """Forget the batched events that are not in ``keep`` (they were deleted before anyone heard of them)."""
        self._batch = [event_id for event_id in self._batch if event_id in keep]

    # --- clock and ids ----------------------------------------------------------------------------------------

    def now(self) -> int:
        """Seconds since the epoch on the stand-in's clock (real time + what /_test/clock/advance added)."""
        return int(time.time()) + self.clock_offset

    def next_number(self) -> int:
        self.counter += 1
        return self.counter

    # --- objects ----------------------------------------------------------------------------------------------

    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("id", new_id(PREFIXES[kind]))
        obj.setdefault("object", kind)
        obj.setdefault("created", self.now())
        obj.setdefault("livemode", False)
        obj["_n"] = self.next_number()  # insertion order: list cursors compare by it
        self.objects[kind][obj["id"]] = obj
        return obj

    def get(self, kind: str, obj_id: Any, param: str = "id") -> dict[str, Any]:
        obj = self.objects[kind].get(obj_id) if isinstance(obj_id, str) else None
        if obj is None or obj.get("deleted"):
            raise StandinError(
                f"No such {NAMES.get(kind, kind)}: '{obj_id}'", status=404, code="resource_missing", param=param
            )
        return obj

    def find(self, obj_id: str) -> dict[str, Any] | None:
        """The object behind an id of any kind (used by expand[])."""
        for prefix in sorted(KIND_BY_PREFIX, key=len, reverse=True):
            if obj_id.startswith(prefix + "_"):
                return self.objects[KIND_BY_PREFIX[prefix]].get(obj_id)
        return None

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Objects of a kind, newest first (the order Stripe lists them in)."""
        return [obj for obj in reversed(self.objects[kind].values()) if not obj.get("deleted")]

    def update(self, obj: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Apply top-level ``changes`` and return the ``previous_attributes`` an ``*.updated`` event carries."""
        previous = {}
        for key, value in changes.items():
            if obj.get(key) != value:
                previous[key] = copy.deepcopy(obj.get(key))
                obj[key] = value
        return previous

    # --- events -----------------------------------------------------------------------------------------------

    def emit(self, type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record an event with a snapshot of ``obj`` (and what changed); it joins the current webhook batch."""
        self.event_seq += 1
        data: dict[str, Any] = {"object": public(obj)}
        if previous:
            data["previous_attributes"] = public(previous)
        event = self.add(
            "event",
            {
                "id": new_id("evt"),
                "object": "event",
                "api_version": API_VERSION,
                "created": self.now(),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": type,
                "_seq": self.event_seq,
            },
        )
        event["request"] = dict(self.current_request or {"id": None, "idempotency_key": None})
        self._batch.append(event["id"])
        return event

    current_request: dict[str, Any] | None = None
