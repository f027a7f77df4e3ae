"""Programme services: rounds and their state machine, applications, county pre-review.

Shape of ``saas/rfqs/services.py``: validated input in; actor and clock (``now``) as arguments; ``ProgrammeError``
out; ``flush()``, never commit. Every state change appends to the audit chain and, for an application, to the
firm's timeline. The selection rules themselves are the engine's (``scoring.programme``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.core.links import external_url
from saas.core.mail import send_mail
from saas.core.security import in_staff_scope
from saas.core.tenancy import acting_in_tenant, set_tenant
from saas.models import Firm, Membership, ScoreSnapshot, User
from saas.models.programme import ProgrammeApplication, ProgrammeEvent, ProgrammeRound
from saas.programme import audit, decisions
from saas.programme.access import act_as_staff, beijing_today, require_city_staff
from saas.programme.errors import InvalidInput, NotFound, ProgrammeError
from scoring import programme as engine

#: The round's states in order; each transition goes to the next one only (``advance_round``).
ROUND_FLOW = (
    "draft",
    "open",
    "pre_review",
    "expert_review",
    "ranked",
    "publicity",
    "final",
    "follow_up",
    "archived",
)
#: Applications a firm may still change (and the county may not yet review).
EDITABLE = ("draft", "returned")
BEIJING_OFFSET_HOURS = 8


# --- Rounds ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundInput:
    year: int
    kind: str
    title: str
    opens_on: date
    closes_on: date
    changes: dict[str, Any]  # nested parameter changes over the kind's defaults (or over the stored params)


def _validated_params(kind: str, base: dict[str, Any] | None, changes: dict[str, Any]) -> dict[str, Any]:
    try:
        params = engine.RoundParams.from_dict(base) if base else engine.default_params(kind)
        if params.kind != kind:
            params = engine.default_params(kind)
        return params.replace(changes).to_dict()
    except engine.ProgrammeError as exc:
        raise InvalidInput(
            "invalid_params", {p.path or "params": p.key for p in exc.problems}, problems_list=exc.problems
        ) from exc


def _check_dates(data: RoundInput) -> None:
    if data.closes_on < data.opens_on:
        raise InvalidInput("closes_before_opens", {"closes_on": "closes_before_opens"})


def _check_title(dbs: Session, data: RoundInput, rnd: ProgrammeRound | None = None) -> None:
    """Refuse a title another round of the same year and kind already has (UNIQUE(year, kind, title))."""
    stmt = select(ProgrammeRound.id).where(
        ProgrammeRound.year == data.year, ProgrammeRound.kind == data.kind, ProgrammeRound.title == data.title
    )
    if rnd is not None:
        stmt = stmt.where(ProgrammeRound.id != rnd.id)
    if dbs.scalar(stmt.limit(1)) is not None:
        raise InvalidInput("title_taken", {"title": "title_taken"})


def create_round(dbs: Session, staff: User, data: RoundInput, *, now: datetime) -> ProgrammeRound:
    """Create a draft round with the kind's default parameters and ``data.changes`` applied."""
    require_city_staff(staff)
    _check_dates(data)
    _check_title(dbs, data)
    rnd = ProgrammeRound(
        year=data.year,
        kind=data.kind,
        title=data.title,
        opens_on=data.opens_on,
        closes_on=data.closes_on,
        status="draft",
        params=_validated_params(data.kind, None, data.changes),
        created_by_id=staff.id,
        created_at=now,
        updated_at=now,
    )
    dbs.add(rnd)
    dbs.flush()
    audit.append(dbs, staff.id, "round.created", now=now, round_id=rnd.id, title=rnd.title, params=rnd.params)
    return rnd


def edit_round(dbs: Session, staff: User, rnd: ProgrammeRound, data: RoundInput, *, now: datetime) -> None:
    """Change a draft round; the parameters are frozen once it opens."""
    require_city_staff(staff)
    if rnd.status != "draft":
        raise ProgrammeError("params_frozen")
    _check_dates(data)
    _check_title(dbs, data, rnd)
    base = rnd.params if data.kind == rnd.kind else None
    rnd.params = _validated_params(data.kind, base, data.changes)
    rnd.year, rnd.kind, rnd.title = data.year, data.kind, data.title
    rnd.opens_on, rnd.closes_on, rnd.updated_at = data.opens_on, data.closes_on, now
    dbs.flush()
    audit.append(dbs, staff.id, "round.edited", now=now, round_id=rnd.id, title=rnd.title, params=rnd.params)


