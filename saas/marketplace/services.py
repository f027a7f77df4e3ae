"""Marketplace services: supplier products (validated against the category's attribute template), moderation, and
the public read model (published products only).

Public reads are deliberate cross-tenant reads of published rows (``all_tenants`` + ``status = 'published'``); on
PostgreSQL the ``products_extra_read`` policy allows exactly that and nothing else.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.benchmarking.services import system_read
from saas.core.audit import record_event
from saas.core.domain import Conflict, LimitReached, NotFound
from saas.core.tenancy import get_in_tenant_or_404, tenant_select
from saas.marketplace.catalog import UnknownCategory, default_catalog
from saas.marketplace.catalog.attributes import normalise_for_search, validate_attributes
from saas.marketplace.images import check_product_image
from saas.marketplace.search import in_category, products_by_ids
from saas.marketplace.text.pipeline import index_terms
from saas.models import Assessment, Firm, Product, ProductImage, ScoreSnapshot, User, utcnow
from saas.models import ProductListing as L
from saas.web.forms import PRICE, QUANTITY, WHOLE_DAYS, Bounds, NumberRejected, has_control_characters, read_decimal

EDITABLE = ("draft", "rejected", "published", "pending")
SKU_RE = re.compile(r"[A-Za-z0-9\-_./]{1,64}")  # the supplier's article number: letters, digits, - _ . /


@dataclass
class ProductInput:
    """What the supplier's form sends, as text; ``errors`` maps a field to an error code after ``parse``."""

    category_slug: str = ""
    sku: str = ""
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    sale_unit: str = ""
    moq: str = ""
    order_multiple: str = "1"
    tiers: list[tuple[str, str]] = field(default_factory=list)
    price_on_request: bool = False
    samples_available: bool = False
    lead_time_days: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Cleaned:
    values: dict[str, Any]
    attributes: dict[str, Any]
    errors: dict[str, str]


def _number(text: str, bounds: Bounds, errors: dict[str, str], name: str, codes: tuple[str, str]) -> Decimal | None:
    """The number typed for ``name`` within ``bounds``, or None with ``codes[0]`` (no number, too small) or
    ``codes[1]`` (too large, too many decimals for the column) in ``errors``."""
    try:
        value = read_decimal(text, bounds)
    except NumberRejected as exc:
        errors[name] = codes[0] if exc.code in ("not_a_number", "below_min") else codes[1]
        return None
    if value is None:
        errors[name] = codes[0]
    return value


def _control_characters(data: ProductInput) -> dict[str, str]:
    """``control_chars`` for each text field (and attribute) holding NUL or another control character."""
    errors = {}
    for name in ("title_zh", "title_en", "description_zh", "description_en", "sku", "moq", "order_multiple"):
        if has_control_characters(getattr(data, name), multiline=name.startswith("description")):
            errors[name] = "control_chars"
    for attr_id, value in data.attributes.items():
        items = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(item, str) and has_control_characters(item) for item in items):
            errors[f"attr-{attr_id}"] = "control_chars"
    return errors


