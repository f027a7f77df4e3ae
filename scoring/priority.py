"""Rank dimensions for action from the firm's top KPIs, cost structure, gaps and ease (PMx-like, explicit)."""

from __future__ import annotations

from collections.abc import Mapping

from scoring.model import MATURITY, ImpactItem, Layout, Params
from scoring.results import AdvicePlan, Priority, Profile, ViewResult
from scoring.tolerance import at_least

QUADRANTS = ("quick_win", "strategic_bet", "fill_in", "deprioritise")


def priorities(
    layout: Layout,
    params: Params,
    profile: Profile | None,
    cohort_p90: Mapping[str, float],
    view: ViewResult,
    plans: tuple[AdvicePlan, ...],
) -> tuple[Priority, ...]:
    """Return a priority for every scored maturity dimension, best first; empty without a profile.

    Priority_d = 100 · Σ weight_t · term_t over kpi, cost, gap_bic, gap_next, ease. gap_bic is used only when
    ``cohort_p90`` covers every scored dimension; otherwise it is left out and the other weights renormalised.
    Without a priority block (or without advice, which it needs) there are no priorities.
    """
    prio = params.priority
    if profile is None or prio is None or params.advice is None:
        return ()
    scored = [(d, d.score) for d in view.dimensions if d.role == MATURITY and d.score is not None]
    use_bic = bool(scored) and all(d.dimension_id in cohort_p90 for d, _ in scored)
    plan_of = {p.dimension_id: p for p in plans if p.dimension_id is not None}
    kpis = {k.id: k for k in layout.kpis}
    tiers = len(params.advice.cost_tiers)
    weights = prio.weights
    found = []
    costs = {c.id: c for c in layout.cost_categories}
    for ds, score_d in scored:
        d = ds.dimension_id
        kpi = sum(prio.rank_weights[r] * _impact(kpis[k], d, prio.impact_max) for r, k in enumerate(profile.top_kpis))
        cost = sum(share * _impact(costs[c], d, prio.impact_max) for c, share in profile.cost_shares.items())
        gap_bic = max(0.0, cohort_p90[d] - score_d) / 100 if use_bic else None
        plan = plan_of.get(d)
        gap_next = min(1.0, plan.gain / prio.band_width) if plan is not None else 0.0
        items = plan.items if plan is not None else ()
        if not items:
            ease = 0.0
        elif tiers == 1:
            ease = 1.0
        else:
            ease = 1 - sum((i.cost_tier - 1) / (tiers - 1) for i in items) / len(items)
        terms = {"kpi": kpi, "cost": cost, "gap_bic": gap_bic, "gap_next": gap_next, "ease": ease}
        used = {t: v for t, v in terms.items() if v is not None}
        total = sum(weights[t] for t in used)
        score = 100 * (sum(weights[t] * v for t, v in used.items()) / total) if total else 0.0
        impact = prio.impact_mix_kpi * kpi + prio.impact_mix_cost * cost
        found.append((score, d, kpi, cost, gap_bic, gap_next, ease, impact))
    order = sorted(range(len(found)), key=lambda i: (-found[i][0], i))
    result = []
    for rank, i in enumerate(order, start=1):
        score, d, kpi, cost, gap_bic, gap_next, ease, impact = found[i]
        result.append(
            Priority(
                d,
                score,
                rank,
                kpi,
                cost,
                gap_bic,
                gap_next,
                ease,
                impact,
                _quadrant(impact, ease, prio.quadrant_split),
                rank <= prio.top_n,
            )
        )
    return tuple(result)


def _impact(item: ImpactItem, dimension_id: str, impact_max: int) -> float:
    return item.impact.get(dimension_id, 0) / impact_max


def _quadrant(impact: float, ease: float, split: float) -> str:
    quick_win, strategic_bet, fill_in, deprioritise = QUADRANTS
    if at_least(impact, split):
        return quick_win if at_least(ease, split) else strategic_bet
    return fill_in if at_least(ease, split) else deprioritise
