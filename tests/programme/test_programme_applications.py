"""Applications: the checklist from the engine, drafts and autosave, submission freezing the snapshot, withdrawal,
the timeline, and access (a firm never sees another firm's application)."""

from __future__ import annotations

from sqlalchemy import select

from saas.models import EmailMessage, Firm, ScoreSnapshot, User, utcnow
from saas.models.programme import ProgrammeApplication, ProgrammeEvent, ProgrammeRound
from saas.programme import services
from tests.conftest import app_session
from tests.programme.programme_support import GOOD, draft_application, make_round, submitted_application

FORM = {
    "declaration": GOOD.declaration,
    "contact_name": GOOD.contact_name,
    "contact_phone": GOOD.contact_phone,
    "consent_share": "y",
    "consent_publish": "y",
}


def _apps(app, firm):
    with app_session(app, firm.id) as s:
        return list(s.scalars(select(ProgrammeApplication)))


def _login(make_client, firm):
    client = make_client()
    client.login(firm.owner_email)
    return client


def test_the_checklist_names_what_is_missing_with_a_link_to_fix_it(app, make_client, firm_a):
    round_id = make_round(app, changes={})  # the default enterprise rules
    client = _login(make_client, firm_a)
    html = client.get(f"/programme/rounds/{round_id}/eligibility").get_data(as_text=True)
    assert 'data-rule="verified_on_site" data-passed="no"' in html
    assert 'data-rule="consent" data-passed="no"' in html
    assert 'href="/assessments/"' in html and "Not eligible yet" in html or "尚不符合" in html


def test_a_submitted_self_assessment_meets_the_relaxed_rules(app, make_client, firm_a, quick_submission):
    quick_submission(firm_a, 0.8)
    round_id = make_round(app)
    draft_application(app, firm_a, round_id)  # both consents given in the draft
    client = _login(make_client, firm_a)
    html = client.get(f"/programme/rounds/{round_id}/eligibility").get_data(as_text=True)
    assert 'data-passed="no"' not in html and 'data-rule="assessed" data-passed="yes"' in html


def test_save_draft_then_submit_freezes_the_latest_snapshot(app, make_client, firm_a, quick_submission):
    quick_submission(firm_a, 0.8)
    round_id = make_round(app)
    client = _login(make_client, firm_a)
    assert client.post(f"/programme/rounds/{round_id}/apply", {**FORM, "action": "save"}).status_code == 302
    (draft,) = _apps(app, firm_a)
    assert draft.status == "draft" and draft.declaration == GOOD.declaration and draft.snapshot_id is None
    response = client.post(f"/programme/rounds/{round_id}/apply", {**FORM, "action": "submit"})
    assert response.status_code == 302
    (submitted,) = _apps(app, firm_a)
    with app_session(app, firm_a.id) as s:
        latest = s.scalar(select(ScoreSnapshot).order_by(ScoreSnapshot.created_at.desc()))
        events = s.scalars(select(ProgrammeEvent).order_by(ProgrammeEvent.at)).all()
        mail = s.scalars(select(EmailMessage).where(EmailMessage.to == firm_a.owner_email)).all()
    assert submitted.status == "submitted" and submitted.snapshot_id == latest.id
    assert submitted.snapshot_result == latest.result and len(submitted.snapshot_sha256) == 64
    assert [e.action for e in events] == ["created", "submitted"]
    assert any("申报" in m.subject or "received" in m.subject for m in mail)
    page = client.get(f"/programme/applications/{submitted.id}").get_data(as_text=True)
    assert 'data-action="submitted"' in page


