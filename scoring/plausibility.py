"""Raise plausibility and quality flags for bureau staff: instrument rules plus built-in checks."""

from __future__ import annotations

from collections.abc import Mapping

from scoring.items import max_score, row_scale
from scoring.model import MATURITY, Condition, Instrument, Layout, Params, Text
from scoring.results import AssessmentInput, Flag, ViewResult
from scoring.tolerance import above, at_least, at_most, below, num, shown

# Built-in flag texts (zh, en); the thresholds come from the instrument parameters.
_TEXTS = {
    "all_max": ("所有已答题目均为最高选项，请核实。", "Every answered question is at its maximum; please verify."),
    "critical_gap": (
        "维度得分较高，但关键前提项缺失。",
        "High dimension score while a critical prerequisite is missing.",
    ),
    "missing_answers": (
        "有 {n} 道适用题目未作答，按 0 分计。",
        "{n} applicable questions are unanswered and count as 0.",
    ),
    "insufficient_dimension": (
        "该维度超过 {pct:g}% 的权重为不适用，不予评分。",
        "More than {pct:g}% of this dimension's weight is N/A; it is not scored.",
    ),
    "low_confidence": (
        "置信度指数 K = {k}，低于 {low}：低置信度结果。",
        "Confidence index K = {k} is below {low}: low-confidence result.",
    ),
    "trust_gap": (
        "自评与核验成熟度相差 {gap} 分，超过 {limit} 分。",
        "Self and verified maturity differ by {gap} points, more than {limit}.",
    ),
    "jump_without_evidence": (
        "成熟度提升 {delta} 分（超过 {limit} 分）但无新增佐证材料。",
        "Maturity rose {delta} points (more than {limit}) with no new evidence.",
    ),
    "fast_completion": (
        "填写用时 {sec} 秒，短于 {min} 秒的合理下限。",
        "Completed in {sec} s, under the plausible minimum of {min} s.",
    ),
}
# Numbers in flag messages: as many digits as it takes to tell the value from the threshold it is compared with.
# (Rounded as before — K and seconds to whole numbers, points to one decimal — unless that prints the threshold.)


def plausibility_flags(
    instrument: Instrument,
    layout: Layout,
    inp: AssessmentInput,
    scores: Mapping[str, float | None],
    view: ViewResult,
    confidence: float | None,
    trust_gap: float | None,
) -> tuple[Flag, ...]:
    """Return every flag that applies to a scored assessment, instrument rules first."""
    params = instrument.params
    flags = [
        Flag(
            rule.id,
            rule.severity,
            rule.message,
            layout.index[rule.conditions[0].question_id].dimension_id,
            tuple(c.question_id for c in rule.conditions),
        )
        for rule in instrument.rules
        if all(_holds(c, layout, inp, params, scores) for c in rule.conditions)
    ]
    maturity_q = [qid for qid, ref in layout.index.items() if layout.dimension(ref.dimension_id).role == MATURITY]
    answered = [(qid, s) for qid in maturity_q if qid in inp.answers and (s := scores[qid]) is not None]
    if len(answered) >= params.all_max_min_questions and all(
        at_least(s, max_score(layout.index[qid].question, params)) for qid, s in answered
    ):
        flags.append(make_flag("all_max", "warning"))
    for ds in view.dimensions:
        if ds.insufficient:
            flags.append(
                make_flag("insufficient_dimension", "info", ds.dimension_id, pct=100 * params.na_insufficient_share)
            )
            continue
        if ds.role != MATURITY or ds.score is None or below(ds.score, params.critical_gap_score):
            continue
        dim = layout.dimension(ds.dimension_id)
        weak = tuple(
            q.id
            for i in dim.indicators
            for q in i.questions
            if q.critical and (s := scores[q.id]) is not None and below(s, params.critical_gap_item_below)
        )
        if weak:
            flags.append(make_flag("critical_gap", "warning", ds.dimension_id, weak))
    missing = tuple(qid for qid in layout.index if qid not in inp.answers)
    if missing:
        flags.append(make_flag("missing_answers", "info", None, missing, n=len(missing)))
    low = params.confidence_low_below
    if confidence is not None and below(confidence, low):
        flags.append(make_flag("low_confidence", "info", k=shown(confidence, low, 0), low=f"{low:g}"))
    limit = params.trust_gap_flag_above
    if trust_gap is not None and above(trust_gap, limit):
        flags.append(make_flag("trust_gap", "warning", gap=shown(trust_gap, limit, 1), limit=f"{limit:g}"))
    minimum = params.seconds_per_question * len(layout.index)
    if inp.duration_seconds is not None and below(inp.duration_seconds, minimum):
        sec = shown(inp.duration_seconds, minimum, 0)
        least = f"{minimum:.0f}" if sec == f"{inp.duration_seconds:.0f}" else num(minimum)
        flags.append(make_flag("fast_completion", "warning", sec=sec, min=least))
    return tuple(flags)


def _holds(
    cond: Condition, layout: Layout, inp: AssessmentInput, params: Params, scores: Mapping[str, float | None]
) -> bool:
    """Evaluate one rule condition; a missing, N/A or inapplicable question never satisfies it."""
    ref = layout.index.get(cond.question_id)
    answer = inp.answers.get(cond.question_id)
    if ref is None or answer is None or answer.na:
        return False
    q = ref.question
    if cond.op.startswith("value_"):
        value = float(answer.value)
        return below(value, cond.threshold) if cond.op == "value_lt" else at_least(value, cond.threshold)
    score = row_scale(q, params)[answer.value[cond.row_id]] if cond.row_id is not None else scores[cond.question_id]
    if score is None:
        return False
    return at_least(score, cond.threshold) if cond.op == "score_gte" else at_most(score, cond.threshold)


def make_flag(
    code: str, severity: str, dimension_id: str | None = None, qids: tuple[str, ...] = (), **values: float | str
) -> Flag:
    """Build a built-in flag with its bilingual message filled in."""
    zh, en = _TEXTS[code]
    return Flag(code, severity, Text(zh.format(**values), en.format(**values)), dimension_id, qids)
