"""Quota ranking, hand-computed: the R formula, unmeetable minimums, ties, one county dominating, minimums over the
total, minimums that interact, empty input, exclusions, expert gates, project rounds and the diff of two rankings."""

from __future__ import annotations

import pytest
from programme_factory import AS_OF, by_score, candidate, enterprise, facts, later, reviews

from scoring.programme import Candidate, ProgrammeError, default_params, diff_rankings, rank


def _selected(ranking):
    return set(ranking.selected)


def test_r_is_sixty_percent_verified_c_plus_forty_percent_industry_percentile():
    p = enterprise().replace({"review": {"criteria": [], "pass_mark": None}})
    cands = [
        candidate("s80", "silk", "nanhu", 80.0),
        candidate("s70", "silk", "nanhu", 70.0),
        candidate("s60", "silk", "nanhu", 60.0),
        candidate("w50", "wood", "jiashan", 50.0),
    ]
    r = rank(cands, p, AS_OF)
    top = r.entry("s80")
    # PR among the round's silk candidates: 100·(2 below + ½·1 equal)/3 = 83.33…; R = 0.6·80 + 0.4·83.33… = 81.33…
    assert [(c.name, c.value, c.weight) for c in top.components] == [
        ("c_verified", 80.0, 0.6),
        ("industry_percentile", pytest.approx(250 / 3), 0.4),
    ]
    assert top.score == pytest.approx(48 + 100 / 3)
    assert r.entry("s70").score == pytest.approx(42 + 20)  # PR 50
    assert r.entry("s60").score == pytest.approx(36 + 0.4 * 50 / 3)  # PR 16.67
    # The only wood firm has PR 50: R = 30 + 20 = 50, so a less digital industry is not crowded out by C alone.
    assert r.entry("w50").score == pytest.approx(50.0)
    assert [e.application_id for e in r.entries] == ["s80", "s70", "w50", "s60"]
    assert [e.rank for e in r.entries] == [1, 2, 3, 4]


def test_without_minimums_the_best_scores_take_the_seats():
    r = rank([candidate(f"a{i}", "silk", "nanhu", 90.0 - i) for i in range(5)], by_score(3), AS_OF)
    assert r.selected == ("a0", "a1", "a2") and r.seats_filled == 3
    assert [e.reason for e in r.entries] == ["score", "score", "score", "below_cut", "below_cut"]
    assert r.quotas == () and r.notes == ()


def test_one_county_dominating_still_leaves_the_other_county_its_minimum():
    cands = [candidate(f"hn{i}", "silk", "haining", 95.0 - i) for i in range(5)]
    cands.append(candidate("hy", "silk", "haiyan", 60.0))
    r = rank(cands, by_score(4, counties={"haining": 1, "haiyan": 1}), AS_OF)
    assert _selected(r) == {"hn0", "hn1", "hn2", "hy"}
    assert r.entry("hy").reason == "county_minimum" and r.entry("hy").counts_toward == ("county",)
    assert r.entry("hn3").reason == "displaced_by_minimum"  # fourth on score, its seat went to Haiyan
    assert r.entry("hn4").reason == "below_cut"
    haiyan = next(q for q in r.quotas if q.group == "haiyan")
    assert (haiyan.minimum, haiyan.candidates, haiyan.selected, haiyan.met) == (1, 1, 1, True)


def test_an_unmeetable_minimum_is_reported_and_its_seats_go_to_the_general_list():
    cands = [candidate(f"t{i}", "textile", "nanhu", 90.0 - i) for i in range(6)]
    cands.append(candidate("w", "wood", "nanhu", 40.0))
    r = rank(cands, by_score(5, industries={"wood": 3, "leather": 2, "textile": 0}), AS_OF)
    assert _selected(r) == {"t0", "t1", "t2", "t3", "w"}
    assert r.entry("w").reason == "industry_minimum"
    wood = next(q for q in r.quotas if q.group == "wood")
    leather = next(q for q in r.quotas if q.group == "leather")
    assert (wood.selected, wood.shortfall, wood.cause) == (1, 2, "not_enough_candidates")
    assert (leather.candidates, leather.shortfall, leather.cause) == (0, 2, "not_enough_candidates")
    assert r.seats_filled == 5  # the four unfillable minimum seats went to textile by score


