"""Cohort fallback, positions, peer selection by window and version, persistence, speed and purity of benchmarking."""

from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from scoring import (
    LEVELS,
    AssessmentInput,
    BenchmarkParams,
    Cohort,
    CohortStats,
    Peer,
    PeerRecord,
    all_cohort_stats,
    latest_per_firm,
    percentile_rank,
    position,
    quantile,
    score_assessment,
    select_cohort,
    window_start,
)

ROOT = Path(__file__).resolve().parents[2]
PARAMS = BenchmarkParams(
    min_n=10, window_months=24, suppress_k=5, quantiles={"p25": 25, "p50": 50, "p75": 75, "p90": 90}, bins=10
)
DIMS = [f"D{i}" for i in range(1, 9)]


def population(counts: dict[tuple[str, str, str], int]) -> list[Peer]:
    """Return peers with the given number per (industry, county, size); scores are 1, 2, 3, … in order."""
    peers, i = [], 0
    for (industry, county, size), n in counts.items():
        for _ in range(n):
            i += 1
            peers.append(Peer(f"p{i:03}", industry, county, size, float(i), float(i), {"D1": float(i)}))
    return peers


FIRM = Peer("firm", "knit", "nanhu", "small", 50.0, 50.0, {"D1": 50.0})


@pytest.mark.parametrize(
    ("counts", "key", "n"),
    [
        # the firm's own industry×county×size cell holds 9 others + the firm = 10: it stays
        ({("knit", "nanhu", "small"): 9}, "industry+county+size", 10),
        # 8 + firm = 9: falls back to industry×county (9 + 1 medium = 10)
        ({("knit", "nanhu", "small"): 8, ("knit", "nanhu", "medium"): 1}, "industry+county", 10),
        # industry×county has 9: falls back to industry×size
        ({("knit", "nanhu", "small"): 8, ("knit", "pinghu", "small"): 5}, "industry+size", 14),
        ({("knit", "nanhu", "small"): 3, ("knit", "pinghu", "medium"): 6}, "industry", 10),
        ({("knit", "nanhu", "small"): 3, ("bags", "nanhu", "small"): 20}, "city", 24),
        # even the city is below min_n: the city cohort, marked insufficient
        ({("knit", "nanhu", "small"): 3, ("bags", "nanhu", "small"): 2}, "city", 6),
    ],
)
def test_fallback_chain(counts, key, n):
    peers = [FIRM, *population(counts)]
    cohort = select_cohort(FIRM, peers, PARAMS.min_n)
    assert (cohort.key, cohort.n, cohort.sufficient) == (key, n, n >= PARAMS.min_n)
    filters = {"industry": "knit", "county": "nanhu", "size_class": "small"}
    for attr, value in filters.items():
        kept = key != "city" and (attr == "industry" or attr.split("_")[0] in key)
        assert getattr(cohort, attr) == (value if kept else None)
    # the precomputed table resolves the same cohort, and every statistic carries it
    pos = position(FIRM, all_cohort_stats(peers, ["D1"], PARAMS))
    assert pos.cohort == cohort
    assert all(m.n == n for m in pos.metrics.values())


def test_cohort_ids_and_levels():
    assert LEVELS == ("industry+county+size", "industry+county", "industry+size", "industry", "city")
    assert Cohort("industry+size", "knit", None, "small", 12, True).id == "industry+size|knit|small"
    assert Cohort("city", None, None, None, 3, False).id == "city"
    stats = all_cohort_stats([FIRM], ["D1"], PARAMS)
    assert sorted(stats) == sorted(
        ["industry+county+size|knit|nanhu|small", "industry+county|knit|nanhu", "industry+size|knit|small"]
        + ["industry|knit", "city"]
    )
    assert all(cid == cs.cohort.id and not cs.cohort.sufficient for cid, cs in stats.items())


