"""Validate a round-parameter dict field by field and build ``RoundParams``; every problem is reported at once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from scoring.programme import defaults
from scoring.programme.errors import Problem, ProgrammeError
from scoring.programme.params import (
    Criterion,
    EligibilityParams,
    QuotaParams,
    RankingParams,
    ReviewParams,
    RoundParams,
)
from scoring.tolerance import same

SECTIONS = ("eligibility", "ranking", "quotas", "review")
CRITERION_TIE = "criterion:"
MIN_DAYS = defaults.MIN_PUBLICITY_WORKING_DAYS


def _at(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


class _Reader:
    """Collect problems while reading fields; a bad field yields its default so the rest can still be checked."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, key: str, path: str, **params: Any) -> None:
        """Record one problem."""
        self.problems.append(Problem(key, path, params))

    def section(self, data: Any, path: str, base: Mapping[str, Any]) -> dict[str, Any]:
        """Return a section merged over its defaults, reporting unknown fields."""
        if not isinstance(data, Mapping):
            self.add("wrong_type", path, expected="object")
            return dict(base)
        for key in data:
            if key not in base:
                self.add("unknown_field", _at(path, key), field=str(key))
        return {**base, **{k: v for k, v in data.items() if k in base}}

    def number(self, d: Mapping[str, Any], key: str, path: str, lo: float, hi: float | None = None, **kw: Any) -> Any:
        """Return a number field (None when optional and null), reporting type and range problems."""
        value, where = d[key], _at(path, key)
        if value is None and kw.get("optional"):
            return None
        integer = kw.get("integer", False)
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or (isinstance(value, float) and not math.isfinite(value)):
            self.add("wrong_type", where, expected="integer" if integer else "number", value=value)
            return None
        if value < lo or (hi is not None and value > hi):
            self.add("out_of_range", where, value=value, min=lo, max=hi)
        return value

    def flag(self, d: Mapping[str, Any], key: str, path: str) -> bool:
        """Return a boolean field."""
        if not isinstance(d[key], bool):
            self.add("wrong_type", _at(path, key), expected="boolean", value=d[key])
            return False
        return bool(d[key])

    def choice(self, d: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> str:
        """Return a field that must be one of ``allowed``."""
        if d[key] not in allowed:
            self.add("unknown_choice", _at(path, key), value=d[key], allowed=list(allowed))
            return allowed[0]
        return str(d[key])

    def codes(self, d: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...] | None = None) -> tuple:
        """Return a list of distinct codes, each in ``allowed`` when given."""
        value, where = d[key], _at(path, key)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            self.add("wrong_type", where, expected="list of codes", value=value)
            return ()
        if len(set(value)) != len(value):
            self.add("duplicate", where, values=sorted({v for v in value if list(value).count(v) > 1}))
        for v in value:
            if allowed is not None and v not in allowed:
                self.add("unknown_choice", where, value=v, allowed=list(allowed))
        return tuple(value)


def parse_round(data: Any) -> RoundParams:
    """Return ``RoundParams`` from a (possibly partial) dict; missing fields take the defaults of its kind.

    :raises ProgrammeError: listing every problem (``required``, ``unknown_field``, ``wrong_type``,
        ``out_of_range``, ``unknown_choice``, ``duplicate``, ``weights_sum``, ``rubric_total``, ``rubric_required``,
        ``unknown_group``, ``unknown_criterion``).
    """
    r = _Reader()
    if not isinstance(data, Mapping):
        raise ProgrammeError([Problem("wrong_type", "", {"expected": "object"})])
    if "kind" not in data:
        raise ProgrammeError([Problem("required", "kind", {"field": "kind"})])
    if data["kind"] not in defaults.KINDS:
        allowed = list(defaults.KINDS)
        raise ProgrammeError([Problem("unknown_choice", "kind", {"value": data["kind"], "allowed": allowed})])
    base = defaults.DEFAULTS[data["kind"]]
    top = r.section(data, "", base)
    review = _review(r, r.section(top["review"], "review", base["review"]))
    params = RoundParams(
        kind=str(top["kind"]),
        eligibility=_eligibility(r, r.section(top["eligibility"], "eligibility", base["eligibility"])),
        ranking=_ranking(r, r.section(top["ranking"], "ranking", base["ranking"]), review),
        quotas=_quotas(r, r.section(top["quotas"], "quotas", base["quotas"])),
        review=review,
        publicity_working_days=r.number(top, "publicity_working_days", "", MIN_DAYS, integer=True) or MIN_DAYS,
    )
    if params.kind == "project" and not params.review.criteria:
        r.add("rubric_required", "review.criteria", kind=params.kind)
    if params.review.pass_mark is not None and not params.review.criteria:
        r.add("rubric_required", "review.criteria", pass_mark=params.review.pass_mark)
    if r.problems:
        raise ProgrammeError(r.problems)
    return params


