"""The bureau dashboard: aggregates of assessments within a staff member's scope, with complementary suppression.

Every figure that the dashboard, its XLSX export, its heatmap and the cohort PDFs can print is computed once, for the
whole city, in one ``Publication``: its cells are grouped in *families* of linked figures (``saas/bureau/suppression``)
and protected together, so a cell hidden in one place is hidden in every place, and no total, cumulative figure or
other cut of the same data gives it back. Each view (the city, a county, an industry, or an industry inside a
county) then reads its tables from that one publication; the page, the XLSX, the chart and the PDF render these
``Table`` objects, so their numbers and their markers are identical by construction. ``docs/suppression.md``
explains the rules.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import mean
from typing import Any

import numpy as np
from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.benchmarking.services import system_read
from saas.bureau import suppression as sdc
from saas.models import Assessment, Firm, ScoreSnapshot, User, utcnow
from saas.reference import COUNTIES, INDUSTRIES

BAND_LABELS = ("<20", "20–40", "40–60", "60–80", "≥80")
MOVEMENT = ("improved", "unchanged", "declined")
MONTHS = 12
VALUE, EMPTY, PRIMARY, SECONDARY = "value", "empty", "primary", "secondary"


@dataclass(frozen=True)
class Cell:
    """One printed cell: a value, or why there is none (``empty``: no firm; ``primary``/``secondary``: hidden)."""

    value: float | None
    status: str = VALUE

    @property
    def suppressed(self) -> bool:
        return self.status in (PRIMARY, SECONDARY)


@dataclass
class Table:
    """A dashboard table: ``cells[row][column]``; ``kind`` is "count" or "mean"."""

    key: str
    title: str
    row_header: str
    columns: list[str]
    rows: list[str]
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)
    kind: str = "count"
    row_labels: dict[str, str] = field(default_factory=dict)
    column_labels: dict[str, str] = field(default_factory=dict)
    mean_columns: tuple[str, ...] = ()  # columns of means in a table of counts (printed with one decimal)

    def column_kind(self, column: str) -> str:
        return "mean" if column in self.mean_columns else self.kind

    def value(self, row: str, column: str) -> Cell:
        return self.cells.get(row, {}).get(column, Cell(None, EMPTY))

    def has_hidden(self, status: str) -> bool:
        return any(c.status == status for cols in self.cells.values() for c in cols.values())


@dataclass(frozen=True)
class Record:
    firm_id: Any
    industry: str
    county: str
    submitted_at: datetime
    composite: float | None
    band: int | None
    dimensions: tuple[tuple[str, float | None], ...]

    def dim(self, key: str) -> float | None:
        return dict(self.dimensions).get(key)


def _records(dbs: Session) -> list[Record]:
    """Return the newest snapshot of every submitted or verified assessment in the city (numbers only).

    The whole city is read even for county staff: the suppression pattern must be the same in every scope, or two
    scopes' exports together would give back what each hides (see docs/suppression.md §5). Only the staff member's
    own scope is printed. On PostgreSQL the read runs with the city-wide staff scope for this statement only.
    """

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
    newest: dict[Any, Record] = {}
    with system_read(dbs):
        rows = dbs.execute(stmt).all()
    for firm_id, industry, county, submitted_at, assessment_id, composite, band, dims, _at in rows:
        if industry not in INDUSTRIES or county not in COUNTIES:
            continue
        dimensions = tuple(sorted((str(k), v) for k, v in (dims or {}).items()))
        newest[assessment_id] = Record(firm_id, industry, county, submitted_at, composite, band, dimensions)
    return sorted(newest.values(), key=lambda r: (r.submitted_at, str(r.firm_id)))


def _latest_per_firm(records: list[Record], since: datetime) -> list[Record]:
    latest: dict[Any, Record] = {}
    for r in records:
        if r.submitted_at >= since:
            latest[r.firm_id] = r
    return list(latest.values())


View = tuple[str | None, str | None]  # (county, industry); None = all


def _in(r: Record, county: str | None, industry: str | None) -> bool:
    return (county is None or r.county == county) and (industry is None or r.industry == industry)


def _months(now: datetime) -> list[datetime]:
    months = []
    cursor = datetime(now.year, now.month, 1, tzinfo=now.tzinfo)
    for _ in range(MONTHS):
        months.append(cursor)
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    months.reverse()
    return months


def _month_index(months: list[datetime], at: datetime) -> int | None:
    """Return 0 for before the window, t + 1 for month t of the window, and None after it."""
    if at < months[0]:
        return 0
    if at >= (months[-1] + timedelta(days=32)).replace(day=1):
        return None
    return max(t for t in range(MONTHS) if at >= months[t]) + 1


class Publication:
    """Every figure of every view, computed once from the city's records and protected together."""

    def __init__(self, records: list[Record], dims: list[str], now: datetime, k: int) -> None:
        self.k, self.dims, self.now = k, dims, now
        self.records = records
        self.months = _months(now)
        self.latest = _latest_per_firm(records, now - timedelta(days=730))
        self.counties, self.industries = list(COUNTIES), list(INDUSTRIES)
        self.status: dict[Hashable, str] = {}
        self.families: dict[str, sdc.Family] = {}
        self.outcomes: dict[str, sdc.Outcome] = {}
        for family in (self._over_time(), self._bands(), self._heat(), self._scores(), self._movement()):
            outcome = sdc.protect(family, k)
            self.families[family.name], self.outcomes[family.name] = family, outcome
            self.status.update(dict.fromkeys(outcome.secondary, SECONDARY))
            self.status.update(dict.fromkeys(outcome.primary | outcome.zeros, PRIMARY))  # a hidden 0 is "<k" too

    # --- the families -------------------------------------------------------------------------------------------

    def _views(self) -> list[tuple[str | None, str | None, tuple[int, ...], tuple[int, ...]]]:
        nc, ni = len(self.counties), len(self.industries)
        out = []
        for c in [None, *range(nc)]:
            for i in [None, *range(ni)]:
                out.append(
                    (
                        None if c is None else self.counties[c],
                        None if i is None else self.industries[i],
                        tuple(range(nc)) if c is None else (c,),
                        tuple(range(ni)) if i is None else (i,),
                    )
                )
        return out

    @staticmethod
    def _weight(vc: str | None, vi: str | None) -> float:
        """Hiding a city-wide figure costs 4 times, a county's or an industry's twice, a group's once."""
        return 1.0 + (vc is None) + (vi is None) + (vc is None and vi is None)

    def _ci(self, r: Record) -> tuple[int, int]:
        return self.counties.index(r.county), self.industries.index(r.industry)

    def _over_time(self) -> sdc.Family:
        """Monthly firms assessed, firms assessed so far, and (virtual) new firms per month, on one time axis.

        Atoms: county × industry × (before the window, month 1 … 12). "Assessed in month t" and "new in month t"
        share the box of month t: a firm assessed again is counted in the first but not the second, so the two
        differ, but treating them as one figure makes the protection hold also for a reader who assumes no firm
        was assessed twice (docs/suppression.md §4).
        """
        shape = (len(self.counties), len(self.industries), MONTHS + 1)
        assessed = defaultdict(set)
        first: dict[Any, Record] = {}
        for r in self.records:
            j = _month_index(self.months, r.submitted_at)
            if j is not None:
                assessed[(*self._ci(r), j)].add(r.firm_id)
                first.setdefault(r.firm_id, r)
        new = np.zeros(shape, dtype=np.int64)
        for r in first.values():
            new[(*self._ci(r), _month_index(self.months, r.submitted_at))] += 1
        weights = new.copy()
        for (c, i, j), firms in assessed.items():
            weights[c, i, j] = max(weights[c, i, j], len(firms))
        figures = []
        for vc, vi, cs, is_ in self._views():
            per_month: list[set[Any]] = [set() for _ in range(MONTHS + 1)]
            for c in cs:
                for i in is_:
                    for j in range(1, MONTHS + 1):
                        per_month[j] |= assessed.get((c, i, j), set())
            news = new[np.ix_(cs, is_, range(MONTHS + 1))].sum(axis=(0, 1))
            figures.append(sdc.Figure(("pre", vc, vi), (cs, is_, (0,)), int(news[0]), sdc.VIRTUAL))
            for t in range(MONTHS):
                j = t + 1
                w = self._weight(vc, vi)
                figures.append(sdc.Figure(("assessed", vc, vi, t), (cs, is_, (j,)), len(per_month[j]), weight=w))
                if int(news[j]) != len(per_month[j]):
                    figures.append(sdc.Figure(("new", vc, vi, t), (cs, is_, (j,)), int(news[j]), sdc.VIRTUAL))
                upto = tuple(range(j + 1))
                figures.append(
                    sdc.Figure(("cumulative", vc, vi, t), (cs, is_, upto), int(news[: j + 1].sum()), weight=w)
                )
            if not news.sum():  # the other tables print no row for an empty group: that it is empty is public
                figures.append(sdc.Figure(("empty", vc, vi), (cs, is_, tuple(range(MONTHS + 1))), 0, sdc.KNOWN))
        return sdc.Family("over_time", shape, figures, weights, ordered=(2,))

    def _bands(self) -> sdc.Family:
        """Firms per band: county × industry × band, every two-way table shown; firm totals per group known."""
        shape = (len(self.counties), len(self.industries), len(BAND_LABELS))
        x = np.zeros(shape, dtype=np.int64)
        for r in self.latest:
            if r.band is not None:
                x[(*self._ci(r), r.band)] += 1
        figures = []
        for vc, vi, cs, is_ in self._views():
            cell = x[np.ix_(cs, is_, range(shape[2]))].sum(axis=(0, 1))
            for b in range(shape[2]):
                if vc is not None or vi is not None:
                    w = self._weight(vc, vi)
                    figures.append(sdc.Figure(("band", vc, vi, b), (cs, is_, (b,)), int(cell[b]), weight=w))
            total = tuple(range(shape[2]))
            figures.append(sdc.Figure(("band_total", vc, vi), (cs, is_, total), int(cell.sum()), sdc.KNOWN))
        return sdc.Family("bands", shape, figures, x)

    def _heat(self) -> sdc.Family:
        """Mean composite per county × industry: printed for single cells only, so nothing links them."""
        shape = (len(self.counties), len(self.industries))
        x = np.zeros(shape, dtype=np.int64)
        for r in self.latest:
            if r.composite is not None:
                x[self._ci(r)] += 1
        figures = [
            sdc.Figure(("heat", self.counties[c], self.industries[i]), ((c,), (i,)), int(x[c, i]))
            for c in range(shape[0])
            for i in range(shape[1])
        ]
        return sdc.Family("heatmap", shape, figures, x)

    def _scores(self) -> sdc.Family:
        """Mean dimension scores: (county ×) industry × dimension; a mean with its n gives a sum, which adds up."""
        shape = (len(self.counties), len(self.industries), max(1, len(self.dims)))
        x = np.zeros(shape, dtype=np.int64)
        for r in self.latest:
            for d, key in enumerate(self.dims):
                if r.dim(key) is not None:
                    x[(*self._ci(r), d)] += 1
        figures = []
        for vc, vi, cs, is_ in self._views():
            if vi is None:
                continue
            group = sum(1 for r in self.latest if _in(r, vc, vi))
            for d, key in enumerate(self.dims):
                n = int(x[np.ix_(cs, is_, (d,))].sum())
                # an empty group prints no row at all, so its zeros are public and cannot be hidden
                figures.append(sdc.Figure(("dim", vc, vi, key), (cs, is_, (d,)), n, sdc.SHOWN if group else sdc.KNOWN))
        return sdc.Family("dimensions", shape, figures, x)

    def _movement(self) -> sdc.Family:
        """T0 → T1 movement: (county ×) industry × improved/unchanged/declined, with the firm counts as margins."""
        shape = (len(self.counties), len(self.industries), len(MOVEMENT))
        x = np.zeros(shape, dtype=np.int64)
        for c, i, delta in self._deltas():
            x[c, i, _category(delta)] += 1
        figures = []
        for vc, vi, cs, is_ in self._views():
            if vi is None:
                continue
            cell = x[np.ix_(cs, is_, range(shape[2]))].sum(axis=(0, 1))
            role = sdc.SHOWN if cell.sum() else sdc.KNOWN  # an empty group prints no row: its zeros are public
            figures.append(sdc.Figure(("firms", vc, vi), (cs, is_, tuple(range(shape[2]))), int(cell.sum()), role))
            for m, name in enumerate(MOVEMENT):
                figures.append(sdc.Figure(("move", vc, vi, name), (cs, is_, (m,)), int(cell[m]), role))
        return sdc.Family("movement", shape, figures, x)

    def _deltas(self) -> list[tuple[int, int, float]]:
        by_firm: dict[Any, list[Record]] = defaultdict(list)
        for r in self.records:
            by_firm[r.firm_id].append(r)
        out = []
        for rs in by_firm.values():
            if len(rs) >= 2 and rs[0].composite is not None and rs[-1].composite is not None:
                c, i = self._ci(rs[0])
                out.append((c, i, rs[-1].composite - rs[0].composite))
        return out

    # --- one view's tables ----------------------------------------------------------------------------------------

    def cell(self, key: Hashable, value: float | None, n: int) -> Cell:
        """Return the printed cell of figure ``key`` (value over n firms) with the publication's decision."""
        status = self.status.get(key)
        if status is not None:
            return Cell(None, status)
        if n == 0 and value is None:
            return Cell(None, EMPTY)
        return Cell(value)

    def tables(self, county: str | None, industry: str | None, names: dict[str, str]) -> list[Table]:
        records = [r for r in self.records if _in(r, county, industry)]
        latest = [r for r in self.latest if _in(r, county, industry)]
        return [
            self._over_time_table(records, county, industry),
            self._bands_table(latest, "industry", county, industry),
            self._bands_table(latest, "county", county, industry),
            self._heat_table(latest),
            self._dims_table(latest, names, county),
            self._movement_table(records, county),
        ]

    def _over_time_table(self, records: list[Record], county: str | None, industry: str | None) -> Table:
        labels = [format_date(m, "yyyy-MM") for m in self.months]
        cells: dict[str, dict[str, Cell]] = {}
        seen = {r.firm_id for r in records if r.submitted_at < self.months[0]}
        for t, (start, label) in enumerate(zip(self.months, labels, strict=True)):
            end = (start + timedelta(days=32)).replace(day=1)
            firms = {r.firm_id for r in records if start <= r.submitted_at < end}
            seen |= firms
            cells[label] = {
                "assessed": self.cell(("assessed", county, industry, t), float(len(firms)), len(firms)),
                "cumulative": self.cell(("cumulative", county, industry, t), float(len(seen)), len(seen)),
            }
        return Table(
            "over_time",
            str(_l("Firms assessed over time")),
            str(_l("Month")),
            ["assessed", "cumulative"],
            labels,
            cells,
        )

    def _bands_table(self, latest: list[Record], attr: str, county: str | None, industry: str | None) -> Table:
        labels = INDUSTRIES if attr == "industry" else COUNTIES
        cells: dict[str, dict[str, Cell]] = {}
        for code in labels:
            group = [r for r in latest if getattr(r, attr) == code and r.band is not None]
            if not group:
                continue
            vc, vi = (county, code) if attr == "industry" else (code, industry)
            row = {}
            for b in range(len(BAND_LABELS)):
                n = sum(1 for r in group if r.band == b)
                row[str(b)] = self.cell(("band", vc, vi, b), float(n), n)
            cells[code] = row
        return Table(
            f"bands_{attr}",
            str(_l("Band distribution by industry") if attr == "industry" else _l("Band distribution by county")),
            str(_l("Industry") if attr == "industry" else _l("County / district")),
            [str(b) for b in range(len(BAND_LABELS))],
            list(cells),
            cells,
        )

    def _heat_table(self, latest: list[Record]) -> Table:
        cells: dict[str, dict[str, Cell]] = {}
        for county in COUNTIES:
            row = {}
            for industry in INDUSTRIES:
                values = [
                    r.composite
                    for r in latest
                    if r.county == county and r.industry == industry and r.composite is not None
                ]
                if values:
                    row[industry] = self.cell(("heat", county, industry), _mean(values), len(values))
            if row:
                cells[county] = row
        return Table(
            "heatmap",
            str(_l("Mean composite score by county and industry")),
            str(_l("County / district")),
            list(INDUSTRIES),
            list(cells),
            cells,
            kind="mean",
        )

    def _dims_table(self, latest: list[Record], names: dict[str, str], county: str | None) -> Table:
        cells: dict[str, dict[str, Cell]] = {}
        for industry in INDUSTRIES:
            group = [r for r in latest if r.industry == industry]
            if not group:
                continue
            row = {}
            for dim in names:
                values = [v for r in group if (v := r.dim(dim)) is not None]
                row[dim] = self.cell(("dim", county, industry, dim), _mean(values), len(values))
            cells[industry] = row
        return Table(
            "dimensions",
            str(_l("Mean dimension scores by industry (weakest first in each row)")),
            str(_l("Industry")),
            list(names),
            list(cells),
            cells,
            kind="mean",
        )

    def _movement_table(self, records: list[Record], county: str | None) -> Table:
        by_firm: dict[Any, list[Record]] = defaultdict(list)
        for r in records:
            by_firm[r.firm_id].append(r)
        cells: dict[str, dict[str, Cell]] = {}
        for industry in INDUSTRIES:
            deltas = [
                rs[-1].composite - rs[0].composite
                for rs in by_firm.values()
                if rs[0].industry == industry
                and len(rs) >= 2
                and rs[0].composite is not None
                and rs[-1].composite is not None
            ]
            if not deltas:
                continue
            firms = ("firms", county, industry)
            counts = [sum(1 for d in deltas if _category(d) == m) for m in range(len(MOVEMENT))]
            cells[industry] = {
                "firms": self.cell(firms, float(len(deltas)), len(deltas)),
                # a mean with its n gives a sum, which adds up like the count: it shares the count's decision
                "mean_delta": self.cell(firms, _mean(deltas), len(deltas)),
                **{
                    name: self.cell(("move", county, industry, name), float(counts[m]), counts[m])
                    for m, name in enumerate(MOVEMENT)
                },
            }
        return Table(
            "movement",
            str(_l("Movement from the first to the latest assessment (T0 → T1)")),
            str(_l("Industry")),
            ["firms", "mean_delta", *MOVEMENT],
            list(cells),
            cells,
            mean_columns=("mean_delta",),
        )