def test_position_ranks_and_quantiles():
    # 10 firms in one cell, scores 10, 20, …, 100; the firm is the one at 50 (D1 missing for one other firm).
    peers = [
        Peer(f"f{i}", "knit", "nanhu", "small", 10.0 * i, 10.0 * i, {"D1": None if i == 3 else 10.0 * i})
        for i in range(1, 11)
    ]
    pos = position(peers[4], all_cohort_stats(peers, ["D1"], PARAMS))
    assert (pos.peer_key, pos.cohort.key, pos.cohort.n) == ("f5", "industry+county+size", 10)
    comp = pos.metrics["composite"]
    assert (comp.score, comp.percentile_rank, comp.n) == (50.0, 45.0, 10)
    assert list(comp.quantiles.values()) == pytest.approx([32.5, 55, 77.5, 91])
    d1 = pos.metrics["D1"]  # 9 values: 10, 20, 40, …, 100; below 50: 3
    assert (d1.n, d1.percentile_rank) == (9, pytest.approx(100 * 3.5 / 9))
    assert d1.quantiles["p90"] == pytest.approx(quantile([10, 20, 40, 50, 60, 70, 80, 90, 100], 90))
    assert pos.quantile("p90", ["D1", "D9"]) == {"D1": d1.quantiles["p90"]}
    # a firm without a D1 score gets no rank but still sees the cohort quantiles
    none = position(peers[2], all_cohort_stats(peers, ["D1"], PARAMS)).metrics["D1"]
    assert none.score is None and none.percentile_rank is None and none.quantiles["p50"] is not None


def test_position_of_a_firm_outside_the_stats():
    peers = [Peer(f"f{i}", "knit", "nanhu", "small", 10.0 * i, None, {}) for i in range(1, 11)]
    newcomer = Peer("new", "knit", "nanhu", "small", 20.0, None, {})
    rank = position(newcomer, all_cohort_stats(peers, [], PARAMS), included=False).metrics["composite"]
    assert rank.percentile_rank == pytest.approx(100 * (1 + 0.5 * 2) / 11)
    assert rank.percentile_rank == percentile_rank([10.0 * i for i in range(1, 11)], 20.0, included=False)


def test_position_withholds_statistics_below_min_n():
    peers = [Peer(f"f{i}", "knit", "nanhu", "small", 10.0 * i, 5.0, {"D1": 1.0}) for i in range(1, 10)]
    pos = position(peers[0], all_cohort_stats(peers, ["D1"], PARAMS))
    assert (pos.cohort.key, pos.cohort.n, pos.cohort.sufficient) == ("city", 9, False)
    for metric in pos.metrics.values():
        assert metric.n == 9 and metric.percentile_rank is None
        assert set(metric.quantiles.values()) == {None}
    assert pos.quantile("p90", ["D1"]) == {}
    # no peers at all: an empty city cohort, no statistics, no exception
    empty = position(FIRM, {})
    assert empty.cohort == Cohort("city", None, None, None, 0, False)
    assert set(empty.metrics) == {"composite", "maturity", "D1"}
    assert all(m.percentile_rank is None and m.n == 0 for m in empty.metrics.values())


def test_p90_feeds_the_engine_as_cohort_p90(toy_instrument):
    peers = [
        Peer(f"f{i}", "other", "nanhu", "small", 5.0 * i, 5.0 * i, {"ops": 5.0 * i, "sales": 90 - 5.0 * i})
        for i in range(12)
    ]
    pos = position(peers[0], all_cohort_stats(peers, ["ops", "sales"], PARAMS))
    p90 = pos.quantile("p90", ["ops", "sales"])
    assert p90 == pytest.approx({"ops": 49.5, "sales": 84.5})
    result = score_assessment(toy_instrument, AssessmentInput(industry="other", answers={}, cohort_p90=p90))
    assert result.inputs.cohort_p90 == p90


def test_all_cohort_stats_match_a_brute_force_count():
    rng = random.Random(7)
    peers = [
        Peer(
            f"f{i}",
            rng.choice("ab"),
            rng.choice("xyz"),
            rng.choice(["micro", "small"]),
            rng.choice([None, round(rng.uniform(0, 100), 1)]),
            round(rng.uniform(0, 100)),
            {"D1": rng.choice([None, 0.0, 50.0, 100.0])},
        )
        for i in range(300)
    ]
    stats = all_cohort_stats(peers, ["D1"], PARAMS)
    for cs in stats.values():
        c = cs.cohort
        members = [
            p
            for p in peers
            if all(getattr(c, a) in (None, getattr(p, a)) for a in ("industry", "county", "size_class"))
        ]
        assert c.n == len(members) > 0 and c.sufficient == (c.n >= PARAMS.min_n)
        for metric in ("composite", "maturity", "D1"):
            values = sorted(v for p in members if (v := p.score(metric)) is not None)
            ms = cs.metrics[metric]
            assert ms.values == tuple(values) and ms.cohort == c
            assert ms.quantiles["p75"] == quantile(values, 75)
    for p in peers:
        cohort = select_cohort(p, peers, PARAMS.min_n)
        pos = position(p, stats)
        assert pos.cohort == cohort
        if p.composite is not None and cohort.sufficient:
            assert pos.metrics["composite"].percentile_rank == percentile_rank(
                stats[cohort.id].metrics["composite"].values, p.composite
            )


