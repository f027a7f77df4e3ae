"""Hold the default round parameters of the 双百 programme as data (assessment-engine.md §2.13, design choices).

This is the programme's parameter file, like an instrument: every threshold, weight, quota and rubric point lives
here and nowhere in the engine's code. A round stores its own complete copy (``RoundParams.to_dict()``), so a change
here never alters a round that has opened. Align with the bureau's own 双百 criteria before launch (§4 item 6).
"""

from __future__ import annotations

from typing import Any

# County-level units and industry packs of Jiaxing (codes as in saas/reference.py; tested to stay equal).
COUNTIES = ("nanhu", "xiuzhou", "jiashan", "pinghu", "haiyan", "haining", "tongxiang")
INDUSTRY_PACKS = ("silk", "warp_knitting", "textile", "garment", "leather", "luggage", "wood")

# China has kept UTC+8 all year since 1991; a verification at 01:00 Beijing time counts on that Beijing date.
CHINA_UTC_OFFSET_HOURS = 8

KINDS = ("enterprise", "project")
CONSENTS = ("share_with_bureau", "publish_results")
TIE_KEYS = ("c_verified", "min_dimension", "submitted_at")
PERCENTILE_BASES = ("round", "supplied")
FINAL_RULES = ("mean_or_median", "mean")
RUBRIC_TOTAL = 100
# Two reviews per application; a split above the threshold brings a third; never more than three.
REVIEWS_REQUIRED = 2
MAX_REVIEWS = 3
# Hex digits of the review-parameter fingerprint a stored expert verdict carries.
FINGERPRINT_CHARS = 16
MIN_PUBLICITY_WORKING_DAYS = 5

_QUOTAS: dict[str, Any] = {
    "total": 100,
    "industry_minimum": 5,
    "county_minimum": 5,
    "industries": list(INDUSTRY_PACKS),
    "counties": list(COUNTIES),
    "industry_minimums": {},
    "county_minimums": {},
}

ENTERPRISE: dict[str, Any] = {
    "kind": "enterprise",
    "eligibility": {
        "require_verified": True,
        "max_age_months": 12,
        "min_maturity": 60,
        "min_dimension": 40,
        "min_confidence": 70,
        "min_evidence": 70,
        "max_trust_gap": 10,
        "required_consents": list(CONSENTS),
    },
    "ranking": {
        "weight_composite": 0.6,
        "weight_percentile": 0.4,
        "weight_expert": 0.0,
        "percentile_basis": "round",
        "tie_order": ["c_verified", "min_dimension", "submitted_at"],
    },
    "quotas": _QUOTAS,
    # Experts review the declaration (the must-show path); with weight 0 the score is a pass mark only.
    "review": {
        "criteria": [
            {"id": "demonstration_value", "points": 30},
            {"id": "measured_results", "points": 25},
            {"id": "replicability", "points": 20},
            {"id": "security_green", "points": 15},
            {"id": "declaration_quality", "points": 10},
        ],
        "split_threshold": 15,
        "final_rule": "mean_or_median",
        "pass_mark": 60,
        "blind": False,
        "exclude_same_county": True,
    },
    "publicity_working_days": 5,
}

PROJECT: dict[str, Any] = {
    "kind": "project",
    "eligibility": {
        "require_verified": False,
        "max_age_months": 12,
        "min_maturity": None,
        "min_dimension": None,
        "min_confidence": None,
        "min_evidence": None,
        "max_trust_gap": None,
        "required_consents": list(CONSENTS),
    },
    "ranking": {
        "weight_composite": 0.0,
        "weight_percentile": 0.0,
        "weight_expert": 1.0,
        "percentile_basis": "round",
        "tie_order": ["criterion:kpi_improvement", "submitted_at"],
    },
    "quotas": _QUOTAS,
    "review": {
        "criteria": [
            {"id": "kpi_improvement", "points": 30},
            {"id": "replicability", "points": 20},
            {"id": "technical_depth", "points": 20},
            {"id": "investment_efficiency", "points": 15},
            {"id": "security_green", "points": 10},
            {"id": "documentation", "points": 5},
        ],
        "split_threshold": 15,
        "final_rule": "mean_or_median",
        "pass_mark": None,
        "blind": False,
        "exclude_same_county": True,
    },
    "publicity_working_days": 5,
}

DEFAULTS = {"enterprise": ENTERPRISE, "project": PROJECT}
