"""Assessment services: the adapter between firm-owned rows and the pure ``scoring`` engine.

They load scoped rows, map them to the engine's frozen dataclasses, call it, and store immutable snapshots with the
engine and instrument versions. Every function takes the tenant (firm) and the actor explicitly, flushes, and leaves
the commit to the view.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

import scoring
from saas.assessments.instruments import active_instrument, engine_instrument, industry_pack
from saas.benchmarking.services import refresh
from saas.core.audit import record_event
from saas.core.domain import Invalid
from saas.core.tenancy import get_in_tenant_or_404, tenant_select
from saas.models import (
    Assessment,
    AssessmentAnswer,
    AssessorOverride,
    Evidence,
    Firm,
    ScoreSnapshot,
    User,
    utcnow,
)


class AssessmentError(Invalid):
    """A request the assessment rules refuse; ``code`` picks the user-facing message."""

    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(code)
        self.detail = detail


# --- Reading ----------------------------------------------------------------------------------------------------


def list_assessments(dbs: Session, firm: Firm) -> list[Assessment]:
    """Return the firm's assessments, newest first."""
    stmt = tenant_select(Assessment).where(Assessment.firm_id == firm.id).order_by(Assessment.started_at.desc())
    return list(dbs.scalars(stmt).unique())


def answers_of(dbs: Session, firm: Firm, assessment: Assessment) -> dict[str, AssessmentAnswer]:
    """Return the saved answers keyed by question id."""
    stmt = tenant_select(AssessmentAnswer).where(
        AssessmentAnswer.firm_id == firm.id, AssessmentAnswer.assessment_id == assessment.id
    )
    return {a.question_id: a for a in dbs.scalars(stmt)}


def evidence_of(dbs: Session, firm: Firm, assessment: Assessment) -> dict[str, list[Evidence]]:
    """Return the evidence files keyed by question id."""
    stmt = (
        tenant_select(Evidence)
        .where(Evidence.firm_id == firm.id, Evidence.assessment_id == assessment.id)
        .order_by(Evidence.uploaded_at)
    )
    grouped: dict[str, list[Evidence]] = {}
    for ev in dbs.scalars(stmt):
        grouped.setdefault(ev.question_id, []).append(ev)
    return grouped


def overrides_of(dbs: Session, firm: Firm, assessment: Assessment) -> dict[str, AssessorOverride]:
    """Return the assessor's overrides keyed by question id."""
    stmt = tenant_select(AssessorOverride).where(
        AssessorOverride.firm_id == firm.id, AssessorOverride.assessment_id == assessment.id
    )
    return {o.question_id: o for o in dbs.scalars(stmt)}


def snapshots(dbs: Session, firm: Firm, assessment: Assessment) -> list[ScoreSnapshot]:
    """Return every snapshot of an assessment, newest first."""
    stmt = (
        tenant_select(ScoreSnapshot)
        .where(ScoreSnapshot.firm_id == firm.id, ScoreSnapshot.assessment_id == assessment.id)
        .order_by(ScoreSnapshot.created_at.desc())
    )
    return list(dbs.scalars(stmt))


def latest_snapshot(dbs: Session, firm: Firm, assessment: Assessment) -> ScoreSnapshot | None:
    """Return the newest snapshot of an assessment (verified after submitted)."""
    stmt = (
        tenant_select(ScoreSnapshot)
        .where(ScoreSnapshot.firm_id == firm.id, ScoreSnapshot.assessment_id == assessment.id)
        .order_by(ScoreSnapshot.created_at.desc())
    )
    return dbs.scalars(stmt).first()


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int
    missing: dict[str, list[str]]  # dimension id -> unanswered question ids

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


def is_complete(instrument: scoring.Instrument, question: scoring.Question, answer: AssessmentAnswer | None) -> bool:
    """Return whether a saved answer is complete enough to score (N/A counts as complete)."""
    if answer is None:
        return False
    if answer.na:
        return question.na_allowed
    try:
        scoring.check_answer_value(instrument, question, answer.value)
    except scoring.InvalidAnswer:
        return False
    return True


