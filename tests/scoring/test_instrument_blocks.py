"""Loader tests for the optional blocks and the new fields: each present, absent and malformed, with its message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from blocks_toy import BLOCKS, bare, questions, without
from scoring_toy import toy

from scoring import (
    Answer,
    AssessmentInput,
    InstrumentError,
    InvalidAnswer,
    Profile,
    caveats,
    load_instrument,
    score_assessment,
)
from scoring.items import moves

Data = dict[str, Any]
Q0 = "$.dimensions[0].indicators[0].questions[0]"  # q_single
MULTI = "$.dimensions[0].indicators[0].questions[1]"  # q_multi
ADOPT = "$.dimensions[1].indicators[0].questions[0]"  # q_adopt
TRI = "$.dimensions[1].indicators[0].questions[1]"  # q_tri
IUP = "$.dimensions[1].indicators[0].questions[2]"  # q_iup
REQ = "$.dimensions[0].indicators[1].questions[1]"  # q_req


def _q(data: Data, qid: str) -> Data:
    return next(q for q in questions(data) if q["id"] == qid)


def _problems(data: Data) -> list[str]:
    with pytest.raises(InstrumentError) as caught:
        load_instrument(data, source="toy")
    return str(caught.value).splitlines()


def _answers() -> dict[str, Answer]:
    return {
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


# --- Optional blocks: absent --------------------------------------------------------------------------------


@pytest.mark.parametrize("blocks", [BLOCKS[:1], BLOCKS[:2], BLOCKS[:3], ("bands",), ("composite",), BLOCKS])
def test_an_instrument_without_optional_blocks_loads_and_scores(blocks):
    inst = load_instrument(without(toy(), *blocks), source="toy")
    result = score_assessment(inst, AssessmentInput("other", _answers()))
    view = result.self_view
    has = set(BLOCKS) - set(blocks)
    assert result.outputs == inst.outputs
    assert (inst.outputs.levels, inst.outputs.advice, inst.outputs.priorities) == (
        "levels" in has,
        "advice" in has,
        "priorities" in has,
    )
    assert (inst.outputs.bands, inst.outputs.composite, inst.outputs.outcome) == (
        "bands" in has,
        "composite" in has,
        True,
    )
    # the scores never depend on the blocks: D_ops = 65, D_sales = 70.83, M = 67.33, O = 70 (docs/scoring.md §12)
    assert view.dimension("ops").score == pytest.approx(65, abs=1e-9)
    assert view.maturity == pytest.approx(0.6 * 65 + 0.4 * 425 / 6, abs=1e-9)
    assert view.outcome == pytest.approx(70, abs=1e-9)
    # what a block computes is absent without it, never a placeholder
    assert (view.level is None) == ("levels" not in has)
    assert all((d.level is None and d.attainment == ()) == ("levels" not in has) for d in view.dimensions[:2])
    assert (view.band is None) == ("bands" not in has) and (view.dimension("ops").band is None) == ("bands" not in has)
    assert (view.composite is None) == ("composite" not in has)
    assert (result.advice == ()) == ("advice" not in has)


def test_the_bare_instrument_has_no_placeholders():
    inst = load_instrument(bare(), source="toy")
    assert inst.params.levels is inst.params.bands is inst.params.composite is None
    assert inst.params.advice is inst.params.priority is None
    assert inst.kpis == inst.cost_categories == () and inst.params.cost_tiers == () and inst.params.level_names == ()
    assert all(
        q.level is None and q.cost_tier is None and q.advice is None
        for d in inst.dimensions
        for q in d.indicators[0].questions
    )
    assert all(
        r.cost_tier is None and r.advice is None for q in inst.dimensions[1].indicators[0].questions for r in q.rows
    )
    result = score_assessment(inst, AssessmentInput("other", _answers()))
    assert result.advice == () and result.priorities == () and result.self_view.attainment == ()


def test_a_profile_for_an_instrument_without_priorities_is_refused():
    inst = load_instrument(without(toy(), "priorities"), source="toy")
    with pytest.raises(InvalidAnswer, match="this instrument has no prioritisation; pass no profile"):
        score_assessment(inst, AssessmentInput("other", _answers(), profile=Profile(("k1",), {"c1": 1})))


def test_optional_top_level_blocks_may_be_left_out():
    data = bare()
    for q in questions(data):
        q.pop("evidence", None)
    for key in ("evidence_kinds", "plausibility", "description"):
        data.pop(key)
    del data["parameters"]["evidence"]
    inst = load_instrument(data, source="toy")
    assert inst.evidence_kinds == {} and inst.rules == () and inst.outputs.evidence is False
    assert inst.params.evidence_cap is None and inst.description is None


# --- Optional blocks and new fields: malformed ---------------------------------------------------------------


def _set(path: Callable[[Data], Data], key: str, value: Any) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        path(data)[key] = value

    return mutate


def _drop(path: Callable[[Data], Data], *keys: str) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        for key in keys:
            del path(data)[key]

    return mutate


def _then(base: Callable[[], Data], *steps: Callable[[Data], None]) -> Callable[[], Data]:
    def build() -> Data:
        data = base()
        for step in steps:
            step(data)
        return data

    return build


P = lambda d: d["parameters"]  # noqa: E731
EXCL = lambda d: _q(d, "q_multi")["options"][3]  # noqa: E731  the exclusive "none" option
NO_LEVELS = lambda: without(toy(), "priorities", "advice", "levels")  # noqa: E731

MALFORMED = [
    # levels
    (
        _then(NO_LEVELS, _set(lambda d: _q(d, "q_kpi"), "level", 2)),
        "$.dimensions[0].indicators[1].questions[0].level",
        "is not used: the instrument has no 'levels' block",
    ),
    (
        _then(NO_LEVELS, _set(lambda d: _q(d, "q_single"), "critical", True)),
        f"{Q0}.critical",
        "is not used: the instrument has no 'levels' block",
    ),
    (
        _then(NO_LEVELS, _set(lambda d: d["parameters"]["evidence"], "required_from_level", 3)),
        "$.parameters.evidence.required_from_level",
        "is not used: the instrument has no 'levels' block",
    ),
    (
        _then(toy, _drop(lambda d: _q(d, "q_kpi"), "level")),
        "$.dimensions[0].indicators[1].questions[0]",
        "missing required field 'level' (maturity questions carry a level tag)",
    ),
    (
        _then(toy, _set(lambda d: d["parameters"]["levels"], "names", [{"zh": "零", "en": "zero"}] * 2)),
        "$.parameters.levels.names",
        "needs one name per level plus one for level 0",
    ),
    # advice
    (
        _then(
            lambda: without(toy(), "priorities", "advice", "levels"),
            _set(P, "advice", {"max_items": 5}),
            _set(P, "cost_tiers", [{"tier": 1, "cost": 1, "label": {"zh": "低", "en": "Low"}}]),
        ),
        "$.parameters.advice",
        "needs 'levels': advice plans lead to the next gated level",
    ),
    (
        _then(toy, _drop(P, "cost_tiers")),
        "$.parameters",
        "missing required field 'cost_tiers' (advice and cost_tiers come together)",
    ),
    (
        _then(lambda: without(toy(), "priorities", "advice"), _set(lambda d: _q(d, "q_kpi"), "cost_tier", 2)),
        "$.dimensions[0].indicators[1].questions[0].cost_tier",
        "is not used: the instrument has no advice block",
    ),
    (
        _then(
            lambda: without(toy(), "priorities", "advice"),
            _set(lambda d: _q(d, "q_adopt")["rows"][0], "advice", {"zh": "启用", "en": "Use it"}),
        ),
        f"{ADOPT}.rows[0].advice",
        "is not used: the instrument has no advice block",
    ),
    (
        _then(toy, _drop(lambda d: _q(d, "q_adopt")["rows"][0], "advice")),
        f"{ADOPT}.rows[0]",
        "missing required field 'advice'",
    ),
    (_then(toy, _drop(lambda d: _q(d, "q_req"), "cost_tier")), REQ, "missing required field 'cost_tier'"),
    (
        _then(toy, _drop(lambda d: _q(d, "q_single")["options"][1], "advice")),
        f"{Q0}.options[1]",
        "missing required field 'advice' (options above the lowest carry advice)",
    ),
    (
        _then(toy, _drop(lambda d: _q(d, "q_multi")["options"][0], "advice")),
        f"{MULTI}.options[0]",
        "missing required field 'advice' (options with a value above 0 carry advice)",
    ),
    # priorities
    (
        _then(toy, _drop(lambda d: d, "priority")),
        "$",
        "missing required field 'priority' (parameters.priority and priority come together)",
    ),
    (
        _then(
            lambda: without(toy(), "priorities", "advice"),
            _set(P, "priority", toy()["parameters"]["priority"]),
            _set(lambda d: d, "priority", toy()["priority"]),
        ),
        "$.parameters.priority",
        "needs the advice block: priorities use each dimension's advice plan",
    ),
    (
        _then(lambda: without(toy(), "priorities"), _set(lambda d: d["packs"][0], "impacts", {"kpis": {}})),
        "$.packs[0].impacts",
        "is not used: the instrument has no priority block",
    ),
    # bands
    (
        _then(toy, _set(lambda d: d["parameters"]["bands"], "labels", [{"zh": "低", "en": "Low"}] * 2)),
        "$.parameters.bands.labels",
        "needs one label more than there are cutpoints",
    ),
    (
        _then(toy, _set(lambda d: d["parameters"]["bands"], "at_cutpoint", "middle")),
        "$.parameters.bands.at_cutpoint",
        "must be one of: higher, lower",
    ),
    # composite
    (
        _then(toy, lambda d: d.update(dimensions=d["dimensions"][:2])),
        "$.parameters.composite",
        "needs an outcome dimension (C combines M with O); remove it",
    ),
    (
        _then(toy, _set(lambda d: d["parameters"]["composite"], "outcome", 0.25)),
        "$.parameters.composite",
        "must sum to 1 (they sum to 1.1)",
    ),
    # other blocks that became optional
    (
        _then(toy, _drop(P, "packs")),
        "$.parameters",
        "missing required field 'packs' (industry packs need packs.max_shift)",
    ),
    (
        _then(toy, _drop(P, "outcome_curve")),
        "$.dimensions[2].indicators[0].questions[0]",
        "missing required field 'anchors' (the instrument has no parameters.outcome_curve)",
    ),
    (
        _then(toy, _drop(P, "evidence")),
        f"{Q0}.evidence",
        "missing required field 'cap' (the instrument has no parameters.evidence)",
    ),
    (
        _then(toy, lambda d: d["parameters"]["scales"].pop("tri_state")),
        TRI,
        "missing required field 'scale' (the instrument has no parameters.scales.tri_state)",
    ),
    # per-question scale
    (
        _then(toy, _set(lambda d: _q(d, "q_adopt"), "scale", [0, 0.5, 0.4, 1])),
        f"{ADOPT}.scale",
        "values must not decrease from the lowest to the highest state",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_adopt"), "scale", {"no": 0, "yes": 1})),
        f"{ADOPT}.scale",
        "must be a list of values for states 0, 1, 2, ...",
    ),
    (_then(toy, _set(lambda d: _q(d, "q_adopt"), "scale", [1])), f"{ADOPT}.scale", "needs at least two states"),
    (
        _then(toy, _set(lambda d: _q(d, "q_adopt"), "scale", [0, 0.5, 1.5])),
        f"{ADOPT}.scale[2]",
        "must be a number from 0 to 1",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_tri"), "scale", [0, 1])),
        f"{TRI}.scale",
        "must be a mapping of states (no, partly, yes) to values",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_tri"), "scale", {"no": 0, "maybe": 0.5, "yes": 1})),
        f"{TRI}.scale.maybe",
        "unknown state 'maybe'; expected one of no, partly, yes",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_iup"), "scale", {"none": 0, "planned": 0.5, "in_use": 1, "both": 0.8})),
        f"{IUP}.scale.both",
        "must be at least the 'in_use' and 'planned' values (1)",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_req"), "scale", {"none": 0.5, "fully": 0.2})),
        f"{REQ}.scale",
        "values must not decrease from the lowest to the highest state",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_single"), "scale", [0, 1])),
        f"{Q0}.scale",
        "is not used by questions of type 'single'",
    ),
    # per-question state labels
    (
        _then(toy, _set(lambda d: _q(d, "q_adopt"), "scale", [0, 0.5, 1])),
        ADOPT,
        "missing required field 'scale_labels' (the standard labels name states 0-5; this scale has 3 states)",
    ),
    (
        _then(
            toy,
            _set(lambda d: _q(d, "q_adopt"), "scale", [0, 0.5, 1]),
            _set(lambda d: _q(d, "q_adopt"), "scale_labels", [{"zh": "无", "en": "None"}] * 2),
        ),
        f"{ADOPT}.scale_labels",
        "needs one label per state (3), found 2",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_tri"), "scale_labels", {"no": {"zh": "否", "en": "No"}})),
        f"{TRI}.scale_labels",
        "must label exactly the scale's states: no, partly, yes",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_adopt"), "scale_labels", ["none"] * 6)),
        f"{ADOPT}.scale_labels[0]",
        "must be a text with 'zh' and 'en'",
    ),
    # exclusive option in the denominator
    (
        _then(toy, _set(EXCL, "value", 1)),
        f"{MULTI}.options[3].value",
        "the exclusive 'none' option must have value 0 (or set exclusive_in_denominator: true on the question",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_multi"), "exclusive_in_denominator", True)),
        f"{MULTI}.options[3].value",
        "must be above 0: with exclusive_in_denominator the exclusive option's value is its weight in the denominator",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_multi"), "exclusive_in_denominator", True), _drop(EXCL, "exclusive")),
        f"{MULTI}.exclusive_in_denominator",
        "needs an option marked exclusive: true to count",
    ),
    (
        _then(toy, _set(lambda d: _q(d, "q_single"), "exclusive_in_denominator", True)),
        f"{Q0}.exclusive_in_denominator",
        "is not used by questions of type 'single'",
    ),
    (
        _then(toy, _set(EXCL, "cost_tier", 1)),
        f"{MULTI}.options[3].cost_tier",
        "is not used: the exclusive option is never recommended",
    ),
    # min aggregation
    (
        _then(toy, _set(lambda d: d["dimensions"][0], "aggregation", "median")),
        "$.dimensions[0].aggregation",
        "must be one of: mean, min",
    ),
    (
        _then(toy, _set(lambda d: d["dimensions"][0], "aggregation", "min")),
        "$.dimensions[0].indicators[0].weight",
        "is not used: a 'min' dimension scores its lowest indicator",
    ),
    (
        _then(toy, _drop(lambda d: d["dimensions"][0]["indicators"][0], "weight")),
        "$.dimensions[0].indicators[0]",
        "missing required field 'weight'",
    ),
    # unconfirmed notes
    (
        _then(toy, _set(lambda d: d["dimensions"][0], "unconfirmed", True)),
        "$.dimensions[0]",
        "an unconfirmed item needs a 'note' saying what the sources leave open",
    ),
    (
        _then(toy, _set(lambda d: d["parameters"]["bands"], "unconfirmed", True)),
        "$.parameters.bands",
        "an unconfirmed item needs a 'note' saying what the sources leave open",
    ),
    (_then(toy, _set(lambda d: _q(d, "q_single"), "note", "weights unchecked")), f"{Q0}.note", "must be a mapping"),
    (_then(toy, _set(lambda d: d, "unconfirmed", "yes")), "$.unconfirmed", "must be true or false"),
    # sources and crosswalks
    (
        _then(toy, _set(lambda d: d, "sources", [{"title": {"zh": "甲", "en": "A"}, "url": "ftp://x"}])),
        "$.sources[0].url",
        "does not match the required pattern",
    ),
    (
        _then(
            toy,
            _set(
                lambda d: d,
                "crosswalks",
                [{"from": "jiaxing-v1", "version": "1.0.0", "dimensions": {"results": {"x": 1}}}],
            ),
        ),
        "$.crosswalks[0].dimensions.results",
        "unknown maturity dimension 'results'",
    ),
    (
        _then(
            toy,
            _set(
                lambda d: d, "crosswalks", [{"from": "jiaxing-v1", "version": "1.0.0", "dimensions": {"ops": {"x": 0}}}]
            ),
        ),
        "$.crosswalks[0].dimensions.ops.x",
        "must be greater than 0",
    ),
    (
        _then(
            toy,
            _set(lambda d: d, "crosswalks", [{"from": "jx", "version": "1.0.0", "dimensions": {"ops": {"x": 1}}}] * 2),
        ),
        "$.crosswalks[1]",
        "duplicate crosswalk from 'jx 1.0.0'",
    ),
    (
        _then(toy, _set(lambda d: d, "crosswalks", [{"from": "jx", "dimensions": {"ops": {"x": 1}}}])),
        "$.crosswalks[0]",
        "missing required field 'version'",
    ),
]


@pytest.mark.parametrize(("build", "path", "reason"), MALFORMED, ids=[f"{p}:{r[:30]}" for _, p, r in MALFORMED])
def test_malformed_blocks_and_fields_name_path_and_reason(build, path, reason):
    lines = _problems(build())
    assert any(line.startswith(f"toy: {path}: ") and reason in line for line in lines), lines


def test_weights_that_miss_100_print_the_digits_that_show_it():
    data = toy()
    data["dimensions"][0]["weight"] = 60.000002
    assert "toy: $.dimensions: maturity dimension weights must sum to 100 (they sum to 100.000002)" in _problems(data)
    data["dimensions"][0]["weight"] = 60.0000002  # within the 1e-6 of input sums: 100/6 written with 7 decimals
    assert load_instrument(data).dimensions[0].weight == 60.0000002


# --- New fields: present (and what they do) -------------------------------------------------------------------


def test_a_question_scale_with_four_states_and_its_labels():
    data = toy()
    adopt = _q(data, "q_adopt")
    adopt["scale"] = [0, 0.2, 0.7, 1]
    adopt["scale_labels"] = [
        {"zh": z, "en": e} for z, e in (("无", "None"), ("试", "Trial"), ("用", "Used"), ("全", "All"))
    ]
    inst = load_instrument(data)
    q = inst.layout("other").index["q_adopt"].question
    assert q.states == (0, 1, 2, 3) and q.scale == {0: 0, 1: 0.2, 2: 0.7, 3: 1} and q.scale_labels[2].en == "Used"
    tri = inst.layout("other").index["q_tri"].question
    assert tri.scale == {"no": 0, "partly": 0.5, "yes": 1} and tri.scale_labels is None  # the instrument-wide default
    answers = {**_answers(), "q_adopt": Answer({"r1": 2, "r2": 3})}
    result = score_assessment(inst, AssessmentInput("other", answers))
    assert result.question("q_adopt").self_score == pytest.approx((0.7 + 1) / 2, abs=1e-12)
    with pytest.raises(InvalidAnswer, match=r"row 'r1' must be one of \[0, 1, 2, 3\]"):
        score_assessment(inst, AssessmentInput("other", {**answers, "q_adopt": Answer({"r1": 5, "r2": 3})}))


def test_a_named_scale_may_use_fewer_states():
    data = toy()
    _q(data, "q_req")["scale"] = {"none": 0, "partly": 0.4, "fully": 1}
    inst = load_instrument(data)
    q = inst.layout("other").index["q_req"].question
    assert q.states == ("none", "partly", "fully")
    result = score_assessment(inst, AssessmentInput("other", {**_answers(), "q_req": Answer("partly")}))
    assert result.question("q_req").self_score == 0.4
    with pytest.raises(InvalidAnswer, match=r"must be one of \['none', 'partly', 'fully'\]"):
        score_assessment(inst, AssessmentInput("other", _answers()))  # "mostly" is not a state of this question


def test_the_exclusive_option_can_count_in_the_denominator():
    data = toy()
    _q(data, "q_multi")["exclusive_in_denominator"] = True
    _q(data, "q_multi")["options"][3]["value"] = 1
    inst = load_instrument(data)
    scored = lambda ticks: score_assessment(inst, AssessmentInput("other", {**_answers(), "q_multi": Answer(ticks)}))  # noqa: E731
    # denominator 0.5 + 0.5 + 1 + 1 (the exclusive option's value): a, c = 1.5 / 3; every tick = 2 / 3
    assert scored(["a", "c"]).question("q_multi").self_score == pytest.approx(0.5, abs=1e-12)
    best = scored(["a", "b", "c"])
    assert best.question("q_multi").self_score == pytest.approx(2 / 3, abs=1e-12)
    assert scored(["none"]).question("q_multi").self_score == 0
    # the solver never suggests the exclusive option, and its moves use the same denominator
    q = inst.layout("other").index["q_multi"].question
    found = {m.target: m.value for m in moves(q, inst.params, ["a"], 0.5 / 3)}
    assert found == {"b": pytest.approx(0.5 / 3), "c": pytest.approx(1 / 3)}


def test_a_min_dimension_scores_its_lowest_indicator():
    data = toy()
    data["dimensions"][0]["aggregation"] = "min"
    for ind in data["dimensions"][0]["indicators"]:
        del ind["weight"]
    data["packs"][0]["indicators"][0].pop("weight")
    inst = load_instrument(data)
    result = score_assessment(inst, AssessmentInput("other", _answers()))
    ops = result.self_view.dimension("ops")
    # ops.a = (0.5 + 0.75) / 2 = 0.625, ops.b = (2 * 0.65 + 0.8) / 3 = 0.7: the lower one
    assert [i.score for i in ops.indicators] == [pytest.approx(62.5), pytest.approx(70)]
    assert ops.score == pytest.approx(62.5, abs=1e-9)
    assert result.self_view.dimension("sales").score == pytest.approx(425 / 6, abs=1e-9)  # mean, as before
    # every indicator counts equally in K and in the N/A share: e = 1/2 per indicator
    assert result.question("q_single").weight == pytest.approx(0.25) and result.question(
        "q_kpi"
    ).weight == pytest.approx(1 / 3)


def test_cutpoints_can_belong_to_the_lower_band():
    data = toy()
    data["parameters"]["bands"]["at_cutpoint"] = "lower"
    lower, higher = load_instrument(data), load_instrument(toy())
    from scoring.maturity import band

    assert band(60, higher.params) == 3 and band(60, lower.params) == 2  # "≤ 60" vs "60 and above"
    assert band(60.000000000001, lower.params) == 2  # within the tolerance: still on the cutpoint
    assert band(60.001, lower.params) == 3 and band(59.999999999999, higher.params) == 3


def test_notes_sources_and_crosswalks_load_and_are_listed():
    data = toy()
    note = {"zh": "权重未核实。", "en": "Weights unchecked."}
    data["dimensions"][0].update(unconfirmed=True, note=note)
    data["parameters"]["bands"].update(unconfirmed=True, note=note)
    _q(data, "q_req").update(note=note)  # a note without "unconfirmed": a design choice, still listed
    data["sources"] = [{"title": {"zh": "示例", "en": "Example"}, "url": "https://example.org/x"}]
    data["crosswalks"] = [{"from": "jx", "version": "1.0.0", "dimensions": {"ops": {"a": 2, "b": 1}}}]
    inst = load_instrument(data)
    assert [(c.where, c.item_id, c.unconfirmed) for c in caveats(inst)] == [
        ("bands", None, True),
        ("dimension", "ops", True),
        ("question", "q_req", False),
    ]
    assert inst.sources[0].url == "https://example.org/x" and inst.sources[0].title.zh == "示例"
    (walk,) = inst.crosswalks
    assert (walk.source_id, walk.source_version, dict(walk.dimensions["ops"])) == ("jx", "1.0.0", {"a": 2, "b": 1})
    assert caveats(load_instrument(toy())) == ()
