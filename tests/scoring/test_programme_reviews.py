"""Expert reviews: the third-review trigger at the 15-point threshold, mean of two, median of three, validation."""

from __future__ import annotations

import pytest

from scoring.programme import (
    ExpertProfile,
    ProgrammeError,
    Review,
    check_review,
    default_params,
    needs_third_review,
    project_score,
    reviewer_conflicts,
)

P = default_params("project")
IDS = [c.id for c in P.review.criteria]  # 30 / 20 / 20 / 15 / 10 / 5


def review(who: str, *points: float) -> Review:
    return Review(who, dict(zip(IDS, points, strict=True)))


A = review("a", 24, 16, 16, 12, 8, 4)  # 80
B65 = review("b", 20, 12, 13, 10, 7, 3)  # 65: 15 below A
B60 = review("b", 18, 12, 12, 9, 6, 3)  # 60: 20 below A


def test_a_difference_of_exactly_fifteen_needs_no_third_review():
    assert (A.total, B65.total) == (80, 65)
    assert not needs_third_review([A, B65], P)
    score = project_score([A, B65], P)
    assert (score.status, score.final, score.rule, score.spread) == ("final", 72.5, "mean_of_two", 15)
    assert [(c.criterion, c.score) for c in score.breakdown] == [
        ("kpi_improvement", 22),
        ("replicability", 14),
        ("technical_depth", 14.5),
        ("investment_efficiency", 11),
        ("security_green", 7.5),
        ("documentation", 3.5),
    ]
    assert sum(c.score for c in score.breakdown) == pytest.approx(score.final)


def test_float_noise_above_fifteen_is_within_the_tolerance_but_a_real_difference_is_not():
    noisy = review("b", 20, 12, 13, 10, 7, 3 - 1e-10)  # 15.0000000001 below A: equal to 15 within 1e-9
    assert not needs_third_review([A, noisy], P)
    real = review("b", 20, 12, 13, 10, 7, 2.9)  # 15.1
    assert needs_third_review([A, real], P)


def test_a_twenty_point_difference_brings_in_a_third_and_the_median_decides():
    assert needs_third_review([A, B60], P)
    pending = project_score([A, B60], P)
    assert (pending.status, pending.final, pending.reviews_needed) == ("needs_third_review", None, 1)
    assert dict(pending.params) == {"spread": 20, "threshold": 15}
    third = review("c", 21, 14, 14, 10, 7, 4)  # 70
    final = project_score([third, A, B60], P)  # any order
    assert (final.status, final.final, final.rule, final.basis_reviewer) == ("final", 70, "median_of_three", "c")
    assert [c.score for c in final.breakdown] == [21, 14, 14, 10, 7, 4]
    assert not needs_third_review([A, B60, third], P)  # three reviews: nothing more to add


def test_median_with_equal_totals_and_the_mean_rule():
    b = review("b", 25, 15, 16, 12, 7, 5)  # also 80, other breakdown
    c = review("c", 10, 10, 10, 10, 10, 5)  # 55
    final = project_score([b, c, A], P)
    assert final.final == 80 and final.basis_reviewer == "a"  # equal median totals: the lower reviewer id
    mean_rule = P.replace({"review": {"final_rule": "mean"}})
    assert project_score([b, c, A], mean_rule).final == pytest.approx(215 / 3)


def test_missing_reviews_and_too_many():
    assert project_score([], P).status == "incomplete" and project_score([], P).reviews_needed == 2
    one = project_score([A], P)
    assert (one.status, one.reviews_needed, one.final) == ("incomplete", 1, None)
    four = [A, review("b", *[0] * 6), review("c", *[0] * 6), review("d", *[0] * 6)]
    with pytest.raises(ProgrammeError) as err:
        project_score(four, P)
    assert err.value.keys == ("too_many_reviews",)
    with pytest.raises(ProgrammeError) as err:
        project_score([A, review("a", *[1] * 6)], P)
    assert err.value.keys == ("duplicate_reviewer",)


def test_each_criterion_is_scored_within_its_points():
    bad = Review("x", {"kpi_improvement": 31, "replicability": -1, "technical_depth": "high", "luck": 5})
    problems = {(p.key, p.path): dict(p.params) for p in check_review(bad, P)}
    assert problems[("score_out_of_range", "kpi_improvement")] == {
        "criterion": "kpi_improvement",
        "value": 31,
        "max": 30,
    }
    assert ("score_out_of_range", "replicability") in problems
    assert ("score_not_number", "technical_depth") in problems
    assert ("criterion_missing", "investment_efficiency") in problems
    assert ("unknown_criterion", "luck") in problems
    assert check_review(review("ok", 30, 20, 20, 15, 10, 5), P) == ()
    with pytest.raises(ProgrammeError) as err:
        project_score([A, bad], P)
    assert "x.kpi_improvement" in {p.path for p in err.value.problems}


def test_conflicts_of_interest():
    expert = ExpertProfile("e1", county="haining", affiliations=frozenset({"firm-9"}))
    assert reviewer_conflicts(expert, "firm-9", "haining", P) == ("declared_affiliation", "same_county")
    assert reviewer_conflicts(expert, "firm-1", "pinghu", P) == ()
    lenient = P.replace({"review": {"exclude_same_county": False}})
    assert reviewer_conflicts(expert, "firm-1", "haining", lenient) == ()