def progress(instrument: scoring.Instrument, assessment: Assessment, answers: dict[str, AssessmentAnswer]) -> Progress:
    """Count complete answers and list what is missing, per dimension."""
    missing: dict[str, list[str]] = {}
    answered = total = 0
    for dim in scoring.questions_for(instrument, assessment.industry):
        for q in dim.questions:
            total += 1
            if is_complete(instrument, q, answers.get(q.id)):
                answered += 1
            else:
                missing.setdefault(dim.id, []).append(q.id)
    return Progress(answered, total, missing)


# --- Writing ----------------------------------------------------------------------------------------------------


def start_assessment(dbs: Session, firm: Firm, actor: User, today: Any) -> Assessment:
    """Open a new assessment on the active instrument, or return the open draft.

    :raises AssessmentError: ``too_soon`` when the last submission is less than the instrument's minimum interval ago.
    """
    existing = [a for a in list_assessments(dbs, firm)]
    draft = next((a for a in existing if a.status == "draft"), None)
    if draft is not None:
        return draft
    version = active_instrument(dbs)
    instrument = engine_instrument(version)
    submitted = [a for a in existing if a.submitted_at is not None]
    if submitted:
        last = max(a.submitted_at for a in submitted)
        check = scoring.check_reassessment(instrument, last.date(), today)
        if not check.allowed:
            raise AssessmentError("too_soon", earliest=check.earliest, days_since=check.days_since)
    assessment = Assessment(
        firm_id=firm.id,
        instrument_version_id=version.id,
        industry=industry_pack(instrument, firm),
        round=len(submitted),
        created_by_id=actor.id,
    )
    dbs.add(assessment)
    dbs.flush()
    record_event(dbs, actor, "assessment.started", subject_firm_id=firm.id, round=assessment.round)
    return assessment


def next_start_date(dbs: Session, assessments: list[Assessment], today: Any) -> Any:
    """Return the first day a new assessment may start, or None when it may start today."""
    submitted = [a.submitted_at for a in assessments if a.submitted_at is not None]
    if not submitted or any(a.status == "draft" for a in assessments):
        return None
    check = scoring.check_reassessment(engine_instrument(active_instrument(dbs)), max(submitted).date(), today)
    return None if check.allowed else check.earliest


def _require_draft(assessment: Assessment) -> None:
    if assessment.status != "draft":
        raise AssessmentError("not_draft")


def question_of(instrument: scoring.Instrument, assessment: Assessment, question_id: str) -> scoring.Question:
    """Return the question ``question_id`` of this assessment's layout.

    :raises AssessmentError: ``unknown_question`` when it is not part of the layout.
    """
    for dim in scoring.questions_for(instrument, assessment.industry):
        for q in dim.questions:
            if q.id == question_id:
                return q
    raise AssessmentError("unknown_question")


def save_answer(
    dbs: Session,
    firm: Firm,
    actor: User,
    assessment: Assessment,
    question: scoring.Question,
    *,
    value: Any,
    na: bool,
    confidence: int | None,
    client: tuple[str, int] | None = None,
) -> AssessmentAnswer:
    """Save (insert or replace) the answer to one question of a draft; partial row answers are kept as drafts.

    ``client`` is the wizard page's id and its change number: a save older than the last one stored from the same
    page is ignored (the row is returned unchanged), and the same one again changes nothing, so retries are safe.

    :raises AssessmentError: ``not_draft`` after submission; ``na_not_allowed``; ``bad_confidence``.
    """
    _require_draft(assessment)
    if na and not question.na_allowed:
        raise AssessmentError("na_not_allowed")
    if confidence is not None and not 1 <= confidence <= 5:
        raise AssessmentError("bad_confidence")
    row = dbs.scalar(
        tenant_select(AssessmentAnswer).where(
            AssessmentAnswer.firm_id == firm.id,
            AssessmentAnswer.assessment_id == assessment.id,
            AssessmentAnswer.question_id == question.id,
        )
    )
    if row is None:
        row = AssessmentAnswer(firm_id=firm.id, assessment_id=assessment.id, question_id=question.id)
        dbs.add(row)
    elif client is not None and row.client_page == client[0] and (row.client_seq or 0) > client[1]:
        return row  # a later change from this page is stored already: this is a late retry
    row.client_page, row.client_seq = client if client is not None else (None, None)
    row.value = None if na else value
    row.na = na
    row.confidence = confidence
    row.updated_at = assessment.updated_at = utcnow()
    row.updated_by_id = actor.id
    dbs.flush()
    return row


