"""Property tests: bounds, monotonicity, N/A invariance and order independence (docs/scoring.md §8)."""

from __future__ import annotations

import copy
import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_toy import toy

from scoring import (
    Answer,
    AssessmentInput,
    Instrument,
    Override,
    Profile,
    Question,
    ScoreResult,
    ViewResult,
    load_instrument,
    load_instrument_file,
    questions_for,
    score_assessment,
)
from scoring.items import row_scale

SETTINGS = settings(max_examples=200, deadline=None)
# Module-level rather than a fixture: with the session fixture, Hypothesis reported real failures as
# FlakyStrategyDefinition instead of printing the falsifying example.
INSTRUMENTS = Path(__file__).resolve().parents[2] / "instruments"
SHIPPED = load_instrument_file(INSTRUMENTS / "jiaxing-v1.yaml")
# The published models: no levels, advice or priorities; min dimensions (IMPULS), own scales and an exclusive option
# in the denominator (DMA, MIIT). Bounds and monotonicity must hold for them too.
PUBLISHED = {
    name: load_instrument_file(INSTRUMENTS / f"{name}.yaml")
    for name in ("eu-dma-sme-v1", "impuls-readiness-v1", "miit-sme-v1")
}


def random_value(inst: Instrument, q: Question, rng: random.Random) -> Any:
    """Return any valid answer value for ``q``, favouring anchor points and range ends for numbers."""
    params = inst.params
    if q.type == "single":
        return rng.choice(q.options).id
    if q.type == "requirement":
        return rng.choice(list(row_scale(q, params)))
    if q.type == "multi":
        none = [o.id for o in q.options if o.exclusive]
        if none and rng.random() < 0.15:
            return none
        return [o.id for o in q.options if not o.exclusive and rng.random() < 0.5]
    if q.type in ("adoption", "tri_state", "in_use_planned"):
        states = list(row_scale(q, params))
        return {r.id: rng.choice(states) for r in q.rows}
    if q.type == "kpi":
        return _number(q, rng)
    return {"baseline": max(_number(q, rng), 0.01), "current": _number(q, rng)}


def _number(q: Question, rng: random.Random, low: float | None = None, high: float | None = None) -> float:
    lo, hi = q.value_range or (0.0, 100.0)
    lo, hi = max(lo, low if low is not None else lo), min(hi, high if high is not None else hi)
    points = [lo, hi, *(x for x, _ in q.anchors if lo <= x <= hi)]
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(points)  # exactly on an anchor or a range end
    if roll < 0.4:
        x = rng.choice(points)  # a hair either side of one
        return min(hi, max(lo, math.nextafter(x, math.inf if rng.random() < 0.5 else -math.inf)))
    return rng.uniform(lo, hi)


def raised_value(inst: Instrument, q: Question, value: Any, rng: random.Random) -> Any:
    """Return an answer at least as good as ``value`` (None = missing) in the order of docs/scoring.md §8."""
    params = inst.params
    if value is None:
        return random_value(inst, q, rng)
    if q.type == "single":
        now = next(o.value for o in q.options if o.id == value)
        return rng.choice([o.id for o in q.options if o.value >= now])
    if q.type == "requirement":
        scale = row_scale(q, params)
        return rng.choice([k for k, v in scale.items() if v >= scale[value]])
    if q.type == "multi":
        ticks = [o.id for o in q.options if not o.exclusive]
        return [t for t in ticks if t in value or rng.random() < 0.5]
    if q.type in ("adoption", "tri_state", "in_use_planned"):
        scale = row_scale(q, params)
        return {r.id: rng.choice([s for s in scale if scale[s] >= scale[value[r.id]]]) for r in q.rows}
    if q.type == "kpi":
        rising = q.anchors[-1][1] >= q.anchors[0][1]
        return _number(q, rng, low=value) if rising else _number(q, rng, high=value)
    if q.direction == "higher_better":
        return {"baseline": value["baseline"], "current": _number(q, rng, low=value["current"])}
    return {"baseline": value["baseline"], "current": _number(q, rng, high=value["current"])}


