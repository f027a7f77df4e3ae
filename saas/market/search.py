"""Marketplace search: one pipeline (saas/search/text.py), two backends, disjunctive facets.

Queries run on ``product_listings``, the public read model of published products kept by database triggers (see
``saas.models.product.ProductListing``); only the page's 20 products are then loaded from ``products`` by key.
The fixed facets (category, county, verified, MOQ range) and the total come from **one grouped pass** over the
matching listings: each facet's disjunctive counts are then summed in Python from those groups.

The query is normalised and planned once; the plan renders as an FTS5 MATCH on SQLite (the ``product_fts`` external
content index) or as a tsquery against the GIN expression index on PostgreSQL. Both index the same space-joined terms
(``products.search_text``), so both backends return the same rows (tested on the same fixture).
Facet counts are disjunctive: each facet is counted with every other filter applied but not its own, so a chosen
facet still shows its alternatives. Facets: category (next level down), county, verified suppliers, MOQ range, and
once a category is chosen, every filterable attribute of its template (enum and multi-enum by option, numbers by the
template's bucket ranges). Attribute values live in the ``products.attributes`` JSON; they are read with the
dialect's JSON functions (``json_extract``/``json_each`` on SQLite, ``->>``/``json_array_elements_text`` on
PostgreSQL) over the candidate rows, which a chosen category already narrows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from saas.marketplace.attributes import format_number
from saas.marketplace.catalog import Attribute, UnknownCategory, default_catalog
from saas.models import Product, SearchMiss
from saas.models import ProductListing as L
from saas.reference import COUNTIES
from saas.search.text import normalise, query_plan, to_fts5, to_tsquery

SORTS = ("relevance", "newest", "moq")
#: MOQ ranges (in the product's own sale unit): (value, low inclusive, high exclusive).
MOQ_RANGES: tuple[tuple[str, Decimal | None, Decimal | None], ...] = (
    ("-100", None, Decimal(100)),
    ("100-500", Decimal(100), Decimal(500)),
    ("500-1000", Decimal(500), Decimal(1000)),
    ("1000-5000", Decimal(1000), Decimal(5000)),
    ("5000-", Decimal(5000), None),
)
MOQ_VALUES = tuple(r[0] for r in MOQ_RANGES)


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    industry: str | None = None
    category: str | None = None
    county: str | None = None
    verified: bool = False
    sort: str = "relevance"
    page: int = 1
    moq: tuple[str, ...] = ()  # chosen MOQ_VALUES (OR)
    # chosen attribute values: ((attribute id, (option ids or bucket values, …)), …); OR within, AND across
    attrs: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def chosen(self, attribute_id: str) -> tuple[str, ...]:
        return next((values for key, values in self.attrs if key == attribute_id), ())


@dataclass
class Facet:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class AttributeFacet:
    """One filterable attribute of the chosen category, with its options or ranges and their counts."""

    id: str
    label: str
    values: list[Facet]


@dataclass
class SearchResult:
    products: list[Product]
    total: int
    pages: int
    normalised: str
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    verified_count: int = 0
    attribute_facets: list[AttributeFacet] = field(default_factory=list)


def number_ranges(attr: Attribute) -> list[tuple[str, Decimal | None, Decimal | None]]:
    """The facet ranges of a number attribute from its template buckets: below the first, between each, above."""
    edges = list(attr.buckets)
    if not edges:
        return []
    ranges: list[tuple[str, Decimal | None, Decimal | None]] = [(f"-{format_number(edges[0])}", None, edges[0])]
    for low, high in zip(edges, edges[1:], strict=False):
        ranges.append((f"{format_number(low)}-{format_number(high)}", low, high))
    ranges.append((f"{format_number(edges[-1])}-", edges[-1], None))
    return ranges


def filterable(p: SearchParams) -> tuple[Attribute, ...]:
    """The attributes offered as facets: the chosen category's filterable ones (none without a category)."""
    if not p.category:
        return ()
    try:
        attributes = default_catalog().filterable_attributes(p.category)
    except (UnknownCategory, KeyError):
        return ()
    # a number attribute is a facet only with bucket ranges in its template
    return tuple(a for a in attributes if a.type != "number" or a.buckets)


