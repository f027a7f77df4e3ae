"""Bulk import and export of a supplier's catalogue: XLSX templates per category, CSV/XLSX import, XLSX export.

The file format is described in docs/bulk-import.md. In short, a data sheet (or a CSV file) has a row of machine keys
(``sku``, ``title_zh``, ``attr:momme`` …; hidden in our workbooks), a row of readable headings (Chinese or English,
with units) and one product per row below them. Either heading row alone is enough: every column is recognised by its
key, its Chinese or English heading (with or without the unit and the ``*`` of required columns) or an alias. The
category comes from the row's ``category_slug`` cell, or, when that is empty, from the sheet's default written in the
key row (``category_slug <slug>``).

Import is all-or-nothing: every row is cleaned by ``services.clean`` (the rules of the product form) and checked for
SKU conflicts first; only a file without a single error is written, inside a savepoint, through
``services.save_product``. ``run_import`` never commits: after a successful write (``report.committed``) the caller
commits; after a dry run or any error it must not (the view rolls back).

Workbook contents (headings, instructions, drop-down lists) are data in the chosen language (``zh`` or ``en``), like
the catalogue's own labels; the messages of the import report are translated with gettext.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from time import monotonic
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from saas.core.audit import record_event
from saas.market import services, xlsx
from saas.market.labels import ATTRIBUTE_FALLBACK, IMPORT_ERRORS, PRODUCT_ERRORS
from saas.marketplace.attributes import format_number
from saas.marketplace.catalog import Attribute, Category, Label, default_catalog, lookup_key
from saas.models import Firm, Product, User

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # when there is no app config (config.IMPORT_MAX_BYTES)
DEFAULT_MAX_ROWS = 20_000  # config.IMPORT_MAX_ROWS
DEFAULT_MAX_COLUMNS = 200  # config.IMPORT_MAX_COLUMNS; the widest template has under 50
DEFAULT_MAX_UNPACKED = 32 * 1024 * 1024  # config.IMPORT_MAX_UNPACKED_BYTES: an XLSX's members, declared sizes
DEFAULT_MAX_RATIO = 100  # config.IMPORT_MAX_RATIO: declared : compressed size of a member over 1 MB
DEFAULT_TIME_LIMIT_S = 30.0  # config.IMPORT_TIME_LIMIT_S: reading and checking one file
FLUSH_BATCH = 500  # products written per flush
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


# --- the report ------------------------------------------------------------------------------------------------------


@dataclass
class RowError:
    """One problem: ``row`` is the spreadsheet row number (0 for the whole file or sheet)."""

    row: int
    column: str  # the heading as it reads in the file (or the template's heading), "" for the whole row or file
    code: str
    message: str
    sheet: str = ""
    key: str = ""  # the column's machine key
    letter: str = ""  # the spreadsheet column letter


@dataclass
class ImportReport:
    """The outcome of ``run_import``. In a dry run ``created``/``updated``/``submitted`` are what would happen."""

    filename: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    submitted: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False  # rows were written (flushed); the caller commits
    sheets: list[tuple[str, str]] = field(default_factory=list)  # (sheet name, default category slug or "")

    @property
    def file_errors(self) -> list[RowError]:
        """Problems with the file or a whole sheet (nothing was checked row by row)."""
        return [e for e in self.errors if e.row == 0]

    @property
    def rows_with_errors(self) -> int:
        return len({(e.sheet, e.row) for e in self.errors if e.row > 0})

    def errors_by_column(self) -> list[tuple[str, int]]:
        """How many errors each column has, most first."""
        counts = Counter(e.column or "—" for e in self.errors if e.row > 0)
        return counts.most_common()


class FileRejected(Exception):
    """The file cannot be imported at all; ``code`` is a key of ``IMPORT_ERRORS``."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class ImportLimits:
    """What one file may cost: bytes, rows, columns, unpacked size and compression of a workbook, and time."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_unpacked: int = DEFAULT_MAX_UNPACKED
    max_ratio: int = DEFAULT_MAX_RATIO
    time_limit_s: float = DEFAULT_TIME_LIMIT_S

    @classmethod
    def from_config(cls) -> ImportLimits:
        """The limits of the current app (``IMPORT_*`` settings), or the defaults outside an app."""
        from flask import current_app, has_app_context

        if not has_app_context():
            return cls()
        config = current_app.config
        return cls(
            max_bytes=config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES),
            max_rows=config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS),
            max_columns=config.get("IMPORT_MAX_COLUMNS", DEFAULT_MAX_COLUMNS),
            max_unpacked=config.get("IMPORT_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED),
            max_ratio=config.get("IMPORT_MAX_RATIO", DEFAULT_MAX_RATIO),
            time_limit_s=float(config.get("IMPORT_TIME_LIMIT_S", DEFAULT_TIME_LIMIT_S)),
        )


class Deadline:
    """The time one import may take to read and check its file; ``check()`` raises FileRejected("too_slow") after."""

    def __init__(self, seconds: float, clock: Any = None) -> None:
        self.seconds, self.clock = seconds, clock or monotonic
        self.at = self.clock() + seconds

    def check(self) -> None:
        if self.clock() >= self.at:
            raise FileRejected("too_slow", s=format_number(Decimal(str(self.seconds))))


def message_for(code: str, params: dict[str, Any] | None = None, attr: Attribute | None = None) -> str:
    """The localised message of an error code, with the attribute's allowed values or range when they help."""
    template = IMPORT_ERRORS.get(code) or PRODUCT_ERRORS.get(code) or ATTRIBUTE_FALLBACK
    text = str(template) % params if params else str(template)
    if attr is not None:
        allowed = _allowed(attr, code)
        if allowed:
            text += " " + str(IMPORT_ERRORS["allowed"]) % {"values": allowed}
    return text


