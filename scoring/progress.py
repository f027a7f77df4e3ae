"""Compare two assessments (T0 → T1) and check the minimum interval between submissions."""

from __future__ import annotations

from datetime import date, timedelta

from scoring.errors import RubricMismatch
from scoring.model import Instrument
from scoring.plausibility import make_flag
from scoring.results import Comparison, DimensionDelta, Flag, ReassessmentCheck, ScoreResult
from scoring.tolerance import above, at_least, below, shown


def compare_results(instrument: Instrument, before: ScoreResult, after: ScoreResult) -> Comparison:
    """Return per-dimension deltas (self view) with material/reliable marks and progress flags.

    A change is material when |ΔD| ≥ min_delta; an improvement is reliable when ΔD ≥ min_delta and every question
    of that dimension whose score rose and that requires evidence has evidence (or an approving assessor) at T1.

    :raises RubricMismatch: if either result was scored on another instrument version.
    """
    for result in (before, after):
        if (result.instrument_id, result.instrument_version, result.instrument_checksum) != (
            instrument.id,
            instrument.version,
            instrument.checksum,
        ):
            raise RubricMismatch(
                f"result is for {result.instrument_id} {result.instrument_version}, not {instrument.id} "
                f"{instrument.version}; compare across versions through the crosswalk subset"
            )
    params = instrument.params
    old = {q.question_id: q for q in before.questions}
    dims = []
    for ds in after.self_view.dimensions:
        prev = next((d for d in before.self_view.dimensions if d.dimension_id == ds.dimension_id), None)
        b = prev.score if prev is not None else None
        delta = ds.score - b if ds.score is not None and b is not None else None
        material = delta is not None and at_least(abs(delta), params.min_delta)
        rose = [
            q
            for q in after.questions
            if q.dimension_id == ds.dimension_id
            and q.self_score is not None
            and q.question_id in old
            and below(old[q.question_id].self_score or 0.0, q.self_score)
        ]
        evidenced = all(not q.evidence_required or q.has_evidence or _approved(after, q.question_id) for q in rose)
        reliable = delta is not None and at_least(delta, params.min_delta) and evidenced
        dims.append(
            DimensionDelta(
                ds.dimension_id,
                b,
                ds.score,
                delta,
                material,
                reliable,
                prev.level if prev is not None else None,
                ds.level,
            )
        )
    m_delta = _delta(before.self_view.maturity, after.self_view.maturity)
    flags: list[Flag] = []
    new_evidence = any(
        q.has_evidence and not (q.question_id in old and old[q.question_id].has_evidence) for q in after.questions
    )
    limit = params.jump_without_evidence
    if m_delta is not None and above(m_delta, limit) and not new_evidence:
        flags.append(make_flag("jump_without_evidence", "warning", delta=shown(m_delta, limit, 1), limit=f"{limit:g}"))
    return Comparison(
        dimensions=tuple(dims),
        maturity_delta=m_delta,
        outcome_delta=_delta(before.self_view.outcome, after.self_view.outcome),
        composite_delta=_delta(before.self_view.composite, after.self_view.composite),
        confidence_delta=_delta(before.confidence, after.confidence),
        evidence_coverage_delta=_delta(before.evidence_coverage, after.evidence_coverage),
        flags=tuple(flags),
    )


def check_reassessment(instrument: Instrument, last_submitted: date, proposed: date) -> ReassessmentCheck:
    """Return whether a new submission on ``proposed`` respects the instrument's minimum interval after the last."""
    gap = instrument.params.reassessment_min_days
    days = (proposed - last_submitted).days
    return ReassessmentCheck(days >= gap, days, last_submitted + timedelta(days=gap))


def _delta(before: float | None, after: float | None) -> float | None:
    return after - before if before is not None and after is not None else None


def _approved(result: ScoreResult, qid: str) -> bool:
    override = result.inputs.overrides.get(qid)
    return override is not None and override.status == "approved"
