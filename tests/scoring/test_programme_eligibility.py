"""Eligibility, hand-checked: each rule at its boundary (with the 1e-9 tolerance), missing data and fixing actions."""

from __future__ import annotations

from datetime import date

import pytest
from programme_factory import AS_OF, facts

from scoring.programme import check_eligibility, default_params

P = default_params("enterprise")


def _rule(result, rule, subject=None):
    return next(r for r in result.rules if r.rule == rule and r.subject == subject)


def test_a_firm_meeting_every_rule_is_eligible_and_the_checklist_lists_every_rule():
    result = check_eligibility(facts(), P, AS_OF)
    assert result.eligible and result.failed == () and result.actions == ()
    rules = [(r.rule, r.subject) for r in result.rules]
    assert rules == [
        ("verified_on_site", None),
        ("recent", None),
        ("min_maturity", None),
        *[("min_dimension", d) for d in facts().dimensions],
        ("min_confidence", None),
        ("min_evidence", None),
        ("max_trust_gap", None),
        ("consent", "share_with_bureau"),
        ("consent", "publish_results"),
    ]


@pytest.mark.parametrize(
    "field, rule, at, just_failing, action",
    [
        ("maturity", "min_maturity", 60, 59.999, "reassess"),
        ("confidence", "min_confidence", 70, 69.999, "reassess"),
        ("evidence_coverage", "min_evidence", 70, 69.999, "upload_evidence"),
    ],
)
def test_minimum_rules_at_the_boundary(field, rule, at, just_failing, action):
    assert _rule(check_eligibility(facts(**{field: at}), P, AS_OF), rule).passed
    # Float noise below the tolerance still meets the threshold (60 computed as 59.99999999999999).
    assert _rule(check_eligibility(facts(**{field: at - 1e-12}), P, AS_OF), rule).passed
    failed = _rule(check_eligibility(facts(**{field: just_failing}), P, AS_OF), rule)
    assert not failed.passed and failed.action == action
    assert failed.message == f"{rule}_below" and dict(failed.params) == {"value": just_failing, "required": at}


def test_lowest_dimension_is_shown_as_value_against_requirement():
    dims = dict(facts().dimensions, design=38.0, marketing=40.0, data=39.9999999999)
    result = check_eligibility(facts(dimensions=dims), P, AS_OF)
    design = _rule(result, "min_dimension", "design")
    assert not result.eligible and not design.passed
    assert design.message == "min_dimension_below"
    assert dict(design.params) == {"dimension": "design", "value": 38.0, "required": 40}  # "最低维度 38 < 40"
    assert design.action == "reassess"
    assert _rule(result, "min_dimension", "marketing").passed  # exactly 40
    assert _rule(result, "min_dimension", "data").passed  # within 1e-9 of 40
    assert [r.subject for r in result.failed] == ["design"]


def test_an_unscored_dimension_fails_with_its_own_message():
    dims = dict(facts().dimensions, production=None)
    rule = _rule(check_eligibility(facts(dimensions=dims), P, AS_OF), "min_dimension", "production")
    assert not rule.passed and rule.message == "dimension_not_scored" and rule.value is None


def test_trust_gap_at_the_boundary_and_a_negative_gap():
    assert _rule(check_eligibility(facts(trust_gap=10.0), P, AS_OF), "max_trust_gap").passed
    assert _rule(check_eligibility(facts(trust_gap=10.0 + 1e-12), P, AS_OF), "max_trust_gap").passed
    above = _rule(check_eligibility(facts(trust_gap=10.001), P, AS_OF), "max_trust_gap")
    assert not above.passed and above.message == "max_trust_gap_above" and above.action == "reassess"
    # Verified higher than self-assessed is no over-claim.
    assert _rule(check_eligibility(facts(trust_gap=-25.0), P, AS_OF), "max_trust_gap").passed


def test_verification_within_twelve_months_inclusive():
    assert _rule(check_eligibility(facts(snapshot_on=date(2025, 6, 30)), P, AS_OF), "recent").passed
    old = _rule(check_eligibility(facts(snapshot_on=date(2025, 6, 29)), P, AS_OF), "recent")
    assert not old.passed and old.message == "too_old" and old.action == "request_verification"
    assert old.params["earliest"] == date(2025, 6, 30) and old.params["months"] == 12
    # 29 February: twelve months before 28 February 2025 is 28 February 2024; before 29 Feb 2024 is 28 Feb 2023.
    leap = check_eligibility(facts(snapshot_on=date(2023, 2, 28)), P, date(2024, 2, 29))
    assert _rule(leap, "recent").passed
    future = _rule(check_eligibility(facts(snapshot_on=date(2026, 7, 1)), P, AS_OF), "recent")
    assert not future.passed and future.message == "snapshot_after_reference_date"


def test_no_snapshot_is_a_failed_rule_per_rule_never_an_exception():
    result = check_eligibility(facts(basis=None, snapshot_on=None), P, AS_OF)
    assert not result.eligible
    first = result.rules[0]
    assert (first.rule, first.message, first.action) == ("verified_on_site", "no_assessment", "start_assessment")
    assert {r.message for r in result.failed if r.rule != "consent"} == {"no_assessment"}
    assert result.actions == ("start_assessment",)


def test_a_submitted_but_unverified_snapshot_asks_for_verification():
    result = check_eligibility(facts(basis="self", trust_gap=None), P, AS_OF)
    verified = _rule(result, "verified_on_site")
    assert (verified.passed, verified.message, verified.action) == (False, "not_verified", "request_verification")
    gap = _rule(result, "max_trust_gap")
    assert (gap.passed, gap.message, gap.action) == (False, "needs_verification", "request_verification")
    assert _rule(result, "min_maturity").passed  # the self-assessed value is shown against the threshold
    assert result.actions == ("request_verification",)


def test_missing_consent_and_evidence_not_needed():
    result = check_eligibility(facts(consents=frozenset({"share_with_bureau"}), evidence_coverage=None), P, AS_OF)
    consent = _rule(result, "consent", "publish_results")
    assert (consent.passed, consent.message, consent.action) == (False, "consent_missing", "give_consent")
    assert _rule(result, "consent", "share_with_bureau").passed
    evidence = _rule(result, "min_evidence")
    assert evidence.passed and evidence.message == "evidence_not_needed"
    assert result.actions == ("give_consent",)


def test_a_threshold_of_none_removes_its_rule_and_project_rounds_need_no_verification():
    p = P.replace({"eligibility": {"min_confidence": None, "max_trust_gap": None}})
    rules = {r.rule for r in check_eligibility(facts(confidence=10.0, trust_gap=50.0), p, AS_OF).rules}
    assert "min_confidence" not in rules and "max_trust_gap" not in rules
    project = default_params("project")
    result = check_eligibility(facts(basis="self", maturity=20.0, trust_gap=None), project, AS_OF)
    assert result.eligible and result.rules[0].rule == "assessed"
    assert not check_eligibility(facts(basis=None), project, AS_OF).eligible


def test_failures_only_keeps_exactly_the_failed_rules():
    f = facts(maturity=55.0, consents=frozenset())
    full = check_eligibility(f, P, AS_OF)
    short = check_eligibility(f, P, AS_OF, failures_only=True)
    assert short.eligible == full.eligible is False
    assert short.rules == full.failed
