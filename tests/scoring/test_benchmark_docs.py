"""The benchmarking section of docs/scoring.md stays true: its parameters and worked example are checked here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring import BenchmarkParams, Cell, Cohort, Peer, all_cohort_stats, position, select_cohort, suppress

DOC = (Path(__file__).resolve().parents[2] / "docs" / "scoring.md").read_text(encoding="utf-8")


def _block(marker: str) -> Any:
    """Return the parsed YAML block whose first line is ``# <marker>``."""
    found = re.findall(r"```yaml\n(# " + re.escape(marker) + r"\n.*?)```", DOC, flags=re.S)
    assert len(found) == 1, marker
    return yaml.safe_load(found[0])


PARAMS = BenchmarkParams(**_block("benchmark-params"))
EXAMPLE = _block("benchmark-example")
EXPECTED = _block("benchmark-example-output")
PEERS = [
    Peer(key, industry, county, size, composite, None, {"D4": d4})
    for key, (industry, county, size, composite, d4) in EXAMPLE["peers"].items()
]
FIRM = next(p for p in PEERS if p.peer_key == EXAMPLE["firm"])


def test_recommended_parameters():
    assert (PARAMS.min_n, PARAMS.window_months, PARAMS.suppress_k, PARAMS.bins) == (10, 24, 5, 10)
    assert PARAMS.quantiles == {"p25": 25, "p50": 50, "p75": 75, "p90": 90}


def test_worked_example_cohort():
    want = Cohort(**EXPECTED["cohort"])
    assert select_cohort(FIRM, PEERS, PARAMS.min_n) == want
    assert position(FIRM, all_cohort_stats(PEERS, ["D4"], PARAMS)).cohort == want


@pytest.mark.parametrize("metric", ["composite", "D4", "maturity"])
def test_worked_example_numbers(metric):
    want = EXPECTED[metric]
    stats = all_cohort_stats(PEERS, ["D4"], PARAMS)
    pos = position(FIRM, stats).metrics[metric]
    ms = stats[Cohort(**EXPECTED["cohort"]).id].metrics[metric]
    assert pos.n == ms.n == want["n"]
    got = {"percentile_rank": pos.percentile_rank, "mean": ms.mean, **pos.quantiles}
    for key, value in got.items():
        assert value == (None if want[key] is None else pytest.approx(want[key], abs=0.005)), key
    assert list(ms.histogram) == want["histogram"]


def test_worked_example_heatmap():
    stats = all_cohort_stats(PEERS, ["D4"], PARAMS)
    cells = {
        cid: Cell(cs.metrics["composite"].mean, cs.metrics["composite"].n)
        for cid, cs in stats.items()
        if cs.cohort.key == "industry+county"
    }
    shown = {cid: "suppressed" if c.suppressed else c.value for cid, c in suppress(cells, PARAMS.suppress_k).items()}
    want = {cid: v if v == "suppressed" else pytest.approx(v) for cid, v in EXPECTED["heatmap"].items()}
    assert shown == want
