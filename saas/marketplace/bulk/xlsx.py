"""A streaming, bounded reader of the cell values of an XLSX workbook, for bulk imports.

openpyxl's read-only mode spends tens of µs of Python per cell (a 20,000-row template took over 20 s on the test
machine, 2.7 times as long as this reader) and pads every row to its last column, so a 200 KB file with one cell in
column XFD on each row held an import worker for minutes. This reader parses each part with the C-accelerated
``XMLPullParser`` after a DTD check (no DTD, hence no entities: see ``_parse``), converts only what an import needs
(shared and inline strings, numbers, booleans, errors, cached formula results, dates by their number format) and
enforces the limits while it reads:

* before parsing, from the zip's central directory: at most ``max_members`` members, a declared total of at most
  ``max_unpacked`` bytes, and no member over 1 MB that compresses better than ``max_ratio`` : 1 (zipfile itself stops
  a member at its declared size, so a lying header cannot unpack more);
* while parsing: rows numbered beyond ``max_row``, a value beyond column ``max_columns``, and the caller's ``tick``
  (the import's deadline), called every 256 rows.

The result is the same as ``openpyxl.load_workbook(read_only=True, data_only=True)`` for the files we read: tested
against openpyxl on our templates and exports (tests/test_import_limits.py).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from xml.etree.ElementTree import XMLPullParser

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_C, _V, _ROW, _IS, _T, _R, _SI = (MAIN + t for t in ("c", "v", "row", "is", "t", "r", "si"))
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
TICK_ROWS = 256


class WorkbookRefused(Exception):
    """The workbook is refused before or while it is read; ``code`` is a key of ``IMPORT_ERRORS``."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Limits:
    max_unpacked: int  # bytes, the sum of the members' declared sizes
    max_ratio: int  # declared size : compressed size, for members over 1 MB
    max_columns: int  # the last column that may hold a value
    max_row: int  # the last row number that may appear
    max_members: int = 1000


@dataclass
class Sheet:
    name: str
    rows: list[tuple[int, list[Any]]]  # (row number, values up to the last one that is set), blank rows left out


