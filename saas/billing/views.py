"""Billing routes: the billing page, checkout and portal (303), the success page, invoice details, vouchers,
the bureau's voucher pages and the Stripe webhook (CSRF-exempt, signed). ``BillingError`` is mapped here, once."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from saas import billing
from saas.assessments import services as assessment_services
from saas.billing import errors, plans, services
from saas.billing.forms import CheckoutForm, InvoiceDetailsForm, IssueVouchersForm, RedeemForm
from saas.billing.gateway import gateway_for
from saas.core.extensions import csrf, db
from saas.core.links import external_url
from saas.core.security import require_firm_member, require_owner, require_staff
from saas.core.tenancy import set_tenant, tenant_select
from saas.models import Assessment, utcnow
from saas.reference import COUNTIES
from saas.web.forms import ConfirmForm, choices_from

log = logging.getLogger(__name__)
bp = Blueprint("billing", __name__, url_prefix="/billing")


@bp.before_request
def _firm_member() -> Any:
    """Every billing route but the webhook needs a member of a firm (the webhook is signed instead)."""
    if request.endpoint == "billing.webhook":
        return None
    return require_firm_member()


bureau_bp = Blueprint("billing_bureau", __name__, url_prefix="/bureau/vouchers")
bureau_bp.before_request(require_staff)

MESSAGES = {
    "billing": _l("Billing could not complete this action."),
    "unavailable": _l("Payments are not available at the moment. Please try again later."),
    "unknown_product": _l("This product is not for sale."),
    "no_customer": _l("There is nothing to manage yet: buy a plan first."),
    "snapshot_required": _l("Choose the assessment whose report you want."),
    "already_pro": _l("Your firm already has Pro (see its period below): manage the subscription in the portal."),
    "gateway": _l("The payment service did not answer. Please try again in a minute."),
    "voucher_invalid": _l("This voucher code is not valid or has expired."),
    "voucher_used": _l("This voucher has already been redeemed."),
}


def message(exc: errors.BillingError) -> str:
    return str(MESSAGES.get(exc.code, MESSAGES["billing"]))


def _locale() -> str:

    return "en" if get_locale().language == "en" else "zh_CN"


def _gateway():  # type: ignore[no-untyped-def]
    return gateway_for(current_app.config)


def _assessment_snapshot(raw: str | None) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The firm's own assessment named by a form field and its latest snapshot (404 for another firm's)."""
    if not raw:
        return None, None
    try:
        assessment_id = uuid.UUID(raw)
    except ValueError:
        abort(404)
    assessment = assessment_services.get_assessment(db.session, g.tenant, assessment_id)
    snapshot = assessment_services.latest_snapshot(db.session, g.tenant, assessment)
    if snapshot is None:
        abort(404)
    return assessment.id, snapshot.id


def _page(status: int = 200, invoice_form: InvoiceDetailsForm | None = None, redeem: RedeemForm | None = None) -> Any:
    firm = g.tenant
    now = utcnow()
    rights = billing.entitlements(firm, now, db.session)
    details = services.invoice_details(db.session, firm)
    if invoice_form is None:
        invoice_form = InvoiceDetailsForm(
            formdata=None,
            title=details.title if details else firm.name,
            tax_number=details.tax_number if details else firm.uscc,
            email=details.email if details else None,
        )
    report_for = request.args.get("report_for")
    report_assessment = None
    if report_for:
        try:
            report_assessment = db.session.scalar(
                tenant_select(Assessment).where(Assessment.firm_id == firm.id, Assessment.id == uuid.UUID(report_for))
            )
        except ValueError:
            report_assessment = None
    redeem = redeem or RedeemForm(formdata=None, assessment_id=str(report_assessment.id) if report_assessment else "")
    return (
        render_template(
            "billing/index.html",
            rights=rights,
            subscriptions=services.subscriptions(db.session, firm),
            payments=services.payments(db.session, firm),
            has_customer=services.customer_id(db.session, firm) is not None,
            invoice_form=invoice_form,
            redeem_form=redeem,
            checkout_form=CheckoutForm(formdata=None),
            confirm=ConfirmForm(),
            products=plans.PRODUCTS,
            report_assessment=report_assessment,
            details=details,
        ),
        status,
    )


@bp.route("/")
def index() -> Any:
    return _page()


@bp.route("/checkout/<product>", methods=["POST"])
def checkout(product: str) -> Any:
    require_owner()
    form = CheckoutForm()
    if not form.validate_on_submit():
        abort(400)
    assessment_id, snapshot_id = _assessment_snapshot(form.assessment_id.data if product == "report" else None)
    try:
        url = services.start_checkout(
            db.session,
            _gateway(),
            g.tenant,
            g.user,
            product,
            snapshot_id=snapshot_id,
            assessment_id=assessment_id,
            urls=services.Urls(
                success=external_url("billing.success") + "?session_id={CHECKOUT_SESSION_ID}",
                cancel=external_url("billing.index"),
            ),
            locale=_locale(),
            now=utcnow(),
        )
    except errors.BillingError as exc:
        db.session.rollback()
        flash(message(exc), "error")
        return redirect(url_for("billing.index"))
    db.session.commit()
    return redirect(url, code=303)


