"""Benchmark the PDF reports.

Prints ``pdf_render_median_s`` (the firm benchmarking report of a low-scoring firm, about 12 A4 pages, rendered by
``saas.core.pdf.render_pdf``; target ≤ 1.5 s), ``pdf_size_mb`` (target ≤ 1.5), ``pdf_cached_median_ms`` (a repeated
download served from the content-keyed cache through the real routes; target ≤ 20 ms) and ``cohort_recompute_20k_s``
(every cohort statistic over 20,000 synthetic peers, with the JSON the app stores; target ≤ 5 s).
Run with the project's virtualenv: ``.venv/bin/python bench/reports.py [--runs N] [--out report.pdf]``.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import bench_app, seed_firm  # noqa: E402

import scoring  # noqa: E402

# Propensity of rounds T0–T3 (T3 is reported): a low-scoring firm, so the advice is long; the earlier rounds give
# the deltas and the history chart.
LEVELS = (0.15, 0.2, 0.22, 0.25)


def synthetic_benchmark(rows: list[dict[str, Any]], composite: float | None) -> dict[str, Any]:
    """Return made-up cohort figures shaped like ``saas.benchmarking.report.build``'s ``benchmark`` (37 peers)."""
    from saas.web.charts import PALETTE, Series, radar_svg, strip_svg

    rng = random.Random(9)

    def metric(mid: str, name: str, score: float | None) -> dict[str, Any]:
        p50 = round(rng.uniform(35, 55), 1)
        p25, p75 = round(p50 - rng.uniform(8, 14), 1), round(p50 + rng.uniform(8, 12), 1)
        p90 = round(p75 + rng.uniform(6, 14), 1)
        pct = None if score is None else round(max(1.4, min(98.6, 50 + (score - p50) * 1.6)), 1)
        return {"id": mid, "name": name, "score": score, "percentile": pct, "n": 37,
                "p25": p25, "p50": p50, "p75": p75, "p90": p90}  # fmt: skip

    overall = metric("composite", "综合得分", composite)
    dims = [metric(r["id"], r["name"], r["self"]) for r in rows if r["role"] == "maturity"]
    strips = {
        d["id"]: strip_svg(
            [rng.randint(0, 9) for _ in range(10)],
            score=d["score"],
            p50=d["p50"],
            p90=d["p90"],
            label=d["name"],
            chart_id=f"strip-{d['id']}",
        )
        for d in [overall, *dims]
    }
    series = [
        Series("本企业", [d["score"] for d in dims], PALETTE[0]),
        Series("同组中位数", [d["p50"] for d in dims], PALETTE[1], dashed=True),
        Series("同组标杆 (P90)", [d["p90"] for d in dims], PALETTE[2], dashed=True),
    ]
    labels = [d["name"] for d in dims]
    radar = radar_svg(labels, series, title="同组对比", desc="本企业与同组中位数和标杆", chart_id="bench-radar")
    return {
        "cohort_label": "茧丝绸 · 南湖区 · 小型",
        "cohort_level": "industry+county+size",
        "n": 37,
        "sufficient": True,
        "overall": overall,
        "dimensions": dims,
        "radar_chart": radar,
        "strips": strips,
    }


def report_context(app: Any, firm_id: Any, assessment_id: Any) -> dict[str, Any]:
    """Build the firm report's plain context as the app will: results.build, then saas.core.pdf.report_context."""
    from saas.assessments import instruments, results, services
    from saas.core.extensions import db
    from saas.core.pdf import report_context as pdf_context
    from saas.core.tenancy import set_tenant
    from saas.models import Firm

    with app.test_request_context():
        dbs = db.session
        set_tenant(dbs, firm_id)
        firm = dbs.get(Firm, firm_id)
        assessment = services.get_assessment(dbs, firm, assessment_id)
        instrument = instruments.engine_instrument(assessment.instrument_version)
        snapshot = services.latest_snapshot(dbs, firm, assessment)
        ctx = results.build(dbs, firm, assessment, instrument, snapshot, staff=False)
        benchmark = synthetic_benchmark(ctx["rows"], ctx["view"].composite)
        context = pdf_context(ctx, firm_name=firm.name, benchmark=benchmark, report_date=date(2026, 3, 1))
        dbs.rollback()
        return context


def page_count(pdf: bytes) -> int | None:
    """Return the page count via pdfinfo (poppler-utils), or None when it is not installed."""
    try:
        out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True, timeout=30).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    line = next((x for x in out.decode(errors="replace").splitlines() if x.startswith("Pages:")), "")
    return int(line.split()[1]) if line else None


