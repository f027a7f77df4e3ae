"""Bulk import and export of a supplier's catalogue: XLSX templates per category, CSV/XLSX import, XLSX export.

The file format is described in docs/bulk-import.md. In short, a data sheet (or a CSV file) has a row of machine keys
(``sku``, ``title_zh``, ``attr:momme`` …; hidden in our workbooks), a row of readable headings (Chinese or English,
with units) and one product per row below them. Either heading row alone is enough: every column is recognised by its
key, its Chinese or English heading (with or without the unit and the ``*`` of required columns) or an alias. The
category comes from the row's ``category_slug`` cell, or, when that is empty, from the sheet's default written in the
key row (``category_slug <slug>``).

One module per concern: ``columns.py`` (which columns a category has, their headings and aliases), ``reading.py``
(CSV/XLSX within the limits, headings to columns; ``xlsx.py`` is the bounded streaming XLSX reader), ``importing.py``
(row validation, the all-or-nothing write), ``report.py`` (the report, its messages and the limits) and
``workbook.py`` (templates and the export). This module is the package's public API.
"""

from saas.marketplace.bulk.columns import Column, category_label, columns_for
from saas.marketplace.bulk.importing import run_import
from saas.marketplace.bulk.report import FileRejected, ImportLimits, ImportReport, RowError
from saas.marketplace.bulk.workbook import XLSX_MIME, build_template, export_catalogue, iter_error_rows

__all__ = [
    "XLSX_MIME",
    "Column",
    "FileRejected",
    "ImportLimits",
    "ImportReport",
    "RowError",
    "build_template",
    "category_label",
    "columns_for",
    "export_catalogue",
    "iter_error_rows",
    "run_import",
]
