"""Write workbooks: the XLSX template of a category and the export of a supplier's catalogue.

Headings, instructions and drop-down lists are data in the chosen language (``zh`` or ``en``), like the catalogue's
own labels.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.marketplace.bulk.columns import (
    CATEGORY_KEY,
    ID_KEY,
    INSTRUCTIONS,
    LISTS_SHEET,
    NO,
    YES,
    Column,
    _lang,
    category_cell,
    category_label,
    columns_for,
)
from saas.marketplace.bulk.report import ImportReport
from saas.marketplace.catalog import Attribute, Category, default_catalog
from saas.marketplace.catalog.attributes import format_number
from saas.models import Firm, Product

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# --- writing workbooks -----------------------------------------------------------------------------------------------

_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
_KEY_FONT = Font(color="808080", size=8)
_BOLD = Font(bold=True)


class _Lists:
    """The hidden sheet that holds every drop-down list (in-cell lists are limited to 255 characters)."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, ...], str] = {}

    def formula(self, values: Sequence[str]) -> str:
        """The range formula of a list (each distinct list is written once)."""
        key = tuple(values)
        if key not in self.known:
            letter = get_column_letter(len(self.known) + 1)
            self.known[key] = f"'{LISTS_SHEET}'!${letter}$1:${letter}${len(values)}"
        return self.known[key]

    def write(self, book: Workbook) -> None:
        sheet = book.create_sheet(LISTS_SHEET)
        sheet.sheet_state = "hidden"
        for column, values in enumerate(self.known, start=1):
            for row, value in enumerate(values, start=1):
                sheet.cell(row=row, column=column, value=value).data_type = "s"


def _sheet_title(category: Category, lang: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", " ", category.label.get(lang)).strip()[:28] or "sheet"
    title, n = base, 2
    while title.casefold() in used or title in (INSTRUCTIONS.zh, INSTRUCTIONS.en, LISTS_SHEET):
        title, n = f"{base} {n}", n + 1
    used.add(title.casefold())
    return title


def _prompt(column: Column, lang: str) -> tuple[str, str] | None:
    """The input message of a column (title ≤ 32, text ≤ 255 characters), or None."""
    zh = lang == "zh"
    attr = column.attr
    if column.kind == "multi_enum":
        text = "可多选：用“、”或逗号分隔，例如 A、B" if zh else "Several values: separate them with , or ; (e.g. A, B)"
    elif attr is not None and attr.type == "number":
        unit = attr.unit.label.get(lang) if attr.unit is not None else ""
        low = format_number(attr.min) if attr.min is not None else ""
        high = format_number(attr.max) if attr.max is not None else ""
        text = f"{'数字' if zh else 'Number'} {low}–{high} {unit}".strip()
    elif column.key == "sku":
        text = (
            "最多64个字母、数字或 - _ . /；同一货号更新已有产品"
            if zh
            else "≤ 64 letters, digits, - _ . /; an existing SKU updates"
        )
    elif column.key == ID_KEY:
        text = (
            "由平台导出时填写，请勿修改；新产品留空" if zh else "Filled in by the export; leave empty for new products"
        )
    elif column.key == "lead_time_days":
        text = "0–365 天" if zh else "0–365 days"
    elif column.key == CATEGORY_KEY:
        text = "留空即为本表的类目" if zh else "Empty means the category of this sheet"
    else:
        return None
    return column.label.get(lang)[:32], text[:255]


def _write_sheet(book: Workbook, lists: _Lists, category: Category, products: Sequence[Product], lang: str) -> None:
    used = {s.title.casefold() for s in book.worksheets}
    sheet = book.create_sheet(_sheet_title(category, lang, used))
    columns = columns_for(category)
    catalog = default_catalog()
    keys = [CATEGORY_KEY + " " + category.slug if c.key == CATEGORY_KEY else c.key for c in columns]
    sheet.append(keys)
    sheet.append([c.heading(lang) for c in columns])
    sheet.row_dimensions[1].hidden = True
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index).font = _KEY_FONT
        cell = sheet.cell(row=2, column=index)
        cell.font = _BOLD
        cell.fill = _REQUIRED_FILL if column.required else _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter].width = column.width
        if column.kind in ("text", "id", "category"):
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "C3"
    units = {u.id: u.label.get(lang) for u in catalog.sale_units_for(category.slug)}
    path = category_cell(category, lang)
    for product in products:
        sheet.append([_export_value(c, product, lang, units, path) for c in columns])
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text
    _validations(sheet, lists, columns, category, lang, units, path)


