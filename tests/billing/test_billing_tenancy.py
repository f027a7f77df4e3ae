"""Cross-tenant tests for every billing route: one firm never sees or changes another's billing."""

from __future__ import annotations

from sqlalchemy import select

from saas.models import BillingCustomer, InvoiceDetails, Membership, Purchase
from tests.conftest import app_session


def _owner(make_client, firm):
    client = make_client()
    client.login(firm.owner_email)
    return client


def _rows(app, firm, model):
    with app_session(app, firm.id) as s:
        rows = s.scalars(select(model)).all()
        s.expunge_all()
        return rows


def test_billing_page_shows_only_the_own_payments(app, billing, make_client, firm_a, firm_b):
    a = _owner(make_client, firm_a)
    url = a.post("/billing/checkout/pro_pass").headers["Location"]
    billing.complete(url)
    billing.deliver()
    (paid,) = _rows(app, firm_a, Purchase)
    assert f'id="payment-{paid.id}"' in a.get("/billing/").get_data(as_text=True)
    b_page = _owner(make_client, firm_b).get("/billing/").get_data(as_text=True)
    assert f'id="payment-{paid.id}"' not in b_page and 'id="no-payments"' in b_page
    assert 'data-plan="free"' in b_page


def test_success_page_refuses_another_firms_session(app, billing, make_client, firm_a, firm_b):
    url = _owner(make_client, firm_a).post("/billing/checkout/pro_pass").headers["Location"]
    session_id = billing.complete(url)
    b = _owner(make_client, firm_b)
    assert b.get(f"/billing/success?session_id={session_id}").status_code == 404
    assert [p.status for p in _rows(app, firm_a, Purchase)] == ["pending"]  # B's visit fulfilled nothing
    assert _rows(app, firm_b, Purchase) == []


def test_report_checkout_and_voucher_refuse_another_firms_assessment(
    app, billing, make_client, firm_a, firm_b, submitted_assessment
):
    a_assessment = submitted_assessment(firm_a)
    b = _owner(make_client, firm_b)
    assert b.post("/billing/checkout/report", {"assessment_id": str(a_assessment)}).status_code == 404
    assert (
        b.post(
            "/billing/vouchers/redeem", {"code": "JX-AAAA-BBBB-CCCC", "assessment_id": str(a_assessment)}
        ).status_code
        == 404
    )
    page = b.get(f"/billing/?report_for={a_assessment}").get_data(as_text=True)
    assert 'id="buy-report"' not in page  # another firm's assessment is not offered
    assert _rows(app, firm_b, Purchase) == [] and _rows(app, firm_a, Purchase) == []
    assert not [r for r in billing.standin.requests() if r["path"] == "/v1/checkout/sessions"]


def test_portal_uses_the_own_customer_only(app, billing, make_client, firm_a, firm_b):
    a = _owner(make_client, firm_a)
    billing.complete(a.post("/billing/checkout/pro_monthly").headers["Location"])
    billing.deliver()
    (a_customer,) = _rows(app, firm_a, BillingCustomer)
    b = _owner(make_client, firm_b)
    assert b.post("/billing/portal").status_code == 302  # B has no customer: no portal for A's
    assert not [r for r in billing.standin.requests() if r["path"] == "/v1/billing_portal/sessions"]
    response = a.post("/billing/portal")
    assert response.status_code == 303
    portal_id = response.headers["Location"].rsplit("/", 1)[1]
    found = billing.standin.control("GET", "/_test/state")["objects"]["billing_portal.session"][portal_id]
    assert found["customer"] == a_customer.stripe_customer_id


def test_invoice_details_are_per_firm_and_validated(app, billing, make_client, firm_a, firm_b):
    a = _owner(make_client, firm_a)
    page = a.get("/billing/").get_data(as_text=True)
    with app_session(app) as s:
        from saas.models import Firm

        uscc = s.get(Firm, firm_a.id).uscc
    assert f'value="{uscc}"' in page  # the USCC is prefilled
    bad = a.post("/billing/invoice-details", {"title": "嘉兴甲丝绸有限公司", "tax_number": "12"})
    assert bad.status_code == 422 and 'id="tax_number-error"' in bad.get_data(as_text=True)
    assert "嘉兴甲丝绸有限公司" in bad.get_data(as_text=True)  # nothing typed is lost
    ok = a.post(
        "/billing/invoice-details", {"title": "嘉兴甲丝绸有限公司", "tax_number": uscc, "firm_id": str(firm_b.id)}
    )
    assert ok.status_code == 302
    assert [(d.firm_id, d.tax_number) for d in _rows(app, firm_a, InvoiceDetails)] == [(firm_a.id, uscc)]
    assert _rows(app, firm_b, InvoiceDetails) == []  # the extra firm_id field changed nothing


def test_members_cannot_buy_and_visitors_must_log_in(app, billing, client, make_client, firm_a, create_user):
    member = create_user("firm")
    with app_session(app, firm_a.id) as s:
        s.add(Membership(firm_id=firm_a.id, user_id=member["id"], role="member"))
    m = make_client()
    m.login(member["email"])
    assert m.get("/billing/").status_code == 200
    assert m.post("/billing/checkout/pro_pass").status_code == 403
    assert m.post("/billing/portal").status_code == 403
    assert m.post("/billing/invoice-details", {"title": "x公司", "tax_number": "9" * 18}).status_code == 403
    for url in ("/billing/", "/billing/success?session_id=cs_x"):
        assert client.get(url).status_code == 302 and "/auth/login" in client.get(url).headers["Location"]
    assert not [r for r in billing.standin.requests() if r["method"] == "POST"]


def test_a_webhook_for_firm_a_changes_only_firm_a(app, billing, make_client, firm_a, firm_b):
    billing.complete(_owner(make_client, firm_a).post("/billing/checkout/pro_monthly").headers["Location"])
    billing.deliver()
    assert _rows(app, firm_a, Purchase) and _rows(app, firm_b, Purchase) == []
    assert _rows(app, firm_b, BillingCustomer) == []
