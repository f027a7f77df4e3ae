"""Benchmark statistics by hand: percentile ranks, type-7 quantiles, histograms, None handling, suppression."""

from __future__ import annotations

import math
import statistics

import pytest

from scoring import (
    BenchmarkError,
    BenchmarkParams,
    Cell,
    Peer,
    ScoringError,
    all_cohort_stats,
    histogram,
    percentile_rank,
    quantile,
    suppress,
)

PARAMS = BenchmarkParams(
    min_n=10, window_months=24, suppress_k=5, quantiles={"p25": 25, "p50": 50, "p75": 75, "p90": 90}, bins=10
)
LEVELS = (25, 50, 75, 90)


def quartet(values: list[float]) -> list[float | None]:
    """Return P25, P50, P75 and P90 of ``values``."""
    ordered = sorted(values)
    return [quantile(ordered, level) for level in LEVELS]


# --- percentile rank: 100·(below + ½·equal)/n, the firm counted in -------------------------------------------------


def test_percentile_rank_formula_with_ties():
    values = [1, 2, 2, 2, 9]
    assert percentile_rank(values, 1) == pytest.approx(100 * (0 + 0.5 * 1) / 5)  # 10
    assert percentile_rank(values, 2) == pytest.approx(100 * (1 + 0.5 * 3) / 5)  # 50
    assert percentile_rank(values, 9) == pytest.approx(100 * (4 + 0.5 * 1) / 5)  # 90


def test_percentile_rank_n1_is_50_and_empty_is_none():
    assert percentile_rank([73.5], 73.5) == 50
    assert percentile_rank([], 10) is None
    assert percentile_rank([], 10, included=False) == 50  # the firm alone


def test_percentile_rank_all_equal_is_50():
    assert percentile_rank([40, 40, 40, 40], 40) == 50


def test_percentile_rank_n10_distinct():
    values = [10 * i for i in range(1, 11)]
    assert [percentile_rank(values, v) for v in values] == pytest.approx([5 + 10 * i for i in range(10)])


def test_percentile_rank_firm_not_included_is_counted_in():
    # Cohort 10, 20, 30 without the firm; the firm scores 20: n = 4, below = 1, equal = 2 -> 100·2/4.
    assert percentile_rank([10, 20, 30], 20, included=False) == 50
    # Firm scores 35, above everyone: n = 4, below = 3, equal = 1 -> 87.5.
    assert percentile_rank([10, 20, 30], 35, included=False) == 87.5


# --- quantiles: linear interpolation between closest ranks (type 7) ----------------------------------------------


def test_quantiles_n10_hand_computed():
    # h = 9·p: P25 h=2.25 -> 30 + .25·10; P50 h=4.5 -> 50 + .5·10; P75 h=6.75 -> 70 + .75·10; P90 h=8.1 -> 90 + .1·10
    assert quartet([10 * i for i in range(1, 11)]) == pytest.approx([32.5, 55, 77.5, 91])


def test_quantiles_with_ties():
    # [1, 2, 2, 2, 9]: h = 4·p -> 1, 2, 3, 3.6; P90 = 2 + .6·(9 − 2)
    assert quartet([9, 2, 1, 2, 2]) == pytest.approx([2, 2, 2, 6.2])


def test_quantiles_n1_and_n2_and_empty():
    assert quartet([42.0]) == [42.0] * 4
    assert quartet([0, 100]) == pytest.approx([25, 50, 75, 90])
    assert quartet([]) == [None] * 4


def test_quantiles_match_python_statistics_inclusive():
    values = sorted([3.5, 17, 17, 22.25, 40, 41, 66.6, 70, 88, 99.9, 12])
    cuts = statistics.quantiles(values, n=100, method="inclusive")  # type 7, numpy's default
    for level in (*LEVELS, 1, 99):
        assert quantile(values, level) == pytest.approx(cuts[level - 1])
    assert quantile(values, 0) == values[0] and quantile(values, 100) == values[-1]


# --- histograms: bins [0,10), [10,20), …, [90,100] -----------------------------------------------------------------


def test_histogram_edges_0_and_100():
    values = sorted([0, 9.99, 10, 50, 89.999, 90, 99.99, 100])
    assert histogram(values, 10) == (2, 1, 0, 0, 0, 1, 0, 0, 1, 3)
    assert histogram([100.0], 10) == (0,) * 9 + (1,)
    assert histogram([0.0], 10) == (1,) + (0,) * 9
    assert histogram([], 10) == (0,) * 10
    assert histogram([0, 25, 50, 100], 4) == (1, 1, 1, 1)


# --- statistics over peers: None handling, empty cohorts, mean -----------------------------------------------------


