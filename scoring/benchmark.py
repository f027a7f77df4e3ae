"""Benchmark firms against peer cohorts: cohort fallback, percentile ranks, quantiles, histograms and suppression.

Pure statistics over plain numbers (docs/scoring.md, "Benchmarking and cohorts"); every design choice (minimum n,
window, k, quantile levels, bins) arrives as ``BenchmarkParams`` data.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from calendar import monthrange
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from itertools import pairwise
from statistics import fmean
from typing import Any

from scoring.errors import ScoringError
from scoring.tolerance import TOL

# Fallback chain: each level names the peer attributes a cohort must share with the firm.
_FILTERS: dict[str, tuple[str, ...]] = {
    "industry+county+size": ("industry", "county", "size_class"),
    "industry+county": ("industry", "county"),
    "industry+size": ("industry", "size_class"),
    "industry": ("industry",),
    "city": (),
}
LEVELS = tuple(_FILTERS)
TOTALS = ("composite", "maturity")


class BenchmarkError(ScoringError, ValueError):
    """Report unusable benchmark input: bad parameters, scores outside 0–100, bad keys or a firm given twice."""


@dataclass(frozen=True)
class BenchmarkParams:
    """Benchmark design choices: minimum cohort n, window in months, suppression k, quantile levels, bin count."""

    min_n: int
    window_months: int
    suppress_k: int
    quantiles: Mapping[str, float]  # name -> level in percent, e.g. {"p90": 90}; kept in ascending level order
    bins: int  # equal-width histogram bins over 0–100

    def __post_init__(self) -> None:
        if min(self.min_n, self.suppress_k, self.bins) < 1 or self.window_months < 0:
            raise BenchmarkError("min_n, suppress_k and bins must be at least 1, window_months at least 0")
        if not self.quantiles or not all(name and 0 <= q <= 100 for name, q in self.quantiles.items()):
            raise BenchmarkError("quantiles must map names to levels from 0 to 100")
        object.__setattr__(self, "quantiles", dict(sorted(self.quantiles.items(), key=lambda item: item[1])))


@dataclass(frozen=True)
class Peer:
    """One firm's latest scores (0–100, None = not scored) and cohort attributes; ``peer_key`` is an opaque id."""

    peer_key: str
    industry: str
    county: str
    size_class: str
    composite: float | None
    maturity: float | None
    dimensions: Mapping[str, float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for text in (self.peer_key, self.industry, self.county, self.size_class):
            if not isinstance(text, str) or not text or "|" in text:
                raise BenchmarkError(f"peer {self.peer_key!r}: keys and attributes must be non-empty text without '|'")
        if set(self.dimensions) & set(TOTALS):
            raise BenchmarkError(f"peer {self.peer_key!r}: a dimension may not be called {' or '.join(TOTALS)}")
        for name in (*TOTALS, *self.dimensions):
            value = self.score(name)
            if value is not None and not 0 <= value <= 100:  # also rejects NaN
                raise BenchmarkError(f"peer {self.peer_key!r}: {name} = {value} is outside 0–100")

    def score(self, metric: str) -> float | None:
        """Return the score of ``metric`` ("composite", "maturity" or a dimension id); None if not scored."""
        return getattr(self, metric) if metric in TOTALS else self.dimensions.get(metric)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class PeerRecord:
    """A candidate peer: one submitted or verified assessment, when it was submitted and on which version."""

    peer: Peer
    submitted_at: date  # a datetime is accepted and compared by its date
    instrument_version: str
    sequence: int = 0  # breaks ties on the same day: the larger wins (e.g. the assessment id)


@dataclass(frozen=True)
class Cohort:
    """The peer group a statistic was computed over: fallback level ``key``, its filter values (None = any), n."""

    key: str  # one of LEVELS, e.g. "industry+county+size" or "city"
    industry: str | None
    county: str | None
    size_class: str | None
    n: int  # peers in the cohort, the firm included
    sufficient: bool  # n >= min_n: statistics may be shown

    @property
    def id(self) -> str:
        """Return the cohort's unique id, e.g. "industry+county|knit|nanhu" (the key of ``all_cohort_stats``)."""
        return "|".join((self.key, *(v for v in (self.industry, self.county, self.size_class) if v is not None)))


@dataclass(frozen=True)
class MetricStats:
    """Statistics of one metric over one cohort; ``n`` counts peers with a score (None scores are left out)."""

    metric: str
    cohort: Cohort
    n: int
    mean: float | None
    minimum: float | None
    maximum: float | None
    quantiles: Mapping[str, float | None]  # by BenchmarkParams.quantiles name; None when n = 0
    histogram: tuple[int, ...]  # counts per bin: [0, w), [w, 2w), …, [100 − w, 100]
    values: tuple[float, ...] = field(default=(), repr=False)  # ascending, for percentile_rank(values, score)


@dataclass(frozen=True)
class CohortStats:
    """Statistics of every metric (composite, maturity, then the dimensions) over one cohort."""

    cohort: Cohort
    metrics: Mapping[str, MetricStats]

    def to_dict(self) -> dict[str, Any]:
        """Return these statistics as a JSON-ready dict; persist one per cohort, keyed by ``cohort.id``."""
        names = [f.name for f in fields(MetricStats) if f.name != "cohort"]
        metrics = {m: {name: getattr(ms, name) for name in names} for m, ms in self.metrics.items()}
        return {"cohort": asdict(self.cohort), "metrics": metrics}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CohortStats:
        """Rebuild statistics from ``to_dict`` output (fast enough to load a 20,000-firm cohort per request)."""
        cohort, metrics = Cohort(**data["cohort"]), data["metrics"]
        tuples = {m: {"histogram": tuple(ms["histogram"]), "values": tuple(ms["values"])} for m, ms in metrics.items()}
        return cls(cohort, {m: MetricStats(**{**ms, **tuples[m], "cohort": cohort}) for m, ms in metrics.items()})


@dataclass(frozen=True)
class MetricPosition:
    """A firm's standing on one metric: its score, percentile rank, the metric's n and the cohort quantiles."""

    metric: str
    score: float | None
    percentile_rank: float | None  # None if the firm has no score or the cohort is too small
    n: int
    quantiles: Mapping[str, float | None]  # None values when the cohort is below min_n


@dataclass(frozen=True)
class Position:
    """A firm's standing in its fallback cohort, metric by metric."""

    peer_key: str
    cohort: Cohort
    metrics: Mapping[str, MetricPosition]  # cohort statistics only when the cohort is sufficient

    def quantile(self, name: str, metrics: Iterable[str]) -> dict[str, float]:
        """Return ``{metric: value}`` of one quantile over ``metrics``, Nones left out (e.g. "p90" for cohort_p90)."""
        found = {m: self.metrics[m].quantiles.get(name) if m in self.metrics else None for m in metrics}
        return {m: v for m, v in found.items() if v is not None}


@dataclass(frozen=True)
class Cell:
    """One aggregate cell of a bureau table: a value over ``n`` firms; suppressed cells have value None."""

    value: float | None
    n: int
    suppressed: bool = False


def window_start(as_of: date, months: int) -> date:
    """Return the same day ``months`` calendar months before ``as_of``, clamped to the end of a shorter month."""
    first = as_of.replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    return first.replace(day=min(as_of.day, monthrange(first.year, first.month)[1]))


def latest_per_firm(records: Iterable[PeerRecord], as_of: date, version: str, months: int) -> tuple[PeerRecord, ...]:
    """Return each firm's latest record on instrument ``version`` dated in [window_start(as_of, months), as_of]."""
    start, latest = window_start(as_of, months), dict[str, tuple[tuple[date, int], PeerRecord]]()
    for rec in records:
        at = rec.submitted_at
        order = (at.date() if isinstance(at, datetime) else at, rec.sequence)
        key = rec.peer.peer_key
        if rec.instrument_version == version and start <= order[0] <= as_of:
            if key not in latest or order > latest[key][0]:
                latest[key] = (order, rec)
    return tuple(latest[key][1] for key in sorted(latest))


def quantile(sorted_values: Sequence[float], level: float) -> float | None:
    """Return the ``level``-th percentile (0–100) of ascending values, interpolated (type 7); None if empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    h = (n - 1) * level / 100
    lo = min(math.floor(h), n - 1)
    a, b = sorted_values[lo], sorted_values[min(lo + 1, n - 1)]
    return min(max(a + (h - lo) * (b - a), a), b)  # clamped so rounding cannot leave [a, b]


def percentile_rank(sorted_values: Sequence[float], score: float, included: bool = True) -> float | None:
    """Return ``100·(below + ½·equal)/n`` over ascending values; ``included=False`` first adds the firm to them."""
    below, at_or_below = bisect_left(sorted_values, score), bisect_right(sorted_values, score)
    extra = 0 if included else 1
    n = len(sorted_values) + extra
    # Mid-rank: the mean of the share strictly below and the share at or below (scipy's kind="mean").
    return fmean((100 * below / n, 100 * (at_or_below + extra) / n)) if n else None


def histogram(sorted_values: Sequence[float], bins: int) -> tuple[int, ...]:
    """Count ascending 0–100 values per equal-width bin; a bin holds its lower edge (within TOL), the last also 100."""
    cuts = [bisect_left(sorted_values, 100 * i / bins - TOL) for i in range(1, bins)]
    return tuple(b - a for a, b in pairwise([0, *cuts, len(sorted_values)]))


def select_cohort(firm: Peer, peers: Sequence[Peer], min_n: int) -> Cohort:
    """Return the firm's first cohort along the fallback chain with at least ``min_n`` peers (else the city)."""
    for level in LEVELS[:-1]:
        n = sum(all(getattr(p, a) == getattr(firm, a) for a in _FILTERS[level]) for p in peers)
        if n >= min_n:
            return _cohort(level, firm, n, min_n)
    return _cohort(LEVELS[-1], firm, len(peers), min_n)


def all_cohort_stats(
    peers: Sequence[Peer], dimensions: Sequence[str], params: BenchmarkParams
) -> dict[str, CohortStats]:
    """Return the statistics of every non-empty cohort at every fallback level, keyed by ``Cohort.id``.

    Each level groups the peers once and each group sorts each metric once. Cohorts below ``min_n`` are kept with
    ``sufficient=False`` (for bureau tables under ``suppress``); ``position`` skips them.
    """
    metrics = (*TOTALS, *dimensions)
    if len({p.peer_key for p in peers}) != len(peers):
        raise BenchmarkError("a peer_key occurs twice: give each firm's latest assessment only")
    rows = [(p, [p.score(m) for m in metrics]) for p in peers]
    result: dict[str, CohortStats] = {}
    for level in LEVELS:
        groups: dict[str, tuple[Peer, list[list[float | None]]]] = {}
        for peer, row in rows:
            groups.setdefault(_cohort_id(level, peer), (peer, []))[1].append(row)
        for cid, (first, members) in groups.items():
            cohort = _cohort(level, first, len(members), params.min_n)
            columns = zip(metrics, zip(*members, strict=True), strict=True)
            result[cid] = CohortStats(cohort, {m: _metric(m, cohort, col, params) for m, col in columns})
    return result


def position(firm: Peer, stats: Mapping[str, CohortStats], included: bool = True) -> Position:
    """Return the firm's percentile rank and cohort quantiles per metric in its first sufficient fallback cohort.

    ``included`` says the firm's scores are among the cohort values (the stats were built with it); if not, it is
    counted in as one more member. Ranks and quantiles are None when even the city cohort is below ``min_n``.
    """
    ids = [_cohort_id(level, firm) for level in LEVELS]
    chosen = next((stats[c] for c in ids if c in stats and stats[c].cohort.sufficient), stats.get(ids[-1]))
    if chosen is None:  # no peers at all
        empty = {m: MetricPosition(m, firm.score(m), None, 0, {}) for m in (*TOTALS, *firm.dimensions)}
        return Position(firm.peer_key, Cohort(LEVELS[-1], None, None, None, 0, False), empty)
    show, result = chosen.cohort.sufficient, {}
    for m, ms in chosen.metrics.items():
        score = firm.score(m)
        rank = percentile_rank(ms.values, score, included) if show and score is not None else None
        result[m] = MetricPosition(m, score, rank, ms.n, {q: v if show else None for q, v in ms.quantiles.items()})
    return Position(firm.peer_key, chosen.cohort, result)


def suppress(cells: Mapping[Hashable, Cell], k: int) -> dict[Hashable, Cell]:
    """Return the cells with every cell of fewer than ``k`` firms blanked (value None, ``suppressed=True``)."""
    return {key: Cell(None, cell.n, True) if cell.n < k else cell for key, cell in cells.items()}


def _cohort_id(level: str, peer: Peer) -> str:
    return "|".join((level, *(getattr(peer, a) for a in _FILTERS[level])))


def _cohort(level: str, peer: Peer, n: int, min_n: int) -> Cohort:
    values = [getattr(peer, a) if a in _FILTERS[level] else None for a in ("industry", "county", "size_class")]
    return Cohort(level, *values, n=n, sufficient=n >= min_n)


def _metric(metric: str, cohort: Cohort, column: Iterable[float | None], params: BenchmarkParams) -> MetricStats:
    vals = sorted(v for v in column if v is not None)
    n = len(vals)
    mean = min(max(math.fsum(vals) / n, vals[0]), vals[-1]) if n else None
    quantiles = {name: quantile(vals, level) for name, level in params.quantiles.items()}
    lo, hi = (vals[0], vals[-1]) if n else (None, None)
    return MetricStats(metric, cohort, n, mean, lo, hi, quantiles, histogram(vals, params.bins), tuple(vals))
