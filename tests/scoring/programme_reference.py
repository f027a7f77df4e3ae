"""The programme engine's eligibility and ranking as they were before the fast path (issue 12): the test oracle.

Verbatim copies, at commit a4c286f, of ``check_eligibility`` / ``passes_all`` (scoring/programme/eligibility.py),
``rank`` (selection.py) and ``facts_from_snapshot`` / ``local_date`` (snapshot.py). They reuse the package's record
classes and its unchanged parts (quotas.choose, explain, reviews), so that test_programme_fast_path.py can hold the
fast path equal to them on random rounds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from scoring.benchmark import window_start
from scoring.model import MATURITY
from scoring.programme.eligibility import SELF, VERIFIED, Eligibility, EligibilityFacts, RuleResult
from scoring.programme.errors import Problem, ProgrammeError
from scoring.programme.explain import quota_summary, reasons, tie_breaks
from scoring.programme.params import EligibilityParams, RoundParams
from scoring.programme.quotas import choose
from scoring.programme.reviews import FINAL, ProjectScore, is_current, project_score, review_rules
from scoring.programme.selection import (
    NOT_RANKED,
    NOT_SELECTED,
    SELECTED,
    Candidate,
    RankEntry,
    Ranking,
    ScoreComponent,
)
from scoring.programme.snapshot import CHINA
from scoring.programme.validate import CRITERION_TIE
from scoring.tolerance import at_least, at_most, below, order_key


def check_eligibility(
    facts: EligibilityFacts, params: RoundParams | EligibilityParams, as_of: date, failures_only: bool = False
) -> Eligibility:
    """Return every rule's verdict for ``facts`` on ``as_of`` (the round's reference date, e.g. its close).

    Rules, in order: verified on site (or any snapshot when verification is not required), recent enough,
    M, each maturity dimension, K, E_high, trust gap, each required consent. A threshold of None skips its rule.
    ``failures_only`` leaves passed rules out of ``rules`` (what ``rank`` keeps for 10,000 applications).
    """
    p = params.eligibility if isinstance(params, RoundParams) else params
    if failures_only and passes_all(facts, p, as_of):
        return Eligibility(True, (), as_of)
    keep = not failures_only
    rules = [_verified(facts, p, keep)]
    if p.max_age_months is not None:
        rules.append(_recent(facts, p.max_age_months, as_of, keep))
    if p.min_maturity is not None:
        rules.append(_minimum("min_maturity", facts.maturity, p.min_maturity, facts, "reassess", keep))
    if p.min_dimension is not None:
        rules.extend(_dimensions(facts, p.min_dimension, keep))
    if p.min_confidence is not None:
        rules.append(_minimum("min_confidence", facts.confidence, p.min_confidence, facts, "reassess", keep))
    if p.min_evidence is not None:
        rules.append(_evidence(facts, p.min_evidence, keep))
    if p.max_trust_gap is not None:
        rules.append(_trust_gap(facts, p.max_trust_gap, keep))
    for consent in p.required_consents:
        given = consent in facts.consents
        if keep or not given:
            key, action = ("consent_given", None) if given else ("consent_missing", "give_consent")
            rules.append(RuleResult("consent", True, given, given, key, {"consent": consent}, action, consent))
    kept = tuple(filter(None, rules))
    return Eligibility(not kept if failures_only else all([r.passed for r in kept]), kept, as_of)


def passes_all(facts: EligibilityFacts, p: EligibilityParams, as_of: date) -> bool:
    """Return whether every rule passes, without building the checklist (a test holds it equal to the checklist)."""
    basis = facts.basis
    if basis is None or (p.require_verified and basis != VERIFIED):
        return False
    if p.max_age_months is not None:
        when = facts.snapshot_on
        if when is None or not _window_start(as_of, p.max_age_months) <= when <= as_of:
            return False
    for value, required in ((facts.maturity, p.min_maturity), (facts.confidence, p.min_confidence)):
        if required is not None and (value is None or not at_least(value, required)):
            return False
    if p.min_dimension is not None:
        values = facts.dimensions.values()
        if not values or None in values or not at_least(min(values), p.min_dimension):
            return False
    ev = facts.evidence_coverage
    if p.min_evidence is not None and ev is not None and not at_least(ev, p.min_evidence):
        return False
    gap = facts.trust_gap
    if p.max_trust_gap is not None and (gap is None or basis != VERIFIED or not at_most(gap, p.max_trust_gap)):
        return False
    return all([c in facts.consents for c in p.required_consents])


def _verified(facts: EligibilityFacts, p: EligibilityParams, keep: bool) -> RuleResult | None:
    if not p.require_verified:
        ok = facts.basis is not None
        if ok and not keep:
            return None
        return RuleResult("assessed", True, facts.basis, ok, "assessed" if ok else "no_assessment", {}, _fix(ok, facts))
    if facts.basis == VERIFIED:
        if not keep:
            return None
        return RuleResult("verified_on_site", VERIFIED, VERIFIED, True, "verified_on_site", {"date": facts.snapshot_on})
    key = "no_assessment" if facts.basis is None else "not_verified"
    return RuleResult("verified_on_site", VERIFIED, facts.basis, False, key, {}, _fix(False, facts))


def _recent(facts: EligibilityFacts, months: int, as_of: date, keep: bool) -> RuleResult | None:
    earliest = _window_start(as_of, months)
    when = facts.snapshot_on if facts.basis is not None else None
    if when is None:
        return RuleResult("recent", earliest, None, False, *_missing(facts))
    ok = earliest <= when <= as_of
    if ok and not keep:
        return None
    values = {"date": when, "earliest": earliest, "months": months}
    if when > as_of:
        return RuleResult("recent", earliest, when, False, "snapshot_after_reference_date", values, "contact_bureau")
    action = None if ok else "reassess" if facts.basis != VERIFIED else "request_verification"
    return RuleResult("recent", earliest, when, ok, "recent" if ok else "too_old", values, action)


def _minimum(
    rule: str, value: float | None, required: float, facts: EligibilityFacts, action: str, keep: bool
) -> RuleResult | None:
    if value is None:
        return RuleResult(rule, required, None, False, *_missing(facts))
    ok = at_least(value, required)
    if ok and not keep:
        return None
    key = f"{rule}_met" if ok else f"{rule}_below"
    return RuleResult(rule, required, value, ok, key, {"value": value, "required": required}, None if ok else action)


def _dimensions(facts: EligibilityFacts, required: float, keep: bool) -> list[RuleResult]:
    if facts.basis is None or not facts.dimensions:
        return [RuleResult("min_dimension", required, None, False, *_missing(facts))]
    values = facts.dimensions.values()
    if not keep and None not in values and at_least(min(values), required):  # the common case: nothing to list
        return []
    out = []
    for dim, value in facts.dimensions.items():
        if value is None:
            params = {"dimension": dim, "required": required}
            key = "dimension_not_scored"
            out.append(RuleResult("min_dimension", required, None, False, key, params, "reassess", dim))
            continue
        ok = at_least(value, required)
        if ok and not keep:
            continue
        params = {"dimension": dim, "value": value, "required": required}
        key = "min_dimension_met" if ok else "min_dimension_below"
        out.append(RuleResult("min_dimension", required, value, ok, key, params, None if ok else "reassess", dim))
    return out


def _evidence(facts: EligibilityFacts, required: float, keep: bool) -> RuleResult | None:
    # E_high is None when no claimed item needed evidence: nothing is unsupported, so the rule passes.
    if facts.basis is not None and facts.evidence_coverage is None:
        if not keep:
            return None
        return RuleResult("min_evidence", required, None, True, "evidence_not_needed", {"required": required})
    return _minimum("min_evidence", facts.evidence_coverage, required, facts, "upload_evidence", keep)


def _trust_gap(facts: EligibilityFacts, limit: float, keep: bool) -> RuleResult | None:
    gap = facts.trust_gap
    if gap is None or facts.basis != VERIFIED:
        return RuleResult("max_trust_gap", limit, gap, False, *_missing(facts, verified_only=True))
    ok = at_most(gap, limit)
    if ok and not keep:
        return None
    key, action = ("max_trust_gap_met", None) if ok else ("max_trust_gap_above", "reassess")
    return RuleResult("max_trust_gap", limit, gap, ok, key, {"value": gap, "required": limit}, action)


@cache
def _window_start(as_of: date, months: int) -> date:
    return window_start(as_of, months)


def _missing(facts: EligibilityFacts, verified_only: bool = False) -> tuple[str, dict[str, Any], str]:
    """Return (message, params, action) for a rule whose value is absent."""
    if facts.basis is None:
        return "no_assessment", {}, "start_assessment"
    if verified_only and facts.basis != VERIFIED:
        return "needs_verification", {}, "request_verification"
    return "not_scored", {}, "reassess"


def _fix(ok: bool, facts: EligibilityFacts) -> str | None:
    if ok:
        return None
    return "start_assessment" if facts.basis is None else "request_verification"


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


def facts_from_snapshot(row: Mapping[str, Any] | None, consents: Iterable[str] = ()) -> EligibilityFacts:
    """Return the eligibility facts of one snapshot row (None: the firm has no snapshot) with the firm's consents.

    A verified row reads the verified view. A verified row without assessor findings has no verified view; the
    engine's verified view would then equal the evidence-supported view, so that view is read and the trust gap
    is self M − that M. A submitted row reads the self view (basis "self": verification is still missing).
    """
    given = frozenset(consents)
    if row is None:
        return EligibilityFacts(basis=None, consents=given)
    result = row["result"]
    verified = row["kind"] == VERIFIED
    view = result.get("verified_view") if verified else None
    trust_gap = result.get("trust_gap")
    if verified and view is None:
        view = result["evidence_view"]
        self_m, ev_m = result["self_view"]["maturity"], view["maturity"]
        trust_gap = None if self_m is None or ev_m is None else self_m - ev_m
    if view is None:
        view = result["self_view"]
    return EligibilityFacts(
        basis=VERIFIED if verified else SELF,
        snapshot_on=local_date(row["created_at"]),
        maturity=view["maturity"],
        composite=view["composite"],
        dimensions={d["dimension_id"]: d["score"] for d in view["dimensions"] if d["role"] == MATURITY},
        confidence=result.get("confidence"),
        evidence_coverage=result.get("evidence_coverage"),
        trust_gap=trust_gap if verified else None,
        consents=given,
        snapshot_id=None if row.get("id") is None else str(row["id"]),
        instrument=f"{result.get('instrument_id')} {result.get('instrument_version')}",
    )


def local_date(moment: datetime | date | str) -> date:
    """Return the Beijing-time calendar date of a stored moment (naive datetimes are UTC, as the app stores them)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment) if "T" in moment or " " in moment else date.fromisoformat(moment)
    if not isinstance(moment, datetime):
        return moment
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA).date()
