"""The bureau dashboard page and its XLSX export (the same tables, the same numbers)."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, g, render_template, request, send_file
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from saas.benchmarking.results_names import dimension_names
from saas.bureau import dashboard
from saas.bureau.views import bp
from saas.core.extensions import db
from saas.core.pdf import render_pdf
from saas.core.security import in_staff_scope
from saas.models import utcnow
from saas.reference import COUNTIES, INDUSTRIES
from saas.web.charts import heatmap_svg


def _tables() -> list[dashboard.Table]:
    return dashboard.build(db.session, g.user, dimension_names(db.session))


@bp.route("/dashboard")
def dashboard_page() -> Any:
    tables = _tables()
    heat = next(t for t in tables if t.key == "heatmap")
    heatmap = None
    if heat.rows:
        heatmap = heatmap_svg(
            [heat.row_labels[r] for r in heat.rows],
            [heat.column_labels[c] for c in heat.columns],
            [[heat.value(r, c).value for c in heat.columns] for r in heat.rows],
            [[dashboard.cell_text(heat.value(r, c), heat.kind) for c in heat.columns] for r in heat.rows],
            title=heat.title,
            desc=_(
                "Mean composite score of the latest assessment of each firm; cells marked “<%(k)d” rest on fewer than "
                "%(k)d firms (possibly none), cells marked “×” are hidden to protect them.",
                k=dashboard.cohort_k(),
            ),
        )
    return render_template(
        "bureau/dashboard.html",
        tables=tables,
        heatmap=heatmap,
        cell_text=dashboard.cell_text,
        legend=dashboard.legend(),
    )


@bp.route("/dashboard.xlsx")
def dashboard_xlsx() -> Any:
    """Export every dashboard table to one workbook, a sheet per table, with the page's exact cell texts."""
    book = Workbook()
    book.remove(book.active)
    for table in _tables():
        sheet = book.create_sheet(table.key[:31])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append([table.row_header, *(table.column_labels[c] for c in table.columns)])
        for row in table.rows:
            sheet.append([table.row_labels[row], *(_xlsx_value(table, row, c) for c in table.columns)])
        sheet.column_dimensions["A"].width = 22
    notes = book.create_sheet("legend")
    notes.append([_("Legend")])
    notes["A1"].font = Font(bold=True)
    for marker, text in dashboard.legend():
        notes.append([marker, text])
    notes.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="jiaxing-dashboard.xlsx",
    )


def _xlsx_value(table: dashboard.Table, row: str, column: str) -> Any:
    cell = table.value(row, column)
    kind = table.column_kind(column)
    if cell.suppressed or cell.value is None:
        return dashboard.cell_text(cell, kind)
    return round(cell.value, 1) if kind == "mean" else int(cell.value)


@bp.route("/reports/cohort.pdf")
def cohort_pdf() -> Any:
    """A PDF of the dashboard tables for one industry or one county (within the staff scope), suppression kept."""

    industry = request.args.get("industry") if request.args.get("industry") in INDUSTRIES else None
    county = request.args.get("county") if request.args.get("county") in COUNTIES else None
    if (industry is None) == (county is None):
        abort(404)
    if county is not None and not in_staff_scope(g.user, county):
        abort(404)
    tables = dashboard.build(db.session, g.user, dimension_names(db.session), industry=industry, county=county)
    subject = str(INDUSTRIES[industry]) if industry else str(COUNTIES[county])
    context = {
        "subject": subject,
        "report_date": utcnow().date().isoformat(),
        "scope": str(COUNTIES[g.user.staff_county]) if g.user.staff_county and g.user.kind != "admin" else "",
        "suppress_k": dashboard.cohort_k(),
        "legend": dashboard.legend(),
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "row_header": t.row_header,
                "columns": [t.column_labels[c] for c in t.columns],
                "rows": [
                    [t.row_labels[r], *(dashboard.cell_text(t.value(r, c), t.column_kind(c)) for c in t.columns)]
                    for r in t.rows
                ],
            }
            for t in tables
        ],
    }
    pdf = render_pdf("cohort_report.html", context)
    return send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"cohort-{industry or county}.pdf",
    )
