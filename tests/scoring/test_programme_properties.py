"""Property tests of the quota ranking: an exhaustive oracle on small rounds, and the rules on larger ones."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from programme_factory import AS_OF, by_score, candidate, enterprise

from scoring.programme import rank

INDUSTRIES, COUNTIES = ("silk", "wood", "garment"), ("nanhu", "haiyan", "pinghu")


@st.composite
def rounds(draw, max_n=8):
    """Draw candidates (integer scores, so ties are common), per-group minimums and a total."""
    n = draw(st.integers(0, max_n))
    rows = [
        (draw(st.sampled_from(INDUSTRIES)), draw(st.sampled_from(COUNTIES)), float(draw(st.integers(60, 70))))
        for _ in range(n)
    ]
    cands = [candidate(f"a{i:02d}", ind, cty, score) for i, (ind, cty, score) in enumerate(rows)]
    total = draw(st.integers(1, max_n))
    industries = {g: draw(st.integers(0, min(3, total))) for g in INDUSTRIES}  # one minimum ≤ total (validated)
    counties = {g: draw(st.integers(0, min(3, total))) for g in COUNTIES}
    return cands, by_score(total, industries, counties)


def _coverage(chosen, params):
    rows = Counter(c.industry for c in chosen)
    cols = Counter(c.county for c in chosen)
    q = params.quotas
    return sum(min(rows[g], q.minimum("industry", g)) for g in INDUSTRIES) + sum(
        min(cols[g], q.minimum("county", g)) for g in COUNTIES
    )


@settings(max_examples=300, deadline=None)
@given(rounds())
def test_the_selection_is_the_best_ranked_of_those_filling_the_most_minimum_seats(data):
    """Exhaustive oracle: over every subset of min(total, n) candidates, the most minimum seats, then best ranks."""
    cands, params = data
    result = rank(cands, params, AS_OF)
    order = [next(c for c in cands if c.application_id == e.application_id) for e in result.entries]
    k = min(params.quotas.total, len(order))
    best = min(
        itertools.combinations(range(len(order)), k),
        key=lambda combo: (-_coverage([order[i] for i in combo], params), combo),
    )
    assert set(result.selected) == {order[i].application_id for i in best}
    # Every minimum is met whenever some selection meets them all.
    wanted = sum(min(q.minimum, q.candidates) for q in result.quotas)
    if _coverage([order[i] for i in best], params) == wanted:
        assert all(q.met or q.cause == "not_enough_candidates" for q in result.quotas)


@st.composite
def big_rounds(draw):
    seed, n = draw(st.integers(0, 10**6)), draw(st.integers(0, 60))
    rng = random.Random(seed)
    cands = [
        candidate(f"a{i:03d}", rng.choice(INDUSTRIES), rng.choice(COUNTIES), float(rng.randint(50, 90)))
        for i in range(n)
    ]
    total = draw(st.integers(1, 40))
    industries = {g: rng.randint(0, min(6, total)) for g in INDUSTRIES}
    counties = {g: rng.randint(0, min(6, total)) for g in COUNTIES}
    return cands, by_score(total, industries, counties), rng


@settings(max_examples=150, deadline=None)
@given(big_rounds())
def test_never_more_than_the_total_and_every_minimum_met_when_the_groups_best_fit(data):
    cands, params, _ = data
    result = rank(cands, params, AS_OF)
    total = params.quotas.total
    assert result.seats_filled == len(result.selected) == min(total, len(cands)) <= total
    # A selection meeting every minimum exists when each group's best m candidates together fit in the total.
    order = [e.application_id for e in result.entries]
    by_id = {c.application_id: c for c in cands}
    union = set()
    for q in result.quotas:
        members = [a for a in order if getattr(by_id[a], q.family) == q.group]
        union.update(members[: q.minimum])
    if len(union) <= total:
        assert all(q.met or q.cause == "not_enough_candidates" for q in result.quotas)
        assert all(q.selected == q.candidates for q in result.quotas if q.cause == "not_enough_candidates")
    # Reasons agree with the cut: outside the first `total` by rank, a seat is only ever a minimum seat.
    for e in result.entries:
        if e.status == "selected" and e.rank > total:
            assert e.reason.endswith("_minimum") and e.counts_toward
        if e.reason == "displaced_by_minimum":
            assert e.rank <= total


@settings(max_examples=100, deadline=None)
@given(big_rounds())
def test_the_result_is_independent_of_input_order(data):
    cands, params, rng = data
    shuffled = list(cands)
    rng.shuffle(shuffled)
    assert rank(shuffled, params, AS_OF) == rank(cands, params, AS_OF)


@settings(max_examples=150, deadline=None)
@given(big_rounds(), st.integers(0, 59), st.integers(1, 30))
def test_raising_a_selected_candidates_score_never_removes_them(data, pick, raise_by):
    """Holds exactly: with R = C, a higher score only moves the candidate up, others keep their order."""
    cands, params, _ = data
    if not cands:
        return
    before = rank(cands, params, AS_OF)
    if not before.selected:
        return
    target = before.selected[pick % len(before.selected)]
    raised = [
        candidate(c.application_id, c.industry, c.county, c.facts.composite + raise_by)
        if c.application_id == target
        else c
        for c in cands
    ]
    assert target in rank(raised, params, AS_OF).selected


@settings(max_examples=150, deadline=None)
@given(big_rounds(), st.integers(0, 59), st.integers(1, 30))
def test_raising_verified_c_with_the_industry_percentile_never_removes_them(data, pick, raise_by):
    """With the default R = 0.6·C + 0.4·PR (PR among the round's industry peers), raising C lowers some peers' PR."""
    cands, small, _ = data
    params = enterprise().replace({"quotas": small.to_dict()["quotas"], "review": {"criteria": [], "pass_mark": None}})
    before = rank(cands, params, AS_OF)
    if not before.selected:
        return
    target = before.selected[pick % len(before.selected)]
    raised = [
        candidate(c.application_id, c.industry, c.county, c.facts.composite + raise_by)
        if c.application_id == target
        else c
        for c in cands
    ]
    assert target in rank(raised, params, AS_OF).selected


@st.composite
def any_facts(draw):
    """Draw facts around every default threshold, with missing values, for the checklist/fast-path agreement."""
    from datetime import date as _date

    from programme_factory import DIMS, facts

    near = st.one_of(st.none(), st.sampled_from([0.0, 39.0, 40.0, 59.9999999999, 60.0, 69.0, 70.0, 10.0, 10.5, 95.0]))

    def around(good):  # mostly passing, so that a single failing or missing value is often the only one
        return st.one_of(st.just(good), st.just(good), near)

    dims = {d: draw(around(65.0)) for d in draw(st.lists(st.sampled_from(DIMS), max_size=3, unique=True))}
    return facts(
        basis=draw(st.sampled_from([None, "self", "verified", "verified"])),
        snapshot_on=draw(
            st.one_of(st.just(_date(2026, 3, 1)), st.none(), st.dates(_date(2025, 6, 1), _date(2026, 7, 2)))
        ),
        maturity=draw(around(72.0)),
        composite=draw(near),
        dimensions=dims or draw(st.sampled_from([{}, dict.fromkeys(DIMS, 65.0)])),
        confidence=draw(around(80.0)),
        evidence_coverage=draw(around(85.0)),
        trust_gap=draw(st.one_of(around(3.0), st.just(-3.0))),
        consents=frozenset(draw(st.lists(st.sampled_from(["share_with_bureau", "publish_results"]), unique=True))),
    )


@settings(max_examples=400, deadline=None)
@given(any_facts(), st.sampled_from(["enterprise", "project"]))
def test_the_fast_eligibility_check_agrees_with_the_checklist(f, kind):
    from scoring.programme import check_eligibility, default_params
    from scoring.programme.eligibility import passes_all

    params = default_params(kind)
    full = check_eligibility(f, params, AS_OF)
    short = check_eligibility(f, params, AS_OF, failures_only=True)
    assert passes_all(f, params.eligibility, AS_OF) == full.eligible == short.eligible
    assert short.rules == full.failed


@given(st.lists(st.integers(0, 10).map(float), min_size=1, max_size=20), st.integers(0, 10).map(float))
def test_the_rounds_percentile_is_the_benchmarks(values, value):
    from scoring.benchmark import percentile_rank
    from scoring.programme.selection import _percentile

    ascending = sorted([*values, value])
    assert _percentile(ascending, value) == pytest.approx(percentile_rank(ascending, value))
