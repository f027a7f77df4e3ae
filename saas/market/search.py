"""Marketplace search: one pipeline (saas/search/text.py), two backends, disjunctive facets.

The query is normalised and planned once; the plan renders as an FTS5 MATCH on SQLite (the ``product_fts`` external
content index) or as a tsquery against the GIN expression index on PostgreSQL. Both index the same space-joined terms
(``products.search_text``), so both backends return the same rows (tested on the same fixture).
Facet counts are disjunctive: each facet is counted with every other filter applied but not its own, so a chosen
facet still shows its alternatives.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from saas.marketplace.catalog import UnknownCategory, default_catalog
from saas.models import Firm, Product, SearchMiss
from saas.reference import COUNTIES
from saas.search.text import normalise, query_plan, to_fts5, to_tsquery

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


@dataclass
class Facet:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchResult:
    products: list[Product]
    total: int
    pages: int
    normalised: str
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    verified_count: int = 0


def _match(dbs: Session, q: str) -> ColumnElement[bool] | None:
    plan = query_plan(q)
    if plan.is_empty:
        return None
    if dbs.get_bind().dialect.name == "postgresql":
        return text(
            "array_to_tsvector(string_to_array(products.search_text, ' ')) @@ CAST(:tsq AS tsquery)"
        ).bindparams(tsq=to_tsquery(plan))
    return text("products.rowid IN (SELECT rowid FROM product_fts WHERE product_fts MATCH :fts)").bindparams(
        fts=to_fts5(plan)
    )


def _filtered(dbs: Session, p: SearchParams, skip: str | None = None) -> Select[Any]:
    """Published products matching ``p``, without the filter named ``skip`` (for disjunctive facet counts)."""
    stmt = (
        select(Product)
        .join(Firm, Firm.id == Product.firm_id)
        .where(Product.status == "published")
        .execution_options(all_tenants=True)
    )
    match = _match(dbs, p.q)
    if match is not None:
        stmt = stmt.where(match)
    if p.industry and skip != "category":
        stmt = stmt.where(Product.industry == p.industry)
    if p.category and skip != "category":
        stmt = stmt.where((Product.category_slug == p.category) | Product.category_slug.startswith(p.category + "/"))
    if p.county and skip != "county":
        stmt = stmt.where(Firm.county == p.county)
    if p.verified and skip != "verified":
        stmt = stmt.where(Firm.verified_at.is_not(None))
    return stmt


def _count(dbs: Session, stmt: Select[Any]) -> int:
    return dbs.scalar(select(func.count()).select_from(stmt.subquery()).execution_options(all_tenants=True)) or 0


def search(dbs: Session, p: SearchParams, per_page: int, lang: str) -> SearchResult:
    """Run one search: a page of products, the total, and facet counts."""
    stmt = _filtered(dbs, p)
    total = _count(dbs, stmt)
    normalised = normalise(p.q)[:100]
    if p.sort == "newest":
        order = [Product.published_at.desc()]
    elif p.sort == "moq":
        order = [Product.moq.asc(), Product.published_at.desc()]
    elif normalised:  # relevance: the whole query in the title first, then the newest
        order = [case((Product.title_zh.contains(normalised), 0), else_=1), Product.published_at.desc()]
    else:
        order = [Product.published_at.desc()]
    rows = dbs.scalars(stmt.order_by(*order, Product.id).offset((p.page - 1) * per_page).limit(per_page))
    result = SearchResult(list(rows.unique()), total, max(1, -(-total // per_page)), normalised)
    result.facets["category"] = _category_facet(dbs, p, lang)
    counties = Counter(
        dict(
            dbs.execute(
                _filtered(dbs, p, skip="county").with_only_columns(Firm.county, func.count()).group_by(Firm.county)
            ).all()
        )
    )
    result.facets["county"] = [
        Facet(code, str(label), counties[code], code == p.county) for code, label in COUNTIES.items() if counties[code]
    ]
    verified = _filtered(dbs, p, skip="verified").where(Firm.verified_at.is_not(None))
    result.verified_count = _count(dbs, verified)
    if p.q.strip() and total == 0:
        dbs.add(SearchMiss(query=p.q.strip()[:100], normalised=normalised, industry=p.industry))
        dbs.commit()
    return result


def _category_facet(dbs: Session, p: SearchParams, lang: str) -> list[Facet]:
    """Counts per next-level category below the current selection (industries when none is chosen)."""
    catalog = default_catalog()
    counts = dict(
        dbs.execute(
            _filtered(dbs, p, skip="category")
            .with_only_columns(Product.category_slug, func.count())
            .group_by(Product.category_slug)
        ).all()
    )
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
        by_industry = dict(
            dbs.execute(
                _filtered(dbs, p, skip="category")
                .with_only_columns(Product.industry, func.count())
                .group_by(Product.industry)
            ).all()
        )
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
