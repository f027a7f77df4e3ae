"""The bureau dashboard: aggregates of assessments within a staff member's scope, small cells suppressed.

Every table is a ``Table`` of labelled rows and columns whose cells are ``scoring.Cell`` values, suppressed below
``suppress_k`` firms. The web page, the XLSX export and (later) the cohort PDF all render these same objects, so
their numbers are identical by construction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import mean
from typing import Any

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from saas.models import Assessment, Firm, ScoreSnapshot, User, utcnow
from saas.reference import COUNTIES, INDUSTRIES

BAND_LABELS = ("<20", "20–40", "40–60", "60–80", "≥80")


@dataclass
class Table:
    """A dashboard table: ``cells[row][column]`` are suppressed-aware cells; ``kind`` is "count" or "mean"."""

    key: str
    title: str
    row_header: str
    columns: list[str]
    rows: list[str]
    cells: dict[str, dict[str, scoring.Cell]] = field(default_factory=dict)
    kind: str = "count"
    row_labels: dict[str, str] = field(default_factory=dict)
    column_labels: dict[str, str] = field(default_factory=dict)

    def value(self, row: str, column: str) -> scoring.Cell:
        return self.cells.get(row, {}).get(column, scoring.Cell(None, 0, True))


@dataclass(frozen=True)
class Record:
    firm_id: Any
    industry: str
    county: str
    submitted_at: datetime
    composite: float | None
    band: int | None
    dimensions: dict[str, float | None]


def _records(dbs: Session, staff: User) -> list[Record]:
    """Return the newest snapshot of every submitted or verified assessment in the staff scope (numbers only)."""
    stmt = (
        select(
            Firm.id,
            Firm.industry,
            Firm.county,
            Assessment.submitted_at,
            Assessment.id,
            ScoreSnapshot.composite,
            ScoreSnapshot.band,
            ScoreSnapshot.dimension_scores,
            ScoreSnapshot.created_at,
        )
        .join(Assessment, Assessment.firm_id == Firm.id)
        .join(
            ScoreSnapshot,
            (ScoreSnapshot.firm_id == Assessment.firm_id) & (ScoreSnapshot.assessment_id == Assessment.id),
        )
        .where(Assessment.status.in_(("submitted", "verified")), Assessment.submitted_at.is_not(None))
        .order_by(ScoreSnapshot.created_at)
        .execution_options(all_tenants=True)
    )
    if staff.kind != "admin" and staff.staff_county is not None:
        stmt = stmt.where(Firm.county == staff.staff_county)
    newest: dict[Any, Record] = {}
    for firm_id, industry, county, submitted_at, assessment_id, composite, band, dims, _at in dbs.execute(stmt):
        newest[assessment_id] = Record(firm_id, industry, county, submitted_at, composite, band, dims or {})
    return sorted(newest.values(), key=lambda r: r.submitted_at)


def _latest_per_firm(records: list[Record], since: datetime) -> list[Record]:
    latest: dict[Any, Record] = {}
    for r in records:
        if r.submitted_at >= since:
            latest[r.firm_id] = r
    return list(latest.values())


def _suppressed(cells: dict[str, dict[str, scoring.Cell]], k: int) -> dict[str, dict[str, scoring.Cell]]:
    flat = {(row, col): cell for row, cols in cells.items() for col, cell in cols.items()}
    kept = scoring.suppress(flat, k)
    out: dict[str, dict[str, scoring.Cell]] = defaultdict(dict)
    for (row, col), cell in kept.items():
        out[row][col] = cell
    return dict(out)


def build(
    dbs: Session,
    staff: User,
    dimension_names: dict[str, str],
    now: datetime | None = None,
    *,
    industry: str | None = None,
    county: str | None = None,
) -> list[Table]:
    """Return every dashboard table for ``staff``'s scope, optionally narrowed to one industry or county."""
    now = now or utcnow()
    k = current_app.config["BENCHMARK"]["suppress_k"]
    records = [
        r
        for r in _records(dbs, staff)
        if (industry is None or r.industry == industry) and (county is None or r.county == county)
    ]
    latest = _latest_per_firm(records, now - timedelta(days=730))
    tables = [
        _over_time(records, now, k),
        _bands(latest, "industry", INDUSTRIES, _l("Band distribution by industry"), k),
        _bands(latest, "county", COUNTIES, _l("Band distribution by county"), k),
        _heatmap(latest, k),
        _weakest(latest, dimension_names, k),
        _movement(records, k),
    ]
    labels = {
        **{code: str(label) for code, label in INDUSTRIES.items()},
        **{code: str(label) for code, label in COUNTIES.items()},
        **dimension_names,
        **{str(b): label for b, label in enumerate(BAND_LABELS)},
        "assessed": str(_l("Firms assessed in the month")),
        "cumulative": str(_l("Firms assessed so far")),
        "firms": str(_l("Firms with two or more assessments")),
        "mean_delta": str(_l("Mean change of the composite score")),
        "improved": str(_l("Improved by 5 or more")),
        "unchanged": str(_l("No material change")),
        "declined": str(_l("Declined by 5 or more")),
    }
    for table in tables:
        table.row_labels = {r: labels.get(r, r) for r in table.rows}
        table.column_labels = {c: labels.get(c, c) for c in table.columns}
    return tables


