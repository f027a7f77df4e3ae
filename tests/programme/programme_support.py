"""Factories for the programme tests (importable from other test modules, e.g. the cross-tenant matrix)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, text

from saas.models import Firm, User, utcnow
from saas.models.programme import ProgrammeApplication, ProgrammeRound
from saas.programme import services
from tests.conftest import BACKEND, app_session

#: Eligibility relaxed to "a submitted self-assessment and both consents", so tests need no on-site verification.
RELAXED = {
    "eligibility": {
        "require_verified": False,
        "min_maturity": None,
        "min_dimension": None,
        "min_confidence": None,
        "min_evidence": None,
        "max_trust_gap": None,
    }
}


def city_staff(app: Any) -> User:
    from saas.auth.services import create_user

    with app_session(app) as s:
        user = create_user(
            s, email=f"city{uuid.uuid4().hex[:8]}@bureau.example", name="City", password="x" * 12, kind="staff"
        )
        return user


def make_round(app: Any, *, status: str = "open", kind: str = "enterprise", changes: dict | None = None) -> uuid.UUID:
    """Create a round through the services and move it to ``status``; it opens today and closes in 30 days."""
    staff = city_staff(app)
    now = utcnow()
    today = services.beijing_today(now)
    with app_session(app) as s:
        staff = s.get(User, staff.id)
        rnd = services.create_round(
            s,
            staff,
            services.RoundInput(
                year=today.year,
                kind=kind,
                title=f"测试批次 {uuid.uuid4().hex[:6]}",
                opens_on=today - timedelta(days=1),
                closes_on=today + timedelta(days=30),
                changes=changes if changes is not None else RELAXED,
            ),
            now=now,
        )
        for state in services.ROUND_FLOW[1 : services.ROUND_FLOW.index(status) + 1]:
            services.advance_round(s, staff, rnd, state, now=now)
        return rnd.id


GOOD = services.ApplicationInput(
    declaration="本企业数字化改造成效显著，具有行业示范意义，愿意分享经验。",
    contact_name="张三",
    contact_phone="0573-88888888",
    consent_share=True,
    consent_publish=True,
    project={},
)


def draft_application(app: Any, firm: Any, round_id: uuid.UUID, data: services.ApplicationInput = GOOD) -> uuid.UUID:
    with app_session(app, firm.id) as s:
        f, user, rnd = s.get(Firm, firm.id), s.get(User, firm.owner_id), s.get(ProgrammeRound, round_id)
        application = services.start_application(s, f, user, rnd, now=utcnow())
        services.save_draft(s, application, data, now=utcnow())
        return application.id


def submitted_application(app: Any, firm: Any, round_id: uuid.UUID) -> uuid.UUID:
    """A draft with the good input, submitted (the firm needs a submitted assessment)."""
    application_id = draft_application(app, firm, round_id)
    with app_session(app, firm.id) as s:
        f, user, rnd = s.get(Firm, firm.id), s.get(User, firm.owner_id), s.get(ProgrammeRound, round_id)
        application = s.get(ProgrammeApplication, (firm.id, application_id))
        services.submit_application(s, f, user, rnd, application, now=utcnow())
    return application_id


@contextmanager
def writable_audit(database_urls):
    """On PostgreSQL the app role may not UPDATE or DELETE audit entries; lend it the right to play the forger."""
    if BACKEND != "postgres":
        yield
        return
    owner = create_engine(database_urls.owner, isolation_level="AUTOCOMMIT")
    role = database_urls.app.split("://", 1)[1].split("@", 1)[0]
    try:
        with owner.connect() as conn:
            conn.execute(text(f"GRANT UPDATE, DELETE ON programme_audit TO {role}"))
        yield
    finally:
        with owner.connect() as conn:
            conn.execute(text(f"REVOKE UPDATE, DELETE ON programme_audit FROM {role}"))
        owner.dispose()
