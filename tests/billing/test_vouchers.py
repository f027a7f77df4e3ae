"""Innovation vouchers (创新券): the bureau issues them, a firm redeems one for a pass or a report; the report."""

from __future__ import annotations

import re

from sqlalchemy import select

from saas import billing as billing_api
from saas.models import Firm, Purchase, Voucher, utcnow
from tests.conftest import app_session, totp_code


def staff_client(make_client, create_user, county=None):
    staff = create_user("staff", county=county)
    client = make_client()
    client.login(staff["email"])
    client.post("/auth/two-factor", {"code": totp_code(staff["totp_secret"])})
    return client


def _issue(client, product="pro_pass", county="nanhu", count=2):
    response = client.post(
        "/bureau/vouchers/",
        {
            "product": product,
            "county": county,
            "funder_round": "2026年第一批",
            "count": str(count),
            "value_yuan": "990",
        },
    )
    assert response.status_code == 200, response.status_code
    return re.findall(r"<code>(JX-[A-Z0-9-]+)</code>", response.get_data(as_text=True))


def test_bureau_issues_and_a_firm_redeems_a_pass_once(app, make_client, create_user, firm_a, firm_b):
    codes = _issue(staff_client(make_client, create_user))
    assert len(codes) == 2
    owner = make_client()
    owner.login(firm_a.owner_email)
    assert owner.post("/billing/vouchers/redeem", {"code": codes[0].lower().replace("-", " ")}).status_code == 302
    with app_session(app, firm_a.id) as s:
        rights = billing_api.entitlements(s.get(Firm, firm_a.id), utcnow(), s)
        assert rights.plan == "pro" and rights.reason == "pass"
    other = make_client()
    other.login(firm_b.owner_email)
    again = other.post("/billing/vouchers/redeem", {"code": codes[0]})
    assert again.status_code == 422 and "已被使用" in again.get_data(as_text=True)
    wrong = other.post("/billing/vouchers/redeem", {"code": "JX-AAAA-AAAA-AAAA"})
    assert wrong.status_code == 422 and 'id="code-error"' in wrong.get_data(as_text=True)
    with app_session(app, firm_b.id) as s:
        assert s.scalars(select(Purchase)).all() == []
    with app_session(app) as s:
        voucher = s.scalar(select(Voucher).where(Voucher.code == codes[0]))
        assert voucher.redeemed_by_firm_id == firm_a.id


def test_report_voucher_pays_for_one_snapshot(app, make_client, create_user, firm_a, submitted_assessment):
    assessment_id = submitted_assessment(firm_a)
    (code,) = _issue(staff_client(make_client, create_user), product="report", count=1)
    owner = make_client()
    owner.login(firm_a.owner_email)
    assert owner.post(f"/benchmarking/{assessment_id}/pdf").status_code == 303
    missing = owner.post("/billing/vouchers/redeem", {"code": code})
    assert missing.status_code == 422  # a report voucher needs the assessment
    done = owner.post("/billing/vouchers/redeem", {"code": code, "assessment_id": str(assessment_id)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/benchmarking/{assessment_id}")
    assert owner.post(f"/benchmarking/{assessment_id}/pdf").status_code == 302


def test_voucher_report_by_county_and_industry_suppresses_small_cells(app, make_client, create_user, create_firm):
    city = staff_client(make_client, create_user)
    codes = _issue(city, county="haining", count=7)
    firms = [create_firm(name=f"海宁券{i}皮革有限公司", county="haining", industry="leather") for i in range(5)]
    firms.append(create_firm(name="海宁券丝绸有限公司", county="haining", industry="silk"))
    for firm, code in zip(firms, codes, strict=False):
        client = make_client()
        client.login(firm.owner_email)
        assert client.post("/billing/vouchers/redeem", {"code": code}).status_code == 302
    html = city.get("/bureau/vouchers/").get_data(as_text=True)
    leather = re.search(r'data-county="haining" data-industry="leather">(.*?)</tr>', html, re.S).group(1)
    silk = re.search(r'data-county="haining" data-industry="silk">(.*?)</tr>', html, re.S).group(1)
    total = re.search(r'data-county="haining" data-industry="">(.*?)</tr>', html, re.S).group(1)
    assert '<td class="redeemed">5</td>' in leather and "¥4950.00" in leather
    assert "少于 5 家" in silk and "¥990.00" not in silk
    assert "<td>7</td>" in total
    # county staff see their county only
    county_staff = staff_client(make_client, create_user, county="nanhu")
    assert 'data-county="haining"' not in county_staff.get("/bureau/vouchers/").get_data(as_text=True)
    firm_owner = make_client()
    firm_owner.login(firms[0].owner_email)
    assert firm_owner.get("/bureau/vouchers/").status_code == 403
