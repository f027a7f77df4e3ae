"""Property tests of the benchmark statistics: bounds and monotonicity of ranks and quantiles, cohort invariants."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import BenchmarkParams, Peer, all_cohort_stats, histogram, percentile_rank, position, quantile

SETTINGS = settings(max_examples=200, deadline=None)
PARAMS = BenchmarkParams(
    min_n=10, window_months=24, suppress_k=5, quantiles={"p25": 25, "p50": 50, "p75": 75, "p90": 90}, bins=10
)
# Scores in [0, 100], with round values often, so that ties and the bin edges 0 and 100 come up.
SCORE = st.one_of(st.sampled_from([0.0, 10.0, 50.0, 90.0, 100.0]), st.floats(0, 100, allow_nan=False))
SCORES = st.lists(SCORE, max_size=40)


@SETTINGS
@given(values=SCORES, a=SCORE, b=SCORE, included=st.booleans())
def test_percentile_rank_is_bounded_and_monotone(values, a, b, included):
    ordered = sorted(values)
    low, high = sorted((a, b))
    if included:  # the firm is one of the values
        ordered = sorted([*values, low])
    r_low = percentile_rank(ordered, low, included)
    if not ordered and included:
        assert r_low is None
        return
    assert r_low is not None and 0 <= r_low <= 100
    r_high = percentile_rank(ordered, high, included)
    assert r_high is not None and 0 <= r_high <= 100
    assert r_low <= r_high
    if included and low < high and high in ordered:
        assert r_low < r_high  # strictly higher when both scores belong to cohort members


@SETTINGS
@given(values=SCORES)
def test_quantiles_are_monotone_and_within_the_range(values):
    ordered = sorted(values)
    quartet = [quantile(ordered, level) for level in (25, 50, 75, 90)]
    if not ordered:
        assert quartet == [None] * 4
        return
    p25, p50, p75, p90 = quartet
    assert ordered[0] <= p25 <= p50 <= p75 <= p90 <= ordered[-1]
    if len(ordered) >= 2:  # Python's "inclusive" method is the same type-7 definition
        cuts = statistics.quantiles(ordered, n=4, method="inclusive")
        assert [p25, p50, p75] == pytest.approx(cuts, abs=1e-9)
    assert sum(histogram(ordered, PARAMS.bins)) == len(ordered)


@SETTINGS
@given(level_a=st.floats(0, 100), level_b=st.floats(0, 100), values=SCORES.filter(bool))
def test_quantile_is_monotone_in_the_level(level_a, level_b, values):
    ordered = sorted(values)
    low, high = sorted((level_a, level_b))
    assert ordered[0] <= quantile(ordered, low) <= quantile(ordered, high) <= ordered[-1]


PEER = st.builds(
    lambda industry, county, size, composite, d1: (industry, county, size, composite, d1),
    st.sampled_from(["knit", "bags"]),
    st.sampled_from(["nanhu", "pinghu", "haining"]),
    st.sampled_from(["micro", "small"]),
    st.one_of(st.none(), SCORE),
    st.one_of(st.none(), SCORE),
)


@SETTINGS
@given(rows=st.lists(PEER, max_size=40), min_n=st.integers(1, 12))
def test_every_firm_gets_a_labelled_bounded_position(rows, min_n):
    params = BenchmarkParams(min_n=min_n, window_months=24, suppress_k=5, quantiles=PARAMS.quantiles, bins=10)
    peers = [Peer(f"f{i}", *row[:3], row[3], row[3], {"D1": row[4]}) for i, row in enumerate(rows)]
    stats = all_cohort_stats(peers, ["D1"], params)
    for peer in peers:
        pos = position(peer, stats)
        assert pos.cohort.sufficient == (pos.cohort.n >= min_n)
        assert pos.cohort.sufficient or pos.cohort.key == "city"
        for metric in pos.metrics.values():
            assert metric.n <= pos.cohort.n
            if metric.percentile_rank is not None:
                assert 0 < metric.percentile_rank <= 100  # the firm itself is counted, so never 0
            values = [v for v in metric.quantiles.values() if v is not None]
            assert values == sorted(values)
