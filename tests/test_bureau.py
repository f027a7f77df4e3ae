"""Bureau staff: the firm register within their scope, verification with an audit trail."""

from __future__ import annotations

from sqlalchemy import select

from saas.models import AuditEvent, Firm
from tests.conftest import app_session, totp_code


def staff_client(make_client, create_user, county=None, kind="staff"):
    staff = create_user(kind, county=county)
    client = make_client()
    client.login(staff["email"])
    client.post("/auth/two-factor", {"code": totp_code(staff["totp_secret"])})
    return client


def test_city_staff_see_every_county(make_client, create_user, firm_a, firm_b):
    client = staff_client(make_client, create_user)
    html = client.get("/bureau/").get_data(as_text=True)
    assert firm_a.name in html and firm_b.name in html


def test_county_staff_see_nothing_outside_their_county(make_client, create_user, firm_a, firm_b):
    client = staff_client(make_client, create_user, county="haining")
    html = client.get("/bureau/").get_data(as_text=True)
    assert firm_b.name in html and firm_a.name not in html
    html = client.get("/bureau/?county=nanhu").get_data(as_text=True)
    assert firm_a.name not in html
    assert client.get(f"/bureau/firms/{firm_a.id}").status_code == 404
    assert client.post(f"/bureau/firms/{firm_a.id}/verify").status_code == 404
    assert client.get(f"/bureau/firms/{firm_b.id}").status_code == 200


def test_verification_is_recorded_in_the_audit_trail(app, make_client, create_user, firm_b):
    client = staff_client(make_client, create_user, county="haining")
    assert client.post(f"/bureau/firms/{firm_b.id}/verify").status_code == 302
    with app_session(app) as s:
        assert s.get(Firm, firm_b.id).verified_at is not None
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "bureau.firm_verified"))
        assert event.subject_firm_id == firm_b.id
    assert "bureau.firm_verified" in client.get(f"/bureau/firms/{firm_b.id}").get_data(as_text=True)


def test_register_filters_and_paginates(app, make_client, create_user, create_firm):
    for i in range(25):
        create_firm(name=f"平湖箱包{i:02d}有限公司", county="pinghu", industry="luggage")
    client = staff_client(make_client, create_user)
    page1 = client.get("/bureau/?industry=luggage").get_data(as_text=True)
    assert "25 家企业" in page1 or "25 firms" in page1
    page2 = client.get("/bureau/?industry=luggage&page=2").get_data(as_text=True)
    assert page2.count("平湖箱包") == 5
    assert client.get("/bureau/?page=abc").status_code == 200
