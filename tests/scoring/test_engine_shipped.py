"""The shipped Jiaxing instrument loads and has the shape the reference design asks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scoring import Answer, AssessmentInput, load_instrument_file, questions_for, score_assessment
from scoring.items import row_scale

ROOT = Path(__file__).resolve().parents[2]
MATURITY = ["strategy", "infrastructure", "design", "production", "supply_chain", "marketing", "data", "talent"]
WEIGHTS = [12, 10, 10, 18, 10, 10, 18, 12]
PACKS = {"silk", "warp_knitting", "textile", "garment", "leather", "luggage", "wood"}
# jiaxing-v1 1.0.0 content checksum. A published version is immutable: to change anything, copy the files to a new
# version (jiaxing-v2 or 1.1.0) instead of editing these; update this pin only before the version is published.
PINNED_CHECKSUM = "ecf6bc526d68ddfa5509a8ba0154d331ff9ec06288accc4d110d11cff154f3c8"


def test_shipped_files_match(shipped):
    assert sorted(p.name for p in (ROOT / "instruments").glob("jiaxing-v1*")) == ["jiaxing-v1", "jiaxing-v1.yaml"]
    assert (shipped.id, shipped.version) == ("jiaxing-v1", "1.0.0")
    assert shipped.checksum == PINNED_CHECKSUM, "jiaxing-v1 changed: publish the change as a new version"


def test_dimensions_and_weights(shipped):
    maturity = [d for d in shipped.dimensions if d.role == "maturity"]
    assert [d.id for d in maturity] == MATURITY
    assert [d.weight for d in maturity] == WEIGHTS
    assert [d.id for d in shipped.dimensions if d.role == "outcome"] == ["outcomes"]


def test_base_question_count(shipped):
    base = [q for d in shipped.dimensions for i in d.indicators for q in i.questions]
    maturity = [q for d in shipped.dimensions if d.role == "maturity" for i in d.indicators for q in i.questions]
    assert 50 <= len(maturity) <= len(base) <= 80
    assert {q.type for q in maturity} == {
        "single",
        "requirement",
        "multi",
        "adoption",
        "in_use_planned",
        "tri_state",
        "kpi",
    }
    assert sum(q.type == "kpi" for q in maturity) >= 5
    assert sum(q.type == "kpi_delta" for q in base) >= 6


def test_packs_cover_all_industries_within_bounds(shipped):
    assert {p.id for p in shipped.packs} == PACKS
    assert set(shipped.industries) == PACKS | {"other"}
    for pack in shipped.packs:
        assert all(abs(delta) <= shipped.params.pack_max_shift for delta in pack.reweight.values()), pack.id
        layout = questions_for(shipped, pack.id)
        assert sum(d.weight for d in layout if d.role == "maturity") == 100, pack.id
        added = [q for pi in pack.indicators for q in pi.indicator.questions]
        assert len(added) >= 3, pack.id


@pytest.mark.parametrize("industry", sorted(PACKS | {"other"}))
def test_every_level_is_reachable_in_every_dimension(shipped, industry):
    for dim in questions_for(shipped, industry):
        if dim.role == "maturity":
            levels = {q.level for q in dim.questions if not q.na_allowed}
            assert levels == {1, 2, 3, 4, 5} or dim.id == "design", (industry, dim.id, levels)
            assert {q.level for q in dim.questions} == {1, 2, 3, 4, 5}, (industry, dim.id)


def _answer(inst, q, best: bool) -> Answer:
    if q.type in ("single",):
        options = sorted(q.options, key=lambda o: o.value)
        return Answer((options[-1] if best else options[0]).id, confidence=5, has_evidence=True)
    if q.type == "requirement":
        return Answer("fully" if best else "none", confidence=5, has_evidence=True)
    if q.type == "multi":
        ticks = [o.id for o in q.options if not o.exclusive]
        return Answer(ticks if best else [], confidence=5, has_evidence=True)
    if q.type in ("adoption", "tri_state", "in_use_planned"):
        scale = row_scale(q, inst.params)
        state = max(scale, key=scale.get) if best else min(scale, key=scale.get)
        return Answer({r.id: state for r in q.rows}, confidence=5, has_evidence=True)
    if q.type == "kpi":
        x = max(q.anchors, key=lambda a: a[1])[0] if best else min(q.anchors, key=lambda a: a[1])[0]
        return Answer(x, confidence=5, has_evidence=True)
    return Answer({"baseline": 10, "current": 20 if (q.direction == "higher_better") == best else 5})


@pytest.mark.parametrize("industry", sorted(PACKS | {"other"}))
def test_full_marks_reach_the_top_and_nothing_scores_zero(shipped, industry):
    def run(best: bool):
        answers = {q.id: _answer(shipped, q, best) for d in questions_for(shipped, industry) for q in d.questions}
        return score_assessment(shipped, AssessmentInput(industry, answers))

    top, bottom = run(True), run(False)
    assert (top.self_view.maturity, top.self_view.outcome, top.self_view.level) == (100, 100, 5)
    assert top.evidence_view.maturity == 100 and top.evidence_coverage == 100 and top.confidence == 100
    assert {f.code for f in top.flags} == {"all_max"} and top.advice == ()
    assert (bottom.self_view.maturity, bottom.self_view.outcome, bottom.self_view.level) == (0, 0, 0)
    assert all(p.reachable and p.items for p in bottom.advice)


def test_grounding_in_the_seed_plan(shipped):
    text = " ".join(
        q.text.zh + " ".join(o.label.zh for o in q.options) + " ".join(r.label.zh for r in q.rows)
        for d in shipped.dimensions
        for i in d.indicators
        for q in i.questions
    ) + " ".join(
        q.text.zh + " ".join(o.label.zh for o in q.options)
        for p in shipped.packs
        for pi in p.indicators
        for q in pi.indicator.questions
    )
    for term in (
        "CAD",
        "CAM",
        "自动检测",
        "自动控制",
        "ERP",
        "电子商务",
        "行业专业网站",
        "园区信息化公共服务平台",
        "等级保护",
        "备份",
        "ISO",
        "自动缫丝",
        "经编机",
        "排料",
        "排版",
        "打样",
        "数控",
        "染色",
    ):
        assert term in text, term


def test_every_text_is_bilingual(shipped):
    for d in shipped.dimensions:
        for i in d.indicators:
            for q in i.questions:
                assert re.search(r"[\u4e00-\u9fff]", q.text.zh) and re.search(r"[A-Za-z]", q.text.en), q.id


def test_reload_gives_the_same_instrument(shipped):
    again = load_instrument_file(ROOT / "instruments" / "jiaxing-v1.yaml")
    assert again == shipped and again.checksum == shipped.checksum
