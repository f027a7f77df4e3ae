"""Ranking, preview and the two-person decision (staff); the public 公示 page with objections; the final lists."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from saas.core.extensions import db, limiter
from saas.core.pdf import render_pdf
from saas.models import Firm, utcnow
from saas.models.programme import ProgrammeApplication, ProgrammeDecision
from saas.programme import decisions, followup, labels, services
from saas.programme.errors import InvalidInput
from saas.programme.views import _staff_guard, bp
from saas.reference import COUNTIES, INDUSTRIES
from saas.web.forms import Bounds, ConfirmForm, NumberRejected, read_decimal

OBJECTION_LIMIT = "5 per hour"
PUBLIC_STATES = ("publicity", "final", "follow_up", "archived")
FINAL_STATES = ("final", "follow_up", "archived")
PREVIEW_FIELDS = {
    "total": ("quotas", "total", Bounds(1, 1000, places=0)),
    "industry_minimum": ("quotas", "industry_minimum", Bounds(0, 1000, places=0)),
    "county_minimum": ("quotas", "county_minimum", Bounds(0, 1000, places=0)),
    "split_threshold": ("review", "split_threshold", Bounds(0, 100, places=1)),
}


def _preview_changes() -> tuple[dict[str, Any], dict[str, str]]:
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (section, key, bounds) in PREVIEW_FIELDS.items():
        raw = request.args.get(name, "")
        try:
            value = read_decimal(raw, bounds)
        except NumberRejected as exc:
            errors[name] = exc.message
            continue
        if value is not None:
            changes.setdefault(section, {})[key] = int(value) if bounds.places == 0 else float(value)
    return changes, errors


def _firm_names(ranking: Any) -> dict[str, str]:

    ids = [uuid.UUID(e.application_id) for e in ranking.entries]
    if not ids:
        return {}
    rows = db.session.execute(
        select(ProgrammeApplication.id, Firm.name)
        .join(Firm, Firm.id == ProgrammeApplication.firm_id)
        .where(ProgrammeApplication.id.in_(ids))
        .execution_options(all_tenants=True)
    ).all()
    return {str(i): n for i, n in rows}


@bp.route("/bureau/rounds/<uuid:round_id>/ranking")
def ranking(round_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id)
    decisions._require_city(g.user)
    current, params = decisions.rank_round(db.session, rnd)
    changes, errors = _preview_changes()
    preview = None
    if changes and not errors:
        try:
            preview = decisions.preview(db.session, g.user, rnd, changes)
        except InvalidInput as exc:
            errors = {k.split(".")[-1]: str(labels.FIELD_PROBLEMS.get(v, v)) for k, v in exc.problems.items()}
    return render_template(
        "programme/staff_ranking.html",
        rnd=rnd,
        ranking=current,
        preview=preview,
        errors=errors,
        args=request.args,
        names=_firm_names(current),
        decision=decisions.latest_decision(db.session, rnd),
        objections=decisions.objections(db.session, rnd),
        confirm=ConfirmForm(),
        REASONS=labels.REASONS,
    )


@bp.route("/bureau/rounds/<uuid:round_id>/decide", methods=["POST"])
def decide(round_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    decisions.record_decision(db.session, g.user, rnd, now=utcnow())
    db.session.commit()
    flash(_("The decision is recorded; a second staff member must confirm it."), "success")
    return redirect(url_for("programme.ranking", round_id=rnd.id))


@bp.route("/bureau/rounds/<uuid:round_id>/decisions/<uuid:decision_id>/confirm", methods=["POST"])
def confirm_decision(round_id: uuid.UUID, decision_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id)

    decision = db.session.get(ProgrammeDecision, decision_id)
    if decision is None or decision.round_id != rnd.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    decisions.confirm_decision(db.session, g.user, rnd, decision, now=utcnow())
    db.session.commit()
    flash(_("The decision is confirmed."), "success")
    return redirect(url_for("programme.ranking", round_id=rnd.id))


@bp.route("/bureau/rounds/<uuid:round_id>/objections/<uuid:objection_id>/answer", methods=["POST"])
def answer_objection(round_id: uuid.UUID, objection_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id)
    objection = decisions.get_objection(db.session, rnd, objection_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    decisions.answer_objection(
        db.session,
        g.user,
        rnd,
        objection,
        uphold=request.form.get("verdict") == "uphold",
        answer=(request.form.get("answer") or "")[:2000],
        now=utcnow(),
    )
    db.session.commit()
    flash(_("The objection is answered."), "success")
    return redirect(url_for("programme.ranking", round_id=rnd.id))


# --- Public ------------------------------------------------------------------------------------------------------


def _public_round(round_id: uuid.UUID, states: tuple[str, ...]) -> Any:
    rnd = services.get_round(db.session, round_id, public=True)
    if rnd.status not in states:
        abort(404)
    return rnd


@bp.route("/rounds/<uuid:round_id>/publicity", methods=["GET"])
def publicity(round_id: uuid.UUID) -> Any:
    rnd = _public_round(round_id, PUBLIC_STATES)
    return _publicity_page(rnd, {}, {}, None)


def _publicity_page(rnd: Any, errors: dict[str, str], form: dict[str, str], target: str | None) -> Any:
    decision = decisions.confirmed_decision(db.session, rnd)
    return render_template(
        "programme/publicity.html",
        rnd=rnd,
        decision=decision,
        entries=decisions.public_entries(db.session, rnd, decision),
        errors=errors,
        form=form,
        target=target,
        confirm=ConfirmForm(),
        REASONS=labels.REASONS,
    )


@bp.route("/rounds/<uuid:round_id>/publicity/<uuid:application_id>/objection", methods=["POST"])
@limiter.limit(OBJECTION_LIMIT, methods=["POST"])
def lodge_objection(round_id: uuid.UUID, application_id: uuid.UUID) -> Any:
    rnd = _public_round(round_id, PUBLIC_STATES)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    form = {k: (request.form.get(k) or "") for k in ("name", "contact", "reason")}
    try:
        decisions.lodge_objection(
            db.session,
            rnd,
            application_id,
            name=form["name"],
            contact=form["contact"],
            reason=form["reason"],
            ip=request.remote_addr,
            now=utcnow(),
        )
    except InvalidInput as exc:
        db.session.rollback()
        errors = {k: str(labels.FIELD_PROBLEMS.get(v, v)) for k, v in exc.problems.items()}
        return _publicity_page(rnd, errors, form, str(application_id)), 400
    db.session.commit()
    flash(_("Your objection is recorded; the bureau will answer it."), "success")
    return redirect(url_for("programme.publicity", round_id=rnd.id))


@bp.route("/rounds/<uuid:round_id>/final.xlsx")
def final_xlsx(round_id: uuid.UUID) -> Any:
    rnd = _public_round(round_id, FINAL_STATES)

    book = Workbook()
    sheet = book.active
    sheet.title = "list"
    sheet.append([rnd.title])
    sheet["A1"].font = Font(bold=True)
    sheet.append([_("Rank"), _("Firm"), _("County / district"), _("Industry"), _("Score")])
    for e in decisions.final_entries(db.session, rnd):
        sheet.append(
            [e.rank, e.name or _("(name not published)"), str(COUNTIES[e.county]), str(INDUSTRIES[e.industry]), e.score]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"programme-{rnd.year}-{rnd.kind}.xlsx",
    )


@bp.route("/rounds/<uuid:round_id>/final.pdf")
def final_pdf(round_id: uuid.UUID) -> Any:
    rnd = _public_round(round_id, FINAL_STATES)

    decision = decisions.confirmed_decision(db.session, rnd)
    rows = [
        {
            "rank": e.rank,
            "name": e.name or _("(name not published)"),
            "county": str(COUNTIES[e.county]),
            "industry": str(INDUSTRIES[e.industry]),
            "score": None if e.score is None else round(e.score, 2),
        }
        for e in decisions.final_entries(db.session, rnd)
    ]
    pdf = render_pdf(
        "programme_final.html",
        {
            "title": rnd.title,
            "rows": rows,
            "head_hash": decision.head_hash or "",
            "start": decision.publicity_start.isoformat() if decision.publicity_start else "",
            "end": decision.publicity_end.isoformat() if decision.publicity_end else "",
        },
    )
    return send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"programme-{rnd.year}-{rnd.kind}.pdf",
    )


@bp.route("/bureau/dashboard")
def dashboard() -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    stats = decisions.dashboard(db.session, g.user)
    outcomes = followup.outcomes(db.session, g.user)
    return render_template(
        "programme/dashboard.html", stats=stats, outcomes=outcomes, slope=followup.slope_rows(outcomes)
    )
