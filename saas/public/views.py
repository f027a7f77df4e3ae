"""Public pages: the home page, the language switch and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import func, select, text

from saas.core import pagecache
from saas.core.extensions import csrf, db
from saas.core.links import safe_redirect_target
from saas.marketplace.public_views import sitemap_xml
from saas.models import Firm
from saas.reference import COUNTIES, INDUSTRIES

bp = Blueprint("public", __name__)


@bp.route("/")
@pagecache.for_visitors
def home() -> Any:
    counts = dict(db.session.execute(select(Firm.industry, func.count()).group_by(Firm.industry)).all())
    total = sum(counts.values())
    return render_template(
        "public/home.html", industry_counts=counts, firm_total=total, industries=INDUSTRIES, counties=COUNTIES
    )


@bp.route("/language", methods=["POST"])
@csrf.exempt
def set_language() -> Any:
    """Switch the interface language; remembered in the session and, for logged-in users, on the account.

    Visitors switch without a CSRF token (the worst a forged switch does is change their display language), so
    public pages carry no token and need no session: that keeps them cacheable. Logged-in users' switches write the
    account and are CSRF-checked as usual.
    """
    if g.get("user") is not None:
        csrf.protect()
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if g.get("user") is not None:
            g.user.locale = lang
            db.session.commit()
    return redirect(safe_redirect_target(request.form.get("next")) or url_for("public.home"))


@bp.route("/sitemap.xml")
def sitemap() -> Any:

    return sitemap_xml()


@bp.route("/healthz")
def healthz() -> Any:
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok", database=db.dialect)