def cell_text(cell: scoring.Cell, kind: str) -> str:
    """Return the text of a cell as shown on the page and in exports ("<5" when suppressed)."""
    from flask import current_app

    if cell.suppressed:
        return f"<{current_app.config['BENCHMARK']['suppress_k']}"
    if cell.value is None:
        return "—"
    return f"{cell.value:.1f}" if kind == "mean" else f"{cell.value:.0f}"


def _count(n: int) -> scoring.Cell:
    return scoring.Cell(float(n), n)


def _over_time(records: list[Record], now: datetime, k: int) -> Table:
    months = []
    cursor = datetime(now.year, now.month, 1, tzinfo=now.tzinfo)
    for _ in range(12):
        months.append(cursor)
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    months.reverse()
    labels = [format_date(m, "yyyy-MM") for m in months]
    cells: dict[str, dict[str, scoring.Cell]] = {}
    seen: set[Any] = set()
    earlier = [r for r in records if r.submitted_at < months[0]]
    seen.update(r.firm_id for r in earlier)
    for start, label in zip(months, labels, strict=True):
        end = (start + timedelta(days=32)).replace(day=1)
        firms = {r.firm_id for r in records if start <= r.submitted_at < end}
        seen |= firms
        cells[label] = {"assessed": _count(len(firms)), "cumulative": _count(len(seen))}
    return Table(
        "over_time",
        str(_l("Firms assessed over time")),
        str(_l("Month")),
        ["assessed", "cumulative"],
        labels,
        _suppressed(cells, k),
    )


def _bands(latest: list[Record], attr: str, labels: dict[str, Any], title: Any, k: int) -> Table:
    cells: dict[str, dict[str, scoring.Cell]] = {}
    for code in labels:
        group = [r for r in latest if getattr(r, attr) == code and r.band is not None]
        if group:
            cells[code] = {str(b): _count(sum(1 for r in group if r.band == b)) for b in range(len(BAND_LABELS))}
    return Table(
        f"bands_{attr}",
        str(title),
        str(_l("Industry") if attr == "industry" else _l("County / district")),
        [str(b) for b in range(len(BAND_LABELS))],
        list(cells),
        _suppressed(cells, k),
    )


def _mean_cell(values: list[float]) -> scoring.Cell:
    return scoring.Cell(round(mean(values), 1) if values else None, len(values))


def _heatmap(latest: list[Record], k: int) -> Table:
    cells: dict[str, dict[str, scoring.Cell]] = {}
    for county in COUNTIES:
        row = {}
        for industry in INDUSTRIES:
            values = [
                r.composite for r in latest if r.county == county and r.industry == industry and r.composite is not None
            ]
            if values:
                row[industry] = _mean_cell(values)
        if row:
            cells[county] = row
    return Table(
        "heatmap",
        str(_l("Mean composite score by county and industry")),
        str(_l("County / district")),
        list(INDUSTRIES),
        list(cells),
        _suppressed(cells, k),
        kind="mean",
    )


def _weakest(latest: list[Record], names: dict[str, str], k: int) -> Table:
    cells: dict[str, dict[str, scoring.Cell]] = {}
    for industry in INDUSTRIES:
        group = [r for r in latest if r.industry == industry]
        if not group:
            continue
        row = {}
        for dim in names:
            values = [r.dimensions[dim] for r in group if r.dimensions.get(dim) is not None]
            row[dim] = _mean_cell(values)
        cells[industry] = row
    return Table(
        "dimensions",
        str(_l("Mean dimension scores by industry (weakest first in each row)")),
        str(_l("Industry")),
        list(names),
        list(cells),
        _suppressed(cells, k),
        kind="mean",
    )


def _movement(records: list[Record], k: int) -> Table:
    by_firm: dict[Any, list[Record]] = defaultdict(list)
    for r in records:
        by_firm[r.firm_id].append(r)
    cells: dict[str, dict[str, scoring.Cell]] = {}
    for industry in INDUSTRIES:
        deltas = []
        for rs in by_firm.values():
            if (
                rs[0].industry == industry
                and len(rs) >= 2
                and rs[0].composite is not None
                and rs[-1].composite is not None
            ):
                deltas.append(rs[-1].composite - rs[0].composite)
        if deltas:
            cells[industry] = {
                "firms": _count(len(deltas)),
                "mean_delta": scoring.Cell(round(mean(deltas), 1), len(deltas)),
                "improved": _count(sum(1 for d in deltas if d >= 5)),
                "unchanged": _count(sum(1 for d in deltas if -5 < d < 5)),
                "declined": _count(sum(1 for d in deltas if d <= -5)),
            }
    # Counts below k inside a large group would reveal little, but the rule is the same everywhere: any cell that
    # rests on fewer than k firms is suppressed.
    return Table(
        "movement",
        str(_l("Movement from the first to the latest assessment (T0 → T1)")),
        str(_l("Industry")),
        ["firms", "mean_delta", "improved", "unchanged", "declined"],
        list(cells),
        _suppressed(cells, k),
    )


def cohort_k() -> int:
    """Return the suppression threshold k (cells with fewer firms are hidden)."""
    return int(current_app.config["BENCHMARK"]["suppress_k"])
