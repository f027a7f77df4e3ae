"""The bureau's city view: the firm register within the staff member's scope, and firm verification."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from saas.bureau import services
from saas.core.extensions import db
from saas.core.security import require_staff
from saas.reference import COUNTIES, INDUSTRIES
from saas.web.forms import ConfirmForm
from saas.web.pagination import page_number, paginate

bp = Blueprint("bureau", __name__, url_prefix="/bureau")
bp.before_request(require_staff)


@bp.route("/")
def home() -> Any:
    verified_arg = request.args.get("verified")
    flt = services.FirmFilter(
        county=request.args.get("county") if request.args.get("county") in COUNTIES else None,
        industry=request.args.get("industry") if request.args.get("industry") in INDUSTRIES else None,
        verified={"yes": True, "no": False}.get(verified_arg or ""),
        q=(request.args.get("q") or "").strip()[:50] or None,
    )
    per_page = current_app.config["PAGE_SIZE"]
    page = page_number()
    firms, total = services.page_of_firms(db.session, g.user, flt, page, per_page)
    pager = paginate(page, total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    return render_template(
        "bureau/home.html",
        firms=firms,
        total=total,
        page=page,
        pages=pager.pages,
        flt=flt,
        by_county=services.counts_by(db.session, g.user, "county"),
        by_industry=services.counts_by(db.session, g.user, "industry"),
        counties=COUNTIES,
        industries=INDUSTRIES,
    )


@bp.route("/firms/<uuid:firm_id>")
def firm_detail(firm_id: uuid.UUID) -> Any:
    firm = services.get_firm_in_scope(db.session, g.user, firm_id)
    return render_template(
        "bureau/firm.html", firm=firm, events=services.firm_audit_trail(db.session, firm), confirm=ConfirmForm()
    )


@bp.route("/firms/<uuid:firm_id>/verify", methods=["POST"])
def verify_firm(firm_id: uuid.UUID) -> Any:
    firm = services.get_firm_in_scope(db.session, g.user, firm_id)
    if ConfirmForm().validate_on_submit():
        services.verify_firm(db.session, g.user, firm)
        db.session.commit()
        flash(_("%(firm)s is marked as verified.", firm=firm.name), "success")
    return redirect(url_for("bureau.firm_detail", firm_id=firm.id))