def _allowed(attr: Attribute, code: str) -> str:
    from flask_babel import get_locale

    locale = get_locale()
    lang = "en" if locale is not None and locale.language == "en" else "zh"
    if attr.type in ("enum", "multi_enum") and code in ("unknown_option", "not_single", "too_many"):
        labels = [opt.label.get(lang) for opt in attr.options]
        shown = labels[:12] + (["…"] if len(labels) > 12 else [])
        text = "、".join(shown) if lang == "zh" else ", ".join(shown)
        if code == "too_many" and attr.max_choices:
            text = f"≤ {attr.max_choices}: {text}"
        return text
    if attr.type == "number" and code in ("below_min", "above_max", "step", "bad_unit", "not_a_number"):
        unit = f" {attr.unit.label.get(lang)}" if attr.unit is not None else ""
        low = format_number(attr.min) if attr.min is not None else ""
        high = format_number(attr.max) if attr.max is not None else ""
        text = f"{low}–{high}{unit}" if low or high else unit.strip()
        if code == "step" and attr.step is not None:
            text += f" (× {format_number(attr.step)})"
        return text
    if attr.type == "text" and code == "too_long" and attr.max_length:
        return f"≤ {attr.max_length}"
    return ""


# --- reading files ---------------------------------------------------------------------------------------------------


@dataclass
class RawSheet:
    name: str  # "" for a CSV file
    rows: list[tuple[int, list[Any]]]  # (row number, cell values), blank rows left out


_MAGIC = (
    (b"\x89PNG", "bad_type"),
    (b"\xff\xd8\xff", "bad_type"),
    (b"GIF8", "bad_type"),
    (b"%PDF", "bad_type"),
    (b"\xd0\xcf\x11\xe0", "old_xls"),
    (b"Rar!", "bad_type"),
    (b"7z\xbc\xaf", "bad_type"),
    (b"\x1f\x8b", "bad_type"),
    (b"RIFF", "bad_type"),
    (b"BM", "bad_type"),
)


def read_file(data: bytes, limits: ImportLimits, deadline: Deadline) -> list[RawSheet]:
    """Decide the file type by content and return its sheets; raise FileRejected with a reason code."""
    if not data or not data.strip():
        raise FileRejected("empty")
    if len(data) > limits.max_bytes:
        raise FileRejected("too_large", mb=_megabytes(limits.max_bytes))
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, limits, deadline)
    for magic, code in _MAGIC:
        if data.startswith(magic):
            raise FileRejected(code)
    return [_read_csv(data, limits, deadline)]


def _megabytes(n: int) -> str:
    return format_number(Decimal(n) / (1024 * 1024))


def _row_cap(max_rows: int) -> int:
    return 2 * max_rows + 1000  # rows read from one sheet (blank ones included) before giving up


