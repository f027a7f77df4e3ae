"""The fast path of issue 12 gives exactly the results of the straightforward engine it replaced.

programme_reference.py keeps the old ``rank``, ``check_eligibility`` and ``facts_from_snapshot`` verbatim as the
oracle. On random rounds (eligible and ineligible firms, stored verdicts current or stale, three reviews, ties,
excluded applications, every weighting and percentile basis, minimums that cannot all be met) the whole ``Ranking``
must be equal: selection, ranks, scores and their terms, reasons, tie breaks, checklist lines, quotas and notes.
"""

from __future__ import annotations

import dataclasses
import gc
import math
from datetime import UTC, date, datetime, timedelta

import programme_reference as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from programme_factory import AS_OF, DIMS, facts

from scoring.programme import (
    Candidate,
    Eligibility,
    RankEntry,
    Review,
    RuleResult,
    ScoreComponent,
    check_eligibility,
    default_params,
    facts_from_snapshot,
    project_score,
    rank,
)
from scoring.programme.eligibility import _rule, _verdict, passes_all
from scoring.programme.fastcheck import failer, passer
from scoring.programme.records import rank_entry, score_component

INDUSTRIES, COUNTIES = ("silk", "wood", "garment"), ("nanhu", "haiyan", "pinghu")
NEAR = [0.0, 39.0, 40.0, 59.9999999999, 60.0, 65.0, 69.0, 70.0, 10.0, 10.0000000001, 95.0]


@st.composite
def any_facts(draw, eligible_mostly=False):
    """Facts around every default threshold, with missing values; integer-ish scores so that R ties are common."""

    def around(good):  # mostly passing, so that a single value at or near its threshold often decides
        choices = [st.just(good)] * (12 if eligible_mostly else 2)
        return st.one_of(*choices, st.none(), st.sampled_from(NEAR))

    dims = {d: draw(around(65.0)) for d in draw(st.lists(st.sampled_from(DIMS), max_size=3, unique=True))}
    return facts(
        basis=draw(st.sampled_from([None, "self", "verified", "verified", "verified", "verified"])),
        snapshot_on=draw(st.one_of(st.just(date(2026, 3, 1)), st.none(), st.dates(date(2025, 6, 1), date(2026, 7, 2)))),
        maturity=draw(around(72.0)),
        composite=draw(st.one_of(st.none(), st.integers(60, 64).map(float), st.sampled_from(NEAR))),
        dimensions=dims or draw(st.sampled_from([{}, dict.fromkeys(DIMS, 65.0), dict.fromkeys(DIMS, 41.0)])),
        confidence=draw(around(80.0)),
        evidence_coverage=draw(around(85.0)),
        trust_gap=draw(st.one_of(around(3.0), st.just(-3.0))),
        consents=draw(
            st.one_of(
                *[st.just(frozenset({"share_with_bureau", "publish_results"}))] * (12 if eligible_mostly else 1),
                st.lists(st.sampled_from(["share_with_bureau", "publish_results"]), unique=True).map(frozenset),
            )
        ),
    )


@st.composite
def any_params(draw):
    """An enterprise or project round with random weights, tie order, pass mark and minimums."""
    kind = draw(st.sampled_from(["enterprise", "project"]))
    base = default_params(kind)
    wc, wp = draw(st.sampled_from([(0.6, 0.4), (1.0, 0.0), (0.0, 1.0), (0.5, 0.25), (0.0, 0.0)]))
    ids = [c.id for c in base.review.criteria]
    ties = draw(
        st.lists(
            st.sampled_from(["c_verified", "min_dimension", "submitted_at", *[f"criterion:{i}" for i in ids]]),
            unique=True,
            max_size=3,
        )
    )
    total = draw(st.integers(1, 12))
    industries = ["wood", "silk"][: draw(st.integers(0, 2))]
    overrides = {"wood": draw(st.integers(0, min(4, total)))} if industries else {}
    return base.replace(
        {
            "ranking": {
                "weight_composite": wc,
                "weight_percentile": wp,
                "weight_expert": round(1 - wc - wp, 2),
                "percentile_basis": draw(st.sampled_from(["round", "supplied"])),
                "tie_order": ties,
            },
            "quotas": {
                "total": total,
                "industry_minimum": draw(st.integers(0, min(3, total))),
                "county_minimum": draw(st.integers(0, min(3, total))),
                "industries": industries,
                "counties": list(COUNTIES[: draw(st.integers(0, 3))]),
                "industry_minimums": overrides,
                "county_minimums": {},
            },
            "review": {"pass_mark": draw(st.sampled_from([None, 60, 75])), "split_threshold": 15},
        }
    )


