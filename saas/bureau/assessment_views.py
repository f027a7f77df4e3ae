"""Bureau side of assessments: the submitted assessments in scope, a read-only view, overrides and verification.

Each firm's rows are read with the session bound to that firm (after the scope check), so the ORM guard and RLS
apply exactly as for the firm itself; only the list is a deliberate, scoped cross-tenant read.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import scoring
from saas.assessments import instruments, services
from saas.assessments import results as results_context
from saas.assessments.answers import AnswerRejected, form_state, parse_answer
from saas.assessments.labels import ERRORS, OVERRIDE_LABELS, SCALE_LABELS, STATUS_LABELS
from saas.assessments.views import send_evidence
from saas.bureau import services as bureau_services
from saas.bureau.views import bp
from saas.core.extensions import db
from saas.core.tenancy import get_in_tenant_or_404, set_tenant
from saas.models import Evidence
from saas.web.forms import ConfirmForm, has_control_characters
from saas.web.pagination import page_number, paginate


@bp.route("/assessments")
def assessments() -> Any:
    status = request.args.get("status")
    per_page = current_app.config["PAGE_SIZE"]
    page = page_number()
    rows, total = bureau_services.page_of_assessments(db.session, g.user, status, page, per_page)
    pager = paginate(page, total, per_page)
    if pager.redirect is not None:
        return pager.redirect
    return render_template(
        "bureau/assessments.html",
        rows=rows,
        total=total,
        page=page,
        pages=pager.pages,
        status=status,
        status_labels=STATUS_LABELS,
    )


def _load(firm_id: uuid.UUID, assessment_id: uuid.UUID) -> tuple[Any, Any, scoring.Instrument]:
    firm = bureau_services.get_firm_in_scope(db.session, g.user, firm_id)
    set_tenant(db.session, firm.id, g.user.id)
    assessment = services.get_assessment(db.session, firm, assessment_id)
    if assessment.status == "draft":
        abort(404)  # drafts are the firm's own work in progress
    return firm, assessment, instruments.engine_instrument(assessment.instrument_version)


@bp.route("/assessments/<uuid:firm_id>/<uuid:assessment_id>")
def assessment_detail(firm_id: uuid.UUID, assessment_id: uuid.UUID) -> Any:
    firm, assessment, instrument = _load(firm_id, assessment_id)
    snapshot = services.latest_snapshot(db.session, firm, assessment)
    context = results_context.build(db.session, firm, assessment, instrument, snapshot, staff=True)
    answers = services.answers_of(db.session, firm, assessment)
    return render_template(
        "bureau/assessment.html",
        firm=firm,
        dims=scoring.questions_for(instrument, assessment.industry),
        answers=answers,
        states={
            qid: form_state(services.question_of(instrument, assessment, qid), a.value)
            for qid, a in answers.items()
            if not a.na and a.value is not None
        },
        evidence=services.evidence_of(db.session, firm, assessment),
        overrides=services.overrides_of(db.session, firm, assessment),
        override_labels=OVERRIDE_LABELS,
        scale_labels=SCALE_LABELS,
        confirm=ConfirmForm(),
        **context,
    )


@bp.route("/assessments/<uuid:firm_id>/<uuid:assessment_id>/evidence/<uuid:evidence_id>")
def assessment_evidence(firm_id: uuid.UUID, assessment_id: uuid.UUID, evidence_id: uuid.UUID) -> Any:
    firm, assessment, _instrument = _load(firm_id, assessment_id)
    ev = get_in_tenant_or_404(db.session, Evidence, evidence_id, firm.id)
    if ev.assessment_id != assessment.id:
        abort(404)
    return send_evidence(ev)


@bp.route("/assessments/<uuid:firm_id>/<uuid:assessment_id>/override", methods=["POST"])
def override_answer(firm_id: uuid.UUID, assessment_id: uuid.UUID) -> Any:
    firm, assessment, instrument = _load(firm_id, assessment_id)
    back = url_for("bureau.assessment_detail", firm_id=firm.id, assessment_id=assessment.id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    status = request.form.get("status", "")
    if status not in OVERRIDE_LABELS:
        abort(400)
    if has_control_characters(request.form.get("note"), multiline=True):
        flash(_("Remove the invisible control characters (such as NUL) from the note."), "error")
        return redirect(back)
    try:
        question = services.question_of(instrument, assessment, request.form.get("question_id", ""))
        parsed = parse_answer(question, request.form) if status == "overridden" else None
        services.save_override(
            db.session,
            firm,
            g.user,
            assessment,
            question,
            status=status,
            value=parsed.value if parsed else None,
            na=parsed.na if parsed else False,
            note=(request.form.get("note") or "").strip()[:500] or None,
        )
    except (AnswerRejected, services.AssessmentError) as exc:
        db.session.rollback()
        flash(str(ERRORS.get(exc.code, exc.code)), "error")
        return redirect(back)
    except scoring.InvalidAnswer:
        db.session.rollback()
        flash(_("The corrected answer is incomplete."), "error")
        return redirect(back)
    db.session.commit()
    flash(_("The assessor's finding is recorded."), "success")
    return redirect(back + f"#q-{question.id}")


@bp.route("/assessments/<uuid:firm_id>/<uuid:assessment_id>/verify", methods=["POST"])
def verify_assessment(firm_id: uuid.UUID, assessment_id: uuid.UUID) -> Any:
    firm, assessment, _instrument = _load(firm_id, assessment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.verify_assessment(db.session, firm, g.user, assessment)
    db.session.commit()
    flash(_("The assessment is marked as verified on site."), "success")
    return redirect(url_for("bureau.assessment_detail", firm_id=firm.id, assessment_id=assessment.id))
