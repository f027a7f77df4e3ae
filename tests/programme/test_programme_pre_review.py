"""County pre-review (形式审查): county staff see only their county, city staff all; pass, return with a deadline
(the firm corrects and resubmits), reject with a reason."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from saas.models import EmailMessage, utcnow
from saas.models.programme import ProgrammeApplication
from saas.programme import services
from tests.conftest import app_session
from tests.programme.programme_support import make_round, submitted_application
from tests.programme.test_programme_rounds import staff_client


def _status(app, firm):
    with app_session(app, firm.id) as s:
        return s.scalar(select(ProgrammeApplication.status))


def _two(app, firm_a, firm_b, quick_submission):
    quick_submission(firm_a, 0.8)  # nanhu
    quick_submission(firm_b, 0.8)  # haining
    round_id = make_round(app)
    return round_id, submitted_application(app, firm_a, round_id), submitted_application(app, firm_b, round_id)


def test_county_staff_see_only_their_county(app, make_client, create_user, firm_a, firm_b, quick_submission):
    round_id, a_id, b_id = _two(app, firm_a, firm_b, quick_submission)
    haining = staff_client(make_client, create_user, county="haining")
    html = haining.get(f"/programme/bureau/rounds/{round_id}").get_data(as_text=True)
    assert firm_b.name in html and firm_a.name not in html
    assert haining.get(f"/programme/bureau/applications/{firm_b.id}/{b_id}").status_code == 200
    assert haining.get(f"/programme/bureau/applications/{firm_a.id}/{a_id}").status_code == 404
    # an application id under another firm's id is a 404 too
    assert haining.get(f"/programme/bureau/applications/{firm_b.id}/{a_id}").status_code == 404
    response = haining.post(f"/programme/bureau/applications/{firm_a.id}/{a_id}", {"decision": "pass"})
    assert response.status_code == 404 and _status(app, firm_a) == "submitted"
    city = staff_client(make_client, create_user)
    html = city.get(f"/programme/bureau/rounds/{round_id}").get_data(as_text=True)
    assert firm_a.name in html and firm_b.name in html


def test_drafts_are_not_in_the_county_queue(app, make_client, create_user, firm_b):
    from tests.programme.programme_support import draft_application

    round_id = make_round(app)
    b_id = draft_application(app, firm_b, round_id)
    city = staff_client(make_client, create_user)
    assert firm_b.name not in city.get(f"/programme/bureau/rounds/{round_id}").get_data(as_text=True)
    assert city.get(f"/programme/bureau/applications/{firm_b.id}/{b_id}").status_code == 404


def test_return_then_resubmit_then_pass(app, make_client, create_user, firm_b, quick_submission):
    quick_submission(firm_b, 0.8)
    round_id = make_round(app)
    b_id = submitted_application(app, firm_b, round_id)
    haining = staff_client(make_client, create_user, county="haining")
    url = f"/programme/bureau/applications/{firm_b.id}/{b_id}"
    deadline = services.beijing_today(utcnow()) + timedelta(days=5)
    # a return needs a reason and a deadline
    assert haining.post(url, {"decision": "return", "reason": ""}).status_code == 400
    assert _status(app, firm_b) == "submitted"
    response = haining.post(url, {"decision": "return", "reason": "缺少联系电话区号", "deadline": deadline.isoformat()})
    assert response.status_code == 302
    with app_session(app, firm_b.id) as s:
        application = s.scalar(select(ProgrammeApplication))
        assert (application.status, application.return_reason, application.return_deadline) == (
            "returned",
            "缺少联系电话区号",
            deadline,
        )
        assert s.scalars(select(EmailMessage).where(EmailMessage.to == firm_b.owner_email)).all()
    firm = make_client()
    firm.login(firm_b.owner_email)
    assert "缺少联系电话区号" in firm.get(f"/programme/applications/{b_id}").get_data(as_text=True)
    form = {
        "declaration": "修改后的申报说明：本企业数字化改造成效显著，具有示范意义。",
        "contact_name": "张三",
        "contact_phone": "0573-87654321",
        "consent_share": "y",
        "consent_publish": "y",
        "action": "submit",
    }
    assert firm.post(f"/programme/rounds/{round_id}/apply", form).status_code == 302
    assert _status(app, firm_b) == "submitted"
    assert haining.post(url, {"decision": "pass"}).status_code == 302
    assert _status(app, firm_b) == "passed"
    # a decided application is not reviewed again
    assert haining.post(url, {"decision": "reject", "reason": "x"}).status_code == 409
    assert _status(app, firm_b) == "passed"


def test_reject_needs_a_reason(app, make_client, create_user, firm_b, quick_submission):
    quick_submission(firm_b, 0.8)
    round_id = make_round(app)
    b_id = submitted_application(app, firm_b, round_id)
    city = staff_client(make_client, create_user)
    url = f"/programme/bureau/applications/{firm_b.id}/{b_id}"
    assert city.post(url, {"decision": "reject"}).status_code == 400
    assert _status(app, firm_b) == "submitted"
    assert city.post(url, {"decision": "reject", "reason": "不属于本市注册企业"}).status_code == 302
    with app_session(app, firm_b.id) as s:
        application = s.scalar(select(ProgrammeApplication))
        assert application.status == "rejected" and application.reject_reason == "不属于本市注册企业"


def test_a_return_deadline_that_passed_refuses_the_resubmission(app, firm_b, quick_submission):
    from saas.models import Firm, User
    from saas.models.programme import ProgrammeRound
    from saas.programme.errors import ProgrammeError

    quick_submission(firm_b, 0.8)
    round_id = make_round(app)
    b_id = submitted_application(app, firm_b, round_id)
    with app_session(app, firm_b.id) as s:
        application = s.get(ProgrammeApplication, (firm_b.id, b_id))
        rnd, firm, owner = s.get(ProgrammeRound, round_id), s.get(Firm, firm_b.id), s.get(User, firm_b.owner_id)
        staff = s.get(User, rnd.created_by_id)
        today = services.beijing_today(utcnow())
        services.pre_review(s, staff, rnd, application, firm, "return", reason="补材料", deadline=today, now=utcnow())
        later = utcnow() + timedelta(days=2)
        try:
            services.submit_application(s, firm, owner, rnd, application, now=later)
        except ProgrammeError as exc:
            assert exc.code == "return_deadline_passed"
        else:
            raise AssertionError("a late resubmission was accepted")
        assert application.status == "returned"
