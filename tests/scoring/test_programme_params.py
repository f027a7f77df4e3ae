"""Round parameters: the §2.13 defaults, the round trip through a dict, and validation with message keys."""

from __future__ import annotations

import json

import pytest

from scoring.programme import ProgrammeError, RoundParams, default_params
from scoring.programme.defaults import COUNTIES, INDUSTRY_PACKS


def test_enterprise_defaults_are_those_of_section_2_13():
    p = default_params("enterprise")
    e = p.eligibility
    assert (e.require_verified, e.max_age_months, e.min_maturity, e.min_dimension) == (True, 12, 60, 40)
    assert (e.min_confidence, e.min_evidence, e.max_trust_gap) == (70, 70, 10)
    assert e.required_consents == ("share_with_bureau", "publish_results")
    assert (p.ranking.weight_composite, p.ranking.weight_percentile, p.ranking.weight_expert) == (0.6, 0.4, 0.0)
    assert (p.quotas.total, p.quotas.industry_minimum, p.quotas.county_minimum) == (100, 5, 5)
    assert p.quotas.minimum("industry", "wood") == 5 and p.quotas.minimum("industry", "other") == 0
    assert p.quotas.minimum("county", "haiyan") == 5
    assert p.review.split_threshold == 15 and p.review.final_rule == "mean_or_median"
    assert p.review.max_total == 100 and p.review.pass_mark == 60
    assert p.publicity_working_days == 5


def test_project_rubric_is_30_20_20_15_10_5():
    p = default_params("project")
    assert [(c.id, c.points) for c in p.review.criteria] == [
        ("kpi_improvement", 30),
        ("replicability", 20),
        ("technical_depth", 20),
        ("investment_efficiency", 15),
        ("security_green", 10),
        ("documentation", 5),
    ]
    assert p.ranking.weight_expert == 1.0 and p.review.pass_mark is None
    assert not p.eligibility.require_verified and p.eligibility.min_maturity is None


def test_group_codes_match_the_apps_reference_data():
    from saas.reference import COUNTIES as APP_COUNTIES
    from saas.reference import INDUSTRIES

    assert set(COUNTIES) == set(APP_COUNTIES)
    assert set(INDUSTRY_PACKS) == set(INDUSTRIES) - {"other"}


@pytest.mark.parametrize("kind", ["enterprise", "project"])
def test_round_trip_through_json(kind):
    p = default_params(kind)
    data = json.loads(json.dumps(p.to_dict()))
    assert RoundParams.from_dict(data) == p
    assert data["kind"] == kind and data["quotas"]["total"] == 100


def test_missing_fields_take_the_kinds_defaults_and_replace_changes_one():
    p = RoundParams.from_dict({"kind": "enterprise", "quotas": {"total": 50}})
    assert p.quotas.total == 50 and p.quotas.county_minimum == 5 and p.eligibility.min_maturity == 60
    q = p.replace({"quotas": {"county_minimums": {"haining": 8}}, "eligibility": {"min_maturity": 65}})
    assert q.quotas.minimum("county", "haining") == 8 and q.quotas.minimum("county", "nanhu") == 5
    assert q.eligibility.min_maturity == 65 and q.quotas.total == 50
    assert p.quotas.county_minimums == {}  # a preview never changes the params it started from


def _problems(data):
    with pytest.raises(ProgrammeError) as err:
        RoundParams.from_dict(data)
    return {(p.key, p.path): dict(p.params) for p in err.value.problems}


def test_every_problem_is_reported_with_its_key_path_and_values():
    problems = _problems(
        {
            "kind": "enterprise",
            "quotas": {"total": 0, "bogus": 1, "county_minimums": {"atlantis": 3}},
            "ranking": {"weight_composite": 0.7, "tie_order": ["c_verified", "luck"]},
            "eligibility": {"min_maturity": "sixty", "min_dimension": 140},
            "publicity_working_days": 3,
        }
    )
    assert problems[("out_of_range", "quotas.total")] == {"value": 0, "min": 1, "max": None}
    assert ("unknown_field", "quotas.bogus") in problems
    assert problems[("unknown_group", "quotas.county_minimums.atlantis")]["group"] == "atlantis"
    assert problems[("weights_sum", "ranking")] == {"value": pytest.approx(1.1), "required": 1}
    assert problems[("unknown_choice", "ranking.tie_order")]["value"] == "luck"
    assert problems[("wrong_type", "eligibility.min_maturity")] == {"expected": "number", "value": "sixty"}
    assert problems[("out_of_range", "eligibility.min_dimension")]["value"] == 140
    assert problems[("out_of_range", "publicity_working_days")] == {"value": 3, "min": 5, "max": None}
    # The bad total is reported once; the minimums are not also reported against it.
    assert ("out_of_range", "quotas.industry_minimum") not in problems


def test_rubric_problems():
    problems = _problems(
        {"kind": "project", "review": {"criteria": [{"id": "a", "points": 60}, {"id": "a", "points": 30}]}}
    )
    assert problems[("rubric_total", "review.criteria")] == {"value": 90, "required": 100}
    assert ("duplicate", "review.criteria[1].id") in problems
    assert ("rubric_required", "review.criteria") in _problems({"kind": "project", "review": {"criteria": []}})
    assert ("unknown_choice", "ranking.tie_order") in _problems(
        {"kind": "project", "review": {"criteria": [{"id": "all", "points": 100}]}}
    )  # the default tie key names a criterion this rubric lacks


def test_weights_summing_to_one_within_the_tolerance_pass():
    ok = {"weight_composite": 0.1 + 0.2, "weight_percentile": 0.7, "weight_expert": 0.0}  # 1.0000000000000002
    assert RoundParams.from_dict({"kind": "enterprise", "ranking": ok}).ranking.weight_composite == 0.1 + 0.2


@pytest.mark.parametrize(
    "data, key",
    [
        (None, "wrong_type"),
        ({}, "required"),
        ({"kind": "grant"}, "unknown_choice"),
        ({"kind": "enterprise", "review": {"blind": "yes"}}, "wrong_type"),
        ({"kind": "enterprise", "quotas": {"total": 10.5}}, "wrong_type"),
        ({"kind": "enterprise", "quotas": {"total": True}}, "wrong_type"),
        ({"kind": "enterprise", "ranking": {"percentile_basis": "city"}}, "unknown_choice"),
        (
            {"kind": "enterprise", "eligibility": {"required_consents": ["share_with_bureau", "marry"]}},
            "unknown_choice",
        ),
        (
            {
                "kind": "enterprise",
                "ranking": {"weight_expert": 0.4, "weight_percentile": 0.0},
                "review": {"criteria": []},
            },
            "rubric_required",
        ),
    ],
)
def test_single_problems(data, key):
    with pytest.raises(ProgrammeError) as err:
        RoundParams.from_dict(data)
    assert key in err.value.keys


def test_docs_list_every_parameter():
    """docs/programme.md's parameter table names every field of the stored dict."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "programme.md").read_text(encoding="utf-8")

    def paths(data, prefix=""):
        for key, value in data.items():
            if isinstance(value, dict) and not key.endswith("_minimums"):
                yield from paths(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}"

    missing = [p for p in paths(default_params("enterprise").to_dict()) if f"`{p}`" not in text]
    assert missing == []