def _validations(
    sheet: Any, lists: _Lists, columns: list[Column], category: Category, lang: str, units: dict, path: str
) -> None:
    zh = lang == "zh"
    flag_values = [YES.get(lang), NO.get(lang)]
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        values: list[str] | None = None
        if column.kind == "category":
            values = [path]
        elif column.kind == "unit":
            values = list(units.values())
        elif column.kind == "flag":
            values = flag_values
        elif column.kind in ("enum", "multi_enum") and column.attr is not None:
            values = [opt.label.get(lang) for opt in column.attr.options]
        prompt = _prompt(column, lang)
        if values is None and prompt is None:
            continue
        if values is not None:
            check = DataValidation(type="list", formula1=lists.formula(values), allow_blank=True)
            # other spellings (ids, English labels, aliases) and several choices are accepted by the import
            check.showErrorMessage = column.kind not in ("multi_enum",)
            check.errorStyle = "warning"
            check.errorTitle = "请检查" if zh else "Please check"
            check.error = (
                "不在列表中；导入时会检查此值。" if zh else "Not in the list; the import will check this value."
            )
        else:
            check = DataValidation(allow_blank=True)
        if prompt is not None:
            check.showInputMessage = True
            check.promptTitle, check.prompt = prompt
        check.add(f"{letter}3:{letter}1048576")
        sheet.add_data_validation(check)


def _number(value: Any) -> int | float | str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return int(number) if number == number.to_integral_value() else float(number)


def _export_value(column: Column, product: Product, lang: str, units: dict[str, str], path: str) -> Any:
    key = column.key
    if key == CATEGORY_KEY:
        return path
    if key == ID_KEY:
        return str(product.id)
    if key in ("moq", "order_multiple"):
        return _number(getattr(product, key))
    if key.startswith("tier"):
        n, part = int(key[4]), key.split("_", 1)[1]
        tiers = product.price_tiers or []
        if n > len(tiers):
            return None
        return _number(tiers[n - 1]["min_qty" if part == "qty" else "price"])
    if key in ("price_on_request", "samples_available"):
        return YES.get(lang) if getattr(product, key) else NO.get(lang)
    if key == "sale_unit":
        return units.get(product.sale_unit, product.sale_unit)
    if key == "lead_time_days":
        return product.lead_time_days
    if column.attr is not None:
        return _export_attribute(column.attr, (product.attributes or {}).get(column.attr.id), lang)
    value = getattr(product, key)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _export_attribute(attr: Attribute, value: Any, lang: str) -> Any:
    if value is None:
        return None
    if attr.type == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
    if attr.type == "enum":
        option = attr.option(value) if isinstance(value, str) else None
        return option.label.get(lang) if option else str(value)
    if attr.type == "multi_enum":
        ids = value if isinstance(value, list) else [value]
        names = [(o.label.get(lang) if (o := attr.option(str(i))) else str(i)) for i in ids]
        return ("、" if lang == "zh" else ", ").join(names)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


