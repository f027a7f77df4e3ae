"""Stripe's request conventions: form-encoded nesting, typed parameters, list pagination and ``expand[]``.

stripe-python encodes ``{"line_items": [{"price": "p", "quantity": 1}]}`` as ``line_items[0][price]=p&
line_items[0][quantity]=1``, booleans as ``true``/``false``, ``expand`` as ``expand[0]=…`` (the list iterator sends
``expand[]=…``), and ``None`` not at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from saas.billing.standin.store import StandinError, State, public

_SEGMENT = re.compile(r"\[([^\]]*)\]")
FREE_FORM = {"metadata"}  # keys under these are the caller's: "0", "1" stay dict keys
# (object kind, field) -> builder of a field Stripe leaves out unless expanded (checkout line_items, invoice payments)
INCLUDABLE: dict[tuple[str, str], Callable[[State, str], Any]] = {}


def parse_form(text: str) -> dict[str, Any]:
    """``a[b][0][c]=v`` pairs -> nested dicts and lists (lists where every key of a level is an index)."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        head, _, rest = raw_key.partition("[")
        path = [head] + (_SEGMENT.findall("[" + rest) if rest else [])
        node = root
        for i, segment in enumerate(path):
            last = i == len(path) - 1
            if segment == "":  # "expand[]": append
                segment = str(len(node))
            if last:
                node[segment] = value
            else:
                child = node.get(segment)
                if not isinstance(child, dict):
                    child = node[segment] = {}
                node = child
    return _listify(root, free=False)


def _listify(node: Any, free: bool) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, free=k in FREE_FORM) for k, v in node.items()}
    if not free and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


# --- typed access ---------------------------------------------------------------------------------------------


def as_int(params: dict[str, Any], key: str, default: int | None = None, *, param: str | None = None) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StandinError(f"Invalid integer: {value}", param=param or key) from None


def as_bool(params: dict[str, Any], key: str, default: bool | None = None) -> bool | None:
    value = params.get(key)
    if value is None or value == "":
        return default
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StandinError(f"Invalid boolean: {value}", param=key)


def as_list(params: dict[str, Any], key: str) -> list[Any]:
    value = params.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, dict):  # a single "key[x]" that was not an index
        return list(value.values())
    return value if isinstance(value, list) else [value]


def metadata(params: dict[str, Any], current: dict[str, str] | None = None, key: str = "metadata") -> dict[str, str]:
    """Merge ``metadata[k]=v`` into ``current`` as Stripe does: an empty value (or ``metadata=""``) unsets."""
    result = dict(current or {})
    given = params.get(key)
    if given is None:
        return result
    if given == "":
        return {}
    if not isinstance(given, dict):
        raise StandinError("Invalid hash", param=key)
    for k, v in given.items():
        if v == "":
            result.pop(k, None)
        else:
            result[k] = str(v)
    return result


def require(params: dict[str, Any], key: str) -> Any:
    value = params.get(key)
    if value is None or value == "":
        raise StandinError(f"Missing required param: {key}.", code="parameter_missing", param=key)
    return value


def choice(params: dict[str, Any], key: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    value = params.get(key, default)
    if value is not None and value not in allowed:
        raise StandinError(
            f"Invalid {key}: must be one of {', '.join(allowed)}", code="parameter_invalid_string", param=key
        )
    return value


# --- lists and expand -----------------------------------------------------------------------------------------


def paginate(objs: list[dict[str, Any]], params: dict[str, Any], url: str, state: State) -> dict[str, Any]:
    """A Stripe list object over ``objs`` (newest first) with ``limit``, ``starting_after`` and ``ending_before``."""
    limit = as_int(params, "limit", 10)
    if not 1 <= limit <= 100:
        raise StandinError("Invalid limit: must be between 1 and 100", param="limit")
    after, before = params.get("starting_after"), params.get("ending_before")
    if after:
        window = objs[_cursor(state, objs, after, "starting_after") + 1 :]
        page, has_more = window[:limit], len(window) > limit
    elif before:
        window = objs[: _cursor(state, objs, before, "ending_before", before=True)]
        page, has_more = window[-limit:], len(window) > limit
    else:
        page, has_more = objs[:limit], len(objs) > limit
    listing = {"object": "list", "data": [public(o) for o in page], "has_more": has_more, "url": url}
    return expand(state, listing, params)


def _cursor(state: State, objs: list[dict[str, Any]], cursor: str, param: str, before: bool = False) -> int:
    """Where ``cursor`` sits in ``objs`` (newest first), also when a filter left it out, as Stripe allows."""
    ids = [obj["id"] for obj in objs]
    if cursor in ids:
        return ids.index(cursor)
    target = state.find(cursor)
    if target is None or "_n" not in target:
        raise StandinError(f"No such object: '{cursor}'", status=404, code="resource_missing", param=param)
    newer = sum(1 for obj in objs if obj.get("_n", 0) > target["_n"])
    return newer if before else newer - 1


def list_object(items: list[dict[str, Any]], url: str) -> dict[str, Any]:
    """A complete embedded list (``subscription.items``, ``invoice.lines``)."""
    return {"object": "list", "data": items, "has_more": False, "total_count": len(items), "url": url}


def expand(state: State, obj: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Replace the ids named by ``expand[]`` (dotted paths, ``data.`` for lists) with the objects themselves."""
    for path in as_list(params, "expand"):
        _expand_path(state, obj, str(path).split("."), str(path))
    return obj


def _expand_path(state: State, node: Any, parts: list[str], full: str) -> None:
    if isinstance(node, list):
        for item in node:
            _expand_path(state, item, parts, full)
        return
    if not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    build = INCLUDABLE.get((node.get("object"), head))
    if head not in node and build is not None:
        node[head] = build(state, node["id"])
    if head not in node:
        raise StandinError(f"This property cannot be expanded ({full}).", param="expand")
    value = node[head]
    if isinstance(value, str):
        target = state.find(value)
        if target is None:
            raise StandinError(f"This property cannot be expanded ({full}).", param="expand")
        value = node[head] = public(target)
    if rest:
        _expand_path(state, value, rest, full)
