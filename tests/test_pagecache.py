"""Public catalogue pages for visitors without a session: no cookie, no token, served from memory for a while;
visitors with a session and logged-in users always get a fresh page."""

from __future__ import annotations

import json

import pytest

from saas.core import pagecache
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


@pytest.fixture()
def search_cache_on(app, cache_on, monkeypatch):
    monkeypatch.setitem(app.config, "LISTING_RECHECK_SECONDS", 0)  # every request reads the change log


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(response.get_json(), ensure_ascii=False) if response.is_json else response.get_data(as_text=True)


SEARCH = "/market/search?q=%E7%BC%93%E5%AD%98%E6%A3%80%E7%B4%A2"  # 缓存检索
API = "/api/v1/products?q=%E7%BC%93%E5%AD%98%E6%A3%80%E7%B4%A2"


@pytest.mark.parametrize("url", [SEARCH, API])
def test_cached_search_follows_every_listing_change_at_once(
    app, make_client, search_cache_on, firm_a, publish_product, url
):
    from saas.models import Firm, Product

    product_id = publish_product(firm_a, "缓存检索真丝双绉")
    first = make_client().get(url)
    assert first.status_code == 200 and "Set-Cookie" not in first.headers
    assert "缓存检索真丝双绉" in _text(first)
    make_client().get(url)  # PostgreSQL re-reads the rows of transactions open at its first read once: settle that
    with app_session(app) as s:  # not part of the listings: the cached page is served as it was
        s.get(Firm, firm_a.id).name = "缓存期间改名有限公司"
    assert "缓存期间改名有限公司" not in _text(make_client().get(url))
    with app_session(app, firm_a.id) as s:  # withdrawn: the listing generation moves, the cached page is not used
        s.get(Product, (firm_a.id, product_id)).status = "archived"
    again = _text(make_client().get(url))
    assert "缓存检索真丝双绉" not in again
    # a member never gets a cached page
    member = make_client()
    member.login(firm_a.owner_email)
    assert member.get(SEARCH).headers.get("Cache-Control") == "no-store"


def test_a_forged_host_gets_its_own_cache_entry(app, make_client, search_cache_on, firm_a, publish_product):
    publish_product(firm_a, "缓存检索真丝双绉")
    forged = make_client().get(API, headers={"Host": "attacker.example"})
    assert forged.status_code in (200, 400)
    honest = make_client().get(API).get_json()
    base = app.config["PUBLIC_BASE_URL"].rstrip("/") + "/"
    assert honest["items"] and all(item["url"].startswith(base) for item in honest["items"])


def test_a_search_that_finds_nothing_is_never_stored(app, make_client, search_cache_on):
    before = len(pagecache._pages)
    for path in ("/market/search?q=zzqnothing", "/api/v1/products?q=zzqnothing"):
        assert make_client().get(path).status_code == 200
    assert len(pagecache._pages) == before


def test_a_cached_page_keeps_every_security_header_with_a_fresh_nonce(app, make_client, cache_on):
    responses = [make_client().get("/") for _ in range(3)]
    assert len(pagecache._pages) == 1
    nonces = set()
    for response in responses:
        assert response.status_code == 200 and "Set-Cookie" not in response.headers
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        nonces.add(csp.split("'nonce-")[1].split("'")[0])
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" in response.headers
        assert "Cookie" in response.headers["Vary"]
    assert len(nonces) == 3 and "" not in nonces
    assert responses[0].get_data() == responses[2].get_data()


def test_the_home_page_is_fresh_for_members_and_for_visitors_with_a_session(app, make_client, cache_on, firm_a):
    visitor = make_client()
    visitor.post("/language", {"lang": "en", "next": "/"}, csrf=False)
    assert "Industry marketplace" in visitor.get("/").get_data(as_text=True)  # their language, not the cached page
    assert "Industry marketplace" not in make_client().get("/").get_data(as_text=True)
    member = make_client()
    member.login(firm_a.owner_email)
    assert member.get("/").headers.get("Cache-Control") == "no-store"
