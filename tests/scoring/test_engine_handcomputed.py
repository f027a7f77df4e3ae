"""Hand-computed engine cases on the toy instrument of conftest.py; every expected number is worked in a comment."""

from __future__ import annotations

from datetime import date

import pytest

from scoring import (
    Answer,
    AssessmentInput,
    InvalidAnswer,
    Override,
    Profile,
    check_reassessment,
    compare_results,
    load_instrument,
    questions_for,
    score_assessment,
)


@pytest.fixture(scope="module")
def inst(toy_factory):
    return load_instrument(toy_factory(), source="toy")


def answers() -> dict[str, Answer]:
    return {
        "q_single": Answer("basic", confidence=4, has_evidence=True),  # s = 0.5
        "q_multi": Answer(["a", "c"], confidence=4),  # s = (0.5 + 1) / (0.5 + 0.5 + 1) = 0.75
        "q_kpi": Answer(65, confidence=2),  # s = 0.5 + (65 - 50) / (80 - 50) * (0.8 - 0.5) = 0.65
        "q_req": Answer("mostly"),  # s = 0.8 (confidence defaults to 3)
        "q_adopt": Answer({"r1": 5, "r2": 3}, confidence=5),  # s = (1 + 0.5) / 2 = 0.75
        "q_tri": Answer({"x": "yes", "y": "partly"}, confidence=4),  # s = (1 + 0.5) / 2 = 0.75
        "q_iup": Answer({"m": "in_use", "n": "planned"}, confidence=3, has_evidence=True),  # s = (1 + .25) / 2
        "q_out1": Answer({"baseline": 100, "current": 115}),  # +15 % -> 0.6 + 0.5 * 0.4 = 0.8
        "q_out2": Answer({"baseline": 10, "current": 9}),  # lower is better: +10 % -> 0.6
    }


OVERRIDES = {
    "q_single": Override("overridden", "full"),  # assessor: 1.0
    "q_kpi": Override("approved"),  # stays 0.65
    "q_tri": Override("overridden", {"x": "yes", "y": "no"}),  # (1 + 0) / 2 = 0.5
}
PROFILE = Profile(("k1", "k2"), {"c1": 0.6, "c2": 0.4})


@pytest.fixture(scope="module")
def result(inst):
    inp = AssessmentInput("other", answers(), OVERRIDES, PROFILE, {"ops": 80, "sales": 70})
    return score_assessment(inst, inp)


def test_item_scores(result):
    got = {q.question_id: q.self_score for q in result.questions}
    want = {
        "q_single": 0.5,
        "q_multi": 0.75,
        "q_kpi": 0.65,
        "q_req": 0.8,
        "q_adopt": 0.75,
        "q_tri": 0.75,
        "q_iup": 0.625,
        "q_out1": 0.8,
        "q_out2": 0.6,
    }
    assert got == pytest.approx(want)
    assert result.question("q_iup").ambition == 0.5  # one of two rows planned


def test_indicators_dimensions_indices(result):
    view = result.self_view
    ops, sales, outcome = (view.dimension(d) for d in ("ops", "sales", "results"))
    # ops.a = (0.5 + 0.75) / 2 = 0.625; ops.b = (2 * 0.65 + 0.8) / 3 = 0.7
    assert [i.score for i in ops.indicators] == pytest.approx([62.5, 70.0])
    assert ops.score == pytest.approx(65.0)  # 100 * (2 * 0.625 + 1 * 0.7) / 3
    assert sales.score == pytest.approx(70.8333333)  # 100 * (0.75 + 0.75 + 0.625) / 3
    assert outcome.score == pytest.approx(70.0)  # 100 * (0.8 + 0.6) / 2
    assert view.maturity == pytest.approx(67.3333333)  # (60 * 65 + 40 * 70.8333) / 100
    assert view.outcome == pytest.approx(70.0)
    assert view.composite == pytest.approx(67.7333333)  # 0.85 * 67.3333 + 0.15 * 70
    assert (ops.band, sales.band, view.band) == (3, 3, 3)  # 60 <= score < 80


