"""Ranking, previews, the two-person decision, 公示 with objections, and the final publication.

The engine ranks (``scoring.programme.rank``); this module only gathers the frozen inputs, stores them with the
result so that the decision can be recomputed, and applies the two-person rule and the 公示 rules. City staff only.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.core.tenancy import acting_in_tenant
from saas.models import Firm, User
from saas.models.programme import (
    ProgrammeApplication,
    ProgrammeAssignment,
    ProgrammeDecision,
    ProgrammeObjection,
    ProgrammeRound,
)
from saas.programme import audit, services
from saas.programme.access import beijing_today, require_city_staff
from saas.programme.errors import InvalidInput, NotFound, ProgrammeError
from scoring import codec
from scoring import programme as engine

#: Why an application that never passed pre-review, or left the running, is out of the ranking (Candidate.excluded).
EXCLUSIONS = {
    "withdrawn": "withdrawn",
    "rejected": "pre_review_rejected",
    "submitted": "pre_review_not_passed",
    "returned": "pre_review_not_passed",
    "removed": "objection_upheld",
}


def _json(value: Any) -> Any:
    """The engine's result as plain JSON data (what the JSON column gives back)."""
    return json.loads(json.dumps(codec.to_dict(value), default=str))


def _require_city(staff: User) -> None:

    require_city_staff(staff)


def round_applications(dbs: Session, rnd: ProgrammeRound) -> list[ProgrammeApplication]:
    """Every non-draft application of the round (cross-tenant read for city staff; RLS staff-read on PostgreSQL)."""
    return list(
        dbs.scalars(
            select(ProgrammeApplication)
            .where(ProgrammeApplication.round_id == rnd.id, ProgrammeApplication.status != "draft")
            .order_by(ProgrammeApplication.id)
            .execution_options(all_tenants=True)
        )
    )


def candidates(dbs: Session, rnd: ProgrammeRound) -> list[engine.Candidate]:
    """The engine's candidates: frozen snapshot facts, submitted reviews, and the exclusion codes."""
    reviews: dict[uuid.UUID, list[engine.Review]] = {}
    for a in dbs.scalars(
        select(ProgrammeAssignment)
        .where(ProgrammeAssignment.round_id == rnd.id, ProgrammeAssignment.status == "submitted")
        .execution_options(all_tenants=True)
    ):
        reviews.setdefault(a.application_id, []).append(
            engine.Review(str(a.expert_id), {k: float(v) for k, v in a.scores.items()})
        )
    out = []
    for app in round_applications(dbs, rnd):
        out.append(
            engine.Candidate(
                application_id=str(app.id),
                industry=app.industry,
                county=app.county,
                facts=engine.facts_from_snapshot(app.snapshot_row(), app.consents),
                submitted_at=app.submitted_at,
                reviews=tuple(sorted(reviews.get(app.id, []), key=lambda r: r.reviewer_id)),
                excluded=EXCLUSIONS.get(app.status),
            )
        )
    return out


def rank_round(
    dbs: Session, rnd: ProgrammeRound, changes: dict[str, Any] | None = None
) -> tuple[engine.Ranking, engine.RoundParams]:
    """Rank the round under its frozen parameters, or a preview with ``changes`` (never stored)."""
    params = engine.RoundParams.from_dict(rnd.params)
    if changes:
        try:
            params = params.replace(changes)
        except engine.ProgrammeError as exc:
            raise InvalidInput("invalid_params", {p.path or "params": p.key for p in exc.problems}) from exc
    return engine.rank(candidates(dbs, rnd), params, rnd.closes_on), params


@dataclass(frozen=True)
class Preview:
    current: engine.Ranking
    preview: engine.Ranking
    diff: engine.RankingDiff


def preview(dbs: Session, staff: User, rnd: ProgrammeRound, changes: dict[str, Any]) -> Preview:
    """Compare the ranking under the frozen parameters with one under ``changes``; nothing is stored or changed."""
    _require_city(staff)
    current, _p = rank_round(dbs, rnd)
    other, _q = rank_round(dbs, rnd, changes)
    return Preview(current, other, engine.diff_rankings(current, other))


def latest_decision(dbs: Session, rnd: ProgrammeRound) -> ProgrammeDecision | None:
    return dbs.scalar(
        select(ProgrammeDecision)
        .where(ProgrammeDecision.round_id == rnd.id, ProgrammeDecision.status != "superseded")
        .order_by(ProgrammeDecision.recorded_at.desc())
        .limit(1)
    )


