"""Benchmark the 双百 selection engine on in-memory score_snapshots rows.

Prints ``eligibility_20k_s`` (20,000 firms: snapshot row → facts → the full eligibility checklist; target ≤ 2 s)
and ``programme_rank_10k_ms`` (rank 10,000 applications with two expert reviews each, the default quotas of 5 per
industry and county, 100 seats; target ≤ 200 ms), each the median of five runs, plus the eligible share, the CPU
time of the ranking (the machine is shared) and the ranking when every expert verdict is recomputed from the
reviews instead of reused from the application (``Candidate.expert``).
The rows have exactly the shape the assessment services store (``result`` is ``ScoreResult.to_dict()`` through
JSON); 240 assessments are scored by the real engine and reused under other ids and dates. The web helper will
extend this to read the rows from the database. Run: ``.venv/bin/python bench/programme.py``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scoring  # noqa: E402
from scoring import programme  # noqa: E402

AS_OF = date(2026, 6, 30)
INDUSTRIES = ("silk", "warp_knitting", "textile", "garment", "leather", "luggage", "wood", "other")
COUNTIES = programme.default_params("enterprise").quotas.counties
CONSENTS = ("share_with_bureau", "publish_results")


def verified_result(instrument: scoring.Instrument, industry: str, rng: random.Random) -> scoring.ScoreResult:
    """Score one demo-like assessment with an assessor's findings (most answers approved, a few lowered)."""
    from saas.tools.demo import demo_answer

    level = rng.uniform(0.55, 0.98)
    answers, overrides = {}, {}
    for dim in scoring.questions_for(instrument, industry):
        for q in dim.questions:
            value = demo_answer(q, level, rng)
            answers[q.id] = scoring.Answer(value=value, confidence=rng.randint(3, 5), has_evidence=rng.random() < 0.9)
            if q.type == "single" and rng.random() < 0.05:
                overrides[q.id] = scoring.Override("overridden", min(q.options, key=lambda o: o.value).id)
            else:
                overrides[q.id] = scoring.Override("approved")
    inp = scoring.AssessmentInput(industry=industry, answers=answers, overrides=overrides)
    return scoring.score_assessment(instrument, inp)


def snapshot_row(result: scoring.ScoreResult, kind: str, created_at: datetime) -> dict:
    """Return a dict with the columns of a score_snapshots row, as ``store_snapshot`` writes it."""
    view = result.verified_view if kind == "verified" and result.verified_view is not None else result.self_view
    return {
        "id": uuid.uuid4(),
        "firm_id": uuid.uuid4(),
        "assessment_id": uuid.uuid4(),
        "kind": kind,
        "engine_version": result.engine_version,
        "instrument_version_id": uuid.uuid4(),
        "instrument_checksum": result.instrument_checksum,
        "result": json.loads(json.dumps(result.to_dict())),
        "composite": view.composite,
        "maturity": view.maturity,
        "level": view.level,
        "band": view.band,
        "dimension_scores": {d.dimension_id: d.score for d in view.dimensions},
        "created_at": created_at,
    }


def jittered(result: dict, rng: random.Random) -> dict:
    """Return ``result`` with its headline numbers moved a little (shared structure, new top-level parts)."""
    shift = rng.uniform(-4, 4)
    out = dict(result, confidence=_moved(result["confidence"], rng.uniform(-5, 5)))
    for name in ("self_view", "evidence_view", "verified_view"):
        view = result.get(name)
        if view is not None:
            dims = [dict(d, score=_moved(d["score"], shift + rng.uniform(-2, 2))) for d in view["dimensions"]]
            out[name] = dict(view, dimensions=dims, maturity=_moved(view["maturity"], shift))
            out[name]["composite"] = _moved(view["composite"], shift)
    return out


def _moved(value: float | None, by: float) -> float | None:
    return None if value is None else min(100.0, max(0.0, value + by))