@st.composite
def rounds(draw, max_n=14):
    params = draw(any_params())
    n = draw(st.integers(0, max_n))
    criteria = params.review.criteria
    cands = []
    for i in range(n):
        f = draw(any_facts(eligible_mostly=True))
        count = draw(st.sampled_from([0, 1, 2, 2, 2, 3]))
        fractions = [draw(st.sampled_from([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])) for _ in range(count)]
        reviews = tuple(Review(f"e{j}", {c.id: c.points * x for c in criteria}) for j, x in enumerate(fractions))
        stored = None
        if criteria and draw(st.booleans()):
            # A verdict stored earlier: current, or stale (computed from other reviews or other parameters).
            other = draw(st.sampled_from(["current", "other_reviews", "other_params"]))
            basis = reviews if other != "other_reviews" else reviews[:1]
            rules = params if other != "other_params" else params.replace({"review": {"split_threshold": 30}})
            stored = project_score(basis, rules)
        cands.append(
            Candidate(
                f"a{i:02d}",
                draw(st.sampled_from(INDUSTRIES)),
                draw(st.sampled_from(COUNTIES)),
                f,
                submitted_at=draw(
                    st.sampled_from([None, datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC)])
                ),
                reviews=reviews,
                industry_percentile=draw(st.one_of(st.none(), st.sampled_from([10.0, 50.0, 50.0, 90.0]))),
                excluded=draw(st.sampled_from([None] * 8 + ["withdrawn", "objection_upheld"])),
                expert=stored,
            )
        )
    return cands, params


@settings(max_examples=120, deadline=None)
@given(rounds())
def test_the_fast_ranking_equals_the_reference_ranking(data):
    cands, params = data
    fast = rank(cands, params, AS_OF)
    slow = ref.rank(cands, params, AS_OF)
    assert fast == slow
    # Field by field too, so that a difference names itself, and the entries' own fields are the dataclass's.
    for a, b in zip(fast.entries, slow.entries, strict=True):
        assert list(vars(a)) == [f.name for f in dataclasses.fields(RankEntry)]
        assert vars(a) == vars(b)
        for x, y in zip(a.components, b.components, strict=True):
            assert vars(x) == vars(y)
        for x, y in zip(a.failed_rules, b.failed_rules, strict=True):
            assert vars(x) == vars(y)


@settings(max_examples=100, deadline=None)
@given(rounds(max_n=6))
def test_the_fast_ranking_keeps_the_reference_errors(data):
    """An invalid review or a duplicate application is refused with the same problems."""
    cands, params = data
    if not cands:
        return
    broken = [*cands, cands[0]]
    with pytest.raises(ValueError) as fast:
        rank(broken, params, AS_OF)
    with pytest.raises(ValueError) as slow:
        ref.rank(broken, params, AS_OF)
    assert fast.value.problems == slow.value.problems


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(any_facts(), any_facts(eligible_mostly=True)),
    st.sampled_from(["enterprise", "project"]),
    st.one_of(st.just(AS_OF), st.dates(date(2026, 1, 1), date(2026, 12, 31))),
)
def test_the_fast_checks_equal_the_reference_checklist(f, kind, as_of):
    params = default_params(kind)
    p = params.eligibility
    full, short = check_eligibility(f, params, as_of), check_eligibility(f, params, as_of, failures_only=True)
    assert full == ref.check_eligibility(f, params, as_of)
    assert short == ref.check_eligibility(f, params, as_of, failures_only=True)
    assert passer(p, as_of)(f) == passes_all(f, p, as_of) == ref.passes_all(f, p, as_of) == full.eligible
    assert failer(p, as_of)(f) == short
    assert [list(vars(r)) for r in full.rules] == [[x.name for x in dataclasses.fields(RuleResult)]] * len(full.rules)


def _result(rng_values, verified_view):
    """A ``ScoreResult.to_dict()``-shaped result with only the parts the adapter reads."""
    m, c, k, e, g = rng_values

    def view(shift):
        dims = [
            {"dimension_id": d, "score": None if m is None else m + shift + i, "role": "maturity"}
            for i, d in enumerate(DIMS[:3])
        ]
        dims.append({"dimension_id": "outcome", "score": 50.0, "role": "outcome"})
        return {"maturity": m, "composite": c, "dimensions": dims}

    return {
        "instrument_id": "jiaxing-v1",
        "instrument_version": "1.0.0",
        "self_view": view(2.0),
        "evidence_view": view(-1.0),
        "verified_view": view(0.0) if verified_view else None,
        "confidence": k,
        "evidence_coverage": e,
        "trust_gap": g,
    }