def record_decision(dbs: Session, staff: User, rnd: ProgrammeRound, *, now: datetime) -> ProgrammeDecision:
    """Record the ranking under the frozen parameters with every input; a second staff member must confirm it."""
    _require_city(staff)
    if rnd.status != "ranked":
        raise ProgrammeError("not_ranked_state", status=rnd.status)
    previous = latest_decision(dbs, rnd)
    if previous is not None and previous.status == "confirmed":
        raise ProgrammeError("decision_confirmed")
    if previous is not None:
        previous.status = "superseded"
    params = engine.RoundParams.from_dict(rnd.params)
    cands = candidates(dbs, rnd)
    ranking = engine.rank(cands, params, rnd.closes_on)
    decision = ProgrammeDecision(
        round_id=rnd.id,
        status="proposed",
        as_of=rnd.closes_on,
        params=params.to_dict(),
        candidates=_json(cands),
        ranking=_json(ranking),
        public_entries=[],
        recorded_by_id=staff.id,
        recorded_at=now,
    )
    dbs.add(decision)
    dbs.flush()
    audit.append(
        dbs,
        staff.id,
        "decision.recorded",
        now=now,
        round_id=rnd.id,
        decision_id=decision.id,
        selected=list(ranking.selected),
    )
    return decision


def confirm_decision(
    dbs: Session, staff: User, rnd: ProgrammeRound, decision: ProgrammeDecision, *, now: datetime
) -> None:
    """The second city staff member confirms: never the one who recorded it (two-person rule)."""
    _require_city(staff)
    if decision.round_id != rnd.id or decision.status != "proposed":
        raise ProgrammeError("decision_not_proposed")
    if decision.recorded_by_id == staff.id:
        raise ProgrammeError("same_person")
    # the inputs must still give the recorded ranking: nothing changed since it was recorded
    again = engine.rank(candidates(dbs, rnd), engine.RoundParams.from_dict(decision.params), decision.as_of)
    if _json(again) != decision.ranking:
        raise ProgrammeError("inputs_changed")
    decision.status, decision.confirmed_by_id, decision.confirmed_at = "confirmed", staff.id, now
    decision.public_entries = publication(dbs, decision)
    dbs.flush()
    entry = audit.append(
        dbs,
        staff.id,
        "decision.confirmed",
        now=now,
        round_id=rnd.id,
        decision_id=decision.id,
        recorded_by=decision.recorded_by_id,
        selected=[e["application_id"] for e in decision.ranking["entries"] if e["status"] == "selected"],
        ranking_sha256=audit.digest(decision.ranking),
        public_entries_sha256=audit.digest(decision.public_entries),
    )
    decision.head_hash = entry.hash
    dbs.flush()


def confirmed_decision(dbs: Session, rnd: ProgrammeRound) -> ProgrammeDecision:
    decision = latest_decision(dbs, rnd)
    if decision is None or decision.status != "confirmed":
        raise ProgrammeError("no_confirmed_decision")
    return decision


def start_publicity(dbs: Session, rnd: ProgrammeRound, *, today: date) -> engine.PublicityPeriod:
    """Fix the 公示 period from today in Chinese working days (holidays and 调休 counted)."""
    decision = confirmed_decision(dbs, rnd)
    try:
        period = engine.publicity_period(today, int(rnd.params["publicity_working_days"]))
    except engine.CalendarNotCovered as exc:
        raise ProgrammeError("calendar_not_covered") from exc
    decision.publicity_start, decision.publicity_end = period.first_day, period.end
    dbs.flush()
    return period


def check_can_finalise(dbs: Session, rnd: ProgrammeRound, *, today: date) -> None:
    """公布 only after the last day of 公示 and with every objection answered."""
    decision = confirmed_decision(dbs, rnd)
    if decision.publicity_end is None or today <= decision.publicity_end:
        raise ProgrammeError("publicity_not_over", end=str(decision.publicity_end))
    open_objections = dbs.scalar(
        select(ProgrammeObjection.id).where(ProgrammeObjection.round_id == rnd.id, ProgrammeObjection.status == "open")
    )
    if open_objections is not None:
        raise ProgrammeError("objections_open")


@dataclass(frozen=True)
class PublicEntry:
    application_id: str
    firm_id: uuid.UUID
    name: str | None  # None when the firm did not consent to publication of its name
    county: str
    industry: str
    score: float | None
    rank: int | None
    reason: str
    removed: bool
    removed_reason: str | None


