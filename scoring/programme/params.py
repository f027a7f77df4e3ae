"""Define a round's parameters as frozen data: eligibility, ranking weights, quotas, the expert rubric, 公示 length.

Build them with ``RoundParams.from_dict`` (validated; missing fields take the kind's defaults from ``defaults.py``)
or ``default_params(kind)``; store ``to_dict()`` on the round. Every field is explained in docs/programme.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring import codec


@dataclass(frozen=True)
class EligibilityParams:
    """Eligibility rules; a threshold of None switches that rule off (scores are 0–100, E_high in percent)."""

    require_verified: bool
    max_age_months: int | None
    min_maturity: float | None
    min_dimension: float | None
    min_confidence: float | None
    min_evidence: float | None
    max_trust_gap: float | None
    required_consents: tuple[str, ...]


@dataclass(frozen=True)
class RankingParams:
    """R = w_c·C_verified + w_p·PR_industry + w_e·expert score; ties go down ``tie_order``, then application id."""

    weight_composite: float
    weight_percentile: float
    weight_expert: float
    percentile_basis: str  # "round": among this round's ranked candidates of the industry; "supplied": given
    tie_order: tuple[str, ...]


@dataclass(frozen=True)
class QuotaParams:
    """Seats and minimums: every listed industry and county gets its minimum unless overridden per group."""

    total: int
    industry_minimum: int
    county_minimum: int
    industries: tuple[str, ...]
    counties: tuple[str, ...]
    industry_minimums: Mapping[str, int] = field(default_factory=dict)
    county_minimums: Mapping[str, int] = field(default_factory=dict)

    def minimum(self, family: str, group: str) -> int:
        """Return the minimum number of seats for ``group`` of ``family`` ("industry" or "county"); 0 if unlisted."""
        if family == "industry":
            listed, uniform, overrides = self.industries, self.industry_minimum, self.industry_minimums
        else:
            listed, uniform, overrides = self.counties, self.county_minimum, self.county_minimums
        if group in overrides:
            return overrides[group]
        return uniform if group in listed else 0


@dataclass(frozen=True)
class Criterion:
    """One criterion of the expert rubric and its maximum points."""

    id: str
    points: float


@dataclass(frozen=True)
class ReviewParams:
    """Expert review: the rubric (empty = no expert review), the third-review split, the final rule, conflicts."""

    criteria: tuple[Criterion, ...]
    split_threshold: float
    final_rule: str  # "mean_or_median": mean of two, median of three; "mean": mean of all reviews
    pass_mark: float | None
    blind: bool
    exclude_same_county: bool

    @property
    def max_total(self) -> float:
        """Return the rubric's maximum total (100 for a valid rubric)."""
        return sum(c.points for c in self.criteria)

    def criterion(self, criterion_id: str) -> Criterion | None:
        """Return the criterion called ``criterion_id``, or None."""
        return next((c for c in self.criteria if c.id == criterion_id), None)


@dataclass(frozen=True)
class RoundParams:
    """Everything that decides a round, frozen when the round opens and printed on its public method page."""

    kind: str
    eligibility: EligibilityParams
    ranking: RankingParams
    quotas: QuotaParams
    review: ReviewParams
    publicity_working_days: int

    @property
    def has_review(self) -> bool:
        """Return whether applications in this round are scored by experts."""
        return bool(self.review.criteria)

    def to_dict(self) -> dict[str, Any]:
        """Return the complete parameters as a JSON-ready dict (what the round stores)."""
        data: dict[str, Any] = codec.to_dict(self)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> RoundParams:
        """Validate ``data`` and return parameters; missing fields take the defaults of ``data["kind"]``.

        :raises ProgrammeError: with every problem found (message key, field path and values).
        """
        from scoring.programme.validate import parse_round

        return parse_round(data)

    def replace(self, changes: Mapping[str, Any]) -> RoundParams:
        """Return validated parameters with ``changes`` (nested like ``to_dict``) applied, e.g. for a preview.

        Sections merge field by field; a per-group minimum map (``industry_minimums``, ``county_minimums``) and
        every list are replaced whole.

        :raises ProgrammeError: if the changed parameters are invalid.
        """
        return RoundParams.from_dict(_merge(self.to_dict(), changes))


def default_params(kind: str) -> RoundParams:
    """Return the default parameters of a round of ``kind`` ("enterprise" or "project").

    :raises ProgrammeError: ``unknown_choice`` for another kind.
    """
    return RoundParams.from_dict({"kind": kind})


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and not key.endswith("_minimums"):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