def check_archive(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse, from the central directory alone, a zip that would unpack to too much or compresses like a bomb."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise WorkbookRefused("unpacked_too_large")
    if sum(info.file_size for info in members) > limits.max_unpacked:
        raise WorkbookRefused("unpacked_too_large")
    for info in members:
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise WorkbookRefused("unpacked_too_large")


def _column(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _text(element: Any) -> str:
    """The text of a string item (``<si>`` or ``<is>``): its ``<t>``, or its runs' ``<t>``; phonetic runs left out."""
    direct = element.find(_T)
    if direct is not None:
        return (direct.text or "").replace("x005F_", "")
    return "".join((run.findtext(_T) or "") for run in element.iter(_R)).replace("x005F_", "")


_ROOT_START = re.compile(rb"<[A-Za-z_]")
CHUNK = 64 * 1024


class _DtdRefused(ValueError):
    """A part declares a DTD (the only place entities can be declared): refused, never expanded."""


def _parse(source: IO[bytes]) -> Iterator[Any]:
    """The elements of an XML part as they end, parsed by the C-accelerated ``XMLPullParser``.

    A DTD may only stand in the prolog, before the root element, and entities can only be declared in one; a part
    whose prolog holds ``<!DOCTYPE`` or ``<!ENTITY`` is refused (defusedxml's rule, without its pure-Python parser,
    which is 2-3 times slower), and expat refuses a reference to an undeclared entity by itself.
    """
    head = source.read(CHUNK)
    root = _ROOT_START.search(head)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or root is None:
        raise _DtdRefused("no UTF-8 root element in the first 64 KB")
    if b"<!DOCTYPE" in head[: root.start()] or b"<!ENTITY" in head[: root.start()]:
        raise _DtdRefused("DTD")
    parser = XMLPullParser(events=("end",))
    chunk = head
    while chunk:
        parser.feed(chunk)
        for _event, element in parser.read_events():
            yield element
        chunk = source.read(CHUNK)
    parser.close()
    for _event, element in parser.read_events():
        yield element


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """``Id -> (type, member path)`` of a part's relationships."""
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    if rels_path not in archive.namelist():
        return {}
    found = {}
    with archive.open(rels_path) as source:
        for element in _parse(source):
            if element.tag == PKG_REL + "Relationship":
                target = element.get("Target", "")
                if target.startswith("/"):
                    path = target.lstrip("/")
                else:
                    path = posixpath.normpath(posixpath.join(folder, target))
                found[element.get("Id", "")] = (element.get("Type", "").rsplit("/", 1)[-1], path)
    return found


def _shared_strings(archive: zipfile.ZipFile, path: str | None) -> list[str]:
    if not path or path not in archive.namelist():
        return []
    strings = []
    with archive.open(path) as source:
        for element in _parse(source):
            if element.tag == _SI:
                strings.append(_text(element))
                element.clear()
    return strings


def _date_styles(archive: zipfile.ZipFile, path: str | None) -> tuple[set[int], set[int]]:
    """The cell style indexes whose number format is a date, and those that are a duration."""
    if not path or path not in archive.namelist():
        return set(), set()
    custom: dict[int, str] = {}
    xfs: list[int] = []
    with archive.open(path) as source:
        for element in _parse(source):
            if element.tag == MAIN + "numFmt":
                custom[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
            elif element.tag == MAIN + "cellXfs":
                xfs = [int(xf.get("numFmtId", "0")) for xf in element.findall(MAIN + "xf")]
    dates, durations = set(), set()
    for index, fmt_id in enumerate(xfs):
        code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "General")
        if is_timedelta_format(code):
            durations.add(index)
        elif is_date_format(code):
            dates.add(index)
    return dates, durations


def _number(text: str) -> int | float:
    return float(text) if any(ch in text for ch in ".eE") else int(text)


def read_workbook(
    data: bytes, limits: Limits, *, tick: Callable[[], None], skip: Callable[[str], bool] = lambda _name: False
) -> list[Sheet]:
    """The visible sheets of an XLSX file (``skip`` leaves out more by name), values only.

    :raises WorkbookRefused: ``bad_type`` (not a workbook), ``unpacked_too_large``, ``too_many_columns``,
        ``too_many_rows``, ``corrupt``; and whatever ``tick`` raises (the caller's deadline).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise WorkbookRefused("bad_type") from None
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise WorkbookRefused("bad_type")  # a .docx, .ods, .zip … is not a workbook
    check_archive(archive, limits)
    try:
        return _read(archive, limits, tick, skip)
    except WorkbookRefused:
        raise
    except (
        SyntaxError,  # xml.etree's ParseError
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        IndexError,
        OverflowError,
        EOFError,
        OSError,
    ):
        raise WorkbookRefused("corrupt") from None


def _read(
    archive: zipfile.ZipFile, limits: Limits, tick: Callable[[], None], skip: Callable[[str], bool]
) -> list[Sheet]:
    rels = _relationships(archive, "xl/workbook.xml")
    by_type = {kind: path for kind, path in rels.values()}
    sheets: list[tuple[str, str]] = []
    epoch = CALENDAR_WINDOWS_1900
    with archive.open("xl/workbook.xml") as source:
        for element in _parse(source):
            if element.tag == MAIN + "workbookPr" and element.get("date1904") in ("1", "true"):
                epoch = CALENDAR_MAC_1904
            elif element.tag == MAIN + "sheet":
                name = element.get("name", "")
                if element.get("state", "visible") == "visible" and not skip(name):
                    sheets.append((name, rels[element.get(REL + "id", "")][1]))
    strings = _shared_strings(archive, by_type.get("sharedStrings"))
    dates, durations = _date_styles(archive, by_type.get("styles"))
    return [Sheet(name, _rows(archive, path, strings, dates, durations, epoch, limits, tick)) for name, path in sheets]


def _rows(
    archive: zipfile.ZipFile,
    path: str,
    strings: list[str],
    dates: set[int],
    durations: set[int],
    epoch: Any,
    limits: Limits,
    tick: Callable[[], None],
) -> list[tuple[int, list[Any]]]:
    rows: list[tuple[int, list[Any]]] = []
    number = read = 0
    with archive.open(path) as source:
        for element in _parse(source):
            if element.tag != _ROW:
                continue
            read += 1
            if read % TICK_ROWS == 0:
                tick()
            number = int(element.get("r") or number + 1)
            if number > limits.max_row:
                raise WorkbookRefused("too_many_rows")
            values: dict[int, Any] = {}
            column = 0
            for cell in element.iter(_C):
                ref = cell.get("r")
                match = _CELL_REF.fullmatch(ref) if ref else None
                column = _column(match[1]) if match else column + 1
                value = _value(cell, strings, dates, durations, epoch)
                if value is None or value == "":
                    continue
                if column > limits.max_columns:
                    raise WorkbookRefused("too_many_columns", n=limits.max_columns)
                values[column] = value
            element.clear()
            if values:
                rows.append((number, [values.get(i) for i in range(1, max(values) + 1)]))
    return rows


def _value(cell: Any, strings: list[str], dates: set[int], durations: set[int], epoch: Any) -> Any:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_IS)
        return _text(inline) if inline is not None else None
    raw = cell.findtext(_V)
    if not raw:  # no cached value (a formula never calculated), or an empty one
        return None
    if kind == "s":
        return strings[int(raw)]
    if kind in ("str", "e"):
        return raw
    if kind == "b":
        return raw.strip() in ("1", "true")
    if kind == "d":
        return raw
    number = _number(raw)
    style = int(cell.get("s", "0"))
    if style in dates:
        return from_excel(number, epoch)
    if style in durations:
        return from_excel(number, epoch, timedelta=True)
    return number
