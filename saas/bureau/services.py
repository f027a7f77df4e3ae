"""Bureau services: the firm register seen within a staff member's scope, and firm verification."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.core.audit import record_event
from saas.core.domain import NotFound
from saas.core.security import in_staff_scope
from saas.models import Assessment, AuditEvent, Firm, ScoreSnapshot, User, utcnow


@dataclass(frozen=True)
class FirmFilter:
    county: str | None = None
    industry: str | None = None
    verified: bool | None = None
    q: str | None = None


def scoped_firms(staff: User, flt: FirmFilter):  # type: ignore[no-untyped-def]
    """Return a ``select`` of the firms ``staff`` may see, narrowed by ``flt``."""
    stmt = select(Firm)
    if staff.kind != "admin" and staff.staff_county is not None:
        stmt = stmt.where(Firm.county == staff.staff_county)
    if flt.county:
        stmt = stmt.where(Firm.county == flt.county)
    if flt.industry:
        stmt = stmt.where(Firm.industry == flt.industry)
    if flt.verified is True:
        stmt = stmt.where(Firm.verified_at.is_not(None))
    elif flt.verified is False:
        stmt = stmt.where(Firm.verified_at.is_(None))
    if flt.q:
        like = f"%{flt.q}%"
        stmt = stmt.where(Firm.name.like(like) | Firm.uscc.like(like))
    return stmt


def page_of_firms(dbs: Session, staff: User, flt: FirmFilter, page: int, per_page: int) -> tuple[list[Firm], int]:
    """Return one page of scoped firms and the total count."""
    base = scoped_firms(staff, flt)
    total = dbs.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = dbs.scalars(base.order_by(Firm.created_at.desc(), Firm.id).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def counts_by(dbs: Session, staff: User, column: str) -> dict[str, int]:
    """Return firm counts grouped by ``county`` or ``industry`` within the staff scope."""
    sub = scoped_firms(staff, FirmFilter()).subquery()
    rows = dbs.execute(select(sub.c[column], func.count()).group_by(sub.c[column])).all()
    return {key: n for key, n in rows}


def get_firm_in_scope(dbs: Session, staff: User, firm_id: uuid.UUID) -> Firm:
    """Load a firm the staff member may see; anything outside the scope is a 404."""
    firm = dbs.get(Firm, firm_id)
    if firm is None or not in_staff_scope(staff, firm.county):
        raise NotFound("firm")
    return firm


def verify_firm(dbs: Session, staff: User, firm: Firm) -> None:
    """Record that the bureau checked the firm's USCC against the registration record."""
    if firm.verified_at is None:
        firm.verified_at = utcnow()
        record_event(dbs, staff, "bureau.firm_verified", subject_firm_id=firm.id, uscc=firm.uscc)


def firm_audit_trail(dbs: Session, firm: Firm, limit: int = 50) -> list[AuditEvent]:
    """Return the latest audit events about ``firm``."""
    stmt = select(AuditEvent).where(AuditEvent.subject_firm_id == firm.id).order_by(AuditEvent.at.desc()).limit(limit)
    return list(dbs.scalars(stmt))


def page_of_assessments(
    dbs: Session, staff: User, status: str | None, page: int, per_page: int
) -> tuple[list[tuple[Assessment, Firm, ScoreSnapshot | None]], int]:
    """Return one page of submitted or verified assessments in the staff scope, with firm and latest score.

    A deliberate cross-tenant read (``all_tenants``); on PostgreSQL the staff-read policies enforce the same scope.
    """
    stmt = (
        select(Assessment, Firm)
        .join(Firm, Firm.id == Assessment.firm_id)
        .where(Assessment.status != "draft")
        .execution_options(all_tenants=True)
    )
    if staff.kind != "admin" and staff.staff_county is not None:
        stmt = stmt.where(Firm.county == staff.staff_county)
    if status in ("submitted", "verified"):
        stmt = stmt.where(Assessment.status == status)
    total = dbs.scalar(select(func.count()).select_from(stmt.subquery()).execution_options(all_tenants=True)) or 0
    rows = dbs.execute(
        stmt.order_by(Assessment.submitted_at.desc(), Assessment.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    ids = [a.id for a, _f in rows]
    snaps: dict[uuid.UUID, ScoreSnapshot] = {}
    if ids:
        snap_stmt = (
            select(ScoreSnapshot)
            .where(ScoreSnapshot.assessment_id.in_(ids))
            .order_by(ScoreSnapshot.created_at)
            .execution_options(all_tenants=True)
        )
        for snap in dbs.scalars(snap_stmt):
            snaps[snap.assessment_id] = snap
    return [(a, f, snaps.get(a.id)) for a, f in rows], total
