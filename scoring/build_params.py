"""Turn the validated ``parameters`` block into ``Params``, with absent optional blocks as None."""

from __future__ import annotations

from typing import Any

from scoring.params import AdviceParams, Bands, Composite, CostTier, Levels, Params, PriorityParams
from scoring.text import Text


def text(raw: dict[str, str] | None) -> Any:
    """Return a Text from ``{zh, en}``, or None."""
    return Text(raw["zh"], raw["en"]) if raw is not None else None


def anchors(raw: list[list[float]]) -> tuple[tuple[float, float], ...]:
    """Return anchors as float pairs."""
    return tuple((float(x), float(y)) for x, y in raw)


def params(p: dict[str, Any]) -> Params:
    """Build Params from a validated ``parameters`` block."""
    scales, plaus = p.get("scales", {}), p["plausibility"]
    curve, evidence = p.get("outcome_curve"), p.get("evidence", {})
    return Params(
        adoption_scale=tuple(float(v) for v in scales["adoption"]) if "adoption" in scales else None,
        tri_state=_named(scales.get("tri_state")),
        in_use_planned=_named(scales.get("in_use_planned")),
        requirement=_named(scales.get("requirement")),
        outcome_anchors=anchors(curve["anchors"]) if curve else None,
        outcome_below=float(curve["below"]) if curve else None,
        composite=Composite(float(p["composite"]["maturity"]), float(p["composite"]["outcome"]))
        if "composite" in p
        else None,
        bands=_bands(p["bands"]) if "bands" in p else None,
        levels=_levels(p["levels"]) if "levels" in p else None,
        na_insufficient_share=float(p["na"]["insufficient_share"]),
        na_policy=p["na"]["policy"],
        confidence_default=int(p["confidence"]["default"]),
        confidence_max=int(p["confidence"]["max"]),
        confidence_low_below=float(p["confidence"]["low_below"]),
        evidence_cap=float(evidence["cap"]) if "cap" in evidence else None,
        evidence_required_from_level=int(evidence["required_from_level"])
        if "required_from_level" in evidence
        else None,
        trust_gap_flag_above=float(p["trust_gap"]["flag_above"]),
        advice=AdviceParams(
            tuple(CostTier(t["tier"], float(t["cost"]), text(t["label"])) for t in p["cost_tiers"]),
            int(p["advice"]["max_items"]),
        )
        if "advice" in p
        else None,
        priority=_priority(p["priority"]) if "priority" in p else None,
        all_max_min_questions=int(plaus["all_max_min_questions"]),
        critical_gap_score=float(plaus["critical_gap_score"]),
        critical_gap_item_below=float(plaus["critical_gap_item_below"]),
        seconds_per_question=float(plaus["seconds_per_question"]),
        reassessment_min_days=int(p["reassessment"]["min_days"]),
        min_delta=float(p["reassessment"]["min_delta"]),
        jump_without_evidence=float(p["reassessment"]["jump_without_evidence"]),
        pack_max_shift=float(p["packs"]["max_shift"]) if "packs" in p else None,
    )


def _named(raw: dict[str, float] | None) -> dict[str, float] | None:
    return {k: float(v) for k, v in raw.items()} if raw is not None else None


def _bands(raw: dict[str, Any]) -> Bands:
    return Bands(
        tuple(float(v) for v in raw["cutpoints"]),
        tuple(text(t) for t in raw["labels"]),
        bool(raw.get("unconfirmed", False)),
        text(raw.get("note")),
        raw.get("at_cutpoint", "higher"),
    )


def _levels(raw: dict[str, Any]) -> Levels:
    return Levels(
        tuple(text(t) for t in raw["names"]),
        tuple(tuple(float(v) for v in row) for row in raw["staircase"]),
        int(raw["overall_cap_above_min"]),
        bool(raw["empty_level_passes"]),
        bool(raw.get("unconfirmed", False)),
        text(raw.get("note")),
    )


def _priority(prio: dict[str, Any]) -> PriorityParams:
    return PriorityParams(
        weights={k: float(v) for k, v in prio["weights"].items()},
        rank_weights=tuple(float(v) for v in prio["rank_weights"]),
        band_width=float(prio["band_width"]),
        impact_max=int(prio["impact_max"]),
        impact_mix_kpi=float(prio["impact_mix"]["kpi"]),
        impact_mix_cost=float(prio["impact_mix"]["cost"]),
        quadrant_split=float(prio["quadrant_split"]),
        top_n=int(prio["top_n"]),
    )