def bench_pdf(app: Any, context: dict[str, Any], runs: int) -> tuple[float, bytes]:
    """Render the firm report ``runs`` times after one warm-up; return (median wall-clock seconds, last PDF)."""
    from saas.core.pdf import render_pdf

    with app.app_context():  # as the background worker will: no request context
        pdf = render_pdf("firm_report.html", context, locale="zh_CN")  # warm-up: imports, fontconfig, caches
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            pdf = render_pdf("firm_report.html", context, locale="zh_CN")
            times.append(time.perf_counter() - start)
    return statistics.median(times), pdf


def pdf_figures(runs: int, out: Path | None = None) -> list[str]:
    """Return the lines for the firm report: render median, size, and the page count and load as context."""
    with bench_app() as app:
        with redirect_stdout(io.StringIO()):  # the development mailer may print the verification email
            firm_id, assessment_id = seed_firm(app, LEVELS)
        context = report_context(app, firm_id, assessment_id)
        load = os.getloadavg()[0]
        median_s, pdf = bench_pdf(app, context, runs)
    if out is not None:
        out.write_bytes(pdf)
    pages = page_count(pdf)
    return [
        f"pdf_render_median_s: {median_s:.2f} s",
        f"pdf_size_mb: {len(pdf) / 1_000_000:.2f} MB",
        f"pdf_pages: {pages if pages is not None else '?'} pages",
        f"pdf_render_load_average: {load:.1f} load",
    ]


def cached_figures(runs: int = 30) -> list[str]:
    """Time a repeated download of an already rendered report: the request finds the cached file, no render."""
    with bench_app() as app:
        with redirect_stdout(io.StringIO()):
            firm_id, assessment_id = seed_firm(app, LEVELS)
        app.config.update(WTF_CSRF_ENABLED=False, REPORTS_SYNC=True)
        client = app.test_client()
        login = client.post(
            "/auth/login", data={"email": "report-bench@bench.example", "password": "bench password 2026"}
        )
        assert login.status_code == 302, login.status_code
        first = client.post(f"/benchmarking/{assessment_id}/pdf")  # renders once
        file_url = first.headers["Location"] + "/file"
        client.get(file_url).close()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            again = client.post(f"/benchmarking/{assessment_id}/pdf")
            response = client.get(again.headers["Location"] + "/file")
            body = response.data
            times.append((time.perf_counter() - start) * 1000)
            response.close()
            assert body.startswith(b"%PDF")
    return [f"pdf_cached_median_ms: {statistics.median(times):.1f} ms"]


def cohort_figures(peers_n: int = 20_000, runs: int = 3) -> list[str]:
    """Time all cohort statistics over synthetic peers, including the per-cohort JSON the app stores."""
    rng = random.Random(20)
    industries = ["silk", "warp_knitting", "textile", "garment", "leather", "luggage", "wood", "other"]
    counties = ["nanhu", "xiuzhou", "jiashan", "pinghu", "haiyan", "haining", "tongxiang"]
    sizes = ["micro", "small", "medium", "large"]
    dims = ["strategy", "infrastructure", "design", "production", "supply_chain", "marketing", "data", "talent"]
    peers = []
    for i in range(peers_n):
        level = rng.uniform(10, 90)
        scores = {d: min(100.0, max(0.0, rng.gauss(level, 12))) for d in dims}
        peers.append(
            scoring.Peer(
                peer_key=f"firm-{i}",
                industry=rng.choice(industries),
                county=rng.choice(counties),
                size_class=rng.choice(sizes),
                composite=sum(scores.values()) / len(dims),
                maturity=level,
                dimensions=scores,
            )
        )
    params = scoring.BenchmarkParams(
        min_n=10, window_months=24, suppress_k=5, quantiles={"p25": 25, "p50": 50, "p75": 75, "p90": 90}, bins=10
    )
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        stats = scoring.all_cohort_stats(peers, dims, params)
        rows = [cs.to_dict() for cs in stats.values()]
        times.append(time.perf_counter() - start)
        assert rows
    return [f"cohort_recompute_20k_s: {statistics.median(times):.2f} s"]


def main(argv: list[str] | None = None) -> None:
    """Print one ``name: value unit`` line per figure; add new figures as functions returning lines."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed renders (at least 5)")
    parser.add_argument("--out", type=Path, help="also write the PDF here")
    args = parser.parse_args(argv)
    for line in [*pdf_figures(max(5, args.runs), args.out), *cached_figures(), *cohort_figures()]:
        print(line, flush=True)


if __name__ == "__main__":
    main()