def _eligibility(r: _Reader, d: dict[str, Any]) -> EligibilityParams:
    p = "eligibility"
    return EligibilityParams(
        require_verified=r.flag(d, "require_verified", p),
        max_age_months=r.number(d, "max_age_months", p, 1, integer=True, optional=True),
        min_maturity=r.number(d, "min_maturity", p, 0, 100, optional=True),
        min_dimension=r.number(d, "min_dimension", p, 0, 100, optional=True),
        min_confidence=r.number(d, "min_confidence", p, 0, 100, optional=True),
        min_evidence=r.number(d, "min_evidence", p, 0, 100, optional=True),
        max_trust_gap=r.number(d, "max_trust_gap", p, 0, 100, optional=True),
        required_consents=r.codes(d, "required_consents", p, defaults.CONSENTS),
    )


def _ranking(r: _Reader, d: dict[str, Any], review: ReviewParams) -> RankingParams:
    p = "ranking"
    weights = [r.number(d, k, p, 0, 1) for k in ("weight_composite", "weight_percentile", "weight_expert")]
    w_c, w_p, w_e = (w if w is not None else 0.0 for w in weights)
    if None not in weights and not same(w_c + w_p + w_e, 1):
        r.add("weights_sum", p, value=w_c + w_p + w_e, required=1)
    if w_e > 0 and not review.criteria:
        r.add("rubric_required", "review.criteria", weight_expert=w_e)
    allowed = defaults.TIE_KEYS + tuple(CRITERION_TIE + c.id for c in review.criteria)
    ties = r.codes(d, "tie_order", p)
    for key in ties:
        if key not in allowed:
            r.add("unknown_choice", f"{p}.tie_order", value=key, allowed=list(allowed))
    return RankingParams(
        weight_composite=float(w_c),
        weight_percentile=float(w_p),
        weight_expert=float(w_e),
        percentile_basis=r.choice(d, "percentile_basis", p, defaults.PERCENTILE_BASES),
        tie_order=ties,
    )


def _quotas(r: _Reader, d: dict[str, Any]) -> QuotaParams:
    p = "quotas"
    total = r.number(d, "total", p, 1, integer=True)
    cap = total if isinstance(total, int) and total >= 1 else None  # a bad total is reported once, not per minimum
    industries, counties = r.codes(d, "industries", p), r.codes(d, "counties", p)
    return QuotaParams(
        total=cap or 1,
        industry_minimum=r.number(d, "industry_minimum", p, 0, cap, integer=True) or 0,
        county_minimum=r.number(d, "county_minimum", p, 0, cap, integer=True) or 0,
        industries=industries,
        counties=counties,
        industry_minimums=_overrides(r, d, "industry_minimums", industries, cap),
        county_minimums=_overrides(r, d, "county_minimums", counties, cap),
    )


def _overrides(r: _Reader, d: dict[str, Any], key: str, groups: tuple[str, ...], total: int | None) -> dict[str, int]:
    where, value = f"quotas.{key}", d[key]
    if not isinstance(value, Mapping):
        r.add("wrong_type", where, expected="object", value=value)
        return {}
    out: dict[str, int] = {}
    for group in value:
        if group not in groups:
            r.add("unknown_group", f"{where}.{group}", group=group, allowed=list(groups))
        checked = r.number(value, group, where, 0, total, integer=True)
        if checked is not None:
            out[str(group)] = checked
    return out


def _review(r: _Reader, d: dict[str, Any]) -> ReviewParams:
    p = "review"
    criteria = _criteria(r, d["criteria"])
    total = sum(c.points for c in criteria)
    if criteria and not same(total, defaults.RUBRIC_TOTAL):
        r.add("rubric_total", f"{p}.criteria", value=total, required=defaults.RUBRIC_TOTAL)
    return ReviewParams(
        criteria=criteria,
        split_threshold=r.number(d, "split_threshold", p, 0, 100) or 0.0,
        final_rule=r.choice(d, "final_rule", p, defaults.FINAL_RULES),
        pass_mark=r.number(d, "pass_mark", p, 0, 100, optional=True),
        blind=r.flag(d, "blind", p),
        exclude_same_county=r.flag(d, "exclude_same_county", p),
    )


def _criteria(r: _Reader, value: Any) -> tuple[Criterion, ...]:
    where = "review.criteria"
    if not isinstance(value, list | tuple):
        r.add("wrong_type", where, expected="list of criteria", value=value)
        return ()
    out: list[Criterion] = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"id", "points"} or not isinstance(item["id"], str):
            r.add("wrong_type", at, expected="{id, points}", value=item)
            continue
        points = r.number(item, "points", at, 0)
        if points is not None and points <= 0:
            r.add("out_of_range", f"{at}.points", value=points, min=0, max=None)
        if any(c.id == item["id"] for c in out):
            r.add("duplicate", f"{at}.id", values=[item["id"]])
        out.append(Criterion(item["id"], float(points or 0)))
    return tuple(out)
