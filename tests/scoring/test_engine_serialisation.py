"""Results round-trip through JSON, recompute identically from their stored inputs, and the app helpers work."""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from pathlib import Path

import pytest

from scoring import (
    ENGINE_VERSION,
    Answer,
    AssessmentInput,
    InvalidAnswer,
    Override,
    Profile,
    RubricMismatch,
    ScoreResult,
    compare_results,
    industries,
    is_stale,
    load_instrument,
    questions_for,
    radar_data,
    recompute,
    score_assessment,
)
from scoring.items import row_scale


def _middling(inst, industry: str) -> dict[str, Answer]:
    """Answer every question with its middle option / state / anchor, alternating evidence and confidence."""
    answers: dict[str, Answer] = {}
    for n, q in enumerate(q for d in questions_for(inst, industry) for q in d.questions):
        if q.type in ("single", "multi"):
            ids = [o.id for o in q.options if not o.exclusive]
            value = ids[len(ids) // 2] if q.type == "single" else ids[: len(ids) // 2]
        elif q.type == "requirement":
            value = "mostly"
        elif q.type in ("adoption", "tri_state", "in_use_planned"):
            states = list(row_scale(q, inst.params))
            value = {r.id: states[(n + i) % len(states)] for i, r in enumerate(q.rows)}
        elif q.type == "kpi":
            value = q.anchors[len(q.anchors) // 2][0] + 1
        else:
            value = {"baseline": 50, "current": 55 + n % 3}
        answers[q.id] = Answer(value, confidence=1 + n % 5, has_evidence=n % 2 == 0)
    answers["de_rnd" if "de_rnd" in answers else next(iter(answers))] = Answer(na=True)
    return answers


@pytest.fixture(scope="module")
def inp(shipped) -> AssessmentInput:
    return AssessmentInput(
        industry="warp_knitting",
        answers=_middling(shipped, "warp_knitting"),
        overrides={"pr_ledger": Override("approved"), "in_backup": Override("overridden", "manual")},
        profile=Profile(("delivery", "defects", "quick_response"), {"materials": 0.5, "labour": 0.3, "energy": 0.2}),
        cohort_p90={
            d: 70.0
            for d in (
                "strategy",
                "infrastructure",
                "design",
                "production",
                "supply_chain",
                "marketing",
                "data",
                "talent",
            )
        },
        duration_seconds=900,
    )


@pytest.fixture(scope="module")
def result(shipped, inp) -> ScoreResult:
    return score_assessment(shipped, inp)


def test_result_round_trips_through_json(result):
    text = json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False)
    back = ScoreResult.from_dict(json.loads(text))
    assert back == result
    assert back.to_dict() == result.to_dict()
    assert isinstance(back.self_view.dimensions, tuple) and isinstance(back.inputs.answers["pr_ledger"], Answer)


def test_input_round_trips(result):
    data = json.loads(json.dumps(result.inputs.to_dict()))
    assert AssessmentInput.from_dict(data) == result.inputs


def test_recompute_from_stored_inputs_is_identical(shipped, result):
    assert recompute(shipped, result) == result
    stored = ScoreResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert recompute(shipped, stored) == result
    assert score_assessment(shipped, stored.inputs).to_dict() == result.to_dict()


def test_result_contents(result):
    assert result.engine_version == ENGINE_VERSION
    assert (result.instrument_id, result.instrument_version) == ("jiaxing-v1", "1.0.0")
    assert result.verified_view is not None and result.question("in_backup").verified_score == 0.3
    assert result.question("de_rnd").status == "na"
    assert [p.dimension_id for p in result.advice][-1] is None  # the overall plan comes last
    assert len(result.priorities) == 8 and sum(p.top for p in result.priorities) == 3
    assert len(result.answers_fingerprint) == 64


def test_staleness_and_version_mismatch(shipped, toy_instrument, result):
    assert not is_stale(shipped, result)
    assert is_stale(shipped, dataclasses.replace(result, engine_version="0.9.0"))
    assert is_stale(toy_instrument, result)
    with pytest.raises(RubricMismatch):
        recompute(toy_instrument, result)
    with pytest.raises(RubricMismatch, match="crosswalk"):
        compare_results(toy_instrument, result, result)


def test_comparing_a_result_with_itself_shows_no_material_change(shipped, result):
    cmp = compare_results(shipped, result, result)
    assert all(d.delta == 0 and not d.material and not d.reliable for d in cmp.dimensions)
    assert cmp.maturity_delta == 0 and cmp.flags == ()


def test_radar_data(shipped, result):
    radar = radar_data(shipped, result, lang="en")
    assert radar["dimension_ids"][:2] == ["strategy", "infrastructure"] and len(radar["labels"]) == 8
    assert radar["labels"][0] == "Strategy & management"
    assert radar["series"]["self"] == [result.self_view.dimension(d).score for d in radar["dimension_ids"]]
    assert radar["series"]["verified"] is not None
    plain = score_assessment(shipped, AssessmentInput("other", {}))
    assert radar_data(shipped, plain)["series"]["verified"] is None
    assert radar_data(shipped, plain)["labels"][0] == "战略与经营管理"


def test_wizard_helpers(shipped):
    assert industries(shipped)[-1] == "other"
    silk = questions_for(shipped, "silk")
    production = next(d for d in silk if d.id == "production")
    assert production.name.zh == "生产与装备" and "si_reeling" in [q.id for q in production.questions]
    assert "si_reeling" not in [q.id for d in questions_for(shipped, "other") for q in d.questions]
    with pytest.raises(InvalidAnswer, match="unknown industry"):
        questions_for(shipped, "steel")


def test_pack_anchor_overrides_apply_per_industry(shipped):
    def networking(industry: str) -> float:
        answers = {"pr_network_rate": Answer(60)}
        return score_assessment(shipped, AssessmentInput(industry, answers)).question("pr_network_rate").self_score

    # base anchors 50 -> .5, 80 -> .8: 60 % -> 0.6; warp knitting asks more (60 -> .5)
    assert networking("other") == pytest.approx(0.6) and networking("warp_knitting") == pytest.approx(0.5)


def test_scoring_is_fast(shipped, inp):
    timings = []
    for _ in range(15):
        start = time.perf_counter()
        score_assessment(shipped, inp)
        timings.append(time.perf_counter() - start)
    # ~2-4 ms on a shared 2-core box; the bound is loose so only a pathological regression fails
    assert statistics.median(timings) < 0.05


def test_loading_from_a_dict_copy_gives_the_same_checksum(shipped, toy_factory):
    data = toy_factory()
    assert load_instrument(data).checksum == load_instrument(json.loads(json.dumps(data))).checksum


def test_read_instrument_data_is_self_contained(shipped, tmp_path):
    from scoring import InstrumentError, read_instrument_data

    data = read_instrument_data(Path(__file__).resolve().parents[2] / "instruments" / "jiaxing-v1.yaml")
    assert "pack_files" not in data and len(data["packs"]) == 7
    assert load_instrument(json.loads(json.dumps(data))).checksum == shipped.checksum
    pack = tmp_path / "p.yaml"
    pack.write_text("id: silk\nname: {zh: 丝, en: silk}\nreweight: {ops: 9}\n", encoding="utf-8")
    main = tmp_path / "main.yaml"
    main.write_text(json.dumps({**data, "packs": [], "pack_files": ["p.yaml"]}, ensure_ascii=False), "utf-8")
    with pytest.raises(InstrumentError, match=rf"^{pack}: \$\.reweight\.ops: must name a maturity dimension"):
        read_instrument_data(main)


def test_check_answer_value(shipped):
    from scoring import check_answer_value

    question = next(q for d in questions_for(shipped, "other") for q in d.questions if q.id == "in_protect")
    assert check_answer_value(shipped, question, ["antivirus", "firewall"]) == ["firewall", "antivirus"]
    with pytest.raises(InvalidAnswer, match="exclusive"):
        check_answer_value(shipped, question, ["none", "firewall"])


def test_a_snapshot_from_before_the_output_flags_reads_as_having_every_output(shipped, result):
    stored = result.to_dict()
    stored.pop("outputs")  # snapshots stored by engine 1.0.0 have no "outputs"
    back = ScoreResult.from_dict(json.loads(json.dumps(stored)))
    assert back.outputs == shipped.outputs  # Jiaxing v1 has every block, as the defaults say
    assert recompute(shipped, back) == result
