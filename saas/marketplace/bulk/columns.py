"""The columns of a bulk file: fixed product columns, one per attribute of the category, their keys, headings and
aliases, and the category cell (docs/bulk-import.md).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from saas.marketplace.catalog import Attribute, Category, Label, default_catalog

HEADER_SCAN_ROWS = 10  # headings are looked for in the first rows of a sheet
CATEGORY_KEY = "category_slug"
ID_KEY = "product_id"
ATTR_PREFIX = "attr:"
LISTS_SHEET = "_lists"
INSTRUCTIONS = Label("说明", "Instructions")
MULTI_NOTE = Label("可多选，用“、”分隔", "several: separate with , or ;")
YES = Label("是", "Yes")
NO = Label("否", "No")
_TRUE = {"是", "yes", "y", "true", "1", "有", "√", "✓", "x", "提供", "面议"}
_FALSE = {"否", "no", "n", "false", "0", "无", "不", "不提供", "-"}
_PATH_SEPARATORS = re.compile(r"\s*[›>/\\»]\s*")
_PARENTHETICAL = re.compile(r"\([^()]*\)\s*$")


# --- columns ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a data sheet: its machine key, readable heading and kind."""

    key: str
    label: Label
    kind: str  # text, number, integer, unit, flag, category, id, or the attribute's type
    required: bool = False
    attr: Attribute | None = None
    aliases: tuple[str, ...] = ()
    width: int = 14

    def heading(self, lang: str) -> str:
        """The heading written in row 2: label, unit, multi-choice note and ``*`` for required columns."""
        en = lang == "en"
        text = self.label.get(lang)
        extras = []
        if self.attr is not None and self.attr.unit is not None:
            extras.append(self.attr.unit.label.get(lang))
        if self.kind == "multi_enum":
            extras.append(MULTI_NOTE.get(lang))
        if extras:
            text += f" ({'; '.join(extras)})" if en else f"（{'；'.join(extras)}）"
        return text + (" *" if self.required else "")


def _tier_columns() -> list[Column]:
    columns = []
    for n in (1, 2, 3):
        columns.append(
            Column(f"tier{n}_qty", Label(f"价格档{n} 起订量", f"Tier {n} from quantity"), "number", width=12)
        )
        columns.append(
            Column(f"tier{n}_price", Label(f"价格档{n} 单价（元）", f"Tier {n} unit price (yuan)"), "number", width=12)
        )
    return columns


FIXED: tuple[Column, ...] = (
    Column(CATEGORY_KEY, Label("类目", "Category"), "category", aliases=("category", "产品类目", "分类"), width=30),
    Column("sku", Label("货号（SKU）", "SKU"), "text", aliases=("货号", "商品编码", "article number"), width=16),
    Column(
        "title_zh",
        Label("产品名称（中文）", "Title (Chinese)"),
        "text",
        True,
        aliases=("产品名称", "中文标题"),
        width=30,
    ),
    Column("title_en", Label("产品名称（英文）", "Title (English)"), "text", aliases=("英文标题",), width=30),
    Column(
        "description_zh", Label("产品描述（中文）", "Description (Chinese)"), "text", aliases=("产品描述",), width=40
    ),
    Column("description_en", Label("产品描述（英文）", "Description (English)"), "text", width=40),
    Column("sale_unit", Label("销售单位", "Sale unit"), "unit", True, aliases=("单位", "unit"), width=10),
    Column("moq", Label("最小起订量", "Minimum order quantity"), "number", True, aliases=("起订量", "最小订购量")),
    Column("order_multiple", Label("订购倍数", "Order multiple"), "number", aliases=("倍数",)),
    *_tier_columns(),
    Column("price_on_request", Label("价格面议", "Price on request"), "flag", aliases=("面议",), width=10),
    Column("samples_available", Label("提供样品", "Samples available"), "flag", aliases=("样品",), width=10),
    Column("lead_time_days", Label("交货期（天）", "Lead time (days)"), "integer", True, aliases=("交货期", "交期")),
)
ID_COLUMN = Column(
    ID_KEY, Label("系统编号（勿改）", "Product ID (do not edit)"), "id", aliases=("id", "系统编号"), width=38
)
FIXED_KEYS = frozenset(c.key for c in FIXED) | {ID_KEY}
REQUIRED_FIXED = tuple(c.key for c in FIXED if c.required and c.key != CATEGORY_KEY)


def _attribute_column(attr: Attribute) -> Column:
    return Column(ATTR_PREFIX + attr.id, attr.label, attr.type, attr.required, attr, width=18)


