"""The supplier's own catalogue: products, drafts, review requests. Every route needs a firm membership."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from saas import billing
from saas.billing import services as billing_services
from saas.core.domain import Conflict, LimitReached
from saas.core.extensions import db
from saas.core.security import require_firm_member
from saas.core.tenancy import get_in_tenant_or_404
from saas.marketplace import services
from saas.marketplace.catalog import default_catalog
from saas.marketplace.images import ImageRejected
from saas.marketplace.labels import ATTRIBUTE_FALLBACK, IMAGE_ERRORS, PRODUCT_ERRORS, PRODUCT_STATES
from saas.models import ProductImage, utcnow
from saas.web.forms import ConfirmForm

bp = Blueprint("products", __name__, url_prefix="/firm/products")
bp.before_request(require_firm_member)


def _input_from_form(category_slug: str) -> services.ProductInput:
    form = request.form
    catalog = default_catalog()
    attributes: dict[str, Any] = {}
    try:
        template = catalog.attributes_for(category_slug)
    except KeyError:
        template = ()
    for attr in template:
        key = f"attr-{attr.id}"
        if attr.type == "multi_enum":
            chosen = [v for v in form.getlist(key) if v]
            if chosen:
                attributes[attr.id] = chosen
        elif form.get(key, "").strip():
            attributes[attr.id] = form.get(key, "").strip()
    return services.ProductInput(
        category_slug=category_slug,
        sku=form.get("sku", ""),
        title_zh=form.get("title_zh", ""),
        title_en=form.get("title_en", ""),
        description_zh=form.get("description_zh", ""),
        description_en=form.get("description_en", ""),
        sale_unit=form.get("sale_unit", ""),
        moq=form.get("moq", ""),
        order_multiple=form.get("order_multiple", "1"),
        tiers=[(form.get(f"tier{i}_qty", ""), form.get(f"tier{i}_price", "")) for i in range(3)],
        price_on_request=form.get("price_on_request") == "1",
        samples_available=form.get("samples_available") == "1",
        lead_time_days=form.get("lead_time_days", ""),
        attributes=attributes,
    )


def _messages(errors: dict[str, str]) -> dict[str, str]:
    return {k: str(PRODUCT_ERRORS.get(v, ATTRIBUTE_FALLBACK)) for k, v in errors.items()}


def _form_page(product: Any, category_slug: str, values: dict[str, Any], errors: dict[str, str], status: int = 200):
    catalog = default_catalog()
    try:
        category = catalog.category(category_slug) if category_slug else None
    except KeyError:
        category = None
    return render_template(
        "market/product_form.html",
        product=product,
        catalog=catalog,
        category=category,
        template=catalog.attributes_for(category.slug) if category is not None else (),
        units=catalog.sale_units_for(category.slug) if category is not None else (),
        values=values,
        errors=_messages(errors),
        confirm=ConfirmForm(),
        images=services.images_of(db.session, g.tenant.id, product.id) if product is not None else [],
    ), status


@bp.route("/")
def index() -> Any:
    return render_template(
        "market/products.html",
        products=services.list_own(db.session, g.tenant),
        states=PRODUCT_STATES,
        confirm=ConfirmForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    category_slug = request.values.get("category_slug", "")
    if request.method == "POST" and request.form.get("step") == "save":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        cleaned = services.clean(_input_from_form(category_slug))
        services.check_sku_unique(db.session, g.tenant, cleaned, None)
        if cleaned.errors:
            return _form_page(None, category_slug, request.form.to_dict(flat=False), cleaned.errors, 400)
        rights = billing.entitlements(g.tenant, utcnow())
        if billing_services.product_limit_reached(db.session, g.tenant, rights):
            flash(
                _("The free plan lists up to %(n)d products. Archive one, or upgrade to Pro.", n=rights.product_limit),
                "error",
            )
            return _form_page(None, category_slug, request.form.to_dict(flat=False), {}, 409)
        product = services.save_product(db.session, g.tenant, g.user, None, cleaned)
        db.session.commit()
        flash(_("The product is saved as a draft. Submit it for review to publish it."), "success")
        return redirect(url_for("products.edit", product_id=product.id))
    return _form_page(None, category_slug, {}, {})


def _values_of(product: Any) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {
        "sku": [product.sku or ""],
        "title_zh": [product.title_zh],
        "title_en": [product.title_en or ""],
        "description_zh": [product.description_zh or ""],
        "description_en": [product.description_en or ""],
        "sale_unit": [product.sale_unit],
        "moq": [f"{product.moq.normalize():f}"],
        "order_multiple": [f"{product.order_multiple.normalize():f}"],
        "lead_time_days": [str(product.lead_time_days)],
        "price_on_request": ["1"] if product.price_on_request else [],
        "samples_available": ["1"] if product.samples_available else [],
    }
    for i, tier in enumerate(product.price_tiers):
        values[f"tier{i}_qty"], values[f"tier{i}_price"] = [tier["min_qty"]], [tier["price"]]
    for key, value in product.attributes.items():
        values[f"attr-{key}"] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return values


@bp.route("/<uuid:product_id>", methods=["GET", "POST"])
def edit(product_id: uuid.UUID) -> Any:
    product = services.get_own(db.session, g.tenant, product_id)
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        if product.status == "archived":
            abort(409)
        cleaned = services.clean(_input_from_form(product.category_slug))
        services.check_sku_unique(db.session, g.tenant, cleaned, product)
        if cleaned.errors:
            return _form_page(product, product.category_slug, request.form.to_dict(flat=False), cleaned.errors, 400)
        was_published = product.status == "published"
        services.save_product(db.session, g.tenant, g.user, product, cleaned)
        db.session.commit()
        flash(
            _("Saved. The change goes back to review before it is public again.") if was_published else _("Saved."),
            "success",
        )
        return redirect(url_for("products.edit", product_id=product.id))
    return _form_page(product, product.category_slug, _values_of(product), {})


@bp.route("/<uuid:product_id>/submit", methods=["POST"])
def submit(product_id: uuid.UUID) -> Any:
    product = services.get_own(db.session, g.tenant, product_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.submit_for_review(db.session, g.tenant, g.user, product)
    except Conflict:
        flash(_("Only drafts and rejected products can be submitted for review."), "error")
    else:
        db.session.commit()
        flash(_("Submitted. The bureau reviews new products before they are public."), "success")
    return redirect(url_for("products.index"))


@bp.route("/<uuid:product_id>/archive", methods=["POST"])
def archive(product_id: uuid.UUID) -> Any:
    product = services.get_own(db.session, g.tenant, product_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.archive(db.session, g.tenant, g.user, product)
    db.session.commit()
    flash(_("The product is archived and no longer public."), "info")
    return redirect(url_for("products.index"))


def _image_message(code: str) -> str:
    return str(IMAGE_ERRORS.get(code, IMAGE_ERRORS["corrupt"]))


@bp.route("/<uuid:product_id>/images", methods=["POST"])
def upload_image(product_id: uuid.UUID) -> Any:

    product = services.get_own(db.session, g.tenant, product_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        flash(_("Choose a photo to upload."), "error")
        return redirect(url_for("products.edit", product_id=product.id) + "#images")
    try:
        data = upload.stream.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    finally:
        upload.close()
    try:
        services.add_image(db.session, g.tenant, g.user, product, data)
    except ImageRejected as exc:
        db.session.rollback()
        flash(_message_for(exc), "error")
        return redirect(url_for("products.edit", product_id=product.id) + "#images")
    except LimitReached:
        flash(_("A product can have at most %(n)d photos.", n=current_app.config["PRODUCT_IMAGES_MAX"]), "error")
        return redirect(url_for("products.edit", product_id=product.id) + "#images")
    db.session.commit()
    flash(_("The photo is added."), "success")
    return redirect(url_for("products.edit", product_id=product.id) + "#images")


def _message_for(exc: Any) -> str:
    return _image_message(getattr(exc, "code", "corrupt"))


def _own_image(product_id: uuid.UUID, image_id: uuid.UUID) -> Any:

    image = get_in_tenant_or_404(db.session, ProductImage, image_id, g.tenant.id)
    if image.product_id != product_id:
        abort(404)
    return image


@bp.route("/<uuid:product_id>/images/<uuid:image_id>/delete", methods=["POST"])
def delete_image(product_id: uuid.UUID, image_id: uuid.UUID) -> Any:
    image = _own_image(product_id, image_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_image(db.session, image)
    db.session.commit()
    flash(_("The photo is removed."), "info")
    return redirect(url_for("products.edit", product_id=product_id) + "#images")


@bp.route("/<uuid:product_id>/images/<uuid:image_id>/<any(original, medium, thumb):size>")
def own_image(product_id: uuid.UUID, image_id: uuid.UUID, size: str) -> Any:
    """The supplier's preview of its own photos (drafts included)."""
    return send_image(_own_image(product_id, image_id), size)


def send_image(image: Any, size: str) -> Any:
    """Send one stored rendition with its fixed content type (never sniffed, never the uploader's)."""

    path = services.image_path(image, size)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=image.content_type, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
