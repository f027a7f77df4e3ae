"""Marketplace: a supplier's product goes draft → review → published (or rejected with a reason), public pages show
published products only, and edits of published products are reviewed again."""

from __future__ import annotations

import re

from sqlalchemy import select

from saas.models import AuditEvent, Product
from tests.conftest import app_session
from tests.test_bureau import staff_client

CATEGORY = "silk/silk-fabric/crepe-de-chine"
GOOD = {
    "step": "save",
    "category_slug": CATEGORY,
    "title_zh": "19姆米重磅真丝双绉面料",
    "title_en": "19 momme silk crepe de chine",
    "description_zh": "桐乡自有织机生产，门幅114厘米。",
    "attr-fibre_composition": ["mulberry-silk"],
    "attr-momme": "19mm",
    "attr-fabric_width": "114",
    "sale_unit": "m",
    "moq": "100",
    "order_multiple": "1",
    "tier0_qty": "100",
    "tier0_price": "88",
    "tier1_qty": "1,000",
    "tier1_price": "79.5",
    "lead_time_days": "15",
    "samples_available": "1",
}


def _create(client, **overrides):
    data = {**GOOD, **overrides}
    return client.post("/firm/products/new", data)


def _product(app, firm):
    with app_session(app, firm.id) as s:
        return s.scalar(select(Product))


def test_product_goes_through_review_before_it_is_public(app, client, make_client, create_user, firm_a):
    client.login(firm_a.owner_email)
    assert "crepe-de-chine" in client.get("/firm/products/new").get_data(as_text=True)
    form = client.get(f"/firm/products/new?category_slug={CATEGORY}").get_data(as_text=True)
    assert 'name="attr-momme"' in form
    response = _create(client)
    assert response.status_code == 302
    product = _product(app, firm_a)
    assert product.status == "draft" and product.attributes["momme"] == 19
    assert [t["min_qty"] for t in product.price_tiers] == ["100", "1000"]
    visitor = make_client()
    assert visitor.get(f"/market/products/{product.id}").status_code == 404  # drafts are never public
    client.post(f"/firm/products/{product.id}/submit")
    assert _product(app, firm_a).status == "pending"
    staff = staff_client(make_client, create_user)
    queue = staff.get("/bureau/moderation").get_data(as_text=True)
    assert "19姆米重磅真丝双绉面料" in queue
    staff.post(f"/bureau/moderation/{firm_a.id}/{product.id}", {"decision": "approve"})
    page = visitor.get(f"/market/products/{product.id}").get_data(as_text=True)
    assert "19姆米重磅真丝双绉面料" in page and "桑蚕丝" in page and firm_a.name in page
    assert "19姆米" in visitor.get("/market/silk/silk-fabric").get_data(as_text=True)
    assert firm_a.name in visitor.get(f"/market/suppliers/{firm_a.id}").get_data(as_text=True)
    with app_session(app) as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "product.approved")) is not None
    # an edit of a published product goes back to review and leaves the public marketplace meanwhile
    client.post(f"/firm/products/{product.id}", {**GOOD, "title_zh": "19姆米重磅真丝双绉面料（新色）"})
    assert _product(app, firm_a).status == "pending"
    assert visitor.get(f"/market/products/{product.id}").status_code == 404


def test_rejection_needs_a_reason_and_the_supplier_sees_it(app, client, make_client, create_user, firm_a):
    client.login(firm_a.owner_email)
    _create(client)
    product = _product(app, firm_a)
    client.post(f"/firm/products/{product.id}/submit")
    staff = staff_client(make_client, create_user)
    staff.post(f"/bureau/moderation/{firm_a.id}/{product.id}", {"decision": "reject"})
    assert _product(app, firm_a).status == "pending"  # no reason, no rejection
    staff.post(f"/bureau/moderation/{firm_a.id}/{product.id}", {"decision": "reject", "reason": "缺少检测报告"})
    assert _product(app, firm_a).status == "rejected"
    assert "缺少检测报告" in client.get("/firm/products/").get_data(as_text=True)
    county = staff_client(make_client, create_user, county="haining")
    assert county.post(f"/bureau/moderation/{firm_a.id}/{product.id}", {"decision": "approve"}).status_code == 404


def test_bad_input_is_shown_next_to_the_fields_and_nothing_is_stored(app, client, firm_a):
    client.login(firm_a.owner_email)
    response = _create(client, **{"title_zh": "", "attr-momme": "90", "moq": "-1", "tier0_price": "", "tier1_qty": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for field in ("title_zh", "attr-momme", "moq"):
        assert f'id="{field}-error"' in html, field
    assert "114" in html  # what was typed is kept
    assert _product(app, firm_a) is None


def test_other_firms_cannot_touch_a_supplier_product(app, client, make_client, firm_a, firm_b):
    client.login(firm_a.owner_email)
    _create(client)
    product = _product(app, firm_a)
    other = make_client()
    other.login(firm_b.owner_email)
    for url in (
        f"/firm/products/{product.id}",
        f"/firm/products/{product.id}/submit",
        f"/firm/products/{product.id}/archive",
    ):
        assert other.post(url, GOOD).status_code == 404
    assert other.get(f"/firm/products/{product.id}").status_code == 404
    assert "19姆米" not in other.get("/firm/products/").get_data(as_text=True)
    assert re.search("draft|草稿", client.get("/firm/products/").get_data(as_text=True))


def test_moderation_queue_is_paginated_oldest_first(app, make_client, create_user, firm_a, publish_product):
    from datetime import timedelta

    from saas.models import utcnow

    ids = [publish_product(firm_a, f"待审产品{i:02d}") for i in range(23)]
    with app_session(app, firm_a.id) as s:
        for i, product_id in enumerate(ids):
            product = s.get(Product, (firm_a.id, product_id))
            product.status, product.submitted_at = "pending", utcnow() - timedelta(minutes=100 - i)
    staff = staff_client(make_client, create_user)
    first = staff.get("/bureau/moderation").get_data(as_text=True)
    titles = re.findall(r"<h2>(待审产品\d+)</h2>", first)
    assert titles == [f"待审产品{i:02d}" for i in range(20)] and 'rel="next"' in first
    second = staff.get("/bureau/moderation?page=2").get_data(as_text=True)
    assert re.findall(r"<h2>(待审产品\d+)</h2>", second) == ["待审产品20", "待审产品21", "待审产品22"]