def _read_xlsx(data: bytes, limits: ImportLimits, deadline: Deadline) -> list[RawSheet]:
    """The workbook's visible data sheets, read by ``saas.market.xlsx`` within the limits (checked before parsing)."""
    bounds = xlsx.Limits(
        max_unpacked=limits.max_unpacked,
        max_ratio=limits.max_ratio,
        max_columns=limits.max_columns,
        max_row=_row_cap(limits.max_rows),
    )
    try:
        sheets = xlsx.read_workbook(
            data, bounds, tick=deadline.check, skip=lambda name: name in (INSTRUCTIONS.zh, INSTRUCTIONS.en)
        )
    except xlsx.WorkbookRefused as exc:
        params = dict(exc.params)
        if exc.code == "unpacked_too_large":
            params.update(mb=_megabytes(limits.max_unpacked), ratio=limits.max_ratio)
        elif exc.code == "too_many_rows":
            params["n"] = limits.max_rows
        raise FileRejected(exc.code, **params) from None
    return [RawSheet(sheet.name, sheet.rows) for sheet in sheets]


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRejected("bad_encoding")


def _read_csv(data: bytes, limits: ImportLimits, deadline: Deadline) -> RawSheet:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRejected("bad_type")
    text = decode_text(data)
    head = text.lstrip()[:1]
    if head in ("<", "{", "["):  # SVG, HTML, XML or JSON, whatever the name says
        raise FileRejected("bad_type")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text[:4096]):
        raise FileRejected("bad_type")
    first_line = text[: text.find("\n") if "\n" in text else len(text)].strip()
    offset = 0
    match = re.fullmatch(r"sep=(.)", first_line)
    if match:  # Excel's delimiter hint line
        delimiter, offset, text = match[1], 1, text.split("\n", 1)[1] if "\n" in text else ""
    else:
        delimiter = _delimiter(text)
    rows: list[tuple[int, list[Any]]] = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1 + offset):
            if number > _row_cap(limits.max_rows):
                raise FileRejected("too_many_rows", n=limits.max_rows)
            if len(cells) > limits.max_columns and any(c.strip() for c in cells[limits.max_columns :]):
                raise FileRejected("too_many_columns", n=limits.max_columns)
            if any(c.strip() for c in cells):
                rows.append((number, list(cells[: limits.max_columns])))
            if number % 256 == 0:
                deadline.check()
    except csv.Error:
        raise FileRejected("bad_csv") from None
    return RawSheet("", rows)


def _delimiter(text: str) -> str:
    """The delimiter (comma, tab or semicolon) that splits the first lines into the most fields, quotes respected."""
    sample = "\n".join(text[:65536].splitlines()[:5])
    best, most = ",", 1
    for candidate in (",", "\t", ";"):
        try:
            fields = max((len(r) for r in csv.reader(io.StringIO(sample), delimiter=candidate)), default=0)
        except csv.Error:
            continue
        if fields > most:
            best, most = candidate, fields
    return best


def _cell_text(value: Any) -> str:
    """A cell value as the text a form would send (numbers without exponent or trailing zeros)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        try:
            return format_number(value)
        except (InvalidOperation, ValueError, OverflowError):
            return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


# --- mapping headings ------------------------------------------------------------------------------------------------


@dataclass
class _Layout:
    """The columns of one sheet: index -> key, with the file's headings and letters for messages."""

    sheet: str
    keys: dict[int, str]
    labels: dict[str, str]
    letters: dict[str, str]
    default_category: Category | None
    first_data_row: int


def _fixed_matches(cells: Sequence[Any]) -> int:
    return sum(1 for v in cells if (t := _cell_text(v)) and _resolve_fixed(t) is not None)


