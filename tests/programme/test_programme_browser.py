"""The programme in real Chromium on the demo data: the bureau's ranking of the past round, its public 公示 page
(both languages) with the final PDF and XLSX, and an expert's assignments. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.conftest import demo_login, screenshot, staff_login_in_browser

pytestmark = pytest.mark.browser


def test_bureau_ranking_public_notice_and_final_lists(seeded, page):
    staff_login_in_browser(page, seeded, "staff@demo.jx.example")
    page.click("#nav-programme-staff")
    page.wait_for_selector("#staff-rounds", timeout=30000)
    page.locator("#staff-rounds a", has_text="第一批").click(timeout=30000)
    page.click("#ranking-link")
    page.wait_for_selector("#ranking")
    assert page.locator('#ranking tr[data-status="selected"]').count() >= 1
    assert page.locator('#decision-status[data-status="confirmed"]').count() == 1
    screenshot(page, "programme-ranking-zh")
    page.fill("#pv-total", "3")
    page.click("#run-preview")
    page.wait_for_selector("#preview-diff")
    screenshot(page, "programme-preview-zh")
    public = page.locator("#decision a", has_text="公开页面").get_attribute("href")
    page.click("#logout")
    page.goto(seeded.url + public)  # no login
    dates = page.locator("#publicity-dates").inner_text()
    assert "至" in dates and page.locator("#head-hash").inner_text().strip()
    screenshot(page, "programme-publicity-zh")
    with page.expect_download() as pdf:
        page.click("#final-pdf")
    with open(pdf.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    with page.expect_download() as xlsx:
        page.click("#final-xlsx")
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    page.click("#lang-en")
    page.wait_for_selector("#publicity-list")
    assert "Public notice" in page.content()
    screenshot(page, "programme-publicity-en")


def test_expert_sees_their_assignments(seeded, page):
    import time

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    demo_login(page, seeded.url, "expert1@demo.jx.example")
    page.wait_for_url("**/auth/two-factor")
    for attempt in range(2):
        page.fill("#code", seeded.flask("totp-now", "expert1@demo.jx.example").strip().splitlines()[-1])
        page.click("#totp-submit")
        try:
            page.wait_for_url("**/programme/expert/", timeout=5000 if attempt == 0 else 15000)
            break
        except PlaywrightTimeout:
            if attempt:
                raise
            time.sleep(31 - time.time() % 30)
    screenshot(page, "programme-expert-zh")
    rows = page.locator("#assignments tr[data-assignment]")
    if rows.count():
        rows.first.locator("a").click()
        page.wait_for_selector("#applicant")
        screenshot(page, "programme-expert-review-zh")
