"""Marketplace journeys in real Chromium: a buyer searches in Chinese, filters, compares and sends an inquiry; the
supplier replies; bureau staff approve one product and reject another with a reason."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import demo_login as login
from tests.conftest import screenshot, staff_login_in_browser

pytestmark = pytest.mark.browser


def _query(live, sql, **params):
    engine = create_engine(live.urls.owner)  # the owner: these lookups only find the right account to log in as
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def _owner_of_product(live, product_id):
    rows = _query(
        live,
        "SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id JOIN products p ON p.firm_id = m.firm_id "
        "WHERE m.role = 'owner' AND CAST(p.id AS TEXT) IN (:pid, :hex)",
        pid=product_id,
        hex=product_id.replace("-", ""),
    )
    return rows[0][0]


def _product_id(page):
    return re.search(r"/market/products/([0-9a-f-]{36})", page.url).group(1)


def test_buyer_searches_filters_compares_and_asks_then_the_supplier_replies(seeded, page, browser):
    login(page, seeded.url, "buyer01@demo.jx.example")
    page.wait_for_url("**/account/")
    page.click("#nav-market")
    # Chinese full-text search from the marketplace
    page.goto(seeded.url + "/market/search")
    page.fill("#q", "真丝")
    page.click("#search-submit")
    page.wait_for_selector("#result-count")
    total = int(re.search(r"\d+", page.locator("#result-count").inner_text().replace(",", "")).group())
    assert total > 0
    # filter: the silk industry, then its first category, then an attribute value of that category
    page.locator("#facet-category a[href*='industry=silk']").click()
    page.locator("#facet-category a[href*='category=silk/']").first.click()
    page.wait_for_url(re.compile(r".*category=silk/.*"))
    filtered = int(re.search(r"\d+", page.locator("#result-count").inner_text()).group())
    assert 0 < filtered <= total
    page.locator("[id^=facet-attr-] a").first.click()
    page.wait_for_selector("[id^=facet-attr-] a.selected")
    narrowed = int(re.search(r"\d+", page.locator("#result-count").inner_text()).group())
    assert 0 < narrowed <= filtered
    screenshot(page, "market-search-filtered")
    # compare the first two results
    results = page.locator("#product-results li a")
    hrefs = [results.nth(i).get_attribute("href") for i in range(min(2, results.count()))]
    if len(hrefs) < 2:  # a narrow filter: go back to the unfiltered search for a second product
        page.goto(seeded.url + "/market/search?q=真丝")
        results = page.locator("#product-results li a")
        hrefs = [results.nth(i).get_attribute("href") for i in range(2)]
    for href in hrefs:
        page.goto(seeded.url + href)
        page.click("#compare-toggle")
        page.wait_for_load_state()
    page.goto(seeded.url + "/compare")
    assert page.locator("#compare-table thead th[data-product]").count() == 2
    screenshot(page, "market-compare")
    # send an inquiry about the first product
    page.goto(seeded.url + hrefs[0])
    product_id = _product_id(page)
    page.fill("#inquiry-quantity", "500")
    page.fill("#inquiry-body", "您好，500米起订，能否提供色卡和样品？交期多久？")
    page.click("#inquiry-send")
    page.wait_for_url("**/inquiries/*")
    assert "能否提供色卡和样品" in page.locator("#messages").inner_text()
    screenshot(page, "market-inquiry-sent")

    # the supplier replies from its inbox
    supplier = browser.new_page()
    try:
        login(supplier, seeded.url, _owner_of_product(seeded, product_id))
        supplier.wait_for_url("**/firm/")
        supplier.click("#nav-selling summary")
        supplier.click("#nav-supplier-inquiries")
        supplier.wait_for_selector("#inquiry-list")
        supplier.locator("#inquiry-list tr.unread a").first.click()
        supplier.wait_for_selector("#reply-body")
        assert "能否提供色卡和样品" in supplier.locator("#messages").inner_text()
        supplier.fill("#reply-body", "可以提供色卡，样品3天内寄出，大货交期15天。")
        supplier.click("#reply-send")
        supplier.wait_for_selector("#messages [data-from=supplier]")
        screenshot(supplier, "market-supplier-reply")
    finally:
        supplier.close()

    # the buyer finds the answer in the app
    page.click("#nav-buying summary")
    page.click("#nav-inquiries")
    page.locator("#inquiry-list tr.unread a").first.click()
    assert "样品3天内寄出" in page.locator("#messages [data-from=supplier]").inner_text()


def test_staff_approve_one_product_and_reject_another_with_a_reason(seeded, page):
    staff_login_in_browser(page, seeded, "staff@demo.jx.example")
    page.goto(seeded.url + "/bureau/moderation")
    cards = page.locator("section[id^=review-]")
    assert cards.count() >= 2
    approve_id = cards.nth(0).get_attribute("id").removeprefix("review-")
    reject_id = cards.nth(1).get_attribute("id").removeprefix("review-")
    page.locator(f"#review-{approve_id} button[value=approve]").click()
    page.wait_for_load_state()
    assert page.locator(f"#review-{approve_id}").count() == 0
    page.fill(f"#review-{reject_id} input[name=reason]", "标题含“最好”等绝对化用语，请修改后重新提交。")
    page.locator(f"#review-{reject_id} button[value=reject]").click()
    page.wait_for_load_state()
    assert page.locator(f"#review-{reject_id}").count() == 0
    screenshot(page, "bureau-moderation")
    states = dict(
        _query(
            seeded,
            "SELECT CAST(id AS TEXT), status || ':' || COALESCE(rejection_reason, '') FROM products "
            "WHERE CAST(id AS TEXT) IN (:a, :b, :ah, :bh)",
            a=approve_id,
            b=reject_id,
            ah=approve_id.replace("-", ""),
            bh=reject_id.replace("-", ""),
        )
    )
    assert sorted(states.values()) == ["published:", "rejected:标题含“最好”等绝对化用语，请修改后重新提交。"]
    # the public page of the approved product is live
    page.goto(seeded.url + f"/market/products/{approve_id}")
    assert page.locator("#product-actions").count() == 1
