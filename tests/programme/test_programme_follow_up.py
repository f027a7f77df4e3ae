"""Follow-up of a demonstration project: T1 against the frozen T0, KPIs promised vs achieved, the acceptance (验收)
recorded by city staff and audited; the firm sees its own follow-up only; the dashboard's T0 → T1 outcomes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from saas.models import Firm, User, utcnow
from saas.models.programme import (
    ProgrammeApplication,
    ProgrammeAssignment,
    ProgrammeAudit,
    ProgrammeDecision,
    ProgrammeRound,
)
from saas.programme import audit, experts, services
from tests.conftest import app_session
from tests.programme.programme_support import RELAXED, draft_application, make_round
from tests.programme.test_programme_decision import _decide
from tests.programme.test_programme_experts import make_expert
from tests.programme.test_programme_rounds import staff_client

PROJECT_CHANGES = {**RELAXED, "quotas": {"total": 1, "industry_minimum": 0, "county_minimum": 0}}
KPIS = "不良率下降20%\n交付周期缩短15%"


def final_project_round(app, firms, quick_submission):
    """A project round: the firms applied and passed; firms[0] selected (total 1); carried to follow-up."""
    round_id = make_round(app, kind="project", changes=PROJECT_CHANGES)
    for i, firm in enumerate(firms):
        quick_submission(firm, (0.5, 0.3)[i], seed=i)
        data = services.ApplicationInput(
            declaration="本企业数字化改造成效显著，具有行业示范意义。",
            contact_name="张三",
            contact_phone="0573-1",
            consent_share=True,
            consent_publish=True,
            project={
                "name": "智能染整车间改造",
                "dimensions": ["production"],
                "investment_wan": "260",
                "schedule": "3月立项，12月验收",
                "kpis": KPIS,
                "suppliers": "",
            },
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
        for state in ("pre_review", "expert_review"):
            services.advance_round(s, staff, rnd, state, now=utcnow())
    make_expert(app, f"fu1{round_id.hex[:6]}")
    make_expert(app, f"fu2{round_id.hex[:6]}")
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        experts.assign_experts(s, s.get(User, rnd.created_by_id), rnd, now=utcnow())
    for i, firm in enumerate(firms):  # firms[0] full marks, the others less: firms[0] is selected
        with app_session(app, firm.id) as s:
            rnd = s.get(ProgrammeRound, round_id)
            scores = {c["id"]: c["points"] * (1.0, 0.7)[i] for c in rnd.params["review"]["criteria"]}
            for a in s.scalars(select(ProgrammeAssignment)).all():
                application = s.get(ProgrammeApplication, (firm.id, a.application_id))
                experts.submit_review(s, s.get(User, a.expert_id), rnd, application, a, scores, {}, now=utcnow())
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        services.advance_round(s, s.get(User, rnd.created_by_id), rnd, "ranked", now=utcnow())
    _decide(app, round_id)
    with app_session(app) as s:
        end = s.scalar(select(ProgrammeDecision.publicity_end))
    later = utcnow() + timedelta(days=(end - services.beijing_today(utcnow())).days + 1)
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        for state in ("final", "follow_up"):
            services.advance_round(s, s.get(User, rnd.created_by_id), rnd, state, now=later)
    return round_id


def reassess(app, firm, quick_submission):
    """The firm's later re-assessment (T1): the earlier submission is moved back past the minimum interval."""
    from saas.models import Assessment

    with app_session(app, firm.id) as s:
        for a in s.scalars(select(Assessment)):
            a.submitted_at = a.submitted_at - timedelta(days=400)
    quick_submission(firm, 0.9, seed=7)


def _app(app, firm):
    with app_session(app, firm.id) as s:
        return s.scalar(select(ProgrammeApplication))


def _url(firm, application):
    return f"/programme/bureau/applications/{firm.id}/{application.id}/follow-up"


