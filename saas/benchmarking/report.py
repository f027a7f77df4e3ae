"""The firm's benchmarking report context, shared by the web page and the PDF (plain values and SVG only)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

import scoring
from saas.assessments import results as results_context
from saas.benchmarking import services
from saas.models import Assessment, Firm, ScoreSnapshot
from saas.web.charts import PALETTE, Series, bar_svg, radar_svg, strip_svg
from saas.web.lang import ui_lang


def build(
    dbs: Session, firm: Firm, assessment: Assessment, instrument: scoring.Instrument, snapshot: ScoreSnapshot
) -> dict[str, Any]:
    """Return the results context plus the firm's position among its peers (``benchmark`` is None without data)."""
    context = results_context.build(dbs, firm, assessment, instrument, snapshot, staff=False)
    bench = services.benchmark_for(dbs, firm, snapshot, assessment.instrument_version)
    context["benchmark"] = None if bench is None else _benchmark(bench, context, instrument)
    context["engine_version"] = snapshot.engine_version
    context["firm"] = firm
    return context


def _benchmark(bench: services.Benchmark, context: dict[str, Any], instrument: scoring.Instrument) -> dict[str, Any]:
    lng = ui_lang()
    names = {d.id: d.name.get(lng) for d in instrument.dimensions}
    pos = bench.position
    sufficient = pos.cohort.sufficient

    def metric(mid: str) -> dict[str, Any]:
        m = pos.metrics.get(mid)
        if m is None:
            return {"id": mid, "name": names.get(mid, mid), "score": None, "percentile": None, "n": 0}
        q = m.quantiles
        return {
            "id": mid,
            "name": names.get(mid, _("Composite score") if mid == "composite" else mid),
            "score": m.score,
            "percentile": m.percentile_rank,
            "n": m.n,
            "p25": q.get("p25"),
            "p50": q.get("p50"),
            "p75": q.get("p75"),
            "p90": q.get("p90"),
        }

    overall = metric("composite")
    dims = [metric(d) for d in bench.dimension_ids]
    for d in [overall, *dims]:
        d["bar"] = bar_svg(
            d["percentile"], label=_("Percentile rank %(p)s", p=_fmt(d["percentile"])), chart_id=f"pct-{d['id']}"
        )
    # The strip marks the firm, the median and P90 on 0–100, without per-bin peer counts: counts of a few firms per
    # bin can be worked out by comparing reports (nested cohorts, before and after a submission), docs/suppression.md §8
    strips = {
        d["id"]: strip_svg(
            (),
            score=d["score"],
            p50=d.get("p50"),
            p90=d.get("p90"),
            label=_("Your score, the peer median and P90 for %(name)s", name=d["name"]),
            chart_id=f"strip-{d['id']}",
        )
        for d in [overall, *dims]
        if sufficient
    }
    if sufficient:
        labels = [d["name"] for d in dims]
        radar = radar_svg(
            labels,
            [
                Series(_("Your firm"), [d["score"] for d in dims], PALETTE[0]),
                Series(_("Peer median"), [d["p50"] for d in dims], PALETTE[1], dashed=True),
                Series(_("Best in class (P90)"), [d["p90"] for d in dims], PALETTE[2], dashed=True),
            ],
            title=_("Your firm against its peers"),
            desc=_("Radar chart of the eight maturity dimensions: your scores, the peer median and the peer P90."),
            chart_id="bench-radar",
        )
    else:
        radar = None
    ranked = sorted((d for d in dims if d["percentile"] is not None), key=lambda d: d["percentile"], reverse=True)
    return {
        "cohort_label": bench.cohort_label,
        "cohort_level": pos.cohort.key,
        "n": pos.cohort.n,
        "sufficient": sufficient,
        "widened": bench.widened,
        "suppress_k": services.params().suppress_k,
        "stats_version": bench.stats_version,
        "overall": overall,
        "dimensions": dims,
        "radar_chart": radar,
        "strips": strips,
        "strengths": ranked[:2],
        "weaknesses": list(reversed(ranked[-2:])) if len(ranked) > 2 else [],
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"
