"""The snapshot → eligibility-facts adapter, on real score_snapshots rows written by the assessment services."""

from __future__ import annotations

import random
from datetime import date

from saas.models import Firm, ScoreSnapshot, User, utcnow
from scoring.programme import check_eligibility, default_params, facts_from_snapshot, local_date
from tests.conftest import app_session, fill_answers


def _row(snapshot: ScoreSnapshot) -> dict:
    """Return a snapshot row as the plain dict of its columns (what the web side will pass)."""
    return {c.key: getattr(snapshot, c.key) for c in ScoreSnapshot.__table__.columns}


def _snapshots(app, firm, level, *, override: bool, seed: int = 3):
    from saas.assessments import instruments, services

    with app_session(app, firm.id) as s:
        f, owner = s.get(Firm, firm.id), s.get(User, firm.owner_id)
        staff = s.get(User, firm.owner_id)  # the services take any actor; the bureau views check the role
        assessment = services.start_assessment(s, f, owner, utcnow().date())
        fill_answers(s, assessment, level, random.Random(seed))
        submitted = services.submit_assessment(s, f, owner, assessment, refresh_benchmarks=False)
        if override:
            instrument = instruments.engine_instrument(assessment.instrument_version)
            # The assessor lowers a high single-choice answer, so the verified view differs from the other views.
            questions = [q for d in services.scoring.questions_for(instrument, f.industry) for q in d.questions]
            question = next(q for q in questions if q.type == "single" and q.level is not None)
            lowest = min(question.options, key=lambda o: o.value).id
            services.save_override(
                s, f, staff, assessment, question, status="overridden", value=lowest, na=False, note=None
            )
        verified = services.verify_assessment(s, f, staff, assessment, refresh_benchmarks=False)
        s.flush()
        rows = [_row(submitted), _row(verified)]
        results = [services.stored_result(submitted), services.stored_result(verified)]
    return rows, results


def test_a_verified_row_maps_onto_its_verified_view(app, create_firm):
    firm = create_firm(industry="silk", county="haining")
    (sub_row, ver_row), (_, result) = _snapshots(app, firm, 0.85, override=True)
    facts = facts_from_snapshot(ver_row, consents={"share_with_bureau"})
    view = result.verified_view
    assert view is not None and view.maturity not in (result.self_view.maturity, result.evidence_view.maturity)
    assert facts.basis == "verified" and facts.snapshot_id == str(ver_row["id"])
    assert facts.maturity == view.maturity and facts.composite == view.composite
    maturity_dims = {d.dimension_id: d.score for d in view.dimensions if d.role == "maturity"}
    assert dict(facts.dimensions) == maturity_dims and "outcomes" not in facts.dimensions
    assert facts.confidence == result.confidence and facts.evidence_coverage == result.evidence_coverage
    assert facts.trust_gap == result.trust_gap
    assert facts.snapshot_on == local_date(ver_row["created_at"]) and facts.consents == {"share_with_bureau"}
    assert facts.instrument == f"{result.instrument_id} {result.instrument_version}"
    # The submitted row of the same assessment is a self-assessed basis: verification is what it lacks.
    own = facts_from_snapshot(sub_row)
    assert own.basis == "self" and own.trust_gap is None
    rule = check_eligibility(own, default_params("enterprise"), date.today()).rules[0]
    assert (rule.passed, rule.action) == (False, "request_verification")


def test_a_verified_row_without_findings_reads_the_evidence_view(app, create_firm):
    firm = create_firm(industry="garment", county="pinghu")
    _, (_, result) = _snapshots(app, firm, 0.7, override=False)
    assert result.verified_view is None  # verification with no assessor finding stores no verified view
    with app_session(app, firm.id) as s:
        row = _row(s.query(ScoreSnapshot).filter_by(firm_id=firm.id, kind="verified").one())
    facts = facts_from_snapshot(row)
    assert facts.basis == "verified"
    assert facts.maturity == result.evidence_view.maturity
    assert facts.trust_gap == result.self_view.maturity - result.evidence_view.maturity


def test_no_snapshot_and_beijing_dates():
    assert facts_from_snapshot(None, ["publish_results"]).basis is None
    assert local_date("2026-02-28T17:30:00+00:00") == date(2026, 3, 1)  # 01:30 in Beijing
    assert local_date("2026-02-28T15:59:59") == date(2026, 2, 28)  # naive = UTC, 23:59:59 in Beijing
    assert local_date("2026-02-28") == date(2026, 2, 28)