def _in_range(column: ColumnElement[Any], low: Decimal | None, high: Decimal | None) -> ColumnElement[bool]:
    parts = []
    if low is not None:
        parts.append(column >= low)
    if high is not None:
        parts.append(column < high)
    return and_(*parts)


def _number_of(attr: Attribute) -> ColumnElement[Any]:
    return L.attributes[attr.id].as_float()


def _attribute_filter(dbs: Session, attr: Attribute, values: tuple[str, ...]) -> ColumnElement[bool] | None:
    if attr.type == "number":
        ranges = [r for r in number_ranges(attr) if r[0] in values]
        return or_(*(_in_range(_number_of(attr), low, high) for _v, low, high in ranges)) if ranges else None
    options = [o.id for o in attr.options if o.id in values]
    if not options:
        return None
    if attr.type == "enum":
        return L.attributes[attr.id].as_string().in_(options)
    items = _elements(dbs, attr)
    return exists(select(literal(1)).select_from(items).where(items.c.value.in_(options)))


def _elements(dbs: Session, attr: Attribute) -> Any:
    """A table-valued function over a multi-enum attribute's list of option ids (one row per chosen option)."""
    if dbs.get_bind().dialect.name == "postgresql":
        return func.json_array_elements_text(L.attributes[attr.id]).table_valued("value").alias(f"v_{attr.id}")
    return func.json_each(L.attributes, f"$.{attr.id}").table_valued("value").alias(f"v_{attr.id}")


def _match(dbs: Session, q: str) -> ColumnElement[bool] | None:
    plan = query_plan(q)
    if plan.is_empty:
        return None
    if dbs.get_bind().dialect.name == "postgresql":
        return text("product_listings.search_tokens @@ CAST(:tsq AS tsquery)").bindparams(tsq=to_tsquery(plan))
    # the listing's rowid is its product's rowid, which product_fts indexes
    return text("product_listings.rowid IN (SELECT rowid FROM product_fts WHERE product_fts MATCH :fts)").bindparams(
        fts=to_fts5(plan)
    )


def in_category(column: Any, slug: str) -> ColumnElement[bool]:
    """``column`` is ``slug`` or lies under it, as a range the category index can serve ('/' sorts just before '0')."""
    return (column == slug) | ((column >= slug + "/") & (column < slug + "0"))


def _moq_bucket() -> Any:
    return _bucket(L.moq, list(MOQ_RANGES))


def _base(dbs: Session, p: SearchParams, skip_attr: str | None = None) -> Select[Any]:
    """Listings matching the query text and the attribute filters (the fixed facets are applied separately)."""
    stmt = select(L.product_id)
    match = _match(dbs, p.q)
    if match is not None:
        stmt = stmt.where(match)
    for attr in filterable(p):
        chosen = p.chosen(attr.id)
        if chosen and attr.id != skip_attr:
            condition = _attribute_filter(dbs, attr, chosen)
            if condition is not None:
                stmt = stmt.where(condition)
    return stmt


def _category_filters(p: SearchParams) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if p.category:  # the category implies its industry
        conditions.append(in_category(L.category_slug, p.category))
    elif p.industry:
        conditions.append(L.industry == p.industry)
    return conditions