@bp.route("/portal", methods=["POST"])
def portal() -> Any:
    require_owner()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        url = services.portal_url(db.session, _gateway(), g.tenant, external_url("billing.index"), _locale(), utcnow())
    except errors.BillingError as exc:
        flash(message(exc), "error")
        return redirect(url_for("billing.index"))
    return redirect(url, code=303)


@bp.route("/success")
def success() -> Any:
    """Back from Checkout: fulfil now (the same idempotent step as the webhook) so the plan shows at once."""
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_") or len(session_id) > 100:
        abort(404)
    try:
        purchase = services.fulfil_checkout(db.session, _gateway(), g.tenant, session_id, utcnow())
    except errors.BillingError as exc:
        db.session.rollback()
        flash(message(exc), "error")
        return redirect(url_for("billing.index"))
    if purchase is None:
        abort(404)
    db.session.commit()
    if purchase.status == "paid":
        flash(_("Thank you: the payment is received."), "success")
    else:
        flash(_("The payment is being confirmed. This page shows it as soon as it arrives."), "info")
    if purchase.product == "report" and purchase.assessment_id and purchase.status == "paid":
        return redirect(url_for("benchmarking.report_page", assessment_id=purchase.assessment_id))
    return redirect(url_for("billing.index"))


@bp.route("/invoice-details", methods=["POST"])
def invoice_details() -> Any:
    require_owner()
    form = InvoiceDetailsForm()
    if not form.validate_on_submit():
        return _page(422, invoice_form=form)
    services.save_invoice_details(
        db.session,
        g.tenant,
        title=form.title.data,
        tax_number=form.tax_number.data,
        email=form.email.data,
        now=utcnow(),
    )
    db.session.commit()
    flash(_("The invoice details are saved."), "success")
    return redirect(url_for("billing.index"))


@bp.route("/vouchers/redeem", methods=["POST"])
def redeem() -> Any:
    form = RedeemForm()
    if not form.validate_on_submit():
        return _page(422, redeem=form)
    assessment_id, snapshot_id = _assessment_snapshot(form.assessment_id.data or None)
    try:
        purchase = services.redeem_voucher(
            db.session,
            g.tenant,
            g.user,
            form.code.data,
            snapshot_id=snapshot_id,
            assessment_id=assessment_id,
            now=utcnow(),
        )
    except errors.BillingError as exc:
        db.session.rollback()
        form.code.errors = [message(exc)]
        return _page(422, redeem=form)
    db.session.commit()
    flash(_("The voucher is redeemed."), "success")
    if purchase.product == "report" and purchase.assessment_id:
        return redirect(url_for("benchmarking.report_page", assessment_id=purchase.assessment_id))
    return redirect(url_for("billing.index"))


@bp.route("/webhook", methods=["POST"])
@csrf.exempt
def webhook() -> Any:
    """Stripe's webhook: signature over the raw body, dedup by event id in the transaction of the change."""
    try:
        gw = _gateway()
        event = gw.verify_event(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    except errors.BillingUnavailable:
        return {"error": "billing disabled"}, 503
    except errors.SignatureInvalid:
        return {"error": "invalid signature"}, 400
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        return {"error": "not an event"}, 400
    set_tenant(db.session, None)
    try:
        effects = services.handle_event(db.session, gw, event, now=utcnow(), portal_link=external_url("billing.index"))
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("stripe event %s failed", event.get("id"))
        return {"error": "handler failed"}, 500
    return {"received": True, "outcome": effects.outcome}, 200


# --- Bureau: issue vouchers and the voucher report ----------------------------------------------------------------


def _county_choices() -> list[Any]:
    counties = COUNTIES
    if g.user.kind != "admin" and g.user.staff_county:
        counties = {g.user.staff_county: COUNTIES[g.user.staff_county]}
    return choices_from(counties)


@bureau_bp.route("/", methods=["GET", "POST"])
def vouchers() -> Any:
    form = IssueVouchersForm()
    form.county.choices = _county_choices()
    issued: list[Any] = []
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            issued = services.issue_vouchers(
                db.session,
                g.user,
                product=form.product.data,
                county=form.county.data,
                funder_round=form.funder_round.data,
                count=form.count.data,
                value=form.value_yuan.data * 100,
                expires_at=None,
                now=utcnow(),
            )
            db.session.commit()
            flash(_("%(n)d vouchers are issued.", n=len(issued)), "success")
        else:
            status = 422
    scope = None if g.user.kind == "admin" else g.user.staff_county
    rows = services.voucher_report(db.session, scope, current_app.config["BENCHMARK"]["suppress_k"])
    return render_template("billing/bureau_vouchers.html", form=form, issued=issued, rows=rows), status
