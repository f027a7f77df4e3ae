"""Read an import file (CSV or XLSX, within the limits) into raw sheets and map its headings to columns."""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils import get_column_letter

from saas.marketplace.bulk import xlsx
from saas.marketplace.bulk.columns import (
    ATTR_PREFIX,
    CATEGORY_KEY,
    FIXED,
    HEADER_SCAN_ROWS,
    ID_COLUMN,
    INSTRUCTIONS,
    REQUIRED_FIXED,
    _attribute_aliases,
    _resolve_attribute,
    _resolve_fixed,
    _resolve_key,
    resolve_category,
)
from saas.marketplace.bulk.report import Deadline, FileRejected, ImportLimits, ImportReport, RowError, message_for
from saas.marketplace.catalog import Attribute, Category, default_catalog
from saas.marketplace.catalog.attributes import format_number
from saas.web.lang import ui_lang

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
    """The workbook's visible data sheets, read by ``bulk.xlsx`` within the limits (checked before parsing)."""
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
    return _label_of(key, ui_lang())


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
