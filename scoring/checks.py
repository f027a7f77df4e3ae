"""Check the rules of an instrument that JSON Schema cannot express (sums, uniqueness, references, orderings).

Questions are checked in ``checks_questions``; this module checks the parameters and their optional blocks, the
dimensions, packs, prioritisation inputs, plausibility rules, crosswalks and "unconfirmed" notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from scoring.checks_questions import Context, Problems, check_anchors, unique
from scoring.model import NO_PACK
from scoring.tolerance import SUM_TOL, num, signed, sums_to

_CAVEAT = "an unconfirmed item needs a 'note' saying what the sources leave open"


def semantic_problems(data: dict[str, Any]) -> Problems:
    """Return ``(json_path, reason)`` for every semantic rule the merged, schema-valid instrument breaks."""
    out: Problems = []
    params = data["parameters"]
    dims = data["dimensions"]
    roles = {d["id"]: d["role"] for d in dims}
    _check_params(params, data, roles, out)
    unique(((f"$.dimensions[{i}].id", d["id"]) for i, d in enumerate(dims)), "dimension id", out)
    maturity = [d for d in dims if d["role"] == "maturity"]
    if not maturity:
        out.append(("$.dimensions", "needs at least one dimension with role 'maturity'"))
    total = sum(d["weight"] for d in maturity)
    if not sums_to(total, 100):
        out.append(("$.dimensions", f"maturity dimension weights must sum to 100 (they sum to {num(total)})"))
    packs = data.get("packs", [])
    pack_ids = [p["id"] for p in packs]
    ctx = Context(params, set(data.get("evidence_kinds", {})), set(pack_ids) | {NO_PACK})
    for i, dim in enumerate(dims):
        for j, ind in enumerate(dim["indicators"]):
            ctx.indicator(f"$.dimensions[{i}].indicators[{j}]", ind, dim, None, out)
    by_id = {d["id"]: d for d in dims}
    for i, pack in enumerate(packs):
        _check_pack(f"$.packs[{i}]", pack, by_id, ctx, out)
    unique(((f"$.packs[{i}].id", p) for i, p in enumerate(pack_ids)), "pack id", out)
    unique(ctx.indicator_ids, "indicator id", out)
    unique(ctx.question_ids, "question id", out)
    if "priority" in data:
        _check_priority(data["priority"], roles, params, out)
    _check_rules(data.get("plausibility", {}).get("rules", []), ctx.questions, out)
    _check_crosswalks(data.get("crosswalks", []), roles, out)
    _check_caveats(data, "$", out)
    return out


def _check_params(params: dict[str, Any], data: dict[str, Any], roles: dict[str, str], out: Problems) -> None:
    _check_scales(params.get("scales", {}), out)
    curve = params.get("outcome_curve")
    if curve is not None:
        check_anchors("$.parameters.outcome_curve.anchors", curve["anchors"], curve["below"], True, out)
    if "composite" in params:
        _sums_to_one("$.parameters.composite", params["composite"].values(), out)
        if "outcome" not in roles.values():
            out.append(("$.parameters.composite", "needs an outcome dimension (C combines M with O); remove it"))
    bands = params.get("bands")
    if bands is not None:
        _increasing("$.parameters.bands.cutpoints", bands["cutpoints"], out)
        if len(bands["labels"]) != len(bands["cutpoints"]) + 1:
            out.append(("$.parameters.bands.labels", "needs one label more than there are cutpoints"))
    levels = params.get("levels")
    if levels is not None:
        _check_levels(levels, out)
    elif "required_from_level" in params.get("evidence", {}):
        out.append(("$.parameters.evidence.required_from_level", "is not used: the instrument has no 'levels' block"))
    if params["confidence"]["default"] > params["confidence"]["max"]:
        out.append(("$.parameters.confidence.default", "must not exceed confidence.max"))
    _check_advice(params, levels is not None, out)
    _check_priority_params(params, data, out)
    if data.get("packs") and "packs" not in params:
        out.append(("$.parameters", "missing required field 'packs' (industry packs need packs.max_shift)"))


def _check_scales(scales: dict[str, Any], out: Problems) -> None:
    orders = {
        "adoption": scales.get("adoption"),
        "tri_state": [scales["tri_state"][k] for k in ("no", "partly", "yes")] if "tri_state" in scales else None,
        "requirement": [scales["requirement"][k] for k in ("none", "partly", "mostly", "fully")]
        if "requirement" in scales
        else None,
        "in_use_planned": [scales["in_use_planned"][k] for k in ("none", "planned", "in_use")]
        if "in_use_planned" in scales
        else None,
    }
    for name, values in orders.items():
        if values is not None and any(b < a for a, b in zip(values, values[1:], strict=False)):
            out.append((f"$.parameters.scales.{name}", "values must not decrease from the lowest to the highest state"))
    iup = scales.get("in_use_planned")
    if iup is not None and iup["both"] < max(iup["in_use"], iup["planned"]):
        out.append(("$.parameters.scales.in_use_planned.both", "must be at least the 'in_use' and 'planned' values"))


def _check_levels(levels: dict[str, Any], out: Problems) -> None:
    stairs = levels["staircase"]
    if len(levels["names"]) != len(stairs) + 1:
        out.append(("$.parameters.levels.names", "needs one name per level plus one for level 0"))
    for n, row in enumerate(stairs):
        if len(row) != n + 1:
            out.append(
                (f"$.parameters.levels.staircase[{n}]", f"level {n + 1} needs {n + 1} thresholds (p1..p{n + 1})")
            )
        elif n and any(row[k] < stairs[n - 1][k] for k in range(n)):
            out.append((f"$.parameters.levels.staircase[{n}]", "thresholds must not be lower than the level below's"))


def _check_advice(params: dict[str, Any], has_levels: bool, out: Problems) -> None:
    """The advice block is ``advice`` plus ``cost_tiers``; it needs levels, because plans lead to the next level."""
    present = [k for k in ("advice", "cost_tiers") if k in params]
    if len(present) == 1:
        missing = "cost_tiers" if present == ["advice"] else "advice"
        out.append(("$.parameters", f"missing required field '{missing}' (advice and cost_tiers come together)"))
    if present and not has_levels:
        out.append((f"$.parameters.{present[0]}", "needs 'levels': advice plans lead to the next gated level"))
    for n, tier in enumerate(params.get("cost_tiers", [])):
        if tier["tier"] != n + 1:
            out.append((f"$.parameters.cost_tiers[{n}].tier", f"must be {n + 1} (tiers are numbered 1, 2, 3, ...)"))
    if "cost_tiers" in params:
        _increasing("$.parameters.cost_tiers", [t["cost"] for t in params["cost_tiers"]], out, "costs")


def _check_priority_params(params: dict[str, Any], data: dict[str, Any], out: Problems) -> None:
    """The priority block is ``parameters.priority`` plus the top-level ``priority``; it needs the advice block."""
    if ("priority" in params) != ("priority" in data):
        where, missing = ("$", "priority") if "priority" in params else ("$.parameters", "priority")
        out.append((where, f"missing required field '{missing}' (parameters.priority and priority come together)"))
    if "priority" not in params:
        return
    if "advice" not in params:
        out.append(("$.parameters.priority", "needs the advice block: priorities use each dimension's advice plan"))
    prio = params["priority"]
    _sums_to_one("$.parameters.priority.weights", prio["weights"].values(), out)
    _sums_to_one("$.parameters.priority.rank_weights", prio["rank_weights"], out)
    _sums_to_one("$.parameters.priority.impact_mix", prio["impact_mix"].values(), out)
    ranks = prio["rank_weights"]
    if any(b > a for a, b in zip(ranks, ranks[1:], strict=False)):
        out.append(("$.parameters.priority.rank_weights", "must not increase from rank 1 down"))


def _check_pack(path: str, pack: dict[str, Any], dims: dict[str, dict[str, Any]], ctx: Context, out: Problems) -> None:
    if pack["id"] == NO_PACK:
        out.append((f"{path}.id", f"'{NO_PACK}' is reserved for firms without an industry pack"))
    shift = ctx.params.get("packs", {}).get("max_shift", 0)
    roles = {d: dim["role"] for d, dim in dims.items()}
    for dim, delta in pack.get("reweight", {}).items():
        if roles.get(dim) != "maturity":
            out.append((f"{path}.reweight.{dim}", "must name a maturity dimension"))
        elif abs(delta) > shift + SUM_TOL:
            out.append((f"{path}.reweight.{dim}", f"must be within ±{num(shift)} points (found {signed(delta)})"))
    net = sum(pack.get("reweight", {}).values())
    if not sums_to(net, 0):
        out.append(
            (f"{path}.reweight", f"re-weighted dimension weights must still sum to 100 (they sum to {num(100 + net)})")
        )
    for i, ind in enumerate(pack.get("indicators", [])):
        ipath = f"{path}.indicators[{i}]"
        if ind["dimension"] not in dims:
            out.append((f"{ipath}.dimension", f"unknown dimension '{ind['dimension']}'"))
            continue
        ctx.indicator(ipath, ind, dims[ind["dimension"]], pack["id"], out)
    for qid, anchors in pack.get("anchors", {}).items():
        q = ctx.questions.get(qid)
        if q is None or q["type"] != "kpi":
            out.append((f"{path}.anchors.{qid}", "must name a 'kpi' question"))
        else:
            check_anchors(f"{path}.anchors.{qid}", anchors, q.get("below"), False, out)
    if "impacts" in pack and "priority" not in ctx.params:
        out.append((f"{path}.impacts", "is not used: the instrument has no priority block"))
        return
    for group, items in pack.get("impacts", {}).items():
        for item, impacts in items.items():
            _check_impacts(f"{path}.impacts.{group}.{item}", impacts, roles, ctx.params, out, partial=True)


def _check_priority(priority: dict[str, Any], roles: dict[str, str], params: dict[str, Any], out: Problems) -> None:
    for group in ("kpis", "cost_categories"):
        items = priority[group]
        unique(((f"$.priority.{group}[{i}].id", it["id"]) for i, it in enumerate(items)), "id", out)
        for i, item in enumerate(items):
            _check_impacts(f"$.priority.{group}[{i}].impact", item["impact"], roles, params, out, partial=False)


def _check_impacts(
    path: str, impacts: dict[str, int], roles: dict[str, str], params: dict[str, Any], out: Problems, partial: bool
) -> None:
    top = params.get("priority", {}).get("impact_max")
    for dim, value in impacts.items():
        if roles.get(dim) != "maturity":
            out.append((f"{path}.{dim}", "must name a maturity dimension"))
        elif top is not None and value > top:
            out.append((f"{path}.{dim}", f"must be at most {top}"))
    missing = [d for d, r in roles.items() if r == "maturity" and d not in impacts]
    if missing and not partial:
        out.append((path, "missing impact for " + ", ".join(missing)))


def _check_rules(rules: list[dict[str, Any]], questions: dict[str, dict[str, Any]], out: Problems) -> None:
    unique(((f"$.plausibility.rules[{i}].id", r["id"]) for i, r in enumerate(rules)), "rule id", out)
    for i, rule in enumerate(rules):
        for n, cond in enumerate(rule["when"]):
            path = f"$.plausibility.rules[{i}].when[{n}]"
            ops = [k for k in ("score_gte", "score_lte", "value_lt", "value_gte") if k in cond]
            q = questions.get(cond["question"])
            if len(ops) != 1:
                out.append((path, "needs exactly one of score_gte, score_lte, value_lt, value_gte"))
            if q is None:
                out.append((f"{path}.question", f"unknown question '{cond['question']}'"))
                continue
            if ops and ops[0].startswith("value_") and q["type"] != "kpi":
                out.append((f"{path}.{ops[0]}", "value comparisons need a 'kpi' question"))
            if "row" in cond and cond["row"] not in {r["id"] for r in q.get("rows", [])}:
                out.append((f"{path}.row", f"question '{q['id']}' has no row '{cond['row']}'"))


def _check_crosswalks(crosswalks: list[dict[str, Any]], roles: dict[str, str], out: Problems) -> None:
    """Check that a crosswalk maps only this instrument's maturity dimensions (source ids are checked when both
    instruments are loaded, by ``check_crosswalk``)."""
    unique(
        ((f"$.crosswalks[{i}]", f"{c['from']} {c['version']}") for i, c in enumerate(crosswalks)),
        "crosswalk from",
        out,
    )
    for i, crosswalk in enumerate(crosswalks):
        for dim in crosswalk["dimensions"]:
            if roles.get(dim) != "maturity":
                out.append((f"$.crosswalks[{i}].dimensions.{dim}", f"unknown maturity dimension '{dim}'"))


def _check_caveats(value: Any, path: str, out: Problems) -> None:
    """Every mapping with ``unconfirmed: true`` must carry a ``note``."""
    if isinstance(value, dict):
        if value.get("unconfirmed") is True and "note" not in value:
            out.append((path, _CAVEAT))
        for key, item in value.items():
            _check_caveats(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _check_caveats(item, f"{path}[{n}]", out)


def _sums_to_one(path: str, values: Iterable[float], out: Problems) -> None:
    total = sum(values)
    if not sums_to(total, 1):
        out.append((path, f"must sum to 1 (they sum to {num(total)})"))


def _increasing(path: str, values: Sequence[float], out: Problems, what: str = "values") -> None:
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        out.append((path, f"{what} must be strictly increasing"))
