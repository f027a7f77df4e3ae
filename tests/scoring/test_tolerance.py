"""Every threshold is compared with the documented 1e-9 tolerance, and messages print enough digits to show why."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from scoring_toy import toy

from scoring import (
    Answer,
    AssessmentInput,
    ScoreResult,
    compare_results,
    load_instrument,
    load_instrument_file,
    questions_for,
    score_assessment,
)
from scoring.maturity import band, gated_level
from scoring.tolerance import TOL, above, at_least, at_most, below, num, shown, sums_to

ROOT = Path(__file__).resolve().parents[2]
DMA = ROOT / "instruments" / "eu-dma-sme-v1.yaml"


def test_the_helpers_allow_tol_in_the_values_favour():
    assert at_least(60 - TOL / 2, 60) and not at_least(60 - 2 * TOL, 60)
    assert below(60 - 2 * TOL, 60) and not below(60 - TOL / 2, 60)
    assert above(10 + 2 * TOL, 10) and not above(10 + TOL / 2, 10)
    assert at_most(10 + TOL / 2, 10) and not at_most(10 + 2 * TOL, 10)
    assert sums_to(100.0000002, 100) and not sums_to(100.000002, 100)


def test_numbers_print_with_the_digits_that_tell_them_apart():
    assert num(100.000002) == "100.000002" and num(110.0) == "110" and num(1.05) == "1.05"
    assert [shown(k, 60, 0) for k in (55, 59.6, 59.96, 59.9999999, 60.4, 61)] == [
        "55",
        "59.6",
        "59.96",
        "59.9999999",
        "60.4",
        "61",
    ]
    assert shown(10.04, 10, 1) == "10.04" and shown(12.34, 10, 1) == "12.3"


def _all_answered(inst, industry="other", confidence=None):
    answers = {}
    for dim in questions_for(inst, industry):
        for q in dim.questions:
            if q.type == "multi":
                value = [o.id for o in q.options if not o.exclusive][:1]
            elif q.type == "single":
                value = q.options[0].id
            elif q.type == "kpi":
                value = q.anchors[0][0]
            elif q.type == "kpi_delta":
                value = {"baseline": 10, "current": 10}
            elif q.type == "requirement":
                value = q.states[0]
            else:
                value = {r.id: q.states[0] for r in q.rows}
            answers[q.id] = Answer(value, confidence=confidence)
    return answers


def test_six_dimensions_at_100_over_6_with_default_confidence_are_not_low_confidence():
    """The case of issue 16: K = 100 · Σ g·3 / Σ g·5 computes to 59.999999999999986, which is 60 on paper."""
    dma = load_instrument_file(DMA)
    assert [d.weight for d in dma.dimensions] == [100 / 6] * 6
    result = score_assessment(dma, AssessmentInput("other", _all_answered(dma)))
    assert result.confidence == 59.999999999999986  # the float the engine really computes
    assert result.low_confidence is False
    assert "low_confidence" not in {f.code for f in result.flags}


def test_a_k_truly_below_the_threshold_is_flagged_with_its_digits():
    dma = load_instrument_file(DMA)
    answers = _all_answered(dma)
    answers["q1_investment"] = dataclasses.replace(answers["q1_investment"], confidence=2)  # g = 100/12 of 500
    result = score_assessment(dma, AssessmentInput("other", answers))
    assert result.confidence == pytest.approx(100 * (300 - 100 / 12) / 500, abs=1e-9)  # 58.33
    assert result.low_confidence is True
    (flag,) = [f for f in result.flags if f.code == "low_confidence"]
    assert flag.message.en == "Confidence index K = 58 is below 60: low-confidence result."


def test_a_k_just_under_60_no_longer_prints_60():
    """Jiaxing v1 with one small-weight answer at confidence 2: K lies in [59.5, 60), which "{:.0f}" printed as 60."""
    jx = load_instrument_file(ROOT / "instruments" / "jiaxing-v1.yaml")
    answers = _all_answered(jx, "leather")
    base = score_assessment(jx, AssessmentInput("leather", answers))
    assert base.confidence == 59.999999999999986 and base.low_confidence is False  # Jiaxing v1 had the bug too
    lightest = min(
        (q for q in base.questions if q.weight > 0),
        key=lambda q: base.self_view.dimension(q.dimension_id).weight * q.weight,
    )
    answers[lightest.question_id] = dataclasses.replace(answers[lightest.question_id], confidence=2)
    result = score_assessment(jx, AssessmentInput("leather", answers))
    assert 59.5 <= result.confidence < 60 - TOL
    (flag,) = [f for f in result.flags if f.code == "low_confidence"]
    printed = re.search(r"K = ([0-9.]+) is below 60", flag.message.en).group(1)
    assert printed != "60" and float(printed) == pytest.approx(result.confidence, abs=0.05)
    assert f"K = {printed}，低于 60" in flag.message.zh


def test_band_limits_and_level_gates_use_the_tolerance():
    params = load_instrument(toy()).params
    assert band(59.99999999999999, params) == 3 and band(59.99999, params) == 2  # cutpoint 60: 三级
    assert gated_level([59.99999999999999], [], dataclasses.replace(params, levels=_one_level(params))) == 1
    assert gated_level([59.99999], [], dataclasses.replace(params, levels=_one_level(params))) == 0
    assert gated_level([60], [(1, 0.5999999999999999)], dataclasses.replace(params, levels=_one_level(params))) == 1


def _one_level(params):
    return dataclasses.replace(params.levels, staircase=((60.0,),), names=params.levels.names[:2])


def test_na_share_trust_gap_and_noise_use_the_tolerance():
    inst = load_instrument(toy())
    answers = {
        "q_single": Answer("basic"),
        "q_multi": Answer(["a", "c"]),
        "q_kpi": Answer(65),
        "q_req": Answer("mostly"),
        "q_adopt": Answer({"r1": 5, "r2": 3}),
        "q_tri": Answer({"x": "yes", "y": "partly"}),
        "q_iup": Answer({"m": "in_use", "n": "planned"}),
        "q_out1": Answer({"baseline": 100, "current": 115}),
        "q_out2": Answer({"baseline": 10, "current": 9}),
    }
    result = score_assessment(inst, AssessmentInput("other", answers))
    # noise: a dimension change of 5 − 1e-12 is 5 points, a "material" change
    moved = _with_ops_score(result, result.self_view.dimension("ops").score + 5 - 1e-12)
    (ops,) = [d for d in compare_results(inst, result, moved).dimensions if d.dimension_id == "ops"]
    assert ops.material is True
    moved = _with_ops_score(result, result.self_view.dimension("ops").score + 5 - 1e-6)
    (ops,) = [d for d in compare_results(inst, result, moved).dimensions if d.dimension_id == "ops"]
    assert ops.material is False
    # N/A share 0.30000000000000004 (= 0.1 + 0.2) is not above 0.3; 0.3 + 1e-6 is
    from scoring.maturity import score_dimension

    dim = inst.layout("other").dimension("ops")
    weights = ({"q_single": 1.0}, 0.1 + 0.2)
    assert score_dimension(dim, inst.params, {q.id: 0.5 for q in dim.questions}, weights).insufficient is False
    weights = ({"q_single": 1.0}, 0.3 + 1e-6)
    assert score_dimension(dim, inst.params, {q.id: 0.5 for q in dim.questions}, weights).insufficient is True


def _with_ops_score(result: ScoreResult, score: float) -> ScoreResult:
    view = result.self_view
    dims = tuple(dataclasses.replace(d, score=score) if d.dimension_id == "ops" else d for d in view.dimensions)
    return dataclasses.replace(result, self_view=dataclasses.replace(view, dimensions=dims))


def test_the_trust_gap_flag_uses_the_tolerance():
    from scoring.plausibility import plausibility_flags

    inst = load_instrument(toy())
    layout = inst.layout("other")
    inp = AssessmentInput("other", {})
    scores = {qid: 0.0 for qid in layout.index}
    view = score_assessment(inst, inp).self_view
    flags = lambda gap: {f.code for f in plausibility_flags(inst, layout, inp, scores, view, 80.0, gap)}  # noqa: E731
    assert "trust_gap" not in flags(10 + 1e-12) and "trust_gap" in flags(10 + 1e-6)