def test_gated_levels(result):
    view = result.self_view
    ops, sales = view.dimension("ops"), view.dimension("sales")
    # ops e_q: q_single 1/3, q_multi 1/3, q_kpi 2/9, q_req 1/9.
    # p1 = 50 (q_single); p2 = (1/3 * .75 + 2/9 * .65) / (5/9) = 71; p3 = 80 (q_req)
    assert ops.attainment == pytest.approx((50.0, 71.0, 80.0))
    assert ops.level == 0  # p1 = 50 < 60 (and critical q_single 50 < 60)
    # sales: p1 = 75, p2 = 75, p3 = 62.5 -> L1 ok, L2 (75, 60) ok, L3 needs p1 >= 85 -> level 2
    assert sales.attainment == pytest.approx((75.0, 75.0, 62.5))
    assert sales.level == 2
    # overall p̄ = 0.6 * ops + 0.4 * sales = (60, 72.6, 73): L1 met (60 >= 60), L2 needs p̄1 >= 75 -> 1;
    # cap = min(0, 2) + 1 = 1
    assert view.attainment == pytest.approx((60.0, 72.6, 73.0))
    assert view.level == 1


def test_evidence_and_verified_views(result):
    # Evidence: q_req (0.8, no evidence) capped at 0.5; q_single and q_iup have evidence.
    ev = result.evidence_view
    assert result.question("q_req").evidence_score == 0.5
    assert ev.dimension("ops").score == pytest.approx(61.6666667)  # 100 * (1.25 + (1.3 + 0.5) / 3) / 3
    assert ev.dimension("sales").score == pytest.approx(70.8333333)  # q_iup has evidence: unchanged
    assert ev.maturity == pytest.approx(65.3333333)  # 0.6 * 61.6667 + 0.4 * 70.8333
    # Verified: q_single -> 1.0, q_kpi approved 0.65, q_tri -> 0.5, the rest from the evidence view.
    ver = result.verified_view
    assert ver.dimension("ops").score == pytest.approx(78.3333333)  # 100 * (2 * 0.875 + 0.6) / 3
    assert ver.dimension("sales").score == pytest.approx(62.5)  # 100 * (0.75 + 0.5 + 0.625) / 3
    assert ver.maturity == pytest.approx(72.0)  # 0.6 * 78.3333 + 0.4 * 62.5
    assert result.trust_gap == pytest.approx(-4.6666667)  # 67.3333 - 72


def test_confidence_and_evidence_coverage(result):
    # g_q = W_d * e_q: ops 20, 20, 13.33, 6.67; sales 13.33 each.
    # K = 100 * (20*4 + 20*4 + 13.33*2 + 6.67*3 + 13.33*(5+4+3)) / (100 * 5) = 73.33
    assert result.confidence == pytest.approx(73.3333333)
    assert not result.low_confidence
    # Claims above the 0.5 cap needing evidence: q_req (6.67, none) and q_iup (13.33, has it) -> 66.67 %
    assert result.evidence_coverage == pytest.approx(66.6666667)


def test_next_level_advice(result):
    plans = {p.dimension_id: p for p in result.advice}
    ops = plans["ops"]  # 0 -> 1: p1 and critical q_single both short by 10 points; only move: full (tier 2)
    assert (ops.current_level, ops.target_level, ops.reachable) == (0, 1, True)
    assert [(i.question_id, i.target, i.cost_tier) for i in ops.items] == [("q_single", "full", 2)]
    assert ops.gain == pytest.approx(16.6666667)  # 100 * e(1/3) * (1 - 0.5)
    sales = plans["sales"]  # 2 -> 3: p1 = 75 short of 85 by 10; raise row r2 from 3 to 5: +0.25 -> +25 points
    assert [(i.question_id, i.target) for i in sales.items] == [("q_adopt", "r2=5")]
    assert sales.gain == pytest.approx(8.3333333) and sales.reachable
    overall = plans[None]  # 1 -> 2: ops must reach level 1; p̄1 short of 75 by 15; q_single covers both
    assert [(i.question_id, i.target) for i in overall.items] == [("q_single", "full")]
    assert overall.gain == pytest.approx(10.0) and overall.reachable  # 0.6 * 16.667 M points