@st.composite
def assessments(draw: st.DrawFn, inst: Instrument, keep_one: bool = False) -> AssessmentInput:
    """Draw a full assessment: industry, answers (some N/A or missing), overrides, profile and cohort P90s.

    Hypothesis draws the knobs; a drawn ``random.Random`` fills in the ~75 answers (drawing each through Hypothesis
    costs ~40 ms per example). With ``keep_one`` every dimension keeps at least one non-N/A answer.
    """
    industry = draw(st.sampled_from(inst.industries))
    na_rate, missing_rate, override_rate = (draw(st.sampled_from(r)) for r in ((0, 0.1, 0.4), (0, 0.05), (0, 0.1, 1)))
    rng = draw(st.randoms(use_true_random=True))
    answers: dict[str, Answer] = {}
    overrides: dict[str, Override] = {}
    for dim in questions_for(inst, industry):
        for n, q in enumerate(dim.questions):
            roll = rng.random()
            if q.na_allowed and roll < na_rate and not (keep_one and n == 0):
                answers[q.id] = Answer(na=True)
            elif roll >= na_rate + missing_rate or (keep_one and n == 0):
                conf = rng.choice([None, *range(1, inst.params.confidence_max + 1)])
                answers[q.id] = Answer(random_value(inst, q, rng), False, conf, rng.random() < 0.5)
            if rng.random() < override_rate:
                if rng.random() < 0.5:
                    overrides[q.id] = Override("approved")
                else:
                    overrides[q.id] = Override("overridden", random_value(inst, q, rng))
    layout = inst.layout(industry)
    kpis = rng.sample([k.id for k in layout.kpis], rng.randint(0, min(3, len(layout.kpis))))
    raw = {c.id: rng.uniform(0.01, 1) for c in layout.cost_categories}
    shares = {k: v / sum(raw.values()) for k, v in raw.items()}
    dims = [d.id for d in layout.dimensions if d.role == "maturity"]
    p90 = {d: rng.uniform(0, 100) for d in dims} if draw(st.booleans()) else {}
    profile = Profile(tuple(kpis), shares) if draw(st.booleans()) and inst.params.priority is not None else None
    return AssessmentInput(industry, answers, overrides, profile, p90)


def raise_some(inst: Instrument, inp: AssessmentInput, rng: random.Random) -> AssessmentInput:
    """Raise a random subset of answers (missing ones may become answered); N/A, confidence, evidence unchanged."""
    answers = dict(inp.answers)
    for dim in questions_for(inst, inp.industry):
        for q in dim.questions:
            old = answers.get(q.id)
            if (old is not None and old.na) or rng.random() < 0.5:
                continue
            value = raised_value(inst, q, old.value if old else None, rng)
            answers[q.id] = Answer(value, False, old.confidence, old.has_evidence) if old else Answer(value)
    return AssessmentInput(inp.industry, answers, inp.overrides, inp.profile, inp.cohort_p90)


def _views(result: ScoreResult) -> list[ViewResult]:
    return [v for v in (result.self_view, result.evidence_view, result.verified_view) if v is not None]


def _ge(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a >= b)


def assert_not_lower(high: ScoreResult, low: ScoreResult) -> None:
    """Assert every score and level of ``high`` is at least that of ``low``."""
    for qh, ql in zip(high.questions, low.questions, strict=True):
        for attr in ("self_score", "evidence_score", "verified_score"):
            assert _ge(getattr(qh, attr), getattr(ql, attr)), (qh.question_id, attr)
    for vh, vl in zip(_views(high), _views(low), strict=True):
        for name in ("maturity", "outcome", "composite", "band", "level"):
            assert _ge(getattr(vh, name), getattr(vl, name)), (vh.view, name)
        assert all(_ge(a, b) for a, b in zip(vh.attainment, vl.attainment, strict=True)), vh.view
        for dh, dl in zip(vh.dimensions, vl.dimensions, strict=True):
            for name in ("score", "band", "level"):
                assert _ge(getattr(dh, name), getattr(dl, name)), (vh.view, dh.dimension_id, name)
            assert all(_ge(a, b) for a, b in zip(dh.attainment, dl.attainment, strict=True))
            assert all(_ge(a.score, b.score) for a, b in zip(dh.indicators, dl.indicators, strict=True))


def assert_in_bounds(result: ScoreResult, inst: Instrument) -> None:
    """Assert every score lies in its documented range."""
    for q in result.questions:
        for s in (q.self_score, q.evidence_score, q.verified_score):
            assert s is None or 0 <= s <= 1
    top = inst.params.max_level
    for view in _views(result):
        for value in (view.maturity, view.outcome, view.composite, *view.attainment):
            assert value is None or 0 <= value <= 100
        assert view.level is None or 0 <= view.level <= top
        assert view.band is None or 0 <= view.band <= len(inst.params.band_cutpoints)
        for d in view.dimensions:
            assert d.score is None or 0 <= d.score <= 100
            assert 0 <= d.na_share <= 1 + 1e-9
            assert d.level is None or 0 <= d.level <= top
            assert all(p is None or 0 <= p <= 100 for p in d.attainment)
            assert all(i.score is None or 0 <= i.score <= 100 for i in d.indicators)
    for value in (result.confidence, result.evidence_coverage):
        assert value is None or 0 <= value <= 100
    assert result.trust_gap is None or -100 <= result.trust_gap <= 100
    for plan in result.advice:
        assert plan.current_level < plan.target_level <= top and plan.gain >= 0
        assert all(i.gain >= 0 and i.to_score > i.from_score for i in plan.items)
        assert len(plan.items) <= inst.params.advice_max_items
    for p in result.priorities:
        assert 0 <= p.score <= 100 and all(0 <= t <= 1 for t in (p.kpi, p.cost, p.gap_next, p.ease, p.impact))


