"""Turn a validated instrument dict into frozen dataclasses and resolve one layout per industry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scoring.model import (
    Condition,
    CostTier,
    Dimension,
    EvidenceRule,
    ImpactItem,
    Indicator,
    Instrument,
    Layout,
    LayoutDimension,
    LayoutIndicator,
    Option,
    Pack,
    PackIndicator,
    Params,
    Question,
    QuestionRef,
    Row,
    Rule,
    Text,
)


def build_instrument(data: dict[str, Any], checksum: str) -> Instrument:
    """Build an Instrument from a dict that already passed schema and semantic checks."""
    params = _params(data["parameters"])
    cap = params.evidence_cap
    dims = tuple(
        Dimension(
            d["id"], _text(d["name"]), d["role"], float(d["weight"]), tuple(_indicator(i, cap) for i in d["indicators"])
        )
        for d in data["dimensions"]
    )
    packs = tuple(_pack(p, cap) for p in data.get("packs", []))
    prio = data["priority"]
    instrument = Instrument(
        id=data["id"],
        version=data["version"],
        title=_text(data["title"]),
        params=params,
        dimensions=dims,
        packs=packs,
        evidence_kinds={k: _text(v) for k, v in data["evidence_kinds"].items()},
        kpis=tuple(_impact_item(i) for i in prio["kpis"]),
        cost_categories=tuple(_impact_item(i) for i in prio["cost_categories"]),
        rules=tuple(_rule(r) for r in data["plausibility"]["rules"]),
        checksum=checksum,
    )
    layouts = {industry: _layout(instrument, industry) for industry in instrument.industries}
    return replace(instrument, layouts=layouts)


def _layout(instrument: Instrument, industry: str) -> Layout:
    pack = next((p for p in instrument.packs if p.id == industry), None)
    dims = []
    for dim in instrument.dimensions:
        indicators = []
        for ind in dim.indicators:
            questions = tuple(
                _with_pack_anchors(q, pack) for q in ind.questions if q.industries is None or industry in q.industries
            )
            if questions:
                indicators.append(LayoutIndicator(ind.id, ind.name, ind.weight, questions))
        for extra in pack.indicators if pack else ():
            if extra.dimension_id == dim.id:
                ind = extra.indicator
                indicators.append(LayoutIndicator(ind.id, ind.name, ind.weight, ind.questions))
        shift = pack.reweight.get(dim.id, 0.0) if pack and dim.role == "maturity" else 0.0
        dims.append(LayoutDimension(dim.id, dim.name, dim.role, dim.weight + shift, tuple(indicators)))
    index = {q.id: QuestionRef(q, d.id, i.id) for d in dims for i in d.indicators for q in i.questions}
    return Layout(
        industry=industry,
        dimensions=tuple(dims),
        index=index,
        kpis=tuple(_with_impacts(k, pack.kpi_impacts if pack else {}) for k in instrument.kpis),
        cost_categories=tuple(_with_impacts(c, pack.cost_impacts if pack else {}) for c in instrument.cost_categories),
    )


def _with_pack_anchors(question: Question, pack: Pack | None) -> Question:
    if pack is None or question.id not in pack.anchors:
        return question
    return replace(question, anchors=pack.anchors[question.id])


def _with_impacts(item: ImpactItem, overrides: dict[str, dict[str, int]] | Any) -> ImpactItem:
    if item.id not in overrides:
        return item
    return replace(item, impact={**item.impact, **overrides[item.id]})


def _text(raw: dict[str, str] | None) -> Any:
    return Text(raw["zh"], raw["en"]) if raw is not None else None


def _anchors(raw: list[list[float]]) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in raw)


def _question(q: dict[str, Any], cap: float, pack: str | None) -> Question:
    evidence = q.get("evidence")
    return Question(
        id=q["id"],
        type=q["type"],
        text=_text(q["text"]),
        help=_text(q.get("help")),
        weight=float(q["weight"]),
        level=q.get("level"),
        critical=bool(q.get("critical", False)),
        na_allowed=bool(q.get("na_allowed", False)),
        industries=tuple(q["industries"]) if "industries" in q else ((pack,) if pack else None),
        evidence=EvidenceRule(tuple(evidence["kinds"]), float(evidence.get("cap", cap))) if evidence else None,
        options=tuple(
            Option(
                o["id"],
                _text(o["label"]),
                float(o["value"]),
                bool(o.get("exclusive", False)),
                o.get("cost_tier"),
                _text(o.get("advice")),
            )
            for o in q.get("options", [])
        ),
        rows=tuple(Row(r["id"], _text(r["label"]), r["cost_tier"], _text(r["advice"])) for r in q.get("rows", [])),
        anchors=_anchors(q.get("anchors", [])),
        below=float(q["below"]) if "below" in q else None,
        value_range=(float(q["range"][0]), float(q["range"][1])) if "range" in q else None,
        unit=q.get("unit"),
        direction=q.get("direction"),
        cost_tier=q.get("cost_tier"),
        advice=_text(q.get("advice")),
        crosswalk=dict(q.get("crosswalk", {})),
        pack=pack,
    )


def _indicator(raw: dict[str, Any], cap: float, pack: str | None = None) -> Indicator:
    questions = tuple(_question(q, cap, pack) for q in raw["questions"])
    return Indicator(raw["id"], _text(raw["name"]), float(raw["weight"]), questions, pack)


def _pack(raw: dict[str, Any], cap: float) -> Pack:
    impacts = raw.get("impacts", {})
    return Pack(
        id=raw["id"],
        name=_text(raw["name"]),
        reweight={k: float(v) for k, v in raw.get("reweight", {}).items()},
        indicators=tuple(
            PackIndicator(i["dimension"], _indicator(i, cap, raw["id"])) for i in raw.get("indicators", [])
        ),
        anchors={k: _anchors(v) for k, v in raw.get("anchors", {}).items()},
        kpi_impacts={k: dict(v) for k, v in impacts.get("kpis", {}).items()},
        cost_impacts={k: dict(v) for k, v in impacts.get("cost_categories", {}).items()},
    )


def _impact_item(raw: dict[str, Any]) -> ImpactItem:
    return ImpactItem(raw["id"], _text(raw["name"]), dict(raw["impact"]))


def _rule(raw: dict[str, Any]) -> Rule:
    conditions = []
    for cond in raw["when"]:
        op = next(k for k in ("score_gte", "score_lte", "value_lt", "value_gte") if k in cond)
        conditions.append(Condition(cond["question"], op, float(cond[op]), cond.get("row")))
    return Rule(raw["id"], raw["severity"], tuple(conditions), _text(raw["message"]))


def _params(p: dict[str, Any]) -> Params:
    scales, levels, prio, plaus = p["scales"], p["levels"], p["priority"], p["plausibility"]
    return Params(
        adoption_scale=tuple(float(v) for v in scales["adoption"]),
        tri_state={k: float(v) for k, v in scales["tri_state"].items()},
        in_use_planned={k: float(v) for k, v in scales["in_use_planned"].items()},
        requirement={k: float(v) for k, v in scales["requirement"].items()},
        outcome_anchors=_anchors(p["outcome_curve"]["anchors"]),
        outcome_below=float(p["outcome_curve"]["below"]),
        composite_maturity=float(p["composite"]["maturity"]),
        composite_outcome=float(p["composite"]["outcome"]),
        band_cutpoints=tuple(float(v) for v in p["bands"]["cutpoints"]),
        band_labels=tuple(_text(t) for t in p["bands"]["labels"]),
        level_names=tuple(_text(t) for t in levels["names"]),
        staircase=tuple(tuple(float(v) for v in row) for row in levels["staircase"]),
        overall_cap_above_min=int(levels["overall_cap_above_min"]),
        empty_level_passes=bool(levels["empty_level_passes"]),
        na_insufficient_share=float(p["na"]["insufficient_share"]),
        na_policy=p["na"]["policy"],
        confidence_default=int(p["confidence"]["default"]),
        confidence_max=int(p["confidence"]["max"]),
        confidence_low_below=float(p["confidence"]["low_below"]),
        evidence_cap=float(p["evidence"]["cap"]),
        evidence_required_from_level=int(p["evidence"]["required_from_level"]),
        trust_gap_flag_above=float(p["trust_gap"]["flag_above"]),
        cost_tiers=tuple(CostTier(t["tier"], float(t["cost"]), _text(t["label"])) for t in p["cost_tiers"]),
        advice_max_items=int(p["advice"]["max_items"]),
        priority_weights={k: float(v) for k, v in prio["weights"].items()},
        rank_weights=tuple(float(v) for v in prio["rank_weights"]),
        band_width=float(prio["band_width"]),
        impact_max=int(prio["impact_max"]),
        impact_mix_kpi=float(prio["impact_mix"]["kpi"]),
        impact_mix_cost=float(prio["impact_mix"]["cost"]),
        quadrant_split=float(prio["quadrant_split"]),
        top_priorities=int(prio["top_n"]),
        all_max_min_questions=int(plaus["all_max_min_questions"]),
        critical_gap_score=float(plaus["critical_gap_score"]),
        critical_gap_item_below=float(plaus["critical_gap_item_below"]),
        seconds_per_question=float(plaus["seconds_per_question"]),
        reassessment_min_days=int(p["reassessment"]["min_days"]),
        min_delta=float(p["reassessment"]["min_delta"]),
        jump_without_evidence=float(p["reassessment"]["jump_without_evidence"]),
        pack_max_shift=float(p["packs"]["max_shift"]),
    )