def clean(data: ProductInput) -> Cleaned:
    """Validate a product form; every problem is an error code keyed by field (``attr-<id>`` for attributes).

    Numbers go through ``saas.web.forms.read_decimal`` with the bounds of their columns (MOQ and multiple:
    ``Numeric(14, 3)``; tier prices: yuan with two decimals), so nothing is rounded or overflows on the way in.
    """
    catalog = default_catalog()
    errors: dict[str, str] = _control_characters(data)
    values: dict[str, Any] = {}
    try:
        category = catalog.category(data.category_slug)
    except (UnknownCategory, KeyError):
        return Cleaned({}, {}, {"category_slug": "unknown_category"})
    if category.children:
        errors["category_slug"] = "not_a_leaf"
    values["category_slug"], values["industry"] = category.slug, category.industry
    sku = normalise_sku(data.sku)
    if sku and not SKU_RE.fullmatch(sku):
        errors.setdefault("sku", "sku_format")
    values["sku"] = sku or None
    title = data.title_zh.strip()
    if not 2 <= len(title) <= 120:
        errors.setdefault("title_zh", "title_length")
    values["title_zh"] = title
    values["title_en"] = data.title_en.strip()[:160] or None
    for name in ("description_zh", "description_en"):
        text = getattr(data, name).strip()
        if len(text) > 5000:
            errors.setdefault(name, "too_long")
        values[name] = text or None
    units = {u.id for u in catalog.sale_units_for(category.slug)}
    if data.sale_unit not in units:
        errors["sale_unit"] = "unknown_unit"
    values["sale_unit"] = data.sale_unit
    quantity_codes = ("positive_number", "quantity_bounds")
    moq = _number(data.moq, QUANTITY, errors, "moq", quantity_codes) if "moq" not in errors else None
    multiple = None
    if "order_multiple" not in errors:
        multiple = _number(data.order_multiple or "1", QUANTITY, errors, "order_multiple", quantity_codes)
    values["moq"], values["order_multiple"] = moq, multiple
    tiers = []
    for i, (qty_text, price_text) in enumerate(data.tiers):
        if not qty_text.strip() and not price_text.strip():
            continue
        tier_errors: dict[str, str] = {}
        qty = _number(qty_text, QUANTITY, tier_errors, "qty", ("bad_tier", "tier_qty_bounds"))
        price = _number(price_text, PRICE, tier_errors, "price", ("bad_tier", "tier_price_bounds"))
        if qty is None or price is None:
            codes = set(tier_errors.values())
            errors[f"tier{i}"] = "bad_tier" if "bad_tier" in codes else min(codes)
            continue
        tiers.append((qty, price))
    tiers.sort()
    if tiers and moq is not None and tiers[0][0] < moq:
        errors["tier0"] = "tier_below_moq"
    if any(b[1] > a[1] for a, b in zip(tiers, tiers[1:], strict=False)):
        errors.setdefault("tier1", "tier_price_rises")
    if not tiers and not data.price_on_request:
        errors["tier0"] = "price_needed"
    values["price_tiers"] = [{"min_qty": str(q), "price": str(p)} for q, p in tiers]
    values["price_on_request"], values["samples_available"] = data.price_on_request, data.samples_available
    lead = _number(data.lead_time_days, WHOLE_DAYS, errors, "lead_time_days", ("lead_time", "lead_time"))
    values["lead_time_days"] = int(lead) if lead is not None else None
    template = catalog.attributes_for(category.slug)
    attributes, attr_errors = validate_attributes(template, data.attributes, ignore_unknown=True)
    for key, code in attr_errors.items():
        errors.setdefault(f"attr-{key}", code)
    return Cleaned(values, attributes, errors)


def normalise_sku(text: str) -> str:
    """A typed SKU as stored: NFKC (full-width letters and digits become ASCII), surrounding spaces dropped."""
    return unicodedata.normalize("NFKC", text or "").strip()


def sku_owner(dbs: Session, firm: Firm, sku: str) -> uuid.UUID | None:
    """The id of the firm's product (archived ones included) that uses ``sku``, or None."""
    return dbs.scalar(select(Product.id).where(Product.firm_id == firm.id, Product.sku == sku).limit(1))


def check_sku_unique(dbs: Session, firm: Firm, cleaned: Cleaned, product: Product | None) -> None:
    """Add the ``sku_taken`` field error when another product of the firm already uses the cleaned SKU."""
    sku = cleaned.values.get("sku")
    if sku and "sku" not in cleaned.errors:
        owner = sku_owner(dbs, firm, sku)
        if owner is not None and (product is None or owner != product.id):
            cleaned.errors["sku"] = "sku_taken"


def _search_text(values: dict[str, Any], attributes: dict[str, Any]) -> str:
    template = default_catalog().attributes_for(values["category_slug"])
    parts = [values["title_zh"], values.get("title_en") or "", *normalise_for_search(template, attributes)]
    for label in default_catalog().path(values["category_slug"]):
        parts += [label.label.zh, label.label.en]
    return " ".join(index_terms(" ".join(parts)))


