"""Public catalogue pages for visitors without a session: no cookie, no token, served from memory for a while;
visitors with a session and logged-in users always get a fresh page."""

from __future__ import annotations

import pytest

from saas import pagecache
from tests.conftest import app_session


@pytest.fixture()
def cache_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_PAGE_CACHE_SECONDS", 60)
    pagecache.clear()
    yield
    pagecache.clear()


def test_visitor_pages_are_cached_and_set_no_cookie(app, make_client, cache_on, firm_a, publish_product):
    from saas.models import Product

    product_id = publish_product(firm_a, "缓存测试真丝双绉")
    visitor = make_client()
    first = visitor.get("/market/silk/silk-fabric")
    assert first.status_code == 200 and "Set-Cookie" not in first.headers and "csrf_token" not in first.get_data(True)
    assert "缓存测试真丝双绉" in first.get_data(as_text=True)
    with app_session(app, firm_a.id) as s:
        s.get(Product, (firm_a.id, product_id)).title_zh = "改名后的真丝双绉"
    assert "缓存测试真丝双绉" in make_client().get("/market/silk/silk-fabric").get_data(as_text=True)  # from memory
    member = make_client()
    member.login(firm_a.owner_email)
    assert "改名后的真丝双绉" in member.get("/market/silk/silk-fabric").get_data(as_text=True)  # never cached
    pagecache.clear()
    assert "改名后的真丝双绉" in make_client().get("/market/silk/silk-fabric").get_data(as_text=True)


def test_visitors_switch_language_without_a_token_but_members_need_one(app, make_client, firm_a):
    visitor = make_client()
    response = visitor.post("/language", {"lang": "en", "next": "/market/"}, csrf=False)
    assert response.status_code == 302
    assert "Industry marketplace" in visitor.get("/market/").get_data(as_text=True)
    member = make_client()
    member.login(firm_a.owner_email)
    assert member.post("/language", {"lang": "en"}, csrf=False).status_code == 400
    assert member.post("/language", {"lang": "en"}).status_code == 302