def advance_round(dbs: Session, staff: User, rnd: ProgrammeRound, to: str, *, now: datetime) -> None:
    """Move the round to the next state ``to`` (explicit, audited); opening freezes the parameters."""
    require_city_staff(staff)
    position = ROUND_FLOW.index(rnd.status)
    if position + 1 >= len(ROUND_FLOW) or ROUND_FLOW[position + 1] != to:
        raise ProgrammeError("bad_transition", current=rnd.status, to=to)
    if to == "open":
        engine.RoundParams.from_dict(rnd.params)  # still valid under the current engine
        rnd.params_frozen_at = now

    if to == "publicity":
        decisions.start_publicity(dbs, rnd, today=beijing_today(now))
    if to == "final":
        decisions.check_can_finalise(dbs, rnd, today=beijing_today(now))
    before = rnd.status
    rnd.status, rnd.updated_at = to, now
    dbs.flush()
    audit.append(
        dbs,
        staff.id,
        "round.transition",
        now=now,
        round_id=rnd.id,
        before=before,
        after=to,
        params_sha256=params_digest(rnd.params) if to == "open" else None,
    )
    if to in ("publicity", "final"):
        _mail_selected(dbs, rnd, "programme_proposed" if to == "publicity" else "programme_final")


def _mail_selected(dbs: Session, rnd: ProgrammeRound, template: str) -> None:

    entries = decisions.public_entries(dbs, rnd, decisions.confirmed_decision(dbs, rnd))
    for entry in entries:
        if entry.removed:
            continue
        firm = dbs.get(Firm, entry.firm_id)
        assert firm is not None
        with acting_in_tenant(dbs, firm.id):
            app = dbs.get(ProgrammeApplication, (firm.id, uuid.UUID(entry.application_id)))
            assert app is not None
            _mail_owners(dbs, firm, app, template, round_title=rnd.title)


def params_digest(params: dict[str, Any]) -> str:
    """Return the SHA-256 of the round's parameters as stored (shown on the method page)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def get_round(dbs: Session, round_id: uuid.UUID, *, public: bool = False) -> ProgrammeRound:
    """Load a round; the public and firms never see a draft."""
    rnd = dbs.get(ProgrammeRound, round_id)
    if rnd is None or (public and rnd.status == "draft"):
        raise NotFound("round_not_found")
    return rnd


def list_rounds(dbs: Session, *, include_drafts: bool) -> list[ProgrammeRound]:
    stmt = select(ProgrammeRound).order_by(ProgrammeRound.year.desc(), ProgrammeRound.created_at.desc())
    if not include_drafts:
        stmt = stmt.where(ProgrammeRound.status != "draft")
    return list(dbs.scalars(stmt))


# --- Eligibility ------------------------------------------------------------------------------------------------


def latest_snapshot(dbs: Session, firm: Firm) -> ScoreSnapshot | None:
    """The firm's latest verified snapshot, else its latest submitted one (docs/programme.md §2.7)."""
    for kind in ("verified", "submitted"):
        snap = dbs.scalar(
            select(ScoreSnapshot)
            .where(ScoreSnapshot.firm_id == firm.id, ScoreSnapshot.kind == kind)
            .order_by(ScoreSnapshot.created_at.desc(), ScoreSnapshot.id)
            .limit(1)
        )
        if snap is not None:
            return snap
    return None


def snapshot_row(snap: ScoreSnapshot | None) -> dict[str, Any] | None:
    if snap is None:
        return None
    return {"id": snap.id, "kind": snap.kind, "created_at": snap.created_at, "result": snap.result}


def reference_date(rnd: ProgrammeRound, now: datetime) -> date:
    """The eligibility reference date: today while the round is open (never after its close), else its close."""
    return min(beijing_today(now), rnd.closes_on)


