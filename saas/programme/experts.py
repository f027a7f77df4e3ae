"""评审专家: accounts (created by CLI, TOTP mandatory), profiles, assignments with conflict exclusion, reviews."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.auth.services import create_user
from saas.core.links import external_url
from saas.core.mail import send_mail
from saas.core.security import new_totp_secret, totp_uri
from saas.core.tenancy import acting_in_tenant, set_tenant
from saas.models import Firm, User, utcnow
from saas.models.programme import ExpertProfile, ProgrammeApplication, ProgrammeAssignment, ProgrammeRound
from saas.programme import audit
from saas.programme.access import beijing_today, require_city_staff
from saas.programme.errors import InvalidInput, NotFound, ProgrammeError
from scoring import codec
from scoring import programme as engine


def create_expert_user(
    dbs: Session,
    *,
    email: str,
    name: str,
    county: str | None,
    affiliation_usccs: Iterable[str],
    password: str,
    secret: str | None = None,
) -> tuple[User, str]:
    """Create an expert with TOTP enrolled and a profile; return the user and the authenticator URI."""

    firm_ids = []
    for uscc in affiliation_usccs:
        firm_id = dbs.scalar(select(Firm.id).where(Firm.uscc == uscc.strip().upper()))
        if firm_id is None:
            raise LookupError(f"no firm with USCC {uscc}")
        firm_ids.append(str(firm_id))
    user = create_user(dbs, email=email, name=name, password=password, kind="expert")
    user.email_verified_at = utcnow()
    user.totp_secret = secret or new_totp_secret()
    user.totp_enabled = True
    dbs.add(ExpertProfile(user_id=user.id, county=county, affiliations=firm_ids))
    dbs.flush()
    return user, totp_uri(user, user.totp_secret)


# --- Assignments ------------------------------------------------------------------------------------------------

REVIEWS_PER_APPLICATION = 2


def _profiles(dbs: Session) -> list[ExpertProfile]:
    stmt = (
        select(ExpertProfile)
        .join(User, User.id == ExpertProfile.user_id)
        .where(User.kind == "expert", User.is_active.is_(True))
        .order_by(ExpertProfile.user_id)
    )
    return list(dbs.scalars(stmt))


def _engine_profile(profile: ExpertProfile) -> engine.ExpertProfile:
    return engine.ExpertProfile(
        expert_id=str(profile.user_id), county=profile.county, affiliations=frozenset(profile.affiliations or ())
    )


def _round_assignments(dbs: Session, rnd: ProgrammeRound) -> list[ProgrammeAssignment]:
    return list(
        dbs.scalars(
            select(ProgrammeAssignment)
            .where(ProgrammeAssignment.round_id == rnd.id)
            .execution_options(all_tenants=True)
        )
    )


def eligible_experts(
    profiles: list[ExpertProfile], app: ProgrammeApplication, params: engine.RoundParams, taken: set[uuid.UUID]
) -> list[ExpertProfile]:
    """Experts free of conflict with ``app`` (engine rule) and not yet on it (``taken`` includes declined ones)."""
    return [
        p
        for p in profiles
        if p.user_id not in taken
        and not engine.reviewer_conflicts(_engine_profile(p), str(app.firm_id), app.county, params)
    ]


def assign_experts(dbs: Session, staff: User, rnd: ProgrammeRound, *, now: datetime, due_on: date | None = None) -> int:
    """Give every passed application its two active reviewers (three when a third review is due).

    Conflicted experts are excluded automatically; among the others the least loaded in this round goes first
    (then by id, so the result is reproducible). An expert who declared a conflict on an application is never
    assigned to it again. Returns the number of new assignments; an application left short is reported by
    ``shortfalls``.
    """

    require_city_staff(staff)
    if rnd.status != "expert_review":
        raise ProgrammeError("not_in_expert_review", status=rnd.status)
    params = engine.RoundParams.from_dict(rnd.params)
    profiles = _profiles(dbs)
    existing = _round_assignments(dbs, rnd)
    load: dict[uuid.UUID, int] = {}
    by_app: dict[uuid.UUID, list[ProgrammeAssignment]] = {}
    for a in existing:
        by_app.setdefault(a.application_id, []).append(a)
        if a.status != "conflict":
            load[a.expert_id] = load.get(a.expert_id, 0) + 1
    apps = dbs.scalars(
        select(ProgrammeApplication)
        .where(ProgrammeApplication.round_id == rnd.id, ProgrammeApplication.status == "passed")
        .order_by(ProgrammeApplication.submitted_at, ProgrammeApplication.id)
        .execution_options(all_tenants=True)
    ).all()
    made = 0
    for app in apps:
        mine = by_app.get(app.id, [])
        active = [a for a in mine if a.status != "conflict"]
        wanted = needed_reviews(mine, params)
        taken = {a.expert_id for a in mine}
        candidates = sorted(
            eligible_experts(profiles, app, params, taken), key=lambda p: (load.get(p.user_id, 0), str(p.user_id))
        )
        for profile in candidates[: max(0, wanted - len(active))]:
            _assign(
                dbs,
                staff,
                rnd,
                app,
                profile.user_id,
                now=now,
                due_on=due_on,
                third=len(active) >= REVIEWS_PER_APPLICATION,
            )
            load[profile.user_id] = load.get(profile.user_id, 0) + 1
            active.append(None)  # type: ignore[arg-type]
            made += 1
    return made


def needed_reviews(assignments: list[ProgrammeAssignment], params: engine.RoundParams) -> int:
    """Two reviews; three when the two submitted totals differ by more than the round's split threshold."""
    submitted = [_review(a) for a in assignments if a.status == "submitted"]
    if len(submitted) == REVIEWS_PER_APPLICATION and engine.needs_third_review(submitted, params):
        return REVIEWS_PER_APPLICATION + 1
    return max(REVIEWS_PER_APPLICATION, len(submitted))


