"""Shared set-up of the benchmark scripts: a migrated temporary database and a firm with past assessments."""

from __future__ import annotations

import os
import random
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import scoring  # noqa: E402


@contextmanager
def bench_app() -> Iterator[Any]:
    """Yield an app on a fresh, migrated SQLite database in a temporary directory."""
    os.environ.setdefault("ARGON2_TIME_COST", "1")
    from config import TestingConfig
    from saas.app import create_app
    from saas.tools import migrate

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False)
        try:
            yield app
        finally:
            app.extensions["database"][0].dispose()


def engine_input(instrument: scoring.Instrument, industry: str, level: float, rng: random.Random) -> Any:
    """Return a plausible engine input for a firm of propensity ``level``, with a priorities profile."""
    from saas.tools.demo import demo_answer

    answers = {}
    for dim in scoring.questions_for(instrument, industry):
        for q in dim.questions:
            value = demo_answer(q, level, rng)
            scoring.check_answer_value(instrument, q, value)
            answers[q.id] = scoring.Answer(value=value, confidence=rng.randint(2, 5), has_evidence=rng.random() < 0.3)
    kpis = tuple(k.id for k in instrument.kpis[:3])
    costs = {c.id: 1 / len(instrument.cost_categories) for c in instrument.cost_categories}
    return scoring.AssessmentInput(industry=industry, answers=answers, profile=scoring.Profile(kpis, costs))


def seed_firm(app: Any, levels: Sequence[float]) -> tuple[Any, Any]:
    """Register a silk firm with one submitted assessment per level, a quarter apart; return (firm id, latest id)."""
    from saas.assessments import instruments, services
    from saas.auth.services import register_firm
    from saas.core.extensions import db
    from saas.core.tenancy import set_tenant
    from saas.models import Assessment, utcnow

    rng = random.Random(4)
    with app.test_request_context():
        dbs = db.session
        firm, user = register_firm(
            dbs,
            firm_name="嘉兴基准丝绸织造有限公司",
            uscc="91350100M000100Y43",
            industry="silk",
            county="nanhu",
            park=None,
            employees=85,
            revenue_wan=1200,
            contact_name="张三",
            contact_phone=None,
            owner_name="张三",
            email="report-bench@bench.example",
            password="bench password 2026",
        )
        version = instruments.active_instrument(dbs)
        instrument = instruments.engine_instrument(version)
        set_tenant(dbs, firm.id, user.id)
        now = utcnow()
        for i, level in enumerate(levels):
            when = now - timedelta(days=91 * (len(levels) - 1 - i))
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
            result = scoring.score_assessment(instrument, engine_input(instrument, "silk", level, rng))
            services.store_snapshot(dbs, firm, assessment, "submitted", result).created_at = when
        dbs.commit()
        return firm.id, assessment.id
