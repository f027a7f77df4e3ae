"""The public marketplace (no login): industries, categories, product pages and supplier profiles."""

from __future__ import annotations

import uuid
from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, g, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from saas.core import pagecache
from saas.core.extensions import db
from saas.core.links import external_url
from saas.inquiries.services import responsiveness
from saas.marketplace import listing_index, services
from saas.marketplace.catalog import UnknownCategory, default_catalog
from saas.marketplace.misses import note_if_empty
from saas.marketplace.search import MOQ_RANGES, SearchParams
from saas.marketplace.search import search as run_search
from saas.marketplace.supplier_views import send_image
from saas.models import Firm, Product, ProductImage
from saas.sourcing.services import compare_ids, is_favourite
from saas.web.forms import ConfirmForm
from saas.web.lang import ui_lang
from saas.web.pagination import page_number, paginate

bp = Blueprint("market", __name__, url_prefix="/market")


@bp.route("/")
def home() -> Any:
    return render_template("market/home.html", catalog=default_catalog())


@bp.route("/search")
@pagecache.for_visitors(version=listing_index.generation)
def search() -> Any:
    """Chinese full-text search with facets; shareable URLs (every choice is a query argument)."""

    params = SearchParams.from_args(request.args, page_number())
    result = run_search(db.session, params, current_app.config["PAGE_SIZE"], ui_lang())
    pager = paginate(params.page, result.total, current_app.config["PAGE_SIZE"])
    if pager.redirect is not None:
        return pager.redirect
    note_if_empty(params, result)  # the sourcing-gap log: buffered, capped, outside this read (misses.py)
    if not result.total:
        pagecache.dont_store()  # a search that finds nothing is logged: it runs every time
    args = query_args(params)

    def link(**changes: Any) -> str:
        """The search URL with some arguments replaced ('' or () drops one); always back to page 1."""
        merged = {**args, **changes}
        return url_for("market.search", **{k: v for k, v in merged.items() if v not in ("", (), [], None)})

    def toggle(key: str, value: str) -> str:
        chosen = list(args.get(key, []))
        return link(**{key: [v for v in chosen if v != value] if value in chosen else [*chosen, value]})

    return render_template(
        "market/search.html",
        params=params,
        result=result,
        catalog=default_catalog(),
        link=link,
        toggle=toggle,
        pager_args={k: v for k, v in args.items() if v not in ("", (), [], None)},
        moq_labels=moq_labels(),
    )


def moq_labels() -> dict[str, str]:
    """Readable MOQ ranges (the quantities are in each product's own sale unit)."""

    labels = {}
    for value, low, high in MOQ_RANGES:
        if low is None:
            labels[value] = _("Under %(n)s", n=high)
        elif high is None:
            labels[value] = _("%(n)s or more", n=low)
        else:
            labels[value] = _("%(low)s to %(high)s", low=low, high=high)
    return labels


def query_args(params: Any) -> dict[str, Any]:
    """The query arguments that reproduce ``params`` (without the page)."""
    args: dict[str, Any] = {
        "q": params.q,
        "industry": params.industry or "",
        "category": params.category or "",
        "county": params.county or "",
        "verified": "1" if params.verified else "",
        "sort": params.sort if params.sort != "relevance" else "",
        "moq": list(params.moq),
    }
    for attr_id, values in params.attrs:
        args[f"a.{attr_id}"] = list(values)
    return args


@bp.route("/<industry>/", defaults={"path": ""})
@bp.route("/<industry>/<path:path>")
@pagecache.for_visitors
def browse(industry: str, path: str) -> Any:
    """Readable catalogue URLs: /market/silk/ or /market/silk/silk-fabric/crepe-de-chine."""
    catalog = default_catalog()
    try:
        ind = catalog.industry(industry)
    except (UnknownCategory, KeyError):
        abort(404)
    slug = f"{ind.id}/{path}".rstrip("/") if path else None
    category = None
    if slug:
        try:
            category = catalog.category(slug)
        except (UnknownCategory, KeyError):
            abort(404)
    per_page = current_app.config["PAGE_SIZE"]
    page = page_number()
    products, total = services.published_page(
        db.session, industry=ind.id, category_prefix=slug, page=page, per_page=per_page
    )
    pager = paginate(page, total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    children = [catalog.category(c) for c in (category.children if category else ind.roots)]
    return render_template(
        "market/browse.html",
        catalog=catalog,
        industry=ind,
        category=category,
        children=children,
        products=products,
        total=total,
        page=page,
        pages=pager.pages,
        breadcrumb=catalog.path(slug) if slug else [],
    )


@bp.route("/products/<uuid:product_id>")
def product(product_id: uuid.UUID) -> Any:

    item = services.get_published(db.session, product_id)
    catalog = default_catalog()
    user = g.get("user")
    return render_template(
        "market/product.html",
        product=item,
        catalog=catalog,
        breadcrumb=catalog.path(item.category_slug),
        template=catalog.attributes_for(item.category_slug),
        badges=services.badges(db.session, item.firm),
        images=services.images_of(db.session, item.firm_id, item.id, public=True),
        form=ConfirmForm(),
        favourite=user is not None and is_favourite(db.session, user, item.id),
        in_compare=item.id in compare_ids(session),
        own=g.get("tenant") is not None and g.tenant.id == item.firm_id,
        response=responsiveness(db.session, item.firm_id),
        error=None,
        values={},
    )


@bp.route("/suppliers/<uuid:firm_id>")
def supplier(firm_id: uuid.UUID) -> Any:
    firm = db.session.scalar(select(Firm).where(Firm.id == firm_id))
    if firm is None:
        abort(404)
    products, _total = services.published_page(
        db.session, industry=None, category_prefix=None, page=1, per_page=200, firm_id=firm.id
    )
    if not products and firm.verified_at is None:
        abort(404)  # a firm with nothing public and no verification has no public page

    return render_template(
        "market/supplier.html",
        firm=firm,
        products=products,
        badges=services.badges(db.session, firm),
        catalog=default_catalog(),
        response=responsiveness(db.session, firm.id),
    )


def sitemap_xml() -> Any:
    """``/sitemap.xml``: the marketplace's public pages (catalogue, published products, suppliers) for crawlers."""

    catalog = default_catalog()
    urls = [external_url("market.home")]
    for ind in catalog.industries:
        urls.append(external_url("market.browse", industry=ind.slug))
        for c in catalog.categories(ind.id):
            urls.append(external_url("market.browse", industry=ind.slug, path=c.slug.split("/", 1)[1]))
    products, _total = services.published_page(db.session, industry=None, category_prefix=None, page=1, per_page=45000)
    firms = sorted({p.firm_id for p in products}, key=str)
    urls += [external_url("market.product", product_id=p.id) for p in products]
    urls += [external_url("market.supplier", firm_id=f) for f in firms]
    body = "".join(f"<url><loc>{escape(u)}</loc></url>" for u in urls)
    xml = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'
    return Response(xml, mimetype="application/xml")


@bp.route("/images/<uuid:firm_id>/<uuid:image_id>/<any(original, medium, thumb):size>")
def image(firm_id: uuid.UUID, image_id: uuid.UUID, size: str) -> Any:
    """A photo of a published product (any other photo is a 404); the firm in the URL makes it a primary-key read."""

    row = db.session.execute(
        select(ProductImage)
        .join(Product, (Product.firm_id == ProductImage.firm_id) & (Product.id == ProductImage.product_id))
        .where(ProductImage.firm_id == firm_id, ProductImage.id == image_id, Product.status == "published")
        .execution_options(all_tenants=True)
    ).scalar()
    if row is None:
        abort(404)
    return send_image(row, size)
