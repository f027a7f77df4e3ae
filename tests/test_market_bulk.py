"""Bulk catalogue import and export: XLSX templates with drop-down lists, CSV (UTF-8, BOM, GBK) and XLSX imports that
are all-or-nothing, upserts by SKU within the firm only, refused files that store nothing, and an export that
re-imports unchanged."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from saas.marketplace import bulk
from saas.marketplace.catalog import default_catalog
from saas.models import AuditEvent, Firm, Product, User
from tests.conftest import app_session, grant_pro

CATEGORY = "silk/silk-fabric/crepe-de-chine"
HEAD = [
    "category_slug",
    "sku",
    "title_zh",
    "sale_unit",
    "moq",
    "tier1_qty",
    "tier1_price",
    "tier2_qty",
    "tier2_price",
    "samples_available",
    "lead_time_days",
    "attr:fibre_composition",
    "attr:momme",
    "attr:fabric_width",
]


@pytest.fixture()
def firm_a(app, create_firm):
    """A firm on Pro: bulk import is Pro's (docs/billing.md); tests/billing/test_plan_limits.py covers free firms."""
    firm = create_firm(name="嘉兴甲丝绸有限公司")
    grant_pro(app, firm.id)
    return firm


@pytest.fixture()
def firm_b(app, create_firm):
    firm = create_firm(name="海宁乙皮革有限公司", county="haining", industry="leather")
    grant_pro(app, firm.id)
    return firm


def _row(sku: str = "", **over: str) -> dict[str, str]:
    row = {
        "category_slug": CATEGORY,
        "sku": sku,
        "title_zh": f"19姆米真丝双绉{sku}",
        "sale_unit": "米",
        "moq": "100",
        "tier1_qty": "100",
        "tier1_price": "88",
        "tier2_qty": "1,000",
        "tier2_price": "79.50",
        "samples_available": "是",
        "lead_time_days": "15",
        "attr:fibre_composition": "桑蚕丝、氨纶",
        "attr:momme": "19",
        "attr:fabric_width": "114",
    }
    row.update(over)
    return row


def _csv(rows: list[dict[str, str]], head: list[str] = HEAD, encoding: str = "utf-8", headings=None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings or head)
    for row in rows:
        writer.writerow([row.get(key, "") for key in head])
    return out.getvalue().encode(encoding)


def _labels(lang: str = "zh") -> list[str]:
    """The template's readable headings for HEAD (no key row)."""
    columns = {c.key: c for c in bulk.columns_for(default_catalog().category(CATEGORY))}
    return [columns[key].heading(lang) for key in HEAD]


def _xlsx_from_template(rows: list[dict[str, str]]) -> bytes:
    book = load_workbook(io.BytesIO(bulk.build_template(CATEGORY, "zh")))
    sheet = book.worksheets[0]
    keys = [str(c.value).split(" ")[0] for c in sheet[1]]
    for number, row in enumerate(rows, start=3):
        for column, key in enumerate(keys, start=1):
            if row.get(key):
                sheet.cell(row=number, column=column, value=row[key])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _upload_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_UPLOAD_DIR", str(tmp_path / "imports"))
    return tmp_path / "imports"


def _post(client, data: bytes, name: str = "products.csv", action: str = "check", **extra: Any):
    fields = {"action": action, "file": (io.BytesIO(data), name), **extra}
    return client.post("/firm/products/import", fields, content_type="multipart/form-data")


def _products(app, firm) -> list[Product]:
    with app_session(app, firm.id) as s:
        return list(s.scalars(select(Product).order_by(Product.sku)).unique())


def _count(app, firm) -> int:
    with app_session(app, firm.id) as s:
        return s.scalar(select(func.count()).select_from(Product))


def _summary(html: str) -> dict[str, str]:
    match = re.search(r'id="import-summary"([^>]*)>', html)
    assert match, html[:2000]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', match.group(1)))


def _row_errors(html: str) -> set[tuple[int, str, str]]:
    found = re.findall(r'<tr data-row="(\d+)" data-key="([^"]*)" data-code="([^"]*)"', html)
    return {(int(r), k, c) for r, k, c in found}


def _file_errors(html: str) -> list[str]:
    block = re.search(r'<ul id="file-errors">(.*?)</ul>', html, re.S)
    return re.findall(r'data-code="([^"]+)"', block.group(1)) if block else []