def test_an_incomplete_submission_keeps_everything_typed(app, make_client, firm_a, quick_submission):
    quick_submission(firm_a, 0.8)
    round_id = make_round(app)
    client = _login(make_client, firm_a)
    response = client.post(
        f"/programme/rounds/{round_id}/apply", {**FORM, "declaration": "太短", "contact_phone": "", "action": "submit"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="declaration-error"' in html and 'id="contact_phone-error"' in html
    (draft,) = _apps(app, firm_a)
    assert draft.status == "draft" and draft.declaration == "太短" and draft.contact_name == GOOD.contact_name


def test_an_ineligible_firm_cannot_submit(app, make_client, firm_a):
    round_id = make_round(app)  # no assessment at all
    client = _login(make_client, firm_a)
    response = client.post(f"/programme/rounds/{round_id}/apply", {**FORM, "action": "submit"})
    assert response.status_code == 409
    (draft,) = _apps(app, firm_a)
    assert draft.status == "draft" and draft.snapshot_id is None


def test_missing_consent_makes_the_firm_ineligible(app, make_client, firm_a, quick_submission):
    quick_submission(firm_a, 0.8)
    round_id = make_round(app)
    client = _login(make_client, firm_a)
    data = {k: v for k, v in FORM.items() if k != "consent_publish"}
    assert client.post(f"/programme/rounds/{round_id}/apply", {**data, "action": "submit"}).status_code == 409
    assert _apps(app, firm_a)[0].status == "draft"


def test_autosave_stores_the_draft(app, make_client, firm_a):
    round_id = make_round(app)
    client = _login(make_client, firm_a)
    response = client.post(f"/programme/rounds/{round_id}/autosave", {**FORM, "declaration": "自动保存的申报说明"})
    assert response.status_code == 200 and response.get_json()["ok"] is True
    assert _apps(app, firm_a)[0].declaration == "自动保存的申报说明"
    # a second save updates the same draft: one application per firm per round
    client.post(f"/programme/rounds/{round_id}/autosave", {**FORM, "declaration": "第二次"})
    assert [a.declaration for a in _apps(app, firm_a)] == ["第二次"]


def test_a_submitted_application_is_locked(app, make_client, firm_a, quick_submission):
    quick_submission(firm_a, 0.8)
    round_id = make_round(app)
    submitted_application(app, firm_a, round_id)
    client = _login(make_client, firm_a)
    response = client.post(f"/programme/rounds/{round_id}/autosave", {**FORM, "declaration": "改动"})
    assert response.status_code == 409
    assert _apps(app, firm_a)[0].declaration == GOOD.declaration


def test_withdraw_before_the_close_only(app, make_client, firm_a, firm_b, quick_submission):
    quick_submission(firm_a, 0.8)
    quick_submission(firm_b, 0.8)
    round_id = make_round(app)
    a_id = submitted_application(app, firm_a, round_id)
    b_id = submitted_application(app, firm_b, round_id)
    client = _login(make_client, firm_a)
    assert client.post(f"/programme/applications/{a_id}/withdraw").status_code == 302
    assert _apps(app, firm_a)[0].status == "withdrawn"
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        staff = s.get(User, rnd.created_by_id)
        services.advance_round(s, staff, rnd, "pre_review", now=utcnow())
    other = _login(make_client, firm_b)
    assert other.post(f"/programme/applications/{b_id}/withdraw").status_code == 409
    assert _apps(app, firm_b)[0].status == "submitted"


def test_a_round_not_open_takes_no_new_application(app, make_client, firm_a):
    round_id = make_round(app, status="pre_review")
    client = _login(make_client, firm_a)
    assert client.post(f"/programme/rounds/{round_id}/apply", {**FORM, "action": "save"}).status_code == 409
    assert _apps(app, firm_a) == []


def test_a_firm_never_sees_another_firms_application(app, make_client, firm_a, firm_b, quick_submission):
    quick_submission(firm_b, 0.8)
    round_id = make_round(app)
    b_id = submitted_application(app, firm_b, round_id)
    client = _login(make_client, firm_a)
    assert client.get(f"/programme/applications/{b_id}").status_code == 404
    assert client.post(f"/programme/applications/{b_id}/withdraw").status_code == 404
    # firm A's own pages of the same round show nothing of B's
    html = client.get(f"/programme/rounds/{round_id}/apply").get_data(as_text=True)
    assert GOOD.declaration not in html
    assert _apps(app, firm_b)[0].status == "submitted"


def test_staff_and_buyers_are_not_firm_members(app, make_client, create_user):
    round_id = make_round(app)
    buyer = create_user("buyer")
    client = make_client()
    client.login(buyer["email"])
    assert client.get(f"/programme/rounds/{round_id}/eligibility").status_code == 403
    anonymous = make_client()
    assert anonymous.get(f"/programme/rounds/{round_id}/apply").status_code == 302


def test_the_frozen_snapshot_stays_when_the_firm_reassesses(app, firm_a, quick_submission):
    from saas.assessments.services import verify_assessment
    from saas.models import Assessment

    assessment_id = quick_submission(firm_a, 0.8)
    round_id = make_round(app)
    application_id = submitted_application(app, firm_a, round_id)
    with app_session(app, firm_a.id) as s:  # verified later: a newer snapshot
        firm = s.get(Firm, firm_a.id)
        verify_assessment(
            s,
            firm,
            s.get(User, firm_a.owner_id),
            s.get(Assessment, (firm_a.id, assessment_id)),
            refresh_benchmarks=False,
        )
    with app_session(app, firm_a.id) as s:
        application = s.get(ProgrammeApplication, (firm_a.id, application_id))
        newest = services.latest_snapshot(s, s.get(Firm, firm_a.id))
        assert newest.id != application.snapshot_id
        verdict = services.firm_eligibility(
            s, s.get(Firm, firm_a.id), s.get(ProgrammeRound, round_id), application, now=utcnow()
        )
        assert verdict.rules[0].value == "self"  # computed on the frozen row


def test_a_project_round_needs_the_project_fields(app, make_client, firm_a, quick_submission):
    quick_submission(firm_a, 0.8)
    round_id = make_round(app, kind="project")
    client = _login(make_client, firm_a)
    response = client.post(f"/programme/rounds/{round_id}/apply", {**FORM, "action": "submit"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="project_name-error"' in html and 'id="project_kpis-error"' in html
    project = {
        "project_name": "智能染整车间改造",
        "project_dimensions": "production, quality",
        "project_investment_wan": "260",
        "project_schedule": "3月立项，12月验收",
        "project_kpis": "不良率下降20%",
        "project_suppliers": "嘉兴某软件公司",
    }
    assert (
        client.post(f"/programme/rounds/{round_id}/apply", {**FORM, **project, "action": "submit"}).status_code == 302
    )
    (application,) = _apps(app, firm_a)
    assert application.status == "submitted"
    assert (
        application.project["dimensions"] == ["production", "quality"]
        and application.project["investment_wan"] == "260"
    )