def _layout(raw: RawSheet, report: ImportReport) -> _Layout | None:
    """Find the heading rows of a sheet and map its columns; report file-level problems. None: not a data sheet."""
    head = [(n, cells) for n, cells in raw.rows if n <= HEADER_SCAN_ROWS]
    header_rows = [(n, cells) for n, cells in head if _fixed_matches(cells) >= 3]
    if not header_rows:
        return None
    first = header_rows[0]
    rows = [first]
    following = next(((n, c) for n, c in header_rows[1:] if n == first[0] + 1), None)
    if following is not None:
        rows.append(following)
    width = max(len(c) for _n, c in rows)
    default: Category | None = None
    default_text = ""
    texts: dict[int, list[str]] = {}
    for index in range(width):
        texts[index] = [_cell_text(c[index]) if index < len(c) else "" for _n, c in rows]
        for text in texts[index]:
            match = re.fullmatch(r"(?:category_slug|category)\s+(\S.*)", text, re.I)
            if match:
                texts[index] = [CATEGORY_KEY if t == text else t for t in texts[index]]
                default_text = match[1].strip()
    sheet = raw.name
    if default_text:
        default = resolve_category(default_text)
        if default is None or not default.is_leaf:
            _file_error(report, sheet, "unknown_category" if default is None else "not_a_leaf", CATEGORY_KEY)
            return None
    # categories named in the rows help to read attribute headings given as labels
    category_columns = [i for i, t in texts.items() if any(_resolve_fixed(x) == CATEGORY_KEY for x in t if x)]
    templates: dict[str, Attribute] = {}
    named = [default] if default is not None else []
    last_header = rows[-1][0]
    for column in category_columns[:1]:
        seen: set[str] = set()
        for n, cells in raw.rows:
            if n > last_header and column < len(cells):
                text = _cell_text(cells[column])
                if text and text not in seen and len(seen) < 50:
                    seen.add(text)
                    category = resolve_category(text)
                    if category is not None and category.is_leaf:
                        named.append(category)
    for category in named:
        for attr in category.attributes:
            templates.setdefault(attr.id, attr)
    attr_index = _attribute_aliases(templates.values())
    keys: dict[int, str] = {}
    labels: dict[str, str] = {}
    letters: dict[str, str] = {}
    problems = False
    template_ids = set(templates)
    for index in range(width):
        present = [t for t in texts[index] if t]
        if any(t.startswith("#") for t in present):
            continue  # a comment column of the supplier's own
        shown = next((t for t in present if _resolve_key(t) is None), present[0] if present else "")
        found = next((k for t in present if (k := _resolve_key(t))), None)  # a machine key wins over a heading
        if found is None:
            found = next(
                (k for t in present if (k := _resolve_fixed(t) or _resolve_attribute(t, attr_index, template_ids))),
                None,
            )
        if found is None:
            if shown:
                _file_error(report, sheet, "unknown_column", "", column=shown, letter=get_column_letter(index + 1))
                problems = True
            continue
        if found in letters:
            _file_error(report, sheet, "duplicate_column", found, column=shown, letter=get_column_letter(index + 1))
            problems = True
            continue
        keys[index] = found
        readable = [t for t in texts[index] if t and _resolve_key(t) is None]
        labels[found] = readable[0] if readable else _default_label(found)
        letters[found] = get_column_letter(index + 1)
    required = list(REQUIRED_FIXED)
    if default is not None:
        required += [ATTR_PREFIX + a.id for a in default.attributes if a.required]
    if CATEGORY_KEY not in letters and default is None:
        required.insert(0, CATEGORY_KEY)
    missing = [key for key in required if key not in letters]
    if missing:
        names = "、".join(_default_label(key) for key in missing)
        _file_error(report, sheet, "missing_columns", "", columns=names)
        problems = True
    if problems:
        return None
    return _Layout(sheet, keys, labels, letters, default, last_header + 1)


def _default_label(key: str) -> str:
    return _label_of(key, _ui_lang())


@functools.cache
def _label_of(key: str, lang: str) -> str:
    for column in (*FIXED, ID_COLUMN):
        if column.key == key:
            return column.label.get(lang)
    if key.startswith(ATTR_PREFIX):
        for category in default_catalog().leaves():
            for attr in category.attributes:
                if attr.id == key[len(ATTR_PREFIX) :]:
                    return attr.label.get(lang)
    return key


def _file_error(report: ImportReport, sheet: str, code: str, key: str, letter: str = "", **params: Any) -> None:
    column = params.get("column", "") if code in ("unknown_column", "duplicate_column") else ""
    report.errors.append(RowError(0, column, code, message_for(code, params), sheet, key, letter))


# --- validating rows -------------------------------------------------------------------------------------------------


@dataclass
class _Row:
    layout: _Layout
    number: int
    cells: dict[str, str]
    category: Category | None = None
    cleaned: services.Cleaned | None = None
    product: Product | None = None
    ok: bool = True

    @property
    def where(self) -> str:
        return f"{self.layout.sheet}!{self.number}" if self.layout.sheet else str(self.number)


def _flag(text: str) -> bool | None:
    key = lookup_key(text)
    if not key or key in _FALSE:
        return False
    if key in _TRUE:
        return True
    return None


