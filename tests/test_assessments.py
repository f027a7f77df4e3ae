"""The self-assessment flow through the real stack: autosave, resume, review, submit, snapshot and results."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

import scoring
from saas.assessments import instruments, services
from saas.models import Assessment, AssessmentAnswer, AuditEvent, ScoreSnapshot
from tests.conftest import answer_questions, app_session


def test_autosave_resume_review_submit_and_results(app, client, firm_a, start_assessment):
    assessment_id, questions = start_assessment(firm_a)
    client.login(firm_a.owner_email)
    first_page = client.get(f"/assessments/{assessment_id}/step/1").get_data(as_text=True)
    assert 'id="progress"' in first_page and "assessment.js" in first_page
    # answer the first five questions, "close the browser", log in again: everything is kept
    answer_questions(client, assessment_id, questions[:5])
    client.logout()
    client.login(firm_a.owner_email)
    with app_session(app, firm_a.id) as s:
        saved = s.scalars(select(AssessmentAnswer.question_id)).all()
    assert set(saved) == {q.id for q in questions[:5]}
    response = client.get(f"/assessments/{assessment_id}/")
    assert response.headers["Location"].endswith("/step/1")  # the first page still has open questions
    page = client.get(f"/assessments/{assessment_id}/step/1").get_data(as_text=True)
    assert page.count(" checked") >= 5
    # the review lists what is unanswered, and submitting now is refused
    review = client.get(f"/assessments/{assessment_id}/review").get_data(as_text=True)
    assert questions[5].text.zh in review and questions[0].text.zh not in review
    client.post(f"/assessments/{assessment_id}/submit")
    with app_session(app, firm_a.id) as s:
        assert s.get(Assessment, (firm_a.id, assessment_id)).status == "draft"
    answer_questions(client, assessment_id, questions[5:])
    assert 'id="all-answered"' in client.get(f"/assessments/{assessment_id}/review").get_data(as_text=True)
    response = client.post(f"/assessments/{assessment_id}/submit")
    assert response.headers["Location"].endswith(f"/assessments/{assessment_id}/results")
    html = client.get(f"/assessments/{assessment_id}/results").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html and "<title" in html
    assert 'id="dimension-table"' in html and 'id="advice"' in html
    assert "战略与经营管理" in html
    assert 'id="trust-gap"' not in html  # staff only


def test_submitted_snapshot_is_immutable_and_recomputes_identically(app, client, firm_a, submitted_assessment):
    assessment_id = submitted_assessment(firm_a)
    with app_session(app, firm_a.id) as s:
        snap = s.scalar(select(ScoreSnapshot).where(ScoreSnapshot.assessment_id == assessment_id))
        assessment = s.get(Assessment, (firm_a.id, assessment_id))
        instrument = instruments.engine_instrument(assessment.instrument_version)
        stored = services.stored_result(snap)
        assert snap.engine_version == scoring.ENGINE_VERSION
        assert snap.instrument_checksum == instrument.checksum == assessment.instrument_version.checksum
        again = scoring.recompute(instrument, stored)
        assert again.to_dict() == snap.result
        before = dict(snap.result)
    client.login(firm_a.owner_email)
    q = next(iter(before["inputs"]["answers"]))
    response = client.post(f"/assessments/{assessment_id}/answer", {"question_id": q, f"q-{q}": "x"})
    assert response.status_code == 409
    with app_session(app, firm_a.id) as s:
        snap = s.scalar(select(ScoreSnapshot).where(ScoreSnapshot.assessment_id == assessment_id))
        assert snap.result == before


def test_high_answers_score_higher_than_low_answers(app, create_firm, submitted_assessment):
    high_firm, low_firm = create_firm(), create_firm()
    high_id = submitted_assessment(high_firm, high=True)
    low_id = submitted_assessment(low_firm, high=False)
    with app_session(app, high_firm.id) as s:
        high = s.scalar(select(ScoreSnapshot.composite).where(ScoreSnapshot.assessment_id == high_id))
    with app_session(app, low_firm.id) as s:
        low = s.scalar(select(ScoreSnapshot.composite).where(ScoreSnapshot.assessment_id == low_id))
    assert high > 90 and low < 10


def test_low_scores_get_advice_with_cost_tiers(client, create_firm, submitted_assessment):
    firm = create_firm()
    assessment_id = submitted_assessment(firm, high=False)
    client.login(firm.owner_email)
    html = client.get(f"/assessments/{assessment_id}/results").get_data(as_text=True)
    advice = html[html.index('id="advice"') :]
    assert advice.count("<li>") >= 3
    assert "投入档次" in advice


def test_reassessment_waits_90_days_and_shows_progress(app, client, firm_a, submitted_assessment, start_assessment):
    first = submitted_assessment(firm_a)
    client.login(firm_a.owner_email)
    response = client.post("/assessments/start")
    assert response.headers["Location"].endswith("/assessments/")
    index = client.get("/assessments/").get_data(as_text=True)
    assert "90" in index and 'id="next-allowed"' in index and 'id="start-assessment"' not in index
    with app_session(app, firm_a.id) as s:
        a = s.get(Assessment, (firm_a.id, first))
        a.submitted_at -= timedelta(days=91)
        a.started_at -= timedelta(days=91)
    second, questions = start_assessment(firm_a)
    answer_questions(client, second, questions)
    client.post(f"/assessments/{second}/submit")
    with app_session(app, firm_a.id) as s:
        assert s.get(Assessment, (firm_a.id, second)).round == 1
    html = client.get(f"/assessments/{second}/results").get_data(as_text=True)
    assert "无实质变化" in html  # same answers: every delta is below 5 points
    index = client.get("/assessments/").get_data(as_text=True)
    assert index.count("<circle") >= 2  # the history chart has both assessments


def test_na_only_where_allowed_and_bad_input_is_refused(client, firm_a, start_assessment):
    assessment_id, questions = start_assessment(firm_a)
    client.login(firm_a.owner_email)
    strict = next(q for q in questions if not q.na_allowed)
    response = client.post(f"/assessments/{assessment_id}/answer", {"question_id": strict.id, f"na-{strict.id}": "1"})
    assert response.status_code == 400 and "不适用" in response.get_json()["error"]
    single = next(q for q in questions if q.type == "single")
    response = client.post(f"/assessments/{assessment_id}/answer", {"question_id": single.id, f"q-{single.id}": "x"})
    assert response.status_code == 400
    kpi = next(q for q in questions if q.type == "kpi")
    response = client.post(f"/assessments/{assessment_id}/answer", {"question_id": kpi.id, f"q-{kpi.id}": "abc"})
    assert response.status_code == 400 and response.get_json()["error"]
    response = client.post(f"/assessments/{assessment_id}/answer", {"question_id": "nope"})
    assert response.status_code == 400


def test_page_without_javascript_saves_every_question(app, client, firm_a, start_assessment):
    assessment_id, questions = start_assessment(firm_a)
    client.login(firm_a.owner_email)
    html = client.get(f"/assessments/{assessment_id}/step/1").get_data(as_text=True)
    on_page = re.findall(r'data-question="([^"]+)"', html)
    from tests.conftest import best_answer_fields

    data = {}
    for q in questions:
        if q.id in on_page:
            data.update(best_answer_fields(q))
    response = client.post(f"/assessments/{assessment_id}/step/1", data)
    assert response.headers["Location"].endswith("/step/2")
    with app_session(app, firm_a.id) as s:
        assert set(s.scalars(select(AssessmentAnswer.question_id)).all()) == set(on_page)
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.started")) is not None


def test_published_instrument_versions_are_immutable(app, tmp_path):
    import shutil

    import yaml

    from saas.models import InstrumentVersion

    source = instruments.DEFAULT_INSTRUMENT
    copy_dir = tmp_path / "instruments"
    shutil.copytree(source.parent, copy_dir)
    copied = copy_dir / source.name
    with app_session(app) as s:
        first = instruments.publish_instrument(s, copied)
        assert instruments.publish_instrument(s, copied).id == first.id  # publishing again changes nothing
        data = yaml.safe_load(copied.read_text(encoding="utf-8"))
        data["title"]["zh"] += "（修订）"
        copied.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        try:
            instruments.publish_instrument(s, copied)
        except instruments.InstrumentChanged as exc:
            assert "new version" in str(exc)
        else:
            raise AssertionError("a changed published version was accepted")
        data["version"] = "1.0.1"
        copied.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        second = instruments.publish_instrument(s, copied)
        assert second.version == "1.0.1" and second.is_active
        assert not s.get(InstrumentVersion, first.id).is_active  # superseded, kept for its assessments


def test_a_refused_answer_keeps_what_was_typed_and_the_valid_ones_are_saved(app, client, firm_a, start_assessment):
    from tests.conftest import best_answer_fields

    assessment_id, questions = start_assessment(firm_a)
    client.login(firm_a.owner_email)
    html = client.get(f"/assessments/{assessment_id}/step/1").get_data(as_text=True)
    on_page = [q for q in questions if f'data-question="{q.id}"' in html]
    kpi = next(q for q in on_page if q.type == "kpi")
    data = {}
    for q in on_page:
        data.update(best_answer_fields(q))
    data[f"q-{kpi.id}"] = "十二点五"
    response = client.post(f"/assessments/{assessment_id}/step/1", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'value="十二点五"' in page
    with app_session(app, firm_a.id) as s:
        saved = set(s.scalars(select(AssessmentAnswer.question_id)).all())
    assert saved == {q.id for q in on_page} - {kpi.id}