def firm_eligibility(
    dbs: Session, firm: Firm, rnd: ProgrammeRound, application: ProgrammeApplication | None, *, now: datetime
) -> engine.Eligibility:
    """The checklist for ``firm`` in ``rnd``: the frozen snapshot once submitted, else the latest one."""
    params = engine.RoundParams.from_dict(rnd.params)
    consents = application.consents if application is not None else ()
    if application is not None and application.snapshot_result is not None and application.status not in EDITABLE:
        row = application.snapshot_row()
    else:
        row = snapshot_row(latest_snapshot(dbs, firm))
    return engine.check_eligibility(engine.facts_from_snapshot(row, consents), params, reference_date(rnd, now))


# --- Applications -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationInput:
    declaration: str
    contact_name: str
    contact_phone: str
    consent_share: bool
    consent_publish: bool
    project: dict[str, Any]


def application_of(dbs: Session, firm: Firm, rnd: ProgrammeRound) -> ProgrammeApplication | None:
    return dbs.scalar(
        select(ProgrammeApplication).where(
            ProgrammeApplication.firm_id == firm.id, ProgrammeApplication.round_id == rnd.id
        )
    )


def get_application(dbs: Session, firm: Firm, application_id: uuid.UUID) -> ProgrammeApplication:
    """Load the firm's own application (another firm's is indistinguishable from a missing one)."""
    app = dbs.scalar(
        select(ProgrammeApplication).where(
            ProgrammeApplication.id == application_id, ProgrammeApplication.firm_id == firm.id
        )
    )
    if app is None:
        raise NotFound("application_not_found")
    return app


def _round_accepts(rnd: ProgrammeRound, now: datetime) -> bool:
    today = beijing_today(now)
    return rnd.status == "open" and rnd.opens_on <= today <= rnd.closes_on


def start_application(
    dbs: Session, firm: Firm, user: User, rnd: ProgrammeRound, *, now: datetime
) -> ProgrammeApplication:
    """Return the firm's application in ``rnd``, creating the draft (one per firm per round)."""
    existing = application_of(dbs, firm, rnd)
    if existing is not None:
        return existing
    if not _round_accepts(rnd, now):
        raise ProgrammeError("round_not_accepting")
    app = ProgrammeApplication(
        firm_id=firm.id,
        round_id=rnd.id,
        status="draft",
        county=firm.county,
        industry=firm.industry,
        contact_name=firm.contact_name,
        contact_phone=firm.contact_phone or "",
        created_at=now,
        updated_at=now,
    )
    dbs.add(app)
    dbs.flush()
    _step(dbs, user, rnd, app, "created", now=now)
    return app


def save_draft(dbs: Session, app: ProgrammeApplication, data: ApplicationInput, *, now: datetime) -> None:
    """Store the form as it is (autosave); nothing is checked for completeness until submission."""
    if app.status not in EDITABLE:
        raise ProgrammeError("application_locked", status=app.status)
    app.declaration = data.declaration
    app.contact_name, app.contact_phone = data.contact_name, data.contact_phone
    app.consent_share, app.consent_publish = data.consent_share, data.consent_publish
    app.project = data.project
    app.updated_at = now
    dbs.flush()


def completeness_problems(rnd: ProgrammeRound, app: ProgrammeApplication) -> dict[str, str]:
    """Fields a submission needs, by kind (the county's 形式审查 checks the same list)."""
    problems: dict[str, str] = {}
    if len(app.declaration.strip()) < 20:
        problems["declaration"] = "declaration_too_short"
    if not app.contact_name.strip():
        problems["contact_name"] = "required"
    if not app.contact_phone.strip():
        problems["contact_phone"] = "required"
    if rnd.kind == "project":
        project = app.project or {}
        for key in ("name", "schedule", "kpis"):
            if not str(project.get(key) or "").strip():
                problems[f"project_{key}"] = "required"
        if not project.get("dimensions"):
            problems["project_dimensions"] = "required"
        if not project.get("investment_wan"):
            problems["project_investment_wan"] = "required"
    return problems