def _import(app, firm, data: bytes, name: str = "p.csv", *, dry_run: bool = False, submit: bool = False):
    """``run_import`` in a request context bound to the firm (committed when it wrote)."""
    with app_session(app, firm.id) as s:
        report = bulk.run_import(
            s, s.get(Firm, firm.id), s.get(User, firm.owner_id), name, data, dry_run=dry_run, submit=submit
        )
        if not report.committed:
            s.rollback()
        return report


# --- templates -------------------------------------------------------------------------------------------------------


def test_template_has_drop_downs_keys_and_instructions(client, firm_a):
    client.login(firm_a.owner_email)
    response = client.get(f"/firm/products/template.xlsx?category={CATEGORY}&lang=zh")
    assert response.status_code == 200 and response.mimetype == bulk.XLSX_MIME
    data = response.get_data()
    response.close()
    book = load_workbook(io.BytesIO(data))
    try:
        sheet, instructions, lists = book.worksheets
        assert lists.title == "_lists" and lists.sheet_state == "hidden"
        assert instructions.sheet_state == "visible" and instructions["A1"].value
        keys = [c.value for c in sheet[1]]
        headings = [c.value for c in sheet[2]]
        assert keys[0] == f"category_slug {CATEGORY}" and sheet.row_dimensions[1].hidden
        for key in ("sku", "title_zh", "sale_unit", "moq", "tier3_price", "price_on_request", "lead_time_days"):
            assert key in keys
        assert "attr:momme" in keys and "attr:fibre_composition" in keys and keys[-1] == "product_id"
        column = {key.split(" ")[0]: get_letter(i) for i, key in enumerate(keys)}
        assert headings[keys.index("attr:momme")] == "姆米（姆米） *"  # Chinese, with the unit, required
        assert headings[keys.index("attr:fabric_width")] == "门幅（厘米）"
        assert "、" in headings[keys.index("attr:fibre_composition")]  # how to give several values
        validations = {str(dv.sqref).split(":")[0][:-1]: dv for dv in sheet.data_validations.dataValidation}

        def values(letter: str) -> list[str]:
            dv = validations[letter]
            assert dv.type == "list" and dv.formula1.startswith("'_lists'!")
            col = re.search(r"\$([A-Z]+)\$1", dv.formula1).group(1)
            return [c.value for c in lists[col] if c.value is not None]

        assert values(column["sale_unit"]) == ["米", "码", "公斤"]
        assert values(column["price_on_request"]) == ["是", "否"]
        assert "桑蚕丝" in values(column["attr:fibre_composition"])
        assert "白色" in values(column["attr:colour_family"])
        assert validations[column["attr:fibre_composition"]].showErrorMessage is False  # several values typed
        assert validations[column["category_slug"]].type == "list"
    finally:
        book.close()
    english = client.get(f"/firm/products/template.xlsx?category={CATEGORY}&lang=en")
    book = load_workbook(io.BytesIO(english.get_data()))
    english.close()
    assert "Momme (momme) *" in [c.value for c in book.worksheets[0][2]]
    assert book.sheetnames[1] == "Instructions"
    book.close()
    assert client.get("/firm/products/template.xlsx?category=silk/silk-fabric").status_code == 404  # not a leaf
    assert client.get("/firm/products/template.xlsx?category=nope").status_code == 404


def get_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def test_every_route_needs_a_firm_member(client, make_client, create_user):
    urls = ("/firm/products/import", f"/firm/products/template.xlsx?category={CATEGORY}", "/firm/products/export.xlsx")
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    buyer = create_user("buyer")
    other = make_client()
    other.login(buyer["email"])
    assert other.get("/firm/products/export.xlsx").status_code == 403


def test_products_page_links_to_import_template_and_export(client, firm_a, publish_product):
    publish_product(firm_a, sku="SK-1")
    client.login(firm_a.owner_email)
    html = client.get("/firm/products/").get_data(as_text=True)
    for hook in ('id="bulk-import"', 'id="bulk-template"', 'id="bulk-export"', 'data-sku="SK-1"'):
        assert hook in html
    page = client.get("/firm/products/import").get_data(as_text=True)
    assert 'id="template-category"' in page and f'value="{CATEGORY}"' in page and 'id="import-form"' in page