def _sale_unit(text: str, category: Category) -> str:
    key = lookup_key(text)
    for unit in default_catalog().sale_units_for(category.slug):
        if key in (lookup_key(unit.id), lookup_key(unit.label.zh), lookup_key(unit.label.en)):
            return unit.id
    return text


def _input(row: _Row, category: Category) -> tuple[services.ProductInput, list[tuple[str, str]]]:
    """The product-form input of a row, and the row's own problems (flags, attributes of another category)."""
    cells = row.cells
    problems: list[tuple[str, str]] = []
    flags = {}
    for key in ("price_on_request", "samples_available"):
        value = _flag(cells.get(key, ""))
        if value is None:
            problems.append((key, "bad_flag"))
        flags[key] = bool(value)
    template_ids = {a.id for a in category.attributes}
    attributes: dict[str, Any] = {}
    for key, text in cells.items():
        if key.startswith(ATTR_PREFIX) and text:
            attr_id = key[len(ATTR_PREFIX) :]
            if attr_id in template_ids:
                attributes[attr_id] = text
            else:
                problems.append((key, "unknown_attribute"))
    data = services.ProductInput(
        category_slug=category.slug,
        sku=cells.get("sku", ""),
        title_zh=cells.get("title_zh", ""),
        title_en=cells.get("title_en", ""),
        description_zh=cells.get("description_zh", ""),
        description_en=cells.get("description_en", ""),
        sale_unit=_sale_unit(cells.get("sale_unit", ""), category),
        moq=cells.get("moq", ""),
        order_multiple=cells.get("order_multiple", "") or "1",
        tiers=[(cells.get(f"tier{n}_qty", ""), cells.get(f"tier{n}_price", "")) for n in (1, 2, 3)],
        price_on_request=flags["price_on_request"],
        samples_available=flags["samples_available"],
        lead_time_days=cells.get("lead_time_days", ""),
        attributes=attributes,
    )
    return data, problems


def _clean_key(name: str, code: str) -> str:
    """The column of a ``services.clean`` error field."""
    if name.startswith("attr-"):
        return ATTR_PREFIX + name[5:]
    match = re.fullmatch(r"tier(\d)", name)
    if match:
        n = int(match[1]) + 1
        return f"tier{n}_price" if code in ("price_needed", "tier_price_bounds") else f"tier{n}_qty"
    return CATEGORY_KEY if name == "category_slug" else name


def _add_error(report: ImportReport, row: _Row, key: str, code: str, **params: Any) -> None:
    row.ok = False
    attr = None
    if key.startswith(ATTR_PREFIX) and row.category is not None:
        attr = next((a for a in row.category.attributes if a.id == key[len(ATTR_PREFIX) :]), None)
    layout = row.layout
    column = layout.labels.get(key) or _default_label(key)
    message = message_for(code, params or None, attr)
    report.errors.append(RowError(row.number, column, code, message, layout.sheet, key, layout.letters.get(key, "")))


def _same_value(product: Product, cleaned: services.Cleaned) -> bool:
    """Whether writing ``cleaned`` would leave ``product`` as it is (numbers compared as numbers)."""
    values = cleaned.values
    plain = ("category_slug", "sku", "title_zh", "title_en", "description_zh", "description_en", "sale_unit")
    plain += ("price_on_request", "samples_available", "lead_time_days")
    if any(getattr(product, name) != values[name] for name in plain):
        return False
    if any(Decimal(getattr(product, name)) != values[name] for name in ("moq", "order_multiple")):
        return False

    def tiers(items: list[dict[str, str]]) -> list[tuple[Decimal, Decimal]]:
        return [(Decimal(t["min_qty"]), Decimal(t["price"])) for t in items]

    return tiers(product.price_tiers or []) == tiers(values["price_tiers"]) and product.attributes == cleaned.attributes


@dataclass
class _Existing:
    by_id: dict[uuid.UUID, Product] = field(default_factory=dict)  # the firm's products the file names
    by_sku: dict[str, Product] = field(default_factory=dict)
    owners: dict[str, uuid.UUID] = field(default_factory=dict)  # every SKU of the firm -> its product


