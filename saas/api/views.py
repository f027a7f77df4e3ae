"""``/api/v1``: a read-only JSON API over the published catalogue, described by ``/api/openapi.json``.

It reuses the marketplace search (same pipeline, backends and facets); only published products and public supplier
facts are exposed. Errors are JSON, never HTML or a traceback (see saas/core/errors.py).
"""

from __future__ import annotations

import copy
import functools
import uuid
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request

from saas.core import pagecache
from saas.core.extensions import csrf, db
from saas.core.links import external_url
from saas.marketplace import listing_index, services
from saas.marketplace.catalog import default_catalog
from saas.marketplace.catalog.attributes import format_number
from saas.marketplace.misses import note_if_empty
from saas.marketplace.search import MOQ_VALUES, SORTS, InvalidSearch, SearchParams, filterable, number_ranges, search
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
        "url": external_url("market.product", product_id=p.id),
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
    per_page = _int_arg("per_page", current_app.config["PAGE_SIZE"], 1, MAX_PER_PAGE)
    page = _int_arg("page", 1, 1, 10_000)
    try:
        params = SearchParams.from_args(request.args, page, strict=True)
    except InvalidSearch as refused:
        return jsonify(error=refused.code, status=400), 400
    result = search(db.session, params, per_page, _lang())
    note_if_empty(params, result)  # the sourcing-gap log: buffered, capped, outside this read (marketplace/misses.py)
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


@bp.get("/v1/products/<uuid:product_id>")
def product(product_id: uuid.UUID) -> Any:
    return jsonify(_product_json(services.get_published(db.session, product_id), detail=True))


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())


@functools.cache
def openapi_document() -> dict[str, Any]:
    """``OPENAPI`` with one ``a.<attribute>`` parameter per filterable attribute of the catalogue, values enumerated.

    OpenAPI has no parameter names with a pattern, so each attribute filter the API accepts is listed by name: the
    union over every category that offers it (the API still refuses one that the chosen category does not offer).
    """
    document = copy.deepcopy(OPENAPI)
    parameters = document["paths"]["/api/v1/products"]["get"]["parameters"]
    at = next(i for i, p in enumerate(parameters) if p["name"] == "lang")
    parameters[at:at] = _attribute_parameters()
    industry = next(p for p in parameters if p["name"] == "industry")
    industry["schema"]["enum"] = [i.id for i in default_catalog().industries]
    return document


def _attribute_parameters() -> list[dict[str, Any]]:
    catalog = default_catalog()
    found: dict[str, tuple[Any, list[str]]] = {}
    for category in catalog:
        for attr in filterable(SearchParams(category=category.slug)):
            values = [r[0] for r in number_ranges(attr)] if attr.type == "number" else [o.id for o in attr.options]
            _first, known = found.setdefault(attr.id, (attr, []))
            known.extend(v for v in values if v not in known)
    parameters = []
    for attr_id, (attr, values) in sorted(found.items()):
        kind = "a range of the template's buckets" if attr.type == "number" else "an option id"
        parameters.append(
            {
                "name": f"a.{attr_id}",
                "in": "query",
                "required": False,
                "description": f"{attr.label.en} ({attr.label.zh}): {kind}, repeatable (OR within one attribute, AND "
                "across attributes). Only with a category that offers this attribute as a facet; the values a "
                "category offers are those listed in attribute_facets.",
                "schema": {"type": "array", "items": {"type": "string", "enum": values}},
                "style": "form",
                "explode": True,
            }
        )
    return parameters


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
                    {
                        "name": "category",
                        "in": "query",
                        "description": "A category slug (silk/silk-fabric) or an industry id (silk): any value of the "
                        "category facet",
                        "schema": {"type": "string", "maxLength": 160},
                    },
                    {
                        "name": "industry",
                        "in": "query",
                        "description": "An industry id; a category, when given, takes precedence",
                        "schema": {"type": "string"},  # the catalogue's industry ids: openapi_document()
                    },
                    {"name": "county", "in": "query", "schema": {"type": "string", "enum": list(COUNTIES)}},
                    {
                        "name": "verified",
                        "in": "query",
                        "description": "Only suppliers verified by the bureau (1 and 0 are accepted too)",
                        "schema": {"type": "boolean"},
                    },
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