def publication(dbs: Session, decision: ProgrammeDecision) -> list[dict[str, Any]]:
    """The 公示 list fixed at confirmation: each selected entry with only what its firm consented to publish.

    Read by city staff (every application in scope); stored on the decision, so the public page never reads a
    firm's rows.
    """
    selected = [e for e in decision.ranking["entries"] if e["status"] == "selected"]
    ids = [uuid.UUID(e["application_id"]) for e in selected]
    if not ids:
        return []
    apps = {
        a.id: a
        for a in dbs.scalars(
            select(ProgrammeApplication).where(ProgrammeApplication.id.in_(ids)).execution_options(all_tenants=True)
        )
    }
    firms = {f.id: f for f in dbs.scalars(select(Firm).where(Firm.id.in_([a.firm_id for a in apps.values()])))}
    out = []
    for e in selected:
        app = apps[uuid.UUID(e["application_id"])]
        consented = app.consent_publish
        out.append(
            {
                "application_id": e["application_id"],
                "firm_id": str(app.firm_id),
                "name": firms[app.firm_id].name if consented else None,
                "county": app.county,
                "industry": app.industry,
                "score": e["score"] if consented else None,
                "rank": e["rank"],
                "reason": e["reason"],
            }
        )
    return out


def public_entries(dbs: Session, rnd: ProgrammeRound, decision: ProgrammeDecision) -> list[PublicEntry]:
    """The confirmed 公示 list; an entry removed after an upheld objection carries the answer as its reason."""
    upheld = {
        o.application_id: o.answer
        for o in dbs.scalars(
            select(ProgrammeObjection).where(
                ProgrammeObjection.round_id == rnd.id, ProgrammeObjection.status == "upheld"
            )
        )
    }
    out = []
    for e in decision.public_entries:
        application_id = uuid.UUID(e["application_id"])
        out.append(
            PublicEntry(
                application_id=e["application_id"],
                firm_id=uuid.UUID(e["firm_id"]),
                name=e["name"],
                county=e["county"],
                industry=e["industry"],
                score=e["score"],
                rank=e["rank"],
                reason=e["reason"],
                removed=application_id in upheld,
                removed_reason=upheld.get(application_id),
            )
        )
    return out


# --- Objections ---------------------------------------------------------------------------------------------------

MAX_REASON = 2000


def lodge_objection(
    dbs: Session,
    rnd: ProgrammeRound,
    application_id: uuid.UUID,
    *,
    name: str,
    contact: str,
    reason: str,
    ip: str | None,
    now: datetime,
) -> ProgrammeObjection:
    """Anyone may object to a 公示 entry during the period, with contact details and a reason."""

    if rnd.status != "publicity":
        raise ProgrammeError("not_in_publicity")
    decision = confirmed_decision(dbs, rnd)
    if decision.publicity_end is not None and beijing_today(now) > decision.publicity_end:
        raise ProgrammeError("publicity_over")
    entry = next((e for e in decision.public_entries if e["application_id"] == str(application_id)), None)
    if entry is None:
        raise NotFound("entry_not_found")
    problems = {}
    if not name.strip():
        problems["name"] = "required"
    if not contact.strip():
        problems["contact"] = "required"
    if len(reason.strip()) < 10:
        problems["reason"] = "reason_too_short"
    if problems:
        raise InvalidInput("incomplete", problems)
    firm_id = uuid.UUID(entry["firm_id"])
    objection = ProgrammeObjection(
        round_id=rnd.id,
        application_id=application_id,
        subject_firm_id=firm_id,
        name=name.strip()[:50],
        contact=contact.strip()[:100],
        reason=reason.strip()[:MAX_REASON],
        ip=ip,
        created_at=now,
        status="open",
    )
    dbs.add(objection)
    dbs.flush()
    audit.append(
        dbs,
        None,
        "objection.lodged",
        now=now,
        round_id=rnd.id,
        firm_id=firm_id,
        objection_id=objection.id,
        application_id=application_id,
        reason=objection.reason,
    )
    return objection


def answer_objection(
    dbs: Session,
    staff: User,
    rnd: ProgrammeRound,
    objection: ProgrammeObjection,
    *,
    uphold: bool,
    answer: str,
    now: datetime,
) -> None:
    """Staff answer an objection; an upheld one removes the entry from the list, with the answer as the reason."""

    _require_city(staff)
    if objection.status != "open":
        raise ProgrammeError("objection_answered")
    if not answer.strip():
        raise InvalidInput("reason_required", {"answer": "required"})
    objection.status = "upheld" if uphold else "dismissed"
    objection.answer, objection.answered_by_id, objection.answered_at = answer.strip(), staff.id, now
    dbs.flush()
    audit.append(
        dbs,
        staff.id,
        f"objection.{objection.status}",
        now=now,
        round_id=rnd.id,
        firm_id=objection.subject_firm_id,
        objection_id=objection.id,
        answer=objection.answer,
    )
    if uphold:
        with acting_in_tenant(dbs, objection.subject_firm_id):
            app = dbs.get(ProgrammeApplication, (objection.subject_firm_id, objection.application_id))
            assert app is not None
            app.status, app.reject_reason, app.updated_at = "removed", objection.answer, now
            dbs.flush()
            services._step(dbs, staff, rnd, app, "removed_after_objection", now=now, note=objection.answer)


