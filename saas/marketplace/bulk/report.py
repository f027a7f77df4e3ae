"""The import report and its limits: row errors with localised messages, the file limits and the time limit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from time import monotonic
from typing import Any

from flask import current_app, has_app_context

from saas.marketplace.catalog import Attribute
from saas.marketplace.catalog.attributes import format_number
from saas.marketplace.labels import ATTRIBUTE_FALLBACK, IMPORT_ERRORS, PRODUCT_ERRORS
from saas.web.lang import ui_lang

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # when there is no app config (config.IMPORT_MAX_BYTES)
DEFAULT_MAX_ROWS = 20_000  # config.IMPORT_MAX_ROWS
DEFAULT_MAX_COLUMNS = 200  # config.IMPORT_MAX_COLUMNS; the widest template has under 50
DEFAULT_MAX_UNPACKED = 32 * 1024 * 1024  # config.IMPORT_MAX_UNPACKED_BYTES: an XLSX's members, declared sizes
DEFAULT_MAX_RATIO = 100  # config.IMPORT_MAX_RATIO: declared : compressed size of a member over 1 MB
DEFAULT_TIME_LIMIT_S = 30.0  # config.IMPORT_TIME_LIMIT_S: reading and checking one file
FLUSH_BATCH = 500  # products written per flush
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
    lang = ui_lang()
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
