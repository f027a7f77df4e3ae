"""Rounds: creation and editing by city staff, the engine's validation, the explicit state machine, the method page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from saas.models import utcnow
from saas.models.programme import ProgrammeAudit, ProgrammeDecision, ProgrammeRound
from saas.programme import services
from tests.conftest import app_session, totp_code
from tests.programme.programme_support import make_round


def staff_client(make_client, create_user, county=None, kind="staff"):
    staff = create_user(kind, county=county)
    client = make_client()
    client.login(staff["email"])
    client.post("/auth/two-factor", {"code": totp_code(staff["totp_secret"])})
    return client


def _form(**overrides):
    today = services.beijing_today(utcnow())
    data = {
        "year": str(today.year),
        "kind": "enterprise",
        "title": "2026年度双百示范企业",
        "opens_on": today.isoformat(),
        "closes_on": (today + timedelta(days=20)).isoformat(),
        "quota_total": "100",
        "industry_minimum": "5",
        "county_minimum": "5",
        "min_maturity": "60",
        "min_dimension": "40",
        "min_evidence": "70",
        "require_verified": "y",
        "split_threshold": "15",
        "exclude_same_county": "y",
        "publicity_working_days": "7",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _rounds(app):
    with app_session(app) as s:
        return list(s.scalars(select(ProgrammeRound)))


def test_city_staff_create_a_draft_round_with_the_engine_parameters(app, make_client, create_user):
    client = staff_client(make_client, create_user)
    response = client.post("/programme/bureau/rounds/new", _form(quota_total="80", blind="y"))
    assert response.status_code == 302
    (rnd,) = _rounds(app)
    assert rnd.status == "draft" and rnd.params_frozen_at is None
    assert rnd.params["quotas"]["total"] == 80 and rnd.params["review"]["blind"] is True
    assert rnd.params["publicity_working_days"] == 7
    # untouched fields keep the kind's defaults (the engine fills them)
    assert rnd.params["ranking"]["weight_composite"] == 0.6
    with app_session(app) as s:
        assert s.scalar(select(ProgrammeAudit.action).order_by(ProgrammeAudit.seq.desc())) == "round.created"


def test_an_invalid_parameter_is_shown_next_to_its_field_and_nothing_is_stored(app, make_client, create_user):
    client = staff_client(make_client, create_user)
    response = client.post("/programme/bureau/rounds/new", _form(quota_total="10", industry_minimum="11"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="industry_minimum-error"' in html and 'value="11"' in html  # the typed value is kept
    assert _rounds(app) == []


def test_a_closing_date_before_the_opening_is_refused(app, make_client, create_user):
    client = staff_client(make_client, create_user)
    today = services.beijing_today(utcnow())
    response = client.post("/programme/bureau/rounds/new", _form(closes_on=(today - timedelta(days=3)).isoformat()))
    assert response.status_code == 400 and 'id="closes_on-error"' in response.get_data(as_text=True)
    assert _rounds(app) == []


def test_a_duplicate_title_is_refused_next_to_the_title_field(app, make_client, create_user):
    client = staff_client(make_client, create_user)
    assert client.post("/programme/bureau/rounds/new", _form()).status_code == 302
    response = client.post("/programme/bureau/rounds/new", _form(quota_total="90"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="title-error"' in html and "该标题已被使用，请另选一个。" in html and 'value="90"' in html
    assert len(_rounds(app)) == 1
    other = client.post("/programme/bureau/rounds/new", _form(title="2026年度第二批"))
    assert other.status_code == 302
    second = next(r for r in _rounds(app) if r.title == "2026年度第二批")
    edit = client.post(f"/programme/bureau/rounds/{second.id}/edit", _form())
    assert edit.status_code == 400 and 'id="title-error"' in edit.get_data(as_text=True)
    assert sorted(r.title for r in _rounds(app)) == ["2026年度双百示范企业", "2026年度第二批"]
    assert client.post(f"/programme/bureau/rounds/{second.id}/edit", _form(title="2026年度第二批")).status_code == 302


def test_opening_freezes_the_parameters(app, make_client, create_user):
    client = staff_client(make_client, create_user)
    round_id = make_round(app, status="draft")
    assert client.post(f"/programme/bureau/rounds/{round_id}/edit", _form(quota_total="50")).status_code == 302
    assert client.post(f"/programme/bureau/rounds/{round_id}/advance", {"to": "open"}).status_code == 302
    (rnd,) = _rounds(app)
    assert rnd.status == "open" and rnd.params_frozen_at is not None and rnd.params["quotas"]["total"] == 50
    response = client.post(f"/programme/bureau/rounds/{round_id}/edit", _form(quota_total="70"))
    assert response.status_code == 409
    assert _rounds(app)[0].params["quotas"]["total"] == 50


def test_transitions_go_one_state_at_a_time(app, make_client, create_user):
    client = staff_client(make_client, create_user)
    round_id = make_round(app, status="open")
    assert client.post(f"/programme/bureau/rounds/{round_id}/advance", {"to": "ranked"}).status_code == 409
    assert _rounds(app)[0].status == "open"
    for state in ("pre_review", "expert_review", "ranked"):
        assert client.post(f"/programme/bureau/rounds/{round_id}/advance", {"to": state}).status_code == 302
    # 公示 needs a decision confirmed by a second staff member
    assert client.post(f"/programme/bureau/rounds/{round_id}/advance", {"to": "publicity"}).status_code == 409
    assert client.post(f"/programme/bureau/rounds/{round_id}/decide").status_code == 302
    with app_session(app) as s:
        decision_id = s.scalar(select(ProgrammeDecision.id))
    second = staff_client(make_client, create_user)
    assert second.post(f"/programme/bureau/rounds/{round_id}/decisions/{decision_id}/confirm").status_code == 302
    assert client.post(f"/programme/bureau/rounds/{round_id}/advance", {"to": "publicity"}).status_code == 302
    # 公布 only after the last working day of 公示
    assert client.post(f"/programme/bureau/rounds/{round_id}/advance", {"to": "final"}).status_code == 409
    assert client.post(f"/programme/bureau/rounds/{round_id}/advance", {"to": "draft"}).status_code == 409
    assert _rounds(app)[0].status == "publicity"
    with app_session(app) as s:
        transitions = s.scalars(select(ProgrammeAudit).where(ProgrammeAudit.action == "round.transition")).all()
        assert [t.detail["after"] for t in transitions] == list(services.ROUND_FLOW[1:6])


def test_county_staff_and_firms_cannot_create_or_move_rounds(app, make_client, create_user, firm_a):
    county = staff_client(make_client, create_user, county="haining")
    assert county.post("/programme/bureau/rounds/new", _form()).status_code == 404
    round_id = make_round(app, status="draft")
    assert county.post(f"/programme/bureau/rounds/{round_id}/advance", {"to": "open"}).status_code == 404
    firm = make_client()
    firm.login(firm_a.owner_email)
    assert firm.post(f"/programme/bureau/rounds/{round_id}/advance", {"to": "open"}).status_code == 403
    assert _rounds(app)[0].status == "draft"


def test_the_method_page_is_public_but_never_for_a_draft(app, client):
    draft = make_round(app, status="draft")
    assert client.get(f"/programme/rounds/{draft}/method").status_code == 404
    opened = make_round(app, status="open", changes={"quotas": {"total": 42}})
    response = client.get(f"/programme/rounds/{opened}/method")
    assert response.status_code == 200
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, opened)
        digest = services.params_digest(rnd.params)
    html = response.get_data(as_text=True)
    assert digest in html and "42" in html
