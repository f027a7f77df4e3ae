"""Define the coefficients of an instrument version: required groups as fields, optional blocks as None when absent.

An instrument without levels, bands, a composite, advice or priorities loads with that block set to None, and the
engine leaves the outputs it cannot compute absent (None or empty). Nothing is filled in with a placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scoring.text import Text


@dataclass(frozen=True)
class CostTier:
    """A cost tier for advice: a label for the report and a relative cost for the greedy solver."""

    tier: int
    cost: float
    label: Text


@dataclass(frozen=True)
class Bands:
    """Score bands on 0–100: ``labels[i]`` names the band of scores with ``i`` cutpoints below them.

    ``at_cutpoint`` says where a score exactly at a cutpoint goes: "higher" (MIIT: 一级 is 20–40, 20 included) or
    "lower" (DMA: Basic is ≤ 25).
    """

    cutpoints: tuple[float, ...]
    labels: tuple[Text, ...]
    unconfirmed: bool = False
    note: Text | None = None
    at_cutpoint: str = "higher"


@dataclass(frozen=True)
class Levels:
    """Gated capability levels: names of levels 0..n and the staircase of thresholds for levels 1..n."""

    names: tuple[Text, ...]
    staircase: tuple[tuple[float, ...], ...]
    overall_cap_above_min: int
    empty_level_passes: bool
    unconfirmed: bool = False
    note: Text | None = None

    @property
    def max_level(self) -> int:
        """Return the highest gated level (the number of staircase rows)."""
        return len(self.staircase)


@dataclass(frozen=True)
class Composite:
    """Weights of M and O in the composite C (they sum to 1)."""

    maturity: float
    outcome: float


@dataclass(frozen=True)
class AdviceParams:
    """The advice block: cost tiers and how many items a plan shows."""

    cost_tiers: tuple[CostTier, ...]
    max_items: int


@dataclass(frozen=True)
class PriorityParams:
    """Coefficients of the prioritisation (docs/scoring.md §9)."""

    weights: Mapping[str, float]
    rank_weights: tuple[float, ...]
    band_width: float
    impact_max: int
    impact_mix_kpi: float
    impact_mix_cost: float
    quadrant_split: float
    top_n: int


@dataclass(frozen=True)
class Params:
    """All coefficients of an instrument version; the engine reads every number from here.

    The instrument-wide scales are the defaults of questions without their own ``scale`` (None when absent).
    ``composite``, ``bands``, ``levels``, ``advice`` and ``priority`` are None when the instrument has no such block.
    """

    adoption_scale: tuple[float, ...] | None
    tri_state: Mapping[str, float] | None
    in_use_planned: Mapping[str, float] | None
    requirement: Mapping[str, float] | None
    outcome_anchors: tuple[tuple[float, float], ...] | None
    outcome_below: float | None
    composite: Composite | None
    bands: Bands | None
    levels: Levels | None
    na_insufficient_share: float
    na_policy: str
    confidence_default: int
    confidence_max: int
    confidence_low_below: float
    evidence_cap: float | None
    evidence_required_from_level: int | None
    trust_gap_flag_above: float
    advice: AdviceParams | None
    priority: PriorityParams | None
    all_max_min_questions: int
    critical_gap_score: float
    critical_gap_item_below: float
    seconds_per_question: float
    reassessment_min_days: int
    min_delta: float
    jump_without_evidence: float
    pack_max_shift: float | None

    @property
    def max_level(self) -> int:
        """Return the highest gated level, 0 without levels."""
        return self.levels.max_level if self.levels is not None else 0

    @property
    def staircase(self) -> tuple[tuple[float, ...], ...]:
        """Return the staircase rows, empty without levels."""
        return self.levels.staircase if self.levels is not None else ()

    @property
    def level_names(self) -> tuple[Text, ...]:
        """Return the names of levels 0..n, empty without levels."""
        return self.levels.names if self.levels is not None else ()

    @property
    def overall_cap_above_min(self) -> int | None:
        """Return the overall-level cap above the lowest dimension level, None without levels."""
        return self.levels.overall_cap_above_min if self.levels is not None else None

    @property
    def band_cutpoints(self) -> tuple[float, ...]:
        """Return the band cutpoints, empty without bands."""
        return self.bands.cutpoints if self.bands is not None else ()

    @property
    def band_labels(self) -> tuple[Text, ...]:
        """Return the band labels, empty without bands."""
        return self.bands.labels if self.bands is not None else ()

    @property
    def composite_maturity(self) -> float | None:
        """Return the weight of M in C, None without a composite."""
        return self.composite.maturity if self.composite is not None else None

    @property
    def composite_outcome(self) -> float | None:
        """Return the weight of O in C, None without a composite."""
        return self.composite.outcome if self.composite is not None else None

    @property
    def cost_tiers(self) -> tuple[CostTier, ...]:
        """Return the cost tiers, empty without an advice block."""
        return self.advice.cost_tiers if self.advice is not None else ()

    @property
    def advice_max_items(self) -> int:
        """Return how many items an advice plan shows, 0 without an advice block."""
        return self.advice.max_items if self.advice is not None else 0

    def scale(self, kind: str) -> Mapping[Any, float] | None:
        """Return the instrument-wide state → value scale of a row or requirement type, None when absent."""
        if kind == "adoption":
            return dict(enumerate(self.adoption_scale)) if self.adoption_scale is not None else None
        found: Mapping[str, float] | None = {
            "tri_state": self.tri_state,
            "in_use_planned": self.in_use_planned,
            "requirement": self.requirement,
        }[kind]
        return found
