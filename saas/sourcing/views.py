"""Favourites (/favourites) and comparison (/compare) pages."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from saas.core.extensions import db
from saas.core.links import safe_redirect_target
from saas.core.security import login_required
from saas.marketplace.services import get_published
from saas.sourcing import services
from saas.web.forms import ConfirmForm
from saas.web.lang import ui_lang
from saas.web.pagination import page_number, paginate

bp = Blueprint("sourcing", __name__)


def _back(default: str) -> Any:
    return redirect(safe_redirect_target(request.form.get("next")) or default)


@bp.route("/favourites")
@login_required
def favourites() -> Any:
    number, per_page = page_number(), current_app.config["PAGE_SIZE"]
    page = services.favourites(db.session, g.user, number, per_page)
    pager = paginate(number, page.total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    return render_template("sourcing/favourites.html", page=page, current=number, form=ConfirmForm())


@bp.route("/favourites/<uuid:product_id>", methods=["POST"])
@login_required
def toggle_favourite(product_id: uuid.UUID) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    product = get_published(db.session, product_id)
    want = {"1": True, "0": False}.get(request.form.get("want", ""))
    saved = services.toggle_favourite(db.session, g.user, product, want)
    db.session.commit()
    flash(_("Saved to your favourites.") if saved else _("Removed from your favourites."), "success")
    return _back(url_for("market.product", product_id=product.id))


@bp.route("/favourites/forget-unavailable", methods=["POST"])
@login_required
def forget_gone() -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.forget_gone(db.session, g.user)
    db.session.commit()
    return redirect(url_for("sourcing.favourites"))


def _formatters() -> dict[str, Any]:
    return {
        "labels": {
            "supplier": _("Supplier"),
            "moq": _("Minimum order quantity"),
            "price": _("Price from"),
            "lead_time": _("Lead time (days)"),
            "samples": _("Samples available"),
        },
        "yes": _("Yes"),
        "no": _("No"),
        "on_request": _("Price on request"),
    }


@bp.route("/compare")
def compare() -> Any:

    table = services.comparison(db.session, session, ui_lang(), _formatters())
    return render_template(
        "sourcing/compare.html", table=table, form=ConfirmForm(), limit=current_app.config["COMPARE_MAX"]
    )


@bp.route("/compare/<uuid:product_id>", methods=["POST"])
def compare_toggle(product_id: uuid.UUID) -> Any:
    """Add a product to the comparison (``action=add``) or take it out (``action=remove``)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if request.form.get("action") == "remove":
        services.remove_from_compare(session, product_id)
        return _back(url_for("sourcing.compare"))
    product = get_published(db.session, product_id)
    limit = current_app.config["COMPARE_MAX"]
    try:
        services.add_to_compare(session, product.id, limit)
    except services.CompareFull:
        flash(_("You can compare up to %(n)d products. Remove one first.", n=limit), "error")
        return redirect(url_for("sourcing.compare"))
    flash(_("Added to the comparison."), "success")
    return _back(url_for("sourcing.compare"))