def test_priorities(result):
    prio = {p.dimension_id: p for p in result.priorities}
    ops, sales = prio["ops"], prio["sales"]
    # KPI_ops = .5 * 3/3 + .3 * 1/3 = 0.6; COST_ops = .6 * 2/3 = 0.4; GAPBIC = (80 - 65) / 100 = 0.15
    # GAPNXT = 16.667 / 20 = 0.8333; EASE = 1 - (2 - 1) / 2 = 0.5
    assert (ops.kpi, ops.cost, ops.gap_bic, ops.gap_next, ops.ease) == pytest.approx((0.6, 0.4, 0.15, 0.8333333, 0.5))
    assert ops.score == pytest.approx(47.3333333)  # 100 * (.35*.6 + .25*.4 + .2*.15 + .1*.8333 + .1*.5)
    # KPI_sales = .3 * 2/3 = 0.2; COST = .6 * 1/3 + .4 = 0.6; GAPBIC = 0 (70 < 70.83); GAPNXT = 0.41667; EASE = 1
    assert sales.score == pytest.approx(36.1666667)
    assert (ops.rank, ops.quadrant, ops.top) == (1, "quick_win", True)  # impact .6*.6 + .4*.4 = .52, ease .5
    assert (sales.rank, sales.quadrant, sales.top) == (2, "fill_in", False)  # impact .36, ease 1


def test_flags(result):
    # Rule kpi_vs_multi: q_multi 0.75 >= 0.75 and q_kpi 65 < 70 -> flagged.
    assert [f.code for f in result.flags] == ["kpi_vs_multi"]


def test_na_excluded_and_insufficient(inst):
    data = answers() | {"q_req": Answer(na=True)}
    view = score_assessment(inst, AssessmentInput("other", data)).self_view
    ops = view.dimension("ops")
    # q_req (e = 1/9 of ops) is N/A: ops.b = q_kpi alone = 0.65; D = 100 * (2 * .625 + .65) / 3 = 63.33
    assert ops.score == pytest.approx(63.3333333) and ops.na_share == pytest.approx(1 / 9)
    assert ops.attainment[2] is None  # no level-3 question left
    # Outcome: q_out2 N/A is half of the outcome weight (> 30 %) -> insufficient, no O and no C.
    out = score_assessment(inst, AssessmentInput("other", answers() | {"q_out2": Answer(na=True)})).self_view
    assert out.dimension("results").insufficient and out.outcome is None and out.composite is None


def test_missing_answers_count_zero_and_are_flagged(inst):
    data = {k: v for k, v in answers().items() if k != "q_multi"}
    result = score_assessment(inst, AssessmentInput("other", data))
    assert result.question("q_multi").status == "missing" and result.question("q_multi").self_score == 0.0
    # ops.a = (0.5 + 0) / 2 = 0.25; D = 100 * (2 * .25 + .7) / 3 = 40
    assert result.self_view.dimension("ops").score == pytest.approx(40.0)
    assert "missing_answers" in {f.code for f in result.flags}


def test_industry_pack_reweights_and_adds_questions(inst):
    layout = questions_for(inst, "silk")
    assert [(d.id, d.weight) for d in layout] == [("ops", 65), ("sales", 35), ("results", 100)]
    assert [q.id for q in layout[0].questions] == ["q_single", "q_multi", "q_kpi", "q_req", "q_pack"]
    result = score_assessment(inst, AssessmentInput("silk", answers() | {"q_pack": Answer("yes")}))
    # silk's own q_kpi anchors: 65 -> 0.5 + (65 - 60) / (85 - 60) * 0.3 = 0.56; ops.b = (2 * .56 + .8) / 3 = 0.64
    assert result.question("q_kpi").self_score == pytest.approx(0.56)
    # ops indicators weights 2, 1, 1: D = 100 * (2 * .625 + .64 + 1) / 4 = 72.25; M = (65 * 72.25 + 35 * 70.83) / 100
    assert result.self_view.dimension("ops").score == pytest.approx(72.25)
    assert result.self_view.maturity == pytest.approx(71.7541667)
    with pytest.raises(InvalidAnswer, match="does not apply"):
        score_assessment(inst, AssessmentInput("other", answers() | {"q_pack": Answer("yes")}))