def test_stats_round_trip_through_json():
    peers = [FIRM, *population({("knit", "nanhu", "small"): 12, ("bags", "pinghu", "medium"): 3})]
    peers.append(Peer("n", "bags", "pinghu", "medium", None, 99.5, {"D1": None}))
    stats = all_cohort_stats(peers, ["D1"], PARAMS)
    stored = json.loads(json.dumps({cid: cs.to_dict() for cid, cs in stats.items()}))
    assert {cid: CohortStats.from_dict(data) for cid, data in stored.items()} == stats
    assert position(FIRM, {cid: CohortStats.from_dict(data) for cid, data in stored.items()}) == position(FIRM, stats)


# --- peer selection: latest per firm, 24-month window, same instrument version ---------------------------------


@pytest.mark.parametrize(
    ("as_of", "months", "start"),
    [
        (date(2026, 5, 15), 24, date(2024, 5, 15)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
        (date(2026, 1, 10), 1, date(2025, 12, 10)),
        (date(2026, 1, 10), 0, date(2026, 1, 10)),
    ],
)
def test_window_start(as_of, months, start):
    assert window_start(as_of, months) == start


def _record(key: str, when: date, version: str = "1.0", composite: float = 50.0, seq: int = 0) -> PeerRecord:
    return PeerRecord(Peer(key, "knit", "nanhu", "small", composite, composite, {}), when, version, seq)


def test_latest_per_firm():
    as_of = date(2026, 5, 15)
    records = [
        _record("a", date(2024, 5, 15), composite=1),  # first day of the window: kept if nothing later
        _record("b", date(2024, 5, 14), composite=2),  # one day too old
        _record("c", date(2025, 1, 1), composite=3),
        _record("c", date(2026, 5, 15), composite=4),  # as_of itself is inside; the latest wins
        _record("c", date(2026, 5, 16), composite=5),  # after as_of: ignored
        _record("d", date(2026, 1, 1), version="0.9", composite=6),  # other version
        _record("d", date(2025, 1, 1), composite=7),
        _record("e", date(2025, 6, 1), composite=8, seq=2),
        _record("e", datetime(2025, 6, 1, 9, 30), composite=9, seq=1),  # same day: the larger sequence wins
    ]
    chosen = latest_per_firm(records, as_of, "1.0", PARAMS.window_months)
    assert [(r.peer.peer_key, r.peer.composite) for r in chosen] == [("a", 1), ("c", 4), ("d", 7), ("e", 8)]
    assert latest_per_firm([], as_of, "1.0", 24) == ()


# --- speed and purity -----------------------------------------------------------------------------------------


def synthetic_peers(n: int, seed: int = 20) -> list[Peer]:
    """Return ``n`` random peers over 12 industries, 7 counties and 4 size classes, a few scores missing."""
    rng = random.Random(seed)
    industries, counties = [f"i{k}" for k in range(12)], [f"c{k}" for k in range(7)]
    sizes = ["micro", "small", "medium", "large"]

    def score() -> float | None:
        return None if rng.random() < 0.02 else round(rng.uniform(0, 100), 2)

    return [
        Peer(f"f{k}", rng.choice(industries), rng.choice(counties), rng.choice(sizes), score(), score(),
             {d: score() for d in DIMS})
        for k in range(n)
    ]  # fmt: skip


def test_all_cohort_stats_over_20000_peers_is_fast():
    peers = synthetic_peers(20_000)
    start = time.perf_counter()
    stats = all_cohort_stats(peers, DIMS, PARAMS)
    elapsed = time.perf_counter() - start
    assert elapsed < 5, f"cohort_recompute_20k_s = {elapsed:.2f}"
    assert stats["city"].cohort.n == 20_000 and len(stats["city"].metrics) == 10
    assert sum(cs.cohort.n for cs in stats.values() if cs.cohort.key == "industry+county+size") == 20_000


def test_benchmark_module_imports_only_the_standard_library():
    tree = ast.parse((ROOT / "scoring" / "benchmark.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    allowed = {"__future__", "math", "bisect", "calendar", "collections.abc", "dataclasses", "datetime"}
    assert imported <= allowed | {"itertools", "statistics", "typing", "scoring.errors", "scoring.tolerance"}
    code = (
        "import sys, scoring.benchmark; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'sqlalchemy', 'werkzeug', 'saas', 'wtforms'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
