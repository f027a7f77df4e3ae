"""Refused input as a person sees it, in real Chromium, in Chinese and English: a product MOQ of 1E+400, a firm
name with a control character, an import file with too many columns. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.conftest import demo_login, screenshot

pytestmark = pytest.mark.browser
CREPE = "silk/silk-fabric/crepe-de-chine"


def _language(page, code: str) -> None:
    page.click(f"#lang-{code}")
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_refused_numbers_text_and_files_show_their_message(seeded, page, tmp_path, lang):
    demo_login(page, seeded.url, "owner003@demo.jx.example")
    page.wait_for_url("**/firm/")
    if lang == "en":
        _language(page, "en")

    page.goto(f"{seeded.url}/firm/products/new?category_slug={CREPE}")
    page.fill("#title_zh", "超大起订量测试双绉")
    page.fill("#moq", "1E+400")
    page.fill("#order_multiple", "1e-400")
    page.fill("[name=tier0_qty]", "100")
    page.fill("[name=tier0_price]", "88")
    page.fill("#lead_time_days", "15")
    page.click("#save-product")
    page.wait_for_selector("#moq-error")
    moq_error = page.inner_text("#moq-error")
    assert ("99,999,999,999.999" in moq_error) and (("数量" in moq_error) == (lang == "zh_CN"))
    assert page.input_value("#moq") == "1E+400"  # what was typed is kept
    assert page.is_visible("#order_multiple-error")
    screenshot(page, f"inputs-product-bounds-{lang}")

    page.goto(f"{seeded.url}/firm/profile")
    page.fill("#name", "嘉兴\u0001丝绸有限公司")
    page.click("main button.primary")
    page.wait_for_selector("#name-error")
    assert ("控制字符" in page.inner_text("#name-error")) == (lang == "zh_CN")
    screenshot(page, f"inputs-control-characters-{lang}")

    wide = tmp_path / "wide.csv"
    head = ["category_slug", "sku", "title_zh", "sale_unit", "moq", "lead_time_days"]
    wide.write_text(",".join(head + [f"colour {i}" for i in range(300)]) + "\n" + ",".join([CREPE, "W-1"]) + "\n")
    page.goto(f"{seeded.url}/firm/products/import")
    page.set_input_files("#import-file", str(wide))
    page.click("#check-file")
    page.wait_for_selector("#file-errors")
    assert "200" in page.inner_text("#file-errors")
    screenshot(page, f"inputs-import-columns-{lang}")
