"""Define the frozen dataclasses the engine takes in (answers, profile) and gives back (scores, advice)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from scoring import codec
from scoring.model import Text
from scoring.outputs import Outputs

# An answer value is plain JSON: an option id, a list of option ids, a {row id: state} mapping, a number,
# or {"baseline": number, "current": number} for outcome KPIs. See docs/instrument-format.md.
AnswerValue = Any


@dataclass(frozen=True)
class Answer:
    """A firm's answer to one question; ``na`` marks it not applicable (only where the question allows)."""

    value: AnswerValue = None
    na: bool = False
    confidence: int | None = None
    has_evidence: bool = False


@dataclass(frozen=True)
class Override:
    """An assessor's verdict on one answer: "approved" keeps it, "overridden" replaces it with ``value``."""

    status: str
    value: AnswerValue = None
    na: bool = False


@dataclass(frozen=True)
class Profile:
    """The firm's prioritisation inputs: up to three KPI ids in rank order and cost shares summing to 1."""

    top_kpis: tuple[str, ...] = ()
    cost_shares: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AssessmentInput:
    """Everything the engine needs to score one assessment, stored with the result so it can be recomputed."""

    industry: str
    answers: Mapping[str, Answer]
    overrides: Mapping[str, Override] = field(default_factory=dict)
    profile: Profile | None = None
    cohort_p90: Mapping[str, float] = field(default_factory=dict)
    duration_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return this input as a JSON-ready dict."""
        data: dict[str, Any] = codec.to_dict(self)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AssessmentInput:
        """Rebuild an input from ``to_dict`` output."""
        return codec.from_dict(cls, data)


@dataclass(frozen=True)
class QuestionResult:
    """Scores of one question in the three views; None means N/A (or, for ``verified``, not verified)."""

    question_id: str
    dimension_id: str
    status: str  # "answered", "na" or "missing"
    self_score: float | None
    evidence_score: float | None
    verified_score: float | None
    weight: float  # effective weight inside its dimension (0 when N/A)
    confidence: int | None
    has_evidence: bool
    evidence_required: bool
    ambition: float | None = None


@dataclass(frozen=True)
class IndicatorScore:
    """An indicator score 0–100, or None when every question is N/A."""

    indicator_id: str
    score: float | None


@dataclass(frozen=True)
class DimensionScore:
    """One dimension in one view: score D (0–100), band, gated level and level attainment p_1..p_n."""

    dimension_id: str
    role: str
    weight: float
    score: float | None
    band: int | None
    level: int | None
    attainment: tuple[float | None, ...]
    indicators: tuple[IndicatorScore, ...]
    na_share: float
    insufficient: bool


@dataclass(frozen=True)
class ViewResult:
    """One score view ("self", "evidence" or "verified"): dimensions plus M, O, C, band and overall level."""

    view: str
    dimensions: tuple[DimensionScore, ...]
    maturity: float | None
    outcome: float | None
    composite: float | None
    band: int | None
    level: int | None
    attainment: tuple[float | None, ...]
    provisional: bool

    def dimension(self, dimension_id: str) -> DimensionScore:
        """Return the score of ``dimension_id`` in this view."""
        return next(d for d in self.dimensions if d.dimension_id == dimension_id)


@dataclass(frozen=True)
class Flag:
    """A plausibility or quality flag for bureau staff."""

    code: str
    severity: str
    message: Text
    dimension_id: str | None = None
    question_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdviceItem:
    """One recommended move: raise ``question_id`` to ``target`` for ``gain`` dimension points."""

    question_id: str
    dimension_id: str
    level: int
    target: str
    from_score: float
    to_score: float
    gain: float
    cost_tier: int
    advice: Text
    label: Text | None = None


@dataclass(frozen=True)
class AdvicePlan:
    """Greedy plan to the next gated level of one dimension (or overall, when ``dimension_id`` is None)."""

    dimension_id: str | None
    current_level: int
    target_level: int
    reachable: bool
    gain: float
    total_items: int
    items: tuple[AdviceItem, ...]


@dataclass(frozen=True)
class Priority:
    """A dimension's priority score with its five terms and its impact/ease quadrant."""

    dimension_id: str
    score: float
    rank: int
    kpi: float
    cost: float
    gap_bic: float | None
    gap_next: float
    ease: float
    impact: float
    quadrant: str  # "quick_win", "strategic_bet", "fill_in" or "deprioritise"
    top: bool  # among the instrument's top_n priorities


@dataclass(frozen=True)
class ScoreResult:
    """Everything the engine computes for one assessment, with its inputs and versions for recomputation."""

    engine_version: str
    instrument_id: str
    instrument_version: str
    instrument_checksum: str
    inputs: AssessmentInput
    questions: tuple[QuestionResult, ...]
    self_view: ViewResult
    evidence_view: ViewResult
    verified_view: ViewResult | None
    confidence: float | None
    low_confidence: bool
    evidence_coverage: float | None
    trust_gap: float | None
    flags: tuple[Flag, ...]
    advice: tuple[AdvicePlan, ...]
    priorities: tuple[Priority, ...]
    answers_fingerprint: str
    outputs: Outputs = field(default_factory=Outputs)  # which outputs exist; absent ones are None or empty

    def question(self, question_id: str) -> QuestionResult:
        """Return the result of ``question_id``."""
        return next(q for q in self.questions if q.question_id == question_id)

    def view(self, name: str) -> ViewResult | None:
        """Return the view called "self", "evidence" or "verified"."""
        return {"self": self.self_view, "evidence": self.evidence_view, "verified": self.verified_view}[name]

    def to_dict(self) -> dict[str, Any]:
        """Return the whole result (inputs included) as a JSON-ready dict for storage as a snapshot."""
        data: dict[str, Any] = codec.to_dict(self)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreResult:
        """Rebuild a result from ``to_dict`` output."""
        return codec.from_dict(cls, data)


@dataclass(frozen=True)
class DimensionDelta:
    """Change of one dimension between two assessments of the same instrument version."""

    dimension_id: str
    before: float | None
    after: float | None
    delta: float | None
    material: bool
    reliable: bool
    level_before: int | None
    level_after: int | None


@dataclass(frozen=True)
class Comparison:
    """T0 → T1 comparison: per-dimension deltas, M/O/C deltas and progress flags."""

    dimensions: tuple[DimensionDelta, ...]
    maturity_delta: float | None
    outcome_delta: float | None
    composite_delta: float | None
    confidence_delta: float | None
    evidence_coverage_delta: float | None
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class ReassessmentCheck:
    """Whether a new submission is allowed yet, and from which date."""

    allowed: bool
    days_since: int
    earliest: date
