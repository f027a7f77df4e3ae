"""The attack: recover every hidden cell of the dashboard, its XLSX and the cohort PDFs by linear differencing.

Realistic data (120 firms in three counties and three industries over fourteen months, re-assessments, groups of 1–4
firms) go into the database. The test then downloads, as city staff and as the staff of each county, everything the
platform prints about them: the dashboard page, the XLSX export and every cohort PDF (read back with ``pdftotext``).
Every printed number becomes an equation over the unknown true cells (the atoms: county × industry × band, × month,
× dimension, × movement class). The attacker also knows every group's firm count and that counts are never
negative (a printed 0 pins its atoms). Then, for every cell printed as "<5" or "×" anywhere, the test asks whether
its vector lies in the span of the printed ones (``numpy.linalg.matrix_rank``), which is exactly when linear
differencing gives its value. None may.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import numpy as np
from openpyxl import load_workbook

from tests.conftest import app_session, service_missing, valid_uscc
from tests.differencing import System, box_vector
from tests.test_bureau import staff_client

COUNTIES = ("nanhu", "haining", "tongxiang")
INDUSTRIES = ("silk", "wood", "textile")
ALL_COUNTIES = ("nanhu", "xiuzhou", "jiashan", "pinghu", "haiyan", "haining", "tongxiang")
ALL_INDUSTRIES = ("silk", "warp_knitting", "textile", "garment", "leather", "luggage", "wood", "other")
K = 5
HIDDEN = {"<5", "×"}
TOKEN = r"(?:-?\d+(?:\.\d+)?|<5|×|—)"


def _band(score: float) -> int:
    return min(4, int(score // 20))


def _seed(app: Any, now: datetime, rng: random.Random) -> tuple[list[dict[str, Any]], list[str]]:
    """Store firms with one or two submitted assessments; return the snapshots as plain rows (the truth)."""
    from saas.assessments.instruments import active_instrument, engine_instrument
    from saas.models import Assessment, Firm, ScoreSnapshot

    with app_session(app) as s:
        version = active_instrument(s)
        dims = [d.id for d in engine_instrument(version).dimensions if d.role == "maturity"]
        version_id, checksum = version.id, version.checksum
    # group sizes: mostly 8–20 firms per county × industry, some groups of 1–4
    sizes = {("nanhu", "silk"): 20, ("nanhu", "wood"): 3, ("nanhu", "textile"): 14, ("haining", "silk"): 9}
    sizes |= {("haining", "wood"): 12, ("haining", "textile"): 1, ("tongxiang", "silk"): 35}
    sizes |= {("tongxiang", "wood"): 4, ("tongxiang", "textile"): 22}
    truth = []
    n = 900
    for (county, industry), size in sizes.items():
        for _ in range(size):
            n += 1
            firm_id = uuid.uuid4()
            level = rng.uniform(15, 92)
            first = now - timedelta(days=rng.randint(0, 420), hours=rng.randint(0, 23))
            times = [first]
            if rng.random() < 0.25 and (now - first).days > 100:
                times.append(first + timedelta(days=rng.randint(95, (now - first).days)))
            with app_session(app, firm_id) as s:
                s.add(
                    Firm(
                        id=firm_id,
                        name=f"攻击测试企业{n}",
                        uscc=valid_uscc(n, county),
                        industry=industry,
                        county=county,
                        park=None,
                        employees=50,
                        revenue_wan=Decimal(800),
                        size_class="small",
                        contact_name="张三",
                    )
                )
                s.flush()
                for at in times:
                    composite = round(min(99.0, max(1.0, level + rng.uniform(-12, 12))), 2)
                    scores = {d: (None if rng.random() < 0.08 else round(rng.uniform(0, 100), 1)) for d in dims}
                    assessment = Assessment(
                        firm_id=firm_id,
                        instrument_version_id=version_id,
                        industry=industry,
                        status="submitted",
                        submitted_at=at,
                    )
                    s.add(assessment)
                    s.flush()
                    s.add(
                        ScoreSnapshot(
                            firm_id=firm_id,
                            assessment_id=assessment.id,
                            kind="submitted",
                            engine_version="test",
                            instrument_version_id=version_id,
                            instrument_checksum=checksum,
                            result={},
                            composite=composite,
                            maturity=composite,
                            level=1,
                            band=_band(composite),
                            dimension_scores=scores,
                            created_at=at,
                        )
                    )
                    truth.append(
                        {"firm": firm_id, "county": county, "industry": industry, "at": at, "composite": composite}
                        | {"band": _band(composite), "dims": scores}
                    )
    return truth, dims


# --- what the platform prints ---------------------------------------------------------------------------------------


def _page(html: str) -> tuple[dict[str, Any], dict[tuple[str, str, str], str]]:
    """Parse the dashboard page: its tables' labels (to read the XLSX and PDFs) and every cell by codes."""
    layout: dict[str, Any] = {}
    cells = {}
    for title, key, body in re.findall(
        r'<h2>([^<]*)</h2>\s*<div class="table-scroll">\s*<table[^>]*id="table-([a-z_]+)">(.*?)</table>', html, re.S
    ):
        head = [unescape(h) for h in re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', body)[1:]]
        rows, columns = {}, []
        for label, row in re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', body, re.S):
            found = re.findall(r'data-cell="[a-z_]+\|([^|"]+)\|([^"]+)">([^<]*)</td>', row)
            rows[unescape(label)] = found[0][0]
            columns = [c for _, c, _ in found]
            for r, c, text in found:
                cells[(key, r, c)] = unescape(text)
        layout[key] = {
            "title": unescape(title),
            "rows": rows,
            "columns": columns,
            "column_labels": dict(zip(head, columns, strict=True)),
        }
    return layout, cells


def _chart_matches_table(html: str, layout: dict[str, Any], cells: dict[tuple[str, str, str], str]) -> None:
    """The heatmap chart prints, cell by cell, what the heatmap table prints (hidden cells stay grey and marked)."""
    svg = re.search(r'<svg[^>]*aria-labelledby="heatmap-title.*?</svg>', html, re.S).group(0)
    spec = layout["heatmap"]
    texts = [unescape(t) for t in re.findall(r'text-anchor="middle" fill="[^"]+">([^<]*)</text>', svg)]
    texts = texts[len(spec["columns"]) :]  # after the column headings, one text per cell, row by row
    table = [cells[("heatmap", code, c)] for code in spec["rows"].values() for c in spec["columns"]]
    assert texts == table
    grey = re.findall(r'fill="(#[0-9a-f]{6})"/><text[^>]*>([^<]*)</text>', svg)
    assert all(fill == "#eaeef2" for fill, text in grey if unescape(text) in (*HIDDEN, "—"))


def _xlsx(data: bytes, layout: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    cells = {}
    for sheet in book.worksheets:
        if sheet.title not in layout:
            continue
        rows = list(sheet.iter_rows(values_only=True))
        columns = [layout[sheet.title]["column_labels"][str(h)] for h in rows[1][1:]]
        for row in rows[2:]:
            code = layout[sheet.title]["rows"][str(row[0])]
            for column, value in zip(columns, row[1:], strict=True):
                cells[(sheet.title, code, column)] = _text(value)
    return cells


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _pdf(data: bytes, layout: dict[str, Any], tmp_path: Any) -> dict[tuple[str, str, str], str]:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    titles = {spec["title"]: key for key, spec in layout.items()}
    cells = {}
    for page in text.split("\f"):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        key = next((titles[line] for line in lines if line in titles), None)
        if key is None:
            continue
        spec = layout[key]
        for line in lines:
            parts = line.split()
            if parts[0] in spec["rows"] and all(re.fullmatch(TOKEN, p) for p in parts[1:]):
                assert len(parts) - 1 == len(spec["columns"]), line
                for column, value in zip(spec["columns"], parts[1:], strict=True):
                    cells[(key, spec["rows"][parts[0]], column)] = value
    return cells


def _figure(view: tuple[str | None, str | None], key: str, row: str, column: str, months: list[str]) -> tuple | None:
    """Name the true figure behind a printed cell of ``view`` (county, industry), independently of the product."""
    vc, vi = view
    if key == "over_time":
        return (column, vc, vi, months.index(row))
    if key == "bands_industry":
        return ("band", vc, row, int(column))
    if key == "bands_county":
        return ("band", row, vi, int(column))
    if key == "heatmap":  # a view of one industry still prints every industry's column, empty
        return ("heat", row, column) if vc in (None, row) and vi in (None, column) else None
    if key == "dimensions":
        return ("dim", vc, row, column)
    if column in ("firms", "mean_delta"):
        return (column, vc, row)
    return ("move", vc, row, column)


# --- the truth, computed here from the seeded rows --------------------------------------------------------------


def _truth(rows: list[dict[str, Any]], dims: list[str], now: datetime) -> dict[tuple, float]:
    """Return the true value of every figure, and its n under ("n", figure) for means."""
    months = []
    cursor = datetime(now.year, now.month, 1, tzinfo=now.tzinfo)
    for _ in range(12):
        months.append(cursor)
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    months.reverse()
    ends = [*months[1:], (months[-1] + timedelta(days=32)).replace(day=1)]
    by_firm: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["at"]):
        by_firm[r["firm"]].append(r)
    views = [(c, i) for c in (None, *COUNTIES) for i in (None, *INDUSTRIES)]
    truth: dict[tuple, float] = {}

    def inside(r: dict[str, Any], vc: str | None, vi: str | None) -> bool:
        return (vc is None or r["county"] == vc) and (vi is None or r["industry"] == vi)

    for vc, vi in views:
        for t, (start, end) in enumerate(zip(months, ends, strict=True)):
            truth[("assessed", vc, vi, t)] = len(
                {r["firm"] for r in rows if inside(r, vc, vi) and start <= r["at"] < end}
            )
            truth[("cumulative", vc, vi, t)] = len({r["firm"] for r in rows if inside(r, vc, vi) and r["at"] < end})
        latest = [rs[-1] for rs in by_firm.values() if inside(rs[-1], vc, vi)]
        for b in range(5):
            truth[("band", vc, vi, b)] = sum(1 for r in latest if r["band"] == b)
        truth[("band_total", vc, vi)] = len(latest)
        if vi is not None:
            for d in dims:
                values = [r["dims"][d] for r in latest if r["dims"][d] is not None]
                truth[("dim", vc, vi, d)] = sum(values)
                truth[("n", ("dim", vc, vi, d))] = len(values)
            deltas = [
                rs[-1]["composite"] - rs[0]["composite"]
                for rs in by_firm.values()
                if len(rs) >= 2 and inside(rs[0], vc, vi)
            ]
            truth[("firms", vc, vi)] = len(deltas)
            truth[("mean_delta", vc, vi)] = sum(deltas)
            truth[("n", ("mean_delta", vc, vi))] = len(deltas)
            for m, name in enumerate(("improved", "unchanged", "declined")):
                truth[("move", vc, vi, name)] = sum(1 for d in deltas if (0 if d >= 5 else 2 if d <= -5 else 1) == m)
        if vc is not None and vi is not None:
            truth[("heat", vc, vi)] = sum(r["composite"] for r in latest)
            truth[("n", ("heat", vc, vi))] = len(latest)
    return truth


def _vector(figure: tuple) -> tuple[str, np.ndarray]:
    """Return the family of a figure and its vector over that family's atoms (county × industry × …)."""
    cs = lambda c: [COUNTIES.index(c)] if c is not None else range(len(COUNTIES))  # noqa: E731
    is_ = lambda i: [INDUSTRIES.index(i)] if i is not None else range(len(INDUSTRIES))  # noqa: E731
    kind = figure[0]
    if kind in ("assessed", "cumulative"):  # atoms: before the window, months 1–12 (a re-assessment as a new firm)
        _, vc, vi, t = figure
        months = [t + 1] if kind == "assessed" else range(t + 2)
        return "time", box_vector((3, 3, 13), (cs(vc), is_(vi), months))
    if kind in ("band", "band_total"):
        vc, vi = figure[1], figure[2]
        bands = [figure[3]] if kind == "band" else range(5)
        return "bands", box_vector((3, 3, 5), (cs(vc), is_(vi), bands))
    if kind == "heat":
        return "heat", box_vector((3, 3), (cs(figure[1]), is_(figure[2])))
    if kind == "dim":
        return f"dim {figure[3]}", box_vector((3, 3), (cs(figure[1]), is_(figure[2])))
    if kind == "mean_delta":
        return "delta", box_vector((3, 3), (cs(figure[1]), is_(figure[2])))
    vc, vi = figure[1], figure[2]
    cats = range(3) if kind == "firms" else [("improved", "unchanged", "declined").index(figure[3])]
    return "movement", box_vector((3, 3, 3), (cs(vc), is_(vi), cats))


def _amount(figure: tuple, text: str, truth: dict[tuple, float]) -> float:
    """Turn a printed figure into the sum it states: counts as printed, means times their (known) n."""
    if text == "—":
        return 0.0
    if figure[0] in ("dim", "heat", "mean_delta"):
        return float(text) * truth[("n", figure)]
    return float(text)


# --- the attack -------------------------------------------------------------------------------------------------


def _download_everything(
    app, make_client, create_user, tmp_path, *, strict: bool = True
) -> tuple[dict, list[str], dict[tuple, float]]:
    """Return {figure: printed text} over every page, XLSX and cohort PDF in every scope, checked for agreement."""
    from saas.models import utcnow

    if shutil.which("pdftotext") is None:
        service_missing("pdftotext (poppler-utils) is not installed")
    now = utcnow()
    rows, dims = _seed(app, now, random.Random(20261202))
    truth = _truth(rows, dims, now)
    printed: dict[tuple, str] = {}
    where: dict[tuple, str] = {}

    def note(view: tuple, source: str, cells: dict, months: list[str]) -> None:
        for (key, row, column), raw in cells.items():
            figure = _figure(view, key, row, column, months)
            inactive = figure is not None and any(
                p in (*ALL_COUNTIES, *ALL_INDUSTRIES) and p not in (*COUNTIES, *INDUSTRIES) for p in figure
            )
            if figure is None or inactive:  # outside the view, or a county or industry without firms: none
                assert raw in ("—", "0", "<5"), (view, key, row, column, raw)
                continue
            text = raw if raw in (*HIDDEN, "—") else str(round(float(raw), 1))  # Excel keeps 48.0 as 48
            if figure in printed and strict:  # one figure, one text: on the page, in the XLSX, in every PDF and scope
                assert printed[figure] == text, (figure, where[figure], printed[figure], source, text)
            printed[figure], where[figure] = text, source

    city = staff_client(make_client, create_user)
    html = city.get("/bureau/dashboard").get_data(as_text=True)
    layout, cells = _page(html)
    _chart_matches_table(html, layout, cells)
    months = list(layout["over_time"]["rows"])
    note((None, None), "city page", cells, months)
    note((None, None), "city xlsx", _xlsx(city.get("/bureau/dashboard.xlsx").data, layout), months)
    for industry in INDUSTRIES:
        pdf = city.get(f"/bureau/reports/cohort.pdf?industry={industry}").data
        note((None, industry), f"city pdf {industry}", _pdf(pdf, layout, tmp_path), months)
    for county in COUNTIES:
        pdf = city.get(f"/bureau/reports/cohort.pdf?county={county}").data
        note((county, None), f"city pdf {county}", _pdf(pdf, layout, tmp_path), months)
        staff = staff_client(make_client, create_user, county=county)
        own_layout, cells = _page(staff.get("/bureau/dashboard").get_data(as_text=True))
        note((county, None), f"{county} page", cells, months)
        note((county, None), f"{county} xlsx", _xlsx(staff.get("/bureau/dashboard.xlsx").data, layout), months)
        for industry in INDUSTRIES:
            pdf = staff.get(f"/bureau/reports/cohort.pdf?industry={industry}").data
            note((county, industry), f"{county} pdf {industry}", _pdf(pdf, layout, tmp_path), months)
    return printed, dims, truth


def _attack(
    printed: dict[tuple, str], truth: dict[tuple, float], hidden: set[tuple], *, told: bool = True
) -> dict[tuple, float]:
    """Differencing: return {hidden figure: value the printed figures force on it} for each one they determine.

    ``told``: the attacker also knows how many firms each group (county, industry, both, the city) has within 24
    months, for the band tables (the dashboard assumes it for them, docs/suppression.md §3).
    """
    systems: dict[str, System] = {}
    targets: dict[str, dict[tuple, np.ndarray]] = defaultdict(dict)
    for figure, text in printed.items():
        family, v = _vector(figure)
        system = systems.setdefault(family, System(v.size))
        if figure in hidden:
            targets[family][figure] = v
        else:
            system.publish(v, _amount(figure, text, truth))
    bands = systems.setdefault("bands", System(3 * 3 * 5))
    for vc in (None, *COUNTIES):
        for vi in (None, *INDUSTRIES):
            if told:
                bands.publish(_vector(("band_total", vc, vi))[1], truth[("band_total", vc, vi)])
    out = {}
    for family, wanted in targets.items():
        system = systems[family]
        for figure in system.recoverable(wanted):
            out[figure] = system.recover(wanted[figure])
    return out


def test_no_hidden_cell_of_the_dashboard_xlsx_or_cohort_pdfs_can_be_recovered(app, make_client, create_user, tmp_path):
    printed, _dims, truth = _download_everything(app, make_client, create_user, tmp_path)
    hidden = {f for f, text in printed.items() if text in HIDDEN}
    # the data are realistic: small groups exist, and both kinds of marker are printed
    assert sum(1 for f in hidden if printed[f] == "<5") > 50 and sum(1 for f in hidden if printed[f] == "×") > 10
    # every printed number is the true one; every figure of 1–4 firms is hidden wherever it appears
    for figure, text in printed.items():
        n = truth.get(("n", figure), truth[figure])
        if text not in HIDDEN and text != "—":
            expected = truth[figure] / n if ("n", figure) in truth else truth[figure]
            assert abs(float(text) - expected) < 0.51, (figure, text, expected)
        if 0 < n < K:
            assert text == "<5", (figure, text)

    # the attack has teeth: had only the cells of 1–4 firms been hidden (the old dashboard), it would recover many,
    # with their true values where its model is exact (bands and movement counts)
    primary = {f for f in printed if 0 < truth.get(("n", f), truth[f]) < K}
    recovered = _attack({f: ("<5" if f in primary else _plain(f, truth)) for f in printed}, truth, primary)
    assert len(recovered) > 20
    exact = {f: v for f, v in recovered.items() if f[0] in ("band", "move", "firms")}
    assert exact and all(abs(v - truth[f]) < 1e-6 for f, v in exact.items())

    # against what the platform printed it recovers nothing, with or without the group sizes
    for told in (False, True):
        recovered = _attack(printed, truth, hidden, told=told)
        assert recovered == {}, {f: (round(v, 2), truth[f]) for f, v in recovered.items()}


def _plain(figure: tuple, truth: dict[tuple, float]) -> str:
    if ("n", figure) in truth:
        n = truth[("n", figure)]
        return "—" if n == 0 else f"{truth[figure] / n:.1f}"
    return f"{truth[figure]:.0f}"
