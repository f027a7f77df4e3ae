"""Products, prices (with ``lookup_key``) and customers (with a small ``search``), and seeding from a file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from saas.billing.standin.params import as_bool, as_int, as_list, choice, expand, metadata, paginate, require
from saas.billing.standin.store import StandinError, State, public


def view(state: State, obj: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return expand(state, public(obj), params)


# --- products -------------------------------------------------------------------------------------------------


def add_product(state: State, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("id") and params["id"] in state.objects["product"]:
        raise StandinError(f"Product already exists with ID {params['id']}", code="resource_already_exists", param="id")
    product = {
        "name": require(params, "name"),
        "active": as_bool(params, "active", True),
        "description": params.get("description"),
        "metadata": metadata(params),
        "default_price": None,
        "images": [],
        "type": "service",
        "updated": state.now(),
    }
    if params.get("id"):
        product["id"] = params["id"]
    product = state.add("product", product)
    state.emit("product.created", product)
    return product


def create_product(state: State, params: dict[str, Any]) -> dict[str, Any]:
    return view(state, add_product(state, params), params)


def retrieve_product(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    return view(state, state.get("product", id), params)


def update_product(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    product = state.get("product", id)
    changes = {"metadata": metadata(params, product["metadata"])}
    for key in ("name", "description"):
        if key in params:
            changes[key] = params[key]
    if "active" in params:
        changes["active"] = as_bool(params, "active")
    previous = state.update(product, changes)
    if previous:
        product["updated"] = state.now()
        state.emit("product.updated", product, previous)
    return view(state, product, params)


def list_products(state: State, params: dict[str, Any]) -> dict[str, Any]:
    objs = state.all("product")
    if "active" in params:
        objs = [p for p in objs if p["active"] == as_bool(params, "active")]
    return paginate(objs, params, "/v1/products", state)


# --- prices ---------------------------------------------------------------------------------------------------


def _recurring(params: dict[str, Any]) -> dict[str, Any] | None:
    recurring = params.get("recurring")
    if not recurring:
        return None
    interval = choice(recurring, "interval", ("day", "week", "month", "year"))
    if interval is None:
        raise StandinError("Missing required param: recurring[interval].", param="recurring[interval]")
    return {
        "interval": interval,
        "interval_count": as_int(recurring, "interval_count", 1),
        "usage_type": "licensed",
        "meter": None,
        "trial_period_days": None,
    }


def _claim_lookup_key(state: State, key: str | None, transfer: bool, price_id: str | None = None) -> None:
    if not key:
        return
    for other in state.all("price"):
        if other.get("lookup_key") == key and other["id"] != price_id:
            if not transfer:
                raise StandinError(f"A price (`{other['id']}`) already uses that lookup key.", param="lookup_key")
            other["lookup_key"] = None


def add_price(state: State, params: dict[str, Any]) -> dict[str, Any]:
    currency = str(require(params, "currency")).lower()
    amount = as_int(params, "unit_amount")
    if amount is None or amount < 0:
        raise StandinError("Missing required param: unit_amount.", code="parameter_missing", param="unit_amount")
    if params.get("product_data"):
        product_id = add_product(state, params["product_data"])["id"]
    else:
        product_id = state.get("product", require(params, "product"), param="product")["id"]
    recurring = _recurring(params)
    _claim_lookup_key(state, params.get("lookup_key"), as_bool(params, "transfer_lookup_key", False))
    price = {
        "active": as_bool(params, "active", True),
        "billing_scheme": "per_unit",
        "currency": currency,
        "custom_unit_amount": None,
        "lookup_key": params.get("lookup_key") or None,
        "metadata": metadata(params),
        "nickname": params.get("nickname"),
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }
    if params.get("id"):
        price["id"] = params["id"]
    price = state.add("price", price)
    state.emit("price.created", price)
    return price


def create_price(state: State, params: dict[str, Any]) -> dict[str, Any]:
    return view(state, add_price(state, params), params)


def retrieve_price(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    return view(state, state.get("price", id), params)


def update_price(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    price = state.get("price", id)
    changes: dict[str, Any] = {"metadata": metadata(params, price["metadata"])}
    if "active" in params:
        changes["active"] = as_bool(params, "active")
    if "nickname" in params:
        changes["nickname"] = params["nickname"] or None
    if "lookup_key" in params:
        _claim_lookup_key(state, params["lookup_key"], as_bool(params, "transfer_lookup_key", False), price["id"])
        changes["lookup_key"] = params["lookup_key"] or None
    previous = state.update(price, changes)
    if previous:
        state.emit("price.updated", price, previous)
    return view(state, price, params)


def list_prices(state: State, params: dict[str, Any]) -> dict[str, Any]:
    objs = state.all("price")
    keys = as_list(params, "lookup_keys")
    if keys:
        objs = [p for p in objs if p.get("lookup_key") in keys]
    if "active" in params:
        objs = [p for p in objs if p["active"] == as_bool(params, "active")]
    for key in ("product", "currency", "type"):
        if params.get(key):
            objs = [p for p in objs if p[key] == params[key]]
    return paginate(objs, params, "/v1/prices", state)


# --- customers ------------------------------------------------------------------------------------------------

CUSTOMER_FIELDS = ("email", "name", "description", "phone", "preferred_locales")


def add_customer(state: State, params: dict[str, Any]) -> dict[str, Any]:
    customer: dict[str, Any] = {key: params.get(key) for key in CUSTOMER_FIELDS}
    customer.update(
        metadata=metadata(params),
        address=params.get("address"),
        balance=0,
        currency=None,
        default_source=None,
        delinquent=False,
        invoice_prefix=f"SI{state.next_number():06d}",
        invoice_settings={"default_payment_method": None, "custom_fields": None, "footer": None},
        preferred_locales=as_list(params, "preferred_locales"),
        tax_exempt="none",
    )
    customer = state.add("customer", customer)
    state.emit("customer.created", customer)
    return customer


def create_customer(state: State, params: dict[str, Any]) -> dict[str, Any]:
    return view(state, add_customer(state, params), params)


def retrieve_customer(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    obj = state.objects["customer"].get(id)
    if obj and obj.get("deleted"):
        return {"id": id, "object": "customer", "deleted": True}
    return view(state, state.get("customer", id), params)


def update_customer(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    customer = state.get("customer", id)
    changes: dict[str, Any] = {"metadata": metadata(params, customer["metadata"])}
    for key in ("email", "name", "description", "phone", "address"):
        if key in params:
            changes[key] = params[key] or None
    previous = state.update(customer, changes)
    if previous:
        state.emit("customer.updated", customer, previous)
    return view(state, customer, params)


def delete_customer(state: State, params: dict[str, Any], id: str) -> dict[str, Any]:
    customer = state.get("customer", id)
    customer["deleted"] = True
    state.emit("customer.deleted", customer)
    return {"id": id, "object": "customer", "deleted": True}


def list_customers(state: State, params: dict[str, Any]) -> dict[str, Any]:
    objs = state.all("customer")
    if params.get("email"):
        objs = [c for c in objs if c.get("email") == params["email"]]
    return paginate(objs, params, "/v1/customers", state)


_CLAUSE = re.compile(r"""^\s*(metadata\[['"]([^'"]+)['"]\]|email|name|phone)\s*:\s*['"]([^'"]*)['"]\s*$""")


def search_customers(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """``query`` with clauses ``metadata['k']:'v'``, ``email:'x'``, ``name:'x'`` joined by ``AND`` (exact match)."""
    clauses = []
    for part in re.split(r"\s+AND\s+", str(require(params, "query"))):
        match = _CLAUSE.match(part)
        if not match:
            raise StandinError(f"The stand-in cannot parse this search query clause: {part}", param="query")
        clauses.append((match.group(2), match.group(1), match.group(3)))

    def hit(customer: dict[str, Any]) -> bool:
        return all(
            (customer["metadata"].get(meta) if meta else customer.get(field)) == value for meta, field, value in clauses
        )

    objs = [c for c in state.all("customer") if hit(c)]
    limit = as_int(params, "limit", 10)
    page = objs[:limit]
    result = {
        "object": "search_result",
        "data": [public(c) for c in page],
        "has_more": len(objs) > limit,
        "next_page": None,
        "total_count": len(objs),
        "url": "/v1/customers/search",
    }
    return expand(state, result, params)


# --- seeding --------------------------------------------------------------------------------------------------


def load_seed(path: str | Path) -> dict[str, Any]:
    """Read a seed file (YAML or JSON, which is YAML): ``{"products": [{"id", "name", "prices": [{…}]}]}``."""
    data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    if not isinstance(data, dict) or not isinstance(data.get("products", []), list):
        raise ValueError(f"{path}: expected a mapping with a 'products' list")
    return data


def apply_seed(state: State, seed: dict[str, Any]) -> None:
    """Create the seed's products and prices (ids and lookup keys as given); existing ids are left alone.

    Seeding is not news: it leaves no events (and so sends no webhooks), like a catalogue set up long ago."""
    before = set(state.objects["event"])
    for product in seed.get("products", []):
        prices = product.get("prices", [])
        fields = {k: v for k, v in product.items() if k != "prices"}
        if fields.get("id") not in state.objects["product"]:
            add_product(state, fields)
        product_id = fields.get("id") or state.all("product")[0]["id"]
        for price in prices:
            if price.get("id") in state.objects["price"]:
                continue
            add_price(state, {**price, "product": product_id, "transfer_lookup_key": "true"})
    for event_id in set(state.objects["event"]) - before:
        del state.objects["event"][event_id]
    state.discard_batch(before)