def _review(a: ProgrammeAssignment) -> engine.Review:
    return engine.Review(reviewer_id=str(a.expert_id), scores={k: float(v) for k, v in a.scores.items()})


def _assign(
    dbs: Session,
    actor: User | None,
    rnd: ProgrammeRound,
    app: ProgrammeApplication,
    expert_id: uuid.UUID,
    *,
    now: datetime,
    due_on: date | None,
    third: bool,
) -> ProgrammeAssignment:
    with acting_in_tenant(dbs, app.firm_id):
        assignment = ProgrammeAssignment(
            firm_id=app.firm_id,
            application_id=app.id,
            round_id=rnd.id,
            expert_id=expert_id,
            status="assigned",
            due_on=due_on,
            third=third,
            created_at=now,
        )
        dbs.add(assignment)
    audit.append(
        dbs,
        actor.id if actor else None,
        "review.assigned",
        now=now,
        round_id=rnd.id,
        firm_id=app.firm_id,
        application_id=app.id,
        expert_id=expert_id,
        third=third,
    )
    expert = dbs.get(User, expert_id)
    if expert is not None:
        send_mail(
            dbs,
            expert.email,
            "programme_expert_assigned",
            user=expert,
            round_title=rnd.title,
            due=due_on.isoformat() if due_on else "",
            link=external_url("programme.expert_home"),
        )
    return assignment


def shortfalls(dbs: Session, rnd: ProgrammeRound) -> dict[uuid.UUID, int]:
    """Passed applications still lacking reviewers (no conflict-free expert left): application id → missing."""
    params = engine.RoundParams.from_dict(rnd.params)
    by_app: dict[uuid.UUID, list[ProgrammeAssignment]] = {}
    for a in _round_assignments(dbs, rnd):
        by_app.setdefault(a.application_id, []).append(a)
    out = {}
    apps = dbs.scalars(
        select(ProgrammeApplication)
        .where(ProgrammeApplication.round_id == rnd.id, ProgrammeApplication.status == "passed")
        .execution_options(all_tenants=True)
    ).all()
    for app in apps:
        mine = by_app.get(app.id, [])
        missing = needed_reviews(mine, params) - len([a for a in mine if a.status != "conflict"])
        if missing > 0:
            out[app.id] = missing
    return out


# --- The expert's side ------------------------------------------------------------------------------------------


