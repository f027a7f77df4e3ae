"""Billing flows with the real StripeClient against the stand-in: checkout for each product, portal, renewal,
failed payment, cancellation at period end, refund, signature checks, duplicates and reconciliation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from billing_support import sign
from sqlalchemy import select

from saas import billing as billing_api
from saas.models import BillingEvent, BillingSubscription, EmailMessage, Firm, Purchase, ScoreSnapshot, utcnow
from tests.conftest import app_session, grant_pro


def _owner(make_client, firm):
    client = make_client()
    client.login(firm.owner_email)
    return client


def _rights(app, firm):
    with app_session(app, firm.id) as s:
        return billing_api.entitlements(s.get(Firm, firm.id), utcnow(), s)


def _purchases(app, firm):
    with app_session(app, firm.id) as s:
        return [(p.product, p.status) for p in s.scalars(select(Purchase).order_by(Purchase.created_at))]


def _subscription(app, firm):
    with app_session(app, firm.id) as s:
        row = s.scalar(select(BillingSubscription))
        s.expunge_all()
        return row


def _checkout(client, product, **data):
    response = client.post(f"/billing/checkout/{product}", data)
    assert response.status_code == 303, response.status_code
    return response.headers["Location"]


def test_monthly_subscription_checkout_makes_the_firm_pro(app, billing, make_client, firm_a):
    client = _owner(make_client, firm_a)
    assert _rights(app, firm_a).plan == "free"
    url = _checkout(client, "pro_monthly")
    assert url.startswith(billing.standin.url + "/pay/cs_")
    billing.complete(url)
    billing.deliver()
    sub = _subscription(app, firm_a)
    assert sub.status == "active" and sub.product == "pro_monthly" and sub.current_period_end > utcnow()
    rights = _rights(app, firm_a)
    assert rights.plan == "pro" and rights.reason == "subscription" and rights.bulk_import
    assert ("pro_monthly", "paid") in _purchases(app, firm_a)
    # deterministic idempotency keys on the POSTs, and the session in subscription mode with card only
    keys = {r["path"]: r["idempotency_key"] for r in billing.standin.requests() if r["method"] == "POST"}
    assert keys["/v1/customers"] == f"customer:{firm_a.id}"
    assert keys["/v1/checkout/sessions"].startswith(f"checkout:{firm_a.id}:")
    session = billing.standin.client.v1.checkout.sessions.retrieve(url.rsplit("/", 1)[1])
    assert session.mode == "subscription" and list(session.payment_method_types) == ["card"]
    assert session.metadata["firm_id"] == str(firm_a.id)


def test_double_click_makes_one_session_and_client_prices_are_ignored(app, billing, make_client, firm_a):
    client = _owner(make_client, firm_a)
    first = _checkout(client, "pro_pass", price="price_evil", amount="1")
    second = _checkout(client, "pro_pass", price="price_evil")
    assert first == second
    posts = [r for r in billing.standin.requests() if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]
    assert len(posts) == 1
    items = billing.standin.client.v1.checkout.sessions.line_items.list(first.rsplit("/", 1)[1])
    assert items.data[0].price.lookup_key == "jx_pro_pass_yearly" and items.data[0].amount_total == 99000


@pytest.mark.parametrize("held", ["subscription", "pass"])
@pytest.mark.parametrize("again", ["pro_monthly", "pro_pass"])
def test_a_firm_with_pro_cannot_buy_pro_again(app, billing, make_client, firm_a, held, again):
    client = _owner(make_client, firm_a)
    if held == "subscription":
        _subscribe(app, billing, client, firm_a)
    else:
        grant_pro(app, firm_a.id)
    before = _purchases(app, firm_a)
    sessions_before = [r for r in billing.standin.requests() if r["path"] == "/v1/checkout/sessions"]
    response = client.post(f"/billing/checkout/{again}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/billing/")
    assert _purchases(app, firm_a) == before
    assert [r for r in billing.standin.requests() if r["path"] == "/v1/checkout/sessions"] == sessions_before
    page = client.get("/billing/").get_data(as_text=True)
    assert "贵企业已拥有专业版（有效期见下方）" in page  # the flashed refusal
    assert 'id="already-pro"' in page
    assert 'id="buy-pro_monthly"' not in page and 'id="buy-pro_pass"' not in page
    _rights_now = _rights(app, firm_a)
    assert _rights_now.plan == "pro" and _rights_now.reason == held


def test_unknown_product_is_refused_without_calling_stripe(app, billing, make_client, firm_a):
    client = _owner(make_client, firm_a)
    response = client.post("/billing/checkout/price_jx_pro_monthly")
    assert response.status_code == 302
    assert not [r for r in billing.standin.requests() if r["method"] == "POST"]
    assert _purchases(app, firm_a) == []


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_yearly_pass_by_wechat_pay_settles_asynchronously(app, billing, make_client, firm_a, outcome):
    client = _owner(make_client, firm_a)
    url = _checkout(client, "pro_pass")
    session = billing.standin.client.v1.checkout.sessions.retrieve(url.rsplit("/", 1)[1])
    assert session.mode == "payment" and set(session.payment_method_types) == {"card", "wechat_pay", "alipay"}
    billing.complete(url, "wechat_pay", "pending")
    billing.deliver()
    assert _purchases(app, firm_a) == [("pro_pass", "pending")]  # completed, but the wallet has not paid yet
    assert _rights(app, firm_a).plan == "free"
    billing.standin.control("POST", f"/_test/checkout_sessions/{session.id}/async", {"outcome": outcome})
    billing.deliver()
    rights = _rights(app, firm_a)
    if outcome == "succeeded":
        assert _purchases(app, firm_a) == [("pro_pass", "paid")]
        assert rights.plan == "pro" and rights.reason == "pass"
        assert timedelta(days=364) < rights.pro_until - utcnow() <= timedelta(days=365)
    else:
        assert _purchases(app, firm_a) == [("pro_pass", "failed")] and rights.plan == "free"


def test_single_report_checkout_then_refund_withdraws_it(app, billing, make_client, firm_a, submitted_assessment):
    assessment_id = submitted_assessment(firm_a)
    client = _owner(make_client, firm_a)
    refused = client.post(f"/benchmarking/{assessment_id}/pdf")
    assert refused.status_code == 303 and f"report_for={assessment_id}" in refused.headers["Location"]
    assert 'id="buy-report"' in client.get(refused.headers["Location"]).get_data(as_text=True)
    url = _checkout(client, "report", assessment_id=str(assessment_id))
    session_id = billing.complete(url, "alipay", "success")
    # the success page fulfils at once (the same step as the webhook), before any webhook arrives
    back = client.get(f"/billing/success?session_id={session_id}")
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/benchmarking/{assessment_id}")
    assert _purchases(app, firm_a) == [("report", "paid")]
    assert client.post(f"/benchmarking/{assessment_id}/pdf").status_code == 302  # to the job's status page
    billing.deliver()  # the webhook's copy of the same fulfilment changes nothing
    assert _purchases(app, firm_a) == [("report", "paid")]
    rights = _rights(app, firm_a)
    assert rights.plan == "free" and len(rights.report_snapshots) == 1
    payment_intent = billing.standin.client.v1.checkout.sessions.retrieve(session_id).payment_intent
    billing.standin.client.v1.refunds.create(params={"payment_intent": payment_intent})
    billing.deliver()
    assert _purchases(app, firm_a) == [("report", "refunded")]
    assert client.post(f"/benchmarking/{assessment_id}/pdf").status_code == 303


def test_billing_disabled_opens_the_full_pdf_and_hides_the_shop(
    app, monkeypatch, make_client, firm_a, submitted_assessment
):
    assessment_id = submitted_assessment(firm_a)
    client = _owner(make_client, firm_a)
    assert client.post(f"/benchmarking/{assessment_id}/pdf").status_code == 303  # selling: free firms are offered Pro
    monkeypatch.setitem(app.config, "BILLING_ENABLED", False)
    rights = _rights(app, firm_a)
    assert (rights.plan, rights.reason) == ("pro", "not_selling")
    response = client.post(f"/benchmarking/{assessment_id}/pdf")
    assert response.status_code == 302 and f"/benchmarking/{assessment_id}/pdf/" in response.headers["Location"]
    page = client.get("/billing/").get_data(as_text=True)
    assert 'id="not-selling"' in page and 'id="buy"' not in page
    assert _purchases(app, firm_a) == []


def test_the_pdf_file_is_checked_against_the_snapshot_of_its_job(app, make_client, firm_a, submitted_assessment):
    assessment_id = submitted_assessment(firm_a)
    client = _owner(make_client, firm_a)
    with app_session(app, firm_a.id) as s:
        first = s.scalar(select(ScoreSnapshot).where(ScoreSnapshot.assessment_id == assessment_id))
        first_id, created = first.id, first.created_at
        s.add(Purchase(product="report", status="paid", snapshot_id=first_id, assessment_id=assessment_id))
    response = client.post(f"/benchmarking/{assessment_id}/pdf")
    assert response.status_code == 302
    file_url = response.headers["Location"] + "/file"
    first_download = client.get(file_url)
    first_download.close()
    assert first_download.status_code == 200
    # the bureau verifies the assessment: a newer snapshot, whose report was not bought
    with app_session(app, firm_a.id) as s:
        first = s.scalar(select(ScoreSnapshot).where(ScoreSnapshot.id == first_id))
        copied = {c.key: getattr(first, c.key) for c in ScoreSnapshot.__table__.columns if c.key not in ("id",)}
        s.add(ScoreSnapshot(**{**copied, "kind": "verified", "created_at": created + timedelta(minutes=1)}))
    served = client.get(file_url)  # the job's file is the bought first snapshot's report
    served.close()
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    with app_session(app, firm_a.id) as s:
        second = s.scalar(select(ScoreSnapshot).where(ScoreSnapshot.kind == "verified"))
        s.scalar(select(Purchase)).snapshot_id = second.id  # now only the newer report is paid for
    refused = client.get(file_url)
    refused.close()
    assert refused.status_code == 303 and f"report_for={assessment_id}" in refused.headers["Location"]


@pytest.mark.parametrize("dropped", [("purchase_id",), ("purchase_id", "firm_id", "product")])
def test_refund_finds_the_purchase_by_payment_intent_when_the_charge_lacks_metadata(
    app, billing, make_client, firm_a, monkeypatch, dropped
):
    from saas.billing.gateway import Gateway

    client = _owner(make_client, firm_a)
    session_id = billing.complete(_checkout(client, "pro_pass"))
    billing.deliver()
    assert _purchases(app, firm_a) == [("pro_pass", "paid")]
    real_charge = Gateway.charge

    def bare_charge(self, charge_id):  # as a charge Stripe made without copying the checkout's metadata
        charge = real_charge(self, charge_id)
        charge["metadata"] = {k: v for k, v in (charge.get("metadata") or {}).items() if k not in dropped}
        return charge

    monkeypatch.setattr(Gateway, "charge", bare_charge)
    payment_intent = billing.standin.client.v1.checkout.sessions.retrieve(session_id).payment_intent
    billing.standin.client.v1.refunds.create(params={"payment_intent": payment_intent})
    billing.deliver()
    assert _purchases(app, firm_a) == [("pro_pass", "refunded")]
    assert _rights(app, firm_a).plan == "free"


def _subscribe(app, billing, client, firm):
    url = _checkout(client, "pro_monthly")
    billing.complete(url)
    billing.deliver()
    return _subscription(app, firm)


def test_portal_opens_for_the_own_customer_only(app, billing, make_client, firm_a):
    client = _owner(make_client, firm_a)
    assert client.post("/billing/portal").status_code == 302  # no customer yet: back to the page with a message
    _subscribe(app, billing, client, firm_a)
    response = client.post("/billing/portal")
    assert response.status_code == 303 and response.headers["Location"].startswith(billing.standin.url + "/portal/")
    with app_session(app, firm_a.id) as s:
        from saas.models import BillingCustomer

        customer = s.scalar(select(BillingCustomer.stripe_customer_id))
    post = [r for r in billing.standin.requests() if r["path"] == "/v1/billing_portal/sessions"][-1]
    assert post["idempotency_key"].startswith(f"portal:{firm_a.id}:")
    portal_id = response.headers["Location"].rsplit("/", 1)[1]
    portal = billing.standin.control("GET", "/_test/state")["objects"]["billing_portal.session"][portal_id]
    assert portal["customer"] == customer


def test_portal_in_two_languages_within_one_minute_opens_twice(app, billing, make_client, firm_a):
    client = _owner(make_client, firm_a)
    _subscribe(app, billing, client, firm_a)
    zh = client.post("/billing/portal")
    client.post("/language", {"lang": "en"})
    en = client.post("/billing/portal")
    assert (zh.status_code, en.status_code) == (303, 303), en.headers.get("Location")
    state = billing.standin.control("GET", "/_test/state")["objects"]["billing_portal.session"]
    locales = [state[r.headers["Location"].rsplit("/", 1)[1]]["locale"] for r in (zh, en)]
    assert locales == ["zh", "en"]


def test_renewal_extends_the_period_with_invoice_paid(app, billing, make_client, firm_a):
    client = _owner(make_client, firm_a)
    before = _subscribe(app, billing, client, firm_a)
    billing.standin.control("POST", f"/_test/subscriptions/{before.stripe_subscription_id}/renew", {"outcome": "ok"})
    billing.deliver()
    after = _subscription(app, firm_a)
    assert after.status == "active" and after.current_period_end > before.current_period_end
    assert _purchases(app, firm_a).count(("pro_monthly", "paid")) == 2


def test_failed_renewal_is_past_due_with_one_mail_and_a_grace(app, billing, make_client, firm_a):
    client = _owner(make_client, firm_a)
    sub = _subscribe(app, billing, client, firm_a)
    sid = sub.stripe_subscription_id
    billing.standin.control("POST", f"/_test/subscriptions/{sid}/renew", {"outcome": "decline"})
    billing.standin.wait()
    failed = [e for e in billing.events() if e["type"] == "invoice.payment_failed"]
    assert len(failed) == 1, [e["data"]["object"]["id"] for e in failed]
    billing.deliver()
    billing.post(failed[0])  # a duplicate delivery sends no second mail
    assert _subscription(app, firm_a).status == "past_due"
    rights = _rights(app, firm_a)
    assert rights.plan == "pro" and rights.reason == "grace"
    with app_session(app, firm_a.id) as s:
        mails = s.scalars(select(EmailMessage).where(EmailMessage.to == firm_a.owner_email)).all()
        billing_mails = [m for m in mails if "/billing/" in m.body]
    assert len(billing_mails) == 1 and "http://127.0.0.1:5000/billing/" in billing_mails[0].body
    page = client.get("/billing/").get_data(as_text=True)
    assert 'id="open-portal"' in page


def test_cancel_at_period_end_keeps_pro_until_the_end(app, billing, make_client, firm_a):
    client = _owner(make_client, firm_a)
    sub = _subscribe(app, billing, client, firm_a)
    sid = sub.stripe_subscription_id
    billing.standin.control("POST", f"/_test/subscriptions/{sid}/cancel", {"at_period_end": True})
    billing.deliver()
    row = _subscription(app, firm_a)
    assert row.cancel_at_period_end and row.status == "active" and _rights(app, firm_a).plan == "pro"
    billing.standin.control("POST", "/_test/clock/advance", {"days": 32})
    billing.deliver()
    row = _subscription(app, firm_a)
    assert row.status == "canceled" and _rights(app, firm_a).plan == "free"


def test_bad_missing_or_stale_signatures_are_refused_and_change_nothing(app, billing, make_client, firm_a):
    client = _owner(make_client, firm_a)
    url = _checkout(client, "pro_monthly")
    billing.complete(url)
    billing.standin.wait()
    event = next(e for e in billing.events() if e["type"] == "checkout.session.completed")
    body = __import__("json").dumps(event).encode()
    assert billing.post(event, signature="").status_code == 400
    assert billing.post(event, signature=sign(body, "whsec_wrong")).status_code == 400
    assert billing.post(event, signature=sign(body, t=int(__import__("time").time()) - 600)).status_code == 400
    with app_session(app) as s:
        assert s.scalar(select(BillingEvent).where(BillingEvent.id == event["id"])) is None
    assert _rights(app, firm_a).plan == "free"
    assert billing.post(event).status_code == 200
    assert _rights(app, firm_a).plan == "pro"


def test_rotated_secret_is_accepted_during_rotation(app, billing, monkeypatch, make_client, firm_a):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET_OLD", "whsec_old_one")
    event = {"id": "evt_rotation", "type": "product.created", "created": 1, "data": {"object": {"id": "prod_x"}}}
    body = __import__("json").dumps(event).encode()
    assert billing.post(event, signature=sign(body, "whsec_old_one")).status_code == 200


def test_handler_failure_rolls_back_and_the_retry_succeeds(app, billing, make_client, firm_a, monkeypatch):
    client = _owner(make_client, firm_a)
    url = _checkout(client, "pro_monthly")
    billing.complete(url)
    billing.standin.wait()
    event = next(e for e in billing.events() if e["type"] == "checkout.session.completed")
    billing.standin.control("POST", "/_test/faults", {"next": [500, 500, 500, 500]})  # the refetch fails
    assert billing.post(event).status_code == 500
    with app_session(app) as s:
        assert s.scalar(select(BillingEvent).where(BillingEvent.id == event["id"])) is None
    billing.standin.control("DELETE", "/_test/faults")
    assert billing.post(event).status_code == 200
    assert _rights(app, firm_a).plan == "pro"


def test_reconcile_replays_undelivered_events(app, billing, make_client, firm_a):
    from saas.billing.cli import reconcile_now

    billing.standin.control("POST", "/_test/webhooks", {"drop": True})
    client = _owner(make_client, firm_a)
    _checkout(client, "pro_monthly")
    url = _checkout(client, "pro_monthly")
    billing.complete(url)
    billing.standin.wait()
    assert _rights(app, firm_a).plan == "free"
    with app.test_request_context():
        counts = reconcile_now()
    assert counts["processed"] >= 3
    assert _rights(app, firm_a).plan == "pro"
    with app.test_request_context():
        again = reconcile_now()  # the same undelivered events again: all duplicates
    assert again["processed"] == 0 and again["duplicate"] == counts["processed"] + counts["ignored"]


def test_reconcile_goes_on_after_a_failing_event_and_exits_non_zero(app, billing, make_client, firm_a, monkeypatch):
    from saas.billing import services

    billing.standin.control("POST", "/_test/webhooks", {"drop": True})
    client = _owner(make_client, firm_a)
    billing.complete(_checkout(client, "pro_monthly"))
    billing.standin.wait()

    def broken_invoice(*args, **kwargs):
        raise RuntimeError("invoice handler broken")

    monkeypatch.setattr(services, "_invoice", broken_invoice)
    undelivered = [e for e in billing.events() if e["type"] in services.HANDLED]
    invoice_events = [e for e in undelivered if e["type"].startswith("invoice.")]
    assert invoice_events and len(invoice_events) < len(undelivered)
    result = app.test_cli_runner().invoke(args=["stripe-reconcile"])
    assert result.exit_code == 1, result.output
    assert f"failed={len(invoice_events)}" in result.output
    assert _rights(app, firm_a).plan == "pro"  # the events after the failing one were applied
    with app_session(app) as s:
        recorded = set(s.scalars(select(BillingEvent.id)))
    assert not recorded & {e["id"] for e in invoice_events}  # rolled back: the next run tries them again
    after_failure = undelivered[undelivered.index(invoice_events[0]) + 1 :]
    applied_later = {e["id"] for e in after_failure if e not in invoice_events}
    assert applied_later and applied_later <= recorded


def test_production_refuses_billing_without_real_secrets(monkeypatch):
    from config import ProductionConfig

    for name, value in {
        "SECRET_KEY": "x" * 32,
        "DATABASE_URL": "sqlite://",
        "PUBLIC_BASE_URL": "https://jx.example",
        "BILLING_ENABLED": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    with pytest.raises(RuntimeError, match="STRIPE_SECRET_KEY"):
        ProductionConfig.from_environment()
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_abc")
    with pytest.raises(RuntimeError, match="STRIPE_WEBHOOK_SECRET"):
        ProductionConfig.from_environment()
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_real")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111")
    with pytest.raises(RuntimeError, match="stand-in"):
        ProductionConfig.from_environment()
    monkeypatch.delenv("STRIPE_API_BASE")
    assert ProductionConfig.from_environment()["STRIPE_SECRET_KEY"] == "sk_live_abc"
    monkeypatch.setenv("BILLING_ENABLED", "0")
    assert ProductionConfig.from_environment()["STRIPE_SECRET_KEY"] is None
