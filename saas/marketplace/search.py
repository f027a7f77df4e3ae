"""Marketplace search: one text pipeline (marketplace/text/) on two database backends, facets and order in memory.

The query is normalised and planned once; the plan renders as an FTS5 MATCH on SQLite (the ``product_fts`` external
content index) or as a tsquery against the GIN index of ``product_listings.search_tokens`` on PostgreSQL. Both index
the same space-joined terms (``products.search_text``), so both backends return the same rows (tested on the same
fixture). The database returns only the matching listings' keys, in one aggregated value.

Everything after that runs on the process's in-memory listing index (``saas.marketplace.listing_index``): the matching
slots are counted by facet group in one ``bincount`` and ordered in one ``lexsort``, and only the page's 20 products
are loaded from ``products`` by primary key. Facet counts are disjunctive: each facet is counted with every other
filter applied but not its own, so a chosen facet still shows its alternatives. Facets: category (next level down),
county, verified suppliers, MOQ range, and once a category is chosen, every filterable attribute of its template
(enum and multi-enum by option, numbers by the template's bucket ranges). Attribute values come from the listings'
``attributes`` JSON of the chosen category, read once per category and index generation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from saas.core.domain import Invalid
from saas.marketplace import listing_index
from saas.marketplace.catalog import Attribute, UnknownCategory, default_catalog
from saas.marketplace.catalog.attributes import format_number
from saas.marketplace.listing_index import MOQ_RANGES, MOQ_VALUES, Snapshot, under
from saas.marketplace.text.pipeline import normalise, query_plan, to_fts5, to_tsquery
from saas.models import Product
from saas.reference import COUNTIES
from saas.web.pagination import page_count

__all__ = [
    "MOQ_RANGES",
    "MOQ_VALUES",
    "SORTS",
    "SearchParams",
    "filterable",
    "in_category",
    "number_ranges",
    "resolve_scope",
    "search",
]
SORTS = ("relevance", "newest", "moq")


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

    @classmethod
    def from_args(cls, args: Any, page: int = 1, *, strict: bool = False) -> SearchParams:
        """Read a search from query arguments (a ``MultiDict``), the one parser of the pages and the API.

        Pages (``strict=False``) ignore anything unknown rather than refuse it: shared links age. The API
        (``strict=True``) raises ``InvalidSearch`` with the reason instead, so a client learns what it got wrong.
        """
        return params_from_args(args, page, strict)


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


def resolve_scope(value: str | None) -> tuple[str | None, str | None] | None:
    """A ``category`` argument as ``(industry, category slug)``: every value the category facet offers is accepted.

    At the top level that facet lists industries (``silk``), below them category slugs (``silk/silk-fabric``); an
    industry id means that whole industry. ``(None, None)`` for no value, None for a value that names nothing.
    """
    if not value:
        return None, None
    catalog = default_catalog()
    if catalog.get(value) is not None:
        return None, value.strip("/")
    if value in {industry.id for industry in catalog.industries}:
        return value, None
    return None


class InvalidSearch(Invalid):
    """A search argument the API refuses; the message says which."""


def _choose(value: Any, allowed: Any, strict: bool, problem: str, default: Any = None) -> Any:
    """``value`` if allowed (or empty: ``default``); else ``default``, or ``InvalidSearch`` when strict."""
    if not value:
        return default
    if value in allowed:
        return value
    if strict:
        raise InvalidSearch(problem)
    return default


def _verified(raw: str, strict: bool) -> bool:
    """Pages: ``1`` only. API: ``true``/``1`` or ``false``/``0`` (or absent); anything else is refused."""
    if not strict:
        return raw == "1"
    if raw in ("1", "true"):
        return True
    if raw in ("0", "false", ""):
        return False
    raise InvalidSearch("verified must be true or false")


def params_from_args(args: Any, page: int, strict: bool) -> SearchParams:
    """See ``SearchParams.from_args``."""
    catalog = default_catalog()
    industry = _choose(args.get("industry"), {i.id for i in catalog.industries}, strict, "unknown industry")
    scope = resolve_scope(args.get("category"))  # every value of the category facet, industries included
    if scope is None and strict:
        raise InvalidSearch("unknown category")
    industry_of_category, category = scope or (None, None)
    moq = args.getlist("moq")
    if strict and any(v not in MOQ_VALUES for v in moq):
        raise InvalidSearch("unknown moq range")
    params = SearchParams(
        q=(args.get("q") or "").strip()[:100],
        industry=industry_of_category or industry,
        category=category,
        county=_choose(args.get("county"), COUNTIES, strict, "unknown county"),
        verified=_verified(args.get("verified", ""), strict),
        sort=_choose(args.get("sort"), SORTS, strict, "unknown sort", "relevance"),
        page=page,
        moq=tuple(v for v in MOQ_VALUES if v in moq),
    )
    return replace(params, attrs=_attribute_args(args, params, strict))


def _attribute_args(args: Any, params: SearchParams, strict: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``a.<attribute>=<value>`` filters: filterable attributes of the chosen category, with values they offer."""
    keys = [k for k in args if k.startswith("a.")]
    if not keys:
        return ()
    offered = {attr.id: attr for attr in filterable(params)}
    if strict:
        for key in keys:
            attr = offered.get(key[2:])
            if attr is None:
                raise InvalidSearch(f"{key} is not a filterable attribute of the chosen category")
            if any(v not in _allowed_values(attr) for v in args.getlist(key)):
                raise InvalidSearch(f"unknown value for {key}")
        return tuple((key[2:], tuple(args.getlist(key))) for key in keys)
    attrs = []
    for attr in offered.values():
        chosen = tuple(v for v in _allowed_values(attr) if v in args.getlist(f"a.{attr.id}"))
        if chosen:
            attrs.append((attr.id, chosen))
    return tuple(attrs)