def expert_assignments(dbs: Session, expert: User) -> list[tuple[ProgrammeAssignment, ProgrammeRound]]:
    """The expert's own assignments (a cross-tenant read keyed on the expert; RLS: ``expert_id = current user``)."""
    stmt = (
        select(ProgrammeAssignment, ProgrammeRound)
        .join(ProgrammeRound, ProgrammeRound.id == ProgrammeAssignment.round_id)
        .where(ProgrammeAssignment.expert_id == expert.id)
        .order_by(ProgrammeAssignment.created_at, ProgrammeAssignment.id)
        .execution_options(all_tenants=True)
    )
    return [(a, r) for a, r in dbs.execute(stmt).all()]


def get_assignment(
    dbs: Session, expert: User, assignment_id: uuid.UUID
) -> tuple[ProgrammeAssignment, ProgrammeApplication, ProgrammeRound]:
    """Load one of the expert's own assignments by its id alone (a cross-tenant read keyed on ``(id, expert_id)``,
    so no firm id ever reaches the expert's URLs) and bind the session to its firm; anything else is a 404."""
    assignment = dbs.scalar(
        select(ProgrammeAssignment)
        .where(ProgrammeAssignment.id == assignment_id, ProgrammeAssignment.expert_id == expert.id)
        .execution_options(all_tenants=True)
    )
    if assignment is None:
        raise NotFound("assignment_not_found")
    set_tenant(dbs, assignment.firm_id, expert.id)
    app = dbs.get(ProgrammeApplication, (assignment.firm_id, assignment.application_id))
    assert app is not None
    rnd = dbs.get(ProgrammeRound, assignment.round_id)
    assert rnd is not None
    return assignment, app, rnd


