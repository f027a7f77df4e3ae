"""Favourites and the comparison list.

Favourites are the user's rows (no firm owns them). The comparison list lives in the signed session cookie so that
visitors can compare before they register; it holds product ids only, at most ``COMPARE_MAX``, and every read goes
through the public read model, so a product that is unpublished meanwhile simply drops out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from saas.core.domain import LimitReached
from saas.marketplace.catalog import Attribute, default_catalog
from saas.marketplace.catalog.attributes import format_number, format_value
from saas.marketplace.search import products_by_ids
from saas.models import Favourite, Product, User
from saas.models import ProductListing as L
from saas.web.filters import sale_unit_label as unit_label
from saas.web.pagination import page_count

SESSION_KEY = "compare"


def _published_by_ids(dbs: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Product]:
    if not ids:
        return {}

    # the listing (keyed by product id, published only) gives the firm half of the products' primary key
    keys = [(row[0], row[1]) for row in dbs.execute(select(L.firm_id, L.product_id).where(L.product_id.in_(ids)))]
    return {p.id: p for p in products_by_ids(dbs, keys)}


# --- Favourites -------------------------------------------------------------------------------------------------


def is_favourite(dbs: Session, user: User, product_id: uuid.UUID) -> bool:
    return dbs.get(Favourite, (user.id, product_id)) is not None


def toggle_favourite(dbs: Session, user: User, product: Product, want: bool | None = None) -> bool:
    """Save or unsave a published product; return whether it is saved now.

    ``want`` is the state the button asked for (the page knew it): a second click or a retried request then leaves
    it as asked instead of toggling it back. Without it, the request toggles.
    """
    existing = dbs.get(Favourite, (user.id, product.id))
    if want is not None and want == (existing is not None):
        return want
    if existing is not None:
        dbs.delete(existing)
        dbs.flush()
        return False
    dbs.add(Favourite(user_id=user.id, product_id=product.id, product_firm_id=product.firm_id))
    dbs.flush()
    return True


@dataclass
class FavouritesPage:
    products: list[Product]  # still published, newest saved first
    gone: int  # saved products that are no longer public
    total: int
    pages: int


def favourites(dbs: Session, user: User, page: int, per_page: int) -> FavouritesPage:
    """One page of the user's saved products."""
    total = dbs.scalar(select(func.count()).select_from(Favourite).where(Favourite.user_id == user.id)) or 0
    ids = list(
        dbs.scalars(
            select(Favourite.product_id)
            .where(Favourite.user_id == user.id)
            .order_by(Favourite.created_at.desc(), Favourite.product_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    found = _published_by_ids(dbs, ids)
    return FavouritesPage(
        [found[i] for i in ids if i in found], len(ids) - len(found), total, page_count(total, per_page)
    )


def forget_gone(dbs: Session, user: User) -> int:
    """Remove saved products that are no longer public; return how many."""
    ids = list(dbs.scalars(select(Favourite.product_id).where(Favourite.user_id == user.id)))
    gone = set(ids) - set(_published_by_ids(dbs, ids))
    if gone:
        dbs.execute(delete(Favourite).where(Favourite.user_id == user.id, Favourite.product_id.in_(gone)))
    return len(gone)


# --- Comparison -------------------------------------------------------------------------------------------------


def compare_ids(session: Any) -> list[uuid.UUID]:
    """The ids in the comparison list (malformed entries are dropped)."""
    ids = []
    for raw in session.get(SESSION_KEY, []):
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return ids


class CompareFull(LimitReached):
    """The comparison list already holds the maximum number of products."""


def add_to_compare(session: Any, product_id: uuid.UUID, limit: int) -> None:
    ids = compare_ids(session)
    if product_id in ids:
        return
    if len(ids) >= limit:
        raise CompareFull()
    session[SESSION_KEY] = [str(i) for i in [*ids, product_id]]


def remove_from_compare(session: Any, product_id: uuid.UUID) -> None:
    session[SESSION_KEY] = [str(i) for i in compare_ids(session) if i != product_id]


@dataclass
class Row:
    label: str
    cells: list[str]
    differs: bool


@dataclass
class Comparison:
    products: list[Product]
    rows: list[Row]


def comparison(dbs: Session, session: Any, lang: str, formatters: dict[str, Any]) -> Comparison:
    """Build the side-by-side table: ordering terms first, then the union of the products' attributes.

    ``formatters`` holds the web layer's localised pieces: ``labels`` (row labels), ``yes``/``no``, ``on_request``.
    """

    ids = compare_ids(session)
    found = _published_by_ids(dbs, ids)
    products = [found[i] for i in ids if i in found]
    if len(products) != len(ids):
        session[SESSION_KEY] = [str(p.id) for p in products]  # unpublished meanwhile: drop quietly
    labels = formatters["labels"]
    rows = [
        Row(labels["supplier"], [p.firm.name for p in products], False),
        Row(labels["moq"], [f"{format_number(p.moq)} {unit_label(p.sale_unit)}" for p in products], False),
        Row(labels["price"], [_price(p, formatters) for p in products], False),
        Row(labels["lead_time"], [str(p.lead_time_days) for p in products], False),
        Row(
            labels["samples"], [formatters["yes"] if p.samples_available else formatters["no"] for p in products], False
        ),
    ]
    catalog = default_catalog()
    seen: dict[str, Attribute] = {}
    for p in products:
        for attr in catalog.attributes_for(p.category_slug):
            seen.setdefault(attr.id, attr)
    for attr in seen.values():
        cells = [format_value(attr, p.attributes[attr.id], lang) if attr.id in p.attributes else "—" for p in products]
        if any(c != "—" for c in cells):
            rows.append(Row(attr.label.get(lang), cells, False))
    for row in rows:
        row.differs = len(set(row.cells)) > 1
    return Comparison(products, rows)


def _price(product: Product, formatters: dict[str, Any]) -> str:
    if product.price_on_request or not product.price_tiers:
        return formatters["on_request"]
    lowest = min(product.price_tiers, key=lambda t: float(t["price"]))
    return f"¥{lowest['price']} (≥ {lowest['min_qty']})"
