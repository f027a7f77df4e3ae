"""Inquiry pages for buyers (/inquiries, and the form on a product) and suppliers (/firm/inquiries)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from saas.core.extensions import db
from saas.core.limits import DailyLimitReached
from saas.core.security import login_required, require_firm_member
from saas.inquiries import services
from saas.marketplace.services import get_published
from saas.models import utcnow
from saas.web.forms import ConfirmForm
from saas.web.pagination import page_number, paginate

bp = Blueprint("inquiries", __name__)


def refusal_message(code: str) -> str:
    """The localised reason an inquiry or reply was refused."""
    messages = {
        "empty": _("Write a message first."),
        "too_long": _("The message is too long (at most %(n)d characters).", n=services.MAX_BODY),
        "own_product": _("This is your own firm's product."),
        "staff": _("Bureau staff accounts cannot send inquiries."),
        "bad_quantity": _(
            "Enter the quantity as a number from 0.001 to 99,999,999,999.999 (at most 3 decimal places), or leave "
            "it empty."
        ),
        "control_chars": _("Remove the invisible control characters (such as NUL) from this field."),
    }
    return messages.get(code, _("The message could not be sent."))


def _limit_message(limit: int) -> str:
    return _("You have sent %(n)d inquiries today, the daily limit. Please try again tomorrow.", n=limit)


# --- Buyer ------------------------------------------------------------------------------------------------------


@bp.route("/market/products/<uuid:product_id>/inquiry", methods=["GET", "POST"])
@login_required
def new(product_id: uuid.UUID) -> Any:
    product = get_published(db.session, product_id)
    form = ConfirmForm()
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            inquiry = services.start(
                db.session,
                g.user,
                product,
                request.form.get("body", ""),
                request.form.get("quantity", ""),
                now=utcnow(),
                daily_limit=current_app.config["INQUIRY_DAILY_LIMIT"],
            )
        except services.InquiryRefused as exc:
            db.session.rollback()
            error, status = refusal_message(exc.code), 400
        except DailyLimitReached as exc:
            db.session.rollback()
            error, status = _limit_message(exc.limit), 429
        else:
            db.session.commit()
            flash(_("Your inquiry is sent. The supplier has been told by email."), "success")
            return redirect(url_for("inquiries.buyer_thread", inquiry_id=inquiry.id))
    return render_template("inquiries/new.html", product=product, form=form, error=error, values=request.form), status


@bp.route("/inquiries")
@login_required
def buyer_index() -> Any:
    number, per_page = page_number(), current_app.config["PAGE_SIZE"]
    page = services.buyer_inbox(db.session, g.user, number, per_page)
    pager = paginate(number, page.total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    return render_template("inquiries/index.html", page=page, side="buyer", current=number)


@bp.route("/inquiries/<uuid:inquiry_id>", methods=["GET", "POST"])
@login_required
def buyer_thread(inquiry_id: uuid.UUID) -> Any:
    inquiry = services.for_buyer(db.session, g.user, inquiry_id)
    return _thread(inquiry, from_supplier=False)


# --- Supplier ---------------------------------------------------------------------------------------------------


@bp.route("/firm/inquiries")
def supplier_index() -> Any:
    guard = require_firm_member()
    if guard is not None:
        return guard
    unanswered = request.args.get("show") == "unanswered"
    number, per_page = page_number(), current_app.config["PAGE_SIZE"]
    page = services.supplier_inbox(db.session, g.tenant, number, per_page, unanswered=unanswered)
    pager = paginate(number, page.total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    return render_template("inquiries/index.html", page=page, side="supplier", current=number, unanswered=unanswered)


@bp.route("/firm/inquiries/<uuid:inquiry_id>", methods=["GET", "POST"])
def supplier_thread(inquiry_id: uuid.UUID) -> Any:
    guard = require_firm_member()
    if guard is not None:
        return guard
    inquiry = services.for_supplier(db.session, g.tenant, inquiry_id)
    return _thread(inquiry, from_supplier=True)


def _thread(inquiry: Any, *, from_supplier: bool) -> Any:
    form = ConfirmForm()
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            services.reply(
                db.session, inquiry, g.user, request.form.get("body", ""), from_supplier=from_supplier, now=utcnow()
            )
        except services.InquiryRefused as exc:
            db.session.rollback()
            error, status = refusal_message(exc.code), 400
        else:
            db.session.commit()
            flash(_("Your reply is sent."), "success")
            endpoint = "inquiries.supplier_thread" if from_supplier else "inquiries.buyer_thread"
            return redirect(url_for(endpoint, inquiry_id=inquiry.id) + "#latest")
    else:
        services.mark_read(db.session, inquiry, by_supplier=from_supplier)
        db.session.commit()
    products = services.products_of(db.session, [inquiry])
    return render_template(
        "inquiries/thread.html",
        inquiry=inquiry,
        messages=services.messages(db.session, inquiry),
        product=products.get(inquiry.product_id),
        side="supplier" if from_supplier else "buyer",
        form=form,
        error=error,
        values=request.form,
    ), status
