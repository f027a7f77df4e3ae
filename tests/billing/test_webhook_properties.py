"""Webhook properties: 1,000 deliveries (30% duplicates) shuffled leave the state in-order delivery leaves; the same
event delivered twice at the same moment (separate connections, as a threaded server) fulfils once."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter

import pytest
from billing_support import WEBHOOK_SECRET, Billing, sign
from sqlalchemy import delete, select

from config import TestingConfig
from saas.app import create_app
from saas.core.extensions import db, limiter
from saas.core.tenancy import set_tenant
from saas.models import BillingCustomer, BillingEvent, BillingSubscription, Purchase
from tests.conftest import app_session, fresh_database

UNIQUE, DUPLICATES = 700, 300


def _state(app, firms):
    out = {}
    for firm in firms:
        with app_session(app, firm.id) as s:
            subs = sorted(
                (r.stripe_subscription_id, r.status, r.current_period_end, r.cancel_at_period_end)
                for r in s.scalars(select(BillingSubscription))
            )
            purchases = sorted(
                (p.product, p.status, p.checkout_session_id or "", p.invoice_id or "", p.amount)
                for p in s.scalars(select(Purchase))
            )
            customers = sorted(c.stripe_customer_id for c in s.scalars(select(BillingCustomer)))
            out[firm.id] = (subs, purchases, customers)
    return out


def _forget(app, firms):
    """Back to the state before any webhook: checkout purchases pending again, everything the events made gone."""
    for firm in firms:
        with app_session(app, firm.id) as s:
            for model in (BillingSubscription, BillingCustomer):
                s.execute(delete(model).where(model.firm_id == firm.id))
            s.execute(delete(Purchase).where(Purchase.firm_id == firm.id, Purchase.checkout_session_id.is_(None)))
            for p in s.scalars(select(Purchase)):
                p.status, p.paid_at, p.valid_until, p.refunded_at = "pending", None, None, None
                p.invoice_id = p.payment_intent_id = None
    with app_session(app) as s:
        s.execute(delete(BillingEvent))


def _history(billing: Billing, make_client, firms, submitted_report_firm=None):
    """Drive the stand-in through subscriptions, renewals, a failure, a cancellation, passes and a refund."""
    clients = []
    for firm in firms:
        client = make_client()
        client.login(firm.owner_email)
        clients.append(client)
    for client in clients[:8]:
        billing.complete(client.post("/billing/checkout/pro_monthly").headers["Location"])
    for client in clients[8:]:
        billing.complete(client.post("/billing/checkout/pro_pass").headers["Location"], "alipay", "success")
    pass_session = billing.standin.client.v1.checkout.sessions.list(params={"limit": 1}).data[0]
    billing.standin.client.v1.refunds.create(params={"payment_intent": pass_session.payment_intent})
    subs = billing.standin.client.v1.subscriptions.list(params={"limit": 100}).data
    billing.standin.control("POST", f"/_test/customers/{subs[0].customer}/card", {"outcome": "decline"})
    billing.standin.control("POST", f"/_test/subscriptions/{subs[1].id}/cancel", {"at_period_end": True})
    while len(billing.events()) < UNIQUE:
        billing.standin.control("POST", "/_test/clock/advance", {"days": 31})
    billing.standin.wait()
    return billing.events()[:UNIQUE]


def test_shuffled_duplicated_delivery_converges_to_in_order_state(app, billing, make_client, create_firm):
    firms = [create_firm(name=f"嘉兴性质{i}丝绸有限公司") for i in range(10)]
    events = _history(billing, make_client, firms)
    assert len(events) == UNIQUE
    for event in events:  # in order
        assert billing.post(event).status_code == 200
    in_order = _state(app, firms)
    assert any(subs for subs, _p, _c in in_order.values())
    statuses = {s[1] for subs, _p, _c in in_order.values() for s in subs}
    assert {"active", "past_due"} <= statuses or {"active", "canceled"} <= statuses, statuses
    assert any(p[1] == "refunded" for _s, purchases, _c in in_order.values() for p in purchases)
    _forget(app, firms)
    rng = random.Random(1307)
    deliveries = events + [rng.choice(events) for _ in range(DUPLICATES)]
    rng.shuffle(deliveries)
    assert len(deliveries) == 1000
    outcomes = Counter(billing.post(e).get_json()["outcome"] for e in deliveries)
    assert outcomes["duplicate"] == DUPLICATES and sum(outcomes.values()) == 1000
    shuffled = _state(app, firms)
    for fid in in_order:
        a, b = in_order[fid], shuffled[fid]
        for part in range(3):
            assert sorted(set(a[part]) ^ set(b[part])) == [] and a[part] == b[part], (
                part,
                set(a[part]) - set(b[part]),
                set(b[part]) - set(a[part]),
            )


@pytest.fixture()
def concurrent_app(request, stripe_standin, monkeypatch):
    """An app on its own database with real connections per thread, aimed at the stand-in."""
    assert "app" not in request.fixturenames
    session_app = request.getfixturevalue("app")
    urls = fresh_database(f"jx_test_billing_{uuid.uuid4().hex[:8]}")
    from standin_support import API_KEY

    from saas.billing import plans

    stripe_standin.control("POST", "/_test/reset", {})
    stripe_standin.control("POST", "/_test/seed", plans.seed())
    app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=urls.app,
        RATELIMIT_ENABLED=False,
        PROPAGATE_EXCEPTIONS=False,
        STRIPE_SECRET_KEY=API_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=stripe_standin.url,
    )
    try:
        yield app
    finally:
        app.extensions["database"][0].dispose()
        limiter.init_app(session_app)


def _committed_firm(name: str, n: int, email: str):
    """Register a firm through the real service, commit it (the threads below use their own connections) and bind
    the request's session to it."""
    from saas.auth.services import register_firm
    from tests.conftest import valid_uscc

    firm, user = register_firm(
        db.session,
        firm_name=name,
        uscc=valid_uscc(n),
        industry="silk",
        county="nanhu",
        park=None,
        employees=50,
        revenue_wan=800,
        contact_name="张三",
        contact_phone=None,
        owner_name="张三",
        email=email,
        password="Correct-horse-battery-9",
    )
    db.session.commit()
    set_tenant(db.session, firm.id, user.id)
    return firm, user


