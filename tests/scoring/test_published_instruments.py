"""The three published models score hand-computed cases of their own arithmetic within 1e-9.

Every expected number is worked in a comment from the model's published rule (docs/instruments.md), not from the code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scoring import (
    Answer,
    AssessmentInput,
    InvalidAnswer,
    Profile,
    RubricMismatch,
    caveats,
    check_crosswalk,
    crosswalk_estimate,
    load_instrument_file,
    questions_for,
    score_assessment,
)
from scoring.maturity import band

ROOT = Path(__file__).resolve().parents[2] / "instruments"
EPS = 1e-9


@pytest.fixture(scope="module")
def dma():
    return load_instrument_file(ROOT / "eu-dma-sme-v1.yaml")


@pytest.fixture(scope="module")
def impuls():
    return load_instrument_file(ROOT / "impuls-readiness-v1.yaml")


@pytest.fixture(scope="module")
def miit():
    return load_instrument_file(ROOT / "miit-sme-v1.yaml")


@pytest.fixture(scope="module")
def jiaxing():
    return load_instrument_file(ROOT / "jiaxing-v1.yaml")


def _ticks(inst, qid: str, n: int) -> list[str]:
    q = inst.layout("other").index[qid].question
    return [o.id for o in q.options if not o.exclusive][:n]


def _rows(inst, qid: str, states) -> dict:
    q = inst.layout("other").index[qid].question
    return dict(zip((r.id for r in q.rows), states, strict=True))


def _scores(result) -> dict[str, float | None]:
    return {d.dimension_id: d.score for d in result.self_view.dimensions}


def _nothing_invented(inst, result) -> None:
    """None of the three has levels, advice, priorities, a composite or outcome dimensions: all absent."""
    out = inst.outputs
    assert not (out.levels or out.advice or out.priorities or out.composite or out.outcome or out.evidence)
    assert out.bands and result.outputs == out
    view = result.self_view
    assert view.level is None and view.attainment == () and view.composite is None and view.outcome is None
    assert all(d.level is None and d.attainment == () for d in view.dimensions)
    assert result.advice == () and result.priorities == () and result.evidence_coverage is None


# --- EU DMA, SME module ----------------------------------------------------------------------------------------


def test_dma_case_with_every_question_type(dma):
    answers = {
        # Q1 rows: 4 already, 3 planned, 1 both, 2 neither -> (4·1 + 3·0.5 + 1·1 + 0) / 10 = 0.65
        "q1_investment": Answer(
            _rows(dma, "q1_investment", ["in_use"] * 4 + ["planned"] * 3 + ["both"] + ["none"] * 2)
        ),
        "q2_readiness": Answer(_ticks(dma, "q2_readiness", 6)),  # 6 / 10 = 0.6
        "q3_basic_tech": Answer(_ticks(dma, "q3_basic_tech", 7)),  # 7 / 10 = 0.7
        # Q4 rows 5, 3, 0, 2, 1, 0, 4 -> (1 + .6 + 0 + .4 + .2 + 0 + .8) / 7 = 3 / 7
        "q4_advanced_tech": Answer(_rows(dma, "q4_advanced_tech", [5, 3, 0, 2, 1, 0, 4])),
        "q5_skills": Answer(_ticks(dma, "q5_skills", 3)),  # 3 / 7
        "q6_engagement": Answer(_ticks(dma, "q6_engagement", 5)),  # 5 / 8
        "q7_data_management": Answer(_ticks(dma, "q7_data_management", 5)),  # 5 / 8: the negative option counts
        "q8_data_security": Answer(_ticks(dma, "q8_data_security", 4)),  # 4 / 6
        "q9_automation_ai": Answer(_rows(dma, "q9_automation_ai", [2, 0, 1, 5, 3])),  # (.4 + 0 + .2 + 1 + .6) / 5 = .44
        "q10_green_practices": Answer(_ticks(dma, "q10_green_practices", 2)),  # 2 / 10 = 0.2
        # Q11 yes, partly, no, no, yes -> (1 + .5 + 0 + 0 + 1) / 5 = 0.5
        "q11_green_choices": Answer(_rows(dma, "q11_green_choices", ["yes", "partly", "no", "no", "yes"])),
    }
    result = score_assessment(dma, AssessmentInput("other", answers))
    want = {
        "strategy": (0.65 + 0.6) * 50,  # D = (q_a + q_b) · 5 with q on 0–10: 62.5
        "readiness": (0.7 + 3 / 7) * 50,  # 395/7 = 56.428571…
        "human": (3 / 7 + 5 / 8) * 50,  # 1475/28 = 52.678571…
        "data": (5 / 8 + 4 / 6) * 50,  # 775/12 = 64.583333…
        "automation": 0.44 * 100,  # one-question dimension: D = q · 10 = 44
        "green": (0.2 + 0.5) * 50,  # 35
    }
    assert _scores(result) == pytest.approx(want, abs=EPS)
    # overall = unweighted mean of the six = (5250 + 4740 + 4425 + 5425 + 6636) / 84 / 6 = 26476 / 504
    assert result.self_view.maturity == pytest.approx(26476 / 504, abs=EPS)  # 52.531746…
    assert result.self_view.band == 2  # Moderately advanced: above 50, at most 70
    assert [result.self_view.dimension(d).band for d in want] == [2, 2, 2, 2, 1, 1]
    _nothing_invented(dma, result)


def test_dma_maximum_and_the_negative_option(dma):
    best = {}
    for dim in questions_for(dma, "other"):
        for q in dim.questions:
            if q.type == "multi":
                best[q.id] = Answer(_ticks(dma, q.id, 99))
            else:
                top = max(q.scale, key=q.scale.get)
                best[q.id] = Answer({r.id: top for r in q.rows})
    result = score_assessment(dma, AssessmentInput("other", best))
    # every positive tick of Q7 is 7 / 8: D4 = (7/8 + 1) · 50 = 93.75, and the mean (5 · 100 + 93.75) / 6
    assert result.question("q7_data_management").self_score == pytest.approx(7 / 8, abs=EPS)
    assert result.self_view.dimension("data").score == pytest.approx(93.75, abs=EPS)
    assert result.self_view.maturity == pytest.approx(593.75 / 6, abs=EPS)
    assert "all_max" in {f.code for f in result.flags}  # 7/8 is Q7's maximum, so every answer is at its maximum
    alone = score_assessment(dma, AssessmentInput("other", {**best, "q7_data_management": Answer(["not_digital"])}))
    assert alone.question("q7_data_management").self_score == 0
    with pytest.raises(InvalidAnswer, match="the exclusive option cannot be combined"):
        score_assessment(
            dma, AssessmentInput("other", {**best, "q7_data_management": Answer(["not_digital", "policy"])})
        )


def test_dma_bands_put_the_limit_in_the_lower_band(dma):
    # Basic ≤ 25 < Average ≤ 50 < Moderately advanced ≤ 70 < Advanced
    got = [band(s, dma.params) for s in (0, 25, 25.000000000000004, 25.01, 50, 50.5, 70, 70.2, 100)]
    assert got == [0, 0, 0, 1, 1, 2, 2, 3, 3]
    # a dimension at exactly 50: Q7 4/8 and Q8 3/6 -> D4 = (0.5 + 0.5) · 50 = 50, still Average
    answers = {
        q.id: Answer(_ticks(dma, q.id, 1) if q.type == "multi" else _rows(dma, q.id, [q.states[0]] * len(q.rows)))
        for d in questions_for(dma, "other")
        for q in d.questions
    }
    answers["q7_data_management"] = Answer(_ticks(dma, "q7_data_management", 4))
    answers["q8_data_security"] = Answer(_ticks(dma, "q8_data_security", 3))
    data = score_assessment(dma, AssessmentInput("other", answers)).self_view.dimension("data")
    assert data.score == pytest.approx(50, abs=EPS) and data.band == 1


def test_dma_marks_what_the_sources_leave_unconfirmed(dma):
    found = {(c.where, c.item_id): c for c in caveats(dma)}
    assert set(found) == {
        ("bands", None),
        ("question", "q1_investment"),
        ("question", "q7_data_management"),
        ("crosswalk", "jiaxing-v1 1.0.0"),
    }
    assert all(c.unconfirmed and c.note.zh and c.note.en for c in found.values())
    assert (
        "0.5" in found[("question", "q1_investment")].note.en
        and "8.75" in found[("question", "q7_data_management")].note.en
    )


def test_dma_refuses_a_prioritisation_profile(dma):
    with pytest.raises(InvalidAnswer, match="no prioritisation"):
        score_assessment(dma, AssessmentInput("other", {}, profile=Profile()))


# --- IMPULS-style readiness ------------------------------------------------------------------------------------


def _levels(impuls, by_dimension: dict[str, list[int]]) -> dict[str, Answer]:
    answers = {}
    for dim in questions_for(impuls, "other"):
        for q, level in zip(dim.questions, by_dimension[dim.id], strict=True):
            answers[q.id] = Answer(f"level{level}")
    return answers


def test_impuls_dimension_is_its_lowest_field_and_weights_are_published(impuls):
    fields = {
        "strategy": [3, 1, 4],  # lowest 1 -> D = 20
        "smart_factory": [2, 2, 5, 3],  # lowest 2 -> 40
        "smart_operations": [5, 5, 5, 5],  # 5 -> 100
        "smart_products": [0, 4],  # 0 -> 0: a strong field cannot hide a weak one
        "data_services": [3, 3, 2],  # 2 -> 40
        "employees": [1, 2],  # 1 -> 20
    }
    result = score_assessment(impuls, AssessmentInput("other", _levels(impuls, fields)))
    assert [d.weight for d in impuls.dimensions] == [25, 14, 10, 19, 14, 18]
    want = {
        "strategy": 20,
        "smart_factory": 40,
        "smart_operations": 100,
        "smart_products": 0,
        "data_services": 40,
        "employees": 20,
    }
    assert _scores(result) == pytest.approx(want, abs=EPS)
    # M = (25·20 + 14·40 + 10·100 + 19·0 + 14·40 + 18·20) / 100 = 2980 / 100
    assert result.self_view.maturity == pytest.approx(29.8, abs=EPS)
    # bands are the IMPULS levels: a dimension at 20·L is at level L; overall 29.8 reaches level 1
    assert [result.self_view.dimension(d).band for d in want] == [1, 2, 5, 0, 2, 1]
    assert result.self_view.band == 1
    assert impuls.params.band_labels[1].en == "Level 1 · Beginner (newcomer)"
    _nothing_invented(impuls, result)


def test_impuls_even_levels_land_on_their_band(impuls):
    for level in range(6):
        fields = {d.id: [level] * len(d.questions) for d in questions_for(impuls, "other")}
        result = score_assessment(impuls, AssessmentInput("other", _levels(impuls, fields)))
        assert result.self_view.maturity == pytest.approx(20 * level, abs=EPS)
        assert result.self_view.band == level and {d.band for d in result.self_view.dimensions} == {level}


def test_impuls_marks_its_renderings_as_unconfirmed(impuls):
    found = {(c.where, c.item_id) for c in caveats(impuls) if c.unconfirmed}
    assert ("instrument", "impuls-readiness-v1") in found and ("bands", None) in found
    assert not any(c.where == "dimension" for c in caveats(impuls))  # the weights are published


# --- MIIT SME digital level ------------------------------------------------------------------------------------


def test_miit_case_on_the_four_dimensions(miit):
    answers = {
        "fd_equipment_digital": Answer("from30"),  # 0.5
        "fd_equipment_network": Answer("from10"),  # 0.25  -> equipment = 0.375
        "fd_system_coverage": Answer(_rows(miit, "fd_system_coverage", [4, 2, 3, 1, 4])),  # (1+.5+.75+.25+1)/5 = .7
        "fd_cloud": Answer("some"),  # 0.5  -> systems = (0.7 + 0.5) / 2 = 0.6
        "fd_security": Answer(["firewall", "backup", "access"]),  # 3 / 5 = 0.6
        "op_design": Answer("cad3d"),  # 0.5
        "op_planning": Answer("erp"),  # 0.5
        "op_quality": Answer("traceable"),  # 0.75  -> production = 0.625
        "op_supply": Answer("system"),  # 0.5
        "op_sales": Answer("crm"),  # 0.75
        "mg_plan": Answer("written"),  # 0.5
        "mg_people": Answer("full_time"),  # 0.5
        "mg_invest": Answer("from05"),  # 0.5
        "mg_systems": Answer(["finance", "hr", "oa"]),  # 3 / 5 = 0.6
        "rs_quality": Answer("from1"),  # 0.5
        "rs_efficiency": Answer("from10"),  # 0.75
        "rs_revenue": Answer("from5"),  # 0.5
        "rs_energy": Answer("below2"),  # 0.25
    }
    result = score_assessment(miit, AssessmentInput("other", answers))
    want = {
        "foundation": 100 * (0.375 + 0.6 + 0.6) / 3,  # 52.5
        "operations": 100 * (0.5 + 0.625 + 0.5 + 0.75) / 4,  # 59.375
        "management": 100 * (0.5 + 0.5 + 0.5 + 0.6) / 4,  # 52.5
        "results": 100 * (0.5 + 0.75 + 0.5 + 0.25) / 4,  # 50
    }
    assert _scores(result) == pytest.approx(want, abs=EPS)
    assert result.self_view.maturity == pytest.approx((52.5 + 59.375 + 52.5 + 50) / 4, abs=EPS)  # 53.59375
    assert result.self_view.band == 2 and miit.params.band_labels[2].zh == "二级"  # 40–60
    _nothing_invented(miit, result)


def test_miit_levels_are_the_published_bands(miit):
    # 未达一级 < 20 ≤ 一级 < 40 ≤ 二级 < 60 ≤ 三级 < 80 ≤ 四级; a limit belongs to the higher level, within 1e-9
    got = [band(s, miit.params) for s in (0, 19.99, 20, 39.999999999999996, 40, 60, 79.9, 80, 100)]
    assert got == [0, 0, 1, 2, 2, 3, 3, 4, 4]
    assert [t.zh for t in miit.params.band_labels] == ["未达一级", "一级", "二级", "三级", "四级"]


def test_miit_coverage_question_has_its_own_five_state_scale(miit):
    q = miit.layout("other").index["fd_system_coverage"].question
    assert q.states == (0, 1, 2, 3, 4) and [q.scale[s] for s in q.states] == [0, 0.25, 0.5, 0.75, 1]
    assert q.scale_labels[4].zh == "全面应用"
    with pytest.raises(InvalidAnswer, match=r"must be one of \[0, 1, 2, 3, 4\]"):
        score_assessment(
            miit, AssessmentInput("other", {"fd_system_coverage": Answer(_rows(miit, "fd_system_coverage", [5] * 5))})
        )


def test_miit_marks_every_unconfirmed_weight(miit):
    unconfirmed = {c.item_id for c in caveats(miit) if c.unconfirmed and c.where == "dimension"}
    assert unconfirmed == {d.id for d in miit.dimensions}


# --- The three together ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["eu-dma-sme-v1", "impuls-readiness-v1", "miit-sme-v1"])
def test_every_text_is_bilingual_and_chinese_is_chinese(name):
    inst = load_instrument_file(ROOT / f"{name}.yaml")
    texts = [inst.title, *(d.name for d in inst.dimensions)]
    for dim in inst.dimensions:
        for ind in dim.indicators:
            texts.append(ind.name)
            for q in ind.questions:
                texts += [
                    q.text,
                    *(o.label for o in q.options),
                    *(r.label for r in q.rows),
                    *(q.scale_labels or {}).values(),
                ]
    texts += [c.note for c in caveats(inst)]
    for text in texts:
        assert re.search(r"[\u4e00-\u9fff]", text.zh) and re.search(r"[A-Za-z]", text.en), text


@pytest.mark.parametrize("name", ["eu-dma-sme-v1", "miit-sme-v1"])
def test_crosswalk_from_jiaxing_gives_a_labelled_estimate(name, jiaxing):
    target = load_instrument_file(ROOT / f"{name}.yaml")
    check_crosswalk(target, jiaxing)
    answers = {}
    for dim in questions_for(jiaxing, "textile"):
        for n, q in enumerate(dim.questions):
            if q.type == "single":
                answers[q.id] = Answer(sorted(q.options, key=lambda o: o.value)[n % len(q.options)].id)
            elif q.type == "multi":
                answers[q.id] = Answer([o.id for o in q.options if not o.exclusive][: n % 3])
            elif q.type == "kpi":
                answers[q.id] = Answer(q.anchors[n % len(q.anchors)][0])
            elif q.type == "kpi_delta":
                answers[q.id] = Answer({"baseline": 50, "current": 50 + 5 * (n % 6)})
            elif q.type == "requirement":
                answers[q.id] = Answer(q.states[n % 4])
            else:
                answers[q.id] = Answer({r.id: q.states[(n + i) % len(q.states)] for i, r in enumerate(q.rows)})
    result = score_assessment(jiaxing, AssessmentInput("textile", answers))
    estimate = crosswalk_estimate(target, jiaxing, result)
    jx = _scores(result)
    (walk,) = target.crosswalks
    assert (
        estimate.unconfirmed
        and estimate.note is not None
        and (estimate.source_id, estimate.view) == ("jiaxing-v1", "self")
    )
    for est in estimate.dimensions:
        mapping = walk.dimensions[est.dimension_id]
        want = sum(w * jx[s] for s, w in mapping.items()) / sum(mapping.values())
        assert est.score == pytest.approx(want, abs=EPS) and est.band == band(want, target.params)
    weights = {d.id: d.weight for d in target.dimensions}
    want_m = sum(weights[e.dimension_id] * e.score for e in estimate.dimensions) / sum(weights.values())
    assert estimate.maturity == pytest.approx(want_m, abs=EPS)
    with pytest.raises(RubricMismatch, match="no crosswalk from"):
        crosswalk_estimate(load_instrument_file(ROOT / "impuls-readiness-v1.yaml"), jiaxing, result)
    with pytest.raises(RubricMismatch, match="result was scored on"):
        crosswalk_estimate(target, target, result)