maybe = st.one_of(st.none(), st.floats(0, 100, allow_nan=False))


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["verified", "submitted"]),
    st.booleans(),
    st.tuples(maybe, maybe, maybe, maybe, maybe),
    st.sampled_from(
        [
            datetime(2026, 3, 1, 17, 30, tzinfo=UTC),
            datetime(2026, 3, 1, 15, 59),
            "2026-03-01T20:00:00+00:00",
            "2026-03-01",
            date(2026, 3, 1),
        ]
    ),
    st.one_of(st.none(), st.uuids()),
    st.lists(st.sampled_from(["share_with_bureau", "publish_results"]), unique=True),
)
def test_the_fast_adapter_equals_the_reference_adapter(kind, has_view, values, created, row_id, consents):
    row = {"id": row_id, "kind": kind, "created_at": created, "result": _result(values, has_view)}
    fast, slow = facts_from_snapshot(row, consents), ref.facts_from_snapshot(row, consents)
    assert fast == slow
    assert list(vars(fast)) == list(vars(slow))
    assert facts_from_snapshot(None, consents) == ref.facts_from_snapshot(None, consents)


def test_the_builders_give_the_dataclass_objects():
    """Each fast builder gives an object equal to the constructor's, with its fields in the same order."""
    pairs = [
        (_rule("recent", 1, 2, False, "too_old", {"a": 1}), RuleResult("recent", 1, 2, False, "too_old", {"a": 1})),
        (
            _rule("consent", True, True, True, "k", {}, "x", "y"),
            RuleResult("consent", True, True, True, "k", {}, "x", "y"),
        ),
        (_verdict(True, (), AS_OF), Eligibility(True, (), AS_OF)),
        (score_component("expert", 70.0, 0.5, 35.0), ScoreComponent("expert", 70.0, 0.5, 35.0)),
    ]
    cand = Candidate("a1", "silk", "nanhu", facts(), excluded="withdrawn")
    pairs.append(
        (
            rank_entry(cand, "not_ranked", "excluded", None, None, (), (), True, (), None, None),
            RankEntry(
                "a1", "silk", "nanhu", "not_ranked", "excluded", None, None, (), (), True, (), None, None, "withdrawn"
            ),
        )
    )
    for fast, built in pairs:
        assert type(fast) is type(built)
        assert fast == built
        assert list(vars(fast).items()) == list(vars(built).items())
        assert repr(fast) == repr(built)
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.__setattr__(dataclasses.fields(built)[0].name, None)


def test_rank_leaves_the_collector_as_it_found_it():
    cands = [Candidate(f"a{i}", "silk", "nanhu", facts(composite=60.0 + i)) for i in range(3)]
    params = default_params("enterprise").replace({"review": {"criteria": [], "pass_mark": None}})
    assert gc.isenabled()
    rank(cands, params, AS_OF)
    assert gc.isenabled()
    gc.disable()
    try:
        rank(cands, params, AS_OF)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_benchmark_round_ranks_the_same(bench_round):
    """A round shaped like bench/programme.py's (two reviews, stored verdicts, default quotas), 1,500 candidates."""
    cands, params = bench_round
    assert rank(cands, params, AS_OF) == ref.rank(cands, params, AS_OF)


@pytest.fixture(scope="module")
def bench_round():
    import random

    rng = random.Random(12)
    params = default_params("enterprise")
    cands = []
    for i in range(1500):
        shift = rng.uniform(-15, 15)
        f = facts(
            composite=round(60 + shift, 1),
            maturity=68 + shift,
            dimensions={d: 45 + shift + rng.uniform(0, 10) for d in DIMS},
            basis="verified" if rng.random() < 0.85 else "self",
            snapshot_on=date(2025, 5, 1) + timedelta(days=rng.randint(0, 420)),
        )
        reviews = tuple(
            Review(f"e{j}", {c.id: round(c.points * rng.uniform(0.6, 0.95), 1) for c in params.review.criteria})
            for j in range(2)
        )
        stored = project_score(reviews, params) if rng.random() < 0.9 else None
        cands.append(
            Candidate(f"app{i:05d}", rng.choice(INDUSTRIES), rng.choice(COUNTIES), f, None, reviews, expert=stored)
        )
    assert not math.isnan(sum(c.facts.composite for c in cands))
    return cands, params


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (name, value)
        for name, limit in (("maturity", 60), ("confidence", 70), ("evidence_coverage", 70))
        for value in (limit, limit - 1e-10, limit - 1e-8, None)
    ]
    + [("trust_gap", v) for v in (10, 10 + 1e-10, 10 + 1e-8, None)]
    + [("dimensions", dict.fromkeys(DIMS, v)) for v in (40, 40 - 1e-10, 40 - 1e-8)]
    + [("snapshot_on", d) for d in (date(2025, 6, 30), date(2025, 6, 29), AS_OF, AS_OF + timedelta(days=1))],
)
def test_the_fast_checks_on_each_threshold(field, value):
    """Hand-picked edges: each default threshold exactly, within the tolerance, and just beyond it."""
    f = facts(**{field: value})
    p = default_params("enterprise").eligibility
    assert passer(p, AS_OF)(f) == ref.passes_all(f, p, AS_OF)
    assert failer(p, AS_OF)(f) == ref.check_eligibility(f, p, AS_OF, failures_only=True)
