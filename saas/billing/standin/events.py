"""Events: ``events.list`` (``type``/``types``, ``delivery_success``, ``created``, cursors) and ``events.retrieve``."""

from __future__ import annotations

import fnmatch
from typing import Any

from saas.billing.standin.params import as_bool, as_int, as_list, paginate
from saas.billing.standin.store import StandinError, State, public


def _created_filter(params: dict[str, Any]) -> list[tuple[str, int]]:
    created = params.get("created")
    if created is None:
        return []
    if not isinstance(created, dict):
        return [("eq", as_int(params, "created"))]
    return [(op, as_int(created, op, param=f"created[{op}]")) for op in ("gt", "gte", "lt", "lte") if op in created]


_OPS = {
    "eq": lambda a, b: a == b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def list_events(state: State, params: dict[str, Any]) -> dict[str, Any]:
    types = [str(t) for t in as_list(params, "types")]
    if params.get("type") and types:
        raise StandinError("You may only specify one of these parameters: type, types.", param="types")
    if len(types) > 20:
        raise StandinError("You may pass at most 20 values for types.", param="types")
    patterns = types or ([str(params["type"])] if params.get("type") else [])
    success = as_bool(params, "delivery_success")
    created = _created_filter(params)
    objs = []
    for event in state.all("event"):
        if patterns and not any(fnmatch.fnmatchcase(event["type"], p) for p in patterns):
            continue
        if success is not None and (event["pending_webhooks"] == 0) != success:
            continue
        if not all(_OPS[op](event["created"], value) for op, value in created):
            continue
        objs.append(event)
    return paginate(objs, params, "/v1/events", state)


def retrieve_event(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    return public(state.get("event", id))