def objections(dbs: Session, rnd: ProgrammeRound) -> list[ProgrammeObjection]:
    return list(
        dbs.scalars(
            select(ProgrammeObjection)
            .where(ProgrammeObjection.round_id == rnd.id)
            .order_by(ProgrammeObjection.created_at, ProgrammeObjection.id)
        )
    )


def get_objection(dbs: Session, rnd: ProgrammeRound, objection_id: uuid.UUID) -> ProgrammeObjection:
    objection = dbs.get(ProgrammeObjection, objection_id)
    if objection is None or objection.round_id != rnd.id:
        raise NotFound("objection_not_found")
    return objection


def final_entries(dbs: Session, rnd: ProgrammeRound) -> list[PublicEntry]:
    """The published list (公布): the confirmed selection without the entries removed after an objection."""
    return [e for e in public_entries(dbs, rnd, confirmed_decision(dbs, rnd)) if not e.removed]


def awards(dbs: Session, firm_id: uuid.UUID) -> list[tuple[int, str]]:
    """(year, kind) of every published round (公布 or later) that selected the firm, newest first; reads only the
    bureau's tables (the decision's 公示 list and the objections), never the firm's rows. Only an entry published
    under its name counts: a firm that did not consent to publication gets no public badge."""
    rows = dbs.execute(
        select(ProgrammeRound, ProgrammeDecision)
        .join(ProgrammeDecision, ProgrammeDecision.round_id == ProgrammeRound.id)
        .where(ProgrammeRound.status.in_(("final", "follow_up", "archived")), ProgrammeDecision.status == "confirmed")
        .order_by(ProgrammeRound.year.desc(), ProgrammeRound.kind)
    ).all()
    out = []
    for rnd, decision in rows:
        if any(
            e.firm_id == firm_id and not e.removed and e.name is not None for e in public_entries(dbs, rnd, decision)
        ):
            out.append((rnd.year, rnd.kind))
    return out


@dataclass(frozen=True)
class RoundStats:
    round: ProgrammeRound
    by_county: dict[str, int]
    by_industry: dict[str, int]
    submitted: int  # ever submitted (not drafts)
    passed_pre_review: int
    selected: int
    removed: int
    score_bands: dict[str, int]  # expert final score bands of reviewed applications: "<60", "60-69", … "90+"


def dashboard(dbs: Session, staff: User) -> list[RoundStats]:
    """Per round: applications by county and industry, pass rates per stage, expert score distribution (city staff)."""
    _require_city(staff)
    out = []
    for rnd in dbs.scalars(select(ProgrammeRound).order_by(ProgrammeRound.year.desc(), ProgrammeRound.created_at)):
        apps = round_applications(dbs, rnd)
        by_county: dict[str, int] = {}
        by_industry: dict[str, int] = {}
        bands: dict[str, int] = {}
        for a in apps:
            by_county[a.county] = by_county.get(a.county, 0) + 1
            by_industry[a.industry] = by_industry.get(a.industry, 0) + 1
            final = (a.expert_verdict or {}).get("final")
            if final is not None:
                band = (
                    "<60"
                    if final < 60
                    else "90+"
                    if final >= 90
                    else f"{int(final // 10) * 10}-{int(final // 10) * 10 + 9}"
                )
                bands[band] = bands.get(band, 0) + 1
        decision = latest_decision(dbs, rnd)
        selected = (
            len([e for e in decision.ranking["entries"] if e["status"] == "selected"])
            if decision is not None and decision.status == "confirmed"
            else 0
        )
        out.append(
            RoundStats(
                round=rnd,
                by_county=by_county,
                by_industry=by_industry,
                submitted=len(apps),
                passed_pre_review=len([a for a in apps if a.status in ("passed", "removed")]),
                selected=selected,
                removed=len([a for a in apps if a.status == "removed"]),
                score_bands=dict(sorted(bands.items())),
            )
        )
    return out
