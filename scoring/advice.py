"""Plan the cheapest moves to the next gated level: greedy by useful gain per cost, per dimension and overall."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scoring.items import Move, moves
from scoring.maturity import Structure, level_profile, level_sums, overall_level
from scoring.model import MATURITY, Layout, LayoutDimension, Params
from scoring.results import AdviceItem, AdvicePlan, Answer, DimensionScore, ViewResult
from scoring.tolerance import TOL, above, at_most

Scores = Mapping[str, float | None]
Key = tuple[str, int | str]


@dataclass(frozen=True)
class _Ctx:
    """Everything the solver reads; ``struct`` holds e_q per dimension for the self view's N/A pattern."""

    layout: Layout
    params: Params
    answers: Mapping[str, Answer]
    scores: Scores
    struct: Structure


@dataclass
class _Problem:
    """Linear deficits to close, in attainment points, and how each question contributes to them."""

    need: dict[Key, float] = field(default_factory=dict)
    coef: dict[str, list[tuple[Key, float]]] = field(default_factory=dict)  # qid -> [(key, points per unit score)]
    blocked: bool = False  # a required level has no questions at all

    def add(self, key: Key, need: float, qid: str | None = None, per_unit: float = 0.0) -> None:
        """Register a constraint with its remaining need in points, optionally linking one question to it."""
        self.need[key] = max(0.0, need)
        if qid is not None:
            self.link(qid, key, per_unit)

    def link(self, qid: str, key: Key, per_unit: float) -> None:
        """Record that raising ``qid`` by one unit of item score closes ``per_unit`` points of ``key``."""
        self.coef.setdefault(qid, []).append((key, per_unit))

    def useful(self, qid: str, delta: float) -> float:
        """Return the points a raise of ``delta`` on ``qid`` would close, capped by each remaining need."""
        return sum(min(self.need[key], per * delta) for key, per in self.coef.get(qid, ()))

    def apply(self, qid: str, delta: float) -> None:
        """Close the needs a raise of ``delta`` on ``qid`` covers."""
        for key, per in self.coef[qid]:
            self.need[key] = max(0.0, self.need[key] - per * delta)

    def done(self) -> bool:
        """Return whether every need is closed."""
        return all(at_most(v, 0) for v in self.need.values())


@dataclass(frozen=True)
class _Step:
    qid: str
    dimension_id: str
    level: int
    move: Move
    before: float
    after: float
    gain: float  # dimension points


def advice_plans(
    layout: Layout, params: Params, answers: Mapping[str, Answer], scores: Scores, view: ViewResult, struct: Structure
) -> tuple[AdvicePlan, ...]:
    """Return a plan to the next level for every scored maturity dimension below the top, then the overall plan.

    Without an advice block (which needs levels) there are no plans.
    """
    if params.advice is None or params.levels is None:
        return ()
    ctx = _Ctx(layout, params, answers, scores, struct)
    dims = {d.id: d for d in layout.dimensions if d.role == MATURITY}
    plans = []
    for ds in view.dimensions:
        if ds.role != MATURITY or ds.level is None or ds.level >= params.max_level:
            continue
        dim, target = dims[ds.dimension_id], ds.level + 1
        problem = _Problem()
        _dimension_needs(ctx, problem, dim, target)
        steps = _solve(ctx, problem, [dim])
        trial = {**scores, **{s.qid: s.after for s in steps}}
        reached = level_profile(dim, params, trial, struct[dim.id][0])[1]
        plans.append(_plan(ctx, dim.id, ds.level, target, reached >= target and not problem.blocked, steps))
    if view.level is not None and view.level < params.max_level:
        plans.append(_overall_plan(ctx, view, view.level, dims))
    return tuple(plans)


def _overall_plan(ctx: _Ctx, view: ViewResult, level: int, dims: dict[str, LayoutDimension]) -> AdvicePlan:
    """Plan the overall level: weighted p̄_k gates plus every dimension up to (target − cap)."""
    params, target = ctx.params, level + 1
    levels = params.levels
    assert levels is not None
    scored = [
        (d, d.level) for d in view.dimensions if d.role == MATURITY and d.score is not None and d.level is not None
    ]
    problem = _Problem()
    floor = target - levels.overall_cap_above_min
    for ds, dim_level in scored:
        if dim_level < floor:
            _dimension_needs(ctx, problem, dims[ds.dimension_id], floor)
    row = levels.staircase[target - 1]
    sums = {ds.dimension_id: _weights_and_possible(ctx, dims[ds.dimension_id]) for ds, _ in scored}
    for k in range(target):
        known = [(ds, pk) for ds, _ in scored if (pk := ds.attainment[k]) is not None]
        if not known:
            problem.blocked |= not levels.empty_level_passes
            continue
        total_w = sum(ds.weight for ds, _ in known)
        problem.add(("avg", k), row[k] - sum(ds.weight * pk for ds, pk in known) / total_w)
        for ds, _ in known:
            weights, possible = sums[ds.dimension_id]
            for qid, e in weights.items():
                if ctx.layout.index[qid].question.level == k + 1:
                    problem.link(qid, ("avg", k), ds.weight / total_w * 100 * e / possible[k])
    steps = _solve(ctx, problem, [dims[ds.dimension_id] for ds, _ in scored])
    trial = {**ctx.scores, **{s.qid: s.after for s in steps}}
    touched = {s.dimension_id for s in steps}
    profiles: list[tuple[float, Sequence[float | None], int]] = []
    for ds, dim_level in scored:
        if ds.dimension_id in touched:
            p, new_level = level_profile(dims[ds.dimension_id], params, trial, ctx.struct[ds.dimension_id][0])
            profiles.append((ds.weight, p, new_level))
        else:
            profiles.append((ds.weight, ds.attainment, dim_level))
    reached = overall_level(params, profiles)[1] or 0
    reachable = reached >= target and not problem.blocked
    return _plan(ctx, None, level, target, reachable, steps, [ds for ds, _ in scored])


