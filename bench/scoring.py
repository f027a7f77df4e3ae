"""Benchmark the scoring engine and the results page.

Prints ``score_assessment_median_ms`` (one full Jiaxing v1 assessment through the pure engine; target ≤ 5 ms) and
``results_page_median_ms`` (server time of the results page of a firm with 50 past assessments; target ≤ 150 ms).
Run with the project's virtualenv: ``.venv/bin/python bench/scoring.py``.
"""

from __future__ import annotations

import io
import random
import statistics
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scoring  # noqa: E402
from scoring import check_answer_value  # noqa: E402


def engine_input(instrument, industry, rng):
    from saas.tools.demo import demo_answer

    level = rng.uniform(0.1, 0.9)
    answers = {}
    for dim in scoring.questions_for(instrument, industry):
        for q in dim.questions:
            value = demo_answer(q, level, rng)
            check_answer_value(instrument, q, value)
            answers[q.id] = scoring.Answer(value=value, confidence=rng.randint(1, 5), has_evidence=rng.random() < 0.4)
    kpis = tuple(k.id for k in instrument.kpis[:3])
    costs = {c.id: 1 / len(instrument.cost_categories) for c in instrument.cost_categories}
    return scoring.AssessmentInput(industry=industry, answers=answers, profile=scoring.Profile(kpis, costs))


def bench_engine(runs: int = 300) -> float:
    instrument = scoring.load_instrument_file(ROOT / "instruments" / "jiaxing-v1.yaml")
    rng = random.Random(7)
    inputs = [engine_input(instrument, rng.choice(scoring.industries(instrument)), rng) for _ in range(20)]
    for inp in inputs[:5]:
        scoring.score_assessment(instrument, inp)  # warm-up (layouts, caches)
    times = []
    for i in range(runs):
        inp = inputs[i % len(inputs)]
        start = time.perf_counter()
        scoring.score_assessment(instrument, inp)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_results_page(past: int = 50, runs: int = 30) -> float:
    from common import bench_app, seed_firm

    with bench_app() as app:
        rng = random.Random(11)
        levels = [rng.uniform(0.1, 0.9) for _ in range(past)]
        with redirect_stdout(io.StringIO()):  # the development mailer may print the verification email
            _firm_id, latest = seed_firm(app, levels)
        client = app.test_client()
        response = client.post(
            "/auth/login", data={"email": "report-bench@bench.example", "password": "bench password 2026"}
        )
        assert response.status_code == 302, response.status_code
        path = f"/assessments/{latest}/results"
        assert client.get(path).status_code == 200
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        return statistics.median(times)


if __name__ == "__main__":
    print(f"score_assessment_median_ms: {bench_engine():.2f} ms")
    print(f"results_page_median_ms: {bench_results_page():.1f} ms")
