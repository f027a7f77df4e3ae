"""Select the 双百 demonstration enterprises and projects: pure, deterministic, explained (docs/programme.md).

Public API (the web side calls only these; no Flask, database or clock — pass ``as_of``):

Parameters
    RoundParams.from_dict(data) / .to_dict() / .replace(changes)   validated; missing fields take the kind's defaults
    default_params(kind)                      "enterprise" or "project" (values in defaults.py, §2.13)
Eligibility
    facts_from_snapshot(row, consents) -> EligibilityFacts   a score_snapshots row (dict) → facts
    check_eligibility(facts, params, as_of) -> Eligibility   rules with value, requirement, message key, action
Expert review
    check_review(review, params) -> tuple[Problem, ...]      form validation of one review
    needs_third_review(reviews, params) -> bool              two totals differ by more than the split threshold
    project_score(reviews, params) -> ProjectScore           mean of two / median of three, with breakdown
    is_current(verdict, reviews, params) -> bool             a stored verdict still fits (Candidate.expert)
    reviewer_conflicts(expert, firm_id, firm_county, params) -> tuple[str, ...]
Ranking
    rank(candidates, params, as_of) -> Ranking               eligibility, R, quotas, reasons, ties
    diff_rankings(before, after) -> RankingDiff              who enters or leaves, and why
Working days (公示)
    is_working_day(day), add_working_days(start, n), working_days_between(a, b)
    publicity_period(start, n, fallback="error") -> PublicityPeriod
Errors: ProgrammeError (a ScoringError and ValueError) with ``problems`` (Problem: key, path, params);
CalendarNotCovered for a year the calendar library does not know.
"""

from __future__ import annotations

from scoring.programme.eligibility import Eligibility, EligibilityFacts, RuleResult, check_eligibility
from scoring.programme.errors import CalendarNotCovered, Problem, ProgrammeError
from scoring.programme.explain import EntryChange, GroupQuota, RankingDiff, TieBreak, diff_rankings
from scoring.programme.params import (
    Criterion,
    EligibilityParams,
    QuotaParams,
    RankingParams,
    ReviewParams,
    RoundParams,
    default_params,
)
from scoring.programme.reviews import (
    CriterionScore,
    ExpertProfile,
    ProjectScore,
    Review,
    check_review,
    is_current,
    needs_third_review,
    project_score,
    review_rules,
    reviewer_conflicts,
)
from scoring.programme.selection import Candidate, RankEntry, Ranking, ScoreComponent, rank
from scoring.programme.snapshot import facts_from_snapshot, local_date
from scoring.programme.workdays import (
    CalendarInfo,
    PublicityPeriod,
    add_working_days,
    calendar_info,
    is_working_day,
    publicity_period,
    working_days_between,
)

__all__ = [
    "CalendarInfo",
    "CalendarNotCovered",
    "Candidate",
    "Criterion",
    "CriterionScore",
    "Eligibility",
    "EligibilityFacts",
    "EligibilityParams",
    "EntryChange",
    "ExpertProfile",
    "GroupQuota",
    "Problem",
    "ProgrammeError",
    "ProjectScore",
    "PublicityPeriod",
    "QuotaParams",
    "RankEntry",
    "Ranking",
    "RankingDiff",
    "RankingParams",
    "Review",
    "ReviewParams",
    "RoundParams",
    "RuleResult",
    "ScoreComponent",
    "TieBreak",
    "add_working_days",
    "calendar_info",
    "check_eligibility",
    "check_review",
    "is_current",
    "default_params",
    "diff_rankings",
    "facts_from_snapshot",
    "is_working_day",
    "local_date",
    "needs_third_review",
    "project_score",
    "publicity_period",
    "rank",
    "review_rules",
    "reviewer_conflicts",
    "working_days_between",
]