def columns_for(category: Category) -> list[Column]:
    """The columns of a category's sheet: the fixed ones, its attribute template, then the product ID."""
    return [*FIXED, *(_attribute_column(a) for a in category.attributes), ID_COLUMN]


def _lang(lang: str) -> str:
    return "en" if (lang or "").lower().startswith("en") else "zh"


def _hkey(text: str) -> str:
    """A heading's matching key: NFKC, case-folded, without spaces and without the trailing ``*``."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", "", text).rstrip("*").rstrip()


def _fixed_aliases() -> dict[str, str]:
    index: dict[str, str] = {}
    for column in (*FIXED, ID_COLUMN):
        names = (column.key, column.label.zh, column.label.en, column.heading("zh"), column.heading("en"))
        for name in (*names, *column.aliases):
            index.setdefault(_hkey(name), column.key)
    return index


_FIXED_INDEX = _fixed_aliases()


def _attribute_aliases(template: Iterable[Attribute]) -> dict[str, str]:
    index: dict[str, str] = {}
    ambiguous: set[str] = set()
    for attr in template:
        column = _attribute_column(attr)
        names = (attr.label.zh, attr.label.en, column.heading("zh"), column.heading("en"))
        for name in names:
            key = _hkey(name)
            if index.setdefault(key, column.key) != column.key:
                ambiguous.add(key)
    for key in ambiguous:
        index.pop(key, None)
    return index


_COMPACT_KEYS = {re.sub(r"[\s_\-]", "", key): key for key in FIXED_KEYS}


def _resolve_key(text: str) -> str | None:
    """A heading given as a machine key: a fixed key (``tier1 price`` = ``tier1_price``) or ``attr:<id>``
    (``attr-<id>`` as the product form names it)."""
    key = _hkey(text)
    fixed = _COMPACT_KEYS.get(re.sub(r"[\s_\-]", "", key))
    if fixed is not None:
        return fixed
    match = re.fullmatch(r"attr[:\-_]([a-z][a-z0-9_]{0,39})", key)
    return ATTR_PREFIX + match[1] if match else None


def _resolve_fixed(text: str) -> str | None:
    key = _hkey(text)
    found = _resolve_key(text) or _FIXED_INDEX.get(key)
    if found is None:
        stripped = _hkey(_PARENTHETICAL.sub("", unicodedata.normalize("NFKC", text).strip().rstrip("*").strip()))
        found = _FIXED_INDEX.get(stripped) if stripped != key else None
    return found


def _resolve_attribute(text: str, index: dict[str, str], template_ids: set[str]) -> str | None:
    key = _hkey(text)
    found = index.get(key)
    if found is None:
        stripped = _hkey(_PARENTHETICAL.sub("", unicodedata.normalize("NFKC", text).strip().rstrip("*").strip()))
        found = index.get(stripped)
    if found is None and key in template_ids:  # the bare attribute id
        found = ATTR_PREFIX + key
    return found


# --- categories ------------------------------------------------------------------------------------------------------


def _path_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    return re.sub(r"\s+", "", _PATH_SEPARATORS.sub("›", text))


def category_label(category: Category, lang: str) -> str:
    """The readable path of a category, e.g. ``真丝面料 › 双绉`` (the industry is not repeated)."""
    return " › ".join(step.label.get(lang) for step in default_catalog().path(category.slug))


@functools.cache
def _category_index() -> dict[str, str]:
    """Readable names of the leaf categories -> slug (names shared by two categories are left out)."""
    catalog = default_catalog()
    index: dict[str, str] = {}
    ambiguous: set[str] = set()
    for category in catalog.leaves():
        industry = catalog.industry(category.industry).label
        names = [category_label(category, "zh"), category_label(category, "en")]
        names += [f"{industry.zh} › {names[0]}", f"{industry.en} › {names[1]}", category.label.zh]
        names.append(category.label.en)
        for name in names:
            key = _path_key(name)
            if index.setdefault(key, category.slug) != category.slug:
                ambiguous.add(key)
    for key in ambiguous:
        index.pop(key, None)
    return index


def category_cell(category: Category, lang: str) -> str:
    """What the export and the drop-down list write for a category: its readable path when that is unambiguous."""
    for text in (category_label(category, lang), category.slug):
        found = resolve_category(text)
        if found is not None and found.slug == category.slug:
            return text
    return category.slug


def resolve_category(text: str) -> Category | None:
    """A category cell: the slug, or the readable path (or leaf name when unique) in Chinese or English."""
    catalog = default_catalog()
    text = text.strip()
    found = catalog.get(text)
    if found is not None:
        return found
    slug = _category_index().get(_path_key(text))
    return catalog.get(slug) if slug else None
