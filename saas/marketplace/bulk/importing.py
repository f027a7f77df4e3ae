"""Validate the rows of an import and write them all or nothing (``run_import``; docs/bulk-import.md).

Every row is cleaned by ``services.clean`` (the rules of the product form) and checked for SKU conflicts first; only
a file without a single error is written, inside a savepoint, through ``services.save_product``. ``run_import``
never commits: after a successful write (``report.committed``) the caller commits; after a dry run or any error it
must not (the view rolls back).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from saas.core.audit import record_event
from saas.core.domain import DomainError
from saas.marketplace import services
from saas.marketplace.bulk.columns import (
    _FALSE,
    _TRUE,
    ATTR_PREFIX,
    CATEGORY_KEY,
    ID_KEY,
    category_label,
    resolve_category,
)
from saas.marketplace.bulk.reading import _cell_text, _default_label, _file_error, _Layout, _layout, read_file
from saas.marketplace.bulk.report import (
    FLUSH_BATCH,
    Deadline,
    FileRejected,
    ImportLimits,
    ImportReport,
    RowError,
    message_for,
)
from saas.marketplace.catalog import Category, default_catalog, lookup_key
from saas.models import Firm, Product, User
from saas.web.lang import ui_lang

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
    except (SQLAlchemyError, DomainError, ValueError):
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
                name = category_label(other, ui_lang()) if other is not None else product.category_slug
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