# --- imports ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "headings"),
    [("utf-8", "keys"), ("utf-8-sig", "zh"), ("gbk", "zh"), ("gb18030", "keys"), ("utf-8", "en")],
)
def test_csv_import_in_utf8_bom_and_gbk(app, client, firm_a, encoding, headings):
    names = None if headings == "keys" else _labels(headings)
    data = _csv(
        [_row("A-1"), _row("A-2", **{"attr:fibre_composition": "mulberry-silk"})], encoding=encoding, headings=names
    )
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    client.login(firm_a.owner_email)
    checked = _post(client, data)
    assert checked.status_code == 200, _row_errors(checked.get_data(as_text=True))
    summary = _summary(checked.get_data(as_text=True))
    assert summary["rows"] == "2" and summary["created"] == "2" and summary["errors"] == "0"
    assert _count(app, firm_a) == 0  # a check stores nothing
    response = _post(client, data, action="import")
    assert response.status_code == 302 and response.headers["Location"].endswith("/firm/products/")
    first, second = _products(app, firm_a)
    assert (first.sku, first.status, first.sale_unit, first.samples_available) == ("A-1", "draft", "m", True)
    assert first.attributes == {"fibre_composition": ["mulberry-silk", "spandex"], "momme": 19, "fabric_width": 114}
    assert [t["min_qty"] for t in first.price_tiers] == ["100", "1000"]
    assert second.attributes["fibre_composition"] == ["mulberry-silk"]
    assert "双绉" in first.search_text  # the search index is fed like the product form's


def test_xlsx_import_from_the_template(app, client, firm_a):
    data = _xlsx_from_template([_row("X-1"), _row("X-2", sale_unit="码", **{"attr:momme": "22mm"})])
    client.login(firm_a.owner_email)
    response = _post(client, data, name="产品.xlsx", action="import")
    assert response.status_code == 302
    products = _products(app, firm_a)
    assert [(p.sku, p.sale_unit, p.attributes["momme"]) for p in products] == [("X-1", "m", 19), ("X-2", "yd", 22)]


def test_check_then_import_now_reuses_the_kept_file(app, client, firm_a, _upload_dir):
    client.login(firm_a.owner_email)
    checked = _post(client, _csv([_row("K-1")]), submit_for_review="1")
    html = checked.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert len(list(_upload_dir.rglob("*.upload"))) == 1
    response = client.post("/firm/products/import", {"action": "import", "token": token, "submit_for_review": "1"})
    assert response.status_code == 302
    [product] = _products(app, firm_a)
    assert product.status == "pending" and product.submitted_at is not None  # submitted for review
    assert list(_upload_dir.rglob("*.upload")) == []
    again = client.post("/firm/products/import", {"action": "import", "token": token})
    assert again.status_code == 302 and _count(app, firm_a) == 1  # a used token imports nothing twice