def submit_review(
    dbs: Session,
    expert: User,
    rnd: ProgrammeRound,
    app: ProgrammeApplication,
    assignment: ProgrammeAssignment,
    scores: dict[str, float],
    comments: dict[str, str],
    *,
    now: datetime,
) -> None:
    """Store the expert's scores (validated by the engine); a split brings in a third expert; the last review stores
    the verdict on the application.

    The application row is locked first: two experts submitting at once are serialised, so the second one reads the
    first one's review and a split still brings in the third expert (on PostgreSQL; SQLite serialises writers).
    """
    dbs.scalar(
        select(ProgrammeApplication)
        .where(ProgrammeApplication.firm_id == app.firm_id, ProgrammeApplication.id == app.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if rnd.status != "expert_review":
        raise ProgrammeError("not_in_expert_review", status=rnd.status)
    if assignment.status != "assigned":
        raise ProgrammeError("review_closed", status=assignment.status)
    params = engine.RoundParams.from_dict(rnd.params)
    problems = engine.check_review(engine.Review(str(expert.id), scores), params)
    if problems:
        raise InvalidInput("invalid_review", {p.path: p.key for p in problems})
    assignment.scores, assignment.comments = scores, comments
    assignment.status, assignment.submitted_at = "submitted", now
    dbs.flush()
    audit.append(
        dbs,
        expert.id,
        "review.submitted",
        now=now,
        round_id=rnd.id,
        firm_id=app.firm_id,
        application_id=app.id,
        scores=scores,
        total=sum(scores.values()),
    )
    mine = list(
        dbs.scalars(
            select(ProgrammeAssignment).where(
                ProgrammeAssignment.firm_id == app.firm_id, ProgrammeAssignment.application_id == app.id
            )
        )
    )
    submitted = [_review(a) for a in mine if a.status == "submitted"]
    verdict = engine.project_score(submitted, params)
    app.expert_verdict = codec_dict(verdict)
    dbs.flush()
    if verdict.status == "needs_third_review":
        audit.append(
            dbs,
            None,
            "review.split",
            now=now,
            round_id=rnd.id,
            firm_id=app.firm_id,
            application_id=app.id,
            spread=verdict.spread,
        )
        taken = {a.expert_id for a in mine}
        pending = [a for a in mine if a.status == "assigned"]
        if not pending:
            for profile in sorted(eligible_experts(_profiles(dbs), app, params, taken), key=_load_key(dbs, rnd))[:1]:
                _assign(dbs, None, rnd, app, profile.user_id, now=now, due_on=assignment.due_on, third=True)
    elif verdict.status == "final":
        audit.append(
            dbs,
            None,
            "review.final",
            now=now,
            round_id=rnd.id,
            firm_id=app.firm_id,
            application_id=app.id,
            final=verdict.final,
            rule=verdict.rule,
        )


def _load_key(dbs: Session, rnd: ProgrammeRound):  # type: ignore[no-untyped-def]
    load: dict[uuid.UUID, int] = {}
    for a in _round_assignments(dbs, rnd):
        if a.status != "conflict":
            load[a.expert_id] = load.get(a.expert_id, 0) + 1
    return lambda p: (load.get(p.user_id, 0), str(p.user_id))


def codec_dict(verdict: engine.ProjectScore) -> dict:

    return codec.to_dict(verdict)


def declare_conflict(
    dbs: Session,
    expert: User,
    rnd: ProgrammeRound,
    app: ProgrammeApplication,
    assignment: ProgrammeAssignment,
    reason: str,
    *,
    now: datetime,
) -> None:
    """The expert declares a conflict of interest: the assignment is set aside and another expert is assigned."""
    if assignment.status != "assigned":
        raise ProgrammeError("review_closed", status=assignment.status)
    if not reason.strip():
        raise InvalidInput("reason_required", {"reason": "required"})
    assignment.status, assignment.conflict_reason = "conflict", reason.strip()
    profile = dbs.get(ExpertProfile, expert.id)
    if profile is not None and str(app.firm_id) not in (profile.affiliations or []):
        profile.affiliations = [*(profile.affiliations or []), str(app.firm_id)]
    dbs.flush()
    audit.append(
        dbs,
        expert.id,
        "review.conflict_declared",
        now=now,
        round_id=rnd.id,
        firm_id=app.firm_id,
        application_id=app.id,
        reason=reason.strip(),
    )
    params = engine.RoundParams.from_dict(rnd.params)
    mine = list(
        dbs.scalars(
            select(ProgrammeAssignment).where(
                ProgrammeAssignment.firm_id == app.firm_id, ProgrammeAssignment.application_id == app.id
            )
        )
    )
    taken = {a.expert_id for a in mine}
    for p in sorted(eligible_experts(_profiles(dbs), app, params, taken), key=_load_key(dbs, rnd))[:1]:
        _assign(dbs, None, rnd, app, p.user_id, now=now, due_on=assignment.due_on, third=assignment.third)


def application_reviews(dbs: Session, app: ProgrammeApplication) -> list[ProgrammeAssignment]:
    """Every assignment of an application (for city and county staff, never for experts)."""
    return list(
        dbs.scalars(
            select(ProgrammeAssignment)
            .where(ProgrammeAssignment.firm_id == app.firm_id, ProgrammeAssignment.application_id == app.id)
            .order_by(ProgrammeAssignment.created_at, ProgrammeAssignment.id)
        )
    )


REMIND_DAYS_BEFORE = 3


def send_reminders(dbs: Session, *, now: datetime, days_before: int = REMIND_DAYS_BEFORE) -> int:
    """Email each expert once about an open assignment due within ``days_before`` days (run daily by cron)."""

    today = beijing_today(now)
    due = dbs.scalars(
        select(ProgrammeAssignment)
        .where(
            ProgrammeAssignment.status == "assigned",
            ProgrammeAssignment.reminded_at.is_(None),
            ProgrammeAssignment.due_on.is_not(None),
            ProgrammeAssignment.due_on <= today + timedelta(days=days_before),
        )
        .order_by(ProgrammeAssignment.due_on, ProgrammeAssignment.id)
        .execution_options(all_tenants=True)
    ).all()
    sent = 0
    for assignment in due:
        expert = dbs.get(User, assignment.expert_id)
        rnd = dbs.get(ProgrammeRound, assignment.round_id)
        if expert is None or rnd is None or rnd.status != "expert_review":
            continue
        with acting_in_tenant(dbs, assignment.firm_id):
            assignment.reminded_at = now
        send_mail(
            dbs,
            expert.email,
            "programme_expert_reminder",
            user=expert,
            round_title=rnd.title,
            due=assignment.due_on.isoformat() if assignment.due_on else "",
            link=external_url("programme.expert_home"),
        )
        sent += 1
    return sent
