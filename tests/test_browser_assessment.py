"""The self-assessment journey in real Chromium: autosave survives closing the browser, then submit and results."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, register_firm_in_browser, screenshot, valid_uscc

pytestmark = pytest.mark.browser

FILL_PAGE = """
() => {
  const done = new Set();
  for (const fs of document.querySelectorAll('fieldset.question')) {
    for (const input of fs.querySelectorAll('input[type=radio]')) {
      if (done.has(input.name)) continue;
      const group = fs.querySelectorAll(`input[type=radio][name="${input.name}"]`);
      group[Math.floor(group.length / 2)].checked = true;  // middling answers leave room for advice
      done.add(input.name);
    }
    const boxes = fs.querySelectorAll('input[type=checkbox][name^="q-"]');
    boxes.forEach((box, i) => { box.checked = box.dataset.exclusive !== '1' && i % 2 === 0; });
    for (const num of fs.querySelectorAll('input[type=number]')) {
      if (num.value) continue;
      const max = num.max ? Number(num.max) : 100;
      const current = num.name.endsWith('-current') ? max * 0.7 : max;
      num.value = num.name.endsWith('-baseline') ? String(max / 2) : String(current);
    }
  }
}
"""


def login(page, live_server, email, password):
    page.goto(live_server.url + "/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url("**/firm/")


def test_autosave_survives_closing_the_browser_then_submit_and_see_results(live_server, browser):
    email = "qian@tongxiang-silk.example"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    register_firm_in_browser(
        page, live_server.url, name="桐乡钱氏丝绸有限公司", email=email, uscc=valid_uscc(777001, "tongxiang")
    )
    page.click("#nav-assessments")
    page.click("#start-assessment")
    page.wait_for_url("**/step/1")
    questions = page.locator("fieldset.question")
    first, second = questions.nth(0), questions.nth(1)
    first.locator("input[type=radio]").last.check()
    page.wait_for_selector("#save-status:has-text('已保存')")
    second.locator("input[type=radio], input[type=checkbox]").first.check()
    page.wait_for_selector("fieldset.question.complete >> nth=1")
    chosen_first = first.locator("input:checked").first.get_attribute("value")
    screenshot(page, "assessment-autosave")
    context.close()  # the browser is closed without pressing any button

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, live_server, email, PASSWORD)
    page.click("#nav-assessments")
    page.click("#continue-assessment")
    page.wait_for_url("**/step/1")
    questions = page.locator("fieldset.question")
    assert questions.nth(0).locator("input:checked").first.get_attribute("value") == chosen_first
    assert questions.nth(1).locator("input:checked").count() >= 1

    for _ in range(20):  # every page: fill in, then the page's own button saves it
        if "/review" in page.url:
            break
        page.evaluate(FILL_PAGE)
        page.click("#save-next")
        page.wait_for_load_state()
    assert "/review" in page.url
    assert page.locator("#all-answered").is_visible()
    page.click("#submit-assessment")
    page.wait_for_url("**/results")
    radar = page.locator("#radar svg[role=img]")
    assert radar.is_visible()
    assert "战略与经营管理" in radar.inner_html()
    assert page.locator("#advice").is_visible()
    assert page.locator("#advice li").count() >= 3  # concrete next steps, each with its cost tier
    assert "投入档次" in page.locator("#advice").inner_text()
    assert page.locator("#dimension-table tbody tr").count() >= 8
    screenshot(page, "assessment-results")
    context.close()