def _weights_and_possible(ctx: _Ctx, dim: LayoutDimension) -> tuple[dict[str, float], list[float]]:
    weights = ctx.struct[dim.id][0]
    return weights, level_sums(dim, ctx.scores, weights, ctx.params.max_level)[0]


def _dimension_needs(ctx: _Ctx, problem: _Problem, dim: LayoutDimension, target: int) -> None:
    """Add the constraints of reaching ``target`` in one dimension: p_k gates and critical questions."""
    weights = ctx.struct[dim.id][0]
    levels = ctx.params.levels
    assert levels is not None
    possible, achieved = level_sums(dim, ctx.scores, weights, levels.max_level)
    row = levels.staircase[target - 1]
    for k in range(target):
        if possible[k] <= 0:
            problem.blocked |= not levels.empty_level_passes
            continue
        problem.add((dim.id, k), row[k] - 100 * achieved[k] / possible[k])
        for qid, e in weights.items():
            q, s = ctx.layout.index[qid].question, ctx.scores[qid]
            if q.level == k + 1 and s is not None:
                problem.link(qid, (dim.id, k), 100 * e / possible[k])
                if q.critical:
                    problem.add(("critical", qid), row[k] - 100 * s, qid, 100.0)


def _solve(ctx: _Ctx, problem: _Problem, dims: list[LayoutDimension]) -> list[_Step]:
    """Pick moves greedily by useful points per cost until every need is closed.

    Lazy greedy: a move's ratio can only fall as needs close, so a popped move whose fresh key still beats the next
    stored bound is the true best; the picks equal those of a full rescan. Ties (to 1e-9) go to instrument order,
    which puts the smaller step of a question first. A re-queued move's key strictly grows, so the loop ends.
    """
    current: dict[str, float] = {}
    where: dict[str, tuple[str, float, int]] = {}
    heap: list[tuple[float, int, str, Move]] = []  # (-ratio in units of TOL, order, question, move)
    for dim in dims:
        for qid, e in ctx.struct[dim.id][0].items():
            s = ctx.scores[qid]
            if s is None or not any(above(problem.need[key], 0) for key, _ in problem.coef.get(qid, ())):
                continue
            q = ctx.layout.index[qid].question
            where[qid] = (dim.id, e, q.level or 0)
            current[qid] = s
            answer = ctx.answers.get(qid)
            for move in moves(q, ctx.params, answer.value if answer is not None else None, current[qid]):
                heapq.heappush(heap, (-float("inf"), len(heap), qid, move))
    taken: set[tuple[str, str]] = set()
    steps: list[_Step] = []
    while heap and not problem.done():
        _, order, qid, move = heapq.heappop(heap)
        if (qid, move.target) in taken:
            continue
        delta = move.value if move.mode == "add" else move.value - current[qid]
        ratio = problem.useful(qid, delta) / ctx.params.cost_tiers[move.cost_tier - 1].cost if delta > 0 else 0.0
        if at_most(ratio, 0):
            continue
        key = (-round(ratio / TOL), order)  # whole multiples of TOL: near-ties become ties, broken by instrument order
        if heap and (heap[0][0], heap[0][1]) < key:
            heapq.heappush(heap, (*key, qid, move))  # a stored bound still beats the fresh ratio: re-queue
            continue
        problem.apply(qid, delta)
        dim_id, e, level = where[qid]
        before, current[qid] = current[qid], min(1.0, current[qid] + delta)
        taken.add((qid, move.target))
        steps.append(_Step(qid, dim_id, level, move, before, current[qid], 100 * e * (current[qid] - before)))
    return steps


def _plan(
    ctx: _Ctx,
    dim_id: str | None,
    level: int,
    target: int,
    reachable: bool,
    steps: list[_Step],
    scored: list[DimensionScore] | None = None,
) -> AdvicePlan:
    """Merge steps into advice items (a later, higher option replaces an earlier one) and total the gain.

    The gain is in dimension points for a dimension plan and in M points for the overall plan.
    """
    items: list[AdviceItem] = []
    slot: dict[str, int] = {}
    for step in steps:
        move = step.move
        first = items[slot[step.qid]] if move.mode == "set" and step.qid in slot else None
        item = AdviceItem(
            question_id=step.qid,
            dimension_id=step.dimension_id,
            level=step.level,
            target=move.target,
            from_score=first.from_score if first else step.before,
            to_score=step.after,
            gain=(first.gain if first else 0.0) + step.gain,
            cost_tier=move.cost_tier,
            advice=move.advice,
            label=move.label,
        )
        if first is not None:
            items[slot[step.qid]] = item
            continue
        if move.mode == "set":
            slot[step.qid] = len(items)
        items.append(item)
    if scored is None:
        gain = sum(i.gain for i in items)
    else:
        total = sum(ds.weight for ds in scored)
        share = {ds.dimension_id: ds.weight / total for ds in scored}
        gain = sum(share[i.dimension_id] * i.gain for i in items)
    shown = tuple(items[: ctx.params.advice_max_items])
    return AdvicePlan(dim_id, level, target, reachable, gain, len(items), shown)