def _existing(dbs: Session, firm: Firm, skus: set[str], ids: set[uuid.UUID]) -> _Existing:
    """The firm's products named by the file: one query for (id, SKU) pairs, then one per 500 named products."""
    found = _Existing()
    if not skus and not ids:
        return found
    pairs = dbs.execute(select(Product.id, Product.sku).where(Product.firm_id == firm.id)).all()
    wanted = [pid for pid, sku in pairs if pid in ids or (sku is not None and sku in skus)]
    for start in range(0, len(wanted), 500):
        stmt = select(Product).where(Product.firm_id == firm.id, Product.id.in_(wanted[start : start + 500]))
        found.by_id.update({p.id: p for p in dbs.scalars(stmt).unique()})
    found.by_sku = {p.sku: p for p in found.by_id.values() if p.sku}
    found.owners = {sku: pid for pid, sku in pairs if sku is not None}
    return found


def run_import(
    dbs: Session, firm: Firm, actor: User, filename: str, data: bytes, *, dry_run: bool, submit: bool = False
) -> ImportReport:
    """Check (``dry_run``) or import a CSV or XLSX file of products into ``firm``'s catalogue, all or nothing.

    Every row is cleaned like the product form; a row with the SKU (or product ID) of one of the firm's products
    updates it through ``save_product`` (a published product goes back to review), any other row creates a draft;
    ``submit`` sends the file's drafts and rejected products to review. Nothing is written when ``dry_run`` is set or
    any row has an error. When rows are written (inside a savepoint; a failed write is rolled back and reported)
    ``report.committed`` is True and **the caller commits**; otherwise the caller must not commit.
    """
    report = ImportReport(filename=filename, dry_run=dry_run)
    limits = ImportLimits.from_config()
    max_rows = limits.max_rows
    deadline = Deadline(limits.time_limit_s)
    try:
        raw_sheets = read_file(data, limits, deadline)
    except FileRejected as exc:
        _file_error(report, "", exc.code, "", **exc.params)
        return report
    rows: list[_Row] = []
    data_sheets = 0
    for raw in raw_sheets:
        layout = _layout(raw, report)
        if layout is None:
            continue
        data_sheets += 1
        report.sheets.append((raw.name, layout.default_category.slug if layout.default_category else ""))
        for number, values in raw.rows:
            if number < layout.first_data_row:
                continue
            cells = {}
            for index, key in layout.keys.items():
                cells[key] = _cell_text(values[index]) if index < len(values) else ""
            if not any(v for k, v in cells.items() if k != CATEGORY_KEY):
                continue  # blank, or only the category filled down
            rows.append(_Row(layout, number, cells))
            if len(rows) > max_rows:
                _file_error(report, "", "too_many_rows", "", n=max_rows)
                return report
    if data_sheets == 0 and not report.errors:
        _file_error(report, "", "no_headers", "")
    if report.errors:
        return report
    if not rows:
        _file_error(report, "", "no_rows", "")
        return report
    report.rows = len(rows)
    try:
        _validate(dbs, firm, rows, report, submit, deadline)
    except FileRejected as exc:
        report.errors.clear()
        report.created = report.updated = report.unchanged = report.submitted = 0
        _file_error(report, "", exc.code, "", **exc.params)
        return report
    if report.errors:
        report.created = report.updated = report.unchanged = report.submitted = 0
        return report
    if dry_run:
        return report
    try:
        with dbs.begin_nested():
            _write(dbs, firm, actor, rows, submit, report)
    except (SQLAlchemyError, PermissionError, ValueError):
        report.created = report.updated = report.unchanged = report.submitted = 0
        _file_error(report, "", "write_failed", "")
        return report
    report.committed = True
    return report


