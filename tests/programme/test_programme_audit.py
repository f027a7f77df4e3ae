"""The tamper-evident audit chain: every step appends a linked entry; ``flask audit-verify`` names the first broken
link after a row is changed directly in the database (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import delete, select, text, update

from saas.models import User, utcnow
from saas.models.programme import ProgrammeAudit
from saas.programme import audit
from tests.conftest import app_session
from tests.programme.programme_support import make_round, submitted_application


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


def test_audit_verify_passes_then_names_the_changed_entry(app, firm_a, quick_submission):
    quick_submission(firm_a, 0.8)
    round_id = make_round(app)
    submitted_application(app, firm_a, round_id)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit-verify"])
    assert ok.exit_code == 0 and "4 entries" in ok.output
    with app_session(app) as s:
        # a direct SQL change of one stored detail (the submitted status of entry 4 → "passed")
        row = s.get(ProgrammeAudit, 4)
        changed = dict(row.detail, status="passed")
        s.execute(update(ProgrammeAudit).where(ProgrammeAudit.seq == 4).values(detail=changed))
    broken = runner.invoke(args=["audit-verify"])
    assert broken.exit_code == 1
    assert "BROKEN at entry 4 (hash_mismatch)" in broken.output


def test_a_rewritten_hash_breaks_the_next_link_and_a_deleted_entry_is_named(app):
    round_id = make_round(app, status="pre_review")
    with app_session(app) as s:
        staff = s.scalar(select(User).where(User.kind == "staff"))
        audit.append(s, staff.id, "note", now=utcnow(), round_id=round_id)
    with app_session(app) as s:
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
    with app_session(app) as s:
        s.execute(delete(ProgrammeAudit).where(ProgrammeAudit.seq == 3))
        s.expire_all()
        report = audit.verify_chain(s)
        assert (report.broken_seq, report.problem) == (3, "missing_entry")


def test_the_chain_is_stable_across_reloads(app):
    make_round(app)
    with app_session(app) as s:
        s.expire_all()
        assert audit.verify_chain(s).ok