def rows(n: int, distinct: int, rng: random.Random) -> list[tuple[dict, str, str]]:
    """Return n (row, industry, county): ``distinct`` engine results reused under new ids, kinds and dates."""
    instrument = scoring.load_instrument_file(ROOT / "instruments" / "jiaxing-v1.yaml")
    start = datetime(2025, 5, 1, tzinfo=UTC)
    base = []
    for i in range(distinct):
        industry = INDUSTRIES[i % len(INDUSTRIES)]
        result = verified_result(instrument, industry, rng)
        base.append(({k: snapshot_row(result, k, start) for k in ("verified", "submitted")}, industry))
    out = []
    for _ in range(n):
        by_kind, industry = rng.choice(base)
        kind = "verified" if rng.random() < 0.85 else "submitted"
        # Another firm's row: new ids, date and slightly different numbers (copies of only the parts that change).
        row = dict(by_kind[kind], id=uuid.uuid4(), firm_id=uuid.uuid4(), assessment_id=uuid.uuid4())
        row["result"] = jittered(row["result"], rng)
        row["created_at"] = start + timedelta(hours=rng.randint(0, 24 * 420))
        out.append((row, industry, rng.choice(COUNTIES)))
    return out


def bench_eligibility(data: list[tuple[dict, str, str]], params: programme.RoundParams) -> tuple[float, float, float]:
    """Return (median wall seconds, median CPU seconds, eligible share) of mapping and checking every row."""
    wall, cpu, eligible = [], [], 0
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        eligible = 0
        for row, _industry, _county in data:
            facts = programme.facts_from_snapshot(row, CONSENTS)
            eligible += programme.check_eligibility(facts, params, AS_OF).eligible
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), eligible / len(data)


def candidates(data: list[tuple[dict, str, str]], params: programme.RoundParams, rng: random.Random, stored: bool):
    """Return one application per row with two reviews; ``stored`` adds the verdict the web keeps per application."""
    out = []
    for i, (row, industry, county) in enumerate(data):
        criteria = params.review.criteria
        reviews = tuple(
            programme.Review(f"e{j}", {c.id: round(c.points * rng.uniform(0.6, 0.95), 1) for c in criteria})
            for j in range(2)
        )
        facts = programme.facts_from_snapshot(row, CONSENTS)
        verdict = programme.project_score(reviews, params) if stored else None
        app = f"app{i:05d}"
        out.append(programme.Candidate(app, industry, county, facts, row["created_at"], reviews, expert=verdict))
    return out


def bench_rank(cands: list[programme.Candidate], params: programme.RoundParams) -> tuple[float, float]:
    """Return the median wall and CPU milliseconds of ranking the applications."""
    wall, cpu = [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        ranking = programme.rank(cands, params, AS_OF)
        wall.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
    assert ranking.seats_filled == params.quotas.total
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    rng = random.Random(12)
    params = programme.default_params("enterprise")
    data = rows(20_000, 240, rng)
    seconds, cpu_seconds, share = bench_eligibility(data, params)
    print(f"eligibility_20k_s: {seconds:.3f} s")
    print(f"eligibility_20k_cpu_s: {cpu_seconds:.3f} s")
    print(f"eligibility_eligible_share: {share:.2f} ratio")
    # The web stores each application's expert verdict when its last review arrives; rank reuses it when current.
    wall, cpu = bench_rank(candidates(data[:10_000], params, rng, stored=True), params)
    print(f"programme_rank_10k_ms: {wall:.1f} ms")
    print(f"programme_rank_10k_cpu_ms: {cpu:.1f} ms")
    wall, cpu = bench_rank(candidates(data[:10_000], params, rng, stored=False), params)
    print(f"programme_rank_10k_fresh_verdicts_ms: {wall:.1f} ms")
    print(f"programme_rank_10k_fresh_verdicts_cpu_ms: {cpu:.1f} ms")


if __name__ == "__main__":
    main()