def save_product(
    dbs: Session, firm: Firm, actor: User, product: Product | None, cleaned: Cleaned, *, flush: bool = True
) -> Product:
    """Create or update a product from validated input; an edit of a published product goes back to review.

    ``flush=False`` leaves the flush to the caller (bulk imports flush once per batch of products).
    """
    if cleaned.errors:
        raise ValueError("save_product needs valid input")
    if product is None:
        product = Product(firm_id=firm.id, status="draft")
        dbs.add(product)
    elif product.status not in EDITABLE:
        raise Conflict(product.status)
    for name, value in cleaned.values.items():
        setattr(product, name, value)
    product.attributes = cleaned.attributes
    product.search_text = _search_text(cleaned.values, cleaned.attributes)
    product.updated_at = utcnow()
    if product.status == "published":
        product.status, product.submitted_at = "pending", utcnow()
        record_event(dbs, actor, "product.edited_after_publication", subject_firm_id=firm.id, product=product.id)
    if flush:
        dbs.flush()
    return product


def submit_for_review(dbs: Session, firm: Firm, actor: User, product: Product) -> None:
    """Send a draft or rejected product to the moderation queue."""
    if product.status not in ("draft", "rejected"):
        raise Conflict(product.status)
    product.status, product.submitted_at, product.rejection_reason = "pending", utcnow(), None
    record_event(dbs, actor, "product.submitted", subject_firm_id=firm.id, product=product.id)


def archive(dbs: Session, firm: Firm, actor: User, product: Product) -> None:
    """Take a product off the market (kept for the firm's records)."""
    product.status = "archived"
    record_event(dbs, actor, "product.archived", subject_firm_id=firm.id, product=product.id)


def get_own(dbs: Session, firm: Firm, product_id: uuid.UUID) -> Product:
    """Load one of the firm's products or 404."""
    return get_in_tenant_or_404(dbs, Product, product_id, firm.id)


def list_own(dbs: Session, firm: Firm) -> list[Product]:
    """Return the firm's products, newest first."""
    stmt = tenant_select(Product).where(Product.firm_id == firm.id).order_by(Product.updated_at.desc())
    return list(dbs.scalars(stmt).unique())


# --- Moderation -------------------------------------------------------------------------------------------------


def pending_in_scope(dbs: Session, staff: User, page: int = 1, per_page: int = 20) -> tuple[list[Product], int]:
    """Return one page of the products waiting for review in the staff member's scope (oldest first) and the total."""
    stmt = (
        select(Product)
        .join(Firm, Firm.id == Product.firm_id)
        .where(Product.status == "pending")
        .execution_options(all_tenants=True)
    )
    if staff.kind != "admin" and staff.staff_county is not None:
        stmt = stmt.where(Firm.county == staff.staff_county)
    total = dbs.scalar(select(func.count()).select_from(stmt.subquery()).execution_options(all_tenants=True)) or 0
    rows = dbs.scalars(stmt.order_by(Product.submitted_at, Product.id).offset((page - 1) * per_page).limit(per_page))
    return list(rows.unique()), total


def moderate(dbs: Session, staff: User, firm: Firm, product: Product, *, approve: bool, reason: str | None) -> None:
    """Publish or reject a pending product; a rejection needs a reason. Every decision is audited."""
    if product.status != "pending":
        raise Conflict(product.status)
    if approve:
        product.status, product.published_at, product.rejection_reason = "published", utcnow(), None
    else:
        if not reason:
            raise ValueError("reason required")
        product.status, product.rejection_reason = "rejected", reason[:500]
    product.moderated_by_id = staff.id
    record_event(
        dbs,
        staff,
        "product.approved" if approve else "product.rejected",
        subject_firm_id=firm.id,
        product=product.id,
        reason=reason or "",
    )


# --- Public read model ------------------------------------------------------------------------------------------


