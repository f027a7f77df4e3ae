"""Validate an AssessmentInput against an instrument layout and return it in canonical form."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from scoring.errors import InvalidAnswer
from scoring.items import canonical_value
from scoring.model import MATURITY, Instrument, Layout
from scoring.results import Answer, AssessmentInput, Override, Profile
from scoring.tolerance import num, sums_to

_OVERRIDE_STATUSES = ("approved", "overridden")


def layout_for(instrument: Instrument, industry: str) -> Layout:
    """Return the instrument layout for ``industry``.

    :raises InvalidAnswer: if the industry is neither a pack id nor "other".
    """
    if industry not in instrument.layouts:
        raise InvalidAnswer(f"unknown industry '{industry}'; expected one of {list(instrument.industries)}")
    return instrument.layouts[industry]


def canonical_input(instrument: Instrument, inp: AssessmentInput) -> AssessmentInput:
    """Check every answer, override and profile entry; return them in instrument order with canonical values.

    Answers with no value that are not N/A are dropped (they count as missing).

    :raises InvalidAnswer: on an unknown or inapplicable question, a wrong value type, N/A where it is not allowed,
        a confidence outside 1..max, or a malformed override or profile.
    """
    layout = layout_for(instrument, inp.industry)
    params = instrument.params
    _check_known(layout, inp.answers, "answer")
    _check_known(layout, inp.overrides, "override")
    answers: dict[str, Answer] = {}
    overrides: dict[str, Override] = {}
    for qid, ref in layout.index.items():
        q = ref.question
        if qid in inp.answers:
            answer = inp.answers[qid]
            if not isinstance(answer, Answer):
                raise InvalidAnswer("must be an Answer", qid)
            conf = answer.confidence
            if conf is not None and (
                isinstance(conf, bool) or not isinstance(conf, int) or not 1 <= conf <= params.confidence_max
            ):
                raise InvalidAnswer(f"confidence must be an integer from 1 to {params.confidence_max}", qid)
            if not isinstance(answer.has_evidence, bool) or not isinstance(answer.na, bool):
                raise InvalidAnswer("na and has_evidence must be true or false", qid)
            if answer.na:
                _check_na(q.na_allowed, qid)
                answers[qid] = Answer(None, True, conf, answer.has_evidence)
            elif answer.value is not None:
                answers[qid] = Answer(canonical_value(q, params, answer.value), False, conf, answer.has_evidence)
        if qid in inp.overrides:
            overrides[qid] = _canonical_override(instrument, q, inp.overrides[qid])
    return AssessmentInput(
        industry=inp.industry,
        answers=answers,
        overrides=overrides,
        profile=_canonical_profile(layout, params.priority.rank_weights if params.priority else None, inp.profile),
        cohort_p90=_canonical_p90(layout, inp.cohort_p90),
        duration_seconds=_duration(inp.duration_seconds),
    )


def _check_known(layout: Layout, entries: Mapping[str, Any], what: str) -> None:
    for qid in sorted(entries):
        if qid not in layout.index:
            raise InvalidAnswer(f"{what} for a question that is unknown or does not apply to '{layout.industry}'", qid)


def _check_na(allowed: bool, qid: str) -> None:
    if not allowed:
        raise InvalidAnswer("N/A is not allowed for this question", qid)


def _canonical_override(instrument: Instrument, q: Any, override: Any) -> Override:
    if not isinstance(override, Override) or override.status not in _OVERRIDE_STATUSES:
        raise InvalidAnswer(f"override status must be one of {list(_OVERRIDE_STATUSES)}", q.id)
    if override.status == "approved":
        if override.value is not None or override.na:
            raise InvalidAnswer("an approved override carries no value", q.id)
        return Override("approved")
    if override.na:
        _check_na(q.na_allowed, q.id)
        return Override("overridden", None, True)
    if override.value is None:
        raise InvalidAnswer("an overridden answer needs the assessor's value", q.id)
    return Override("overridden", canonical_value(q, instrument.params, override.value), False)


def _canonical_profile(layout: Layout, ranks: tuple[float, ...] | None, profile: Profile | None) -> Profile | None:
    if profile is None:
        return None
    if not isinstance(profile, Profile):
        raise InvalidAnswer("profile must be a Profile")
    if ranks is None:
        raise InvalidAnswer("this instrument has no prioritisation; pass no profile")
    kpis = [k.id for k in layout.kpis]
    top = tuple(profile.top_kpis)
    if len(top) > len(ranks) or len(set(top)) != len(top) or any(k not in kpis for k in top):
        raise InvalidAnswer(f"top_kpis must list up to {len(ranks)} distinct KPI ids from {kpis}")
    costs = [c.id for c in layout.cost_categories]
    shares = profile.cost_shares
    for key, share in shares.items():
        if key not in costs:
            raise InvalidAnswer(f"unknown cost category '{key}'; expected one of {costs}")
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise InvalidAnswer(f"cost share of '{key}' must be a number from 0 to 1")
    if shares and not sums_to(sum(shares.values()), 1):
        raise InvalidAnswer(f"cost shares must sum to 1 (they sum to {num(sum(shares.values()))})")
    return Profile(top, {c: shares[c] for c in costs if c in shares})


def _canonical_p90(layout: Layout, p90: Mapping[str, float]) -> dict[str, float]:
    dims = [d.id for d in layout.dimensions if d.role == MATURITY]
    for key, value in p90.items():
        if key not in dims:
            raise InvalidAnswer(f"cohort_p90 names unknown maturity dimension '{key}'")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise InvalidAnswer(f"cohort_p90 of '{key}' must be a number from 0 to 100")
    return {d: p90[d] for d in dims if d in p90}


def _duration(seconds: float | None) -> float | None:
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        raise InvalidAnswer("duration_seconds must be a non-negative number")
    return seconds
