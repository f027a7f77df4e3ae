"""Bureau staff and assessments: scope, read-only view, assessor findings and on-site verification."""

from __future__ import annotations

from sqlalchemy import select

from saas.models import Assessment, ScoreSnapshot
from tests.conftest import app_session
from tests.test_bureau import staff_client


def test_staff_list_shows_submitted_assessments_in_scope_only(
    make_client, create_user, firm_a, firm_b, submitted_assessment, start_assessment
):
    submitted_assessment(firm_a)
    submitted_assessment(firm_b)
    city = staff_client(make_client, create_user)
    html = city.get("/bureau/assessments").get_data(as_text=True)
    assert firm_a.name in html and firm_b.name in html
    haining = staff_client(make_client, create_user, county="haining")
    html = haining.get("/bureau/assessments").get_data(as_text=True)
    assert firm_b.name in html and firm_a.name not in html


def test_county_staff_get_404_outside_their_county_and_drafts_stay_private(
    app, make_client, create_user, firm_a, firm_b, submitted_assessment, start_assessment
):
    a_id = submitted_assessment(firm_a)  # Nanhu
    draft_id, _questions = start_assessment(firm_b)  # Haining, still a draft
    haining = staff_client(make_client, create_user, county="haining")
    base = f"/bureau/assessments/{firm_a.id}/{a_id}"
    assert haining.get(base).status_code == 404
    assert haining.post(base + "/verify").status_code == 404
    assert haining.post(base + "/override", {"question_id": "st_plan", "status": "approved"}).status_code == 404
    assert haining.get(f"/bureau/assessments/{firm_b.id}/{draft_id}").status_code == 404
    city = staff_client(make_client, create_user)
    assert city.get(f"/bureau/assessments/{firm_b.id}/{draft_id}").status_code == 404
    # a firm id that does not match the assessment's firm is a 404 too
    assert city.get(f"/bureau/assessments/{firm_b.id}/{a_id}").status_code == 404
    with app_session(app, firm_a.id) as s:
        assert s.get(Assessment, (firm_a.id, a_id)).status == "submitted"


def test_assessor_findings_produce_the_verified_view(app, make_client, create_user, firm_a, submitted_assessment):
    a_id = submitted_assessment(firm_a)
    city = staff_client(make_client, create_user)
    base = f"/bureau/assessments/{firm_a.id}/{a_id}"
    page = city.get(base).get_data(as_text=True)
    assert 'id="trust-gap"' in page and 'id="flags"' in page or "合理性" in page
    with app_session(app, firm_a.id) as s:
        stored = s.scalar(select(ScoreSnapshot).where(ScoreSnapshot.assessment_id == a_id))
        answers = stored.result["inputs"]["answers"]
    singles = [qid for qid in answers if qid.startswith("st_plan")]
    for qid in singles:
        response = city.post(base + "/override", {"question_id": qid, "status": "overridden", f"q-{qid}": "none"})
        assert response.status_code == 302
    response = city.post(base + "/verify")
    assert response.status_code == 302
    with app_session(app, firm_a.id) as s:
        assessment = s.get(Assessment, (firm_a.id, a_id))
        assert assessment.status == "verified" and assessment.verified_at is not None
        snaps = s.scalars(select(ScoreSnapshot).where(ScoreSnapshot.assessment_id == a_id)).all()
        kinds = sorted(snap.kind for snap in snaps)
        verified = next(snap for snap in snaps if snap.kind == "verified")
        submitted = next(snap for snap in snaps if snap.kind == "submitted")
    assert kinds == ["submitted", "verified"]
    assert verified.result["verified_view"] is not None
    assert verified.composite < submitted.composite  # the assessor corrected a top answer downwards
    assert submitted.result == stored.result  # the submitted snapshot never changes
    owner = make_client()
    owner.login(firm_a.owner_email)
    html = owner.get(f"/assessments/{a_id}/results").get_data(as_text=True)
    assert "现场核验" in html and 'id="trust-gap"' not in html and 'id="flags"' not in html


def test_assessor_can_correct_row_and_checklist_questions(app, make_client, create_user, firm_a, submitted_assessment):
    import scoring
    from saas.assessments import instruments

    a_id = submitted_assessment(firm_a)
    with app_session(app, firm_a.id) as s:
        assessment = s.get(Assessment, (firm_a.id, a_id))
        instrument = instruments.engine_instrument(assessment.instrument_version)
        questions = [q for d in scoring.questions_for(instrument, assessment.industry) for q in d.questions]
    rows_q = next(q for q in questions if q.type == "adoption")
    multi_q = next(q for q in questions if q.type == "multi")
    city = staff_client(make_client, create_user)
    base = f"/bureau/assessments/{firm_a.id}/{a_id}"
    page = city.get(base).get_data(as_text=True)
    assert f'name="q-{rows_q.id}-{rows_q.rows[0].id}"' in page  # the correction form offers every input type
    data = {"question_id": rows_q.id, "status": "overridden", **{f"q-{rows_q.id}-{r.id}": "0" for r in rows_q.rows}}
    assert city.post(base + "/override", data).status_code == 302
    exclusive = [o.id for o in multi_q.options if o.exclusive]
    data = {
        "question_id": multi_q.id,
        "status": "overridden",
        f"q-{multi_q.id}": exclusive[:1] or [multi_q.options[0].id],
    }
    assert city.post(base + "/override", data).status_code == 302
    city.post(base + "/verify")
    with app_session(app, firm_a.id) as s:
        verified = s.scalar(select(ScoreSnapshot).where(ScoreSnapshot.kind == "verified"))
        overrides = verified.result["inputs"]["overrides"]
    assert set(overrides) == {rows_q.id, multi_q.id}
    assert all(v == 0 for v in overrides[rows_q.id]["value"].values())