def test_the_same_event_twice_at_once_fulfils_once(concurrent_app, stripe_standin):
    import json

    from saas.billing import services
    from saas.billing.gateway import gateway_for
    from saas.models import Firm, User, utcnow

    app = concurrent_app
    with app.test_request_context(method="POST"):
        firm, user = _committed_firm("嘉兴并发计费丝绸有限公司", 990001, "concurrent-billing@firm.example")
        url = services.start_checkout(
            db.session,
            gateway_for(app.config),
            db.session.get(Firm, firm.id),
            db.session.get(User, user.id),
            "pro_pass",
            snapshot_id=None,
            assessment_id=None,
            urls=services.Urls("http://127.0.0.1:5000/s?session_id={CHECKOUT_SESSION_ID}", "http://127.0.0.1:5000/c"),
            locale="zh_CN",
            now=utcnow(),
        )
        db.session.commit()
        firm_id = firm.id
    session_id = url.rsplit("/", 1)[1]
    stripe_standin.control("POST", f"/_test/checkout_sessions/{session_id}/complete", {"method": "card"})
    stripe_standin.wait()
    event = next(
        e
        for e in stripe_standin.client.v1.events.list(params={"type": "checkout.session.completed"}).to_dict(
            for_json=True
        )["data"]
        if e["data"]["object"]["id"] == session_id
    )
    body = json.dumps(event).encode()
    barrier = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def deliver() -> None:
        with app.test_client() as raw:
            barrier.wait(timeout=10)
            response = raw.post(
                "/billing/webhook", data=body, headers={"Stripe-Signature": sign(body)}, content_type="application/json"
            )
            answers.append((response.status_code, (response.get_json() or {}).get("outcome", "")))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(answers) == [(200, "duplicate"), (200, "processed")], answers
    with app.test_request_context():
        set_tenant(db.session, firm_id)
        purchases = db.session.scalars(select(Purchase)).all()
        assert [(p.status, p.checkout_session_id) for p in purchases] == [("paid", session_id)]
        assert db.session.scalars(select(BillingEvent.id)).all() == [event["id"]]


@pytest.mark.postgres_only
def test_two_simultaneous_checkouts_of_one_firm_make_one_purchase_and_one_session(concurrent_app, stripe_standin):
    """Two owners' tabs POST the same checkout at the same moment on their own connections: the firm's customer row
    is locked, so the second sees the first's pending purchase and answers its session (one charge possible)."""
    from saas.billing import services
    from saas.billing.gateway import gateway_for
    from saas.models import Firm, User, utcnow

    app = concurrent_app
    with app.test_request_context(method="POST"):
        firm, user = _committed_firm("嘉兴并发结账丝绸有限公司", 990002, "concurrent-checkout@firm.example")
        # the firm has its customer already (an earlier purchase): its row is what the two checkouts lock
        services.ensure_customer(db.session, gateway_for(app.config), db.session.get(Firm, firm.id), user.email)
        db.session.commit()
        firm_id, user_id = firm.id, user.id
    barrier = threading.Barrier(2)
    urls: list[str] = []

    def checkout() -> None:
        with app.test_request_context(method="POST"):
            s = db.session
            set_tenant(s, firm_id, user_id)
            firm, user = s.get(Firm, firm_id), s.get(User, user_id)
            barrier.wait(timeout=10)
            urls.append(
                services.start_checkout(
                    s,
                    gateway_for(app.config),
                    firm,
                    user,
                    "pro_pass",
                    snapshot_id=None,
                    assessment_id=None,
                    urls=services.Urls("http://127.0.0.1:5000/s?session_id={CHECKOUT_SESSION_ID}", "http://x/c"),
                    locale="zh_CN",
                    now=utcnow(),
                )
            )
            s.commit()

    threads = [threading.Thread(target=checkout) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(urls) == 2 and urls[0] == urls[1], urls
    with app.test_request_context():
        set_tenant(db.session, firm_id)
        purchases = db.session.scalars(select(Purchase)).all()
        customers = db.session.scalars(select(BillingCustomer)).all()
        assert [(p.product, p.status) for p in purchases] == [("pro_pass", "pending")]
        assert len(customers) == 1
    posts = [r for r in stripe_standin.requests() if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]
    assert len(posts) == 1
