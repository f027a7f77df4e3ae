"""Aggregate item scores into indicators, dimensions, M, O, C, bands and gated levels (one view at a time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scoring.model import MATURITY, Layout, LayoutDimension, Params
from scoring.results import DimensionScore, IndicatorScore, ViewResult
from scoring.tolerance import above, at_least, below

Scores = Mapping[str, float | None]  # question id -> item score; None = N/A
# dimension id -> (e_q per non-N/A question, N/A share); depends only on which questions are N/A.
Structure = Mapping[str, tuple[dict[str, float], float]]


def effective_weights(dim: LayoutDimension, scores: Scores) -> tuple[dict[str, float], float]:
    """Return each non-N/A question's weight share e_q inside the dimension, and the dimension's N/A share.

    e_q = (w_i / Σ w_i) · (w_q / Σ w_q), sums over non-N/A questions and the indicators that still have one.
    The N/A share uses the same formula over all applicable questions and sums it over the N/A ones.
    """
    all_total = sum(i.weight for i in dim.indicators)
    na_share = 0.0
    for ind in dim.indicators:
        q_total = sum(q.weight for q in ind.questions)
        na_share += sum(ind.weight / all_total * q.weight / q_total for q in ind.questions if scores[q.id] is None)
    active = [i for i in dim.indicators if any(scores[q.id] is not None for q in i.questions)]
    ind_total = sum(i.weight for i in active)
    weights: dict[str, float] = {}
    for ind in active:
        q_total = sum(q.weight for q in ind.questions if scores[q.id] is not None)
        for q in ind.questions:
            if scores[q.id] is not None:
                weights[q.id] = ind.weight / ind_total * (q.weight / q_total)
    return weights, na_share


def structure(layout: Layout, scores: Scores) -> dict[str, tuple[dict[str, float], float]]:
    """Return ``effective_weights`` for every dimension (reusable for any scores with the same N/A pattern)."""
    return {dim.id: effective_weights(dim, scores) for dim in layout.dimensions}


def level_sums(
    dim: LayoutDimension, scores: Scores, weights: Mapping[str, float], levels: int
) -> tuple[list[float], list[float]]:
    """Return possible P_k and achieved A_k weight per level k = 1..levels (index k-1)."""
    possible, achieved = [0.0] * levels, [0.0] * levels
    for ind in dim.indicators:
        for q in ind.questions:
            s = scores[q.id]
            if q.id in weights and q.level is not None and s is not None:
                possible[q.level - 1] += weights[q.id]
                achieved[q.level - 1] += weights[q.id] * s
    return possible, achieved


def attainment(possible: Sequence[float], achieved: Sequence[float]) -> tuple[float | None, ...]:
    """Return p_k = 100 · A_k / P_k per level, None where no question is tagged with that level."""
    return tuple(100 * (a / p) if p > 0 else None for p, a in zip(possible, achieved, strict=True))


def gated_level(p: Sequence[float | None], critical: Sequence[tuple[int, float]], params: Params) -> int:
    """Return the highest level L whose staircase row (and every lower row) is met; critical items gate on their own.

    Row L requires p_k ≥ staircase[L][k] for k = 1..L; a critical question tagged k must itself score
    ≥ staircase[L][k] / 100. A level with no tagged questions passes only if ``empty_level_passes``. Needs levels.
    """
    levels = params.levels
    assert levels is not None
    reached = 0
    for lvl, row in enumerate(levels.staircase, start=1):
        for k in range(lvl):
            pk, need = p[k], row[k]
            met = levels.empty_level_passes if pk is None else at_least(pk, need)
            if not met or any(below(100 * s, need) for tag, s in critical if tag == k + 1):
                return reached
        reached = lvl
    return reached


def band(score: float | None, params: Params) -> int | None:
    """Return the band index (0 = below the first cutpoint) of a 0–100 score; None without a score or bands.

    A score at a cutpoint (within TOL) takes the higher band, or the lower one with ``at_cutpoint: lower``.
    """
    bands = params.bands
    if score is None or bands is None:
        return None
    if bands.at_cutpoint == "lower":
        return sum(1 for cut in bands.cutpoints if above(score, cut))
    return sum(1 for cut in bands.cutpoints if at_least(score, cut))


def score_dimension(
    dim: LayoutDimension, params: Params, scores: Scores, weights_na: tuple[dict[str, float], float] | None = None
) -> DimensionScore:
    """Score one dimension: indicators, D (0–100), N/A share, band, attainment and gated level.

    D is the weighted mean of the indicators, or the lowest indicator in a "min" dimension (IMPULS).
    Attainment and level are empty / None when the instrument has no levels.
    """
    weights, na_share = weights_na if weights_na is not None else effective_weights(dim, scores)
    indicators, num, den = [], 0.0, 0.0
    lowest: float | None = None
    for ind in dim.indicators:
        answered = [(q.weight, s) for q in ind.questions if (s := scores[q.id]) is not None]
        if not answered:
            indicators.append(IndicatorScore(ind.id, None))
            continue
        value = sum(w * s for w, s in answered) / sum(w for w, _ in answered)
        indicators.append(IndicatorScore(ind.id, 100 * value))
        num += ind.weight * value
        den += ind.weight
        lowest = value if lowest is None else min(lowest, value)
    insufficient = den == 0 or above(na_share, params.na_insufficient_share)
    score = None
    if not insufficient:
        score = 100 * lowest if dim.aggregation == "min" and lowest is not None else 100 * (num / den)
    p: tuple[float | None, ...] = ()
    level = None
    if dim.role == MATURITY and params.levels is not None:
        p, level = level_profile(dim, params, scores, weights)
    return DimensionScore(
        dim.id,
        dim.role,
        dim.weight,
        score,
        band(score, params),
        None if insufficient else level,
        p,
        tuple(indicators),
        na_share,
        insufficient,
    )


def level_profile(
    dim: LayoutDimension, params: Params, scores: Scores, weights: Mapping[str, float]
) -> tuple[tuple[float | None, ...], int]:
    """Return the attainment p_1..p_n of a maturity dimension and its gated level."""
    p = attainment(*level_sums(dim, scores, weights, params.max_level))
    critical = [
        (q.level, s)
        for i in dim.indicators
        for q in i.questions
        if q.critical and q.level is not None and q.id in weights and (s := scores[q.id]) is not None
    ]
    return p, gated_level(p, critical, params)


def overall_level(
    params: Params, dims: Sequence[tuple[float, Sequence[float | None], int]]
) -> tuple[tuple[float | None, ...], int | None]:
    """Return p̄_k (W_d-weighted over dimensions with level-k questions) and the overall level.

    ``dims`` holds (W_d, p_d, level_d) of every scored maturity dimension. The overall level is the staircase on
    p̄ without critical gates, capped at the lowest dimension level + ``overall_cap_above_min``. Without levels
    there is neither: ((), None).
    """
    if params.levels is None:
        return (), None
    p_bar = []
    for k in range(params.max_level):
        known = [(w, pk) for w, p, _ in dims if (pk := p[k]) is not None]
        p_bar.append(weighted_mean(known) if known else None)
    if not dims:
        return tuple(p_bar), None
    cap = min(level for _, _, level in dims) + params.levels.overall_cap_above_min
    return tuple(p_bar), min(gated_level(p_bar, (), params), cap)


def compute_view(
    name: str, layout: Layout, params: Params, scores: Scores, struct: Structure | None = None
) -> ViewResult:
    """Compute one view: every dimension, then M, O, C, the band of M and the capped overall level.

    ``struct`` (from ``structure``) may be passed when it was computed for the same N/A pattern.
    """
    struct = struct if struct is not None else structure(layout, scores)
    dims = tuple(score_dimension(d, params, scores, struct[d.id]) for d in layout.dimensions)
    maturity = [d for d in dims if d.role == MATURITY]
    outcome = [d for d in dims if d.role != MATURITY]
    provisional = any(d.insufficient for d in maturity)
    withhold = params.na_policy == "withhold"
    m = None if withhold and provisional else _weighted(maturity)
    o = None if withhold and any(d.insufficient for d in outcome) else _weighted(outcome)
    mix = params.composite
    c = None if m is None or o is None or mix is None else mix.maturity * m + mix.outcome * o
    scored = [(d.weight, d.attainment, d.level) for d in maturity if d.score is not None and d.level is not None]
    p_bar, level = overall_level(params, scored)
    return ViewResult(name, dims, m, o, c, band(m, params), None if m is None else level, p_bar, provisional)


def weighted_mean(pairs: Sequence[tuple[float, float]]) -> float:
    """Return Σ w·x / Σ w, kept within [min x, max x] so float rounding cannot leave the range (still monotone)."""
    mean = sum(w * x for w, x in pairs) / sum(w for w, _ in pairs)
    return min(max(mean, min(x for _, x in pairs)), max(x for _, x in pairs))


def _weighted(dims: Sequence[DimensionScore]) -> float | None:
    scored = [(d.weight, d.score) for d in dims if d.score is not None]
    return weighted_mean(scored) if scored else None