_GUIDE_ZH = (
    "批量导入说明",
    "1. 每个工作表对应一个类目。第 2 行是列标题（带 * 的为必填），第 1 行（已隐藏）是列的机器键，"
    "请勿删除或修改这两行。",
    "2. 从第 3 行起每行一个产品。类目列留空即为本表的类目。",
    "3. 货号（SKU）：与您已有产品的货号相同则更新该产品（已发布的产品将重新审核）；新货号或留空则新建草稿。"
    "同一文件中货号不能重复。",
    "4. “系统编号”列由导出填写，用于更新没有货号的产品；新产品请留空，复制行时请清空此列。",
    "5. 下拉列表中的选项可直接选择；也可填写选项的中文名、英文名或代码。多选属性请用“、”（或逗号、分号）分隔多个值。",
    "6. 数值属性填写数字，单位见列标题；也可带单位填写，如 19mm、1.5米。价格档最多 3 档，单价为元；"
    "无价格时请在“价格面议”填“是”。",
    "7. 是/否列填写“是”或“否”。交货期为 0–365 的整天数。",
    "8. 可上传 .xlsx 工作簿，或另存为 CSV（UTF-8 或 GBK 编码均可）。上传后先“检查”：系统列出每一行的错误；"
    "只要有一行有错误，就不会导入任何内容。",
)
_GUIDE_EN = (
    "How to import products",
    "1. Each sheet is for one category. Row 2 holds the headings (* = required); row 1 (hidden) holds the column "
    "keys. Do not delete or change these two rows.",
    "2. One product per row from row 3. An empty category cell means the category of the sheet.",
    "3. SKU: a row with the SKU of one of your products updates it (a published product is reviewed again); a new or "
    "empty SKU creates a draft. A SKU may appear only once per file.",
    "4. The product ID column is filled in by the export to update products without a SKU; leave it empty for new "
    "products and clear it when you copy a row.",
    "5. Pick options from the drop-down lists, or type their Chinese or English name or id. Separate several values of "
    "a multiple-choice attribute with 、 , or ;.",
    "6. Number attributes take a number in the unit of the heading (a unit may be typed, e.g. 19mm or 1.5米). Up to 3 "
    "price tiers, unit prices in yuan; without prices, answer 'Yes' under 'Price on request'.",
    "7. Yes/no columns take 是/否 or Yes/No. Lead time: whole days from 0 to 365.",
    "8. Upload the .xlsx workbook, or save it as CSV (UTF-8 or GBK). Check the file first: every row's errors are "
    "listed, and one row with an error means nothing is imported.",
)


def _describe(column: Column, lang: str, units: dict[str, str]) -> str:
    zh = lang == "zh"
    attr = column.attr
    if attr is not None:
        if attr.type == "number":
            unit = attr.unit.label.get(lang) if attr.unit is not None else ""
            low = format_number(attr.min) if attr.min is not None else "—"
            high = format_number(attr.max) if attr.max is not None else "—"
            step = f"，步长 {format_number(attr.step)}" if zh else f", step {format_number(attr.step)}"
            return (f"数字 {low}–{high} {unit}" if zh else f"number {low}–{high} {unit}") + (step if attr.step else "")
        if attr.type in ("enum", "multi_enum"):
            options = "、".join(f"{o.label.zh} / {o.label.en} ({o.id})" for o in attr.options)
            kind = (
                ("多选：" if zh else "several of: ") if attr.type == "multi_enum" else ("单选：" if zh else "one of: ")
            )
            return kind + options
        limit = attr.max_length or ""
        return (
            f"文本{f'，最多 {limit} 字' if limit else ''}"
            if zh
            else f"text{f', at most {limit} characters' if limit else ''}"
        )
    texts = {
        CATEGORY_KEY: ("类目路径或代码；留空即为本表类目", "category path or slug; empty = this sheet's category"),
        "sku": ("最多 64 个字母、数字或 - _ . /", "up to 64 letters, digits or - _ . /"),
        "title_zh": ("2–120 字", "2–120 characters"),
        "title_en": ("最多 160 字", "up to 160 characters"),
        "description_zh": ("最多 5000 字", "up to 5,000 characters"),
        "description_en": ("最多 5000 字", "up to 5,000 characters"),
        "sale_unit": ("、".join(units.values()), ", ".join(units.values())),
        "moq": ("大于 0 的数字（按销售单位）", "a number above 0 (in sale units)"),
        "order_multiple": ("大于 0 的数字，默认 1", "a number above 0, default 1"),
        "price_on_request": ("是 / 否", "Yes / No"),
        "samples_available": ("是 / 否", "Yes / No"),
        "lead_time_days": ("0–365 的整数", "a whole number from 0 to 365"),
        ID_KEY: ("导出时填写，勿改", "filled in by the export; do not edit"),
    }
    if column.key.startswith("tier"):
        return (
            "起订量与单价（元），价格不应随数量增加而上涨"
            if zh
            else "from quantity and unit price (yuan); prices should not rise"
        )
    pair = texts.get(column.key, ("", ""))
    return pair[0] if zh else pair[1]


