"""The Stripe stand-in through the real ``StripeClient``: catalogue, checkout, subscriptions, refunds, events."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from standin_support import Standin, make_client, start_standin, stop_standin, wait_for


def pro_monthly(standin: Standin, **extra: Any) -> Any:
    return standin.client.v1.prices.create(
        params={
            "product_data": {"name": "专业版 Pro"},
            "currency": "cny",
            "unit_amount": 9900,
            "recurring": {"interval": "month"},
            "lookup_key": "pro_monthly",
            **extra,
        }
    )


def report_price(standin: Standin) -> Any:
    return standin.client.v1.prices.create(
        params={"product_data": {"name": "完整报告"}, "currency": "cny", "unit_amount": 4900, "lookup_key": "report"}
    )


def subscribe(standin: Standin, price: Any, firm_id: str = "firm-1") -> tuple[Any, Any]:
    """A subscription checkout completed through the control API; returns (session, subscription)."""
    session = standin.client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [{"price": price.id, "quantity": 1}],
            "customer_email": "owner@firm.example",
            "client_reference_id": "order-7",
            "metadata": {"firm_id": firm_id},
            "subscription_data": {"metadata": {"firm_id": firm_id}},
            "success_url": standin.merchant + "/billing/success?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": standin.merchant + "/billing",
        }
    )
    standin.control("POST", f"/_test/checkout_sessions/{session.id}/complete", {"method": "card"})
    session = standin.client.v1.checkout.sessions.retrieve(session.id)
    return session, standin.client.v1.subscriptions.retrieve(session.subscription)


def event_types(standin: Standin, **params: Any) -> list[str]:
    return [e.type for e in standin.client.v1.events.list(params={"limit": 100, **params}).data]


# --- catalogue ------------------------------------------------------------------------------------------------


def test_prices_by_lookup_key_and_transfer(standin: Standin) -> None:
    monthly = pro_monthly(standin)
    report = report_price(standin)
    found = standin.client.v1.prices.list(params={"lookup_keys": ["pro_monthly", "report"], "expand": ["data.product"]})
    assert {p.id for p in found.data} == {monthly.id, report.id}
    assert {p.product.name for p in found.data} == {"专业版 Pro", "完整报告"}
    assert monthly.recurring.interval == "month" and monthly.type == "recurring" and report.type == "one_time"

    with pytest.raises(stripe.InvalidRequestError) as taken:
        pro_monthly(standin)
    assert taken.value.param == "lookup_key"
    newer = pro_monthly(standin, unit_amount=10900, transfer_lookup_key=True)
    assert [p.id for p in standin.client.v1.prices.list(params={"lookup_keys": ["pro_monthly"]}).data] == [newer.id]
    assert standin.client.v1.prices.retrieve(monthly.id).lookup_key is None


def test_customers_create_update_search_and_paginate(standin: Standin) -> None:
    made = [
        standin.client.v1.customers.create(params={"email": f"c{i}@firm.example", "metadata": {"firm_id": str(i)}})
        for i in range(5)
    ]
    updated = standin.client.v1.customers.update(made[2].id, params={"name": "嘉兴丝绸", "metadata": {"tier": "pro"}})
    assert updated.name == "嘉兴丝绸" and updated.metadata.to_dict() == {"firm_id": "2", "tier": "pro"}
    hits = standin.client.v1.customers.search(params={"query": "metadata['firm_id']:'2'"})
    assert [c.id for c in hits.data] == [made[2].id]

    page = standin.client.v1.customers.list(params={"limit": 2})
    assert page.has_more and [c.id for c in page.data] == [made[4].id, made[3].id]
    assert [c.id for c in page.auto_paging_iter()] == [c.id for c in reversed(made)]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        standin.client.v1.customers.retrieve("cus_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_api_key_is_required_and_must_be_a_test_key(standin: Standin) -> None:
    for key in ("sk_live_0123456789abcdef", "rk_test_0123456789abcdef"):
        with pytest.raises(stripe.AuthenticationError):
            make_client(standin.url, key).v1.customers.list()
    assert standin.requests()[-1]["status"] == 401


# --- checkout -------------------------------------------------------------------------------------------------


def test_payment_checkout_completes_and_sends_signed_events(standin: Standin) -> None:
    report = report_price(standin)
    session = standin.client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price": report.id, "quantity": 1}],
            "customer_creation": "always",
            "customer_email": "owner@firm.example",
            "client_reference_id": "order-9",
            "metadata": {"firm_id": "firm-1", "order_id": "9"},
            "payment_method_types": ["card", "wechat_pay", "alipay"],
            "payment_method_options": {"wechat_pay": {"client": "web"}},
            "success_url": standin.merchant + "/ok?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": standin.merchant + "/cancel",
        }
    )
    assert session.url == f"{standin.url}/pay/{session.id}"
    assert (session.status, session.payment_status, session.amount_total, session.currency) == (
        "open",
        "unpaid",
        4900,
        "cny",
    )
    assert [li.price.id for li in standin.client.v1.checkout.sessions.line_items.list(session.id).data] == [report.id]

    standin.control("POST", f"/_test/checkout_sessions/{session.id}/complete", {"method": "card"})
    standin.wait()
    done = standin.client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent", "line_items"]})
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.payment_intent.status == "succeeded" and done.customer.startswith("cus_")
    assert done.line_items.data[0].amount_total == 4900
    completed = standin.receiver.verified("checkout.session.completed")
    assert len(completed) == 1
    event = standin.client.v1.events.retrieve(completed[0].event_id)
    assert event.data.object.client_reference_id == "order-9"
    assert event.data.object.metadata.to_dict() == {"firm_id": "firm-1", "order_id": "9"}
    assert standin.receiver.rejected() == []


def test_checkout_refuses_what_stripe_refuses(standin: Standin) -> None:
    monthly, report = pro_monthly(standin), report_price(standin)
    base = {"success_url": standin.merchant + "/ok", "line_items": [{"price": report.id, "quantity": 1}]}
    bad = [
        ({"mode": "payment", "line_items": [{"price": monthly.id, "quantity": 1}]}, "line_items[0][price]"),
        ({"mode": "subscription"}, "line_items"),
        (
            {"mode": "subscription", "line_items": [{"price": monthly.id}], "payment_method_types": ["wechat_pay"]},
            "payment_method_types",
        ),
        ({"mode": "payment", "payment_method_types": ["wechat_pay"]}, "payment_method_options[wechat_pay][client]"),
        ({"mode": "payment", "customer": "cus_nope"}, "customer"),
        ({"mode": "payment", "expires_at": 1}, "expires_at"),
        ({"mode": "payment", "price_id": "x"}, "price_id"),
    ]
    for params, param in bad:
        with pytest.raises(stripe.InvalidRequestError) as refused:
            standin.client.v1.checkout.sessions.create(params={**base, **params})
        assert refused.value.param == param, params
    assert standin.client.v1.checkout.sessions.list().data == []


def test_subscription_checkout_creates_customer_subscription_and_paid_invoice(standin: Standin) -> None:
    session, sub = subscribe(standin, pro_monthly(standin))
    standin.wait()
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert sub.status == "active" and sub.metadata.to_dict() == {"firm_id": "firm-1"}
    item = sub["items"].data[0]
    assert item.price.lookup_key == "pro_monthly" and item.current_period_end > item.current_period_start
    invoice = standin.client.v1.invoices.retrieve(session.invoice)
    assert invoice.status == "paid" and invoice.amount_paid == 9900 and invoice.billing_reason == "subscription_create"
    assert invoice.parent.subscription_details.subscription == sub.id
    received = {d.type for d in standin.receiver.verified()}
    assert {"checkout.session.completed", "customer.subscription.created", "invoice.paid"} <= received


def test_expired_session_cannot_be_paid(standin: Standin) -> None:
    session = standin.client.v1.checkout.sessions.create(
        params={"mode": "payment", "line_items": [{"price": report_price(standin).id}], "success_url": "http://x/"}
    )
    expired = standin.client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    assert event_types(standin, type="checkout.session.*") == ["checkout.session.expired"]
    with pytest.raises(stripe.InvalidRequestError):
        standin.client.v1.checkout.sessions.expire(session.id)


# --- asynchronous wallets -------------------------------------------------------------------------------------


def wallet_session(standin: Standin, method: str) -> Any:
    return standin.client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price": report_price(standin).id, "quantity": 1}],
            "payment_method_types": [method],
            "payment_method_options": {"wechat_pay": {"client": "web"}} if method == "wechat_pay" else {},
            "success_url": standin.merchant + "/ok",
        }
    )


@pytest.mark.parametrize("method", ["wechat_pay", "alipay"])
@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_wallet_payment_completes_unpaid_then_settles(standin: Standin, method: str, outcome: str) -> None:
    session = wallet_session(standin, method)
    standin.control("POST", f"/_test/checkout_sessions/{session.id}/complete", {"method": method, "outcome": "pending"})
    pending = standin.client.v1.checkout.sessions.retrieve(session.id)
    assert (pending.status, pending.payment_status) == ("complete", "unpaid")

    standin.control("POST", f"/_test/checkout_sessions/{session.id}/async", {"outcome": outcome})
    standin.wait()
    settled = standin.client.v1.checkout.sessions.retrieve(session.id)
    assert settled.payment_status == ("paid" if outcome == "succeeded" else "unpaid")
    kinds = [d.type for d in standin.receiver.verified() if d.type.startswith("checkout.session")]
    assert kinds == ["checkout.session.completed", f"checkout.session.async_payment_{outcome}"]


def test_wallet_payment_confirms_itself_after_the_delay(standin: Standin) -> None:
    standin.control("POST", "/_test/settings", {"async_auto_confirm_ms": 1000})
    session = wallet_session(standin, "wechat_pay")
    standin.control(
        "POST", f"/_test/checkout_sessions/{session.id}/complete", {"method": "wechat_pay", "outcome": "pending"}
    )
    wait_for(lambda: standin.client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid", message="paid")
    assert "checkout.session.async_payment_succeeded" in event_types(standin)


# --- subscriptions --------------------------------------------------------------------------------------------


def test_clock_advance_renews_with_a_new_paid_invoice(standin: Standin) -> None:
    _, sub = subscribe(standin, pro_monthly(standin))
    first = sub["items"].data[0]
    standin.control("POST", "/_test/clock/advance", {"days": 31})
    standin.wait()
    renewed = standin.client.v1.subscriptions.retrieve(sub.id)
    item = renewed["items"].data[0]
    assert renewed.status == "active"
    assert item.current_period_start == first.current_period_end and item.current_period_end > first.current_period_end
    invoices = standin.client.v1.invoices.list(params={"subscription": sub.id}).data
    assert [(i.billing_reason, i.status) for i in invoices] == [
        ("subscription_cycle", "paid"),
        ("subscription_create", "paid"),
    ]
    assert invoices[0].lines.data[0].period.start == first.current_period_end
    paid = [standin.client.v1.events.retrieve(d.event_id) for d in standin.receiver.verified("invoice.paid")]
    assert sorted(e.data.object.billing_reason for e in paid) == ["subscription_create", "subscription_cycle"]


def test_failed_payment_makes_past_due_until_the_card_is_updated(standin: Standin) -> None:
    _, sub = subscribe(standin, pro_monthly(standin))
    standin.control("POST", f"/_test/subscriptions/{sub.id}/fail_payment", {})
    standin.wait()
    assert standin.client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    failed = standin.client.v1.events.retrieve(standin.receiver.verified("invoice.payment_failed")[0].event_id)
    assert failed.data.object.status == "open" and failed.data.object.attempt_count == 1
    updated = standin.client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert updated.data.previous_attributes.status == "active" and updated.data.object.status == "past_due"

    with pytest.raises(stripe.CardError):  # the card on file still declines
        standin.client.v1.invoices.pay(failed.data.object.id)
    standin.control("POST", f"/_test/customers/{sub.customer}/card", {"outcome": "ok"})
    assert standin.client.v1.invoices.pay(failed.data.object.id).status == "paid"
    assert standin.client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_payment_action_required(standin: Standin) -> None:
    _, sub = subscribe(standin, pro_monthly(standin))
    standin.control("POST", f"/_test/subscriptions/{sub.id}/fail_payment", {"reason": "requires_action"})
    assert "invoice.payment_action_required" in event_types(standin)
    assert standin.client.v1.subscriptions.retrieve(sub.id).status == "past_due"


def test_cancel_at_period_end_then_the_period_ends(standin: Standin) -> None:
    _, sub = subscribe(standin, pro_monthly(standin))
    later = standin.client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert later.cancel_at_period_end and later.cancel_at == sub["items"].data[0].current_period_end
    standin.control("POST", "/_test/clock/advance", {"days": 32})
    ended = standin.client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled" and ended.ended_at is not None
    assert len(standin.client.v1.invoices.list(params={"subscription": sub.id}).data) == 1  # no renewal invoice
    assert event_types(standin, type="customer.subscription.deleted") == ["customer.subscription.deleted"]
    assert standin.client.v1.subscriptions.list(params={"customer": sub.customer}).data == []


def test_renew_and_cancel_through_the_control_api_and_the_client(standin: Standin) -> None:
    price = pro_monthly(standin)
    _, sub = subscribe(standin, price)
    renewed = standin.control("POST", f"/_test/subscriptions/{sub.id}/renew", {})
    assert renewed["invoice"]["status"] == "paid" and renewed["invoice"]["billing_reason"] == "subscription_cycle"
    standin.control("POST", f"/_test/subscriptions/{sub.id}/cancel", {})
    assert standin.client.v1.subscriptions.retrieve(sub.id).status == "canceled"

    _, other = subscribe(standin, price, firm_id="firm-2")
    canceled = standin.client.v1.subscriptions.cancel(other.id)
    assert canceled.status == "canceled"
    deleted = standin.client.v1.events.list(params={"type": "customer.subscription.deleted"}).data
    assert [e.data.object.id for e in deleted] == [other.id, sub.id]
    assert deleted[0].data.previous_attributes.status == "active"


# --- refunds and events ---------------------------------------------------------------------------------------


def test_refund_emits_charge_refunded(standin: Standin) -> None:
    session = standin.client.v1.checkout.sessions.create(
        params={"mode": "payment", "line_items": [{"price": report_price(standin).id}], "success_url": "http://x/"}
    )
    standin.control("POST", f"/_test/checkout_sessions/{session.id}/complete", {})
    intent = standin.client.v1.checkout.sessions.retrieve(session.id).payment_intent
    refund = standin.client.v1.refunds.create(params={"payment_intent": intent, "reason": "requested_by_customer"})
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 4900, intent)
    standin.wait()
    event = standin.client.v1.events.retrieve(standin.receiver.verified("charge.refunded")[0].event_id)
    assert event.data.object.refunded and event.data.object.amount_refunded == 4900
    assert event.data.previous_attributes.amount_refunded == 0
    with pytest.raises(stripe.InvalidRequestError) as again:
        standin.client.v1.refunds.create(params={"payment_intent": intent})
    assert again.value.code == "charge_already_refunded"


def test_events_list_filters_and_cursors(standin: Standin) -> None:
    customers = [standin.client.v1.customers.create(params={"email": f"e{i}@x.example"}) for i in range(3)]
    created = standin.client.v1.events.list(params={"type": "customer.created"}).data
    assert [e.data.object.id for e in created] == [c.id for c in reversed(customers)]
    oldest = created[-1]
    newer = standin.client.v1.events.list(params={"ending_before": oldest.id, "limit": 1})
    assert newer.has_more and [e.id for e in newer.data] == [created[1].id]
    assert [e.id for e in standin.client.v1.events.list(params={"starting_after": created[0].id}).data] == [
        created[1].id,
        oldest.id,
    ]
    both = standin.client.v1.events.list(params={"types": ["customer.created", "customer.updated"]})
    assert {e.type for e in both.data} == {"customer.created"}
    standin.wait()
    assert standin.client.v1.events.list(params={"delivery_success": False}).data == []


def test_state_file_survives_a_restart(tmp_path: Any) -> None:
    state = tmp_path / "standin.json"
    proc, url = start_standin("--state", str(state))
    try:
        customer = make_client(url).v1.customers.create(params={"email": "kept@firm.example"})
    finally:
        stop_standin(proc)
    proc, url = start_standin("--state", str(state))
    try:
        assert make_client(url).v1.customers.retrieve(customer.id).email == "kept@firm.example"
    finally:
        stop_standin(proc)


def test_seed_file_gives_fixed_ids_and_lookup_keys_again_after_reset(tmp_path: Any) -> None:
    seed = tmp_path / "prices.yaml"
    seed.write_text(
        "products:\n"
        "  - id: prod_pro\n"
        "    name: 专业版\n"
        "    prices:\n"
        "      - {id: price_pro_monthly, lookup_key: pro_monthly, currency: cny, unit_amount: 9900,"
        " recurring: {interval: month}}\n"
        "      - {id: price_pro_year_pass, lookup_key: pro_year_pass, currency: cny, unit_amount: 99000}\n",
        encoding="utf-8",
    )
    proc, url = start_standin("--seed", str(seed))
    try:
        client = make_client(url)
        prices = client.v1.prices.list(params={"lookup_keys": ["pro_monthly", "pro_year_pass"]}).data
        assert {(p.id, p.product, p.type) for p in prices} == {
            ("price_pro_monthly", "prod_pro", "recurring"),
            ("price_pro_year_pass", "prod_pro", "one_time"),
        }
        assert client.v1.events.list().data == []  # seeding is not news
        client.v1.prices.update("price_pro_monthly", params={"lookup_key": ""})
        Standin(url, client, None).control("POST", "/_test/reset", {})  # type: ignore[arg-type]
        assert client.v1.prices.retrieve("price_pro_monthly").lookup_key == "pro_monthly"
    finally:
        stop_standin(proc)