def test_city_staff_record_t1_kpis_and_acceptance_audited(app, make_client, create_user, firm_a, quick_submission):
    final_project_round(app, [firm_a], quick_submission)
    t0 = _app(app, firm_a)
    city = staff_client(make_client, create_user)
    url = _url(firm_a, t0)
    # no assessment after T0 yet: refused, nothing stored
    assert city.post(url, {"achieved_0": "下降22%", "met_0": "y"}).status_code == 409
    assert _app(app, firm_a).t1_snapshot_id is None
    reassess(app, firm_a, quick_submission)  # the round's basis is self-assessment
    today = services.beijing_today(utcnow())
    # not passed without a reason: the error is next to the field and the typed KPI is kept
    bad = city.post(
        url, {"achieved_0": "下降22%", "met_0": "y", "acceptance": "not_passed", "acceptance_on": today.isoformat()}
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="reason-error"' in html and 'value="下降22%"' in html
    assert _app(app, firm_a).t1_snapshot_id is None
    ok = city.post(
        url,
        {
            "achieved_0": "下降22%",
            "met_0": "y",
            "achieved_1": "缩短9%",
            "acceptance": "passed",
            "acceptance_on": today.isoformat(),
        },
    )
    assert ok.status_code == 302
    after = _app(app, firm_a)
    assert after.t1_snapshot_id is not None and after.t1_snapshot_id != after.snapshot_id
    assert after.t1_snapshot_created_at > after.snapshot_created_at and len(after.t1_snapshot_sha256) == 64
    assert after.kpi_results == [
        {"kpi": "不良率下降20%", "achieved": "下降22%", "met": True},
        {"kpi": "交付周期缩短15%", "achieved": "缩短9%", "met": False},
    ]
    assert (after.acceptance, after.acceptance_on, after.acceptance_by_id is not None) == ("passed", today, True)
    page = city.get(url).get_data(as_text=True)
    assert 'data-acceptance="passed"' in page and 'id="follow-up-form"' not in page
    # per dimension T0 → T1: the 0.9 re-assessment raises at least one dimension
    assert 'data-dimension="maturity"' in page and 'data-delta="' in page
    # the acceptance is final
    assert (
        city.post(url, {"acceptance": "not_passed", "acceptance_on": today.isoformat(), "reason": "x"}).status_code
        == 409
    )
    with app_session(app) as s:
        actions = s.scalars(select(ProgrammeAudit.action).order_by(ProgrammeAudit.seq)).all()
        assert actions[-2:] == ["application.follow_up_recorded", "application.acceptance_passed"]
        assert audit.verify_chain(s).ok


def test_the_firm_sees_its_follow_up_and_never_another_firms(
    app, make_client, create_user, firm_a, firm_b, quick_submission
):
    final_project_round(app, [firm_a, firm_b], quick_submission)
    a, b = _app(app, firm_a), _app(app, firm_b)
    reassess(app, firm_a, quick_submission)
    city = staff_client(make_client, create_user)
    today = services.beijing_today(utcnow()).isoformat()
    assert (
        city.post(
            _url(firm_a, a), {"acceptance": "not_passed", "acceptance_on": today, "reason": "指标未达成"}
        ).status_code
        == 302
    )
    owner_a = make_client()
    owner_a.login(firm_a.owner_email)
    html = owner_a.get(f"/programme/applications/{a.id}").get_data(as_text=True)
    assert 'data-acceptance="not_passed"' in html and "指标未达成" in html and 'id="t0-t1"' in html
    # firm A asking for firm B's application (not selected, no follow-up) gets a 404
    assert owner_a.get(f"/programme/applications/{b.id}").status_code == 404
    owner_b = make_client()
    owner_b.login(firm_b.owner_email)
    # firm B was not selected: its own page has no follow-up section
    own_b = owner_b.get(f"/programme/applications/{b.id}")
    assert own_b.status_code == 200 and 'id="follow-up"' not in own_b.get_data(as_text=True)
    assert owner_b.get(f"/programme/applications/{a.id}").status_code == 404
    # firms never reach the bureau's follow-up page
    assert owner_b.get(_url(firm_a, a)).status_code in (403, 404)


def test_follow_up_only_for_a_selected_project_and_city_staff(
    app, make_client, create_user, firm_a, firm_b, quick_submission
):
    final_project_round(app, [firm_a, firm_b], quick_submission)
    a, b = _app(app, firm_a), _app(app, firm_b)
    reassess(app, firm_b, quick_submission)
    city = staff_client(make_client, create_user)
    today = services.beijing_today(utcnow()).isoformat()
    # firm B was not selected: refused, nothing stored
    assert city.post(_url(firm_b, b), {"acceptance": "passed", "acceptance_on": today}).status_code == 409
    assert _app(app, firm_b).acceptance is None
    # county staff do not record the follow-up (and outside their county the application is a 404)
    county = staff_client(make_client, create_user, county=a.county)
    assert county.post(_url(firm_a, a), {"acceptance": "passed", "acceptance_on": today}).status_code == 404
    other = "nanhu" if a.county != "nanhu" else "haiyan"
    assert staff_client(make_client, create_user, county=other).get(_url(firm_a, a)).status_code == 404
    # an id under another firm's id is a 404
    assert city.get(f"/programme/bureau/applications/{firm_b.id}/{a.id}/follow-up").status_code == 404
    assert _app(app, firm_a).acceptance is None


def test_dashboard_shows_t0_t1_outcomes(app, make_client, create_user, firm_a, quick_submission):
    final_project_round(app, [firm_a], quick_submission)
    a = _app(app, firm_a)
    city = staff_client(make_client, create_user)
    empty = city.get("/programme/bureau/dashboard").get_data(as_text=True)
    assert 'id="outcomes-empty"' in empty
    reassess(app, firm_a, quick_submission)
    assert city.post(_url(firm_a, a), {}).status_code == 302
    html = city.get("/programme/bureau/dashboard").get_data(as_text=True)
    after = _app(app, firm_a)
    from saas.programme import followup

    cmp = followup.comparison(after)
    row = f'data-application="{a.id}" data-t0="{cmp.t0.maturity:.1f}" data-t1="{cmp.t1.maturity:.1f}"'
    assert row in html and 'id="outcomes-chart"' in html and cmp.t1.maturity != cmp.t0.maturity