def _allowed_values(attr: Attribute) -> list[str]:
    return [r[0] for r in number_ranges(attr)] if attr.type == "number" else [o.id for o in attr.options]


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


def in_category(column: Any, slug: str) -> ColumnElement[bool]:
    """``column`` is ``slug`` or lies under it, as a range the category index can serve ('/' sorts just before '0')."""
    return (column == slug) | ((column >= slug + "/") & (column < slug + "0"))


def _matching(dbs: Session, snap: Snapshot, q: str) -> np.ndarray:
    """The live slots whose listing matches the query text (every live slot when there is none)."""
    plan = query_plan(q)
    if plan.is_empty:
        return snap.live
    if dbs.get_bind().dialect.name == "postgresql":
        where = "search_tokens @@ CAST(:q AS tsquery)"
        sql = f"SELECT string_agg(listing_key::text, ',') FROM product_listings WHERE {where}"
        keys = dbs.execute(text(sql), {"q": to_tsquery(plan)}).scalar()
    else:  # the listing's rowid is its product's rowid, which product_fts indexes (drafts too: slots_of drops them)
        sql = "SELECT group_concat(rowid) FROM product_fts WHERE product_fts MATCH :q"
        keys = dbs.execute(text(sql), {"q": to_fts5(plan)}).scalar()
    return snap.slots_of(np.fromstring(keys, dtype=np.int64, sep=",") if keys else np.empty(0, dtype=np.int64))


@dataclass(frozen=True)
class _Masks:
    """Per facet group: does it pass the chosen scope (category or industry), county, verified and MOQ filters."""

    scope: np.ndarray
    county: np.ndarray
    verified: np.ndarray
    moq: np.ndarray

    @classmethod
    def of(cls, snap: Snapshot, p: SearchParams) -> _Masks:
        columns, vocabulary = snap.group_columns, snap.groups
        everything = np.ones(len(columns.industry), dtype=bool)
        scope = everything
        if p.category:
            ok = np.array([under(c, p.category) for c in vocabulary.categories.values], dtype=bool)
            scope = ok[columns.category] if len(ok) else everything & False
        elif p.industry:
            scope = columns.industry == vocabulary.industries.find(p.industry)
        county = columns.county == vocabulary.counties.find(p.county) if p.county else everything
        verified = columns.verified == 1 if p.verified else everything
        chosen = [i for i, value in enumerate(MOQ_VALUES) if value in p.moq]
        moq = np.isin(columns.moq, chosen) if chosen else everything
        return cls(scope, county, verified, moq)

    @property
    def fixed(self) -> np.ndarray:
        return self.scope & self.county & self.verified & self.moq