def published_page(
    dbs: Session,
    *,
    industry: str | None,
    category_prefix: str | None,
    page: int,
    per_page: int,
    firm_id: uuid.UUID | None = None,
) -> tuple[list[Product], int]:
    """Return one page of published products (newest first) and the total, read from the listing read model."""

    conditions = []
    if firm_id is not None:
        conditions.append(L.firm_id == firm_id)
    if category_prefix:  # the category implies its industry
        conditions.append(in_category(L.category_slug, category_prefix))
    elif industry:
        conditions.append(L.industry == industry)
    total = dbs.scalar(select(func.count()).select_from(L).where(*conditions)) or 0
    keys = list(
        dbs.execute(
            select(L.firm_id, L.product_id)
            .where(*conditions)
            .order_by(L.published_at.desc(), L.product_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return products_by_ids(dbs, keys), total


def get_published(dbs: Session, product_id: uuid.UUID) -> Product:
    """Return a published product by id or 404 (drafts, pending and rejected products are never public).

    The listing is keyed by product id alone; ``products`` is keyed by (firm, id), so the firm is found first.
    """

    key = dbs.execute(select(L.firm_id, L.product_id).where(L.product_id == product_id)).first()
    found = products_by_ids(dbs, [(key[0], key[1])]) if key is not None else []
    if not found:
        raise NotFound("product")
    return found[0]


@dataclass(frozen=True)
class Badges:
    uscc_verified: bool
    site_visit: Any | None  # date of the latest on-site verification, shown for 12 months
    level: int | None  # informatization level of the latest verified assessment


def badges(dbs: Session, firm: Firm) -> Badges:
    """Compute the platform's badges for a supplier (never bought, never typed in by the firm)."""

    stmt = (
        select(Assessment.verified_at, ScoreSnapshot.level)
        .join(
            ScoreSnapshot,
            (ScoreSnapshot.firm_id == Assessment.firm_id) & (ScoreSnapshot.assessment_id == Assessment.id),
        )
        .where(Assessment.firm_id == firm.id, Assessment.status == "verified", ScoreSnapshot.kind == "verified")
        .order_by(Assessment.verified_at.desc())
        .limit(1)
        .execution_options(all_tenants=True)
    )
    with system_read(dbs):
        row = dbs.execute(stmt).first()
    visit = row.verified_at if row is not None and row.verified_at > utcnow() - timedelta(days=365) else None
    return Badges(firm.verified_at is not None, visit, row.level if row is not None else None)


# --- Product images ---------------------------------------------------------------------------------------------

SIZES = {"original": "", "medium": "_m", "thumb": "_t"}


def image_path(image: ProductImage, size: str) -> Path:
    """Return the stored file of one rendition (names are ours, never the uploader's)."""

    return (
        Path(current_app.config["PRODUCT_IMAGE_DIR"])
        / str(image.firm_id)
        / f"{image.name}{SIZES[size]}{image.extension}"
    )


def images_of(dbs: Session, firm_id: uuid.UUID, product_id: uuid.UUID, *, public: bool = False) -> list[ProductImage]:
    """Return a product's images in display order (``public`` reads another firm's published product)."""
    stmt = select(ProductImage).where(ProductImage.firm_id == firm_id, ProductImage.product_id == product_id)
    if public:
        stmt = stmt.execution_options(all_tenants=True)
    return list(dbs.scalars(stmt.order_by(ProductImage.position, ProductImage.created_at)))


def add_image(dbs: Session, firm: Firm, actor: User, product: Product, data: bytes) -> ProductImage:
    """Check, re-encode and store an uploaded photo; nothing is written when it is refused.

    :raises ImageRejected: with the reason code; :raises LimitReached: when the product has too many images.
    """

    existing = images_of(dbs, firm.id, product.id)
    if len(existing) >= current_app.config["PRODUCT_IMAGES_MAX"]:
        raise LimitReached("too_many_images")
    checked = check_product_image(data)
    image = ProductImage(
        firm_id=firm.id,
        product_id=product.id,
        name=checked.name,
        extension=checked.image.extension,
        content_type=checked.image.content_type,
        width=checked.image.width,
        height=checked.image.height,
        position=len(existing),
    )
    folder = Path(current_app.config["PRODUCT_IMAGE_DIR"]) / str(firm.id)
    folder.mkdir(parents=True, exist_ok=True)
    for filename, rendition in checked.files().items():
        (folder / filename).write_bytes(rendition.data)
    dbs.add(image)
    dbs.flush()
    record_event(dbs, actor, "product.image_added", subject_firm_id=firm.id, product=product.id)
    return image


def remove_image(dbs: Session, image: ProductImage) -> None:
    """Delete an image row and its files."""
    for size in SIZES:
        image_path(image, size).unlink(missing_ok=True)
    dbs.delete(image)
