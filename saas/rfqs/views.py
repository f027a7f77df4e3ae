"""RFQ pages for buyers (/rfqs) and suppliers (/firm/rfqs, /firm/quotes), and the ``flask close-rfqs`` command.

Buyers are any logged-in user who is not staff (a buyer account or a firm member buying for their firm); suppliers
are firm members acting for their active firm (``g.tenant``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

import click
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_currency
from flask_babel import gettext as _

from saas import billing
from saas.billing import services as billing_services
from saas.core.extensions import db
from saas.core.limits import DailyLimitReached
from saas.core.security import login_required, require_firm_member
from saas.marketplace.catalog import default_catalog
from saas.models import Rfq, utcnow
from saas.rfqs import services
from saas.rfqs.forms import QuoteForm, RfqForm
from saas.rfqs.labels import QUOTE_OUTCOME_LABELS, REFUSALS, RFQ_STATUS_LABELS
from saas.web.forms import ConfirmForm
from saas.web.lang import ui_lang
from saas.web.pagination import page_number, paginate

# cli_group=None puts ``close-rfqs`` on the application's own command list (``flask close-rfqs``).
bp = Blueprint("rfqs", __name__, cli_group=None)


def buyer_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Logged-in users who are not bureau staff (staff get 403)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return login_required(wrapped)


def supplier_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Members of a firm, acting for their active firm."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        denied = require_firm_member()
        if denied is not None:
            return denied
        return view(*args, **kwargs)

    return wrapped


@bp.context_processor
def _helpers() -> dict[str, Any]:
    catalog = default_catalog()
    lng = ui_lang()

    def money(value: Decimal | None) -> str:
        return format_currency(value, "CNY") if value is not None else "—"

    def category_label(slug: str) -> str:
        if catalog.get(slug) is None:
            return slug
        return " › ".join(c.label.get(lng) for c in catalog.path(slug))

    return {
        "money": money,
        "category_label": category_label,
        "RFQ_STATUS_LABELS": RFQ_STATUS_LABELS,
        "QUOTE_OUTCOME_LABELS": QUOTE_OUTCOME_LABELS,
    }


# --- Buyer ------------------------------------------------------------------------------------------------------------


@bp.route("/rfqs")
@buyer_required
def index() -> Any:
    now = utcnow()
    per_page, page = current_app.config["PAGE_SIZE"], page_number()
    rfqs, total = services.buyer_rfqs_page(db.session, g.user, page=page, per_page=per_page)
    pager = paginate(page, total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    return render_template(
        "rfqs/index.html",
        rfqs=rfqs,
        total=total,
        page=page,
        pages=pager.pages,
        status_of={rfq.id: services.effective_status(rfq, now) for rfq in rfqs},
    )


def _new_page(form: RfqForm, status: int = 200, *, limit_reached: bool = False) -> Any:
    return render_template(
        "rfqs/new.html",
        form=form,
        limit=current_app.config["RFQ_DAILY_LIMIT"],
        max_quotes=current_app.config["RFQ_MAX_QUOTES"],
        limit_reached=limit_reached,
    ), status


@bp.route("/rfqs/new", methods=["GET", "POST"])
@buyer_required
def new() -> Any:
    now = utcnow()
    limit = current_app.config["RFQ_DAILY_LIMIT"]
    # ?category=<slug> pre-selects a category (links from catalogue and product pages); a POST uses the form.
    form = RfqForm(now=now, lng=ui_lang(), category_slug=request.args.get("category", ""))
    try:
        services.check_rfq_allowance(db.session, g.user, now, limit)
    except DailyLimitReached:
        return _new_page(form, 429 if request.method == "POST" else 200, limit_reached=True)
    if request.method == "POST":
        if not form.validate_on_submit():
            return _new_page(form, 400)
        try:
            rfq = services.create_rfq(
                db.session,
                g.user,
                form.to_input(),
                now=now,
                daily_limit=limit,
                max_quotes=current_app.config["RFQ_MAX_QUOTES"],
            )
        except DailyLimitReached:
            db.session.rollback()
            return _new_page(form, 429, limit_reached=True)
        db.session.commit()
        flash(_("Your request is published. Suppliers in the category can now send quotes."), "success")
        return redirect(url_for("rfqs.detail", rfq_id=rfq.id))
    return _new_page(form)


def _detail_page(rfq_id: uuid.UUID, status: int = 200, error: str | None = None) -> Any:
    now = utcnow()
    rfq = services.get_buyer_rfq(db.session, g.user, rfq_id)
    quotes = services.quotes_for_buyer(db.session, g.user, rfq)
    return render_template(
        "rfqs/detail.html",
        rfq=rfq,
        status=services.effective_status(rfq, now),
        quotes=quotes,
        outcome={quote.id: services.quote_outcome(quote, rfq) for quote, _firm in quotes},
        valid={quote.id: services.quote_valid(quote, now) for quote, _firm in quotes},
        can_accept=services.can_accept(rfq),
        can_cancel=services.can_cancel(rfq),
        confirm=ConfirmForm(),
        error=error,
    ), status


@bp.route("/rfqs/<uuid:rfq_id>")
@buyer_required
def detail(rfq_id: uuid.UUID) -> Any:
    return _detail_page(rfq_id)


def _uuid_or_404(text: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(text or "")
    except ValueError:
        abort(404)


@bp.route("/rfqs/<uuid:rfq_id>/accept", methods=["POST"])
@buyer_required
def accept(rfq_id: uuid.UUID) -> Any:
    quote_id = _uuid_or_404(request.form.get("quote_id"))
    try:
        services.accept_quote(db.session, g.user, rfq_id, quote_id, now=utcnow())
    except services.RfqRefused as refused:
        db.session.rollback()
        return _detail_page(rfq_id, 409, str(REFUSALS[refused.code]))
    db.session.commit()
    flash(_("You accepted the quote. The supplier has been informed by email."), "success")
    return redirect(url_for("rfqs.detail", rfq_id=rfq_id))


@bp.route("/rfqs/<uuid:rfq_id>/cancel", methods=["POST"])
@buyer_required
def cancel(rfq_id: uuid.UUID) -> Any:
    try:
        services.cancel_rfq(db.session, g.user, rfq_id, now=utcnow())
    except services.RfqRefused as refused:
        db.session.rollback()
        return _detail_page(rfq_id, 409, str(REFUSALS[refused.code]))
    db.session.commit()
    flash(_("Your request is cancelled. Suppliers can no longer quote."), "success")
    return redirect(url_for("rfqs.detail", rfq_id=rfq_id))


# --- Supplier ---------------------------------------------------------------------------------------------------------


@bp.route("/firm/rfqs")
@supplier_required
def firm_index() -> Any:
    now = utcnow()
    per_page, page = current_app.config["PAGE_SIZE"], page_number()
    rfqs, total = services.open_rfqs_for_firm(db.session, g.tenant, now=now, page=page, per_page=per_page)
    pager = paginate(page, total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    return render_template(
        "rfqs/firm_index.html",
        rfqs=rfqs,
        total=total,
        page=page,
        pages=pager.pages,
        quoted=services.quoted_rfq_ids(db.session, g.tenant, [r.id for r in rfqs]),
        has_categories=bool(services.firm_categories(db.session, g.tenant)),
    )


def _firm_detail_page(rfq: Rfq, form: QuoteForm, status: int = 200, error: str | None = None) -> Any:
    now = utcnow()
    quote = services.own_quote(db.session, g.tenant, rfq.id)
    refusal = services.quote_refusal(db.session, g.tenant, rfq, now) if quote is None else None
    return render_template(
        "rfqs/firm_detail.html",
        rfq=rfq,
        status=services.effective_status(rfq, now),
        quote=quote,
        outcome=services.quote_outcome(quote, rfq) if quote is not None else None,
        refusal=str(REFUSALS[refusal]) if refusal else None,
        form=form,
        error=error,
    ), status


@bp.route("/firm/rfqs/<uuid:rfq_id>", methods=["GET", "POST"])
@supplier_required
def firm_detail(rfq_id: uuid.UUID) -> Any:
    now = utcnow()
    rfq = services.get_rfq_for_firm(db.session, g.tenant, rfq_id)
    form = QuoteForm(now=now)
    if request.method == "POST":
        refusal = services.quote_refusal(db.session, g.tenant, rfq, now)
        if refusal is not None:
            return _firm_detail_page(rfq, form, 409, str(REFUSALS[refusal]))
        if not form.validate_on_submit():
            return _firm_detail_page(rfq, form, 400)
        rights = billing.entitlements(g.tenant, now)
        if billing_services.rfq_quotes_left(db.session, g.tenant, rights, now) <= 0:
            message = _("This month's %(n)d quotes are used. Pro sends more.", n=rights.rfq_quotes_per_month)
            return _firm_detail_page(rfq, form, 409, message)
        try:
            services.submit_quote(db.session, g.tenant, g.user, rfq_id, form.to_input(), now=now)
        except services.RfqRefused as refused:
            db.session.rollback()
            rfq = services.get_rfq_for_firm(db.session, g.tenant, rfq_id)
            return _firm_detail_page(rfq, form, 409, str(REFUSALS[refused.code]))
        db.session.commit()
        flash(_("Your quote is sent. The buyer has been informed by email."), "success")
        return redirect(url_for("rfqs.firm_detail", rfq_id=rfq_id))
    return _firm_detail_page(rfq, form)


@bp.route("/firm/quotes")
@supplier_required
def firm_quotes() -> Any:
    per_page, page = current_app.config["PAGE_SIZE"], page_number()
    rows, total = services.firm_quotes_page(db.session, g.tenant, page=page, per_page=per_page)
    pager = paginate(page, total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    return render_template(
        "rfqs/firm_quotes.html",
        rows=rows,
        outcome={quote.id: services.quote_outcome(quote, rfq) for quote, rfq in rows},
        total=total,
        page=page,
        pages=pager.pages,
    )


# --- CLI --------------------------------------------------------------------------------------------------------------


@bp.cli.command("close-rfqs")
def close_rfqs_command() -> None:
    """Mark open RFQs past their deadline as closed (pages already treat them as closed)."""
    count = services.close_expired(db.session, utcnow())
    db.session.commit()
    click.echo(f"closed {count} request(s) past their deadline")
