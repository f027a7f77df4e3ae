"""The moderation queue: staff publish or reject pending products of firms in their scope; every decision audited."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from saas.bureau import services as bureau_services
from saas.bureau.views import bp
from saas.core.extensions import db
from saas.core.tenancy import set_tenant
from saas.marketplace import services
from saas.marketplace.catalog import default_catalog
from saas.marketplace.misses import gaps
from saas.models import utcnow
from saas.web.forms import ConfirmForm, has_control_characters
from saas.web.pagination import page_number, paginate


@bp.route("/moderation")
def moderation() -> Any:

    number, per_page = page_number(), current_app.config["PAGE_SIZE"]
    products, total = services.pending_in_scope(db.session, g.user, number, per_page)
    pager = paginate(number, total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    return render_template(
        "bureau/moderation.html",
        products=products,
        total=total,
        page=number,
        pages=pager.pages,
        catalog=default_catalog(),
        confirm=ConfirmForm(),
    )


@bp.route("/search-gaps")
def search_gaps() -> Any:
    """The sourcing-gap report: what buyers searched for in the last 90 days and did not find, by distinct visitors."""

    return render_template("bureau/search_gaps.html", rows=gaps(db.session, utcnow()))


@bp.route("/moderation/<uuid:firm_id>/<uuid:product_id>", methods=["POST"])
def moderate(firm_id: uuid.UUID, product_id: uuid.UUID) -> Any:
    firm = bureau_services.get_firm_in_scope(db.session, g.user, firm_id)
    set_tenant(db.session, firm.id, g.user.id)
    product = services.get_own(db.session, firm, product_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    decision = request.form.get("decision")
    reason = (request.form.get("reason") or "").strip()
    if decision not in ("approve", "reject"):
        abort(400)
    if decision == "reject" and not reason:
        flash(_("Give the supplier a reason for the rejection."), "error")
        return redirect(url_for("bureau.moderation"))
    if has_control_characters(reason, multiline=True):
        flash(_("Remove the invisible control characters (such as NUL) from the reason."), "error")
        return redirect(url_for("bureau.moderation"))
    services.moderate(db.session, g.user, firm, product, approve=decision == "approve", reason=reason or None)
    db.session.commit()
    flash(
        _("“%(title)s” is published.", title=product.title_zh)
        if decision == "approve"
        else _("“%(title)s” is rejected; the supplier sees your reason.", title=product.title_zh),
        "success",
    )
    return redirect(url_for("bureau.moderation"))
