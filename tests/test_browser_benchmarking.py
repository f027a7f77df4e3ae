"""Benchmarking journeys in real Chromium: a firm reads its position; staff download the dashboard as XLSX."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from tests.conftest import demo_login as login
from tests.conftest import screenshot, staff_login_in_browser

pytestmark = pytest.mark.browser


def test_firm_opens_its_benchmark_page(seeded, page):
    for n in range(1, 20):  # the first demo firm with a submitted assessment
        login(page, seeded.url, f"owner{n:03d}@demo.jx.example")
        page.wait_for_url("**/firm/")
        page.click("#nav-benchmarking")
        if page.locator("#cohort-label").count():
            break
        page.click("#logout")
    label = page.locator("#cohort-label").inner_text()
    assert re.search(r"n = \d+", label)
    assert page.locator("#bench-radar-card svg[role=img]").is_visible() or "10" in page.content()
    screenshot(page, "benchmark-report")
    page.click("#request-pdf")  # the live server has no worker: the request renders, then offers the file
    page.wait_for_selector("#download-pdf")
    with page.expect_download() as info:
        page.click("#download-pdf")
    with open(info.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    assert info.value.suggested_filename.endswith(".pdf")


def test_bureau_dashboard_xlsx_matches_the_page(seeded, page):
    staff_login_in_browser(page, seeded, "staff@demo.jx.example")
    page.click("#nav-bureau-dashboard")
    page.wait_for_selector("#table-heatmap")
    shown = {
        cell.get_attribute("data-cell"): cell.inner_text()
        for cell in page.locator("#table-heatmap td[data-cell]").all()
    }
    with page.expect_download() as info:
        page.click("#export-xlsx")
    with open(info.value.path(), "rb") as fh:
        data = fh.read()
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = [[("" if v is None else str(v)) for v in row] for row in book["heatmap"].iter_rows(values_only=True)][2:]
    book.close()
    page_rows = [
        [td.inner_text() for td in tr.locator("td").all()] for tr in page.locator("#table-heatmap tbody tr").all()
    ]
    assert len(rows) == len(page_rows) and shown
    for sheet_row, page_row in zip(rows, page_rows, strict=True):
        for a, b in zip(page_row, sheet_row[1:], strict=True):
            assert a == b or (a.replace(".", "").isdigit() and float(a) == float(b))
    screenshot(page, "bureau-dashboard")
