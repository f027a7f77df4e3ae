"""Inquiry threads: a buyer asks about a product, the supplier is emailed and replies in the app, the buyer is emailed;
limits per day; nobody else can read or write a thread; responsiveness figures from real threads."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from saas.inquiries.services import MIN_SAMPLE, response_times
from saas.models import EmailMessage, Inquiry, InquiryMessage
from tests.conftest import app_session


@pytest.fixture()
def product(firm_b, publish_product):
    return publish_product(firm_b, "头层牛皮手提包面料")


def _outbox(app, to):
    """Mail about the fixture product (registration mail is left out)."""
    with app_session(app) as s:
        stmt = select(EmailMessage).where(EmailMessage.to == to, EmailMessage.subject.contains("头层牛皮手提包面料"))
        return list(s.scalars(stmt.order_by(EmailMessage.created_at)))


def _inquiries(app, firm):
    with app_session(app, firm.id) as s:
        return list(s.scalars(select(Inquiry)))


def _ask(client, product_id, body="请问100件起订，三周能交货吗？", quantity="100"):
    return client.post(f"/market/products/{product_id}/inquiry", {"body": body, "quantity": quantity})


def test_buyer_asks_supplier_replies_both_are_told(app, make_client, create_user, firm_b, product):
    buyer = create_user("buyer")
    bc = make_client()
    bc.login(buyer["email"])
    page = bc.get(f"/market/products/{product}").get_data(as_text=True)
    assert 'id="inquiry-form"' in page
    response = _ask(bc, product)
    assert response.status_code == 302
    (inquiry,) = _inquiries(app, firm_b)
    assert inquiry.buyer_id == buyer["id"] and inquiry.quantity == 100 and inquiry.first_response_at is None
    mail = _outbox(app, firm_b.owner_email)
    assert len(mail) == 1 and "头层牛皮手提包面料" in mail[0].subject and "三周能交货" in mail[0].body
    assert f"/firm/inquiries/{inquiry.id}" in mail[0].body
    # the supplier sees it as new, reads and answers
    sc = make_client()
    sc.login(firm_b.owner_email)
    inbox = sc.get("/firm/inquiries").get_data(as_text=True)
    assert re.search(rf'data-inquiry="{inquiry.id}" class="unread"', inbox)
    assert sc.get("/firm/inquiries?show=unanswered").get_data(as_text=True).count("data-inquiry=") == 1
    thread = sc.get(f"/firm/inquiries/{inquiry.id}").get_data(as_text=True)
    assert "三周能交货" in thread
    assert sc.post(f"/firm/inquiries/{inquiry.id}", {"body": "可以，18天交货，可寄样。"}).status_code == 302
    (inquiry,) = _inquiries(app, firm_b)
    assert inquiry.first_response_at is not None
    assert "unread" not in sc.get("/firm/inquiries").get_data(as_text=True).split("<tbody>")[1]
    assert sc.get("/firm/inquiries?show=unanswered").get_data(as_text=True).count("data-inquiry=") == 0
    reply_mail = _outbox(app, buyer["email"])
    assert (
        len(reply_mail) == 1 and "18天交货" in reply_mail[0].body and f"/inquiries/{inquiry.id}" in reply_mail[0].body
    )
    # the buyer reads the answer in the app and writes back; the supplier is told again
    mine = bc.get("/inquiries").get_data(as_text=True)
    assert re.search(rf'data-inquiry="{inquiry.id}" class="unread"', mine)
    thread = bc.get(f"/inquiries/{inquiry.id}").get_data(as_text=True)
    assert thread.index("三周能交货") < thread.index("18天交货")
    assert [m for m in re.findall(r'data-from="(\w+)"', thread)] == ["buyer", "supplier"]
    bc.post(f"/inquiries/{inquiry.id}", {"body": "好的，请寄样到嘉兴。"})
    assert len(_outbox(app, firm_b.owner_email)) == 2
    with app_session(app, firm_b.id) as s:
        assert s.scalar(select(func.count()).select_from(InquiryMessage)) == 3


def test_anonymous_visitors_are_sent_to_log_in(make_client, product):
    visitor = make_client()
    page = visitor.get(f"/market/products/{product}").get_data(as_text=True)
    assert 'id="login-to-contact"' in page and 'id="inquiry-form"' not in page
    response = visitor.get(f"/market/products/{product}/inquiry")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_bad_input_keeps_the_text_and_stores_nothing(app, make_client, create_user, firm_b, product):
    buyer = create_user("buyer")
    bc = make_client()
    bc.login(buyer["email"])
    response = _ask(bc, product, body="   ")
    assert response.status_code == 400 and 'id="inquiry-error"' in response.get_data(as_text=True)
    response = _ask(bc, product, body="要两千件", quantity="-5")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "要两千件" in html  # what was typed is kept
    response = _ask(bc, product, body="长" * 2001)
    assert response.status_code == 400
    assert _inquiries(app, firm_b) == []
    assert _outbox(app, firm_b.owner_email) == []


def test_daily_limit_per_account(app, make_client, create_user, firm_b, product):
    buyer = create_user("buyer")
    bc = make_client()
    bc.login(buyer["email"])
    before = app.config["INQUIRY_DAILY_LIMIT"]
    app.config["INQUIRY_DAILY_LIMIT"] = 2
    try:
        assert _ask(bc, product).status_code == 302
        assert _ask(bc, product).status_code == 302
        refused = _ask(bc, product, body="第三条")
        assert refused.status_code == 429 and "第三条" in refused.get_data(as_text=True)
        # another account is not affected
        other = make_client()
        other.login(create_user("buyer")["email"])
        assert _ask(other, product).status_code == 302
    finally:
        app.config["INQUIRY_DAILY_LIMIT"] = before
    assert len(_inquiries(app, firm_b)) == 3


def test_own_products_and_staff_cannot_inquire(app, client, make_client, create_user, firm_b, product):
    client.login(firm_b.owner_email)
    assert 'id="inquiry-form"' not in client.get(f"/market/products/{product}").get_data(as_text=True)
    assert _ask(client, product).status_code == 400
    assert _inquiries(app, firm_b) == []


def test_threads_are_private_to_their_buyer_and_supplier(app, make_client, create_user, firm_a, firm_b, product):
    buyer = create_user("buyer")
    bc = make_client()
    bc.login(buyer["email"])
    _ask(bc, product)
    (inquiry,) = _inquiries(app, firm_b)
    # another buyer: 404 on read and write, and their list is empty
    other = make_client()
    other.login(create_user("buyer")["email"])
    assert other.get(f"/inquiries/{inquiry.id}").status_code == 404
    assert other.post(f"/inquiries/{inquiry.id}", {"body": "偷看"}).status_code == 404
    assert "data-inquiry=" not in other.get("/inquiries").get_data(as_text=True)
    # another supplier firm: 404 on read and write, and its inbox is empty
    fa = make_client()
    fa.login(firm_a.owner_email)
    assert fa.get(f"/firm/inquiries/{inquiry.id}").status_code == 404
    assert fa.post(f"/firm/inquiries/{inquiry.id}", {"body": "抢单"}).status_code == 404
    assert "data-inquiry=" not in fa.get("/firm/inquiries").get_data(as_text=True)
    # the buyer cannot use the supplier side either
    assert bc.get(f"/firm/inquiries/{inquiry.id}").status_code == 403
    with app_session(app, firm_b.id) as s:
        assert s.scalar(select(func.count()).select_from(InquiryMessage)) == 1


def test_response_figures_need_five_judgeable_inquiries():
    now = datetime(2026, 11, 26, 12, 0)
    h = timedelta(hours=1)
    asked = [now - 100 * h] * 4
    assert response_times([(a, a + 2 * h) for a in asked], now) is None  # 4 < MIN_SAMPLE
    pairs = [
        (now - 100 * h, now - 98 * h),  # 2 h
        (now - 100 * h, now - 96 * h),  # 4 h
        (now - 100 * h, now - 90 * h),  # 10 h
        (now - 100 * h, now - 50 * h),  # 50 h: answered, but late
        (now - 100 * h, None),  # never answered, old enough
        (now - 2 * h, None),  # too recent to judge
    ]
    figures = response_times(pairs, now)
    assert MIN_SAMPLE == 5
    assert figures.sample == 5 and figures.rate == pytest.approx(3 / 5) and figures.median_hours == pytest.approx(7)


def test_supplier_page_shows_figures_from_real_threads(app, make_client, create_user, firm_b, product):
    page = make_client().get(f"/market/suppliers/{firm_b.id}").get_data(as_text=True)
    assert "%" not in re.search(r'id="responsiveness">(.*?)</p>', page, re.S).group(1)
    sc = make_client()
    sc.login(firm_b.owner_email)
    for _ in range(5):
        bc = make_client()
        bc.login(create_user("buyer")["email"])
        _ask(bc, product)
    for inquiry in _inquiries(app, firm_b)[:4]:
        sc.post(f"/firm/inquiries/{inquiry.id}", {"body": "您好，已收到。"})
    with app_session(app, firm_b.id) as s:  # the fifth was asked two days ago and never answered
        late = s.scalar(select(Inquiry).where(Inquiry.first_response_at.is_(None)))
        late.created_at = late.created_at - timedelta(days=2)
    block = re.search(
        r'id="responsiveness">(.*?)</p>',
        make_client().get(f"/market/suppliers/{firm_b.id}").get_data(as_text=True),
        re.S,
    ).group(1)
    assert "80%" in block and "0.0" in block  # 4 of 5 within 24 h; answers came within seconds
