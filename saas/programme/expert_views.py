"""The 评审专家's pages (assigned applications only; blind review hides the firm) and the staff's assignment step."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from saas.core.extensions import db
from saas.models import Firm, utcnow
from saas.programme import experts, labels, services
from saas.programme.errors import InvalidInput
from saas.programme.views import _staff_guard, bp
from saas.web.forms import Bounds, ConfirmForm, NumberRejected, has_control_characters, read_decimal
from scoring import programme as engine

MAX_COMMENT = 1000


def _expert_guard() -> Any:
    if g.get("user") is None:
        return redirect(url_for("auth.login", next=request.path))
    if g.user.kind != "expert":
        abort(403)
    return None


@bp.route("/expert/")
def expert_home() -> Any:
    if (guard := _expert_guard()) is not None:
        return guard
    return render_template("programme/expert_home.html", rows=experts.expert_assignments(db.session, g.user))


def _criteria(rnd: Any) -> tuple[engine.Criterion, ...]:
    return engine.RoundParams.from_dict(rnd.params).review.criteria


def _read_review(criteria: tuple[engine.Criterion, ...]) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    scores: dict[str, float] = {}
    comments: dict[str, str] = {}
    errors: dict[str, str] = {}
    for c in criteria:
        raw = request.form.get(f"score-{c.id}", "")
        try:
            value = read_decimal(raw, Bounds(Decimal(0), Decimal(str(c.points)), places=1))
        except NumberRejected as exc:
            errors[c.id] = exc.message
            continue
        if value is None:
            errors[c.id] = str(labels.FIELD_PROBLEMS["required"])
            continue
        scores[c.id] = float(value)
        comment = (request.form.get(f"comment-{c.id}") or "").strip()
        if has_control_characters(comment, multiline=True) or len(comment) > MAX_COMMENT:
            errors[f"comment-{c.id}"] = str(labels.FIELD_PROBLEMS["out_of_range"])
        comments[c.id] = comment[:MAX_COMMENT]
    return scores, comments, errors


@bp.route("/expert/assignments/<uuid:assignment_id>", methods=["GET", "POST"])
def review(assignment_id: uuid.UUID) -> Any:
    if (guard := _expert_guard()) is not None:
        return guard
    assignment, app, rnd = experts.get_assignment(db.session, g.user, assignment_id)
    criteria = _criteria(rnd)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        scores, comments, errors = _read_review(criteria)
        if not errors:
            try:
                experts.submit_review(db.session, g.user, rnd, app, assignment, scores, comments, now=utcnow())
            except InvalidInput as exc:
                db.session.rollback()
                errors = {k: str(labels.FIELD_PROBLEMS.get(v, v)) for k, v in exc.problems.items()}
            else:
                db.session.commit()
                flash(_("Your review is submitted."), "success")
                return redirect(url_for("programme.review", assignment_id=assignment.id))
    blind = engine.RoundParams.from_dict(rnd.params).review.blind
    firm = None if blind else db.session.get(Firm, app.firm_id)
    return render_template(
        "programme/expert_review.html",
        assignment=assignment,
        app=app,
        rnd=rnd,
        firm=firm,
        criteria=criteria,
        errors=errors,
        form=request.form if request.method == "POST" else {},
        confirm=ConfirmForm(),
    ), 400 if errors else 200


@bp.route("/expert/assignments/<uuid:assignment_id>/conflict", methods=["POST"])
def declare_conflict(assignment_id: uuid.UUID) -> Any:
    if (guard := _expert_guard()) is not None:
        return guard
    assignment, app, rnd = experts.get_assignment(db.session, g.user, assignment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    reason = (request.form.get("reason") or "").strip()[:500]
    experts.declare_conflict(db.session, g.user, rnd, app, assignment, reason, now=utcnow())
    db.session.commit()
    flash(_("The conflict is recorded; the application goes to another expert."), "success")
    return redirect(url_for("programme.expert_home"))


@bp.route("/bureau/rounds/<uuid:round_id>/assign", methods=["POST"])
def assign(round_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    made = experts.assign_experts(db.session, g.user, rnd, now=utcnow())
    db.session.commit()
    short = experts.shortfalls(db.session, rnd)
    flash(_("%(n)d assignments made.", n=made), "success")
    if short:
        flash(_("%(n)d applications still lack a conflict-free expert.", n=len(short)), "error")
    return redirect(url_for("programme.staff_round", round_id=rnd.id))