def save_profile(dbs: Session, firm: Firm, assessment: Assessment, top_kpis: list[str], cost_shares: dict[str, float]):
    """Store the prioritisation inputs: up to three KPIs in order and the cost structure (shares summing to ≤ 1)."""
    _require_draft(assessment)
    assessment.profile = {"top_kpis": top_kpis[:3], "cost_shares": normalised_shares(cost_shares)}
    assessment.updated_at = utcnow()


def normalised_shares(shares: dict[str, float]) -> dict[str, float]:
    """Scale non-negative cost shares so they sum to exactly 1 (firms give rough percentages); all-zero → empty."""
    positive = {k: v for k, v in shares.items() if v > 0}
    total = sum(positive.values())
    if total <= 0:
        return {}
    keys = sorted(positive)
    scaled = {k: round(positive[k] / total, 6) for k in keys[:-1]}
    scaled[keys[-1]] = 1 - sum(scaled.values())
    return scaled


def engine_input(
    assessment: Assessment,
    answers: dict[str, AssessmentAnswer],
    evidence: dict[str, list[Evidence]],
    overrides: dict[str, AssessorOverride] | None = None,
) -> scoring.AssessmentInput:
    """Map stored rows to the engine's input (only complete answers; the caller checks completeness)."""
    profile = assessment.profile or {}
    return scoring.AssessmentInput(
        industry=assessment.industry,
        answers={
            qid: scoring.Answer(
                value=None if a.na else a.value, na=a.na, confidence=a.confidence, has_evidence=bool(evidence.get(qid))
            )
            for qid, a in answers.items()
        },
        overrides={
            qid: scoring.Override(status=o.status, value=o.value, na=o.na) for qid, o in (overrides or {}).items()
        },
        profile=scoring.Profile(
            top_kpis=tuple(profile.get("top_kpis", ())), cost_shares=dict(profile.get("cost_shares", {}))
        )
        if profile
        else None,
        duration_seconds=(assessment.updated_at - assessment.started_at).total_seconds(),
    )


def headline_view(result: scoring.ScoreResult, kind: str) -> scoring.ViewResult:
    """Return the view a snapshot headlines: the verified view once verified, else the self-assessment."""
    return result.verified_view if kind == "verified" and result.verified_view is not None else result.self_view


def store_snapshot(
    dbs: Session, firm: Firm, assessment: Assessment, kind: str, result: scoring.ScoreResult
) -> ScoreSnapshot:
    """Store ``result`` as an immutable snapshot of ``assessment`` with its headline numbers."""
    view = headline_view(result, kind)
    snap = ScoreSnapshot(
        firm_id=firm.id,
        assessment_id=assessment.id,
        kind=kind,
        engine_version=result.engine_version,
        instrument_version_id=assessment.instrument_version_id,
        instrument_checksum=result.instrument_checksum,
        result=result.to_dict(),
        composite=view.composite,
        maturity=view.maturity,
        level=view.level,
        band=view.band,
        dimension_scores={d.dimension_id: d.score for d in view.dimensions},
    )
    dbs.add(snap)
    dbs.flush()
    return snap


