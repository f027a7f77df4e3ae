"""Imports that would hold a worker: zip bombs, column bombs, row jumps and slow files are refused with a clear
message and nothing stored; the streaming XLSX reader reads what openpyxl reads.

No test measures time: the deadline runs on an injected clock. ``bench/imports.py`` times the refusals.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from saas.marketplace import bulk
from saas.marketplace.bulk import report as bulk_report
from saas.marketplace.bulk import xlsx
from tests.conftest import grant_pro
from tests.test_market_bulk import _count, _csv, _file_errors, _post, _row, _xlsx_from_template
from tests.test_market_bulk import _upload_dir as _kept_files  # noqa: F401 - autouse: kept files in a temporary folder


@pytest.fixture()
def firm_a(app, create_firm):
    """A firm on Pro: bulk import is Pro's (docs/billing.md)."""
    firm = create_firm(name="嘉兴甲丝绸有限公司")
    grant_pro(app, firm.id)
    return firm


def _book(sheet_body: str, *, extra: dict[str, str] | None = None) -> bytes:
    """A minimal workbook around one sheet's ``<sheetData>`` body (no shared strings, no styles)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
        f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet xmlns="{main}"><sheetData>{sheet_body}'
        "</sheetData></worksheet>",
        **(extra or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _refused(app, client, firm, data: bytes, name: str, code: str) -> str:
    client.login(firm.owner_email)
    response = _post(client, data, name=name, action="import")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and _file_errors(html) == [code], _file_errors(html)
    assert _count(app, firm) == 0
    return html


def test_a_csv_with_more_columns_than_spreadsheets_have_is_refused(app, client, firm_a):
    """18,279 columns: past ZZZ, where column letters end (this gave a 500)."""
    head = ["category_slug", "sku", "title_zh", "sale_unit", "moq", "lead_time_days"]
    head += [f"colour {i}" for i in range(18_279)]  # unknown headings: each would be reported with its letter
    data = _csv([_row("W-1")], head=head)
    html = _refused(app, client, firm_a, data, "wide.csv", "too_many_columns")
    assert "200" in html and "列" in html  # the localised message names the limit


def test_a_workbook_with_a_value_in_column_xfd_is_refused_at_its_first_row(app, client, firm_a, monkeypatch):
    body = "".join(f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>' for r in range(1, 41_001))
    data = _book(body)
    assert len(data) < 250_000
    seen = []
    monkeypatch.setattr(xlsx, "_value", lambda *args: seen.append(1) or 1)
    _refused(app, client, firm_a, data, "wide.xlsx", "too_many_columns")
    assert len(seen) == 1  # refused at the first cell beyond the limit, not after padding 41,000 rows


def test_a_zip_bomb_is_refused_before_any_part_is_parsed(app, client, firm_a, monkeypatch):
    row = "<c><v>1</v></c>" * 200
    data = _book("".join(f'<row r="{r}">{row}</row>' for r in range(1, 2001)))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        assert info.file_size > 100 * info.compress_size and info.file_size > 1024 * 1024
    monkeypatch.setattr(xlsx, "_parse", lambda source: pytest.fail("a part was parsed"))
    html = _refused(app, client, firm_a, data, "bomb.xlsx", "unpacked_too_large")
    assert "拆分" in html


def test_the_declared_unpacked_size_is_checked_before_parsing(app, client, firm_a, monkeypatch):
    data = _xlsx_from_template([_row("U-1")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        declared = sum(info.file_size for info in archive.infolist())
    monkeypatch.setitem(app.config, "IMPORT_MAX_UNPACKED_BYTES", declared - 1)
    monkeypatch.setattr(xlsx, "_parse", lambda source: pytest.fail("a part was parsed"))
    _refused(app, client, firm_a, data, "big.xlsx", "unpacked_too_large")


def test_a_row_number_far_down_is_refused_without_reading_the_rows_between(app, client, firm_a):
    data = _book('<row r="1"><c r="A1" t="inlineStr"><is><t>sku</t></is></c></row><row r="1048576"/>')
    _refused(app, client, firm_a, data, "far.xlsx", "too_many_rows")


def test_imports_stop_at_the_time_limit(app, client, firm_a, monkeypatch):
    """A clock that moves one second per look: reading or checking stops with 'too large or complex'."""
    ticks = iter(range(10**6))
    monkeypatch.setattr(bulk_report, "monotonic", lambda: float(next(ticks)))
    monkeypatch.setitem(app.config, "IMPORT_TIME_LIMIT_S", 5)
    rows = [_row(f"T-{i}") for i in range(2000)]
    html = _refused(app, client, firm_a, _xlsx_from_template(rows), "slow.xlsx", "too_slow")
    assert "5" in html and "拆分" in html
    ticks = iter(range(10**6))
    _refused(app, client, firm_a, _csv(rows), "slow.csv", "too_slow")
    # with time to spare the same file imports
    monkeypatch.setitem(app.config, "IMPORT_TIME_LIMIT_S", 10**6)
    response = _post(client, _csv(rows[:50]), name="ok.csv", action="import")
    assert response.status_code == 302 and _count(app, firm_a) == 50


def test_a_dtd_in_a_sheet_is_refused(app, client, firm_a):
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    data = _book("")
    crafted = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = (
                    f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
                    f'<worksheet xmlns="{main}"><sheetData><row r="1"><c t="inlineStr"><is><t>&b;</t></is></c>'
                    "</row></sheetData></worksheet>"
                ).encode()
            target.writestr(item, body)
    _refused(app, client, firm_a, crafted.getvalue(), "dtd.xlsx", "corrupt")


def _openpyxl_rows(data: bytes) -> dict[str, list[tuple[int, list]]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    found = {}
    for sheet in book.worksheets:
        if sheet.sheet_state != "visible":
            continue
        sheet.reset_dimensions()
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = list(values)
            while cells and cells[-1] in (None, ""):
                cells.pop()
            if cells:
                rows.append((number, [None if v == "" else v for v in cells]))
        found[sheet.title] = rows
    book.close()
    return found


def _reader_rows(data: bytes) -> dict[str, list[tuple[int, list]]]:
    limits = xlsx.Limits(max_unpacked=10**9, max_ratio=10**6, max_columns=16_384, max_row=10**7)
    return {s.name: s.rows for s in xlsx.read_workbook(data, limits, tick=lambda: None)}


def test_the_reader_reads_what_openpyxl_reads(app, firm_a, publish_product):
    book = Workbook()
    sheet = book.active
    sheet.title = "混合"
    sheet.append(["文本", 12, 3.5, True, False, None, "=1+1", date(2026, 3, 1), datetime(2026, 3, 1, 9, 30)])
    sheet.append([None, None, "跳过的列"])
    sheet.append([])
    sheet.append(["  前后空格  ", "1E+2", -0.0, 10**15, "中文、English"])
    sheet["B6"] = "第六行"
    sheet["B6"].font = Font(bold=True)
    hidden = book.create_sheet("隐藏")
    hidden.sheet_state = "hidden"
    hidden.append(["不读"])
    mixed = io.BytesIO()
    book.save(mixed)
    template = _xlsx_from_template([_row(f"R-{i}", title_zh=f"真丝双绉{i}号") for i in range(30)])
    publish_product(firm_a)
    from tests.conftest import app_session

    with app_session(app, firm_a.id) as s:
        from saas.models import Firm

        export = bulk.export_catalogue(s, s.get(Firm, firm_a.id), "zh")
    for data in (mixed.getvalue(), template, export):
        assert _reader_rows(data) == _openpyxl_rows(data)
    assert "隐藏" not in _reader_rows(mixed.getvalue())


def test_the_deadline_is_consulted_whatever_the_row_numbers():
    """Rows numbered 3, 5, 7 … (never a multiple of 256) still reach the deadline every 256 rows read."""
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(3, 3000, 2))
    ticks = []
    limits = xlsx.Limits(max_unpacked=10**9, max_ratio=10**6, max_columns=200, max_row=10**6)
    [sheet] = xlsx.read_workbook(_book(body), limits, tick=lambda: ticks.append(1))
    assert len(sheet.rows) == 1499 and len(ticks) == 1499 // xlsx.TICK_ROWS
