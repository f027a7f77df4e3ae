"""Define the frozen dataclasses that describe a parsed, validated instrument."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

QUESTION_TYPES = ("single", "requirement", "multi", "adoption", "in_use_planned", "tri_state", "kpi", "kpi_delta")
ROW_TYPES = ("adoption", "in_use_planned", "tri_state")
MATURITY = "maturity"
OUTCOME = "outcome"
NO_PACK = "other"


@dataclass(frozen=True)
class Text:
    """A bilingual text; every user-facing string in an instrument has both languages."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """Return the text in ``lang`` ("zh" or "en"), falling back to Chinese."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Option:
    """One choice of a ``single`` or ``multi`` question."""

    id: str
    label: Text
    value: float
    exclusive: bool = False
    cost_tier: int | None = None
    advice: Text | None = None


@dataclass(frozen=True)
class Row:
    """One row of an ``adoption``, ``in_use_planned`` or ``tri_state`` question."""

    id: str
    label: Text
    cost_tier: int
    advice: Text


@dataclass(frozen=True)
class EvidenceRule:
    """Evidence a question needs before a high answer counts in the evidence-supported view."""

    kinds: tuple[str, ...]
    cap: float


@dataclass(frozen=True)
class Question:
    """One question; type-specific fields are empty or None where the type does not use them."""

    id: str
    type: str
    text: Text
    weight: float
    level: int | None
    critical: bool
    na_allowed: bool
    industries: tuple[str, ...] | None
    evidence: EvidenceRule | None
    help: Text | None = None
    options: tuple[Option, ...] = ()
    rows: tuple[Row, ...] = ()
    anchors: tuple[tuple[float, float], ...] = ()
    below: float | None = None
    value_range: tuple[float, float] | None = None
    unit: str | None = None
    direction: str | None = None
    cost_tier: int | None = None
    advice: Text | None = None
    crosswalk: Mapping[str, str] = field(default_factory=dict)
    pack: str | None = None


@dataclass(frozen=True)
class Indicator:
    """A weighted group of questions inside one dimension."""

    id: str
    name: Text
    weight: float
    questions: tuple[Question, ...]
    pack: str | None = None


@dataclass(frozen=True)
class Dimension:
    """A weighted dimension; ``role`` is "maturity" (counts toward M) or "outcome" (counts toward O)."""

    id: str
    name: Text
    role: str
    weight: float
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class PackIndicator:
    """An indicator an industry pack adds to one dimension."""

    dimension_id: str
    indicator: Indicator


@dataclass(frozen=True)
class Pack:
    """An industry pack: dimension re-weighting, extra indicators, KPI anchors and impact overrides."""

    id: str
    name: Text
    reweight: Mapping[str, float]
    indicators: tuple[PackIndicator, ...]
    anchors: Mapping[str, tuple[tuple[float, float], ...]]
    kpi_impacts: Mapping[str, Mapping[str, int]]
    cost_impacts: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class ImpactItem:
    """A prioritisation KPI or cost category with its impact 0..max on each maturity dimension."""

    id: str
    name: Text
    impact: Mapping[str, int]


@dataclass(frozen=True)
class Condition:
    """One clause of a plausibility rule; ``op`` is score_gte, score_lte, value_lt or value_gte."""

    question_id: str
    op: str
    threshold: float
    row_id: str | None = None


@dataclass(frozen=True)
class Rule:
    """A plausibility rule: when every condition holds, raise a flag with ``message``."""

    id: str
    severity: str
    conditions: tuple[Condition, ...]
    message: Text


@dataclass(frozen=True)
class CostTier:
    """A cost tier for advice: a label for the report and a relative cost for the greedy solver."""

    tier: int
    cost: float
    label: Text


@dataclass(frozen=True)
class Params:
    """All coefficients of an instrument version; the engine reads every number from here."""

    adoption_scale: tuple[float, ...]
    tri_state: Mapping[str, float]
    in_use_planned: Mapping[str, float]
    requirement: Mapping[str, float]
    outcome_anchors: tuple[tuple[float, float], ...]
    outcome_below: float
    composite_maturity: float
    composite_outcome: float
    band_cutpoints: tuple[float, ...]
    band_labels: tuple[Text, ...]
    level_names: tuple[Text, ...]
    staircase: tuple[tuple[float, ...], ...]
    overall_cap_above_min: int
    empty_level_passes: bool
    na_insufficient_share: float
    na_policy: str
    confidence_default: int
    confidence_max: int
    confidence_low_below: float
    evidence_cap: float
    evidence_required_from_level: int
    trust_gap_flag_above: float
    cost_tiers: tuple[CostTier, ...]
    advice_max_items: int
    priority_weights: Mapping[str, float]
    rank_weights: tuple[float, ...]
    band_width: float
    impact_max: int
    impact_mix_kpi: float
    impact_mix_cost: float
    quadrant_split: float
    top_priorities: int
    all_max_min_questions: int
    critical_gap_score: float
    critical_gap_item_below: float
    seconds_per_question: float
    reassessment_min_days: int
    min_delta: float
    jump_without_evidence: float
    pack_max_shift: float

    @property
    def max_level(self) -> int:
        """Return the highest gated level (the number of staircase rows)."""
        return len(self.staircase)


@dataclass(frozen=True)
class LayoutIndicator:
    """An indicator with only the questions that apply to one industry."""

    id: str
    name: Text
    weight: float
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class LayoutDimension:
    """A dimension as one industry sees it: pack weight and applicable indicators."""

    id: str
    name: Text
    role: str
    weight: float
    indicators: tuple[LayoutIndicator, ...]

    @property
    def questions(self) -> tuple[Question, ...]:
        """Return the dimension's questions in wizard order (indicator by indicator)."""
        return tuple(q for ind in self.indicators for q in ind.questions)


@dataclass(frozen=True)
class QuestionRef:
    """Where a question sits in a layout."""

    question: Question
    dimension_id: str
    indicator_id: str


@dataclass(frozen=True)
class Layout:
    """The instrument resolved for one industry: what the wizard shows and what the engine scores."""

    industry: str
    dimensions: tuple[LayoutDimension, ...]
    index: Mapping[str, QuestionRef]
    kpis: tuple[ImpactItem, ...]
    cost_categories: tuple[ImpactItem, ...]

    def dimension(self, dimension_id: str) -> LayoutDimension:
        """Return the dimension with ``dimension_id``."""
        return next(d for d in self.dimensions if d.id == dimension_id)


@dataclass(frozen=True)
class Instrument:
    """A parsed, validated instrument version with a layout per industry."""

    id: str
    version: str
    title: Text
    params: Params
    dimensions: tuple[Dimension, ...]
    packs: tuple[Pack, ...]
    evidence_kinds: Mapping[str, Text]
    kpis: tuple[ImpactItem, ...]
    cost_categories: tuple[ImpactItem, ...]
    rules: tuple[Rule, ...]
    checksum: str
    layouts: Mapping[str, Layout] = field(default_factory=dict, repr=False, compare=False)

    @property
    def industries(self) -> tuple[str, ...]:
        """Return the industry ids a firm may have: every pack id plus "other"."""
        return (*(p.id for p in self.packs), NO_PACK)

    def layout(self, industry: str) -> Layout:
        """Return the layout for ``industry``; raise KeyError for an unknown industry."""
        return self.layouts[industry]
