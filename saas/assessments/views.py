"""The firm's self-assessment: start, wizard with autosave, evidence, review, submit and results."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_date, format_time
from flask_babel import gettext as _

import scoring
from saas.assessments import evidence as evidence_store
from saas.assessments import instruments, services
from saas.assessments import results as results_context
from saas.assessments.answers import AnswerRejected, form_state, parse_answer, typed_state
from saas.assessments.labels import CONFIDENCE_LABELS, ERRORS, SCALE_LABELS, STATUS_LABELS
from saas.core.extensions import db
from saas.core.links import safe_redirect_target
from saas.core.security import require_firm_member
from saas.core.tenancy import get_in_tenant_or_404
from saas.models import Evidence, utcnow
from saas.web.forms import PERCENT, ConfirmForm, parse_decimal, without_control_characters
from saas.web.lang import ui_lang

bp = Blueprint("assessments", __name__, url_prefix="/assessments")
bp.before_request(require_firm_member)


def _message(code: str, **detail: Any) -> str:
    if code == "too_soon":
        return _(
            "A new assessment can start 90 days after the last submission, on %(date)s.",
            date=format_date(detail["earliest"], "long"),
        )
    if code == "too_large":
        return str(ERRORS[code]) % {"mb": current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)}
    return str(ERRORS[code])


def _load(assessment_id: uuid.UUID) -> tuple[Any, scoring.Instrument]:
    assessment = services.get_assessment(db.session, g.tenant, assessment_id)
    return assessment, instruments.engine_instrument(assessment.instrument_version)


@bp.route("/")
def index() -> Any:
    assessments = services.list_assessments(db.session, g.tenant)
    return render_template(
        "assessments/index.html",
        assessments=assessments,
        confirm=ConfirmForm(),
        status_labels=STATUS_LABELS,
        next_allowed=services.next_start_date(db.session, assessments, utcnow().date()),
        **results_context.history(db.session, g.tenant, assessments),
    )


@bp.route("/start", methods=["POST"])
def start() -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        assessment = services.start_assessment(db.session, g.tenant, g.user, utcnow().date())
    except services.AssessmentError as exc:
        flash(_message(exc.code, **exc.detail), "error")
        return redirect(url_for("assessments.index"))
    db.session.commit()
    return redirect(url_for("assessments.step", assessment_id=assessment.id, number=1))


@bp.route("/<uuid:assessment_id>/")
def resume(assessment_id: uuid.UUID) -> Any:
    """Continue where the firm left off: the first page with an unanswered question, or the results."""
    assessment, instrument = _load(assessment_id)
    if assessment.status != "draft":
        return redirect(url_for("assessments.results", assessment_id=assessment.id))
    prog = services.progress(instrument, assessment, services.answers_of(db.session, g.tenant, assessment))
    dims = scoring.questions_for(instrument, assessment.industry)
    for number, dim in enumerate(dims, start=1):
        if dim.id in prog.missing:
            return redirect(url_for("assessments.step", assessment_id=assessment.id, number=number))
    return redirect(url_for("assessments.review", assessment_id=assessment.id))


@bp.route("/<uuid:assessment_id>/step/<int:number>", methods=["GET", "POST"])
def step(assessment_id: uuid.UUID, number: int) -> Any:
    """One dimension per page. JavaScript autosaves each change; without it, the page's button saves them all."""
    assessment, instrument = _load(assessment_id)
    if assessment.status != "draft":
        return redirect(url_for("assessments.results", assessment_id=assessment.id))
    dims = scoring.questions_for(instrument, assessment.industry)
    if not 1 <= number <= len(dims):
        abort(404)
    dim = dims[number - 1]
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        existing = services.answers_of(db.session, g.tenant, assessment)
        for question in dim.questions:
            try:
                parsed = parse_answer(question, request.form)
                if parsed.value is not None or parsed.na or question.id in existing:
                    _save(assessment, question, parsed)
            except (AnswerRejected, services.AssessmentError) as exc:
                errors[question.id] = _message(exc.code)
        # Valid answers are kept even when others on the page are not (as autosave would have kept them).
        db.session.commit()
        if not errors:
            if number < len(dims):
                return redirect(url_for("assessments.step", assessment_id=assessment.id, number=number + 1))
            return redirect(url_for("assessments.review", assessment_id=assessment.id))
    answers = services.answers_of(db.session, g.tenant, assessment)
    prog = services.progress(instrument, assessment, answers)
    states = {q.id: form_state(q, answers[q.id].value) for q in dim.questions if q.id in answers}
    for qid in errors:  # show what was typed, not what is stored, where the input was refused
        states[qid] = typed_state(next(q for q in dim.questions if q.id == qid), request.form)
    return render_template(
        "assessments/step.html",
        assessment=assessment,
        instrument=instrument,
        dims=dims,
        dim=dim,
        number=number,
        progress=prog,
        answers=answers,
        states=states,
        evidence=services.evidence_of(db.session, g.tenant, assessment),
        errors=errors,
        scale_labels=SCALE_LABELS,
        confidence_labels=CONFIDENCE_LABELS,
        default_confidence=str(instrument.params.confidence_default),
        confirm=ConfirmForm(),
    ), (400 if errors else 200)


