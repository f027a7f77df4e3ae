"""Check a firm's eligibility for a round, rule by rule, with its own value, the requirement and the fixing action.

Missing data (no assessment, no verification, a dimension not scored) is a failed rule with its own message, never
an exception. Every comparison goes through ``scoring.tolerance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from scoring.benchmark import window_start
from scoring.programme.params import EligibilityParams, RoundParams
from scoring.tolerance import at_least, at_most

VERIFIED, SELF = "verified", "self"


@dataclass(frozen=True)
class EligibilityFacts:
    """What eligibility reads about one firm: one score snapshot's headline numbers and the firm's consents.

    ``basis`` is "verified" (on-site verified snapshot), "self" (submitted, not verified) or None (no snapshot).
    Scores are 0–100 (``evidence_coverage`` is E_high in percent); ``dimensions`` holds the maturity dimensions only.
    """

    basis: str | None
    snapshot_on: date | None = None
    maturity: float | None = None
    composite: float | None = None
    dimensions: Mapping[str, float | None] = field(default_factory=dict)
    confidence: float | None = None
    evidence_coverage: float | None = None
    trust_gap: float | None = None
    consents: frozenset[str] = frozenset()
    snapshot_id: str | None = None
    instrument: str | None = None

    @property
    def min_dimension(self) -> float | None:
        """Return the lowest scored maturity dimension, or None if none is scored."""
        scores = [s for s in self.dimensions.values() if s is not None]
        return min(scores) if scores else None


@dataclass(frozen=True)
class RuleResult:
    """One line of the checklist: the rule, what it requires, the firm's value, the verdict and how to fix it.

    ``message`` is a message key and ``params`` its values (``min_dimension_below`` with dimension, value,
    required); ``action`` is the fixing action code (None when passed).
    """

    rule: str
    required: Any
    value: Any
    passed: bool
    message: str
    params: Mapping[str, Any]
    action: str | None = None
    subject: str | None = None


@dataclass(frozen=True)
class Eligibility:
    """The verdict of every rule; eligible when all pass."""

    eligible: bool
    rules: tuple[RuleResult, ...]
    as_of: date

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """Return the failed rules in checklist order."""
        return tuple(r for r in self.rules if not r.passed)

    @property
    def actions(self) -> tuple[str, ...]:
        """Return the distinct fixing actions of the failed rules, in checklist order."""
        return tuple(dict.fromkeys(r.action for r in self.failed if r.action))


# Checking 20,000 firms builds 320,000 checklist lines. A frozen dataclass's generated __init__ sets each field
# through object.__setattr__, three times slower than filling the new instance's __dict__; these builders do the
# latter and give equal objects with the same fields in the same order (test_programme_fast_path.py checks that).
_new = object.__new__


def _rule(
    rule: str,
    required: Any,
    value: Any,
    passed: bool,
    message: str,
    params: Mapping[str, Any],
    action: str | None = None,
    subject: str | None = None,
) -> RuleResult:
    r = _new(RuleResult)
    r.__dict__.update(
        rule=rule,
        required=required,
        value=value,
        passed=passed,
        message=message,
        params=params,
        action=action,
        subject=subject,
    )
    return r


def _verdict(eligible: bool, rules: tuple[RuleResult, ...], as_of: date) -> Eligibility:
    e = _new(Eligibility)
    e.__dict__.update(eligible=eligible, rules=rules, as_of=as_of)
    return e


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
        return _verdict(True, (), as_of)
    return checklist(facts, p, as_of, keep=not failures_only)


def checklist(facts: EligibilityFacts, p: EligibilityParams, as_of: date, keep: bool) -> Eligibility:
    """Return the checklist of ``check_eligibility``; with ``keep`` false, only its failed lines (none: eligible)."""
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
            rules.append(_rule("consent", True, given, given, key, {"consent": consent}, action, consent))
    kept = tuple(filter(None, rules))
    return _verdict(all([r.passed for r in kept]) if keep else not kept, kept, as_of)


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
        return _rule("assessed", True, facts.basis, ok, "assessed" if ok else "no_assessment", {}, _fix(ok, facts))
    if facts.basis == VERIFIED:
        if not keep:
            return None
        return _rule("verified_on_site", VERIFIED, VERIFIED, True, "verified_on_site", {"date": facts.snapshot_on})
    key = "no_assessment" if facts.basis is None else "not_verified"
    return _rule("verified_on_site", VERIFIED, facts.basis, False, key, {}, _fix(False, facts))


def _recent(facts: EligibilityFacts, months: int, as_of: date, keep: bool) -> RuleResult | None:
    earliest = _window_start(as_of, months)
    when = facts.snapshot_on if facts.basis is not None else None
    if when is None:
        return _rule("recent", earliest, None, False, *_missing(facts))
    ok = earliest <= when <= as_of
    if ok and not keep:
        return None
    values = {"date": when, "earliest": earliest, "months": months}
    if when > as_of:
        return _rule("recent", earliest, when, False, "snapshot_after_reference_date", values, "contact_bureau")
    action = None if ok else "reassess" if facts.basis != VERIFIED else "request_verification"
    return _rule("recent", earliest, when, ok, "recent" if ok else "too_old", values, action)


def _minimum(
    rule: str, value: float | None, required: float, facts: EligibilityFacts, action: str, keep: bool
) -> RuleResult | None:
    if value is None:
        return _rule(rule, required, None, False, *_missing(facts))
    ok = at_least(value, required)
    if ok and not keep:
        return None
    key = f"{rule}_met" if ok else f"{rule}_below"
    return _rule(rule, required, value, ok, key, {"value": value, "required": required}, None if ok else action)


def _dimensions(facts: EligibilityFacts, required: float, keep: bool) -> list[RuleResult]:
    if facts.basis is None or not facts.dimensions:
        return [_rule("min_dimension", required, None, False, *_missing(facts))]
    values = facts.dimensions.values()
    if not keep and None not in values and at_least(min(values), required):  # the common case: nothing to list
        return []
    out = []
    for dim, value in facts.dimensions.items():
        if value is None:
            params = {"dimension": dim, "required": required}
            key = "dimension_not_scored"
            out.append(_rule("min_dimension", required, None, False, key, params, "reassess", dim))
            continue
        ok = at_least(value, required)
        if ok and not keep:
            continue
        params = {"dimension": dim, "value": value, "required": required}
        key = "min_dimension_met" if ok else "min_dimension_below"
        out.append(_rule("min_dimension", required, value, ok, key, params, None if ok else "reassess", dim))
    return out


def _evidence(facts: EligibilityFacts, required: float, keep: bool) -> RuleResult | None:
    # E_high is None when no claimed item needed evidence: nothing is unsupported, so the rule passes.
    if facts.basis is not None and facts.evidence_coverage is None:
        if not keep:
            return None
        return _rule("min_evidence", required, None, True, "evidence_not_needed", {"required": required})
    return _minimum("min_evidence", facts.evidence_coverage, required, facts, "upload_evidence", keep)


def _trust_gap(facts: EligibilityFacts, limit: float, keep: bool) -> RuleResult | None:
    gap = facts.trust_gap
    if gap is None or facts.basis != VERIFIED:
        return _rule("max_trust_gap", limit, gap, False, *_missing(facts, verified_only=True))
    ok = at_most(gap, limit)
    if ok and not keep:
        return None
    key, action = ("max_trust_gap_met", None) if ok else ("max_trust_gap_above", "reassess")
    return _rule("max_trust_gap", limit, gap, ok, key, {"value": gap, "required": limit}, action)


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