def _peer(key: str, composite: float | None, d1: float | None, maturity: float | None = 50.0) -> Peer:
    return Peer(key, "knit", "nanhu", "small", composite, maturity, {"D1": d1})


def test_none_scores_are_left_out_of_that_metric_only():
    peers = [_peer("a", 10, None), _peer("b", 20, 60), _peer("c", None, 80), _peer("d", 40, None)]
    city = all_cohort_stats(peers, ["D1"], PARAMS)["city"]
    assert city.cohort.n == 4
    comp, d1 = city.metrics["composite"], city.metrics["D1"]
    assert (comp.n, comp.values, comp.mean, comp.minimum, comp.maximum) == (3, (10, 20, 40), 70 / 3, 10, 40)
    assert (d1.n, d1.values) == (2, (60, 80))
    assert d1.quantiles == pytest.approx({"p25": 65, "p50": 70, "p75": 75, "p90": 78})
    assert sum(d1.histogram) == 2 and d1.histogram[6] == d1.histogram[8] == 1


def test_empty_metric_gives_none_values_not_errors():
    peers = [_peer("a", 10, None, maturity=None), _peer("b", 20, None, maturity=None)]
    stats = all_cohort_stats(peers, ["D1", "D2"], PARAMS)
    for metric in ("maturity", "D1", "D2"):
        ms = stats["city"].metrics[metric]
        assert (ms.n, ms.mean, ms.minimum, ms.maximum, ms.values) == (0, None, None, None, ())
        assert ms.quantiles == {"p25": None, "p50": None, "p75": None, "p90": None}
        assert ms.histogram == (0,) * 10
    assert all_cohort_stats([], ["D1"], PARAMS) == {}


def test_n10_cohort_statistics():
    peers = [_peer(f"f{i:02}", 10.0 * i, 100 - 10.0 * i) for i in range(1, 11)]
    comp = all_cohort_stats(peers, ["D1"], PARAMS)["industry+county+size|knit|nanhu|small"].metrics["composite"]
    assert comp.cohort.sufficient and comp.cohort.n == comp.n == 10
    assert list(comp.quantiles.values()) == pytest.approx([32.5, 55, 77.5, 91])
    assert comp.mean == pytest.approx(55) and comp.histogram == (0,) + (1,) * 8 + (2,)


# --- suppression ----------------------------------------------------------------------------------------------------


def test_suppress_blanks_cells_below_k():
    cells = {("nanhu", "knit"): Cell(61.2, 4), ("nanhu", "bags"): Cell(55.0, 5), ("pinghu", "knit"): Cell(70.0, 0)}
    out = suppress(cells, k=PARAMS.suppress_k)
    assert out == {
        ("nanhu", "knit"): Cell(None, 4, suppressed=True),
        ("nanhu", "bags"): Cell(55.0, 5),  # n == k is shown
        ("pinghu", "knit"): Cell(None, 0, suppressed=True),
    }
    assert cells[("nanhu", "knit")] == Cell(61.2, 4)  # pure: the input is untouched
    assert suppress({}, 5) == {}
    assert suppress({"x": Cell(1.0, 1)}, k=1) == {"x": Cell(1.0, 1)}


# --- validation -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"min_n": 0}, {"suppress_k": 0}, {"bins": 0}, {"window_months": -1}, {"quantiles": {}}, {"quantiles": {"p": 101}}],
)
def test_bad_params_are_rejected(change):
    data = {"min_n": 10, "window_months": 24, "suppress_k": 5, "quantiles": {"p50": 50}, "bins": 10, **change}
    with pytest.raises(BenchmarkError):
        BenchmarkParams(**data)


def test_params_keep_quantiles_in_level_order():
    params = BenchmarkParams(min_n=1, window_months=0, suppress_k=1, quantiles={"p90": 90, "p10": 10}, bins=1)
    assert list(params.quantiles) == ["p10", "p90"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"composite": 100.5},
        {"maturity": -0.1},
        {"composite": math.nan},
        {"dimensions": {"D1": 101}},
        {"dimensions": {"composite": 50}},
        {"county": "nan|hu"},
        {"peer_key": ""},
    ],
)
def test_bad_peers_are_rejected(kwargs):
    data = {"peer_key": "a", "industry": "knit", "county": "nanhu", "size_class": "small", "composite": 50.0}
    data.update({"maturity": 50.0, **kwargs})
    with pytest.raises(BenchmarkError) as info:
        Peer(**data)
    assert isinstance(info.value, ScoringError) and isinstance(info.value, ValueError)


def test_a_firm_given_twice_is_rejected():
    with pytest.raises(BenchmarkError, match="twice"):
        all_cohort_stats([_peer("a", 1, 1), _peer("a", 2, 2)], ["D1"], PARAMS)
