"""The tamper-evident audit chain: every step appends a linked entry; ``flask audit-verify`` names the first broken
link after a row is changed directly in the database (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import ProgrammingError

from saas.models import User, utcnow
from saas.models.programme import ProgrammeAudit, ProgrammeDecision
from saas.programme import audit
from tests.conftest import app_session
from tests.programme.programme_support import make_round, submitted_application, writable_audit
from tests.programme.test_programme_decision import _decide, ranked_round


def _actions(app):
    with app_session(app) as s:
        return [(e.seq, e.action) for e in s.scalars(select(ProgrammeAudit).order_by(ProgrammeAudit.seq))]


def test_each_step_appends_a_linked_entry(app, firm_a, quick_submission):
    quick_submission(firm_a, 0.8)
    round_id = make_round(app)
    submitted_application(app, firm_a, round_id)
    actions = _actions(app)
    assert [a for _s, a in actions] == [
        "round.created",
        "round.transition",
        "application.created",
        "application.submitted",
    ]
    assert [s for s, _a in actions] == [1, 2, 3, 4]
    with app_session(app) as s:
        rows = s.scalars(select(ProgrammeAudit).order_by(ProgrammeAudit.seq)).all()
        assert rows[0].prev_hash == audit.GENESIS
        assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False))
        report = audit.verify_chain(s)
        assert report.ok and report.entries == 4 and report.head_hash == rows[-1].hash


def test_audit_verify_passes_then_names_the_changed_entry(app, database_urls, firm_a, quick_submission):
    quick_submission(firm_a, 0.8)
    round_id = make_round(app)
    submitted_application(app, firm_a, round_id)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit-verify"])
    assert ok.exit_code == 0 and "4 entries" in ok.output
    with writable_audit(database_urls), app_session(app) as s:
        # a direct SQL change of one stored detail (the submitted status of entry 4 → "passed")
        row = s.get(ProgrammeAudit, 4)
        changed = dict(row.detail, status="passed")
        s.execute(update(ProgrammeAudit).where(ProgrammeAudit.seq == 4).values(detail=changed))
    broken = runner.invoke(args=["audit-verify"])
    assert broken.exit_code == 1
    assert "BROKEN at entry 4 (hash_mismatch)" in broken.output


def test_a_rewritten_hash_breaks_the_next_link_and_a_deleted_entry_is_named(app, database_urls):
    round_id = make_round(app, status="pre_review")
    with app_session(app) as s:
        staff = s.scalar(select(User).where(User.kind == "staff"))
        audit.append(s, staff.id, "note", now=utcnow(), round_id=round_id)
    with writable_audit(database_urls), app_session(app) as s:
        assert audit.verify_chain(s).entries == 4
        # a forger who recomputes entry 2's own hash still breaks entry 3's link
        row = s.get(ProgrammeAudit, 2)
        new_detail = dict(row.detail, after="ranked")
        forged = audit.entry_hash(
            row.prev_hash, row.seq, row.at, row.actor_id, row.action, row.round_id, row.subject_firm_id, new_detail
        )
        s.execute(text("UPDATE programme_audit SET hash = :h WHERE seq = 2"), {"h": forged})
        s.execute(update(ProgrammeAudit).where(ProgrammeAudit.seq == 2).values(detail=new_detail))
        s.expire_all()
        report = audit.verify_chain(s)
        assert (report.broken_seq, report.problem) == (3, "prev_hash_mismatch")
    with writable_audit(database_urls), app_session(app) as s:
        s.execute(delete(ProgrammeAudit).where(ProgrammeAudit.seq == 3))
        s.expire_all()
        report = audit.verify_chain(s)
        assert (report.broken_seq, report.problem) == (3, "missing_entry")


def test_the_chain_is_stable_across_reloads(app):
    make_round(app)
    with app_session(app) as s:
        s.expire_all()
        assert audit.verify_chain(s).ok


def test_editing_a_published_name_or_score_in_a_decision_fails_audit_verify(app, firm_a, quick_submission):
    round_id = ranked_round(app, [firm_a], quick_submission)
    _decide(app, round_id)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit-verify"]).exit_code == 0
    with app_session(app) as s:
        decision = s.scalar(select(ProgrammeDecision).where(ProgrammeDecision.status == "confirmed"))
        decision_id, public, ranking = decision.id, decision.public_entries, decision.ranking
        assert public[0]["name"] == firm_a.name
        entry = s.scalar(select(ProgrammeAudit).where(ProgrammeAudit.action == "decision.confirmed"))
        assert entry.detail["public_entries_sha256"] == audit.digest(public) and decision.head_hash == entry.hash
    edits = [
        ({"public_entries": [dict(public[0], name="别的企业")]}, "decision_public_entries_changed"),
        ({"ranking": {**ranking, "entries": [dict(ranking["entries"][0], score=99.9)]}}, "decision_ranking_changed"),
        ({"head_hash": "f" * 64}, "decision_head_hash_mismatch"),
    ]
    for values, problem in edits:
        with app_session(app) as s:
            s.execute(update(ProgrammeDecision).where(ProgrammeDecision.id == decision_id).values(**values))
        broken = runner.invoke(args=["audit-verify"])
        assert broken.exit_code == 1, problem
        assert f"decision {decision_id} ({problem})" in broken.output
        with app_session(app) as s:
            s.execute(
                update(ProgrammeDecision)
                .where(ProgrammeDecision.id == decision_id)
                .values(public_entries=public, ranking=ranking, head_hash=entry.hash)
            )
        assert runner.invoke(args=["audit-verify"]).exit_code == 0


@pytest.mark.postgres_only
def test_the_app_role_cannot_update_or_delete_audit_entries(app):
    make_round(app)
    for statement in ("UPDATE programme_audit SET action = 'x' WHERE seq = 1", "DELETE FROM programme_audit"):
        with app_session(app) as s, pytest.raises(ProgrammingError, match="permission denied"):
            with s.begin_nested():
                s.execute(text(statement))
