"""评审专家: accounts (created by CLI, TOTP mandatory), profiles, assignments with conflict exclusion, reviews."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.models import Firm, User, utcnow
from saas.models.programme import ExpertProfile
from saas.security import new_totp_secret, totp_uri


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
    from saas.auth.services import create_user

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