def submit_assessment(
    dbs: Session, firm: Firm, actor: User, assessment: Assessment, *, refresh_benchmarks: bool = True
) -> ScoreSnapshot:
    """Score a complete draft, freeze the result in an immutable snapshot and refresh the firm's cohorts.

    Bulk loaders pass ``refresh_benchmarks=False`` and refresh every cohort once at the end.

    :raises AssessmentError: ``not_draft``; ``incomplete`` (with the missing question ids).
    """
    _require_draft(assessment)
    instrument = engine_instrument(assessment.instrument_version)
    answers = answers_of(dbs, firm, assessment)
    prog = progress(instrument, assessment, answers)
    if prog.missing:
        raise AssessmentError("incomplete", missing=prog.missing)
    result = scoring.score_assessment(instrument, engine_input(assessment, answers, evidence_of(dbs, firm, assessment)))
    assessment.status = "submitted"
    assessment.submitted_at = utcnow()
    snap = store_snapshot(dbs, firm, assessment, "submitted", result)
    record_event(dbs, actor, "assessment.submitted", subject_firm_id=firm.id, composite=snap.composite)
    if refresh_benchmarks:
        _refresh_benchmarks(dbs, firm, assessment)
    return snap


def _refresh_benchmarks(dbs: Session, firm: Firm, assessment: Assessment) -> None:
    """Recompute the cohorts this firm belongs to, so peers see the new scores at once."""
    refresh(dbs, assessment.instrument_version, industry=firm.industry)


def stored_result(snapshot: ScoreSnapshot) -> scoring.ScoreResult:
    """Rebuild the engine result stored in a snapshot."""
    return scoring.ScoreResult.from_dict(snapshot.result)


def save_override(
    dbs: Session,
    firm: Firm,
    assessor: User,
    assessment: Assessment,
    question: scoring.Question,
    *,
    status: str,
    value: Any,
    na: bool,
    note: str | None,
) -> AssessorOverride:
    """Record an assessor's on-site finding for one answer: "approved" as given, or "overridden" with a value."""
    if assessment.status == "draft":
        raise AssessmentError("not_submitted")
    if status == "overridden" and not na:
        scoring.check_answer_value(engine_instrument(assessment.instrument_version), question, value)
    rows = overrides_of(dbs, firm, assessment)
    row = rows.get(question.id)
    if row is None:
        row = AssessorOverride(firm_id=firm.id, assessment_id=assessment.id, question_id=question.id)
        dbs.add(row)
    row.status, row.value, row.na, row.note, row.assessor_id = status, value, na, note, assessor.id
    dbs.flush()
    record_event(dbs, assessor, "assessment.override", subject_firm_id=firm.id, question=question.id, status=status)
    return row


def verify_assessment(
    dbs: Session, firm: Firm, assessor: User, assessment: Assessment, *, refresh_benchmarks: bool = True
) -> ScoreSnapshot:
    """Mark a submitted assessment verified on site and store the snapshot with the verified view."""
    if assessment.status == "draft":
        raise AssessmentError("not_submitted")
    instrument = engine_instrument(assessment.instrument_version)
    inputs = engine_input(
        assessment,
        answers_of(dbs, firm, assessment),
        evidence_of(dbs, firm, assessment),
        overrides_of(dbs, firm, assessment),
    )
    result = scoring.score_assessment(instrument, inputs)
    assessment.status = "verified"
    assessment.verified_at = utcnow()
    assessment.verified_by_id = assessor.id
    snap = store_snapshot(dbs, firm, assessment, "verified", result)
    record_event(dbs, assessor, "assessment.verified", subject_firm_id=firm.id, composite=snap.composite)
    if refresh_benchmarks:
        _refresh_benchmarks(dbs, firm, assessment)
    return snap


def get_assessment(dbs: Session, firm: Firm, assessment_id: uuid.UUID) -> Assessment:
    """Load one of the firm's assessments or 404."""

    return get_in_tenant_or_404(dbs, Assessment, assessment_id, firm.id)
