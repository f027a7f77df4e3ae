"""Follow-up of a selected demonstration project (docs/programme.md §3.8): T1 against the T0 frozen at submission,
the promised KPIs against what was achieved, and the acceptance record (验收).

Shape of ``services.py``: city staff as actor, the clock as ``now``; ``ProgrammeError`` out; ``flush()``, never
commit; every step goes to the firm's timeline and the audit chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.models import Firm, ScoreSnapshot, User
from saas.models.programme import ProgrammeApplication, ProgrammeRound
from saas.programme import decisions, services
from saas.programme.access import beijing_today, require_city_staff
from saas.programme.errors import InvalidInput, ProgrammeError
from scoring import programme as engine

FOLLOW_UP_STATES = ("final", "follow_up")
ACCEPTANCE = ("passed", "not_passed")


def promised_kpis(app: ProgrammeApplication) -> list[str]:
    """The expected KPI outcomes of the application, one per non-empty line."""
    return [line.strip() for line in str((app.project or {}).get("kpis", "")).splitlines() if line.strip()]


def is_selected(dbs: Session, rnd: ProgrammeRound, app: ProgrammeApplication) -> bool:
    """Whether the application is on the published list (公布) of its round."""
    if rnd.status not in (*FOLLOW_UP_STATES, "archived"):
        return False
    return any(e.application_id == str(app.id) for e in decisions.final_entries(dbs, rnd))


def t1_snapshot(dbs: Session, rnd: ProgrammeRound, app: ProgrammeApplication) -> ScoreSnapshot | None:
    """The firm's latest snapshot after T0 on the round's basis: verified only when the round required it."""
    kinds = ("verified",) if rnd.params["eligibility"]["require_verified"] else ("verified", "submitted")
    assert app.snapshot_created_at is not None
    for kind in kinds:
        snap = dbs.scalar(
            select(ScoreSnapshot)
            .where(
                ScoreSnapshot.firm_id == app.firm_id,
                ScoreSnapshot.kind == kind,
                ScoreSnapshot.created_at > app.snapshot_created_at,
            )
            .order_by(ScoreSnapshot.created_at.desc(), ScoreSnapshot.id)
            .limit(1)
        )
        if snap is not None:
            return snap
    return None


def _sha256(snap: ScoreSnapshot) -> str:
    return hashlib.sha256(
        json.dumps(
            {"id": str(snap.id), "kind": snap.kind, "created_at": snap.created_at.isoformat(), "result": snap.result},
            sort_keys=True,
            ensure_ascii=False,
        ).encode()
    ).hexdigest()


@dataclass(frozen=True)
class FollowUpInput:
    achieved: list[str]  # one per promised KPI, in order
    met: list[bool]
    acceptance: str | None  # None: record T1 and the KPIs without the acceptance yet
    acceptance_on: date | None
    reason: str


def record_follow_up(
    dbs: Session,
    staff: User,
    rnd: ProgrammeRound,
    app: ProgrammeApplication,
    firm: Firm,
    data: FollowUpInput,
    *,
    now: datetime,
) -> None:
    """Copy the firm's T1 snapshot, store the KPIs achieved and, when given, the acceptance (final once recorded)."""
    require_city_staff(staff)
    if rnd.kind != "project" or rnd.status not in FOLLOW_UP_STATES or not is_selected(dbs, rnd, app):
        raise ProgrammeError("follow_up_not_open")
    if app.acceptance is not None:
        raise ProgrammeError("acceptance_recorded")
    kpis = promised_kpis(app)
    problems: dict[str, str] = {}
    if data.acceptance is not None:
        if data.acceptance not in ACCEPTANCE:
            problems["acceptance"] = "required"
        if data.acceptance_on is None:
            problems["acceptance_on"] = "required"
        elif data.acceptance_on > beijing_today(now):
            problems["acceptance_on"] = "not_in_future"
        if data.acceptance == "not_passed" and not data.reason.strip():
            problems["reason"] = "required"
    if problems:
        raise InvalidInput("invalid_follow_up", problems)
    snap = t1_snapshot(dbs, rnd, app)
    if snap is None:
        raise ProgrammeError("no_t1_snapshot")
    app.t1_snapshot_id, app.t1_snapshot_kind, app.t1_snapshot_created_at = snap.id, snap.kind, snap.created_at
    app.t1_snapshot_result, app.t1_snapshot_sha256 = snap.result, _sha256(snap)
    app.kpi_results = [
        {
            "kpi": kpi,
            "achieved": (data.achieved[i] if i < len(data.achieved) else "").strip()[:500],
            "met": bool(data.met[i]) if i < len(data.met) else False,
        }
        for i, kpi in enumerate(kpis)
    ]
    app.followup_at = app.updated_at = now
    dbs.flush()
    services._step(
        dbs,
        staff,
        rnd,
        app,
        "follow_up_recorded",
        now=now,
        t1_snapshot_id=str(snap.id),
        t1_snapshot_sha256=app.t1_snapshot_sha256,
        kpis=app.kpi_results,
    )
    if data.acceptance is not None:
        assert data.acceptance_on is not None
        app.acceptance, app.acceptance_on = data.acceptance, data.acceptance_on
        app.acceptance_reason = data.reason.strip()[:500] or None
        app.acceptance_by_id = staff.id
        dbs.flush()
        services._step(
            dbs,
            staff,
            rnd,
            app,
            f"acceptance_{data.acceptance}",
            now=now,
            note=app.acceptance_reason,
            acceptance_on=data.acceptance_on.isoformat(),
        )


