"""Validate one answer against its question and turn it into an item score s in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scoring.errors import InvalidAnswer
from scoring.model import Params, Question, Text
from scoring.tolerance import num


@dataclass(frozen=True)
class Move:
    """A candidate improvement of one question for the advice solver.

    ``mode`` "set" raises the item score to ``value``; "add" adds ``value`` to it (independent checklist ticks or rows).
    """

    target: str
    mode: str
    value: float
    cost_tier: int
    advice: Text
    label: Text | None = None


def canonical_value(q: Question, params: Params, value: Any) -> Any:
    """Return the answer value in canonical JSON form (instrument order), or raise InvalidAnswer."""
    kind = q.type
    if kind == "single":
        if not isinstance(value, str) or value not in {o.id for o in q.options}:
            raise InvalidAnswer(f"must be one of the option ids {[o.id for o in q.options]}", q.id)
        return value
    if kind == "requirement":
        if not isinstance(value, str) or value not in row_scale(q, params):
            raise InvalidAnswer(f"must be one of {list(row_scale(q, params))}", q.id)
        return value
    if kind == "multi":
        return _canonical_multi(q, value)
    if kind in ("adoption", "tri_state", "in_use_planned"):
        return _canonical_rows(q, params, value)
    if kind == "kpi":
        return _number(q, value, "value")
    if not isinstance(value, Mapping) or set(value) != {"baseline", "current"}:
        raise InvalidAnswer("must be a mapping with exactly 'baseline' and 'current'", q.id)
    baseline, current = _number(q, value["baseline"], "baseline"), _number(q, value["current"], "current")
    if baseline <= 0:
        raise InvalidAnswer("baseline must be greater than 0", q.id)
    return {"baseline": baseline, "current": current}


def item_score(q: Question, params: Params, value: Any) -> float:
    """Return the item score in [0, 1] of a canonical answer value (rules in docs/scoring.md §1)."""
    kind = q.type
    if kind == "single":
        return next(o.value for o in q.options if o.id == value)
    if kind == "requirement":
        return row_scale(q, params)[value]
    if kind == "multi":
        return sum(o.value for o in q.options if o.id in value and not o.exclusive) / multi_total(q)
    if kind in ("adoption", "tri_state", "in_use_planned"):
        scale = row_scale(q, params)
        return sum(scale[value[r.id]] for r in q.rows) / len(q.rows)
    if kind == "kpi":
        return curve(q.anchors, q.below, value)
    gain = (
        value["current"] - value["baseline"] if q.direction == "higher_better" else value["baseline"] - value["current"]
    )
    improvement = 100 * gain / value["baseline"]
    if q.anchors:
        return curve(q.anchors, q.below, improvement)
    assert params.outcome_anchors is not None  # the validator requires a curve for kpi_delta without anchors
    return curve(params.outcome_anchors, params.outcome_below, improvement)


def multi_total(q: Question) -> float:
    """Return a checklist's denominator: the non-exclusive values, plus the exclusive option's if it counts."""
    return sum(o.value for o in q.options if not o.exclusive or q.exclusive_in_denominator)


def max_score(q: Question, params: Params) -> float:
    """Return the highest item score any answer can reach (below 1 when an exclusive option counts)."""
    kind = q.type
    if kind == "single":
        return max(o.value for o in q.options)
    if kind == "multi":
        return sum(o.value for o in q.options if not o.exclusive) / multi_total(q)
    if kind in ("requirement", "adoption", "tri_state", "in_use_planned"):
        return max(row_scale(q, params).values())
    anchors = q.anchors or params.outcome_anchors or ()
    return max([y for _, y in anchors] + ([q.below] if q.below is not None else []))


def ambition(q: Question, value: Any) -> float | None:
    """Return the share of rows planned (the "ambition" of an in-use/planned question), else None."""
    if q.type != "in_use_planned" or value is None:
        return None
    return sum(1 for r in q.rows if value[r.id] in ("planned", "both")) / len(q.rows)


def curve(anchors: Sequence[tuple[float, float]], below: float | None, x: float) -> float:
    """Interpolate piecewise-linearly between anchors; clamp beyond the ends (``below`` left of the first)."""
    if x < anchors[0][0]:
        return anchors[0][1] if below is None else below
    for (xa, ya), (xb, yb) in zip(anchors, anchors[1:], strict=False):
        if x < xb:
            y = ya + (yb - ya) * (x - xa) / (xb - xa)
            # Clamp to the segment so float rounding can never break monotonicity at an anchor.
            return min(max(y, min(ya, yb)), max(ya, yb))
    return anchors[-1][1]


def moves(q: Question, params: Params, value: Any, score: float) -> list[Move]:
    """List the improvements the advice solver may recommend for a question currently at ``score``."""
    kind = q.type
    if kind == "single":
        return [
            Move(o.id, "set", o.value, o.cost_tier, o.advice, o.label)
            for o in q.options
            if o.value > score and o.cost_tier is not None and o.advice is not None
        ]
    tier, advice = q.cost_tier, q.advice
    if kind == "requirement" and tier is not None and advice is not None:
        return [Move(state, "set", v, tier, advice) for state, v in row_scale(q, params).items() if v > score]
    if kind == "kpi" and tier is not None and advice is not None:
        return [Move(f"{x:g}{q.unit or ''}", "set", y, tier, advice) for x, y in q.anchors if y > score]
    if kind == "multi":
        chosen = set(value or ())
        total = multi_total(q)
        return [
            Move(o.id, "add", o.value / total, o.cost_tier, o.advice, o.label)
            for o in q.options
            if not o.exclusive and o.id not in chosen and o.value > 0 and o.cost_tier is not None and o.advice
        ]
    if kind in ("adoption", "tri_state", "in_use_planned"):
        scale = row_scale(q, params)
        top = max(scale, key=lambda state: scale[state])
        found = []
        for r in q.rows:
            now = scale[value[r.id]] if value is not None else 0.0
            if scale[top] > now and r.cost_tier is not None and r.advice is not None:
                found.append(
                    Move(f"{r.id}={top}", "add", (scale[top] - now) / len(q.rows), r.cost_tier, r.advice, r.label)
                )
        return found
    return []


def row_scale(q: Question, params: Params) -> dict[Any, float]:
    """Return the state → value scale of a row or requirement question: its own ``scale``, else the instrument's.

    Adoption states are 0, 1, 2, ...; tri-state, in-use/planned and requirement states are named.
    """
    if q.scale is not None:
        return dict(q.scale)
    return dict(params.scale(q.type) or {})


def _canonical_multi(q: Question, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidAnswer("must be a list of option ids", q.id)
    known = {o.id: o for o in q.options}
    chosen = set(value)
    if len(chosen) != len(value) or not all(isinstance(v, str) and v in known for v in value):
        raise InvalidAnswer(f"must list distinct option ids from {list(known)}", q.id)
    if len(chosen) > 1 and any(known[v].exclusive for v in chosen):
        raise InvalidAnswer("the exclusive option cannot be combined with other options", q.id)
    return [o.id for o in q.options if o.id in chosen]


def _canonical_rows(q: Question, params: Params, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) != {r.id for r in q.rows}:
        raise InvalidAnswer(f"must map every row {[r.id for r in q.rows]} to a state", q.id)
    scale = row_scale(q, params)
    for row, state in value.items():
        if isinstance(state, bool) or state not in scale or (q.type == "adoption") != isinstance(state, int):
            raise InvalidAnswer(f"row '{row}' must be one of {list(scale)}", q.id)
    return {r.id: value[r.id] for r in q.rows}


def _number(q: Question, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidAnswer(f"{what} must be a finite number", q.id)
    if q.value_range is not None and not q.value_range[0] <= value <= q.value_range[1]:
        raise InvalidAnswer(f"{what} must be between {num(q.value_range[0])} and {num(q.value_range[1])}", q.id)
    return value
