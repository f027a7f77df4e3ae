"""Score one assessment: item scores, three views, confidence, evidence, flags, advice and priorities."""

from __future__ import annotations

import hashlib
import json

from scoring.advice import advice_plans
from scoring.inputs import canonical_input, layout_for
from scoring.items import ambition, item_score
from scoring.maturity import compute_view, structure
from scoring.model import MATURITY, Instrument, Layout, Params
from scoring.plausibility import plausibility_flags
from scoring.priority import priorities
from scoring.results import AssessmentInput, QuestionResult, ScoreResult
from scoring.tolerance import at_most, below

ENGINE_VERSION = "1.1.0"

Scores = dict[str, float | None]


def score_assessment(instrument: Instrument, inp: AssessmentInput) -> ScoreResult:
    """Score an assessment against an instrument version; pure and deterministic.

    :raises InvalidAnswer: if the input does not fit the instrument (see ``canonical_input``).
    """
    inp = canonical_input(instrument, inp)
    layout = layout_for(instrument, inp.industry)
    params = instrument.params
    self_s, ev_s, ver_s = _view_scores(layout, params, inp)
    struct = structure(layout, self_s)  # the evidence view has the same N/A pattern as the self view
    self_view = compute_view("self", layout, params, self_s, struct)
    evidence_view = compute_view("evidence", layout, params, ev_s, struct)
    verified_view = None
    if inp.overrides:
        same_na = all((ver_s[qid] is None) == (self_s[qid] is None) for qid in self_s)
        verified_view = compute_view("verified", layout, params, ver_s, struct if same_na else None)
    local_w = {qid: w for weights, _ in struct.values() for qid, w in weights.items()}
    global_w = {
        qid: dim.weight * local_w[qid]
        for dim in layout.dimensions
        if dim.role == MATURITY
        for ind in dim.indicators
        for qid in (q.id for q in ind.questions)
        if qid in local_w
    }
    questions = tuple(_question_result(layout, inp, qid, self_s, ev_s, ver_s, local_w) for qid in layout.index)
    confidence = _confidence(inp, params, global_w)
    trust_gap = None
    if verified_view is not None and self_view.maturity is not None and verified_view.maturity is not None:
        trust_gap = self_view.maturity - verified_view.maturity
    coverage = _evidence_coverage(layout, inp, self_s, global_w)
    plans = advice_plans(layout, params, inp.answers, self_s, self_view, struct)
    return ScoreResult(
        engine_version=ENGINE_VERSION,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        instrument_checksum=instrument.checksum,
        inputs=inp,
        questions=questions,
        self_view=self_view,
        evidence_view=evidence_view,
        verified_view=verified_view,
        confidence=confidence,
        low_confidence=confidence is not None and below(confidence, params.confidence_low_below),
        evidence_coverage=coverage,
        trust_gap=trust_gap,
        flags=plausibility_flags(instrument, layout, inp, self_s, self_view, confidence, trust_gap),
        advice=plans,
        priorities=priorities(layout, params, inp.profile, inp.cohort_p90, self_view, plans),
        answers_fingerprint=answers_fingerprint(inp),
        outputs=instrument.outputs,
    )


def _view_scores(layout: Layout, params: Params, inp: AssessmentInput) -> tuple[Scores, Scores, Scores]:
    """Return item scores for the self, evidence and verified views (None = N/A; a missing answer scores 0)."""
    self_s: Scores = {}
    ev_s: Scores = {}
    ver_s: Scores = {}
    for qid, ref in layout.index.items():
        q, answer, override = ref.question, inp.answers.get(qid), inp.overrides.get(qid)
        s: float | None
        if answer is None:
            s = 0.0
        elif answer.na:
            s = None
        else:
            s = item_score(q, params, answer.value)
        self_s[qid] = s
        rule, evidenced = q.evidence, answer is not None and answer.has_evidence
        ev_s[qid] = min(s, rule.cap) if rule is not None and s is not None and not evidenced else s
        if override is None:
            ver_s[qid] = ev_s[qid]  # not reviewed: the evidence-supported score stands
        elif override.status == "approved":
            ver_s[qid] = s
        else:
            ver_s[qid] = None if override.na else item_score(q, params, override.value)
    return self_s, ev_s, ver_s


def answers_fingerprint(inp: AssessmentInput) -> str:
    """Return a SHA-256 of the canonical answer values and N/A marks (to spot identical answer vectors)."""
    vector = {qid: [a.value, a.na] for qid, a in sorted(inp.answers.items())}
    text = json.dumps([inp.industry, vector], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _question_result(
    layout: Layout,
    inp: AssessmentInput,
    qid: str,
    self_s: dict[str, float | None],
    ev_s: dict[str, float | None],
    ver_s: dict[str, float | None],
    local_w: dict[str, float],
) -> QuestionResult:
    ref = layout.index[qid]
    answer = inp.answers.get(qid)
    status = "missing" if answer is None else "na" if answer.na else "answered"
    return QuestionResult(
        question_id=qid,
        dimension_id=ref.dimension_id,
        status=status,
        self_score=self_s[qid],
        evidence_score=ev_s[qid],
        verified_score=ver_s[qid] if inp.overrides else None,
        weight=local_w.get(qid, 0.0),
        confidence=answer.confidence if answer is not None else None,
        has_evidence=answer.has_evidence if answer is not None else False,
        evidence_required=ref.question.evidence is not None,
        ambition=ambition(ref.question, answer.value if answer is not None and not answer.na else None),
    )


def _confidence(inp: AssessmentInput, params: Params, global_w: dict[str, float]) -> float | None:
    """Return K = 100 · Σ g_q c_q / Σ g_q c_max over answered maturity questions (Flickit's formula)."""
    num = den = 0.0
    for qid, g in global_w.items():
        answer = inp.answers.get(qid)
        if answer is not None and not answer.na:
            conf = answer.confidence if answer.confidence is not None else params.confidence_default
            num += g * conf
            den += g * params.confidence_max
    return 100 * (num / den) if den else None


def _evidence_coverage(
    layout: Layout, inp: AssessmentInput, scores: dict[str, float | None], global_w: dict[str, float]
) -> float | None:
    """Return E = weight share (0–100) of evidence-requiring claims above their cap that have evidence."""
    num = den = 0.0
    for qid, g in global_w.items():
        rule, s = layout.index[qid].question.evidence, scores[qid]
        if rule is None or s is None or at_most(s, rule.cap):
            continue
        answer, override = inp.answers.get(qid), inp.overrides.get(qid)
        den += g
        if (answer is not None and answer.has_evidence) or (override is not None and override.status == "approved"):
            num += g
    return 100 * (num / den) if den else None