def search(dbs: Session, p: SearchParams, per_page: int, lang: str) -> SearchResult:
    """Run one search: a page of products, the total, and facet counts."""
    snap = listing_index.current(dbs)
    normalised = normalise(p.q)[:100]
    masks = _Masks.of(snap, p)
    candidates = _matching(dbs, snap, p.q)
    candidates = candidates[masks.scope[snap.group[candidates]]]
    table = _attribute_table(dbs, snap, p, candidates)
    chosen = candidates[table.passes(candidates, p)] if table is not None else candidates
    counts = np.bincount(snap.group[chosen], minlength=len(masks.scope)).astype(np.int64)
    total = int(counts[masks.fixed].sum())
    shown = chosen[masks.fixed[snap.group[chosen]]]
    keys = [snap.key(int(slot)) for slot in _page(snap, shown, p, normalised, per_page)]
    result = SearchResult(products_by_ids(dbs, keys), total, page_count(total, per_page), normalised)
    _fixed_facets(result, snap, masks, counts, p, lang)
    if table is not None:
        result.attribute_facets = table.facets(candidates[masks.fixed[snap.group[candidates]]], p, lang)
    return result


def _page(snap: Snapshot, slots: np.ndarray, p: SearchParams, normalised: str, per_page: int) -> np.ndarray:
    """The slots of the requested page: newest first within the sort, ties by product id (stable across pages)."""
    start = (p.page - 1) * per_page
    if start >= len(slots):
        return slots[:0]
    order_keys: list[np.ndarray] = [snap.pid_prefix[slots], -snap.published[slots]]
    if p.sort == "moq":
        order_keys.append(snap.moq[slots])
    elif p.sort == "relevance" and normalised:  # the whole query in the title first
        titles = snap.titles
        order_keys.append(np.fromiter((normalised not in titles[s] for s in slots), dtype=bool, count=len(slots)))
    return slots[np.lexsort(order_keys)[start : start + per_page]]


def _fixed_facets(
    result: SearchResult, snap: Snapshot, masks: _Masks, counts: np.ndarray, p: SearchParams, lang: str
) -> None:
    """Category, county, verified and MOQ counts, each with every filter applied but its own."""
    columns, vocabulary = snap.group_columns, snap.groups

    def by(codes: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=size).astype(np.int64)

    others = counts * (masks.county & masks.verified & masks.moq)
    per_category = by(columns.category, others, len(vocabulary.categories.values))
    per_industry = by(columns.industry, others, len(vocabulary.industries.values))
    result.facets["category"] = _category_facet(
        {slug: int(per_category[code]) for code, slug in enumerate(vocabulary.categories.values[: len(per_category)])},
        {ind: int(per_industry[code]) for code, ind in enumerate(vocabulary.industries.values[: len(per_industry)])},
        p,
        lang,
    )
    per_county = by(columns.county, counts * (masks.verified & masks.moq), len(vocabulary.counties.values))
    counties = {vocabulary.counties.values[code]: int(n) for code, n in enumerate(per_county) if n}
    result.facets["county"] = [
        Facet(code, str(label), n, code == p.county) for code, label in COUNTIES.items() if (n := counties.get(code, 0))
    ]
    result.verified_count = int(counts[(columns.verified == 1) & masks.county & masks.moq].sum())
    per_moq = by(columns.moq, counts * (masks.county & masks.verified), len(MOQ_VALUES) + 1)
    result.facets["moq"] = [Facet(v, v, int(per_moq[i]), v in p.moq) for i, v in enumerate(MOQ_VALUES) if per_moq[i]]


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


