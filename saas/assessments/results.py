"""Everything the results page (and later the PDF report) shows, computed from a stored snapshot.

The context holds plain values and SVG markup only, so the same dict can feed a web template or a PDF template.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from saas.assessments import services
from saas.models import Assessment, Firm, ScoreSnapshot
from saas.web.charts import PALETTE, Series, history_svg, radar_svg
from saas.web.lang import ui_lang


def _latest_snapshots(dbs: Session, firm: Firm) -> dict[Any, Any]:
    """Return the newest snapshot headline (composite, kind) per assessment of the firm, in one light query."""
    rows = dbs.execute(
        select(ScoreSnapshot.assessment_id, ScoreSnapshot.composite, ScoreSnapshot.kind)
        .where(ScoreSnapshot.firm_id == firm.id)
        .order_by(ScoreSnapshot.created_at)
    ).all()
    return {row.assessment_id: row for row in rows}


def history(dbs: Session, firm: Firm, assessments: list[Assessment]) -> dict[str, Any]:
    """Return the history chart and table of every submitted assessment of the firm (oldest first)."""
    latest = _latest_snapshots(dbs, firm)
    rows = [
        {"assessment": a, "snapshot": latest[a.id], "date": a.submitted_at}
        for a in sorted(assessments, key=lambda a: a.submitted_at or a.started_at)
        if a.submitted_at is not None and a.id in latest
    ]
    points = [(r["date"], r["snapshot"].composite) for r in rows if r["snapshot"].composite is not None]
    chart = None
    if points:
        chart = history_svg(
            points,
            title=_("Composite score over time"),
            desc=_("Composite score (0–100) of each submitted assessment, by submission date."),
            date_format=lambda d: format_date(d, "short"),
        )
    return {"history_rows": rows, "history_chart": chart}


def _dimension_rows(instrument: scoring.Instrument, result: scoring.ScoreResult, industry: str) -> list[dict[str, Any]]:
    lng = ui_lang()
    rows = []
    for dim in scoring.questions_for(instrument, industry):
        views = {name: result.view(name) for name in ("self", "evidence", "verified")}
        scores = {name: (v.dimension(dim.id) if v is not None else None) for name, v in views.items()}
        main = scores["verified"] or scores["self"]
        rows.append(
            {
                "id": dim.id,
                "name": dim.name.get(lng),
                "role": dim.role,
                "weight": dim.weight,
                "self": scores["self"].score if scores["self"] else None,
                "evidence": scores["evidence"].score if scores["evidence"] else None,
                "verified": scores["verified"].score if scores["verified"] else None,
                "level": main.level,
                "level_name": instrument.params.level_names[main.level].get(lng) if main.level is not None else None,
                "band": main.band,
                "insufficient": main.insufficient,
                "na_share": main.na_share,
            }
        )
    return rows


def _advice(instrument: scoring.Instrument, result: scoring.ScoreResult, names: dict[str, str]) -> list[dict]:
    lng = ui_lang()
    tiers = {t.tier: t.label.get(lng) for t in instrument.params.cost_tiers}
    plans = []
    for plan in result.advice:
        if not plan.items:
            continue
        plans.append(
            {
                "dimension": names.get(plan.dimension_id or "", _("Overall")) if plan.dimension_id else _("Overall"),
                "overall": plan.dimension_id is None,
                "current_level": plan.current_level,
                "target_level": plan.target_level,
                "target_name": instrument.params.level_names[plan.target_level].get(lng)
                if plan.target_level < len(instrument.params.level_names)
                else "",
                "reachable": plan.reachable,
                "total_items": plan.total_items,
                "steps": [
                    {
                        "text": item.advice.get(lng),
                        "label": item.label.get(lng) if item.label else None,
                        "dimension": names.get(item.dimension_id, item.dimension_id),
                        "tier": item.cost_tier,
                        "tier_label": tiers.get(item.cost_tier, ""),
                        "gain": item.gain,
                    }
                    for item in plan.items
                ],
            }
        )
    plans.sort(key=lambda p: (not p["overall"], p["dimension"]))
    return plans


def _comparison(
    dbs: Session, firm: Firm, assessment: Assessment, assessments: list[Assessment], instrument, result
) -> Any:
    previous = [
        a
        for a in assessments
        if a.submitted_at is not None
        and assessment.submitted_at is not None
        and a.submitted_at < assessment.submitted_at
        and a.instrument_version_id == assessment.instrument_version_id
    ]
    if not previous:
        return None
    prev = max(previous, key=lambda a: a.submitted_at)
    snap = services.latest_snapshot(dbs, firm, prev)
    if snap is None:
        return None
    return scoring.compare_results(instrument, services.stored_result(snap), result)


def build(
    dbs: Session,
    firm: Firm,
    assessment: Assessment,
    instrument: scoring.Instrument,
    snapshot: ScoreSnapshot,
    *,
    staff: bool,
) -> dict[str, Any]:
    """Return the template context of the results page for one snapshot."""
    lng = ui_lang()
    result = services.stored_result(snapshot)
    view = services.headline_view(result, snapshot.kind)
    rows = _dimension_rows(instrument, result, assessment.industry)
    names = {r["id"]: r["name"] for r in rows}
    radar = scoring.radar_data(instrument, result, lng)
    series = [Series(_("Self-assessment"), radar["series"]["self"], PALETTE[0])]
    if radar["series"]["evidence"] and radar["series"]["evidence"] != radar["series"]["self"]:
        series.append(Series(_("Supported by evidence"), radar["series"]["evidence"], PALETTE[1], dashed=True))
    if radar["series"]["verified"]:
        series.append(Series(_("Verified on site"), radar["series"]["verified"], PALETTE[2]))
    summary = "; ".join(
        f"{label} {'—' if v is None else round(v)}"
        for label, v in zip(radar["labels"], radar["series"]["self"], strict=True)
    )
    radar_chart = radar_svg(
        radar["labels"],
        series,
        title=_("Informatization maturity by dimension"),
        desc=_("Radar chart of the eight maturity dimensions, 0–100: %(summary)s", summary=summary),
    )
    priorities = sorted((p for p in result.priorities if p.top), key=lambda p: p.rank)
    assessments = services.list_assessments(dbs, firm)
    comparison = _comparison(dbs, firm, assessment, assessments, instrument, result)
    material = None
    if comparison is not None:
        material = [
            {"name": names.get(d.dimension_id, d.dimension_id), "delta": d.delta, "material": d.material}
            for d in comparison.dimensions
        ]
    return {
        "assessment": assessment,
        "snapshot": snapshot,
        "result": result,
        "view": view,
        "band_label": instrument.params.band_labels[view.band].get(lng) if view.band is not None else None,
        "level_name": instrument.params.level_names[view.level].get(lng) if view.level is not None else None,
        "radar_chart": radar_chart,
        "radar_labels": radar["labels"],
        "rows": rows,
        "priorities": [
            {
                "rank": p.rank,
                "name": names.get(p.dimension_id, p.dimension_id),
                "score": p.score,
                "quadrant": p.quadrant,
                "gap_next": p.gap_next,
            }
            for p in priorities
        ],
        "advice": _advice(instrument, result, names),
        "comparison": comparison,
        "deltas": material,
        "staff": staff,
        "flags": [{"severity": f.severity, "message": f.message.get(lng), "code": f.code} for f in result.flags]
        if staff
        else [],
        "instrument": instrument,
        **history(dbs, firm, assessments),
    }
