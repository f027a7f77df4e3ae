"""Check many firms against one round: the round's rules worked out once, then one quick verdict per firm.

``rank`` checks 10,000 applications. ``passer(p, as_of)`` gives a function with the same verdict as
``passes_all(facts, p, as_of)`` (eligibility.py), and ``failer(p, as_of)`` one with the same result as
``check_eligibility(facts, p, as_of, failures_only=True)``; their limits (the window start, each threshold less the
tolerance) are computed once per round instead of once per firm.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from scoring.programme.eligibility import (
    VERIFIED,
    Eligibility,
    EligibilityFacts,
    _dimensions,
    _evidence,
    _minimum,
    _recent,
    _rule,
    _trust_gap,
    _verdict,
    _verified,
    _window_start,
)
from scoring.programme.params import EligibilityParams
from scoring.tolerance import TOL


def passer(p: EligibilityParams, as_of: date) -> Callable[[EligibilityFacts], bool]:
    """Return ``passes_all(·, p, as_of)`` with the round's limits worked out once, for checking many firms.

    ``at_least(x, t)`` is ``x >= t - TOL`` and ``at_most(x, t)`` is ``not x > t + TOL``: the same float limits are
    computed here once, so every verdict is the same (a property test holds it equal to ``passes_all``).
    """
    verified_only = p.require_verified
    earliest = None if p.max_age_months is None else _window_start(as_of, p.max_age_months)
    m, k, d, e = (
        None if t is None else t - TOL for t in (p.min_maturity, p.min_confidence, p.min_dimension, p.min_evidence)
    )
    gap_limit = None if p.max_trust_gap is None else p.max_trust_gap + TOL
    consents = p.required_consents

    def passes(f: EligibilityFacts) -> bool:
        """Return whether ``f`` passes every rule of the round."""
        basis = f.basis
        if basis is None or (verified_only and basis != VERIFIED):
            return False
        if earliest is not None and (f.snapshot_on is None or not earliest <= f.snapshot_on <= as_of):
            return False
        if m is not None and (f.maturity is None or not f.maturity >= m):
            return False
        if k is not None and (f.confidence is None or not f.confidence >= k):
            return False
        if d is not None:
            values = f.dimensions.values()
            if not values or None in values or not min(values) >= d:
                return False
        if e is not None and f.evidence_coverage is not None and not f.evidence_coverage >= e:
            return False
        if gap_limit is not None and (f.trust_gap is None or basis != VERIFIED or f.trust_gap > gap_limit):
            return False
        given = f.consents
        return all([c in given for c in consents])

    return passes


def failer(p: EligibilityParams, as_of: date) -> Callable[[EligibilityFacts], Eligibility]:
    """Return ``check_eligibility(·, p, as_of, failures_only=True)`` with the round's limits worked out once.

    Each rule is tested with the same limits as in ``passer``; only a rule that fails is handed to its checklist
    function in eligibility.py, which writes the line (that function returns nothing for a passing rule, so the
    checklist lines are exactly the ones ``check_eligibility`` gives; a property test holds the two equal).
    """
    verified_only, months = p.require_verified, p.max_age_months
    earliest = None if months is None else _window_start(as_of, months)
    m, k, d, e = (
        None if t is None else t - TOL for t in (p.min_maturity, p.min_confidence, p.min_dimension, p.min_evidence)
    )
    gap_limit = None if p.max_trust_gap is None else p.max_trust_gap + TOL

    def fails(f: EligibilityFacts) -> Eligibility:
        """Return the verdict of ``f`` with its failed lines only."""
        basis, rules = f.basis, []
        if basis != VERIFIED if verified_only else basis is None:
            rules.append(_verified(f, p, False))
        if earliest is not None and (basis is None or f.snapshot_on is None or not earliest <= f.snapshot_on <= as_of):
            rules.append(_recent(f, months, as_of, False))
        if m is not None and (f.maturity is None or not f.maturity >= m):
            rules.append(_minimum("min_maturity", f.maturity, p.min_maturity, f, "reassess", False))
        if d is not None:
            values = f.dimensions.values()
            if basis is None or not values or None in values or not min(values) >= d:
                rules.extend(_dimensions(f, p.min_dimension, False))
        if k is not None and (f.confidence is None or not f.confidence >= k):
            rules.append(_minimum("min_confidence", f.confidence, p.min_confidence, f, "reassess", False))
        ev = f.evidence_coverage
        if e is not None and not (basis is not None and ev is None) and (ev is None or not ev >= e):
            rules.append(_evidence(f, p.min_evidence, False))
        if gap_limit is not None and (f.trust_gap is None or basis != VERIFIED or f.trust_gap > gap_limit):
            rules.append(_trust_gap(f, p.max_trust_gap, False))
        given = f.consents
        for consent in p.required_consents:
            if consent not in given:
                rules.append(
                    _rule(
                        "consent", True, False, False, "consent_missing", {"consent": consent}, "give_consent", consent
                    )
                )
        kept = tuple(filter(None, rules))
        return _verdict(not kept, kept, as_of)

    return fails
