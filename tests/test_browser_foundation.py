"""The foundation journey in real Chromium: register a firm, log out and in, switch the language."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, screenshot, valid_uscc

pytestmark = pytest.mark.browser


def test_register_logout_login_and_switch_language(live_server, page):
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.click("#cta-register")
    page.fill("#firm_name", "海宁经编示范有限公司")
    # a wrong check character first: the error appears next to the field and nothing else is lost
    good = valid_uscc(31337, "haining")
    page.fill("#uscc", good[:17] + ("1" if good[17] != "1" else "2"))
    page.select_option("#industry", "warp_knitting")
    page.select_option("#county", "haining")
    page.fill("#park", "海宁经编产业园区")
    page.fill("#employees", "85")
    page.fill("#revenue_wan", "2600")
    page.fill("#contact_name", "沈建华")
    page.fill("#owner_name", "沈建华")
    page.fill("#email", "shen@haining-knit.example")
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#register-submit")
    error = page.locator("#uscc-error")
    assert "校验码" in error.inner_text()
    assert page.input_value("#firm_name") == "海宁经编示范有限公司"
    screenshot(page, "register-uscc-error")

    page.fill("#uscc", good)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#register-submit")
    page.wait_for_url("**/firm/")
    assert "海宁经编示范有限公司" in page.locator("h1").inner_text()
    assert "经编" in page.content()
    screenshot(page, "firm-dashboard")

    page.click("#logout")
    page.wait_for_url(live_server.url + "/")
    page.click("#nav-login")
    page.fill("#email", "shen@haining-knit.example")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/firm/")

    page.click("#lang-en")
    page.wait_for_url("**/firm/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Warp knitting" in page.content() and "Log out" in page.content()
    screenshot(page, "firm-dashboard-en")
    page.click("#lang-zh_CN")
    assert "退出登录" in page.content() or "退出" in page.content()