def submit_application(
    dbs: Session, firm: Firm, user: User, rnd: ProgrammeRound, app: ProgrammeApplication, *, now: datetime
) -> None:
    """Submit (or resubmit after a return): complete, eligible, and the snapshot frozen into the application."""
    if app.status not in EDITABLE:
        raise ProgrammeError("application_locked", status=app.status)
    if app.status == "returned":
        if app.return_deadline is not None and beijing_today(now) > app.return_deadline:
            raise ProgrammeError("return_deadline_passed", deadline=app.return_deadline.isoformat())
    elif not _round_accepts(rnd, now):
        raise ProgrammeError("round_not_accepting")
    problems = completeness_problems(rnd, app)
    if problems:
        raise InvalidInput("incomplete", problems)
    snap = latest_snapshot(dbs, firm)
    verdict = engine.check_eligibility(
        engine.facts_from_snapshot(snapshot_row(snap), app.consents),
        engine.RoundParams.from_dict(rnd.params),
        reference_date(rnd, now),
    )
    if not verdict.eligible:
        raise ProgrammeError("not_eligible", failed=[r.rule for r in verdict.failed])
    assert snap is not None  # an eligible checklist has a snapshot
    freeze_snapshot(app, snap)
    resubmitted = app.status == "returned"
    app.status, app.submitted_at, app.updated_at = "submitted", now, now
    app.county, app.industry = firm.county, firm.industry
    dbs.flush()
    _step(
        dbs,
        user,
        rnd,
        app,
        "resubmitted" if resubmitted else "submitted",
        now=now,
        snapshot_id=snap.id,
        snapshot_sha256=app.snapshot_sha256,
    )
    _mail_owners(dbs, firm, app, "programme_received", round_title=rnd.title)


def freeze_snapshot(app: ProgrammeApplication, snap: ScoreSnapshot) -> None:
    """Copy the snapshot into the application with a SHA-256 of its id, kind, time and result."""
    app.snapshot_id, app.snapshot_kind, app.snapshot_created_at = snap.id, snap.kind, snap.created_at
    app.snapshot_result = snap.result
    app.snapshot_sha256 = hashlib.sha256(
        json.dumps(
            {"id": str(snap.id), "kind": snap.kind, "created_at": snap.created_at.isoformat(), "result": snap.result},
            sort_keys=True,
            ensure_ascii=False,
        ).encode()
    ).hexdigest()


def withdraw_application(
    dbs: Session, firm: Firm, user: User, rnd: ProgrammeRound, app: ProgrammeApplication, *, now: datetime
) -> None:
    """Withdraw before the close (a draft, a submission or a returned application)."""
    if app.status not in ("draft", "submitted", "returned"):
        raise ProgrammeError("application_locked", status=app.status)
    if not _round_accepts(rnd, now):
        raise ProgrammeError("round_closed")
    app.status, app.updated_at = "withdrawn", now
    dbs.flush()
    _step(dbs, user, rnd, app, "withdrawn", now=now)


def timeline(dbs: Session, app: ProgrammeApplication) -> list[ProgrammeEvent]:
    return list(
        dbs.scalars(
            select(ProgrammeEvent)
            .where(ProgrammeEvent.firm_id == app.firm_id, ProgrammeEvent.application_id == app.id)
            .order_by(ProgrammeEvent.at, ProgrammeEvent.id)
        )
    )


def _step(
    dbs: Session,
    actor: User | None,
    rnd: ProgrammeRound,
    app: ProgrammeApplication,
    action: str,
    *,
    now: datetime,
    note: str | None = None,
    **detail: Any,
) -> None:
    dbs.add(
        ProgrammeEvent(
            firm_id=app.firm_id,
            application_id=app.id,
            at=now,
            status=app.status,
            action=action,
            note=note,
            actor_id=actor.id if actor else None,
        )
    )
    dbs.flush()
    audit.append(
        dbs,
        actor.id if actor else None,
        f"application.{action}",
        now=now,
        round_id=rnd.id,
        firm_id=app.firm_id,
        application_id=app.id,
        status=app.status,
        note=note,
        **detail,
    )


def _mail_owners(dbs: Session, firm: Firm, app: ProgrammeApplication, template: str, **context: Any) -> None:

    context["link"] = external_url("programme.application", application_id=app.id)
    owners = dbs.scalars(select(Membership).where(Membership.firm_id == firm.id, Membership.role == "owner")).unique()
    for membership in owners:
        send_mail(dbs, membership.user.email, template, user=membership.user, firm=firm.name, **context)


# --- County pre-review (形式审查) ---------------------------------------------------------------------------------

