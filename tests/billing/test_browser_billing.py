"""Billing in real Chromium against the stand-in: a free firm upgrades to Pro on the stand-in's pay page, comes back
and downloads the full PDF; another firm redeems a bureau voucher for one report; the bureau opens the voucher report.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from standin_support import API_KEY, WEBHOOK_SECRET

from tests.conftest import ROOT, LiveServer, _live_env, fresh_database, screenshot, staff_login_in_browser
from tests.conftest import demo_login as login

pytestmark = pytest.mark.browser


@pytest.fixture()
def billing_live(stripe_standin, browser) -> Iterator[LiveServer]:
    """The app in its own process, aimed at the stand-in, whose webhooks go to it; demo data loaded."""
    from saas.billing import plans

    urls = fresh_database("jx_test_billing_live")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = _live_env(urls)
    env.update(
        STRIPE_SECRET_KEY=API_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=stripe_standin.url,
        PUBLIC_BASE_URL=url,
    )
    stripe_standin.control("POST", "/_test/reset", {})
    stripe_standin.control("POST", "/_test/seed", plans.seed())
    stripe_standin.control("POST", "/_test/webhooks", {"url": url + "/billing/webhook"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port), "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the live server did not start") from None
            time.sleep(0.2)
    live = LiveServer(url, urls)
    live.flask("seed-demo", "--firms", "70")
    try:
        yield live
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        stripe_standin.control("POST", "/_test/reset", {})  # the receiver's URL again for the other tests


def _free_firm_with_report(page, live, start: int) -> int:
    """Log in as the first free demo firm (owner021 on) whose benchmark page offers the PDF; return its number."""
    for n in range(start, 70):
        login(page, live.url, f"owner{n:03d}@demo.jx.example")
        page.wait_for_url("**/firm/")
        page.click("#nav-benchmarking")
        if page.locator("#request-pdf").count():
            return n
        page.click("#logout")
    raise AssertionError("no free demo firm with a submitted assessment")


def _download_pdf(page) -> bytes:
    page.click("#request-pdf")
    page.wait_for_selector("#download-pdf")
    with page.expect_download() as info:
        page.click("#download-pdf")
    with open(info.value.path(), "rb") as fh:
        return fh.read()


def test_upgrade_download_redeem_and_the_voucher_report(billing_live, page):
    live = billing_live
    first = _free_firm_with_report(page, live, 21)
    report_url = page.url
    page.click("#request-pdf")  # free: the billing page offers Pro or this report
    page.wait_for_selector("#buy-report")
    assert page.locator("#plan").get_attribute("data-plan") == "free"
    screenshot(page, "billing-free-zh")
    page.click("#buy-pro_monthly")
    page.wait_for_selector("#pay-card")  # the stand-in's hosted pay page
    screenshot(page, "billing-standin-pay")
    page.click("#pay-card")
    page.wait_for_url(re.compile(r".*/billing/$"))
    assert page.locator("#plan").get_attribute("data-plan") == "pro"
    screenshot(page, "billing-pro-zh")
    page.click("#lang-en")
    page.wait_for_selector("html[lang=en]")
    screenshot(page, "billing-pro-en")
    page.click("#lang-zh_CN")
    page.goto(report_url)
    assert _download_pdf(page)[:5] == b"%PDF-"
    page.click("#logout")

    staff_login_in_browser(page, live, "staff@demo.jx.example")
    page.click("#nav-vouchers")
    page.select_option("#product", "report")
    page.select_option("#county", "nanhu")
    page.fill("#funder_round", "2026年浏览器测试批")
    page.fill("#count", "1")
    page.fill("#value_yuan", "199")
    page.click("#issue")
    code = page.locator("#issued-codes code").first.inner_text()
    page.click("#logout")

    _free_firm_with_report(page, live, first + 1)
    page.click("#request-pdf")
    page.wait_for_selector("#redeem")
    page.fill("#code", code)
    page.click("#redeem")
    page.wait_for_url(re.compile(r".*/benchmarking/[0-9a-f-]+$"))
    assert _download_pdf(page)[:5] == b"%PDF-"
    page.click("#logout")

    staff_login_in_browser(page, live, "staff@demo.jx.example")
    page.click("#nav-vouchers")
    total = page.locator('#voucher-report tr[data-county="nanhu"][data-industry=""]')
    assert total.count() == 1
    screenshot(page, "bureau-vouchers-zh")
