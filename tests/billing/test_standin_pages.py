"""The stand-in's hosted pay and portal pages in Chromium (Playwright), checked by the state they leave behind."""

from __future__ import annotations

from typing import Any

import pytest
from standin_support import Standin
from test_standin import pro_monthly, report_price, subscribe

from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def checkout(standin: Standin, price: Any, mode: str, methods: list[str] | None = None) -> Any:
    params: dict[str, Any] = {
        "mode": mode,
        "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": standin.merchant + "/billing/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": standin.merchant + "/billing/cancel",
        "metadata": {"firm_id": "firm-1"},
    }
    if mode == "subscription":
        params.update(customer_email="owner@firm.example", subscription_data={"metadata": {"firm_id": "firm-1"}})
    if methods:
        params.update(payment_method_types=methods, payment_method_options={"wechat_pay": {"client": "web"}})
    return standin.client.v1.checkout.sessions.create(params=params)


def test_subscription_checkout_on_the_pay_page(standin: Standin, page: Any) -> None:
    session = checkout(standin, pro_monthly(standin), "subscription")
    page.goto(session.url)
    assert page.locator("#standin-badge").inner_text() == "本地 Stripe 模拟 · Local Stripe stand-in"
    assert page.locator("#amount-total").inner_text() == "¥99.00"
    assert page.locator("#pay-wechat_pay").count() == 0  # card only in subscription mode
    screenshot(page, "standin-pay-subscription-zh")
    page.click("#lang-en")
    assert page.locator("#pay-card").inner_text() == "Pay by card (succeeds)"
    screenshot(page, "standin-pay-subscription-en")

    page.click("#pay-card")
    page.wait_for_url(f"**/billing/success?session_id={session.id}")
    done = standin.client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["subscription"]})
    assert (done.status, done.payment_status, done.subscription.status) == ("complete", "paid", "active")
    assert done.subscription.metadata.to_dict() == {"firm_id": "firm-1"}
    standin.wait()
    received = {d.type for d in standin.receiver.verified()}
    assert {"checkout.session.completed", "customer.subscription.created", "invoice.paid"} <= received


def test_declined_card_then_cancel_back_to_the_merchant(standin: Standin, page: Any) -> None:
    session = checkout(standin, report_price(standin), "payment")
    page.goto(session.url)
    page.click("#pay-card-declined")
    assert page.locator("#pay-error").inner_text() == "您的银行卡被拒绝，请换一种付款方式。"
    assert standin.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    page.click("#cancel")
    page.wait_for_url("**/billing/cancel")
    assert standin.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert "payment_intent.payment_failed" in [e.type for e in standin.client.v1.events.list().data]


@pytest.mark.parametrize("button", ["#async-confirm", "#async-fail"])
def test_wechat_pay_scan_on_the_pay_page(standin: Standin, page: Any, button: str) -> None:
    session = checkout(standin, report_price(standin), "payment", ["card", "wechat_pay", "alipay"])
    page.goto(session.url)
    screenshot(page, "standin-pay-methods-zh")
    page.click("#pay-wechat_pay")
    page.wait_for_url(f"**/pay/{session.id}/wait**")
    assert page.locator("#wait-instructions").inner_text() == "请使用微信扫描二维码完成付款"
    waiting = standin.client.v1.checkout.sessions.retrieve(session.id)
    assert (waiting.status, waiting.payment_status) == ("complete", "unpaid")
    if button == "#async-confirm":
        screenshot(page, "standin-pay-wechat-zh")
    page.click(button)
    if button == "#async-confirm":
        page.wait_for_url("**/billing/success**")
    else:
        assert page.locator("#pay-status").inner_text() == "付款未成功。"
    standin.wait()
    settled = standin.client.v1.checkout.sessions.retrieve(session.id)
    outcome = "succeeded" if button == "#async-confirm" else "failed"
    assert settled.payment_status == ("paid" if outcome == "succeeded" else "unpaid")
    kinds = [d.type for d in standin.receiver.verified() if d.type.startswith("checkout.session")]
    assert kinds == ["checkout.session.completed", f"checkout.session.async_payment_{outcome}"]


def test_portal_cancels_at_period_end_and_resumes(standin: Standin, page: Any) -> None:
    _, sub = subscribe(standin, pro_monthly(standin))
    portal = standin.client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "return_url": standin.merchant + "/billing"}
    )
    page.goto(portal.url)
    page.click(f"#cancel-{sub.id}")
    assert page.locator("#portal-done").inner_text() == "已设置在当前周期结束时取消。"
    assert standin.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is True
    screenshot(page, "standin-portal-cancel-zh")
    page.click(f"#resume-{sub.id}")
    assert standin.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    page.click(f"#cancel-{sub.id}")
    updates = standin.client.v1.events.list(params={"type": "customer.subscription.updated"}).data
    assert [e.data.object.cancel_at_period_end for e in updates] == [True, False, True]
    assert updates[-1].data.previous_attributes.cancel_at_period_end is False

    standin.control("POST", "/_test/clock/advance", {"days": 32})
    assert standin.client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    page.click("#return")
    page.wait_for_url("**/billing")


def test_portal_update_card_recovers_a_past_due_subscription(standin: Standin, page: Any) -> None:
    _, sub = subscribe(standin, pro_monthly(standin))
    standin.control("POST", f"/_test/subscriptions/{sub.id}/fail_payment", {})
    portal = standin.client.v1.billing_portal.sessions.create(params={"customer": sub.customer, "locale": "en"})
    page.goto(portal.url)
    assert page.locator(f"#status-{sub.id}").inner_text() == "Past due"
    screenshot(page, "standin-portal-past-due-en")
    page.click(f"#update-card-{sub.id}")
    assert page.locator(f"#status-{sub.id}").inner_text() == "Active"
    assert standin.client.v1.subscriptions.retrieve(sub.id).status == "active"
    invoices = standin.client.v1.invoices.list(params={"subscription": sub.id}).data
    assert [i.status for i in invoices] == ["paid", "paid"]
    page.goto(portal.url + "?lang=zh")
    screenshot(page, "standin-portal-zh")