PRE_REVIEW_DECISIONS = ("pass", "return", "reject")


def staff_applications(
    dbs: Session, staff: User, rnd: ProgrammeRound, status: str | None = None
) -> list[tuple[ProgrammeApplication, Firm]]:
    """The round's non-draft applications in the staff member's scope (county staff: their county only).

    A deliberate cross-tenant read (``all_tenants``); on PostgreSQL the staff-read policy enforces the same scope.
    """
    act_as_staff(dbs, staff)
    stmt = (
        select(ProgrammeApplication, Firm)
        .join(Firm, Firm.id == ProgrammeApplication.firm_id)
        .where(ProgrammeApplication.round_id == rnd.id, ProgrammeApplication.status != "draft")
        .order_by(ProgrammeApplication.submitted_at, ProgrammeApplication.id)
        .execution_options(all_tenants=True)
    )
    if staff.kind != "admin" and staff.staff_county is not None:
        stmt = stmt.where(ProgrammeApplication.county == staff.staff_county)
    if status:
        stmt = stmt.where(ProgrammeApplication.status == status)
    return [(a, f) for a, f in dbs.execute(stmt).all()]


def counts_by_status(dbs: Session, staff: User, rnd: ProgrammeRound) -> dict[str, int]:
    act_as_staff(dbs, staff)
    stmt = (
        select(ProgrammeApplication.status, func.count())
        .where(ProgrammeApplication.round_id == rnd.id)
        .group_by(ProgrammeApplication.status)
        .execution_options(all_tenants=True)
    )
    if staff.kind != "admin" and staff.staff_county is not None:
        stmt = stmt.where(ProgrammeApplication.county == staff.staff_county)
    return dict(dbs.execute(stmt).all())


def staff_application(
    dbs: Session, staff: User, firm_id: uuid.UUID, application_id: uuid.UUID
) -> tuple[ProgrammeApplication, Firm]:
    """Load one submitted application the staff member may see and bind the session to its firm."""
    firm = dbs.get(Firm, firm_id)
    if firm is None or not in_staff_scope(staff, firm.county):
        raise NotFound("application_not_found")
    set_tenant(dbs, firm.id, staff.id)
    app = dbs.scalar(
        select(ProgrammeApplication).where(
            ProgrammeApplication.id == application_id, ProgrammeApplication.firm_id == firm.id
        )
    )
    if app is None or app.status == "draft" or not in_staff_scope(staff, app.county):
        raise NotFound("application_not_found")
    return app, firm


def pre_review(
    dbs: Session,
    staff: User,
    rnd: ProgrammeRound,
    app: ProgrammeApplication,
    firm: Firm,
    decision: str,
    *,
    reason: str,
    deadline: date | None,
    now: datetime,
) -> None:
    """形式审查: pass, return for correction (reason and deadline), or reject (reason)."""
    if not in_staff_scope(staff, app.county):
        raise NotFound("application_not_found")
    if rnd.status not in ("open", "pre_review"):
        raise ProgrammeError("pre_review_closed", status=rnd.status)
    if app.status != "submitted":
        raise ProgrammeError("not_awaiting_review", status=app.status)
    if decision not in PRE_REVIEW_DECISIONS:
        raise InvalidInput("bad_decision", {"decision": "required"})
    reason = reason.strip()
    if decision in ("return", "reject") and not reason:
        raise InvalidInput("reason_required", {"reason": "required"})
    if decision == "return":
        if deadline is None or deadline < beijing_today(now):
            raise InvalidInput("deadline_required", {"deadline": "deadline_in_future"})
        app.status, app.return_reason, app.return_deadline = "returned", reason, deadline
        template = "programme_returned"
    elif decision == "reject":
        app.status, app.reject_reason = "rejected", reason
        template = "programme_rejected"
    else:
        app.status = "passed"
        template = "programme_passed"
    app.updated_at = now
    dbs.flush()
    _step(
        dbs,
        staff,
        rnd,
        app,
        f"pre_review_{decision}",
        now=now,
        note=reason or None,
        deadline=deadline.isoformat() if deadline else None,
    )
    _mail_owners(
        dbs,
        firm,
        app,
        template,
        round_title=rnd.title,
        reason=reason,
        deadline=deadline.isoformat() if deadline else "",
    )
