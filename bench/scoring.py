"""Benchmark the scoring engine and the results page.

Prints ``score_assessment_median_ms`` (one full Jiaxing v1 assessment through the pure engine; target ≤ 5 ms) and
``results_page_median_ms`` (server time of the results page of a firm with 50 past assessments; target ≤ 150 ms).
Run with the project's virtualenv: ``.venv/bin/python bench/scoring.py``.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scoring  # noqa: E402
from scoring import check_answer_value  # noqa: E402


def engine_input(instrument, industry, rng):
    from saas.demo import demo_answer

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
    os.environ.setdefault("ARGON2_TIME_COST", "1")
    from config import TestingConfig
    from saas import create_app, migrate
    from saas.assessments import services
    from saas.auth.services import register_firm
    from saas.extensions import db
    from saas.models import Assessment, ScoreSnapshot, utcnow
    from saas.tenancy import set_tenant

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False)
        rng = random.Random(11)
        with app.test_request_context():
            dbs = db.session
            firm, user = register_firm(
                dbs,
                firm_name="嘉兴基准丝绸有限公司",
                uscc="91350100M000100Y43",
                industry="silk",
                county="nanhu",
                park=None,
                employees=120,
                revenue_wan=1500,
                contact_name="张三",
                contact_phone=None,
                owner_name="张三",
                email="bench@bench.example",
                password="bench password 2026",
            )
            version = services.active_instrument(dbs)
            instrument = services.engine_instrument(version)
            set_tenant(dbs, firm.id, user.id)
            now = utcnow()
            for i in range(past):
                when = now - timedelta(days=91 * (past - i))
                assessment = Assessment(
                    firm_id=firm.id,
                    instrument_version_id=version.id,
                    industry="silk",
                    round=i,
                    status="submitted",
                    started_at=when,
                    updated_at=when,
                    submitted_at=when,
                )
                dbs.add(assessment)
                dbs.flush()
                result = scoring.score_assessment(instrument, engine_input(instrument, "silk", rng))
                view = result.self_view
                dbs.add(
                    ScoreSnapshot(
                        firm_id=firm.id,
                        assessment_id=assessment.id,
                        kind="submitted",
                        engine_version=result.engine_version,
                        instrument_version_id=version.id,
                        instrument_checksum=result.instrument_checksum,
                        result=result.to_dict(),
                        composite=view.composite,
                        maturity=view.maturity,
                        level=view.level,
                        band=view.band,
                        created_at=when,
                    )
                )
            dbs.commit()
            latest = assessment.id
        client = app.test_client()
        response = client.post("/auth/login", data={"email": "bench@bench.example", "password": "bench password 2026"})
        assert response.status_code == 302, response.status_code
        path = f"/assessments/{latest}/results"
        assert client.get(path).status_code == 200
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        app.extensions["database"][0].dispose()
        return statistics.median(times)


if __name__ == "__main__":
    print(f"score_assessment_median_ms: {bench_engine():.2f} ms")
    print(f"results_page_median_ms: {bench_results_page():.1f} ms")