def _category(delta: float) -> int:
    return 0 if delta >= 5 else 2 if delta <= -5 else 1


def _mean(values: list[float]) -> float | None:
    return round(mean(values), 1) if values else None


_CACHE: dict[Hashable, Publication] = {}
_CACHE_SIZE = 4
_CACHE_LOCK = threading.Lock()


def publication(dbs: Session, dims: list[str], now: datetime, k: int) -> Publication:
    """Return the protected publication of the city's current records (cached per process by content)."""
    records = _records(dbs)
    key = (tuple(records), tuple(dims), now.replace(second=0, microsecond=0), k)
    found = _CACHE.get(key)
    if found is None:
        found = Publication(records, dims, now.replace(second=0, microsecond=0), k)
        with _CACHE_LOCK:
            while len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = found
    return found


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
    if staff.kind != "admin" and staff.staff_county is not None:
        county = staff.staff_county  # county staff: their county, whatever was asked
    pub = publication(dbs, list(dimension_names), now, cohort_k())
    tables = pub.tables(county, industry, dimension_names)
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


def markers() -> dict[str, str]:
    """Return the printed marker of each hidden status (the primary one names k: "<5")."""
    return {PRIMARY: f"<{cohort_k()}", SECONDARY: "×", EMPTY: "—"}


def cell_text(cell: Cell, kind: str) -> str:
    """Return the text of a cell as shown on the page and in exports ("<5", "×", "—" or the number)."""
    if cell.status != VALUE:
        return markers()[cell.status]
    if cell.value is None:
        return "—"
    return f"{cell.value:.1f}" if kind == "mean" else f"{cell.value:.0f}"


def legend() -> list[tuple[str, str]]:
    """Return (marker, explanation) for the legend printed under every table, on the page and in every export."""
    k = cohort_k()
    return [
        (f"<{k}", str(_l("Fewer than %(k)d firms (possibly none): hidden so that no firm can be recognised.", k=k))),
        (
            "×",
            str(
                _l(
                    "Hidden although it rests on %(k)d or more firms: with the totals, the running totals or the "
                    "other tables it would give back a cell marked “<%(k)d”.",
                    k=k,
                )
            ),
        ),
        ("—", str(_l("No firm in this group, or no score."))),
    ]


def cohort_k() -> int:
    """Return the suppression threshold k (cells with fewer firms are hidden)."""
    return int(current_app.config["BENCHMARK"]["suppress_k"])
