"""Score expert reviews against the round's rubric: validation, the third-review trigger and the final score.

Final score (``final_rule`` "mean_or_median"): two reviews → their mean, unless the totals differ by more than
``split_threshold`` (then a third review is needed first); three reviews → the median total, i.e. the middle
review, whose criteria are the breakdown. "mean" averages every submitted review instead. More than three is
an error; fewer than two is incomplete.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from statistics import median_low

from scoring import codec
from scoring.programme.defaults import FINGERPRINT_CHARS, MAX_REVIEWS, REVIEWS_REQUIRED
from scoring.programme.errors import Problem, ProgrammeError
from scoring.programme.params import Criterion, ReviewParams, RoundParams
from scoring.tolerance import above, at_most

FINAL, THIRD, INCOMPLETE = "final", "needs_third_review", "incomplete"
_MISSING = object()


@dataclass(frozen=True)
class Review:
    """One expert's submitted scores, criterion id → points (0..criterion points)."""

    reviewer_id: str
    scores: Mapping[str, float]

    @property
    def total(self) -> float:
        """Return the review's total points."""
        return sum(self.scores.values())


@dataclass(frozen=True)
class CriterionScore:
    """The final points of one criterion (the mean of two reviews, or the median review's points)."""

    criterion: str
    points: float
    score: float


@dataclass(frozen=True)
class ProjectScore:
    """The expert verdict on one application: status, final score, the rule used and the reviews' totals."""

    status: str  # "final", "needs_third_review" or "incomplete"
    final: float | None
    rule: str | None  # "mean_of_two", "median_of_three", "mean" (None until final)
    totals: tuple[tuple[str, float], ...]  # (reviewer id, total), by reviewer id
    spread: float | None  # highest total − lowest total
    breakdown: tuple[CriterionScore, ...] = ()
    basis_reviewer: str | None = None  # the median review (median of three)
    reviews_needed: int = 0
    message: str = ""
    params: Mapping[str, float] = field(default_factory=dict)
    rules: str = ""  # review_rules() of the parameters it was computed under


def check_review(review: Review, params: RoundParams | ReviewParams) -> tuple[Problem, ...]:
    """Return the problems of one review (empty when valid): every criterion scored, each within its points."""
    p = _review_params(params)
    scores, problems = review.scores, []
    for c in p.criteria:
        value = scores.get(c.id, _MISSING)
        if value is _MISSING:
            problems.append(Problem("criterion_missing", c.id, {"criterion": c.id}))
        elif type(value) not in (int, float) or not math.isfinite(value):  # bool is refused too
            problems.append(Problem("score_not_number", c.id, {"criterion": c.id, "value": value}))
        elif value < 0 or not at_most(value, c.points):
            problems.append(Problem("score_out_of_range", c.id, {"criterion": c.id, "value": value, "max": c.points}))
    if len(scores) != len(p.criteria) or problems:
        known = _criterion_ids(p.criteria)
        problems.extend(Problem("unknown_criterion", k, {"criterion": k}) for k in scores if k not in known)
    return tuple(problems)


def needs_third_review(reviews: Sequence[Review], params: RoundParams | ReviewParams) -> bool:
    """Return whether two reviews differ by more than the split threshold (a difference equal to it does not)."""
    p = _review_params(params)
    return len(reviews) == REVIEWS_REQUIRED and above(abs(reviews[0].total - reviews[1].total), p.split_threshold)


