"""Billing: plans, checkout, portal, webhooks and entitlements (issue 13); standin/ is the local Stripe stand-in."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saas.billing.rights import Entitlements
    from saas.models import Firm


def entitlements(firm: Firm, now: datetime, dbs: Any = None) -> Entitlements:
    """What ``firm`` may do at ``now``: the one decision, used by reports, products, bulk import and RFQs.

    With ``BILLING_ENABLED`` off the platform sells nothing, so it withholds nothing: every firm gets Pro's rights.
    """
    from flask import current_app

    from saas.billing.services import entitlements_for
    from saas.core.extensions import db

    selling = bool(current_app.config.get("BILLING_ENABLED", True))
    return entitlements_for(dbs if dbs is not None else db.session, firm, now, selling=selling)