def test_kpi_curve_edges(inst):
    def kpi(value: float) -> float:
        data = answers() | {"q_kpi": Answer(value)}
        return score_assessment(inst, AssessmentInput("other", data)).question("q_kpi").self_score

    assert [kpi(v) for v in (0, 20, 35, 80, 95, 100)] == pytest.approx([0, 0.25, 0.375, 0.8, 1, 1])

    def outcome(baseline: float, current: float) -> float:
        data = answers() | {"q_out1": Answer({"baseline": baseline, "current": current})}
        return score_assessment(inst, AssessmentInput("other", data)).question("q_out1").self_score

    # decline -> 0; no change -> 0.3; +5 % -> 0.45; +20 % or more -> 1
    assert [outcome(100, c) for c in (99, 100, 105, 120, 150)] == pytest.approx([0, 0.3, 0.45, 1, 1])


def test_exclusive_none_scores_zero(inst):
    data = answers() | {"q_multi": Answer(["none"])}
    assert score_assessment(inst, AssessmentInput("other", data)).question("q_multi").self_score == 0


@pytest.mark.parametrize(
    ("qid", "answer", "message"),
    [
        ("q_zzz", Answer("x"), "unknown"),
        ("q_single", Answer("great"), "option ids"),
        ("q_single", Answer(1), "option ids"),
        ("q_multi", Answer("a"), "list of option ids"),
        ("q_multi", Answer(["a", "none"]), "exclusive"),
        ("q_multi", Answer(["a", "a"]), "distinct"),
        ("q_kpi", Answer("65"), "finite number"),
        ("q_kpi", Answer(True), "finite number"),
        ("q_kpi", Answer(120), "between 0 and 100"),
        ("q_adopt", Answer({"r1": 5}), "every row"),
        ("q_adopt", Answer({"r1": 5, "r2": 6}), "row 'r2'"),
        ("q_adopt", Answer({"r1": 5, "r2": 2.0}), "row 'r2'"),
        ("q_tri", Answer({"x": "yes", "y": "maybe"}), "row 'y'"),
        ("q_out1", Answer({"baseline": 0, "current": 1}), "greater than 0"),
        ("q_out1", Answer({"current": 1}), "baseline"),
        ("q_single", Answer(na=True), "N/A is not allowed"),
        ("q_single", Answer("basic", confidence=6), "confidence"),
        ("q_single", Answer("basic", confidence=0), "confidence"),
    ],
)
def test_invalid_answers(inst, qid, answer, message):
    with pytest.raises(InvalidAnswer, match=message):
        score_assessment(inst, AssessmentInput("other", answers() | {qid: answer}))


@pytest.mark.parametrize(
    ("inp", "message"),
    [
        (AssessmentInput("steel", {}), "unknown industry"),
        (AssessmentInput("other", {}, profile=Profile(("k9",))), "top_kpis"),
        (AssessmentInput("other", {}, profile=Profile(("k1", "k2", "k3", "k1"))), "top_kpis"),
        (AssessmentInput("other", {}, profile=Profile((), {"c1": 0.5})), "sum to 1"),
        (AssessmentInput("other", {}, profile=Profile((), {"c9": 1.0})), "unknown cost"),
        (AssessmentInput("other", {}, overrides={"q_kpi": Override("rejected")}), "override status"),
        (AssessmentInput("other", {}, overrides={"q_kpi": Override("overridden")}), "assessor's value"),
        (AssessmentInput("other", {}, cohort_p90={"ops": 120}), "cohort_p90"),
        (AssessmentInput("other", {}, duration_seconds=-1), "duration"),
    ],
)
def test_invalid_inputs(inst, inp, message):
    with pytest.raises(InvalidAnswer, match=message):
        score_assessment(inst, inp)


