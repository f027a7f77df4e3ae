"""The firm area: profile, invitations, roles; the last owner stays."""

from __future__ import annotations

import re

from sqlalchemy import select

from saas.models import EmailMessage, Firm, Membership
from tests.conftest import PASSWORD, app_session


def _invite_link(app, email):
    with app_session(app) as s:
        body = s.scalars(select(EmailMessage.body).where(EmailMessage.to == email)).all()[-1]
    return re.search(r"http://[^/]+(/auth/invitation/\S+)", body).group(1)


def test_owner_invites_a_colleague_who_joins_as_member(app, client, make_client, firm_a):
    client.login(firm_a.owner_email)
    response = client.post("/firm/members/invite", {"email": "wang.wei@example.com", "role": "member"})
    assert response.status_code == 302
    link = _invite_link(app, "wang.wei@example.com")
    colleague = make_client()
    assert "嘉兴甲丝绸有限公司" in colleague.get(link).get_data(as_text=True)
    response = colleague.post(link, {"name": "王伟", "password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/firm/")
    assert "嘉兴甲丝绸有限公司" in colleague.get("/firm/").get_data(as_text=True)
    # members cannot edit the profile or invite
    assert colleague.post("/firm/members/invite", {"email": "x@example.com", "role": "owner"}).status_code == 403
    assert (
        colleague.post(
            "/firm/profile", {"name": "改名", "employees": "1", "revenue_wan": "1", "contact_name": "x"}
        ).status_code
        == 403
    )
    # the link works once
    assert make_client().get(link).status_code == 400


def test_invitation_token_is_bound_to_its_firm(app, client, make_client, firm_a, firm_b):
    client.login(firm_a.owner_email)
    client.post("/firm/members/invite", {"email": "li@example.com", "role": "owner"})
    link = _invite_link(app, "li@example.com")
    forged = link.replace(str(firm_a.id), str(firm_b.id))
    assert make_client().get(forged).status_code == 400


def test_profile_edit_rederives_size_class(app, client, firm_a):
    client.login(firm_a.owner_email)
    response = client.post(
        "/firm/profile",
        {
            "name": "嘉兴甲丝绸股份有限公司",
            "employees": "350",
            "revenue_wan": "5000",
            "contact_name": "张三",
            "firm_id": "ignored",
            "uscc": "ignored",
            "size_class": "large",
        },
    )
    assert response.status_code == 302
    with app_session(app) as s:
        firm = s.get(Firm, firm_a.id)
        assert firm.name == "嘉兴甲丝绸股份有限公司" and firm.size_class == "medium"
        assert firm.uscc != "ignored"


def test_profile_errors_keep_the_input(client, firm_a):
    client.login(firm_a.owner_email)
    html = client.post(
        "/firm/profile", {"name": "新名字", "employees": "-3", "revenue_wan": "abc", "contact_name": "张三"}
    ).get_data(as_text=True)
    assert 'id="employees-error"' in html and 'id="revenue_wan-error"' in html and "新名字" in html


def test_last_owner_cannot_be_demoted_or_removed(app, client, firm_a):
    client.login(firm_a.owner_email)
    with app_session(app, firm_a.id) as s:
        own = s.scalar(select(Membership.id))
    client.post(f"/firm/members/{own}/role", {"role": "member"})
    client.post(f"/firm/members/{own}/remove")
    with app_session(app, firm_a.id) as s:
        assert s.scalar(select(Membership.role)) == "owner"


def test_members_page_lists_only_own_firm(client, firm_a, firm_b):
    client.login(firm_a.owner_email)
    html = client.get("/firm/members").get_data(as_text=True)
    assert firm_a.owner_email in html and firm_b.owner_email not in html


def test_a_buyer_account_cannot_join_a_firm(app, client, make_client, firm_a, create_user):
    buyer = create_user("buyer")
    client.login(firm_a.owner_email)
    client.post("/firm/members/invite", {"email": buyer["email"], "role": "member"})
    link = _invite_link(app, buyer["email"])
    other = make_client()
    other.login(buyer["email"])
    response = other.post(link)
    assert response.status_code == 409 and "采购商" in response.get_data(as_text=True)
    with app_session(app, firm_a.id) as s:
        assert len(s.scalars(select(Membership)).all()) == 1
