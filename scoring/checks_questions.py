"""Check indicators and questions: type fields, levels, evidence, advice fields, options and per-question scales."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from scoring.model import NAMED_STATES, QUESTION_TYPES, ROW_TYPES, SCALED_TYPES
from scoring.tolerance import num

STANDARD_ADOPTION_STATES = 6  # the wizard's standard labels name states 0-5
# Fields each question type may use beyond the common ones (id, type, text, help, weight, level, ...).
_TYPE_FIELDS = {
    "single": {"options"},
    "multi": {"options", "exclusive_in_denominator"},
    "requirement": {"cost_tier", "advice", "scale", "scale_labels"},
    "kpi": {"anchors", "below", "range", "unit", "cost_tier", "advice"},
    "kpi_delta": {"anchors", "below", "range", "unit", "direction"},
    **{t: {"rows", "scale", "scale_labels"} for t in ROW_TYPES},
}
_SPECIFIC = set().union(*_TYPE_FIELDS.values())
assert set(_TYPE_FIELDS) == set(QUESTION_TYPES)
NO_ADVICE = "is not used: the instrument has no advice block (parameters.advice and cost_tiers)"

Problems = list[tuple[str, str]]


def unique(items: Iterable[tuple[str, str]], what: str, out: Problems) -> None:
    """Report every value after its first occurrence as a duplicate."""
    seen: set[str] = set()
    for path, value in items:
        if value in seen:
            out.append((path, f"duplicate {what} '{value}'"))
        seen.add(value)


class Context:
    """Collect ids and questions while walking dimensions and packs, and check each question."""

    def __init__(self, params: dict[str, Any], kinds: set[str], industries: set[str]) -> None:
        self.params, self.kinds, self.industries = params, kinds, industries
        self.levels = params.get("levels")
        self.advice = "advice" in params and "cost_tiers" in params
        self.tiers = len(params.get("cost_tiers", []))
        self.max_level = len(self.levels["staircase"]) if self.levels else 0
        self.evidence = params.get("evidence")
        self.indicator_ids: list[tuple[str, str]] = []
        self.question_ids: list[tuple[str, str]] = []
        self.questions: dict[str, dict[str, Any]] = {}

    def indicator(self, path: str, ind: dict[str, Any], dim: dict[str, Any], pack: str | None, out: Problems) -> None:
        """Check one indicator (its weight against the dimension's aggregation) and its questions."""
        self.indicator_ids.append((f"{path}.id", ind["id"]))
        if dim.get("aggregation") == "min" and "weight" in ind:
            out.append((f"{path}.weight", "is not used: a 'min' dimension scores its lowest indicator"))
        elif dim.get("aggregation", "mean") == "mean" and "weight" not in ind:
            out.append((path, "missing required field 'weight'"))
        for k, q in enumerate(ind["questions"]):
            qpath = f"{path}.questions[{k}]"
            self.question_ids.append((f"{qpath}.id", q["id"]))
            self.questions.setdefault(q["id"], q)
            self.question(qpath, q, dim["role"], pack, out)

    def question(self, path: str, q: dict[str, Any], role: str, pack: str | None, out: Problems) -> None:
        """Check one question against its type, role and the instrument parameters."""
        qtype = q["type"]
        for name in sorted((_SPECIFIC - _TYPE_FIELDS[qtype]) & set(q)):
            out.append((f"{path}.{name}", f"is not used by questions of type '{qtype}'"))
        if role == "maturity":
            self._level(path, q, out)
        else:
            if qtype != "kpi_delta":
                out.append((f"{path}.type", "outcome dimensions hold only 'kpi_delta' questions"))
            for name in ("level", "critical", "evidence"):
                if name in q:
                    out.append((f"{path}.{name}", "is not used by outcome questions"))
            if qtype == "kpi_delta" and "anchors" not in q and "outcome_curve" not in self.params:
                out.append((path, "missing required field 'anchors' (the instrument has no parameters.outcome_curve)"))
        if q.get("critical") and q.get("na_allowed"):
            out.append((f"{path}.na_allowed", "a critical question cannot be answered N/A"))
        self._evidence(path, q, role, out)
        if pack is not None and "industries" in q:
            out.append((f"{path}.industries", "pack questions apply to their pack's industry only; remove it"))
        for n, industry in enumerate(q.get("industries", [])):
            if industry not in self.industries:
                out.append((f"{path}.industries[{n}]", f"unknown industry '{industry}'"))
        self._advice_fields(path, q, qtype in ("requirement", "kpi"), out)
        if "options" in q:
            self._options(path, q, out)
        if "rows" in q:
            unique(((f"{path}.rows[{n}].id", r["id"]) for n, r in enumerate(q["rows"])), "row id", out)
            for n, row in enumerate(q["rows"]):
                self._advice_fields(f"{path}.rows[{n}]", row, True, out)
        if qtype in SCALED_TYPES:
            _check_scale(path, q, self.params.get("scales", {}), out)
        if "anchors" in q:
            check_anchors(f"{path}.anchors", q["anchors"], q.get("below"), qtype == "kpi_delta", out)
        elif "below" in q:
            out.append((f"{path}.below", "needs 'anchors'"))
        if "range" in q and q["range"][0] >= q["range"][1]:
            out.append((f"{path}.range", "the lower bound must be below the upper bound"))

    def _level(self, path: str, q: dict[str, Any], out: Problems) -> None:
        if q["type"] == "kpi_delta":
            out.append((f"{path}.type", "'kpi_delta' questions belong in an outcome dimension"))
        if self.levels is None:
            for name in ("level", "critical"):
                if name in q:
                    out.append((f"{path}.{name}", "is not used: the instrument has no 'levels' block"))
        elif "level" not in q:
            out.append((path, "missing required field 'level' (maturity questions carry a level tag)"))
        elif q["level"] > self.max_level:
            out.append((f"{path}.level", f"must be at most {self.max_level} (the staircase has that many levels)"))

    def _evidence(self, path: str, q: dict[str, Any], role: str, out: Problems) -> None:
        from_level = (self.evidence or {}).get("required_from_level")
        high = from_level is not None and q.get("level", 0) >= from_level
        if role == "maturity" and (q.get("critical") or high) and "evidence" not in q:
            out.append((path, "missing required field 'evidence' (critical and high-level questions need it)"))
        rule = q.get("evidence")
        if rule is None:
            return
        if "cap" not in rule and self.evidence is None:
            out.append((f"{path}.evidence", "missing required field 'cap' (the instrument has no parameters.evidence)"))
        for n, kind in enumerate(rule["kinds"]):
            if kind not in self.kinds:
                out.append((f"{path}.evidence.kinds[{n}]", f"unknown evidence kind '{kind}'"))

    def _advice_fields(self, path: str, item: dict[str, Any], needs: bool, out: Problems, why: str = "") -> None:
        """Check ``cost_tier`` and ``advice`` of a question, row or option: needed, or not used without advice."""
        for name in ("cost_tier", "advice"):
            if not self.advice:
                if name in item:
                    out.append((f"{path}.{name}", NO_ADVICE))
            elif needs and name not in item:
                out.append((path, f"missing required field '{name}'{why}"))
        tier = item.get("cost_tier")
        if self.advice and tier is not None and tier > self.tiers:
            out.append((f"{path}.cost_tier", f"must be at most {self.tiers} (the number of cost tiers)"))

    def _options(self, path: str, q: dict[str, Any], out: Problems) -> None:
        options = q["options"]
        unique(((f"{path}.options[{n}].id", o["id"]) for n, o in enumerate(options)), "option id", out)
        lowest = min(o["value"] for o in options)
        exclusive = [n for n, o in enumerate(options) if o.get("exclusive")]
        if exclusive and q["type"] != "multi":
            out.append(
                (f"{path}.options[{exclusive[0]}].exclusive", "only multi-select questions have an exclusive option")
            )
        if len(exclusive) > 1:
            out.append((f"{path}.options[{exclusive[1]}].exclusive", "a question has at most one exclusive option"))
        counted = q.get("exclusive_in_denominator", False)
        if counted and not exclusive:
            out.append((f"{path}.exclusive_in_denominator", "needs an option marked exclusive: true to count"))
        if q["type"] == "multi" and not any(o["value"] > 0 for o in options if not o.get("exclusive")):
            out.append((f"{path}.options", "a multi-select question needs an option with a value above 0"))
        for n, opt in enumerate(options):
            opath = f"{path}.options[{n}]"
            if opt.get("exclusive"):
                if counted and opt["value"] <= 0:
                    out.append(
                        (
                            f"{opath}.value",
                            "must be above 0: with exclusive_in_denominator the exclusive option's value is its "
                            "weight in the denominator",
                        )
                    )
                elif not counted and opt["value"] != 0:
                    out.append(
                        (
                            f"{opath}.value",
                            "the exclusive 'none' option must have value 0 (or set exclusive_in_denominator: true "
                            "on the question to count it in the denominator)",
                        )
                    )
                self._advice_fields(opath, opt, False, out)
                for name in ("cost_tier", "advice"):
                    if self.advice and name in opt:
                        out.append((f"{opath}.{name}", "is not used: the exclusive option is never recommended"))
                continue
            improves = opt["value"] > 0 if q["type"] == "multi" else opt["value"] > lowest
            why = (
                " (options with a value above 0 carry advice)"
                if q["type"] == "multi"
                else " (options above the lowest carry advice)"
            )
            self._advice_fields(opath, opt, improves, out, why)


def check_anchors(path: str, anchors: Sequence[Sequence[float]], below: float | None, up: bool, out: Problems) -> None:
    """Check that anchor x values strictly increase and scores only rise (or, unless ``up``, only fall)."""
    xs, ys = [a[0] for a in anchors], [a[1] for a in anchors]
    for n in range(1, len(xs)):
        if xs[n] <= xs[n - 1]:
            out.append((f"{path}[{n}][0]", f"x must be strictly greater than the previous anchor ({num(xs[n - 1])})"))
    rising = all(b >= a for a, b in zip(ys, ys[1:], strict=False))
    falling = all(b <= a for a, b in zip(ys, ys[1:], strict=False))
    if not (rising if up else rising or falling):
        out.append((path, "scores must rise (or, for KPIs where lower is better, fall) along the anchors"))
    elif below is not None and ((rising and below > ys[0]) or (not rising and below < ys[0])):
        out.append((path.replace(".anchors", ".below"), "would make the curve non-monotone before the first anchor"))


def _check_scale(path: str, q: dict[str, Any], scales: dict[str, Any], out: Problems) -> None:
    """Check a question's own ``scale`` and ``scale_labels``, or that the instrument-wide scale exists."""
    qtype = q["type"]
    scale, labels = q.get("scale"), q.get("scale_labels")
    if scale is None:
        if qtype not in scales:
            out.append((path, f"missing required field 'scale' (the instrument has no parameters.scales.{qtype})"))
            return
        scale = scales[qtype]
    elif not _scale_ok(f"{path}.scale", qtype, scale, out):
        return
    states: list[Any] = list(range(len(scale))) if qtype == "adoption" else list(scale)
    if labels is None:
        if qtype == "adoption" and len(states) != STANDARD_ADOPTION_STATES:
            out.append(
                (
                    path,
                    "missing required field 'scale_labels' (the standard labels name states 0-5; this scale has "
                    f"{len(states)} states)",
                )
            )
        return
    lpath = f"{path}.scale_labels"
    if qtype == "adoption":
        if not isinstance(labels, list):
            out.append((lpath, "must be a list with one label per state"))
            return
        if len(labels) != len(states):
            out.append((lpath, f"needs one label per state ({len(states)}), found {len(labels)}"))
        items: list[tuple[str, Any]] = [(f"{lpath}[{n}]", t) for n, t in enumerate(labels)]
    else:
        if not isinstance(labels, dict):
            out.append((lpath, "must be a mapping of states to labels"))
            return
        if set(labels) != set(states):
            out.append((lpath, "must label exactly the scale's states: " + ", ".join(str(s) for s in states)))
        items = [(f"{lpath}.{k}", t) for k, t in labels.items()]
    for where, text in items:
        bilingual = isinstance(text, dict) and set(text) == {"zh", "en"}
        if not (bilingual and all(isinstance(v, str) and v for v in text.values())):
            out.append((where, "must be a text with 'zh' and 'en'"))


def _scale_ok(path: str, qtype: str, scale: Any, out: Problems) -> bool:
    """Check an own scale's shape and order; return whether it is usable."""
    before = len(out)
    if qtype == "adoption":
        if not isinstance(scale, list):
            out.append((path, "must be a list of values for states 0, 1, 2, ..."))
            return False
        values = scale
        where = [f"{path}[{n}]" for n in range(len(scale))]
    else:
        known = NAMED_STATES[qtype]
        if not isinstance(scale, dict):
            out.append((path, "must be a mapping of states (" + ", ".join(known) + ") to values"))
            return False
        for key in scale:
            if key not in known:
                out.append((f"{path}.{key}", f"unknown state '{key}'; expected one of " + ", ".join(known)))
        ordered = [k for k in known if k in scale]
        values = [scale[k] for k in ordered]
        where = [f"{path}.{k}" for k in ordered]
    if len(scale) < 2:
        out.append((path, "needs at least two states"))
    for at, value in zip(where, values, strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            out.append((at, "must be a number from 0 to 1"))
    if len(out) > before:
        return False
    monotone = values if qtype != "in_use_planned" else [scale[k] for k in ("none", "planned", "in_use") if k in scale]
    if any(b < a for a, b in zip(monotone, monotone[1:], strict=False)):
        out.append((path, "values must not decrease from the lowest to the highest state"))
    if qtype == "in_use_planned" and "both" in scale:
        others = [scale[k] for k in ("in_use", "planned") if k in scale]
        if others and scale["both"] < max(others):
            out.append((f"{path}.both", f"must be at least the 'in_use' and 'planned' values ({num(max(others))})"))
    return len(out) == before