def test_compare_and_reassessment(inst, result):
    later = answers() | {"q_multi": Answer(["a", "b", "c"], confidence=4)}  # 0.75 -> 1.0: ops +8.33
    after = score_assessment(inst, AssessmentInput("other", later))
    cmp = compare_results(inst, result, after)
    ops = next(d for d in cmp.dimensions if d.dimension_id == "ops")
    # ops.a = (0.5 + 1) / 2 = 0.75; D = 100 * (1.5 + 0.7) / 3 = 73.33 -> delta 8.33, material; q_multi needs
    # no evidence, so the improvement is reliable
    assert ops.delta == pytest.approx(8.3333333) and ops.material and ops.reliable
    sales = next(d for d in cmp.dimensions if d.dimension_id == "sales")
    assert sales.delta == 0 and not sales.material and not sales.reliable
    assert cmp.maturity_delta == pytest.approx(5.0)  # 0.6 * 8.333
    check = check_reassessment(inst, date(2025, 1, 1), date(2025, 3, 1))
    assert (check.allowed, check.days_since, check.earliest) == (False, 59, date(2025, 4, 1))
    assert check_reassessment(inst, date(2025, 1, 1), date(2025, 4, 1)).allowed


def test_jump_without_new_evidence_is_flagged(inst):
    low = {k: Answer(v.value, v.na, v.confidence, False) for k, v in answers().items()}
    high = low | {"q_single": Answer("full"), "q_multi": Answer(["a", "b", "c"]), "q_kpi": Answer(95)}
    before = score_assessment(inst, AssessmentInput("other", low))
    after = score_assessment(inst, AssessmentInput("other", high))
    # ops: (2 * 1 + (2 * 1 + .8) / 3) / 3 = 97.78 vs 65 -> M + 0.6 * 32.78 = +19.67: just under 20, no flag
    assert compare_results(inst, before, after).flags == ()
    higher = high | {"q_adopt": Answer({"r1": 5, "r2": 5})}  # sales +8.33 -> M +3.33 more -> +23
    flags = compare_results(inst, before, score_assessment(inst, AssessmentInput("other", higher))).flags
    assert [f.code for f in flags] == ["jump_without_evidence"]


def test_withhold_policy_blanks_m_and_level(toy_factory):
    data = toy_factory()
    data["parameters"]["na"]["policy"] = "withhold"  # type: ignore[index]
    inst = load_instrument(data)
    view = score_assessment(inst, AssessmentInput("other", answers() | {"q_out2": Answer(na=True)})).self_view
    assert view.maturity is not None and view.outcome is None  # only the outcome dimension is insufficient
    # make ops insufficient too: q_req (1/9) is not enough, so also answer q_multi... via a threshold of 0.1
    data["parameters"]["na"]["insufficient_share"] = 0.1  # type: ignore[index]
    inst = load_instrument(data)
    view = score_assessment(inst, AssessmentInput("other", answers() | {"q_req": Answer(na=True)})).self_view
    assert view.dimension("ops").insufficient and view.provisional
    assert view.maturity is None and view.level is None and view.composite is None


def test_advice_ties_go_to_the_smaller_step(toy_factory):
    data = toy_factory()
    options = data["dimensions"][0]["indicators"][0]["questions"][0]["options"]
    options[1].update(value=0.75, cost_tier=2)  # "basic" now ties with "full": both close the 60-point gaps at cost 2
    inst = load_instrument(data)
    result = score_assessment(inst, AssessmentInput("other", answers() | {"q_single": Answer("none")}))
    ops = next(p for p in result.advice if p.dimension_id == "ops")
    # p1 = 0 and critical q_single = 0, both 60 short: basic adds 75 points to each (useful 60 + 60), full 100 (also
    # 60 + 60); equal useful points per cost -> the earlier, smaller step wins
    assert [(i.question_id, i.target) for i in ops.items] == [("q_single", "basic")]
    assert ops.reachable
