"""Turn a validated instrument dict into frozen dataclasses and resolve one layout per industry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scoring.build_params import anchors, params, text
from scoring.model import (
    NAMED_STATES,
    OUTCOME,
    SCALED_TYPES,
    Condition,
    Crosswalk,
    Dimension,
    EvidenceRule,
    ImpactItem,
    Indicator,
    Instrument,
    Layout,
    LayoutDimension,
    LayoutIndicator,
    Option,
    Outputs,
    Pack,
    PackIndicator,
    Params,
    Question,
    QuestionRef,
    Row,
    Rule,
    Source,
)


def build_instrument(data: dict[str, Any], checksum: str) -> Instrument:
    """Build an Instrument from a dict that already passed schema and semantic checks."""
    p = params(data["parameters"])
    aggregation = {d["id"]: d.get("aggregation", "mean") for d in data["dimensions"]}
    dims = tuple(
        Dimension(
            d["id"],
            text(d["name"]),
            d["role"],
            float(d["weight"]),
            tuple(_indicator(i, p) for i in d["indicators"]),
            aggregation[d["id"]],
            bool(d.get("unconfirmed", False)),
            text(d.get("note")),
        )
        for d in data["dimensions"]
    )
    packs = tuple(_pack(pk, p) for pk in data.get("packs", []))
    prio = data.get("priority", {})
    instrument = Instrument(
        id=data["id"],
        version=data["version"],
        title=text(data["title"]),
        params=p,
        dimensions=dims,
        packs=packs,
        evidence_kinds={k: text(v) for k, v in data.get("evidence_kinds", {}).items()},
        kpis=tuple(_impact_item(i) for i in prio.get("kpis", [])),
        cost_categories=tuple(_impact_item(i) for i in prio.get("cost_categories", [])),
        rules=tuple(_rule(r) for r in data.get("plausibility", {}).get("rules", [])),
        checksum=checksum,
        description=text(data.get("description")),
        crosswalks=tuple(_crosswalk(c) for c in data.get("crosswalks", [])),
        sources=tuple(Source(text(s["title"]), s.get("url")) for s in data.get("sources", [])),
        unconfirmed=bool(data.get("unconfirmed", False)),
        note=text(data.get("note")),
    )
    layouts = {industry: _layout(instrument, industry) for industry in instrument.industries}
    return replace(instrument, layouts=layouts, outputs=_outputs(instrument))


def _outputs(instrument: Instrument) -> Outputs:
    p = instrument.params
    indicators = [*(i for d in instrument.dimensions for i in d.indicators)]
    indicators += [pi.indicator for pack in instrument.packs for pi in pack.indicators]
    return Outputs(
        levels=p.levels is not None,
        bands=p.bands is not None,
        composite=p.composite is not None,
        outcome=any(d.role == OUTCOME for d in instrument.dimensions),
        advice=p.advice is not None,
        priorities=p.priority is not None,
        evidence=any(q.evidence is not None for i in indicators for q in i.questions),
    )


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
        dims.append(LayoutDimension(dim.id, dim.name, dim.role, dim.weight + shift, tuple(indicators), dim.aggregation))
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


def _scale(q: dict[str, Any], p: Params) -> tuple[dict[Any, float] | None, dict[Any, Any] | None]:
    """Return the question's state → value scale (its own, else the instrument's) and its own state labels."""
    if q["type"] not in SCALED_TYPES:
        return None, None
    own, labels = q.get("scale"), q.get("scale_labels")
    if own is None:
        scale = dict(p.scale(q["type"]) or {})
    elif q["type"] == "adoption":
        scale = {n: float(v) for n, v in enumerate(own)}
    else:
        scale = {k: float(own[k]) for k in NAMED_STATES[q["type"]] if k in own}
    if labels is None:
        return scale, None
    if q["type"] == "adoption":
        return scale, {n: text(t) for n, t in enumerate(labels)}
    return scale, {k: text(labels[k]) for k in scale}


def _question(q: dict[str, Any], p: Params, pack: str | None) -> Question:
    evidence = q.get("evidence")
    scale, labels = _scale(q, p)
    return Question(
        id=q["id"],
        type=q["type"],
        text=text(q["text"]),
        help=text(q.get("help")),
        weight=float(q["weight"]),
        level=q.get("level"),
        critical=bool(q.get("critical", False)),
        na_allowed=bool(q.get("na_allowed", False)),
        industries=tuple(q["industries"]) if "industries" in q else ((pack,) if pack else None),
        evidence=EvidenceRule(tuple(evidence["kinds"]), float(evidence.get("cap", p.evidence_cap)))
        if evidence
        else None,
        options=tuple(
            Option(
                o["id"],
                text(o["label"]),
                float(o["value"]),
                bool(o.get("exclusive", False)),
                o.get("cost_tier"),
                text(o.get("advice")),
            )
            for o in q.get("options", [])
        ),
        rows=tuple(
            Row(r["id"], text(r["label"]), r.get("cost_tier"), text(r.get("advice"))) for r in q.get("rows", [])
        ),
        anchors=anchors(q.get("anchors", [])),
        below=float(q["below"]) if "below" in q else None,
        value_range=(float(q["range"][0]), float(q["range"][1])) if "range" in q else None,
        unit=q.get("unit"),
        direction=q.get("direction"),
        cost_tier=q.get("cost_tier"),
        advice=text(q.get("advice")),
        crosswalk=dict(q.get("crosswalk", {})),
        pack=pack,
        scale=scale,
        scale_labels=labels,
        exclusive_in_denominator=bool(q.get("exclusive_in_denominator", False)),
        unconfirmed=bool(q.get("unconfirmed", False)),
        note=text(q.get("note")),
    )


def _indicator(raw: dict[str, Any], p: Params, pack: str | None = None) -> Indicator:
    """Build an indicator; in a "min" dimension indicators carry no weight and count equally (weight 1)."""
    questions = tuple(_question(q, p, pack) for q in raw["questions"])
    return Indicator(
        raw["id"],
        text(raw["name"]),
        float(raw.get("weight", 1)),
        questions,
        pack,
        bool(raw.get("unconfirmed", False)),
        text(raw.get("note")),
    )


def _pack(raw: dict[str, Any], p: Params) -> Pack:
    impacts = raw.get("impacts", {})
    return Pack(
        id=raw["id"],
        name=text(raw["name"]),
        reweight={k: float(v) for k, v in raw.get("reweight", {}).items()},
        indicators=tuple(PackIndicator(i["dimension"], _indicator(i, p, raw["id"])) for i in raw.get("indicators", [])),
        anchors={k: anchors(v) for k, v in raw.get("anchors", {}).items()},
        kpi_impacts={k: dict(v) for k, v in impacts.get("kpis", {}).items()},
        cost_impacts={k: dict(v) for k, v in impacts.get("cost_categories", {}).items()},
    )


def _impact_item(raw: dict[str, Any]) -> ImpactItem:
    return ImpactItem(raw["id"], text(raw["name"]), dict(raw["impact"]))


def _rule(raw: dict[str, Any]) -> Rule:
    conditions = []
    for cond in raw["when"]:
        op = next(k for k in ("score_gte", "score_lte", "value_lt", "value_gte") if k in cond)
        conditions.append(Condition(cond["question"], op, float(cond[op]), cond.get("row")))
    return Rule(raw["id"], raw["severity"], tuple(conditions), text(raw["message"]))


def _crosswalk(raw: dict[str, Any]) -> Crosswalk:
    return Crosswalk(
        source_id=raw["from"],
        source_version=raw["version"],
        dimensions={d: {s: float(w) for s, w in m.items()} for d, m in raw["dimensions"].items()},
        unconfirmed=bool(raw.get("unconfirmed", False)),
        note=text(raw.get("note")),
    )
