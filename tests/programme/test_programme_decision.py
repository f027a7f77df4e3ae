"""Ranking with the engine, preview without changing the frozen parameters, the two-person decision, 公示 in
working days with consented fields only, objections (throttled, answered, upheld removes), final PDF and XLSX."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from saas.models import Firm, User, utcnow
from saas.models.programme import ProgrammeApplication, ProgrammeAudit, ProgrammeDecision, ProgrammeRound
from saas.programme import audit, decisions, services
from scoring import programme as engine
from tests.conftest import app_session
from tests.programme.programme_support import RELAXED, draft_application, make_round
from tests.programme.test_programme_rounds import staff_client

NO_EXPERTS = {
    **RELAXED,
    "eligibility": {**RELAXED["eligibility"], "required_consents": ["share_with_bureau"]},
    "review": {"criteria": [], "pass_mark": None},
    "ranking": {"weight_composite": 1, "weight_percentile": 0, "weight_expert": 0},
    "quotas": {"total": 1, "industry_minimum": 0, "county_minimum": 0},
}


def ranked_round(app, firms, quick_submission, *, publish=None, levels=None):
    """Firms submitted (with or without the publish consent) and passed; the round moved to ranked."""
    round_id = make_round(app, changes=NO_EXPERTS)
    for i, firm in enumerate(firms):
        quick_submission(firm, (levels or [0.9, 0.5, 0.7])[i], seed=i)
        data = services.ApplicationInput(
            declaration="本企业数字化改造成效显著，具有行业示范意义。",
            contact_name="张三",
            contact_phone="0573-1",
            consent_share=True,
            consent_publish=True if publish is None else publish[i],
            project={},
        )
        application_id = draft_application(app, firm, round_id, data)
        with app_session(app, firm.id) as s:
            rnd, f = s.get(ProgrammeRound, round_id), s.get(Firm, firm.id)
            staff = s.get(User, rnd.created_by_id)
            application = s.get(ProgrammeApplication, (firm.id, application_id))
            services.submit_application(s, f, s.get(User, firm.owner_id), rnd, application, now=utcnow())
            services.pre_review(s, staff, rnd, application, f, "pass", reason="", deadline=None, now=utcnow())
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        staff = s.get(User, rnd.created_by_id)
        for state in ("pre_review", "expert_review", "ranked"):
            services.advance_round(s, staff, rnd, state, now=utcnow())
    return round_id


def _app_id(app, firm):
    with app_session(app, firm.id) as s:
        return s.scalar(select(ProgrammeApplication.id))


def test_ranking_page_explains_every_entry_and_a_preview_changes_nothing(
    app, make_client, create_user, firm_a, firm_b, quick_submission
):
    round_id = ranked_round(app, [firm_a, firm_b], quick_submission)
    city = staff_client(make_client, create_user)
    html = city.get(f"/programme/bureau/rounds/{round_id}/ranking").get_data(as_text=True)
    a_id, b_id = str(_app_id(app, firm_a)), str(_app_id(app, firm_b))
    assert f'data-application="{a_id}" data-status="selected" data-reason="score"' in html
    assert f'data-application="{b_id}" data-status="not_selected" data-reason="below_cut"' in html
    preview = city.get(f"/programme/bureau/rounds/{round_id}/ranking?total=2").get_data(as_text=True)
    assert 'data-diff="entered"' in preview and firm_b.name in preview.split('id="preview-diff"')[1]
    with app_session(app) as s:
        assert s.get(ProgrammeRound, round_id).params["quotas"]["total"] == 1
        assert s.scalar(select(ProgrammeDecision.id)) is None
    bad = city.get(f"/programme/bureau/rounds/{round_id}/ranking?total=abc").get_data(as_text=True)
    assert 'id="preview-diff"' not in bad and 'value="abc"' in bad


def test_the_decision_needs_a_second_staff_member(app, make_client, create_user, firm_a, firm_b, quick_submission):
    round_id = ranked_round(app, [firm_a, firm_b], quick_submission)
    first = staff_client(make_client, create_user)
    assert first.post(f"/programme/bureau/rounds/{round_id}/decide").status_code == 302
    with app_session(app) as s:
        decision = s.scalar(select(ProgrammeDecision))
        assert decision.status == "proposed" and decision.ranking["total"] == 1
    url = f"/programme/bureau/rounds/{round_id}/decisions/{decision.id}/confirm"
    assert first.post(url).status_code == 409
    county = staff_client(make_client, create_user, county="nanhu")
    assert county.post(url).status_code == 404  # county staff do not decide
    second = staff_client(make_client, create_user)
    assert second.post(url).status_code == 302
    with app_session(app) as s:
        decision = s.scalar(select(ProgrammeDecision))
        head = audit.head(s)
        assert decision.status == "confirmed" and decision.confirmed_by_id != decision.recorded_by_id
        assert head.action == "decision.confirmed" and decision.head_hash == head.hash
        # the stored inputs recompute the same ranking
        cands = [engine.Candidate(**_candidate(c)) for c in decision.candidates]
        again = engine.rank(cands, engine.RoundParams.from_dict(decision.params), decision.as_of)
        assert list(again.selected) == [
            e["application_id"] for e in decision.ranking["entries"] if e["status"] == "selected"
        ]


def _candidate(data):
    from scoring import codec

    facts = codec.from_dict(engine.EligibilityFacts, data["facts"])
    reviews = tuple(engine.Review(r["reviewer_id"], r["scores"]) for r in data["reviews"])
    return {**data, "facts": facts, "reviews": reviews, "expert": None}


def _decide(app, round_id):
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        one = s.get(User, rnd.created_by_id)
        from saas.auth.services import create_user

        two = create_user(s, email="second@bureau.example", name="Second", password="x" * 12, kind="staff")
        decision = decisions.record_decision(s, one, rnd, now=utcnow())
        decisions.confirm_decision(s, two, rnd, decision, now=utcnow())
        services.advance_round(s, one, rnd, "publicity", now=utcnow())


def test_publicity_needs_a_confirmed_decision_and_counts_working_days(app, firm_a, quick_submission):
    round_id = ranked_round(app, [firm_a], quick_submission)
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        try:
            services.advance_round(s, s.get(User, rnd.created_by_id), rnd, "publicity", now=utcnow())
        except services.ProgrammeError as exc:
            assert exc.code == "no_confirmed_decision"
        else:
            raise AssertionError("publicity started without a confirmed decision")
    _decide(app, round_id)
    with app_session(app) as s:
        decision = s.scalar(select(ProgrammeDecision))
        period = engine.publicity_period(services.beijing_today(utcnow()), 5)
        assert (decision.publicity_start, decision.publicity_end) == (period.first_day, period.end)
        assert engine.working_days_between(decision.publicity_start, decision.publicity_end) == 4


def test_the_public_page_shows_only_consented_fields(app, client, firm_a, firm_b, quick_submission):
    round_id = ranked_round(app, [firm_a, firm_b], quick_submission, publish=[True, False])
    with app_session(app) as s:
        s.get(ProgrammeRound, round_id).params = {
            **s.get(ProgrammeRound, round_id).params,
            "quotas": {**NO_EXPERTS["quotas"], "total": 2, "industries": [], "counties": []},
        }
    _decide(app, round_id)
    response = client.get(f"/programme/rounds/{round_id}/publicity")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app_session(app) as s:
        decision = s.scalar(select(ProgrammeDecision))
    assert firm_a.name in html and firm_b.name not in html
    assert decision.head_hash in html
    assert f'data-start="{decision.publicity_start}" data-end="{decision.publicity_end}"' in html
    b_id = str(_app_id(app, firm_b))
    assert f'data-application="{b_id}"' in html  # the entry is listed, without the name


def test_no_public_page_before_publicity(app, client, firm_a, quick_submission):
    round_id = ranked_round(app, [firm_a], quick_submission)
    assert client.get(f"/programme/rounds/{round_id}/publicity").status_code == 404
    assert client.get(f"/programme/rounds/{round_id}/final.pdf").status_code == 404


def test_objection_lodged_throttled_answered_and_upheld_removes(
    app, make_client, create_user, firm_a, firm_b, quick_submission
):
    round_id = ranked_round(app, [firm_a], quick_submission)
    _decide(app, round_id)
    a_id = _app_id(app, firm_a)
    visitor = make_client()
    url = f"/programme/rounds/{round_id}/publicity/{a_id}/objection"
    bad = visitor.post(url, {"name": "", "contact": "138", "reason": "短"})
    assert bad.status_code == 400 and 'id="name-error"' in bad.get_data(as_text=True)
    good = {"name": "王五", "contact": "13800000000", "reason": "该企业申报的数字化设备并未实际投入使用。"}
    assert visitor.post(url, good).status_code == 302
    with app_session(app) as s:
        (objection,) = decisions.objections(s, s.get(ProgrammeRound, round_id))
        assert objection.status == "open" and objection.reason == good["reason"]
    for _ in range(3):
        visitor.post(url, good)
    assert visitor.post(url, good).status_code == 429  # five per hour per address (one refused form counted)
    with app_session(app) as s:
        assert len(decisions.objections(s, s.get(ProgrammeRound, round_id))) == 4
    city = staff_client(make_client, create_user)
    answer_url = f"/programme/bureau/rounds/{round_id}/objections/{objection.id}/answer"
    assert city.post(answer_url, {"verdict": "uphold", "answer": ""}).status_code == 400
    assert city.post(answer_url, {"verdict": "uphold", "answer": "经核实，设备未投入使用"}).status_code == 302
    with app_session(app, firm_a.id) as s:
        application = s.get(ProgrammeApplication, (firm_a.id, a_id))
        assert application.status == "removed" and application.reject_reason == "经核实，设备未投入使用"
    html = make_client().get(f"/programme/rounds/{round_id}/publicity").get_data(as_text=True)
    assert 'data-removed="yes"' in html and "经核实，设备未投入使用" in html
    with app_session(app) as s:
        actions = s.scalars(select(ProgrammeAudit.action).order_by(ProgrammeAudit.seq)).all()
        assert "objection.lodged" in actions and "objection.upheld" in actions
        assert audit.verify_chain(s).ok


def test_final_publication_after_the_period_with_pdf_and_xlsx(
    app, client, firm_a, firm_b, quick_submission, publish_product
):
    publish_product(firm_a)
    publish_product(firm_b)
    round_id = ranked_round(app, [firm_a, firm_b], quick_submission)
    _decide(app, round_id)
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        staff = s.get(User, rnd.created_by_id)
        try:
            services.advance_round(s, staff, rnd, "final", now=utcnow())
        except services.ProgrammeError as exc:
            assert exc.code == "publicity_not_over"
        else:
            raise AssertionError("published before the end of 公示")
        end = s.scalar(select(ProgrammeDecision.publicity_end))
    later = utcnow() + timedelta(days=(end - services.beijing_today(utcnow())).days + 1)
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        services.advance_round(s, s.get(User, rnd.created_by_id), rnd, "final", now=later)
        for state in ("follow_up", "archived"):
            services.advance_round(s, s.get(User, rnd.created_by_id), rnd, state, now=later)
    xlsx = client.get(f"/programme/rounds/{round_id}/final.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    names = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert names == [firm_a.name]
    pdf = client.get(f"/programme/rounds/{round_id}/final.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # the awarded firm carries the badge on its public supplier profile; the other does not
    year = services.beijing_today(utcnow()).year
    assert f"{year}年度示范企业" in client.get(f"/market/suppliers/{firm_a.id}").get_data(as_text=True)
    assert 'id="programme-awards"' not in client.get(f"/market/suppliers/{firm_b.id}").get_data(as_text=True)
    # and in its own benchmarking report; the other firm's report has none
    client.login(firm_a.owner_email)
    report = client.get("/benchmarking/", follow_redirects=True).get_data(as_text=True)
    assert 'id="programme-awards"' in report and f"{year}年度示范企业" in report
    client.logout()
    client.login(firm_b.owner_email)
    assert 'id="programme-awards"' not in client.get("/benchmarking/", follow_redirects=True).get_data(as_text=True)


def test_dashboard_counts_stages_for_city_staff_only(app, make_client, create_user, firm_a, firm_b, quick_submission):
    round_id = ranked_round(app, [firm_a, firm_b], quick_submission)
    _decide(app, round_id)
    city = staff_client(make_client, create_user)
    html = city.get("/programme/bureau/dashboard").get_data(as_text=True)
    assert f'data-round="{round_id}"' in html
    assert 'data-submitted="2" data-passed="2" data-selected="1"' in html
    county = staff_client(make_client, create_user, county="nanhu")
    assert county.get("/programme/bureau/dashboard").status_code == 404


def test_a_firm_that_did_not_consent_to_publication_gets_no_public_badge(
    app, client, firm_a, firm_b, quick_submission, publish_product
):
    publish_product(firm_a)
    publish_product(firm_b)
    round_id = ranked_round(app, [firm_a, firm_b], quick_submission, publish=[False, True])
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        rnd.params = {**rnd.params, "quotas": {**NO_EXPERTS["quotas"], "total": 2, "industries": [], "counties": []}}
    _decide(app, round_id)
    with app_session(app) as s:
        decision = s.scalar(select(ProgrammeDecision).where(ProgrammeDecision.status == "confirmed"))
        selected = {e["firm_id"]: e["name"] for e in decision.public_entries}
        end = decision.publicity_end
    assert selected == {str(firm_a.id): None, str(firm_b.id): firm_b.name}  # both selected, a unnamed
    later = utcnow() + timedelta(days=(end - services.beijing_today(utcnow())).days + 1)
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        services.advance_round(s, s.get(User, rnd.created_by_id), rnd, "final", now=later)
    with app_session(app) as s:
        assert decisions.awards(s, firm_a.id) == [] and len(decisions.awards(s, firm_b.id)) == 1
    assert 'id="programme-awards"' not in client.get(f"/market/suppliers/{firm_a.id}").get_data(as_text=True)
    assert 'id="programme-awards"' in client.get(f"/market/suppliers/{firm_b.id}").get_data(as_text=True)