def test_minimums_summing_over_the_total_fill_as_many_minimum_seats_as_the_total_allows():
    cands = [
        candidate("x1", "silk", "nanhu", 90.0),
        candidate("x2", "silk", "nanhu", 85.0),
        candidate("x3", "silk", "nanhu", 80.0),
        candidate("y1", "wood", "nanhu", 70.0),
        candidate("y2", "wood", "nanhu", 60.0),
    ]
    r = rank(cands, by_score(3, industries={"silk": 2, "wood": 2}), AS_OF)
    # Three seats can fill 3 of the 4 minimum seats; of the ways to do so, the best-ranked: x1, x2, y1.
    assert r.selected == ("x1", "x2", "y1")
    assert r.entry("x3").reason == "displaced_by_minimum" and r.entry("y1").reason == "industry_minimum"
    wood = next(q for q in r.quotas if q.group == "wood")
    assert (wood.selected, wood.shortfall, wood.cause) == (1, 1, "total_too_small")
    assert [n.key for n in r.notes] == ["industry_minimums_exceed_total", "minimums_not_all_met"]
    assert dict(r.notes[0].params) == {"sum": 4, "total": 3}


def test_one_firm_counts_for_its_industry_and_its_county_when_minimums_interact():
    cands = [
        candidate("a", "silk", "nanhu", 90.0),
        candidate("b", "silk", "nanhu", 80.0),
        candidate("c", "wood", "haiyan", 70.0),
        candidate("d", "wood", "haiyan", 60.0),
        candidate("e", "silk", "haiyan", 50.0),
    ]
    r = rank(cands, by_score(2, industries={"silk": 2}, counties={"haiyan": 2}), AS_OF)
    # {a, e} and {c, e} each fill three of the four minimum seats (no pair fills four); {a, e} ranks better.
    assert r.selected == ("a", "e")
    assert r.entry("e").reason == "industry_and_county_minimum"
    assert r.entry("e").counts_toward == ("industry", "county")
    assert r.entry("b").reason == "displaced_by_minimum"
    haiyan = next(q for q in r.quotas if q.group == "haiyan")
    assert (haiyan.selected, haiyan.shortfall, haiyan.cause) == (1, 1, "total_too_small")


def test_ties_on_r_follow_c_then_the_lowest_dimension_then_submission_then_the_id():
    dims = dict(facts().dimensions)
    p = by_score(2)
    cands = [
        candidate("late", "silk", "nanhu", 75.0, submitted_at=later(30)),
        candidate("early", "silk", "nanhu", 75.0, submitted_at=later(10)),
        candidate("weak", "silk", "nanhu", 75.0, dimensions=dict(dims, data=45.0), submitted_at=later(0)),
        candidate("noise", "silk", "nanhu", 75.00000000000001, submitted_at=later(30)),  # equal to 1e-9
    ]
    r = rank(cands, p, AS_OF)
    assert [e.application_id for e in r.entries] == ["early", "late", "noise", "weak"]
    assert r.selected == ("early", "late")
    assert r.entry("early").tie_broken_by is None
    late = r.entry("late").tie_broken_by
    assert (late.key, late.other_application) == ("submitted_at", "early")
    assert r.entry("noise").tie_broken_by.key == "application_id"  # same R (to 1e-9), C, dimension and time
    weak = r.entry("weak").tie_broken_by
    assert (weak.key, weak.value, weak.other_value) == ("min_dimension", 45.0, 65.0)


def test_empty_input():
    r = rank([], enterprise(), AS_OF)
    assert r.entries == () and r.seats_filled == 0 and r.selected == ()
    assert len(r.quotas) == 14 and all(q.cause == "not_enough_candidates" and q.shortfall == 5 for q in r.quotas)
    assert [n.key for n in r.notes] == ["seats_unfilled"]


def test_unranked_entries_carry_their_reason_and_failed_rules():
    p = enterprise()
    good = reviews(p, 0.8, 0.75)
    cands = [
        candidate("ok", "silk", "nanhu", 80.0, reviews=good),
        candidate("young", "silk", "nanhu", 99.0, maturity=55.0, reviews=good),
        candidate("gone", "silk", "nanhu", 99.0, excluded="withdrawn", reviews=good),
        candidate("split", "silk", "nanhu", 99.0, reviews=reviews(p, 0.9, 0.7)),  # 90 vs 70: third review needed
        candidate("weak", "silk", "nanhu", 99.0, reviews=reviews(p, 0.5, 0.55)),  # 52.5 < pass mark 60
        candidate("noc", "silk", "nanhu", 99.0, composite=None, reviews=good),
    ]
    r = rank(cands, p, AS_OF)
    assert r.selected == ("ok",)
    reasons = {e.application_id: (e.status, e.reason) for e in r.entries}
    assert reasons == {
        "ok": ("selected", "score"),
        "gone": ("not_ranked", "excluded"),
        "noc": ("not_ranked", "score_missing"),
        "split": ("not_ranked", "review_incomplete"),
        "weak": ("not_ranked", "below_pass_mark"),
        "young": ("not_ranked", "ineligible"),
    }
    young = r.entry("young")
    assert not young.eligible and [(f.rule, f.value, f.required) for f in young.failed_rules] == [
        ("min_maturity", 55.0, 60)
    ]
    assert r.entry("split").expert.status == "needs_third_review"
    assert r.entry("ok").expert.final == pytest.approx(77.5)


