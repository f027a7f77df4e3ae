"""Check the rules of an instrument that JSON Schema cannot express (sums, uniqueness, references, orderings)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from scoring.model import NO_PACK, QUESTION_TYPES, ROW_TYPES

_TOL = 1e-6
# Fields each question type may use beyond the common ones (id, type, text, help, weight, level, ...).
_TYPE_FIELDS = {
    "single": {"options"},
    "multi": {"options"},
    "requirement": {"cost_tier", "advice"},
    "kpi": {"anchors", "below", "range", "unit", "cost_tier", "advice"},
    "kpi_delta": {"anchors", "below", "range", "unit", "direction"},
    **{t: {"rows"} for t in ROW_TYPES},
}
_SPECIFIC = set().union(*_TYPE_FIELDS.values())
assert set(_TYPE_FIELDS) == set(QUESTION_TYPES)

Problems = list[tuple[str, str]]


def semantic_problems(data: dict[str, Any]) -> Problems:
    """Return ``(json_path, reason)`` for every semantic rule the merged, schema-valid instrument breaks."""
    out: Problems = []
    params = data["parameters"]
    _check_params(params, out)
    dims = data["dimensions"]
    _unique(((f"$.dimensions[{i}].id", d["id"]) for i, d in enumerate(dims)), "dimension id", out)
    roles = {d["id"]: d["role"] for d in dims}
    maturity = [d for d in dims if d["role"] == "maturity"]
    if not maturity:
        out.append(("$.dimensions", "needs at least one dimension with role 'maturity'"))
    total = sum(d["weight"] for d in maturity)
    if abs(total - 100) > _TOL:
        out.append(("$.dimensions", f"maturity dimension weights must sum to 100 (they sum to {total:g})"))
    packs = data.get("packs", [])
    pack_ids = [p["id"] for p in packs]
    ctx = _Context(params, set(data["evidence_kinds"]), set(pack_ids) | {NO_PACK})
    for i, dim in enumerate(dims):
        for j, ind in enumerate(dim["indicators"]):
            path = f"$.dimensions[{i}].indicators[{j}]"
            ctx.indicator(path, ind, dim["role"], None, out)
    for i, pack in enumerate(packs):
        _check_pack(f"$.packs[{i}]", pack, roles, ctx, out)
    _unique(((f"$.packs[{i}].id", p) for i, p in enumerate(pack_ids)), "pack id", out)
    _unique(ctx.indicator_ids, "indicator id", out)
    _unique(ctx.question_ids, "question id", out)
    _check_priority(data["priority"], roles, params, out)
    _check_rules(data["plausibility"]["rules"], ctx.questions, out)
    return out


class _Context:
    """Collect ids and questions while walking dimensions and packs."""

    def __init__(self, params: dict[str, Any], kinds: set[str], industries: set[str]) -> None:
        self.params, self.kinds, self.industries = params, kinds, industries
        self.tiers = len(params["cost_tiers"])
        self.max_level = len(params["levels"]["staircase"])
        self.indicator_ids: list[tuple[str, str]] = []
        self.question_ids: list[tuple[str, str]] = []
        self.questions: dict[str, dict[str, Any]] = {}

    def indicator(self, path: str, ind: dict[str, Any], role: str, pack: str | None, out: Problems) -> None:
        """Check one indicator and its questions."""
        self.indicator_ids.append((f"{path}.id", ind["id"]))
        for k, q in enumerate(ind["questions"]):
            qpath = f"{path}.questions[{k}]"
            self.question_ids.append((f"{qpath}.id", q["id"]))
            self.questions.setdefault(q["id"], q)
            self.question(qpath, q, role, pack, out)

    def question(self, path: str, q: dict[str, Any], role: str, pack: str | None, out: Problems) -> None:
        """Check one question against its type, role and the instrument parameters."""
        qtype = q["type"]
        for name in sorted((_SPECIFIC - _TYPE_FIELDS[qtype]) & set(q)):
            out.append((f"{path}.{name}", f"is not used by questions of type '{qtype}'"))
        if role == "maturity":
            if qtype == "kpi_delta":
                out.append((f"{path}.type", "'kpi_delta' questions belong in an outcome dimension"))
            if "level" not in q:
                out.append((path, "missing required field 'level' (maturity questions carry a level tag)"))
            elif q["level"] > self.max_level:
                out.append((f"{path}.level", f"must be at most {self.max_level} (the staircase has that many levels)"))
        else:
            if qtype != "kpi_delta":
                out.append((f"{path}.type", "outcome dimensions hold only 'kpi_delta' questions"))
            for name in ("level", "critical", "evidence"):
                if name in q:
                    out.append((f"{path}.{name}", "is not used by outcome questions"))
        if q.get("critical") and q.get("na_allowed"):
            out.append((f"{path}.na_allowed", "a critical question cannot be answered N/A"))
        needs_evidence = q.get("critical") or q.get("level", 0) >= self.params["evidence"]["required_from_level"]
        if role == "maturity" and needs_evidence and "evidence" not in q:
            out.append((path, "missing required field 'evidence' (critical and high-level questions need it)"))
        for n, kind in enumerate(q.get("evidence", {}).get("kinds", [])):
            if kind not in self.kinds:
                out.append((f"{path}.evidence.kinds[{n}]", f"unknown evidence kind '{kind}'"))
        if pack is not None and "industries" in q:
            out.append((f"{path}.industries", "pack questions apply to their pack's industry only; remove it"))
        for n, industry in enumerate(q.get("industries", [])):
            if industry not in self.industries:
                out.append((f"{path}.industries[{n}]", f"unknown industry '{industry}'"))
        self._tier(f"{path}.cost_tier", q.get("cost_tier"), out)
        if "options" in q:
            self._options(path, q, out)
        if "rows" in q:
            _unique(((f"{path}.rows[{n}].id", r["id"]) for n, r in enumerate(q["rows"])), "row id", out)
            for n, row in enumerate(q["rows"]):
                self._tier(f"{path}.rows[{n}].cost_tier", row["cost_tier"], out)
        if "anchors" in q:
            _check_anchors(f"{path}.anchors", q["anchors"], q.get("below"), qtype == "kpi_delta", out)
        elif "below" in q:
            out.append((f"{path}.below", "needs 'anchors'"))
        if "range" in q and q["range"][0] >= q["range"][1]:
            out.append((f"{path}.range", "the lower bound must be below the upper bound"))

    def _options(self, path: str, q: dict[str, Any], out: Problems) -> None:
        options = q["options"]
        _unique(((f"{path}.options[{n}].id", o["id"]) for n, o in enumerate(options)), "option id", out)
        lowest = min(o["value"] for o in options)
        exclusive = [n for n, o in enumerate(options) if o.get("exclusive")]
        if exclusive and q["type"] != "multi":
            out.append(
                (f"{path}.options[{exclusive[0]}].exclusive", "only multi-select questions have an exclusive option")
            )
        if len(exclusive) > 1:
            out.append((f"{path}.options[{exclusive[1]}].exclusive", "a question has at most one exclusive option"))
        if q["type"] == "multi" and not any(o["value"] > 0 for o in options if not o.get("exclusive")):
            out.append((f"{path}.options", "a multi-select question needs an option with a value above 0"))
        for n, opt in enumerate(options):
            opath = f"{path}.options[{n}]"
            self._tier(f"{opath}.cost_tier", opt.get("cost_tier"), out)
            if opt.get("exclusive"):
                if opt["value"] != 0:
                    out.append((f"{opath}.value", "the exclusive 'none' option must have value 0"))
                continue
            improves = opt["value"] > 0 if q["type"] == "multi" else opt["value"] > lowest
            for name in ("cost_tier", "advice"):
                if improves and name not in opt:
                    out.append((opath, f"missing required field '{name}' (options above the lowest carry advice)"))

    def _tier(self, path: str, tier: int | None, out: Problems) -> None:
        if tier is not None and tier > self.tiers:
            out.append((path, f"must be at most {self.tiers} (the number of cost tiers)"))


def _check_anchors(path: str, anchors: Sequence[Sequence[float]], below: float | None, up: bool, out: Problems) -> None:
    xs, ys = [a[0] for a in anchors], [a[1] for a in anchors]
    for n in range(1, len(xs)):
        if xs[n] <= xs[n - 1]:
            out.append((f"{path}[{n}][0]", f"x must be strictly greater than the previous anchor ({xs[n - 1]:g})"))
    rising = all(b >= a for a, b in zip(ys, ys[1:], strict=False))
    falling = all(b <= a for a, b in zip(ys, ys[1:], strict=False))
    if not (rising if up else rising or falling):
        out.append((path, "scores must rise (or, for KPIs where lower is better, fall) along the anchors"))
    elif below is not None and ((rising and below > ys[0]) or (not rising and below < ys[0])):
        out.append((path.replace(".anchors", ".below"), "would make the curve non-monotone before the first anchor"))


def _check_params(params: dict[str, Any], out: Problems) -> None:
    scales = params["scales"]
    orders = {
        "adoption": scales["adoption"],
        "tri_state": [scales["tri_state"][k] for k in ("no", "partly", "yes")],
        "requirement": [scales["requirement"][k] for k in ("none", "partly", "mostly", "fully")],
        "in_use_planned": [scales["in_use_planned"][k] for k in ("none", "planned", "in_use")],
    }
    for name, values in orders.items():
        if any(b < a for a, b in zip(values, values[1:], strict=False)):
            out.append((f"$.parameters.scales.{name}", "values must not decrease from the lowest to the highest state"))
    iup = scales["in_use_planned"]
    if iup["both"] < max(iup["in_use"], iup["planned"]):
        out.append(("$.parameters.scales.in_use_planned.both", "must be at least the 'in_use' and 'planned' values"))
    curve = params["outcome_curve"]
    _check_anchors("$.parameters.outcome_curve.anchors", curve["anchors"], curve["below"], True, out)
    _sums_to_one("$.parameters.composite", params["composite"].values(), out)
    bands = params["bands"]
    _increasing("$.parameters.bands.cutpoints", bands["cutpoints"], out)
    if len(bands["labels"]) != len(bands["cutpoints"]) + 1:
        out.append(("$.parameters.bands.labels", "needs one label more than there are cutpoints"))
    levels = params["levels"]
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
    if params["confidence"]["default"] > params["confidence"]["max"]:
        out.append(("$.parameters.confidence.default", "must not exceed confidence.max"))
    for n, tier in enumerate(params["cost_tiers"]):
        if tier["tier"] != n + 1:
            out.append((f"$.parameters.cost_tiers[{n}].tier", f"must be {n + 1} (tiers are numbered 1, 2, 3, ...)"))
    _increasing("$.parameters.cost_tiers", [t["cost"] for t in params["cost_tiers"]], out, "costs")
    prio = params["priority"]
    _sums_to_one("$.parameters.priority.weights", prio["weights"].values(), out)
    _sums_to_one("$.parameters.priority.rank_weights", prio["rank_weights"], out)
    _sums_to_one("$.parameters.priority.impact_mix", prio["impact_mix"].values(), out)
    ranks = prio["rank_weights"]
    if any(b > a for a, b in zip(ranks, ranks[1:], strict=False)):
        out.append(("$.parameters.priority.rank_weights", "must not increase from rank 1 down"))


def _check_pack(path: str, pack: dict[str, Any], roles: dict[str, str], ctx: _Context, out: Problems) -> None:
    if pack["id"] == NO_PACK:
        out.append((f"{path}.id", f"'{NO_PACK}' is reserved for firms without an industry pack"))
    shift = ctx.params["packs"]["max_shift"]
    for dim, delta in pack.get("reweight", {}).items():
        if roles.get(dim) != "maturity":
            out.append((f"{path}.reweight.{dim}", "must name a maturity dimension"))
        elif abs(delta) > shift + _TOL:
            out.append((f"{path}.reweight.{dim}", f"must be within ±{shift:g} points (found {delta:+g})"))
    net = sum(pack.get("reweight", {}).values())
    if abs(net) > _TOL:
        out.append(
            (f"{path}.reweight", f"re-weighted dimension weights must still sum to 100 (they sum to {100 + net:g})")
        )
    for i, ind in enumerate(pack.get("indicators", [])):
        ipath = f"{path}.indicators[{i}]"
        if ind["dimension"] not in roles:
            out.append((f"{ipath}.dimension", f"unknown dimension '{ind['dimension']}'"))
            continue
        ctx.indicator(ipath, ind, roles[ind["dimension"]], pack["id"], out)
    for qid, anchors in pack.get("anchors", {}).items():
        q = ctx.questions.get(qid)
        if q is None or q["type"] != "kpi":
            out.append((f"{path}.anchors.{qid}", "must name a 'kpi' question"))
        else:
            _check_anchors(f"{path}.anchors.{qid}", anchors, q.get("below"), False, out)
    for group, items in pack.get("impacts", {}).items():
        for item, impacts in items.items():
            _check_impacts(f"{path}.impacts.{group}.{item}", impacts, roles, ctx.params, out, partial=True)


def _check_priority(priority: dict[str, Any], roles: dict[str, str], params: dict[str, Any], out: Problems) -> None:
    for group in ("kpis", "cost_categories"):
        items = priority[group]
        _unique(((f"$.priority.{group}[{i}].id", it["id"]) for i, it in enumerate(items)), "id", out)
        for i, item in enumerate(items):
            _check_impacts(f"$.priority.{group}[{i}].impact", item["impact"], roles, params, out, partial=False)


def _check_impacts(
    path: str, impacts: dict[str, int], roles: dict[str, str], params: dict[str, Any], out: Problems, partial: bool
) -> None:
    top = params["priority"]["impact_max"]
    for dim, value in impacts.items():
        if roles.get(dim) != "maturity":
            out.append((f"{path}.{dim}", "must name a maturity dimension"))
        elif value > top:
            out.append((f"{path}.{dim}", f"must be at most {top}"))
    missing = [d for d, r in roles.items() if r == "maturity" and d not in impacts]
    if missing and not partial:
        out.append((path, "missing impact for " + ", ".join(missing)))


def _check_rules(rules: list[dict[str, Any]], questions: dict[str, dict[str, Any]], out: Problems) -> None:
    _unique(((f"$.plausibility.rules[{i}].id", r["id"]) for i, r in enumerate(rules)), "rule id", out)
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


def _unique(items: Iterable[tuple[str, str]], what: str, out: Problems) -> None:
    seen: set[str] = set()
    for path, value in items:
        if value in seen:
            out.append((path, f"duplicate {what} '{value}'"))
        seen.add(value)


def _sums_to_one(path: str, values: Iterable[float], out: Problems) -> None:
    total = sum(values)
    if abs(total - 1) > _TOL:
        out.append((path, f"must sum to 1 (they sum to {total:g})"))


def _increasing(path: str, values: Sequence[float], out: Problems, what: str = "values") -> None:
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        out.append((path, f"{what} must be strictly increasing"))
