"""Define the frozen dataclasses that describe a parsed, validated instrument."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.outputs import Outputs
from scoring.params import CostTier, Params
from scoring.text import Text

QUESTION_TYPES = ("single", "requirement", "multi", "adoption", "in_use_planned", "tri_state", "kpi", "kpi_delta")
ROW_TYPES = ("adoption", "in_use_planned", "tri_state")
MATURITY = "maturity"
OUTCOME = "outcome"
NO_PACK = "other"
# The states of the named scales, lowest first; an adoption scale's states are 0, 1, 2, ... (six by default).
NAMED_STATES = {
    "tri_state": ("no", "partly", "yes"),
    "in_use_planned": ("none", "planned", "in_use", "both"),
    "requirement": ("none", "partly", "mostly", "fully"),
}
SCALED_TYPES = ("adoption", *NAMED_STATES)
AGGREGATIONS = ("mean", "min")

__all__ = ["CostTier", "Outputs", "Params", "Text"]


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
    cost_tier: int | None = None
    advice: Text | None = None


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
    scale: Mapping[Any, float] | None = None  # state -> value: the question's own scale or the instrument's
    scale_labels: Mapping[Any, Text] | None = None  # the question's own state labels, if it gives them
    exclusive_in_denominator: bool = False  # multi: the exclusive option's value counts in the denominator
    unconfirmed: bool = False
    note: Text | None = None

    @property
    def states(self) -> tuple[Any, ...]:
        """Return the answer states of a row or requirement question, lowest first (empty for other types)."""
        return tuple(self.scale) if self.scale is not None else ()


@dataclass(frozen=True)
class Indicator:
    """A weighted group of questions inside one dimension."""

    id: str
    name: Text
    weight: float
    questions: tuple[Question, ...]
    pack: str | None = None
    unconfirmed: bool = False
    note: Text | None = None


@dataclass(frozen=True)
class Dimension:
    """A weighted dimension; ``role`` is "maturity" (counts toward M) or "outcome" (counts toward O).

    ``aggregation`` "mean" scores the weighted mean of the indicators, "min" the lowest indicator (IMPULS).
    """

    id: str
    name: Text
    role: str
    weight: float
    indicators: tuple[Indicator, ...]
    aggregation: str = "mean"
    unconfirmed: bool = False
    note: Text | None = None


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
class Crosswalk:
    """How this instrument's dimensions are estimated from another instrument version's dimension scores.

    ``dimensions`` maps each of this instrument's dimensions to ``{source dimension: weight}``; the estimate of a
    dimension is the weighted mean of the source scores (docs/scoring.md §16).
    """

    source_id: str
    source_version: str
    dimensions: Mapping[str, Mapping[str, float]]
    unconfirmed: bool = False
    note: Text | None = None


@dataclass(frozen=True)
class Source:
    """A publication the instrument is written from, for the method appendix."""

    title: Text
    url: str | None = None


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
    aggregation: str = "mean"

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
    description: Text | None = None
    crosswalks: tuple[Crosswalk, ...] = ()
    sources: tuple[Source, ...] = ()
    unconfirmed: bool = False
    note: Text | None = None
    outputs: Outputs = field(default_factory=Outputs)
    layouts: Mapping[str, Layout] = field(default_factory=dict, repr=False, compare=False)

    @property
    def industries(self) -> tuple[str, ...]:
        """Return the industry ids a firm may have: every pack id plus "other"."""
        return (*(p.id for p in self.packs), NO_PACK)

    def layout(self, industry: str) -> Layout:
        """Return the layout for ``industry``; raise KeyError for an unknown industry."""
        return self.layouts[industry]