def test_another_member_cannot_use_a_kept_file(app, client, make_client, firm_a, firm_b):
    client.login(firm_a.owner_email)
    token = re.search(r'name="token" value="([^"]+)"', _post(client, _csv([_row("K-1")])).get_data(as_text=True))[1]
    other = make_client()
    other.login(firm_b.owner_email)
    response = other.post("/firm/products/import", {"action": "import", "token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/firm/products/import")
    assert other.get(f"/firm/products/import/errors.csv?token={token}").status_code == 404
    assert _count(app, firm_a) == 0 and _count(app, firm_b) == 0


def test_dry_run_lists_every_rows_errors_and_stores_nothing(app, client, firm_a):
    rows = [
        _row("OK-1"),
        _row("BAD-1", moq="-5", **{"attr:momme": "90"}),
        _row("BAD-2", title_zh="", sale_unit="打", **{"attr:fibre_composition": "金子"}),
        _row("BAD-3", tier1_price="", tier2_price="", tier1_qty="", tier2_qty="", samples_available="也许"),
        _row("BAD 4", lead_time_days="400", category_slug="silk/silk-fabric"),
    ]
    client.login(firm_a.owner_email)
    response = _post(client, _csv(rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert _row_errors(html) == {
        (3, "moq", "positive_number"),
        (3, "attr:momme", "above_max"),
        (4, "title_zh", "title_length"),
        (4, "sale_unit", "unknown_unit"),
        (4, "attr:fibre_composition", "unknown_option"),
        (5, "tier1_price", "price_needed"),
        (5, "samples_available", "bad_flag"),
        (6, "category_slug", "not_a_leaf"),
    }
    assert _summary(html)["rows-with-errors"] == "4" and 'id="errors-by-column"' in html
    assert _count(app, firm_a) == 0
    # "check and import" with the same file imports nothing either
    again = _post(client, _csv(rows), action="import")
    assert again.status_code == 400 and _count(app, firm_a) == 0
    token = re.search(r"errors\.csv\?token=([^\"&]+)", again.get_data(as_text=True))[1]  # the latest upload
    errors = client.get(f"/firm/products/import/errors.csv?token={token}")
    lines = list(csv.reader(io.StringIO(errors.get_data().decode("utf-8-sig"))))
    errors.close()
    assert len(lines) == 1 + 8 and {line[1] for line in lines[1:]} == {"3", "4", "5", "6"}


def test_one_bad_row_among_good_ones_imports_nothing(app, firm_a):
    rows = [_row(f"G-{i}") for i in range(30)]
    rows[17]["attr:momme"] = "abc"
    report = _import(app, firm_a, _csv(rows))
    assert not report.committed and [(e.row, e.key, e.code) for e in report.errors] == [
        (19, "attr:momme", "not_a_number")
    ]
    assert report.created == 0 and _count(app, firm_a) == 0


def test_a_failed_write_rolls_back_everything(app, firm_a, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from saas.marketplace import services

    real, calls = services.save_product, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 600:  # in the second flush batch
            raise IntegrityError("INSERT", {}, Exception("simulated"))
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "save_product", flaky)
    report = _import(app, firm_a, _csv([_row(f"W-{i}") for i in range(700)]))
    assert not report.committed and [e.code for e in report.errors] == ["write_failed"]
    assert _count(app, firm_a) == 0


def test_upsert_by_sku(app, client, firm_a, publish_product):
    published = publish_product(firm_a, sku="UP-1", title="旧标题真丝双绉")
    client.login(firm_a.owner_email)
    data = _csv([_row("UP-1", title_zh="新标题真丝双绉"), _row("UP-2"), _row("")])
    checked = _summary(_post(client, data).get_data(as_text=True))
    assert (checked["created"], checked["updated"]) == ("2", "1")
    assert _post(client, data, action="import").status_code == 302
    products = {p.sku: p for p in _products(app, firm_a)}
    assert len(products) == 3
    assert products["UP-1"].id == published and products["UP-1"].title_zh == "新标题真丝双绉"
    assert products["UP-1"].status == "pending"  # an edit of a published product is reviewed again
    assert products["UP-2"].status == products[None].status == "draft"
    with app_session(app) as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"product.edited_after_publication", "product.bulk_imported"} <= actions


def test_duplicate_sku_in_the_file_is_an_error_on_each_row(app, firm_a):
    report = _import(app, firm_a, _csv([_row("D-1"), _row("D-2"), _row("D-1", title_zh="另一个双绉")]))
    assert {(e.row, e.code) for e in report.errors} == {(2, "duplicate_sku"), (4, "duplicate_sku")}
    assert _count(app, firm_a) == 0


def test_archived_or_other_category_skus_are_errors(app, firm_a, publish_product):
    publish_product(firm_a, sku="OLD-1")
    publish_product(
        firm_a,
        sku="SAT-1",
        category="silk/silk-fabric/crepe-satin",
        attributes={"momme": "16", "fibre_composition": "真丝"},
    )
    with app_session(app, firm_a.id) as s:
        s.scalar(select(Product).where(Product.sku == "OLD-1")).status = "archived"
    report = _import(app, firm_a, _csv([_row("OLD-1"), _row("SAT-1")]))
    assert [(e.row, e.key, e.code) for e in report.errors] == [(2, "sku", "archived"), (3, "sku", "other_category")]


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        ("png", "products.xlsx", "bad_type"),
        ("svg", "products.csv", "bad_type"),
        ("docx", "products.xlsx", "bad_type"),
        ("xls", "products.xlsx", "old_xls"),
        ("empty", "products.csv", "empty"),
        ("blank", "products.csv", "empty"),
        ("big", "products.csv", "too_large"),
        ("text", "products.csv", "no_headers"),
        ("latin1", "products.csv", "bad_encoding"),
        ("headers", "products.csv", "no_rows"),
        ("broken", "products.xlsx", "corrupt"),
    ],
)
def test_refused_files_store_nothing(app, client, firm_a, monkeypatch, _upload_dir, data, name, code):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 4096)
    png = io.BytesIO()
    Image.new("RGB", (20, 20)).save(png, "PNG")
    docx, broken = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    with zipfile.ZipFile(broken, "w") as archive:  # the members of a workbook, but not readable ones
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("xl/workbook.xml", "not xml at all")
    files = {
        "png": png.getvalue(),
        "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "docx": docx.getvalue(),
        "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500,
        "empty": b"",
        "blank": b"\r\n \r\n",
        "big": _csv([_row(f"B-{i}") for i in range(60)]),
        "text": "你好，这不是产品表\n第二行\n".encode(),
        "latin1": "sku;title_zh\nA;\xff\xfe\x81\x8d\x90caf\xe9".encode("latin-1") + b"\x81\xff",
        "headers": _csv([]),
        "broken": broken.getvalue(),
    }
    client.login(firm_a.owner_email)
    response = _post(client, files[data], name=name, action="import")
    assert response.status_code == 400
    assert _file_errors(response.get_data(as_text=True)) == [code]
    assert _count(app, firm_a) == 0 and list(_upload_dir.rglob("*.upload")) == []