@SETTINGS
@given(st.data())
def test_scores_stay_in_bounds(data):
    result = score_assessment(SHIPPED, data.draw(assessments(SHIPPED)))
    assert_in_bounds(result, SHIPPED)


@SETTINGS
@given(st.data())
def test_raising_answers_never_lowers_any_score(data):
    low = data.draw(assessments(SHIPPED))
    high = raise_some(SHIPPED, low, data.draw(st.randoms(use_true_random=True)))
    assert_not_lower(score_assessment(SHIPPED, high), score_assessment(SHIPPED, low))


@pytest.mark.parametrize("name", sorted(PUBLISHED))
@SETTINGS
@given(data=st.data())
def test_published_models_stay_in_bounds_and_are_monotone(name, data):
    inst = PUBLISHED[name]
    low = data.draw(assessments(inst))
    high = raise_some(inst, low, data.draw(st.randoms(use_true_random=True)))
    low_result, high_result = score_assessment(inst, low), score_assessment(inst, high)
    assert_in_bounds(low_result, inst)
    assert_in_bounds(high_result, inst)
    assert_not_lower(high_result, low_result)


@SETTINGS
@given(st.data())
def test_answer_order_does_not_matter(data):
    inp = data.draw(assessments(SHIPPED))
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))

    def shuffled(mapping: dict[str, Any]) -> dict[str, Any]:
        items = list(mapping.items())
        rng.shuffle(items)
        return dict(items)

    answers = {}
    for qid, a in shuffled(dict(inp.answers)).items():
        value = a.value
        if isinstance(value, list):
            value = rng.sample(value, len(value))
        elif isinstance(value, dict):
            value = shuffled(value)
        answers[qid] = Answer(value, a.na, a.confidence, a.has_evidence)
    other = AssessmentInput(inp.industry, answers, shuffled(dict(inp.overrides)), inp.profile, inp.cohort_p90)
    left, right = score_assessment(SHIPPED, other), score_assessment(SHIPPED, inp)
    assert left == right and left.to_dict() == right.to_dict()


def _without(data: dict[str, Any], removed: set[str]) -> dict[str, Any]:
    """Return instrument data with ``removed`` questions deleted (with emptied indicators and their pack anchors)."""
    data = copy.deepcopy(data)
    containers = [d["indicators"] for d in data["dimensions"]] + [p.get("indicators", []) for p in data["packs"]]
    for indicators in containers:
        for ind in indicators:
            ind["questions"] = [q for q in ind["questions"] if q["id"] not in removed]
        indicators[:] = [i for i in indicators if i["questions"]]
    for pack in data["packs"]:
        pack["anchors"] = {qid: a for qid, a in pack.get("anchors", {}).items() if qid not in removed}
    return data


_REDUCED: dict[frozenset[str], Instrument] = {}


def _comparable(result: ScoreResult) -> dict[str, Any]:
    """Drop what N/A legitimately changes: statuses, N/A shares, inputs and the instrument identity."""
    out = result.to_dict()
    out["questions"] = [q for q in out["questions"] if q["status"] != "na"]
    for view in ("self_view", "evidence_view", "verified_view"):
        for dim in (out[view] or {}).get("dimensions", []):
            dim["na_share"] = 0.0
            dim["indicators"] = [i for i in dim["indicators"] if i["score"] is not None]
    for key in ("inputs", "instrument_checksum", "answers_fingerprint"):
        out.pop(key)
    return out


@SETTINGS
@given(st.data())
def test_na_equals_removing_the_question(data):
    base = toy()
    base["parameters"]["na"]["insufficient_share"] = 1.0  # the N/A share itself is what N/A changes
    for dim in base["dimensions"] + [i for p in base["packs"] for i in p["indicators"]]:
        for ind in dim.get("indicators", [dim]):
            for q in ind["questions"]:
                q["na_allowed"] = not q.get("critical", False)
    base["plausibility"]["rules"] = []  # rules may name removed questions
    inst = load_instrument(base)
    inp = data.draw(assessments(inst, keep_one=True))
    na = {qid for qid, a in inp.answers.items() if a.na}
    key = frozenset(na)
    if key not in _REDUCED:
        _REDUCED[key] = load_instrument(_without(base, na))
    reduced = _REDUCED[key]
    kept = {qid: a for qid, a in inp.answers.items() if not a.na}
    overrides = {qid: o for qid, o in inp.overrides.items() if qid not in na}
    left = score_assessment(inst, AssessmentInput(inp.industry, inp.answers, overrides, inp.profile, inp.cohort_p90))
    right = score_assessment(reduced, AssessmentInput(inp.industry, kept, overrides, inp.profile, inp.cohort_p90))
    assert _comparable(left) == _comparable(right)