def _validate(
    dbs: Session, firm: Firm, rows: list[_Row], report: ImportReport, submit: bool, deadline: Deadline
) -> None:
    """Clean every row, find its product (by ID, then SKU) and count what would happen; errors go to the report.

    :raises FileRejected: ``too_slow`` when ``deadline`` passes (checked every 100 rows).
    """
    skus: dict[str, list[_Row]] = defaultdict(list)
    ids: dict[uuid.UUID, list[_Row]] = defaultdict(list)
    for row in rows:
        sku = services.normalise_sku(row.cells.get("sku", ""))
        if sku:
            skus[sku].append(row)
        text = row.cells.get(ID_KEY, "")
        if text:
            try:
                ids[uuid.UUID(text)].append(row)
            except ValueError:
                row.cells[ID_KEY] = "invalid"
    existing = _existing(dbs, firm, set(skus), set(ids))
    targets: dict[uuid.UUID, list[_Row]] = defaultdict(list)
    for index, row in enumerate(rows):
        if index % 100 == 0:
            deadline.check()
        category_text = row.cells.get(CATEGORY_KEY, "")
        category = resolve_category(category_text) if category_text else row.layout.default_category
        if category is None:
            _add_error(report, row, CATEGORY_KEY, "unknown_category" if category_text else "category_required")
            continue
        if not category.is_leaf:
            _add_error(report, row, CATEGORY_KEY, "not_a_leaf")
            continue
        row.category = category
        data, problems = _input(row, category)
        for key, code in problems:
            _add_error(report, row, key, code)
        cleaned = services.clean(data)
        row.cleaned = cleaned
        for name, code in cleaned.errors.items():
            _add_error(report, row, _clean_key(name, code), code)
        sku = cleaned.values.get("sku") if "sku" not in cleaned.errors else None
        if sku and len(skus.get(sku, ())) > 1:
            _add_error(report, row, "sku", "duplicate_sku", rows=_rows_text(skus[sku], row))
            continue
        product: Product | None = None
        id_text = row.cells.get(ID_KEY, "")
        if id_text:
            pid = None if id_text == "invalid" else uuid.UUID(id_text)
            if pid is not None and len(ids[pid]) > 1:
                _add_error(report, row, ID_KEY, "duplicate_id", rows=_rows_text(ids[pid], row))
                continue
            product = existing.by_id.get(pid) if pid is not None else None
            if product is None:
                _add_error(report, row, ID_KEY, "unknown_id")
                continue
            if sku and existing.owners.get(sku, product.id) != product.id:
                _add_error(report, row, "sku", "sku_taken")
                continue
        elif sku:
            product = existing.by_sku.get(sku)
        if product is not None:
            if product.status == "archived":
                _add_error(report, row, ID_KEY if id_text else "sku", "archived")
                continue
            if product.category_slug != category.slug:
                other = default_catalog().get(product.category_slug)
                name = category_label(other, _ui_lang()) if other is not None else product.category_slug
                _add_error(report, row, "sku" if not id_text else ID_KEY, "other_category", category=name)
                continue
            targets[product.id].append(row)
        row.product = product
    for same in targets.values():
        if len(same) > 1:
            for row in same:
                _add_error(
                    report, row, ID_KEY if row.cells.get(ID_KEY) else "sku", "same_product", rows=_rows_text(same, row)
                )
    for row in rows:
        if not row.ok or row.cleaned is None:
            continue
        if row.product is None:
            report.created += 1
            status = "draft"
        elif _same_value(row.product, row.cleaned):
            report.unchanged += 1
            status = row.product.status
        else:
            report.updated += 1
            status = "pending" if row.product.status == "published" else row.product.status
        if submit and status in ("draft", "rejected"):
            report.submitted += 1
    order = {name: index for index, (name, _slug) in enumerate(report.sheets)}
    report.errors.sort(key=lambda e: (order.get(e.sheet, -1), e.row))


def _ui_lang() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def _rows_text(rows: list[_Row], current: _Row) -> str:
    others = [r.where for r in rows if r is not current]
    return ", ".join(others[:5]) + (" …" if len(others) > 5 else "")


def _write(dbs: Session, firm: Firm, actor: User, rows: list[_Row], submit: bool, report: ImportReport) -> None:
    report.created = report.updated = report.unchanged = report.submitted = 0
    for start in range(0, len(rows), FLUSH_BATCH):
        batch: list[Product] = []
        for row in rows[start : start + FLUSH_BATCH]:
            assert row.cleaned is not None
            product = row.product
            if product is not None and _same_value(product, row.cleaned):
                report.unchanged += 1
            else:
                product = services.save_product(dbs, firm, actor, product, row.cleaned, flush=False)
                if row.product is None:
                    report.created += 1
                else:
                    report.updated += 1
            batch.append(product)
        dbs.flush()  # new products get their ids here
        for product in batch:
            if submit and product.status in ("draft", "rejected"):
                services.submit_for_review(dbs, firm, actor, product)
                report.submitted += 1
    record_event(
        dbs,
        actor,
        "product.bulk_imported",
        subject_firm_id=firm.id,
        rows=report.rows,
        created=report.created,
        updated=report.updated,
        submitted=report.submitted,
    )
    dbs.flush()


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
