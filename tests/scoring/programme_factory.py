"""Build programme-engine inputs for the tests: eligible facts, candidates, reviews and small rounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from scoring.programme import Candidate, EligibilityFacts, Review, RoundParams, default_params

AS_OF = date(2026, 6, 30)
DIMS = ("strategy", "infrastructure", "design", "production", "supply_chain", "marketing", "data", "talent")
CONSENTS = frozenset({"share_with_bureau", "publish_results"})


def facts(**changes: Any) -> EligibilityFacts:
    """Return the facts of a firm that passes every default rule, with ``changes`` applied."""
    values: dict[str, Any] = {
        "basis": "verified",
        "snapshot_on": date(2026, 3, 1),
        "maturity": 72.0,
        "composite": 70.0,
        "dimensions": dict.fromkeys(DIMS, 65.0),
        "confidence": 80.0,
        "evidence_coverage": 85.0,
        "trust_gap": 3.0,
        "consents": CONSENTS,
    }
    values.update(changes)
    return EligibilityFacts(**values)


def candidate(app: str, industry: str, county: str, c: float, **kw: Any) -> Candidate:
    """Return an eligible candidate with composite ``c`` (and ``kw`` for other Candidate or facts fields)."""
    fact_kw = {k: kw.pop(k) for k in list(kw) if k in EligibilityFacts.__dataclass_fields__}
    kw.setdefault("submitted_at", datetime(2026, 5, 1, tzinfo=UTC))
    return Candidate(app, industry, county, facts(**{"composite": c, **fact_kw}), **kw)


def by_score(
    total: int, industries: dict[str, int] | None = None, counties: dict[str, int] | None = None
) -> RoundParams:
    """Return an enterprise round ranked on C alone (R = C), without expert review, with the given minimums."""
    industries, counties = industries or {}, counties or {}
    return RoundParams.from_dict(
        {
            "kind": "enterprise",
            "ranking": {"weight_composite": 1.0, "weight_percentile": 0.0, "weight_expert": 0.0},
            "quotas": {
                "total": total,
                "industry_minimum": 0,
                "county_minimum": 0,
                "industries": sorted(industries),
                "counties": sorted(counties),
                "industry_minimums": industries,
                "county_minimums": counties,
            },
            "review": {"criteria": [], "pass_mark": None},
        }
    )


def reviews(params: RoundParams, *fractions: float) -> tuple[Review, ...]:
    """Return one review per fraction, each scoring every criterion at that fraction of its points."""
    return tuple(
        Review(f"expert{i + 1}", {c.id: c.points * f for c in params.review.criteria}) for i, f in enumerate(fractions)
    )


def enterprise() -> RoundParams:
    """Return the default enterprise round."""
    return default_params("enterprise")


def later(minutes: int) -> datetime:
    """Return a submission time ``minutes`` after the first one."""
    return datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=minutes)
