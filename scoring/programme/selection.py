"""Rank a round's applications and select them under the total and the per-industry and per-county minimums.

``rank(candidates, params, as_of)`` is pure: a preview with other quotas or thresholds is another call with other
params, and ``diff_rankings`` (explain.py) lists who moves in or out between two results and why.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from scoring.programme.eligibility import Eligibility, EligibilityFacts, RuleResult, check_eligibility
from scoring.programme.errors import Problem, ProgrammeError
from scoring.programme.explain import GroupQuota, TieBreak, quota_summary, reasons, tie_breaks
from scoring.programme.params import RoundParams
from scoring.programme.quotas import choose
from scoring.programme.reviews import FINAL, ProjectScore, Review, is_current, project_score, review_rules
from scoring.programme.validate import CRITERION_TIE
from scoring.tolerance import below, order_key

SELECTED, NOT_SELECTED, NOT_RANKED = "selected", "not_selected", "not_ranked"


@dataclass(frozen=True)
class Candidate:
    """One application as the engine sees it.

    ``facts`` come from the application's frozen snapshot (``facts_from_snapshot``); ``reviews`` are the submitted
    expert reviews; ``industry_percentile`` is used only with ``percentile_basis="supplied"``; ``excluded`` is a
    code the web sets for an application out of the running (``withdrawn``, ``pre_review_rejected``,
    ``objection_upheld``); ``submitted_at`` should be timezone-aware. ``expert`` may carry the verdict the web
    stored when the last review came in (``project_score``): it is used when it is current for these reviews and
    the round's review parameters (``is_current``), else the verdict is recomputed from ``reviews``.
    """

    application_id: str
    industry: str
    county: str
    facts: EligibilityFacts
    submitted_at: datetime | date | None = None
    reviews: tuple[Review, ...] = ()
    industry_percentile: float | None = None
    excluded: str | None = None
    expert: ProjectScore | None = None


@dataclass(frozen=True)
class ScoreComponent:
    """One term of R: its value (0–100), its weight and its contribution value × weight."""

    name: str  # "c_verified", "industry_percentile" or "expert"
    value: float
    weight: float
    contribution: float


@dataclass(frozen=True)
class RankEntry:
    """One application's place in the result and the reason for it (codes in docs/programme.md)."""

    application_id: str
    industry: str
    county: str
    status: str  # "selected", "not_selected" or "not_ranked"
    reason: str
    rank: int | None
    score: float | None
    components: tuple[ScoreComponent, ...]
    counts_toward: tuple[str, ...]  # minimum seats this entry fills: "industry", "county"
    eligible: bool
    failed_rules: tuple[RuleResult, ...]  # the full checklist is check_eligibility(facts, params, as_of)
    tie_broken_by: TieBreak | None
    expert: ProjectScore | None  # computed for eligible, not excluded candidates
    excluded: str | None


@dataclass(frozen=True)
class Ranking:
    """The whole result: entries in rank order (then the unranked by id), every minimum's outcome, notes."""

    kind: str
    as_of: date
    total: int
    seats_filled: int
    entries: tuple[RankEntry, ...]
    quotas: tuple[GroupQuota, ...]
    notes: tuple[Problem, ...]

    def entry(self, application_id: str) -> RankEntry:
        """Return the entry of ``application_id``."""
        return next(e for e in self.entries if e.application_id == application_id)

    @property
    def selected(self) -> tuple[str, ...]:
        """Return the selected application ids in rank order."""
        return tuple(e.application_id for e in self.entries if e.status == SELECTED)


class _Scored:
    """Working state of one candidate inside ``rank`` (internal and short-lived, hence mutable)."""

    __slots__ = ("cand", "elig", "expert", "components", "score", "unranked", "key")

    def __init__(self, cand: Candidate, elig: Eligibility, expert: ProjectScore | None, unranked: str | None) -> None:
        self.cand, self.elig, self.expert, self.unranked = cand, elig, expert, unranked
        self.components: tuple[ScoreComponent, ...] = ()
        self.score: float | None = None
        self.key: tuple[Any, ...] = ()


def rank(candidates: Iterable[Candidate], params: RoundParams, as_of: date) -> Ranking:
    """Rank and select; deterministic and independent of the order of ``candidates``.

    :raises ProgrammeError: ``duplicate_application``, or an invalid review (path ``<application>.<reviewer>``).
    """
    items = sorted(candidates, key=lambda c: c.application_id)
    rules = review_rules(params)
    scored = [_score(c, params, as_of, rules) for c in _unique(items)]
    pool = _with_components(scored, params)
    # Tie keys are computed only where R is shared: a key's first element (R) decides every other comparison.
    shared = Counter(order_key(s.score or 0.0) for s in pool)
    for s in pool:
        r = order_key(s.score or 0.0)
        s.key = _order_key(s, params) if shared[r] > 1 else (-r, s.cand.application_id)
    order = sorted(pool, key=lambda s: s.key)  # application ids are unique: a total order
    groups = [(s.cand.industry, s.cand.county) for s in order]
    minima = (
        {g: params.quotas.minimum("industry", g) for g, _ in groups},
        {g: params.quotas.minimum("county", g) for _, g in groups},
    )
    taken = choose(groups, *minima, params.quotas.total)
    why = reasons(groups, taken, *minima, params.quotas.total)
    ties = tie_breaks([s.key for s in order], lambda i: _shown(order[i], params), params.ranking.tie_order)
    entries = [_entry(s, i + 1, taken[i], why[i], ties[i]) for i, s in enumerate(order)]
    entries += [_entry(s, None, False, (s.unranked or "", ()), None) for s in scored if s.unranked is not None]
    quotas, notes = quota_summary(groups, taken, params.quotas)
    return Ranking(params.kind, as_of, params.quotas.total, sum(taken), tuple(entries), quotas, notes)


