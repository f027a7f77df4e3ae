"""Demo billing data: the bureau's first voucher round, redeemed by the first 20 demo firms for a yearly pass.

So a tester can open the full PDF report as ``owner001``–``owner020`` and the bureau's voucher report has rows; the
other demo firms are on the free plan (``owner021`` and up) and can buy Pro on the stand-in's pay page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.auth.sessions import user_memberships
from saas.billing import plans, services
from saas.core.tenancy import set_tenant
from saas.models import Firm, User

DEMO_ROUND = "2026年第一批"


def seed_billing(dbs: Session, staff: User, domain: str, now: datetime, passes: int = 20) -> None:
    set_tenant(dbs, None)
    for i in range(1, passes + 1):
        owner = dbs.scalar(select(User).where(User.email == f"owner{i:03d}@{domain}"))
        if owner is None:
            continue
        set_tenant(dbs, None, owner.id)  # on PostgreSQL a user reads only their own memberships
        memberships = user_memberships(dbs, owner.id)
        if not memberships:
            continue
        set_tenant(dbs, memberships[0].firm_id, owner.id)
        firm = dbs.get(Firm, memberships[0].firm_id)
        set_tenant(dbs, None)
        voucher = services.issue_vouchers(
            dbs,
            staff,
            product="pro_pass",
            county=firm.county,
            funder_round=DEMO_ROUND,
            count=1,
            value=plans.product("pro_pass").amount,
            expires_at=None,
            now=now,
        )[0]
        set_tenant(dbs, firm.id, owner.id)
        services.redeem_voucher(dbs, firm, owner, voucher.code, snapshot_id=None, assessment_id=None, now=now)
        set_tenant(dbs, None)
    services.issue_vouchers(
        dbs,
        staff,
        product="report",
        county="nanhu",
        funder_round=DEMO_ROUND,
        count=10,
        value=plans.product("report").amount,
        expires_at=None,
        now=now,
    )