def _fixed_filters(p: SearchParams, skip: str | None = None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if skip != "category":
        conditions += _category_filters(p)
    if p.county and skip != "county":
        conditions.append(L.county == p.county)
    if p.verified and skip != "verified":
        conditions.append(L.verified.is_(True))
    ranges = [r for r in MOQ_RANGES if r[0] in p.moq]
    if ranges and skip != "moq":
        conditions.append(or_(*(_in_range(L.moq, low, high) for _v, low, high in ranges)))
    return conditions


@dataclass(frozen=True)
class _Group:
    industry: str
    category: str
    county: str
    verified: bool
    moq: str
    count: int


def _passes(g: _Group, p: SearchParams, skip: str) -> bool:
    if skip != "category":
        if p.category:
            if not (g.category == p.category or g.category.startswith(p.category + "/")):
                return False
        elif p.industry and g.industry != p.industry:
            return False
    if skip != "county" and p.county and g.county != p.county:
        return False
    if skip != "verified" and p.verified and not g.verified:
        return False
    return not (skip != "moq" and p.moq and g.moq not in p.moq)


#: Grouped passes of searches without query text (catalogue browsing): (expires at, groups) by filter key.
_browse_cache: dict[tuple[Any, ...], tuple[float, Any]] = {}


def _browse_cached(dbs: Session, p: SearchParams, what: str, compute: Callable[[], Any], *extra: Any) -> Any:
    """``compute()``, remembered for ``SEARCH_BROWSE_CACHE_SECONDS`` when the search has no query text.

    Browsing without words counts every listing of the chosen scope (100,000 rows for the whole marketplace), the
    same for every visitor; counts up to that many seconds old are fine there. Searches with words are never cached.
    """
    from flask import current_app

    ttl = current_app.config.get("SEARCH_BROWSE_CACHE_SECONDS", 0)
    if p.q.strip() or not ttl:
        return compute()
    key = (what, dbs.get_bind().engine.url.render_as_string(), p.industry, p.category, p.attrs, *extra)
    now = time.monotonic()
    hit = _browse_cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = compute()
    if len(_browse_cache) > 1000:
        _browse_cache.clear()
    _browse_cache[key] = (now + ttl, value)
    return value


def _groups(dbs: Session, p: SearchParams) -> list[_Group]:
    """One pass: the matching listings counted by (industry, category, county, verified, MOQ range).

    A chosen category or industry narrows the pass itself: below a chosen category the category facet lists only
    its children, so nothing outside it is ever counted.
    """
    bucket = _moq_bucket().label("bucket")
    stmt = (
        _base(dbs, p)
        .where(*_category_filters(p))
        .with_only_columns(L.industry, L.category_slug, L.county, L.verified, bucket, func.count())
        .group_by(L.industry, L.category_slug, L.county, L.verified, bucket)
    )
    return [_Group(*row) for row in dbs.execute(stmt).all()]


def search(dbs: Session, p: SearchParams, per_page: int, lang: str) -> SearchResult:
    """Run one search: a page of products, the total, and facet counts."""
    groups = _browse_cached(dbs, p, "groups", lambda: _groups(dbs, p))
    total = sum(g.count for g in groups if _passes(g, p, skip=""))
    normalised = normalise(p.q)[:100]
    if p.sort == "newest":
        order = [L.published_at.desc()]
    elif p.sort == "moq":
        order = [L.moq.asc(), L.published_at.desc()]
    elif normalised:  # relevance: the whole query in the title first, then the newest
        order = [case((L.title_zh.contains(normalised), 0), else_=1), L.published_at.desc()]
    else:
        order = [L.published_at.desc()]

    def page_keys() -> list[tuple[Any, Any]]:
        stmt = (
            _base(dbs, p)
            .with_only_columns(L.firm_id, L.product_id)
            .where(*_fixed_filters(p))
            .order_by(*order, L.product_id)
            .offset((p.page - 1) * per_page)
            .limit(per_page)
        )
        return [(row[0], row[1]) for row in dbs.execute(stmt)]

    keys = _browse_cached(dbs, p, "page", page_keys, p.county, p.verified, p.moq, p.sort, p.page, per_page)
    result = SearchResult(products_by_ids(dbs, keys), total, max(1, -(-total // per_page)), normalised)
    result.facets["category"] = _category_facet(groups, p, lang)
    counties = Counter()
    for g in groups:
        if _passes(g, p, skip="county"):
            counties[g.county] += g.count
    result.facets["county"] = [
        Facet(code, str(label), counties[code], code == p.county) for code, label in COUNTIES.items() if counties[code]
    ]
    result.verified_count = sum(g.count for g in groups if g.verified and _passes(g, p, skip="verified"))
    moq = Counter()
    for g in groups:
        if _passes(g, p, skip="moq"):
            moq[g.moq] += g.count
    result.facets["moq"] = [Facet(v, v, moq[v], v in p.moq) for v in MOQ_VALUES if moq[v]]
    result.attribute_facets = _browse_cached(
        dbs, p, "attributes", lambda: _attribute_facets(dbs, p, lang), p.county, p.verified, p.moq, lang
    )
    if p.q.strip() and total == 0:
        dbs.add(SearchMiss(query=p.q.strip()[:100], normalised=normalised, industry=p.industry))
        dbs.commit()
    return result


def products_by_ids(dbs: Session, keys: list[Any]) -> list[Product]:
    """The published products with these (firm id, product id) keys, in the given order (by primary key)."""
    if not keys:
        return []
    stmt = (
        select(Product)
        # two IN lists walk the (firm_id, id) primary key; a row-value IN would scan the table on SQLite
        .where(
            Product.firm_id.in_({k[0] for k in keys}),
            Product.id.in_([k[1] for k in keys]),
            Product.status == "published",
        )
        .execution_options(all_tenants=True)
    )
    found = {product.id: product for product in dbs.scalars(stmt).unique()}
    return [found[k[1]] for k in keys if k[1] in found]


def _bucket(value: ColumnElement[Any], ranges: list[tuple[str, Decimal | None, Decimal | None]]) -> Any:
    return case(*((_in_range(value, low, high), literal(v)) for v, low, high in ranges), else_=literal(""))


def _row_values(attr: Attribute, value: Any) -> tuple[str, ...]:
    """The facet values one listing has for ``attr``: its option ids, or the bucket its number falls in."""
    if value is None:
        return ()
    if attr.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return ()
        number = Decimal(str(value))
        return tuple(
            v
            for v, low, high in number_ranges(attr)
            if (low is None or number >= low) and (high is None or number < high)
        )
    if attr.type == "enum":
        return (value,) if isinstance(value, str) else ()
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _attribute_facets(dbs: Session, p: SearchParams, lang: str) -> list[AttributeFacet]:
    """Every filterable attribute's counts from one pass over the candidates (text and fixed filters applied).

    Disjunctive as the other facets: an attribute's own choice is left out of its counts, the other attributes'
    choices apply (OR within one attribute, AND across).
    """
    attributes = filterable(p)
    if not attributes:
        return []
    stmt = select(L.attributes).where(*_fixed_filters(p)).where(*([m] if (m := _match(dbs, p.q)) is not None else []))
    rows = [{a.id: _row_values(a, (values or {}).get(a.id)) for a in attributes} for values in dbs.scalars(stmt)]
    chosen = {a.id: set(p.chosen(a.id)) for a in attributes if p.chosen(a.id)}
    facets = []
    for attr in attributes:
        others = {k: v for k, v in chosen.items() if k != attr.id}
        counts: Counter[str] = Counter()
        for row in rows:
            if all(set(row[k]) & v for k, v in others.items()):
                counts.update(set(row[attr.id]))
        own = chosen.get(attr.id, set())
        if attr.type == "number":
            unit = attr.unit.label.get(lang) if attr.unit else ""
            values = [
                Facet(v, _range_label(v, unit), counts[v], v in own) for v, _l, _h in number_ranges(attr) if counts[v]
            ]
        else:
            values = [Facet(o.id, o.label.get(lang), counts[o.id], o.id in own) for o in attr.options if counts[o.id]]
        if values:
            facets.append(AttributeFacet(attr.id, attr.label.get(lang), values))
    return facets


def _range_label(value: str, unit: str) -> str:
    low, _, high = value.partition("-")
    if not low:
        return f"< {high}{unit}"
    if not high:
        return f"≥ {low}{unit}"
    return f"{low}–{high}{unit}"


def _category_facet(groups: list[_Group], p: SearchParams, lang: str) -> list[Facet]:
    """Counts per next-level category below the current selection (industries when none is chosen)."""
    catalog = default_catalog()
    counts: Counter[str] = Counter()
    by_industry: Counter[str] = Counter()
    for g in groups:
        if _passes(g, p, skip="category"):
            counts[g.category] += g.count
            by_industry[g.industry] += g.count
    if p.category:
        try:
            options = [catalog.category(c) for c in catalog.category(p.category).children] or [
                catalog.category(p.category)
            ]
        except (UnknownCategory, KeyError):
            return []
        pairs = [(c.slug, c.label.get(lang)) for c in options]
    elif p.industry:
        try:
            pairs = [(r, catalog.category(r).label.get(lang)) for r in catalog.industry(p.industry).roots]
        except (UnknownCategory, KeyError):
            return []
    else:
        return [
            Facet(ind.id, ind.label.get(lang), by_industry[ind.id], False)
            for ind in catalog.industries
            if by_industry.get(ind.id)
        ]
    facets = []
    for value, label in pairs:
        n = sum(c for slug, c in counts.items() if slug == value or slug.startswith(value + "/"))
        if n:
            facets.append(Facet(value, label, n, value in (p.category, p.industry)))
    return facets
