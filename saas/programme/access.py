"""Who may act and on which day: the staff checks and the Beijing date shared by the programme's services."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session, object_session

from saas.auth.sessions import staff_scope
from saas.core.tenancy import set_staff_scope
from saas.models import User
from saas.programme.errors import NotFound
from scoring import programme as engine


def beijing_today(now: datetime) -> date:
    """Return the Beijing date of an aware UTC time (the engine's own conversion)."""
    return engine.local_date(now)


def require_city_staff(staff: User) -> None:
    if not staff.is_staff or (staff.kind != "admin" and staff.staff_county is not None):
        raise NotFound("city_staff_only")
    act_as_staff(None, staff)


def act_as_staff(dbs: Session | None, staff: User) -> None:
    """Give the session the staff member's RLS read scope (what a staff request already has), for CLI and jobs."""

    if dbs is None:
        dbs = object_session(staff)
    if dbs is not None and staff.is_staff:
        set_staff_scope(dbs, staff_scope(staff))