def test_workbooks_declaring_xml_entities_are_refused(app, client, firm_a, _upload_dir):
    """openpyxl parses through defusedxml: a DTD with entities (the billion-laughs shape) is refused, not expanded."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx_from_template([_row("X-1")])))
    crafted = io.BytesIO()
    with zipfile.ZipFile(crafted, "w") as archive:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/workbook.xml":  # an entity nobody uses: a plain XML parser reads the file fine
                at = body.index(b"<workbook")
                body = body[:at] + b'<!DOCTYPE workbook [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>' + body[at:]
            archive.writestr(item, body)
    client.login(firm_a.owner_email)
    response = _post(client, crafted.getvalue(), name="products.xlsx", action="import")
    assert response.status_code == 400
    assert _file_errors(response.get_data(as_text=True)) == ["corrupt"]
    assert _count(app, firm_a) == 0 and list(_upload_dir.rglob("*.upload")) == []


def test_missing_and_unknown_columns_are_reported_before_rows(app, firm_a):
    head = [k for k in HEAD if k not in ("moq", "attr:momme")] + ["colour"]
    report = _import(app, firm_a, _csv([_row("M-1")], head=head, headings=[*head[:-1], "颜色编号"]))
    codes = sorted(e.code for e in report.errors)
    assert codes == ["missing_columns", "unknown_column"] and all(e.row == 0 for e in report.errors)
    keys_only = [k for k in HEAD if k != "category_slug"]  # no category column and no sheet default
    report = _import(app, firm_a, _csv([_row("M-1")], head=keys_only))
    assert [e.code for e in report.errors] == ["missing_columns"]


def test_too_many_rows(app, firm_a, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    report = _import(app, firm_a, _csv([_row(f"T-{i}") for i in range(4)]))
    assert [e.code for e in report.errors] == ["too_many_rows"] and _count(app, firm_a) == 0


def test_headings_are_mapped_by_key_label_or_alias_and_the_sheet_default_category(app, firm_a):
    head = [k for k in HEAD if k != "category_slug"]
    names = ["SKU", "产品名称", "单位", "MOQ", "价格档1 起订量", "tier1 price", "tier2_qty", "Tier 2 unit price (yuan)"]
    names += ["样品", "交期", "成分 *", "姆米", "attr-fabric_width"]
    data = _csv([_row("H-1"), _row("H-2", **{"attr:fibre_composition": "Mulberry silk; Spandex"})], head=head)
    lines = data.decode().split("\r\n")
    lines[0] = f"category_slug {CATEGORY}," + ",".join(names)  # the default category, as our key row carries it
    lines[1:] = ["," + line if line else line for line in lines[1:]]
    report = _import(app, firm_a, "\r\n".join(lines).encode())
    assert report.errors == [] and report.created == 2
    assert [p.attributes["fibre_composition"] for p in _products(app, firm_a)] == [["mulberry-silk", "spandex"]] * 2


@pytest.mark.parametrize("variant", ["semicolon", "utf16-tab", "sep-hint", "comment-column"])
def test_csv_dialects_excel_writes(app, firm_a, variant):
    rows = [_row("V-1", description_zh="门幅114, 克重; 厚"), _row("V-2")]
    head = [*HEAD, "description_zh"]
    out = io.StringIO()
    delimiter = {"semicolon": ";", "utf16-tab": "\t", "sep-hint": ";", "comment-column": ","}[variant]
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if variant == "sep-hint":
        out.write("sep=;\r\n")
    extra = ["# 备注"] if variant == "comment-column" else []
    writer.writerow(head + extra)
    for row in rows:
        writer.writerow([row.get(key, "") for key in head] + (["内部备注"] if extra else []))
    data = out.getvalue().encode("utf-16" if variant == "utf16-tab" else "utf-8")
    report = _import(app, firm_a, data)
    assert report.errors == [] and report.created == 2
    assert _products(app, firm_a)[0].description_zh == "门幅114, 克重; 厚"


def test_too_many_errors_are_capped_on_the_page(app, client, firm_a):
    rows = [_row(f"E-{i}", moq="0") for i in range(250)]
    client.login(firm_a.owner_email)
    html = _post(client, _csv(rows)).get_data(as_text=True)
    assert len(_row_errors(html)) == 200 and 'id="errors-truncated"' in html
    assert _summary(html)["errors"] == "250"


# --- SKU on the product form ----------------------------------------------------------------------------------------


def test_sku_on_the_product_form(app, client, firm_a, publish_product):
    from tests.test_market import GOOD

    publish_product(firm_a, sku="F-1")
    client.login(firm_a.owner_email)
    bad = client.post("/firm/products/new", {**GOOD, "sku": "有空格 1"})
    assert bad.status_code == 400 and 'id="sku-error"' in bad.get_data(as_text=True)
    taken = client.post("/firm/products/new", {**GOOD, "sku": "F-1"})
    assert taken.status_code == 400 and 'id="sku-error"' in taken.get_data(as_text=True)
    assert client.post("/firm/products/new", {**GOOD, "sku": "ＦＷ-2/a.b_c"}).status_code == 302
    product = next(p for p in _products(app, firm_a) if p.sku == "FW-2/a.b_c")  # full-width letters normalised
    page = client.get(f"/firm/products/{product.id}").get_data(as_text=True)
    assert 'value="FW-2/a.b_c"' in page
    assert client.post(f"/firm/products/{product.id}", {**GOOD, "sku": "FW-2/a.b_c"}).status_code == 302  # its own


# --- export ----------------------------------------------------------------------------------------------------------


def _snapshot(app, firm) -> dict[Any, tuple]:
    return {
        p.id: (
            p.sku,
            p.category_slug,
            p.title_zh,
            p.title_en,
            p.description_zh,
            p.sale_unit,
            Decimal(p.moq),
            [(Decimal(t["min_qty"]), Decimal(t["price"])) for t in p.price_tiers],
            p.price_on_request,
            p.samples_available,
            p.lead_time_days,
            p.attributes,
            p.status,
            p.search_text,
        )
        for p in _products(app, firm)
    }


def test_export_round_trip_changes_nothing(app, client, firm_a, publish_product):
    publish_product(
        firm_a,
        sku="R-1",
        title_en="Silk crepe",
        description_zh="=SUM(A1) 不是公式",
        tiers=[("100", "88.50"), ("1000", "79")],
        samples_available=True,
        attributes={
            "momme": "19.5",
            "fibre_composition": "桑蚕丝、氨纶",
            "fabric_width": "114.5",
            "composition_detail": "桑蚕丝 93% 氨纶 7%",
            "colour_family": "白色",
        },
    )
    publish_product(firm_a, title="无货号的真丝双绉", price_on_request=True, tiers=[], sale_unit="yd")
    publish_product(
        firm_a,
        sku="R-3",
        category="silk/silk-fabric/crepe-satin",
        attributes={"momme": "16", "fibre_composition": "真丝"},
    )
    client.login(firm_a.owner_email)
    _post(client, _csv([_row("R-4")]), action="import")  # a draft too
    before = _snapshot(app, firm_a)
    response = client.get("/firm/products/export.xlsx")
    assert response.status_code == 200 and response.mimetype == bulk.XLSX_MIME
    exported = response.get_data()
    response.close()
    book = load_workbook(io.BytesIO(exported))
    assert book.sheetnames == ["双绉", "素绉缎", "说明", "_lists"]
    description = book["双绉"].cell(row=3, column=5)
    assert description.value == "=SUM(A1) 不是公式" and description.data_type == "s"  # text, never a formula
    book.close()
    imported = _post(client, exported, name="export.xlsx", action="import")
    assert imported.status_code == 302
    assert _snapshot(app, firm_a) == before  # published products stay published: nothing changed
    checked = _summary(_post(client, exported, name="export.xlsx").get_data(as_text=True))
    assert (checked["created"], checked["updated"], checked["unchanged"]) == ("0", "0", "4")
    # an edited cell updates exactly that product, through the product form's rules
    book = load_workbook(io.BytesIO(exported))
    sheet = book["双绉"]
    keys = [str(c.value).split(" ")[0] for c in sheet[1]]
    sheet.cell(row=3, column=keys.index("title_zh") + 1, value="改过的真丝双绉")
    buffer = io.BytesIO()
    book.save(buffer)
    report = _import(app, firm_a, buffer.getvalue(), "export.xlsx")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    changed = [p for p in _products(app, firm_a) if p.title_zh == "改过的真丝双绉"]
    assert len(changed) == 1 and changed[0].sku == "R-1" and changed[0].status == "pending"


def test_export_and_import_never_cross_tenants(app, client, make_client, firm_a, firm_b, publish_product):
    theirs = publish_product(firm_b, sku="X-1", title="乙公司的真丝双绉")
    publish_product(firm_a, sku="A-9", title="甲公司的真丝双绉")
    client.login(firm_a.owner_email)
    response = client.get("/firm/products/export.xlsx")
    exported = response.get_data()
    response.close()
    book = load_workbook(io.BytesIO(exported), read_only=True)
    cells = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v}
    book.close()
    assert "甲公司的真丝双绉" in cells and "乙公司的真丝双绉" not in cells and "X-1" not in cells
    assert str(theirs) not in cells
    # the same SKU creates firm A's own product; firm B's is untouched
    assert _post(client, _csv([_row("X-1", title_zh="甲公司的新双绉")]), action="import").status_code == 302
    assert {p.sku for p in _products(app, firm_a)} == {"A-9", "X-1"}
    [b_product] = _products(app, firm_b)
    assert (b_product.title_zh, b_product.status) == ("乙公司的真丝双绉", "published")
    # firm B's product id in the ID column is unknown to firm A
    head = [*HEAD, "product_id"]
    report = _import(app, firm_a, _csv([_row("Y-1", product_id=str(theirs))], head=head))
    assert [(e.key, e.code) for e in report.errors] == [("product_id", "unknown_id")]
    assert _products(app, firm_b)[0].title_zh == "乙公司的真丝双绉"


def test_export_of_an_empty_catalogue_is_a_valid_workbook(client, firm_a):
    client.login(firm_a.owner_email)
    response = client.get("/firm/products/export.xlsx?lang=en")
    book = load_workbook(io.BytesIO(response.get_data()))
    response.close()
    assert book.sheetnames == ["Instructions", "_lists"]
    book.close()


def test_english_export_round_trip(app, firm_a, publish_product):
    publish_product(
        firm_a,
        sku="EN-1",
        sale_unit="yd",
        samples_available=True,
        attributes={"momme": "22", "fibre_composition": "桑蚕丝、氨纶", "colour_family": "白色、黑色"},
    )
    before = _snapshot(app, firm_a)
    with app_session(app, firm_a.id) as s:
        exported = bulk.export_catalogue(s, s.get(Firm, firm_a.id), "en")
    book = load_workbook(io.BytesIO(exported))
    sheet = book.worksheets[0]
    row = dict(zip([str(c.value).split(" ")[0] for c in sheet[1]], [c.value for c in sheet[3]], strict=True))
    book.close()
    assert (row["sale_unit"], row["samples_available"]) == ("yard", "Yes")
    assert row["attr:fibre_composition"] == "Mulberry silk, Spandex" and row["attr:momme"] == 22
    report = _import(app, firm_a, exported, "catalogue.xlsx")
    assert report.errors == [] and (report.unchanged, report.updated) == (1, 0)
    assert _snapshot(app, firm_a) == before