def _unique(items: Sequence[Candidate]) -> Sequence[Candidate]:
    dupes = sorted(
        {a.application_id for a, b in zip(items, items[1:], strict=False) if a.application_id == b.application_id}
    )
    if dupes:
        raise ProgrammeError([Problem("duplicate_application", d, {"application": d}) for d in dupes])
    return items


def _score(c: Candidate, params: RoundParams, as_of: date, rules: str) -> _Scored:
    elig = check_eligibility(c.facts, params, as_of, failures_only=True)
    expert = None
    if params.has_review and elig.eligible and c.excluded is None:
        try:
            stored = c.expert
            expert = stored if stored is not None and is_current(stored, c.reviews, rules) else None
            expert = expert or project_score(c.reviews, params)
        except ProgrammeError as err:
            raise ProgrammeError(
                Problem(p.key, f"{c.application_id}.{p.path}", p.params) for p in err.problems
            ) from err
    unranked = None
    if c.excluded is not None:
        unranked = "excluded"
    elif not elig.eligible:
        unranked = "ineligible"
    elif expert is not None and expert.status != FINAL:
        unranked = "review_incomplete"
    elif (
        expert is not None and params.review.pass_mark is not None and below(expert.final or 0, params.review.pass_mark)
    ):
        unranked = "below_pass_mark"
    elif _missing_component(c, params):
        unranked = "score_missing"
    return _Scored(c, elig, expert, unranked)


def _missing_component(c: Candidate, params: RoundParams) -> bool:
    w = params.ranking
    needs_c = w.weight_composite > 0 or (w.weight_percentile > 0 and w.percentile_basis == "round")
    if needs_c and c.facts.composite is None:
        return True
    return w.weight_percentile > 0 and w.percentile_basis == "supplied" and c.industry_percentile is None


def _with_components(scored: list[_Scored], params: RoundParams) -> list[_Scored]:
    """Set R and its terms on the rankable candidates and return them (the percentile is taken among them)."""
    w = params.ranking
    pool = [s for s in scored if s.unranked is None]
    by_industry: dict[str, list[float]] = {}
    for s in pool:
        if s.cand.facts.composite is not None:
            by_industry.setdefault(s.cand.industry, []).append(s.cand.facts.composite)
    for values in by_industry.values():
        values.sort()
    for s in pool:
        terms: list[tuple[str, float, float]] = []
        if w.weight_composite > 0:
            terms.append(("c_verified", s.cand.facts.composite or 0.0, w.weight_composite))
        if w.weight_percentile > 0:
            pr = s.cand.industry_percentile
            if w.percentile_basis == "round":
                pr = _percentile(by_industry[s.cand.industry], s.cand.facts.composite or 0.0)
            terms.append(("industry_percentile", pr or 0.0, w.weight_percentile))
        if w.weight_expert > 0 and s.expert is not None:
            terms.append(("expert", s.expert.final or 0.0, w.weight_expert))
        s.components = tuple(ScoreComponent(n, v, wt, v * wt) for n, v, wt in terms)
        s.score = sum(x.contribution for x in s.components)
    return pool


def _percentile(ascending: list[float], value: float) -> float:
    """Return PR = 100·(below + ½·equal)/n, the mid-rank of scoring.benchmark.percentile_rank (tested equal)."""
    below, at_or_below = bisect_left(ascending, value), bisect_right(ascending, value)
    n = len(ascending)
    return 100 * (below + at_or_below) / (n + n)


def _order_key(s: _Scored, params: RoundParams) -> tuple[Any, ...]:
    """Return the sort key: higher R first, then the round's tie keys, then the application id."""
    keys: list[Any] = [-order_key(s.score or 0.0)]
    for key in params.ranking.tie_order:
        keys.append(_tie_value(s, key))
    keys.append(s.cand.application_id)
    return tuple(keys)


def _tie_value(s: _Scored, key: str) -> tuple[int, Any]:
    """Return (missing?, value) so that a missing value sorts last; higher is better except for submitted_at."""
    value = _raw(s, key)
    if value is None:
        return (1, 0)
    return (0, value) if key == "submitted_at" else (0, -order_key(value))


def _raw(s: _Scored, key: str) -> Any:
    """Return the candidate's own value of a tie key (None when it has none)."""
    if key == "submitted_at":
        return s.cand.submitted_at
    if key == "c_verified":
        return s.cand.facts.composite
    if key == "min_dimension":
        return s.cand.facts.min_dimension
    criterion = key.removeprefix(CRITERION_TIE)
    found = [b.score for b in (s.expert.breakdown if s.expert else ()) if b.criterion == criterion]
    return found[0] if found else None


def _shown(s: _Scored, params: RoundParams) -> tuple[Any, ...]:
    """Return the values behind the sort key as shown to people: R, each tie key's value, the application id."""
    return (s.score, *(_raw(s, k) for k in params.ranking.tie_order), s.cand.application_id)


def _entry(s: _Scored, position: int | None, taken: bool, why: tuple[str, tuple[str, ...]], tie: Any) -> RankEntry:
    status = NOT_RANKED if position is None else SELECTED if taken else NOT_SELECTED
    return RankEntry(
        application_id=s.cand.application_id,
        industry=s.cand.industry,
        county=s.cand.county,
        status=status,
        reason=why[0],
        rank=position,
        score=s.score,
        components=s.components,
        counts_toward=why[1],
        eligible=s.elig.eligible,
        failed_rules=s.elig.rules,  # checked with failures_only: every kept rule failed
        tie_broken_by=tie,
        expert=s.expert,
        excluded=s.cand.excluded,
    )