def _instructions(book: Workbook, categories: Sequence[Category], titles: Sequence[str], lang: str) -> None:
    sheet = book.create_sheet(INSTRUCTIONS.get(lang))
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 24
    sheet.column_dimensions["C"].width = 10
    sheet.column_dimensions["D"].width = 90
    guides = (_GUIDE_ZH, _GUIDE_EN) if lang == "zh" else (_GUIDE_EN, _GUIDE_ZH)
    for guide in guides:
        for number, line in enumerate(guide):
            sheet.append([line])
            if number == 0:
                sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=13)
        sheet.append([])
    zh = lang == "zh"
    catalog = default_catalog()
    for category, title in zip(categories, titles, strict=True):
        sheet.append([f"{'工作表' if zh else 'Sheet'} “{title}”: {category_label(category, lang)} ({category.slug})"])
        sheet.cell(row=sheet.max_row, column=1).font = _BOLD
        sheet.append(
            [
                "列标题" if zh else "Heading",
                "键" if zh else "Key",
                "必填" if zh else "Required",
                "说明" if zh else "Values",
            ]
        )
        for cell in sheet[sheet.max_row]:
            cell.font, cell.fill = _BOLD, _HEADER_FILL
        units = {u.id: u.label.get(lang) for u in catalog.sale_units_for(category.slug)}
        for column in columns_for(category):
            required = ("是" if zh else "yes") if column.required else ""
            sheet.append([column.heading(lang), column.key, required, _describe(column, lang, units)])
            sheet.cell(row=sheet.max_row, column=4).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.append([])


def _workbook(groups: Sequence[tuple[Category, Sequence[Product]]], lang: str) -> bytes:
    lang = _lang(lang)
    book = Workbook()
    book.remove(book.active)
    lists = _Lists()
    for category, products in groups:  # data sheets first: importers and people read the first sheet
        _write_sheet(book, lists, category, products, lang)
    _instructions(book, [c for c, _p in groups], [s.title for s in book.worksheets], lang)
    lists.write(book)
    book.active = 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def build_template(category_slug: str, lang: str) -> bytes:
    """An empty XLSX template for one leaf category (``lang``: ``zh``/``zh_CN`` or ``en``).

    :raises KeyError: for an unknown category or one that is not a leaf.
    """
    category = default_catalog().category(category_slug)
    if not category.is_leaf:
        raise KeyError(category_slug)
    return _workbook([(category, [])], lang)


def export_catalogue(dbs: Session, firm: Firm, lang: str) -> bytes:
    """The firm's products (archived ones left out) as XLSX in the import format: one sheet per category, in
    catalogue order, products by SKU. Importing the file unchanged changes nothing."""
    stmt = select(Product).where(Product.firm_id == firm.id, Product.status != "archived")
    products = list(dbs.scalars(stmt).unique())
    by_category: dict[str, list[Product]] = defaultdict(list)
    for product in products:
        by_category[product.category_slug].append(product)
    catalog = default_catalog()
    groups = []
    for category in catalog.leaves():
        items = by_category.pop(category.slug, None)
        if items:
            items.sort(key=lambda p: (p.sku is None, p.sku or "", p.created_at, str(p.id)))
            groups.append((category, items))
    return _workbook(groups, lang)


def iter_error_rows(report: ImportReport) -> Iterator[list[str]]:
    """The rows of an error list download: sheet, row, column, message."""
    for error in report.errors:
        column = f"{error.letter} {error.column}".strip()
        yield [error.sheet, str(error.row or ""), column, error.message]