def _save(assessment: Any, question: scoring.Question, parsed: Any, client: tuple[str, int] | None = None) -> Any:
    return services.save_answer(
        db.session,
        g.tenant,
        g.user,
        assessment,
        question,
        value=parsed.value,
        na=parsed.na,
        confidence=parsed.confidence,
        client=client,
    )


def _client_revision() -> tuple[str, int] | None:
    """The autosave's page id and change number (absent without JavaScript, or from an older page)."""
    page, seq = request.form.get("client_page", ""), request.form.get("client_seq", "")
    if not (0 < len(page) <= 32 and page.isalnum() and seq.isdigit() and len(seq) <= 15):
        return None
    return page, int(seq)


@bp.route("/<uuid:assessment_id>/answer", methods=["POST"])
def autosave(assessment_id: uuid.UUID) -> Any:
    """Save one question's answer (called by the wizard's script on every change); answers JSON."""
    assessment, instrument = _load(assessment_id)
    if assessment.status != "draft":
        return jsonify(ok=False, error=_message("not_draft")), 409
    client = _client_revision()
    try:
        question = services.question_of(instrument, assessment, request.form.get("question_id", ""))
        answer = _save(assessment, question, parse_answer(question, request.form), client)
    except (AnswerRejected, services.AssessmentError) as exc:
        db.session.rollback()
        return jsonify(ok=False, error=_message(exc.code)), (409 if exc.code == "not_draft" else 400)
    complete = services.is_complete(instrument, question, answer)
    prog = services.progress(instrument, assessment, services.answers_of(db.session, g.tenant, assessment))
    db.session.commit()
    return jsonify(
        ok=True,
        question_id=question.id,
        seq=client[1] if client else None,
        stale=client is not None and answer.client_seq != client[1],  # a later change of this page was kept
        complete=complete,
        answered=prog.answered,
        total=prog.total,
        percent=prog.percent,
        saved_at=format_time(utcnow(), "medium"),
        message=_("Saved"),
        progress_text=_("%(answered)d of %(total)d questions answered", answered=prog.answered, total=prog.total),
    )


@bp.route("/<uuid:assessment_id>/evidence", methods=["POST"])
def upload_evidence(assessment_id: uuid.UUID) -> Any:
    assessment, instrument = _load(assessment_id)
    number = request.form.get("step", "1")
    back = url_for("assessments.step", assessment_id=assessment.id, number=number if number.isdigit() else 1)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        question = services.question_of(instrument, assessment, request.form.get("question_id", ""))
        if assessment.status != "draft":
            raise services.AssessmentError("not_draft")
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise evidence_store.EvidenceRejected("no_file")
        cfg = current_app.config
        try:
            data = upload.stream.read(cfg["EVIDENCE_MAX_BYTES"] + 1)
        finally:
            upload.close()
        checked = evidence_store.check_upload(data, cfg["EVIDENCE_MAX_BYTES"], cfg["EVIDENCE_MAX_PIXELS"])
    except (services.AssessmentError, evidence_store.EvidenceRejected) as exc:
        flash(_message(exc.code), "error")
        return redirect(back + "#q-" + quote(request.form.get("question_id", ""), safe=""))
    stored = evidence_store.store(g.tenant.id, checked)
    db.session.add(
        Evidence(
            firm_id=g.tenant.id,
            assessment_id=assessment.id,
            question_id=question.id,
            original_name=without_control_characters(upload.filename or "")[:200] or "file",
            stored_name=stored,
            content_type=checked.content_type,
            size=len(checked.data),
            sha256=checked.sha256,
            uploaded_by_id=g.user.id,
        )
    )
    db.session.commit()
    flash(_("The evidence file is uploaded."), "success")
    return redirect(back + f"#q-{question.id}")