def test_a_project_round_ranks_by_the_final_rubric_score_with_the_same_quotas():
    p = default_params("project").replace({"quotas": {"total": 2, "industry_minimum": 0, "county_minimum": 0}})
    cands = [
        Candidate("p1", "silk", "nanhu", facts(basis="self"), reviews=reviews(p, 0.7, 0.8)),  # 75
        Candidate("p2", "wood", "nanhu", facts(basis="self"), reviews=reviews(p, 0.9, 0.6, 0.85)),  # median 85
        Candidate("p3", "wood", "nanhu", facts(basis="self"), reviews=reviews(p, 0.7, 0.8)),  # 75, later
    ]
    r = rank(cands, p, AS_OF)
    assert r.selected == ("p2", "p1")
    assert r.entry("p2").score == pytest.approx(85.0) and r.entry("p2").expert.rule == "median_of_three"
    assert [c.name for c in r.entry("p1").components] == ["expert"]
    assert r.entry("p3").tie_broken_by.key == "application_id"  # same score, same KPI points, same time


def test_the_result_does_not_depend_on_input_order_and_ids_must_be_unique():
    cands = [candidate(f"a{i}", "silk" if i % 2 else "wood", "nanhu", 50.0 + (i * 7) % 13) for i in range(12)]
    p = by_score(5, industries={"wood": 3})
    assert rank(cands, p, AS_OF) == rank(list(reversed(cands)), p, AS_OF)
    with pytest.raises(ProgrammeError) as err:
        rank([*cands, cands[0]], p, AS_OF)
    assert err.value.keys == ("duplicate_application",)


def test_diff_lists_who_enters_and_leaves_and_why():
    cands = [candidate(f"hn{i}", "silk", "haining", 95.0 - i) for i in range(4)]
    cands += [candidate("hy1", "silk", "haiyan", 60.0), candidate("hy2", "silk", "haiyan", 55.0)]
    decided = rank(cands, by_score(3, counties={"haiyan": 1, "haining": 0}), AS_OF)
    preview = rank(cands, by_score(3, counties={"haiyan": 2, "haining": 0}), AS_OF)
    assert decided.selected == ("hn0", "hn1", "hy1") and preview.selected == ("hn0", "hy1", "hy2")
    diff = diff_rankings(decided, preview)
    assert [(c.application_id, c.before_reason, c.after_reason) for c in diff.entered] == [
        ("hy2", "below_cut", "county_minimum")
    ]
    assert [(c.application_id, c.after_reason) for c in diff.left] == [("hn1", "displaced_by_minimum")]
    assert diff.changed == ()  # hy1 stays in for the minimum, hn2 stays displaced, hn3 stays below the cut
    assert diff_rankings(decided, decided).entered == diff_rankings(decided, decided).changed == ()


def test_a_stored_verdict_is_used_only_while_it_fits_the_reviews_and_the_rules():
    from dataclasses import replace

    from scoring.programme import is_current, project_score

    p = enterprise()
    revs = reviews(p, 0.8, 0.75)
    verdict = project_score(revs, p)
    assert is_current(verdict, revs, p) and is_current(verdict, tuple(reversed(revs)), p)
    # A marked stored verdict shows whether rank reused it or recomputed from the reviews.
    marked = replace(verdict, final=99.0)
    used = rank([candidate("a", "silk", "nanhu", 80.0, reviews=revs, expert=marked)], p, AS_OF)
    assert used.entry("a").expert.final == 99.0
    stale = reviews(p, 0.8, 0.7)  # a review changed after the verdict was stored
    assert not is_current(marked, stale, p)
    fresh = rank([candidate("a", "silk", "nanhu", 80.0, reviews=stale, expert=marked)], p, AS_OF)
    assert fresh.entry("a").expert.final == pytest.approx(75.0)
    other_rules = p.replace({"review": {"split_threshold": 4}})  # a preview: the 5-point split is now too wide
    assert not is_current(marked, revs, other_rules)
    assert (
        rank([candidate("a", "silk", "nanhu", 80.0, reviews=revs, expert=marked)], other_rules, AS_OF)
        .entry("a")
        .expert.status
        == "needs_third_review"
    )


def test_results_serialise_for_the_decision_record_and_a_stored_verdict_round_trips():
    import json

    from scoring import codec
    from scoring.programme import ProjectScore, project_score

    p = enterprise()
    revs = reviews(p, 0.8, 0.7)
    ranking = rank([candidate("a", "silk", "nanhu", 80.0, reviews=revs)], p, AS_OF)
    record = json.loads(json.dumps(codec.to_dict(ranking)))
    assert record["entries"][0]["reason"] == "score" and record["as_of"] == AS_OF.isoformat()
    verdict = project_score(revs, p)
    assert codec.from_dict(ProjectScore, json.loads(json.dumps(codec.to_dict(verdict)))) == verdict