def _identifier(name: str) -> str:
    """An attribute id for a quoted SQL identifier (catalogue ids are lower-case words; anything else is a bug)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"unexpected attribute id {name!r}")
    return name


def _numbers(raw: list[Any]) -> np.ndarray:
    """JSON numbers as floats (SQLite hands over numbers, PostgreSQL's text their JSON text); NaN for anything else."""
    values = [np.nan if v is None or isinstance(v, bool) else v for v in raw]
    try:
        return np.array(values, dtype=np.float64)  # numpy parses the text in C
    except (TypeError, ValueError):  # a value that is no number (a template changed type): one by one
        return np.array([_number(v) for v in values], dtype=np.float64)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _has_values(attr: Attribute, values: tuple[str, ...], raw: list[Any]) -> np.ndarray:
    """One row per listing, one column per option (or number range): does the listing have it."""
    has = np.zeros((len(raw), len(values)), dtype=bool)
    if not raw:
        return has
    if attr.type == "number":
        numbers = _numbers(raw)
        edges = [float(low) for _v, low, _h in number_ranges(attr)[1:] if low is not None]
        known = ~np.isnan(numbers)
        has[np.flatnonzero(known), np.searchsorted(edges, numbers[known], side="right")] = True
    elif attr.type == "enum":
        column = np.array(raw, dtype=object)
        for i, option in enumerate(values):
            has[:, i] = column == option
    else:  # multi-enum: the list as JSON text; option ids are slugs, so '"id"' appears only as an element
        text_column = np.array([v if isinstance(v, str) and v.startswith("[") else "" for v in raw], dtype=str)
        for i, option in enumerate(values):
            has[:, i] = np.char.find(text_column, f'"{option}"') >= 0
    return has


@dataclass(frozen=True)
class _AttributeColumn:
    attribute: Attribute
    values: tuple[str, ...]  # option ids, or number range values
    has: np.ndarray  # bool, one row per listing of the category, one column per value

    def chosen(self, p: SearchParams) -> list[int]:
        wanted = p.chosen(self.attribute.id)
        return [i for i, v in enumerate(self.values) if v in wanted]


@dataclass(frozen=True)
class _AttributeTable:
    """The filterable attribute values of one category's listings, as boolean columns (built once per generation)."""

    slots: np.ndarray  # the listings' slots, ascending
    columns: tuple[_AttributeColumn, ...]

    @classmethod
    def build(
        cls, dbs: Session, snap: Snapshot, attributes: tuple[Attribute, ...], category: str, slots: np.ndarray | None
    ) -> _AttributeTable:
        """The table of every listing in ``category``, or only of the listings in ``slots`` (all in the category)."""
        postgres = dbs.get_bind().dialect.name == "postgresql"
        key = "listing_key" if postgres else "rowid"
        if slots is None:
            where = "WHERE category_slug = :c OR (category_slug >= :lo AND category_slug < :hi)"
            params: dict[str, Any] = {"c": category, "lo": category + "/", "hi": category + "0"}
        else:
            where, params = f"WHERE {key} IN :keys", {"keys": snap.keys[slots].tolist()}
        if postgres:
            # one JSON parse per row (``->>`` per attribute parses the document again each time: 3× slower); as text,
            # numbers and lists arrive as their JSON text
            record = ", ".join(f'"{_identifier(a.id)}" text' for a in attributes)
            sql = f"SELECT listing_key, r.* FROM product_listings, json_to_record(attributes) AS r({record}) {where}"
        else:  # numbers as numbers, lists as JSON text
            columns_sql = ", ".join(f"json_extract(attributes, :a{i})" for i in range(len(attributes)))
            params.update({f"a{i}": f"$.{a.id}" for i, a in enumerate(attributes)})
            sql = f"SELECT rowid, {columns_sql} FROM product_listings {where}"
        statement = text(sql)
        if slots is not None:
            statement = statement.bindparams(bindparam("keys", expanding=True))
        rows = dbs.execute(statement, params).all() if slots is None or len(slots) else []
        found = snap.lookup(np.array([row[0] for row in rows], dtype=np.int64))
        order = np.argsort(found, kind="stable")
        order = order[found[order] >= 0]
        columns = []
        for i, attr in enumerate(attributes, start=1):
            if attr.type == "number":
                values = tuple(v for v, _l, _h in number_ranges(attr))
            else:
                values = tuple(o.id for o in attr.options)
            columns.append(_AttributeColumn(attr, values, _has_values(attr, values, [row[i] for row in rows])[order]))
        return cls(found[order], tuple(columns))

    def _rows(self, slots: np.ndarray) -> np.ndarray:
        """Each slot's row (-1 for a slot the table does not hold)."""
        if not len(self.slots):
            return np.full(len(slots), -1)
        at = np.searchsorted(self.slots, slots)
        at[at >= len(self.slots)] = 0
        return np.where(self.slots[at] == slots, at, -1)

    def _ok(self, rows: np.ndarray, p: SearchParams, skip: str | None = None) -> np.ndarray:
        ok = rows >= 0
        if not len(self.slots):
            return ok  # nothing to index (and ``has[-1]`` would fail on an empty table)
        for column in self.columns:
            chosen = column.chosen(p)
            if chosen and column.attribute.id != skip:
                ok &= column.has[rows][:, chosen].any(axis=1)
        return ok

    def passes(self, slots: np.ndarray, p: SearchParams) -> np.ndarray:
        """Which slots have one of the chosen values of every attribute with a choice (OR within, AND across)."""
        if not any(column.chosen(p) for column in self.columns):
            return np.ones(len(slots), dtype=bool)
        return self._ok(self._rows(slots), p)

    def facets(self, slots: np.ndarray, p: SearchParams, lang: str) -> list[AttributeFacet]:
        """Every attribute's counts over ``slots``: the other attributes' choices apply, its own does not."""
        rows = self._rows(slots)
        facets = []
        for column in self.columns:
            attr = column.attribute
            counts = column.has[rows[self._ok(rows, p, skip=attr.id)]].sum(axis=0)
            own = set(p.chosen(attr.id))
            if attr.type == "number":
                unit = attr.unit.label.get(lang) if attr.unit else ""
                labels = [_range_label(v, unit) for v in column.values]
            else:
                labels = [o.label.get(lang) for o in attr.options]
            pairs = zip(column.values, labels, counts, strict=True)
            values = [Facet(v, label, int(n), v in own) for v, label, n in pairs if n]
            if values:
                facets.append(AttributeFacet(attr.id, attr.label.get(lang), values))
        return facets


def _attribute_table(dbs: Session, snap: Snapshot, p: SearchParams, candidates: np.ndarray) -> _AttributeTable | None:
    """The attribute table for the chosen category's facets (None without filterable attributes).

    The whole category's table is cached on the snapshot (and kept by the next one unless the category changed). A
    search whose words leave under a quarter of an uncached category reads only its candidates instead: a 10,000-row
    table costs 50–100 ms to build, the few hundred candidates of 羊绒 in knitwear a few.
    """
    attributes = filterable(p)
    if not attributes or not p.category:
        return None
    key = ("attributes", p.category)
    table = snap.cache.get(key)
    if table is not None:
        return table
    if p.q.strip() and len(candidates) * 4 < _category_size(snap, p):
        return _AttributeTable.build(dbs, snap, attributes, p.category, np.sort(candidates))
    if len(snap.cache) > 256:
        snap.cache.clear()
    table = snap.cache[key] = _AttributeTable.build(dbs, snap, attributes, p.category, None)
    return table


def _category_size(snap: Snapshot, p: SearchParams) -> int:
    return int(np.count_nonzero(_Masks.of(snap, SearchParams(category=p.category)).scope[snap.group[snap.live]]))


def _range_label(value: str, unit: str) -> str:
    low, _, high = value.partition("-")
    if not low:
        return f"< {high}{unit}"
    if not high:
        return f"≥ {low}{unit}"
    return f"{low}–{high}{unit}"


def _category_facet(counts: dict[str, int], by_industry: dict[str, int], p: SearchParams, lang: str) -> list[Facet]:
    """Counts per next-level category below the current selection (industries when none is chosen)."""
    catalog = default_catalog()
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
        n = sum(c for slug, c in counts.items() if under(slug, value))
        if n:
            facets.append(Facet(value, label, n, value in (p.category, p.industry)))
    return facets