@bp.route("/<uuid:assessment_id>/evidence/<uuid:evidence_id>")
def download_evidence(assessment_id: uuid.UUID, evidence_id: uuid.UUID) -> Any:
    assessment = services.get_assessment(db.session, g.tenant, assessment_id)
    ev = get_in_tenant_or_404(db.session, Evidence, evidence_id, g.tenant.id)
    if ev.assessment_id != assessment.id:
        abort(404)
    return send_evidence(ev)


def send_evidence(ev: Evidence) -> Any:
    """Send a stored evidence file as an attachment with its checked type (never rendered inline)."""
    path = evidence_store.path_of(ev.firm_id, ev.stored_name)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=ev.content_type, as_attachment=True, download_name=ev.original_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<uuid:assessment_id>/evidence/<uuid:evidence_id>/delete", methods=["POST"])
def delete_evidence(assessment_id: uuid.UUID, evidence_id: uuid.UUID) -> Any:
    assessment = services.get_assessment(db.session, g.tenant, assessment_id)
    ev = get_in_tenant_or_404(db.session, Evidence, evidence_id, g.tenant.id)
    if ev.assessment_id != assessment.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if assessment.status != "draft":
        flash(_message("not_draft"), "error")
    else:
        db.session.delete(ev)
        db.session.commit()
        evidence_store.remove(ev.firm_id, ev.stored_name)
        flash(_("The evidence file is removed."), "info")
    back = safe_redirect_target(request.form.get("back"))
    return redirect(back or url_for("assessments.resume", assessment_id=assessment.id))


@bp.route("/<uuid:assessment_id>/review", methods=["GET", "POST"])
def review(assessment_id: uuid.UUID) -> Any:
    assessment, instrument = _load(assessment_id)
    if assessment.status != "draft":
        return redirect(url_for("assessments.results", assessment_id=assessment.id))
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        kpi_ids = {k.id for k in instrument.kpis}
        top = [k for k in (request.form.get(f"kpi{i}") for i in (1, 2, 3)) if k in kpi_ids]
        shares: dict[str, float] = {}
        refused = []
        for cat in instrument.cost_categories:
            raw = (request.form.get(f"cost-{cat.id}") or "").strip()
            if raw:
                share = parse_decimal(raw, PERCENT)  # NaN, Infinity or 1E+400 is no share of anything
                if share is None:
                    refused.append(cat.name.get(ui_lang()))
                    continue
                shares[cat.id] = float(share) / 100
        services.save_profile(db.session, g.tenant, assessment, list(dict.fromkeys(top)), shares)
        db.session.commit()
        flash(_("Your priorities are saved."), "success")
        if refused:
            flash(
                _(
                    "Not saved, as they are not numbers from 0 to 100: %(fields)s.",
                    fields=("、" if ui_lang() == "zh" else ", ").join(refused),
                ),
                "warning",
            )
        return redirect(url_for("assessments.review", assessment_id=assessment.id))
    dims = scoring.questions_for(instrument, assessment.industry)
    answers = services.answers_of(db.session, g.tenant, assessment)
    return render_template(
        "assessments/review.html",
        assessment=assessment,
        instrument=instrument,
        dims=dims,
        progress=services.progress(instrument, assessment, answers),
        confirm=ConfirmForm(),
    )


@bp.route("/<uuid:assessment_id>/submit", methods=["POST"])
def submit(assessment_id: uuid.UUID) -> Any:
    assessment, _instrument = _load(assessment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.submit_assessment(db.session, g.tenant, g.user, assessment)
    except services.AssessmentError as exc:
        db.session.rollback()
        flash(_message(exc.code), "error")
        return redirect(url_for("assessments.review", assessment_id=assessment_id))
    db.session.commit()
    flash(_("The assessment is submitted. Here are your results."), "success")
    return redirect(url_for("assessments.results", assessment_id=assessment_id))


@bp.route("/<uuid:assessment_id>/results")
def results(assessment_id: uuid.UUID) -> Any:
    assessment, instrument = _load(assessment_id)
    snapshot = services.latest_snapshot(db.session, g.tenant, assessment)
    if snapshot is None:
        return redirect(url_for("assessments.resume", assessment_id=assessment.id))
    context = results_context.build(db.session, g.tenant, assessment, instrument, snapshot, staff=False)
    return render_template("assessments/results.html", **context)
