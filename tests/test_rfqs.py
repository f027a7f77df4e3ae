"""Requests for quotation: buyers ask, suppliers in matching categories quote (10 at most, until the deadline), the
buyer accepts one. Assertions are on data, status codes and HTML hooks, never on translated text."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from saas.core.limits import LOCAL_TZ
from saas.models import AuditEvent, EmailMessage, Product, Quote, Rfq, utcnow
from saas.rfqs import services
from tests.conftest import app_session
from tests.test_bureau import staff_client

FABRIC = "silk/silk-fabric"
CREPE = "silk/silk-fabric/crepe-de-chine"
SCARVES = "silk/silk-products/scarves"


def _local(days: float = 14) -> str:
    return (utcnow() + timedelta(days=days)).astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def _good_rfq(**overrides):
    data = {
        "category_slug": FABRIC,
        "title": "真丝双绉面料 1000 米",
        "description": "19 姆米，门幅 114 厘米，本白，需提供检测报告。",
        "quantity": "1,000",
        "unit": "m",
        "target_price": "80",
        "deadline": _local(14),
    }
    data.update(overrides)
    return data


def _good_quote(**overrides):
    data = {
        "unit_price": "85.50",
        "lead_time_days": "20",
        "valid_until": (utcnow().astimezone(LOCAL_TZ).date() + timedelta(days=30)).isoformat(),
        "message": "可提供样品。\n含税价。",
    }
    data.update(overrides)
    return data


def _rfq_id(response) -> uuid.UUID:
    assert response.status_code == 302, response.status_code
    match = re.search(r"/rfqs/([0-9a-f-]{36})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return uuid.UUID(match.group(1))


def _rfq(app, rfq_id) -> Rfq:
    with app_session(app) as s:
        return s.get(Rfq, rfq_id)


def _quotes(app, rfq_id) -> list[Quote]:
    """Every quote of an RFQ, whatever firm it belongs to (city-wide staff scope for PostgreSQL's RLS)."""
    from saas.core.tenancy import set_staff_scope

    with app_session(app) as s:
        set_staff_scope(s, "*")
        stmt = select(Quote).where(Quote.rfq_id == rfq_id).execution_options(all_tenants=True)
        return list(s.scalars(stmt))


def _mail_to(app, email, rfq_id) -> list[EmailMessage]:
    """The outbox messages to ``email`` about one RFQ (firm owners also get a verification email)."""
    with app_session(app) as s:
        messages = s.scalars(select(EmailMessage).where(EmailMessage.to == email).order_by(EmailMessage.created_at))
        return [m for m in messages if f"/rfqs/{rfq_id}" in m.body]


def _audit(app, action) -> list[AuditEvent]:
    with app_session(app) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture()
def buyer(create_user, make_client):
    """A logged-in buyer account: (client, user dict)."""
    user = create_user("buyer")
    client = make_client()
    client.login(user["email"])
    return client, user


@pytest.fixture()
def supplier(create_firm, publish_product, make_client):
    """Return a callable making a firm with a published product in ``category`` and a client logged in as its owner."""

    def _make(category: str = CREPE, **firm_args):
        firm = create_firm(**firm_args)
        if category:
            publish_product(firm, category=category, sale_unit="piece" if "products" in category else "m")
        client = make_client()
        client.login(firm.owner_email)
        return firm, client

    return _make


def _open_rfq(buyer_client, **overrides) -> uuid.UUID:
    return _rfq_id(buyer_client.post("/rfqs/new", _good_rfq(**overrides)))


# --- Buyer: creating requests -----------------------------------------------------------------------------------------


def test_new_rfq_is_validated_keeps_input_and_is_stored_when_valid(app, buyer):
    client, user = buyer
    empty = client.get("/rfqs")
    assert empty.status_code == 200 and 'id="new-rfq"' in empty.get_data(as_text=True)
    page = client.get("/rfqs/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="rfq-form"' in html and f'value="{FABRIC}"' in html and f'value="{CREPE}"' in html
    preselected = client.get(f"/rfqs/new?category={SCARVES}").get_data(as_text=True)
    assert f'selected value="{SCARVES}"' in preselected and 'value="strip"' in preselected
    bad = _good_rfq(
        title="",
        quantity="-3",
        unit="piece",  # not a unit of silk fabric
        target_price="abc",
        deadline=_local(-1),
        description="需要 19 姆米双绉，本白。",
    )
    response = client.post("/rfqs/new", bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for name in ("title", "quantity", "unit", "target_price", "deadline"):
        assert f'id="{name}-error"' in html, name
    assert "需要 19 姆米双绉，本白。" in html  # what was typed is kept
    for overrides, field in (
        ({"deadline": _local(91)}, "deadline"),
        ({"deadline": "31.12.2026"}, "deadline"),
        ({"category_slug": "silk/no-such-category"}, "category_slug"),
        ({"quantity": "10.25"}, "quantity"),  # metres allow one decimal
        ({"target_price": "80.123"}, "target_price"),
        ({"description": "太短"}, "description"),
    ):
        response = client.post("/rfqs/new", _good_rfq(**overrides))
        assert response.status_code == 400, overrides
        assert f'id="{field}-error"' in response.get_data(as_text=True), overrides
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Rfq)) == 0

    rfq_id = _open_rfq(client, deadline=(utcnow() + timedelta(days=3)).astimezone(LOCAL_TZ).strftime("%Y-%m-%d"))
    rfq = _rfq(app, rfq_id)
    assert rfq.buyer_id == user["id"] and rfq.status == "open" and rfq.industry == "silk"
    assert rfq.category_slug == FABRIC and rfq.quantity == Decimal(1000) and rfq.unit == "m"
    assert rfq.target_price == Decimal(80) and rfq.max_quotes == app.config["RFQ_MAX_QUOTES"] == 10
    assert rfq.deadline.astimezone(LOCAL_TZ).strftime("%H:%M") == "23:59"  # a date alone: the end of that day
    listing = client.get("/rfqs").get_data(as_text=True)
    assert f'data-rfq-id="{rfq_id}" data-status="open" data-quotes="0"' in listing
    detail = client.get(f"/rfqs/{rfq_id}").get_data(as_text=True)
    assert 'data-status="open"' in detail and 'id="cancel-rfq"' in detail


def test_a_parent_category_without_own_units_offers_its_childrens_units():
    from saas.marketplace.catalog import default_catalog

    catalog = default_catalog()
    parents = [c for c in catalog if c.children and not c.sale_units]
    for parent in parents:
        assert services.units_for(parent.slug), parent.slug
    assert [u.id for u in services.units_for(FABRIC)] == ["m", "yd", "kg"]
    assert services.units_for("no/such") == ()


def test_login_required_and_staff_are_refused(client, make_client, create_user):
    response = client.get("/rfqs/new")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get("/firm/rfqs").status_code == 302
    staff = staff_client(make_client, create_user)
    for url in ("/rfqs", "/rfqs/new", f"/rfqs/{uuid.uuid4()}"):
        assert staff.get(url).status_code == 403, url
    assert staff.post("/rfqs/new", _good_rfq()).status_code == 403
    assert staff.get("/firm/rfqs").status_code == 403  # staff have no firm


def test_daily_limit_refuses_with_429_and_stores_nothing(app, buyer, create_user, make_client):
    client, user = buyer
    old = app.config["RFQ_DAILY_LIMIT"]
    app.config["RFQ_DAILY_LIMIT"] = 2
    try:
        _open_rfq(client)
        _open_rfq(client, title="第二个询价")
        response = client.post("/rfqs/new", _good_rfq(title="第三个询价"))
        assert response.status_code == 429
        assert 'id="rfq-limit"' in response.get_data(as_text=True)
        page = client.get("/rfqs/new")
        assert page.status_code == 200 and 'id="rfq-limit"' in page.get_data(as_text=True)
        with app_session(app) as s:
            assert s.scalar(select(func.count()).where(Rfq.buyer_id == user["id"])) == 2
        # yesterday's requests do not count
        with app_session(app) as s:
            for rfq in s.scalars(select(Rfq).where(Rfq.buyer_id == user["id"])):
                rfq.created_at = utcnow() - timedelta(days=1, hours=1)
        _open_rfq(client, title="第二天的询价")
        # the allowance is per account
        other = create_user("buyer")
        other_client = make_client()
        other_client.login(other["email"])
        _open_rfq(other_client)
    finally:
        app.config["RFQ_DAILY_LIMIT"] = old


def test_buyer_list_is_paginated(app, buyer):
    client, _user = buyer
    old = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 2
    try:
        ids = [_open_rfq(client, title=f"分页询价 {i}") for i in range(3)]
        first = client.get("/rfqs").get_data(as_text=True)
        second = client.get("/rfqs?page=2").get_data(as_text=True)
        assert sum(f'data-rfq-id="{i}"' in first for i in ids) == 2
        assert sum(f'data-rfq-id="{i}"' in second for i in ids) == 1
        assert 'rel="next"' in first
    finally:
        app.config["PAGE_SIZE"] = old


# --- Matching suppliers -----------------------------------------------------------------------------------------------


def test_categories_match_rule():
    assert services.categories_match(FABRIC, CREPE)  # the product lies under the RFQ's category
    assert services.categories_match(CREPE, CREPE)
    assert services.categories_match(CREPE, FABRIC)  # the RFQ's category lies under the product's
    assert not services.categories_match(FABRIC, SCARVES)
    assert not services.categories_match("silk/silk-fab", FABRIC)  # whole segments only
    assert not services.categories_match(FABRIC, "silk/silk-fabric-x")


def test_only_suppliers_in_matching_categories_see_and_quote(app, buyer, supplier):
    buyer_client, _user = buyer
    rfq_id = _open_rfq(buyer_client)  # silk fabric (a parent category)
    matching, matching_client = supplier(CREPE)
    _other, other_client = supplier(SCARVES)
    _empty, empty_client = supplier(None)
    listing = matching_client.get("/firm/rfqs").get_data(as_text=True)
    assert f'data-rfq-id="{rfq_id}"' in listing
    page = matching_client.get(f"/firm/rfqs/{rfq_id}")
    assert page.status_code == 200 and 'id="quote-form"' in page.get_data(as_text=True)
    for client in (other_client, empty_client):
        assert f'data-rfq-id="{rfq_id}"' not in client.get("/firm/rfqs").get_data(as_text=True)
        assert client.get(f"/firm/rfqs/{rfq_id}").status_code == 404
        assert client.post(f"/firm/rfqs/{rfq_id}", _good_quote()).status_code == 404
    assert 'id="no-categories"' in empty_client.get("/firm/rfqs").get_data(as_text=True)
    assert other_client.get("/firm/rfqs").status_code == 200  # categories, but nothing open in them
    assert other_client.get("/firm/quotes").status_code == 200
    assert _quotes(app, rfq_id) == []
    # a draft product does not make a firm a supplier of the category
    with app_session(app, _other.id) as s:
        s.add(
            Product(
                firm_id=_other.id,
                industry="silk",
                category_slug=CREPE,
                title_zh="草稿双绉",
                sale_unit="m",
                moq=Decimal(1),
                lead_time_days=5,
                status="draft",
            )
        )
    assert other_client.get(f"/firm/rfqs/{rfq_id}").status_code == 404


def test_an_rfq_below_the_products_category_matches(app, buyer, create_firm, make_client):
    buyer_client, _user = buyer
    rfq_id = _open_rfq(buyer_client, category_slug=CREPE)
    firm = create_firm()
    with app_session(app, firm.id) as s:  # a product filed under a parent category (imported or older catalogue)
        s.add(
            Product(
                firm_id=firm.id,
                industry="silk",
                category_slug=FABRIC,
                title_zh="真丝面料",
                sale_unit="m",
                moq=Decimal(1),
                lead_time_days=5,
                status="published",
                published_at=utcnow(),
            )
        )
    client = make_client()
    client.login(firm.owner_email)
    assert f'data-rfq-id="{rfq_id}"' in client.get("/firm/rfqs").get_data(as_text=True)
    assert client.get(f"/firm/rfqs/{rfq_id}").status_code == 200


# --- Quoting ----------------------------------------------------------------------------------------------------------


def test_lead_times_read_as_days_in_both_languages(buyer, supplier):
    buyer_client, _user = buyer
    rfq_id = _open_rfq(buyer_client)
    for lead_time in ("1", "20"):
        _firm, client = supplier(CREPE)
        assert client.post(f"/firm/rfqs/{rfq_id}", _good_quote(lead_time_days=lead_time)).status_code == 302
    cells = re.findall(
        r"<tr data-quote-id=.*?</td>\s*<td>.*?</td>\s*<td>([^<]*)</td>", _page(buyer_client, rfq_id), re.S
    )
    assert sorted(cells) == ["1 天", "20 天"]
    buyer_client.post("/language", {"lang": "en"})
    cells = re.findall(
        r"<tr data-quote-id=.*?</td>\s*<td>.*?</td>\s*<td>([^<]*)</td>", _page(buyer_client, rfq_id), re.S
    )
    assert sorted(cells) == ["1 day", "20 days"]


def _page(client, rfq_id) -> str:
    return client.get(f"/rfqs/{rfq_id}").get_data(as_text=True)


def test_supplier_quotes_once_and_the_buyer_is_emailed(app, buyer, supplier, firm_a):
    buyer_client, user = buyer
    rfq_id = _open_rfq(buyer_client)
    firm, client = supplier(CREPE)
    bad = client.post(
        f"/firm/rfqs/{rfq_id}", _good_quote(unit_price="0", lead_time_days="2.5", valid_until="2020-01-01")
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for name in ("unit_price", "lead_time_days", "valid_until"):
        assert f'id="{name}-error"' in html, name
    assert "可提供样品。" in html
    assert _quotes(app, rfq_id) == []

    response = client.post(f"/firm/rfqs/{rfq_id}", _good_quote())
    assert response.status_code == 302
    [quote] = _quotes(app, rfq_id)
    assert quote.firm_id == firm.id and quote.unit_price == Decimal("85.50") and quote.lead_time_days == 20
    assert quote.author_id == firm.owner_id and quote.message == "可提供样品。\n含税价。"
    assert _rfq(app, rfq_id).quote_count == 1
    [mail] = _mail_to(app, user["email"], rfq_id)
    assert f"/rfqs/{rfq_id}" in mail.body and firm.name in mail.body
    assert len(_audit(app, "rfq.quote_submitted")) == 1
    page = client.get(f"/firm/rfqs/{rfq_id}").get_data(as_text=True)
    assert f'data-quote-id="{quote.id}" data-outcome="pending"' in page and 'id="quote-form"' not in page
    assert 'data-quoted="yes"' in client.get("/firm/rfqs").get_data(as_text=True)

    again = client.post(f"/firm/rfqs/{rfq_id}", _good_quote(unit_price="70"))
    assert again.status_code == 409 and 'id="quote-error"' in again.get_data(as_text=True)
    assert len(_quotes(app, rfq_id)) == 1 and _rfq(app, rfq_id).quote_count == 1
    assert len(_mail_to(app, user["email"], rfq_id)) == 1

    detail = buyer_client.get(f"/rfqs/{rfq_id}").get_data(as_text=True)
    assert f'data-quote-id="{quote.id}" data-firm-id="{firm.id}" data-outcome="pending"' in detail
    assert f"/market/suppliers/{firm.id}" in detail and f'id="accept-{quote.id}"' in detail


def test_a_concurrent_duplicate_quote_is_refused_by_the_unique_key(app, buyer, supplier, monkeypatch):
    """The race the pre-check cannot see (two submissions at once): the unique key refuses the second cleanly."""
    from saas.models import Firm, User

    buyer_client, _user = buyer
    rfq_id = _open_rfq(buyer_client)
    firm, client = supplier(CREPE)
    assert client.post(f"/firm/rfqs/{rfq_id}", _good_quote()).status_code == 302
    monkeypatch.setattr(services, "quote_refusal", lambda *args: None)
    data = services.QuoteInput(Decimal("70"), 5, utcnow().date() + timedelta(days=5), "")
    with app.test_request_context():
        with app_session(app, firm.id) as s:
            with pytest.raises(services.RfqRefused) as refused:
                services.submit_quote(s, s.get(Firm, firm.id), s.get(User, firm.owner_id), rfq_id, data, now=utcnow())
            assert refused.value.code == "already_quoted"
            s.rollback()
    assert len(_quotes(app, rfq_id)) == 1 and _rfq(app, rfq_id).quote_count == 1


def test_a_member_cannot_quote_for_a_request_of_their_own_firm(app, supplier):
    firm, client = supplier(CREPE)
    rfq_id = _open_rfq(client)  # the owner, acting as a buyer
    assert f'data-rfq-id="{rfq_id}"' not in client.get("/firm/rfqs").get_data(as_text=True)
    page = client.get(f"/firm/rfqs/{rfq_id}")
    assert page.status_code == 200 and 'id="quote-refused"' in page.get_data(as_text=True)
    assert client.post(f"/firm/rfqs/{rfq_id}", _good_quote()).status_code == 409
    assert _quotes(app, rfq_id) == []


def test_the_tenth_quote_closes_the_request_and_the_eleventh_is_refused(app, buyer, supplier):
    buyer_client, user = buyer
    rfq_id = _open_rfq(buyer_client)
    suppliers = [supplier(CREPE) for _ in range(11)]
    for i, (_firm, client) in enumerate(suppliers[:10]):
        assert _rfq(app, rfq_id).status == "open", i
        assert client.post(f"/firm/rfqs/{rfq_id}", _good_quote(unit_price=str(80 + i))).status_code == 302, i
    rfq = _rfq(app, rfq_id)
    assert rfq.quote_count == 10 and rfq.status == "closed" and rfq.closed_at is not None
    last_firm, last = suppliers[10]
    assert f'data-rfq-id="{rfq_id}"' not in last.get("/firm/rfqs").get_data(as_text=True)
    page = last.get(f"/firm/rfqs/{rfq_id}").get_data(as_text=True)
    assert 'data-status="closed"' in page and 'id="quote-refused"' in page and 'id="quote-form"' not in page
    assert last.post(f"/firm/rfqs/{rfq_id}", _good_quote()).status_code == 409
    assert len(_quotes(app, rfq_id)) == 10 and _rfq(app, rfq_id).quote_count == 10
    assert len(_mail_to(app, user["email"], rfq_id)) == 10
    assert 'data-status="closed" data-quotes="10"' in buyer_client.get("/rfqs").get_data(as_text=True)
    # the service refuses too (an 11th quote racing past the page check)
    from saas.models import Firm, User

    with app.test_request_context():
        with app_session(app, last_firm.id) as s:
            data = services.QuoteInput(Decimal("70"), 5, utcnow().date() + timedelta(days=5), "")
            with pytest.raises(services.RfqRefused) as refused:
                services.submit_quote(
                    s, s.get(Firm, last_firm.id), s.get(User, last_firm.owner_id), rfq_id, data, now=utcnow()
                )
            assert refused.value.code == "full"
            s.rollback()
    assert len(_quotes(app, rfq_id)) == 10


def test_past_the_deadline_the_request_is_closed(app, buyer, supplier):
    buyer_client, _user = buyer
    rfq_id = _open_rfq(buyer_client)
    other_id = _open_rfq(buyer_client, title="另一个询价")
    _firm, client = supplier(CREPE)
    with app_session(app) as s:
        for rfq in s.scalars(select(Rfq)):
            rfq.deadline = utcnow() - timedelta(minutes=1)
    listing = client.get("/firm/rfqs").get_data(as_text=True)
    assert f'data-rfq-id="{rfq_id}"' not in listing
    page = client.get(f"/firm/rfqs/{rfq_id}").get_data(as_text=True)
    assert 'data-status="closed"' in page and 'id="quote-refused"' in page
    assert client.post(f"/firm/rfqs/{rfq_id}", _good_quote()).status_code == 409
    assert _quotes(app, rfq_id) == []
    assert f'data-rfq-id="{rfq_id}" data-status="closed"' in buyer_client.get("/rfqs").get_data(as_text=True)
    assert 'data-status="closed"' in buyer_client.get(f"/rfqs/{rfq_id}").get_data(as_text=True)
    assert _rfq(app, rfq_id).status == "open"  # treated as closed on read; GET pages write nothing ...
    result = app.test_cli_runner().invoke(args=["close-rfqs"])
    assert result.exit_code == 0, result.output
    for closed_id in (rfq_id, other_id):  # ... and `flask close-rfqs` persists it
        rfq = _rfq(app, closed_id)
        assert rfq.status == "closed" and rfq.closed_at == rfq.deadline
    fresh_id = _open_rfq(buyer_client, title="新的询价")
    app.test_cli_runner().invoke(args=["close-rfqs"])
    assert _rfq(app, fresh_id).status == "open"


# --- Accepting and cancelling -----------------------------------------------------------------------------------------


def test_the_buyer_accepts_one_quote_once(app, buyer, supplier):
    buyer_client, user = buyer
    rfq_id = _open_rfq(buyer_client)
    (firm_1, client_1), (firm_2, client_2) = supplier(CREPE), supplier(CREPE)
    client_1.post(f"/firm/rfqs/{rfq_id}", _good_quote(unit_price="90"))
    client_2.post(f"/firm/rfqs/{rfq_id}", _good_quote(unit_price="88"))
    quotes = {q.firm_id: q for q in _quotes(app, rfq_id)}
    winner, loser = quotes[firm_1.id], quotes[firm_2.id]

    # a quote of another RFQ cannot be accepted through this one
    other_rfq = _open_rfq(buyer_client, title="另一个询价")
    assert buyer_client.post(f"/rfqs/{other_rfq}/accept", {"quote_id": str(winner.id)}).status_code == 404
    assert buyer_client.post(f"/rfqs/{rfq_id}/accept", {"quote_id": "not-a-uuid"}).status_code == 404

    response = buyer_client.post(f"/rfqs/{rfq_id}/accept", {"quote_id": str(winner.id)})
    assert response.status_code == 302
    rfq = _rfq(app, rfq_id)
    assert rfq.status == "awarded" and rfq.accepted_quote_id == winner.id and rfq.accepted_firm_id == firm_1.id
    assert rfq.closed_at is not None
    [mail] = _mail_to(app, firm_1.owner_email, rfq_id)
    assert user["email"] in mail.body and f"/firm/rfqs/{rfq_id}" in mail.body
    assert _mail_to(app, firm_2.owner_email, rfq_id) == []
    [event] = _audit(app, "rfq.quote_accepted")
    assert event.subject_firm_id == firm_1.id and event.actor_id == user["id"]
    detail = buyer_client.get(f"/rfqs/{rfq_id}").get_data(as_text=True)
    assert 'data-status="awarded"' in detail
    assert f'data-quote-id="{winner.id}" data-firm-id="{firm_1.id}" data-outcome="accepted"' in detail
    assert f'data-quote-id="{loser.id}" data-firm-id="{firm_2.id}" data-outcome="not_selected"' in detail
    assert 'id="accept-' not in detail and 'id="cancel-rfq"' not in detail

    again = buyer_client.post(f"/rfqs/{rfq_id}/accept", {"quote_id": str(loser.id)})
    assert again.status_code == 409 and 'id="rfq-error"' in again.get_data(as_text=True)
    assert _rfq(app, rfq_id).accepted_quote_id == winner.id
    assert buyer_client.post(f"/rfqs/{rfq_id}/cancel").status_code == 409
    assert _rfq(app, rfq_id).status == "awarded"
    assert f'data-quote-id="{winner.id}" data-rfq-id="{rfq_id}" data-outcome="accepted"' in client_1.get(
        "/firm/quotes"
    ).get_data(as_text=True)
    assert f'data-quote-id="{loser.id}" data-rfq-id="{rfq_id}" data-outcome="not_selected"' in client_2.get(
        "/firm/quotes"
    ).get_data(as_text=True)
    assert 'data-outcome="not_selected"' in client_2.get(f"/firm/rfqs/{rfq_id}").get_data(as_text=True)


def test_a_closed_request_can_still_be_awarded_but_not_an_expired_quote(app, buyer, supplier):
    buyer_client, _user = buyer
    rfq_id = _open_rfq(buyer_client)
    (_f1, client_1), (_f2, client_2) = supplier(CREPE), supplier(CREPE)
    client_1.post(f"/firm/rfqs/{rfq_id}", _good_quote())
    client_2.post(f"/firm/rfqs/{rfq_id}", _good_quote())
    expired, fresh = _quotes(app, rfq_id)
    with app_session(app) as s:
        s.get(Rfq, rfq_id).deadline = utcnow() - timedelta(hours=1)
    with app_session(app, expired.firm_id) as s:
        s.scalar(select(Quote).where(Quote.id == expired.id)).valid_until = utcnow().date() - timedelta(days=2)
    detail = buyer_client.get(f"/rfqs/{rfq_id}").get_data(as_text=True)
    assert 'data-status="closed"' in detail and f'id="accept-{expired.id}"' not in detail
    assert buyer_client.post(f"/rfqs/{rfq_id}/accept", {"quote_id": str(expired.id)}).status_code == 409
    assert _rfq(app, rfq_id).accepted_quote_id is None
    assert buyer_client.post(f"/rfqs/{rfq_id}/accept", {"quote_id": str(fresh.id)}).status_code == 302
    assert _rfq(app, rfq_id).accepted_quote_id == fresh.id


def test_cancel_stops_quotes_and_acceptance(app, buyer, supplier):
    buyer_client, user = buyer
    rfq_id = _open_rfq(buyer_client)
    (firm_1, client_1), (_firm_2, client_2) = supplier(CREPE), supplier(CREPE)
    client_1.post(f"/firm/rfqs/{rfq_id}", _good_quote())
    [quote] = _quotes(app, rfq_id)
    assert buyer_client.post(f"/rfqs/{rfq_id}/cancel").status_code == 302
    rfq = _rfq(app, rfq_id)
    assert rfq.status == "cancelled" and rfq.closed_at is not None
    assert len(_audit(app, "rfq.cancelled")) == 1
    assert buyer_client.post(f"/rfqs/{rfq_id}/cancel").status_code == 409
    assert buyer_client.post(f"/rfqs/{rfq_id}/accept", {"quote_id": str(quote.id)}).status_code == 409
    assert _rfq(app, rfq_id).status == "cancelled" and _mail_to(app, firm_1.owner_email, rfq_id) == []
    assert client_2.post(f"/firm/rfqs/{rfq_id}", _good_quote()).status_code == 409
    assert len(_quotes(app, rfq_id)) == 1
    assert f'data-rfq-id="{rfq_id}"' not in client_2.get("/firm/rfqs").get_data(as_text=True)
    assert f'data-rfq-id="{rfq_id}" data-outcome="cancelled"' in client_1.get("/firm/quotes").get_data(as_text=True)
    assert 'data-status="cancelled"' in buyer_client.get(f"/rfqs/{rfq_id}").get_data(as_text=True)


# --- Cross-tenant -----------------------------------------------------------------------------------------------------


def test_suppliers_see_only_their_own_quotes(app, buyer, supplier):
    buyer_client, _user = buyer
    rfq_id = _open_rfq(buyer_client)
    (firm_a, client_a), (firm_b, client_b) = supplier(CREPE), supplier(CREPE)
    client_a.post(f"/firm/rfqs/{rfq_id}", _good_quote(unit_price="81"))
    client_b.post(f"/firm/rfqs/{rfq_id}", _good_quote(unit_price="82"))
    quotes = {q.firm_id: q for q in _quotes(app, rfq_id)}
    mine, theirs = quotes[firm_a.id], quotes[firm_b.id]
    listing = client_a.get("/firm/quotes").get_data(as_text=True)
    assert f'data-quote-id="{mine.id}"' in listing and str(theirs.id) not in listing
    page = client_a.get(f"/firm/rfqs/{rfq_id}").get_data(as_text=True)
    assert f'data-quote-id="{mine.id}"' in page and str(theirs.id) not in page and firm_b.name not in page
    assert 'data-quotes="2"' in page  # the count, never the competitors' quotes
    # suppliers cannot use the buyer's pages
    assert client_a.get(f"/rfqs/{rfq_id}").status_code == 404
    assert client_a.post(f"/rfqs/{rfq_id}/accept", {"quote_id": str(mine.id)}).status_code == 404
    assert client_a.post(f"/rfqs/{rfq_id}/cancel").status_code == 404
    assert _rfq(app, rfq_id).status == "open"


def test_a_buyer_cannot_see_or_act_on_another_buyers_request(app, buyer, create_user, make_client, supplier):
    buyer_client, _user = buyer
    rfq_id = _open_rfq(buyer_client)
    firm, client = supplier(CREPE)
    client.post(f"/firm/rfqs/{rfq_id}", _good_quote())
    [quote] = _quotes(app, rfq_id)
    other = create_user("buyer")
    other_client = make_client()
    other_client.login(other["email"])
    assert other_client.get(f"/rfqs/{rfq_id}").status_code == 404
    assert other_client.post(f"/rfqs/{rfq_id}/accept", {"quote_id": str(quote.id)}).status_code == 404
    assert other_client.post(f"/rfqs/{rfq_id}/cancel").status_code == 404
    assert str(rfq_id) not in other_client.get("/rfqs").get_data(as_text=True)
    assert other_client.get(f"/rfqs/{uuid.uuid4()}").status_code == 404
    rfq = _rfq(app, rfq_id)
    assert rfq.status == "open" and rfq.accepted_quote_id is None


def test_a_firm_member_buying_reads_quotes_of_other_firms_on_their_request(app, supplier, firm_a, make_client):
    """A firm owner acting as a buyer: the session is bound to their own firm, the quotes belong to others (RLS)."""
    buyer_client = make_client()
    buyer_client.login(firm_a.owner_email)
    rfq_id = _open_rfq(buyer_client)
    firm, client = supplier(CREPE)
    client.post(f"/firm/rfqs/{rfq_id}", _good_quote())
    [quote] = _quotes(app, rfq_id)
    detail = buyer_client.get(f"/rfqs/{rfq_id}").get_data(as_text=True)
    assert f'data-quote-id="{quote.id}" data-firm-id="{firm.id}"' in detail
    # firm A (not the buyer of this one) cannot accept on another buyer's request
    stranger_rfq = _open_rfq(client, category_slug=SCARVES, unit="piece", quantity="500")
    assert buyer_client.post(f"/rfqs/{stranger_rfq}/accept", {"quote_id": str(quote.id)}).status_code == 404
    assert buyer_client.post(f"/rfqs/{rfq_id}/accept", {"quote_id": str(quote.id)}).status_code == 302
    assert _rfq(app, rfq_id).accepted_firm_id == firm.id
    assert _rfq(app, stranger_rfq).status == "open"


# --- Concurrency (PostgreSQL) -----------------------------------------------------------------------------------------


@pytest.mark.postgres_only
def test_concurrent_quotes_never_pass_the_limit(make_app):
    """Twelve suppliers quote at the same moment on their own connections: exactly ten quotes are kept.

    Runs on its own committed database (the per-test transaction of the other tests cannot be shared by threads).
    """
    import threading

    from saas.auth.services import register_firm
    from saas.core.extensions import db
    from saas.core.tenancy import set_tenant
    from saas.marketplace.services import ProductInput, clean, save_product
    from saas.models import Firm, User
    from tests.conftest import DEFAULT_SILK_ATTRIBUTES, PASSWORD, fresh_database, valid_uscc

    urls = fresh_database("jx_test_rfq_race")
    saved = db._test_connection
    db.bind_to_connection(None)
    try:
        race_app = make_app(SQLALCHEMY_DATABASE_URI=urls.app)
        firms = []
        with race_app.test_request_context():
            s = db.session
            for n in range(12):
                firm, owner = register_firm(
                    s,
                    firm_name=f"并发丝绸有限公司{n}",
                    uscc=valid_uscc(900000 + n),
                    industry="silk",
                    county="nanhu",
                    park=None,
                    employees=50,
                    revenue_wan=Decimal(800),
                    contact_name="张三",
                    contact_phone=None,
                    owner_name="张三",
                    email=f"race{n}@race.example",
                    password=PASSWORD,
                )
                s.commit()
                set_tenant(s, firm.id, owner.id)
                cleaned = clean(
                    ProductInput(
                        category_slug=CREPE,
                        title_zh="19姆米真丝双绉",
                        sale_unit="m",
                        moq="100",
                        tiers=[("100", "88")],
                        lead_time_days="15",
                        attributes=DEFAULT_SILK_ATTRIBUTES,
                    )
                )
                product = save_product(s, firm, owner, None, cleaned)
                product.status, product.published_at = "published", utcnow()
                s.commit()
                set_tenant(s, None)
                firms.append((firm.id, owner.id))
            set_tenant(s, None)
            buyer = User(email="race-buyer@race.example", name="买家", password_hash="x", kind="buyer")
            s.add(buyer)
            s.flush()
            rfq = services.create_rfq(
                s,
                buyer,
                services.RfqInput(
                    FABRIC, "并发询价", "十二家同时报价。", Decimal(100), "m", None, utcnow() + timedelta(days=3)
                ),
                now=utcnow(),
                daily_limit=5,
                max_quotes=10,
            )
            rfq_id = rfq.id
            s.commit()

        barrier = threading.Barrier(len(firms))
        outcomes: list[str] = []

        def quote(firm_id, user_id):
            with race_app.test_request_context():
                s = db.session
                set_tenant(s, firm_id, user_id)
                firm, user = s.get(Firm, firm_id), s.get(User, user_id)
                data = services.QuoteInput(Decimal("80"), 10, utcnow().date() + timedelta(days=10), "")
                barrier.wait(timeout=30)
                try:
                    services.submit_quote(s, firm, user, rfq_id, data, now=utcnow())
                    s.commit()
                    outcomes.append("ok")
                except services.RfqRefused as refused:
                    s.rollback()
                    outcomes.append(refused.code)

        threads = [threading.Thread(target=quote, args=pair) for pair in firms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["full", "full"] + ["ok"] * 10
        with race_app.test_request_context():
            from saas.core.tenancy import set_staff_scope

            s = db.session
            set_staff_scope(s, "*")
            stored = s.scalar(select(func.count()).select_from(Quote).execution_options(all_tenants=True))
            rfq = s.get(Rfq, rfq_id)
            assert stored == 10 and rfq.quote_count == 10 and rfq.status == "closed"
    finally:
        db.bind_to_connection(saved)


@pytest.mark.postgres_only
def test_concurrent_requests_never_pass_the_daily_limit(make_app):
    """A buyer with one RFQ left sends four at the same moment on four connections: exactly one is stored."""
    import threading

    from saas.core.extensions import db
    from saas.core.limits import DailyLimitReached
    from saas.models import User
    from tests.conftest import fresh_database

    urls = fresh_database("jx_test_rfq_daily_race")
    saved = db._test_connection
    db.bind_to_connection(None)
    try:
        race_app = make_app(SQLALCHEMY_DATABASE_URI=urls.app)

        def create(s, buyer):
            data = services.RfqInput(
                FABRIC, "并发询价", "同时提交。", Decimal(100), "m", None, utcnow() + timedelta(days=3)
            )
            return services.create_rfq(s, buyer, data, now=utcnow(), daily_limit=5, max_quotes=10)

        with race_app.test_request_context():
            s = db.session
            buyer = User(email="daily-race@race.example", name="买家", password_hash="x", kind="buyer")
            s.add(buyer)
            s.flush()
            for _ in range(4):
                create(s, buyer)
            s.commit()
            buyer_id = buyer.id

        barrier = threading.Barrier(4)
        outcomes: list[str] = []

        def attempt():
            with race_app.test_request_context():
                s = db.session
                buyer = s.get(User, buyer_id)
                barrier.wait(timeout=30)
                try:
                    create(s, buyer)
                    s.commit()
                    outcomes.append("ok")
                except DailyLimitReached:
                    s.rollback()
                    outcomes.append("limit")

        threads = [threading.Thread(target=attempt) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["limit", "limit", "limit", "ok"]
        with race_app.test_request_context():
            assert db.session.scalar(select(func.count()).select_from(Rfq).where(Rfq.buyer_id == buyer_id)) == 5
    finally:
        db.bind_to_connection(saved)


def test_pages_render_in_english(app, buyer, supplier):
    buyer_client, _user = buyer
    rfq_id = _open_rfq(buyer_client)
    _firm, client = supplier(CREPE)
    client.post(f"/firm/rfqs/{rfq_id}", _good_quote())
    for c in (buyer_client, client):
        c.post("/language", {"lang": "en"})
    for url in ("/rfqs", "/rfqs/new", f"/rfqs/{rfq_id}"):
        response = buyer_client.get(url)
        assert response.status_code == 200 and '<html lang="en">' in response.get_data(as_text=True), url
    for url in ("/firm/rfqs", f"/firm/rfqs/{rfq_id}", "/firm/quotes"):
        assert client.get(url).status_code == 200, url