def project_score(reviews: Iterable[Review], params: RoundParams | ReviewParams) -> ProjectScore:
    """Return the expert verdict of the submitted reviews; independent of their order.

    :raises ProgrammeError: a review is invalid (its problems, path prefixed by reviewer), a reviewer appears
        twice (``duplicate_reviewer``), or there are more than three reviews (``too_many_reviews``).
    """
    p = _review_params(params)
    rules = review_rules(p)
    items = sorted(reviews, key=_reviewer)
    _validate(items, p)
    totals = tuple((r.reviewer_id, r.total) for r in items)
    values = [t for _, t in totals]
    spread = max(values) - min(values) if values else None
    if len(items) < REVIEWS_REQUIRED:
        needed = REVIEWS_REQUIRED - len(items)
        return ProjectScore(
            INCOMPLETE, None, None, totals, spread, reviews_needed=needed, message="awaiting", rules=rules
        )
    if len(items) == REVIEWS_REQUIRED and above(spread or 0.0, p.split_threshold):  # as needs_third_review
        split = {"spread": spread or 0.0, "threshold": p.split_threshold}
        return ProjectScore(
            THIRD, None, None, totals, spread, reviews_needed=1, message="split", params=split, rules=rules
        )
    if p.final_rule == "mean" or len(items) == REVIEWS_REQUIRED:
        rule = "mean" if p.final_rule == "mean" else "mean_of_two"
        n = len(items)
        columns = zip(*(tuple(r.scores[c.id] for c in p.criteria) for r in items), strict=True)
        pairs = zip(p.criteria, columns, strict=True)
        breakdown = tuple(CriterionScore(c.id, c.points, sum(col) / n) for c, col in pairs)
        final = sum(values) / n
        return ProjectScore(FINAL, final, rule, totals, spread, breakdown, message=rule, rules=rules)
    # The median total belongs to the middle review (equal totals: the lower reviewer id), so the breakdown adds up.
    _, middle_id = median_low((r.total, r.reviewer_id) for r in items)
    middle = next(r for r in items if r.reviewer_id == middle_id)
    breakdown = tuple(CriterionScore(c.id, c.points, middle.scores[c.id]) for c in p.criteria)
    rule = "median_of_three"
    return ProjectScore(FINAL, middle.total, rule, totals, spread, breakdown, middle_id, message=rule, rules=rules)


def review_rules(params: RoundParams | ReviewParams) -> str:
    """Return a short fingerprint of the review parameters (rubric, threshold, final rule, pass mark)."""
    return _fingerprint(_review_params(params))


def is_current(verdict: ProjectScore, reviews: Iterable[Review], params: RoundParams | ReviewParams | str) -> bool:
    """Return whether a stored verdict was computed under these parameters (or ``review_rules`` string) from
    reviews with these totals."""
    rules = params if isinstance(params, str) else review_rules(params)
    return verdict.rules == rules and verdict.totals == tuple(sorted([(r.reviewer_id, r.total) for r in reviews]))


@cache
def _fingerprint(p: ReviewParams) -> str:
    text = json.dumps(codec.to_dict(p), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


@dataclass(frozen=True)
class ExpertProfile:
    """What conflict checks know about an expert: home county and the firms they declared an affiliation with."""

    expert_id: str
    county: str | None = None
    affiliations: frozenset[str] = frozenset()


def reviewer_conflicts(
    expert: ExpertProfile, firm_id: str, firm_county: str, params: RoundParams | ReviewParams
) -> tuple[str, ...]:
    """Return why ``expert`` may not review the firm's application: "declared_affiliation", "same_county" (if set)."""
    p = _review_params(params)
    out = []
    if firm_id in expert.affiliations:
        out.append("declared_affiliation")
    if p.exclude_same_county and expert.county is not None and expert.county == firm_county:
        out.append("same_county")
    return tuple(out)


def _validate(items: Sequence[Review], p: ReviewParams) -> None:
    problems: list[Problem] = []
    seen: set[str] = set()
    for r in items:
        if r.reviewer_id in seen:
            problems.append(Problem("duplicate_reviewer", r.reviewer_id, {"reviewer": r.reviewer_id}))
        seen.add(r.reviewer_id)
        found = check_review(r, p)
        if found:
            problems.extend(Problem(x.key, f"{r.reviewer_id}.{x.path}", x.params) for x in found)
    if len(items) > MAX_REVIEWS:
        problems.append(Problem("too_many_reviews", "", {"count": len(items), "max": MAX_REVIEWS}))
    if problems:
        raise ProgrammeError(problems)


def _reviewer(review: Review) -> str:
    return review.reviewer_id


@cache
def _criterion_ids(criteria: tuple[Criterion, ...]) -> frozenset[str]:
    return frozenset(c.id for c in criteria)


def _review_params(params: RoundParams | ReviewParams) -> ReviewParams:
    return params.review if isinstance(params, RoundParams) else params
