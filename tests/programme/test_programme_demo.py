"""The programme's demo data: every role has a workspace, and ``flask audit-verify`` passes on it and fails after
one row is changed directly in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select, text

from saas.core.tenancy import set_staff_scope
from saas.models import User
from saas.models.programme import ProgrammeApplication, ProgrammeAssignment, ProgrammeDecision, ProgrammeRound
from tests.conftest import app_session
from tests.programme.programme_support import writable_audit


def test_demo_rounds_cover_every_stage_and_the_chain_verifies_until_tampered(app, database_urls):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--firms", "40"])
    assert result.exit_code == 0, result.output
    assert "expert1@demo.jx.example" in result.output
    with app_session(app) as s:
        set_staff_scope(s, "*")  # read as city staff (RLS on PostgreSQL)
        rounds = {r.title[-8:]: r.status for r in s.scalars(select(ProgrammeRound))}
        assert sorted(rounds.values()) == ["expert_review", "follow_up", "open"]
        statuses = Counter(s.scalars(select(ProgrammeApplication.status).execution_options(all_tenants=True)).all())
        assert {"draft", "submitted", "returned", "passed", "rejected", "withdrawn"} <= set(statuses)
        review_states = Counter(s.scalars(select(ProgrammeAssignment.status).execution_options(all_tenants=True)).all())
        assert review_states["submitted"] >= 4 and review_states["assigned"] >= 1
        decision = s.scalar(select(ProgrammeDecision))
        assert decision.status == "confirmed" and decision.recorded_by_id != decision.confirmed_by_id
        assert {u.kind for u in s.scalars(select(User).where(User.email.like("expert%")))} == {"expert"}
    ok = runner.invoke(args=["audit-verify"])
    assert ok.exit_code == 0, ok.output
    with writable_audit(database_urls), app_session(app) as s:
        target = s.execute(text("SELECT seq FROM programme_audit WHERE action = 'decision.confirmed'")).scalar_one()
        s.execute(text("UPDATE programme_audit SET action = 'decision.recorded' WHERE seq = :s"), {"s": target})
    broken = runner.invoke(args=["audit-verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at entry {target} (hash_mismatch)" in broken.output
