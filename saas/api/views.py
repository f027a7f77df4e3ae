"""``/api/v1``: a read-only JSON API over the published catalogue, described by ``/api/openapi.json``.

It reuses the marketplace search (same pipeline, backends and facets); only published products and public supplier
facts are exposed. Errors are JSON, never HTML or a traceback (see saas/errors.py).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from saas import pagecache
from saas.extensions import csrf, db
from saas.market import listing_index, services
from saas.market.search import MOQ_VALUES, SORTS, SearchParams, filterable, number_ranges, search
from saas.marketplace.attributes import format_number
from saas.marketplace.catalog import default_catalog
from saas.models import Product
from saas.reference import COUNTIES

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # read-only GET endpoints; no cookies are needed or used

MAX_PER_PAGE = 50


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


def _product_json(p: Product, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(p.id),
        "title": {"zh": p.title_zh, "en": p.title_en},
        "category": p.category_slug,
        "industry": p.industry,
        "supplier": {
            "id": str(p.firm_id),
            "name": p.firm.name,
            "county": p.firm.county,
            "verified": p.firm.verified_at is not None,
        },
        "sale_unit": p.sale_unit,
        "moq": format_number(p.moq),
        "price_on_request": p.price_on_request,
        "price_tiers": p.price_tiers,
        "url": url_for("market.product", product_id=p.id, _external=True),
    }
    if detail:
        data.update(
            description={"zh": p.description_zh, "en": p.description_en},
            attributes=p.attributes,
            order_multiple=format_number(p.order_multiple),
            samples_available=p.samples_available,
            lead_time_days=p.lead_time_days,
            published_at=p.published_at.isoformat() if p.published_at else None,
        )
    return data


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        abort(400)
    if not low <= value <= high:
        abort(400)
    return value


@bp.get("/v1/products")
@pagecache.for_visitors(version=listing_index.generation)
def products() -> Any:
    catalog = default_catalog()
    category = request.args.get("category") or None
    if category is not None and catalog.get(category) is None:
        return jsonify(error="unknown category", status=400), 400
    county = request.args.get("county") or None
    if county is not None and county not in COUNTIES:
        return jsonify(error="unknown county", status=400), 400
    sort = request.args.get("sort", "relevance")
    if sort not in SORTS:
        return jsonify(error="unknown sort", status=400), 400
    per_page = _int_arg("per_page", current_app.config["PAGE_SIZE"], 1, MAX_PER_PAGE)
    moq = request.args.getlist("moq")
    if any(v not in MOQ_VALUES for v in moq):
        return jsonify(error="unknown moq range", status=400), 400
    params = SearchParams(
        q=(request.args.get("q") or "")[:100],
        category=category,
        county=county,
        verified=request.args.get("verified") == "1",
        sort=sort,
        page=_int_arg("page", 1, 1, 10_000),
        moq=tuple(moq),
    )
    attrs, problem = _attribute_args(params)
    if problem:
        return jsonify(error=problem, status=400), 400
    params = replace(params, attrs=attrs)
    result = search(db.session, params, per_page, _lang())
    if not result.total:
        pagecache.dont_store()  # a search that finds nothing is logged: it runs every time
    return jsonify(
        items=[_product_json(p) for p in result.products],
        total=result.total,
        page=params.page,
        pages=result.pages,
        facets={
            name: [{"value": f.value, "label": f.label, "count": f.count, "selected": f.selected} for f in facets]
            for name, facets in result.facets.items()
        },
        verified_count=result.verified_count,
        attribute_facets=[
            {
                "id": af.id,
                "label": af.label,
                "values": [
                    {"value": f.value, "label": f.label, "count": f.count, "selected": f.selected} for f in af.values
                ],
            }
            for af in result.attribute_facets
        ],
    )


def _attribute_args(params: SearchParams) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], str | None]:
    """Read ``a.<attribute>=<value>`` filters; they need a category, and name its filterable attributes only."""
    keys = [k for k in request.args if k.startswith("a.")]
    if not keys:
        return (), None
    offered = {attr.id: attr for attr in filterable(params)}
    attrs = []
    for key in keys:
        attr = offered.get(key[2:])
        if attr is None:
            return (), f"{key} is not a filterable attribute of the chosen category"
        allowed = [r[0] for r in number_ranges(attr)] if attr.type == "number" else [o.id for o in attr.options]
        values = request.args.getlist(key)
        if any(v not in allowed for v in values):
            return (), f"unknown value for {key}"
        attrs.append((attr.id, tuple(values)))
    return tuple(attrs), None


@bp.get("/v1/products/<uuid:product_id>")
def product(product_id: uuid.UUID) -> Any:
    return jsonify(_product_json(services.get_published(db.session, product_id), detail=True))


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(OPENAPI)


_PRODUCT = {
    "type": "object",
    "required": ["id", "title", "category", "industry", "supplier", "sale_unit", "moq", "url"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "title": {"type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": ["string", "null"]}}},
        "category": {"type": "string", "description": "Category slug, e.g. silk/silk-fabric/crepe-de-chine"},
        "industry": {"type": "string"},
        "supplier": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
                "county": {"type": "string"},
                "verified": {"type": "boolean"},
            },
        },
        "sale_unit": {"type": "string"},
        "moq": {"type": "string", "description": "Decimal as a string"},
        "price_on_request": {"type": "boolean"},
        "price_tiers": {
            "type": "array",
            "items": {"type": "object", "properties": {"min_qty": {"type": "string"}, "price": {"type": "string"}}},
        },
        "url": {"type": "string", "format": "uri"},
    },
}
_FACET_VALUE = {
    "type": "object",
    "required": ["value", "label", "count", "selected"],
    "properties": {
        "value": {"type": "string"},
        "label": {"type": "string"},
        "count": {"type": "integer"},
        "selected": {"type": "boolean"},
    },
}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Jiaxing industry marketplace API",
        "version": "1.0.0",
        "description": "Read-only access to the published products of the Jiaxing SME marketplace. Chinese full-text "
        "search (character bigrams and unigrams, full-width/traditional normalised) with facets.",
    },
    "paths": {
        "/api/v1/products": {
            "get": {
                "summary": "Search published products",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                    {"name": "category", "in": "query", "schema": {"type": "string"}},
                    {"name": "county", "in": "query", "schema": {"type": "string", "enum": list(COUNTIES)}},
                    {"name": "verified", "in": "query", "schema": {"type": "string", "enum": ["1"]}},
                    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(SORTS)}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                    },
                    {
                        "name": "moq",
                        "in": "query",
                        "description": "MOQ range(s), repeatable (OR), in each product's own sale unit",
                        "schema": {"type": "array", "items": {"type": "string", "enum": list(MOQ_VALUES)}},
                        "explode": True,
                    },
                    {
                        "name": "a.{attribute}",
                        "in": "query",
                        "description": "A filterable attribute of the chosen category, e.g. a.momme=19-22 or "
                        "a.fibre_composition=mulberry-silk; repeatable (OR within, AND across). The values are those "
                        "listed in attribute_facets.",
                        "schema": {"type": "string"},
                    },
                    {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["zh", "en"]}},
                ],
                "responses": {
                    "200": {
                        "description": "A page of products with facet counts",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["items", "total", "page", "pages", "facets"],
                                    "properties": {
                                        "items": {"type": "array", "items": _PRODUCT},
                                        "total": {"type": "integer"},
                                        "page": {"type": "integer"},
                                        "pages": {"type": "integer"},
                                        "facets": {"type": "object"},
                                        "verified_count": {"type": "integer"},
                                        "attribute_facets": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "required": ["id", "label", "values"],
                                                "properties": {
                                                    "id": {"type": "string"},
                                                    "label": {"type": "string"},
                                                    "values": {"type": "array", "items": _FACET_VALUE},
                                                },
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "400": {"description": "A bad parameter", "content": {"application/json": {"schema": _ERROR}}},
                },
            }
        },
        "/api/v1/products/{product_id}": {
            "get": {
                "summary": "One published product",
                "parameters": [
                    {
                        "name": "product_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": {
                    "200": {"description": "The product", "content": {"application/json": {"schema": _PRODUCT}}},
                    "404": {
                        "description": "No such published product",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                },
            }
        },
    },
}
