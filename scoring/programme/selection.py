"""Rank a round's applications and select them under the total and the per-industry and per-county minimums.

``rank(candidates, params, as_of)`` is pure: a preview with other quotas or thresholds is another call with other
params, and ``diff_rankings`` (explain.py) lists who moves in or out between two results and why. The records it
returns are defined in records.py (and importable from here, as before).
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from scoring.programme.eligibility import Eligibility
from scoring.programme.errors import Problem, ProgrammeError
from scoring.programme.explain import quota_summary, reasons, tie_breaks
from scoring.programme.fastcheck import failer, passer
from scoring.programme.params import RoundParams
from scoring.programme.quotas import choose
from scoring.programme.records import (
    NOT_RANKED,
    NOT_SELECTED,
    SELECTED,
    Candidate,
    RankEntry,
    Ranking,
    ScoreComponent,
    rank_entry,
    score_component,
)
from scoring.programme.reviews import FINAL, ProjectScore, project_score, review_rules
from scoring.programme.validate import CRITERION_TIE
from scoring.tolerance import below, order_key

__all__ = ["NOT_RANKED", "NOT_SELECTED", "SELECTED", "Candidate", "RankEntry", "Ranking", "ScoreComponent", "rank"]


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
    items = _unique(sorted(candidates, key=_application_id))
    with _collector_paused():
        return _rank(items, params, as_of)


def _rank(items: Sequence[Candidate], params: RoundParams, as_of: date) -> Ranking:
    scored = _score_all(items, params, as_of)
    pool = _with_components(scored, params)
    # Tie keys are computed only where R is shared: a key's first element (R) decides every other comparison.
    rounded = [order_key(s.score or 0.0) for s in pool]
    shared = Counter(rounded)
    for s, r in zip(pool, rounded, strict=True):
        s.key = _order_key(s, params) if shared[r] > 1 else (-r, s.cand.application_id)
    order = sorted(pool, key=_sort_key)  # application ids are unique: a total order
    groups = [(s.cand.industry, s.cand.county) for s in order]
    q = params.quotas
    minima = ({g: q.minimum("industry", g) for g, _ in groups}, {g: q.minimum("county", g) for _, g in groups})
    taken = choose(groups, *minima, q.total)
    why = reasons(groups, taken, *minima, q.total)
    ties = tie_breaks([s.key for s in order], lambda i: _shown(order[i], params), params.ranking.tie_order)
    entries = [
        rank_entry(
            s.cand,
            SELECTED if t else NOT_SELECTED,
            w[0],
            i,
            s.score,
            s.components,
            w[1],
            s.elig.eligible,
            s.elig.rules,
            tie,
            s.expert,
        )
        for i, s, t, w, tie in zip(range(1, len(order) + 1), order, taken, why, ties, strict=True)
    ]
    entries += [
        rank_entry(
            s.cand,
            NOT_RANKED,
            s.unranked,
            None,
            s.score,
            s.components,
            (),
            s.elig.eligible,
            s.elig.rules,
            None,
            s.expert,
        )
        for s in scored
        if s.unranked is not None
    ]
    quotas, notes = quota_summary(groups, taken, q)
    return Ranking(params.kind, as_of, q.total, sum(taken), tuple(entries), quotas, notes)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while ``rank`` builds its records, and restore it after.

    Ranking 10,000 applications makes some 60,000 objects, none of them garbage and none in a reference cycle, yet
    the collector would walk them again and again as they accumulate (a fifth of the time). Nothing is lost: the
    collector runs as usual afterwards. A collector that was already off stays off.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _application_id(c: Candidate) -> str:
    return c.application_id


def _sort_key(s: _Scored) -> tuple[Any, ...]:
    return s.key


def _unique(items: list[Candidate]) -> list[Candidate]:
    dupes = sorted(
        {a.application_id for a, b in zip(items, items[1:], strict=False) if a.application_id == b.application_id}
    )
    if dupes:
        raise ProgrammeError([Problem("duplicate_application", d, {"application": d}) for d in dupes])
    return items


def _score_all(items: Sequence[Candidate], params: RoundParams, as_of: date) -> list[_Scored]:
    """Check every candidate's eligibility and expert verdict and say why it is not ranked (None: it is ranked).

    A firm that passes every rule gets the verdict ``check_eligibility(..., failures_only=True)`` gives it (eligible,
    no lines), shared; any other firm gets its failed lines from the same checklist code.
    """
    p = params.eligibility
    passes, fails, eligible = passer(p, as_of), failer(p, as_of), Eligibility(True, (), as_of)
    rules, review, pass_mark = review_rules(params), params.has_review, params.review.pass_mark
    w = params.ranking
    needs_c = w.weight_composite > 0 or (w.weight_percentile > 0 and w.percentile_basis == "round")
    needs_pr = w.weight_percentile > 0 and w.percentile_basis == "supplied"
    out = []
    for c in items:
        f = c.facts
        elig = eligible if passes(f) else fails(f)
        expert = _verdict(c, params, rules) if review and elig.eligible and c.excluded is None else None
        unranked = None
        if c.excluded is not None:
            unranked = "excluded"
        elif not elig.eligible:
            unranked = "ineligible"
        elif expert is not None and expert.status != FINAL:
            unranked = "review_incomplete"
        elif expert is not None and pass_mark is not None and below(expert.final or 0, pass_mark):
            unranked = "below_pass_mark"
        elif (needs_c and f.composite is None) or (needs_pr and c.industry_percentile is None):
            unranked = "score_missing"
        out.append(_Scored(c, elig, expert, unranked))
    return out


def _verdict(c: Candidate, params: RoundParams, rules: str) -> ProjectScore:
    """Return the stored verdict when it is current (``is_current``), else the one computed from the reviews."""
    stored = c.expert  # used when current: is_current(stored, c.reviews, rules), written out
    if stored is not None and stored.rules == rules:
        if stored.totals == tuple(sorted([(r.reviewer_id, sum(r.scores.values())) for r in c.reviews])):
            return stored
    try:
        return project_score(c.reviews, params)
    except ProgrammeError as err:
        raise ProgrammeError(Problem(p.key, f"{c.application_id}.{p.path}", p.params) for p in err.problems) from err


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
    wc, wp, we, by_round = w.weight_composite, w.weight_percentile, w.weight_expert, w.percentile_basis == "round"
    for s in pool:
        cand = s.cand
        composite = cand.facts.composite
        terms: list[ScoreComponent] = []
        if wc > 0:
            v = composite or 0.0
            terms.append(score_component("c_verified", v, wc, v * wc))
        if wp > 0:
            if by_round:
                ascending, v = by_industry[cand.industry], composite or 0.0
                n = len(ascending)  # PR = 100·(below + ½·equal)/n, as _percentile
                v = 100 * (bisect_left(ascending, v) + bisect_right(ascending, v)) / (n + n)
            else:
                v = cand.industry_percentile or 0.0
            terms.append(score_component("industry_percentile", v, wp, v * wp))
        if we > 0 and s.expert is not None:
            v = s.expert.final or 0.0
            terms.append(score_component("expert", v, we, v * we))
        s.components = tuple(terms)
        s.score = sum([x.contribution for x in terms])
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