@dataclass(frozen=True)
class DimensionChange:
    dimension_id: str
    t0: float | None
    t1: float | None

    @property
    def delta(self) -> float | None:
        return None if self.t0 is None or self.t1 is None else round(self.t1 - self.t0, 1)


@dataclass(frozen=True)
class Comparison:
    t0: engine.EligibilityFacts
    t1: engine.EligibilityFacts | None
    dimensions: list[DimensionChange]

    @property
    def maturity_delta(self) -> float | None:
        if self.t1 is None or self.t0.maturity is None or self.t1.maturity is None:
            return None
        return round(self.t1.maturity - self.t0.maturity, 1)


def comparison(app: ProgrammeApplication) -> Comparison | None:
    """T0 → T1 per maturity dimension (and M, C) from the two frozen snapshots; None without a T0."""
    if app.snapshot_row() is None:
        return None
    t0 = engine.facts_from_snapshot(app.snapshot_row(), app.consents)
    t1 = engine.facts_from_snapshot(app.t1_snapshot_row(), app.consents) if app.t1_snapshot_result else None
    ids = list(t0.dimensions) + [d for d in (t1.dimensions if t1 else {}) if d not in t0.dimensions]
    return Comparison(
        t0=t0,
        t1=t1,
        dimensions=[
            DimensionChange(d, t0.dimensions.get(d), t1.dimensions.get(d) if t1 else None) for d in sorted(ids)
        ],
    )


@dataclass(frozen=True)
class Outcome:
    round: ProgrammeRound
    application_id: str
    firm_name: str | None
    t0: float | None
    t1: float | None
    acceptance: str | None


def outcomes(dbs: Session, staff: User) -> list[Outcome]:
    """T0 → T1 maturity of every followed-up project (city staff; the 公示 name only where the firm consented)."""
    require_city_staff(staff)
    out = []
    rounds = dbs.scalars(
        select(ProgrammeRound)
        .where(ProgrammeRound.kind == "project", ProgrammeRound.status.in_((*FOLLOW_UP_STATES, "archived")))
        .order_by(ProgrammeRound.year.desc(), ProgrammeRound.created_at)
    )
    for rnd in rounds:
        names = {e.application_id: e.name for e in decisions.final_entries(dbs, rnd)}
        for app in decisions.round_applications(dbs, rnd):
            if app.t1_snapshot_result is None or str(app.id) not in names:
                continue
            cmp = comparison(app)
            assert cmp is not None and cmp.t1 is not None
            out.append(Outcome(rnd, str(app.id), names[str(app.id)], cmp.t0.maturity, cmp.t1.maturity, app.acceptance))
    return out


def slope_rows(items: list[Outcome]) -> dict[str, Any]:
    """Coordinates of a T0 → T1 slope chart (0–100 scale, 200 px high) for the dashboard's inline SVG."""
    lines = []
    for i, o in enumerate(items):
        if o.t0 is None or o.t1 is None:
            continue
        lines.append({"i": i + 1, "y0": round(200 - 2 * o.t0, 1), "y1": round(200 - 2 * o.t1, 1), "up": o.t1 >= o.t0})
    return {"lines": lines}
