"""Every model, re-exported so that one ``Base.metadata`` holds the whole schema."""

from saas.models.assessment import (
    ASSESSMENT_STATUSES,
    Assessment,
    AssessmentAnswer,
    AssessorOverride,
    Evidence,
    InstrumentVersion,
    ScoreSnapshot,
)
from saas.models.base import Base, TenantScoped, utcnow
from saas.models.benchmark import CohortStatsRow
from saas.models.billing import (
    BillingCustomer,
    BillingEvent,
    BillingSubscription,
    InvoiceDetails,
    Purchase,
    Voucher,
)
from saas.models.firm import FIRM_ROLES, Firm, Invitation, Membership
from saas.models.jobs import JOB_STATES, ReportJob
from saas.models.ops import AuditEvent, EmailMessage
from saas.models.product import PRODUCT_STATES, Product, ProductImage, ProductListing, SearchGapVisit
from saas.models.programme import (  # noqa: F401 - the 双百 programme tables (saas/programme/)
    ExpertProfile,
    ProgrammeApplication,
    ProgrammeAssignment,
    ProgrammeAudit,
    ProgrammeDecision,
    ProgrammeEvent,
    ProgrammeObjection,
    ProgrammeRound,
)
from saas.models.trade import RFQ_STATES, Favourite, Inquiry, InquiryMessage, Quote, Rfq
from saas.models.user import USER_KINDS, AuthToken, User, UserSession

__all__ = [
    "BillingCustomer",
    "BillingEvent",
    "BillingSubscription",
    "InvoiceDetails",
    "Purchase",
    "Voucher",
    "ASSESSMENT_STATUSES",
    "Assessment",
    "AssessmentAnswer",
    "AssessorOverride",
    "Evidence",
    "InstrumentVersion",
    "ScoreSnapshot",
    "FIRM_ROLES",
    "USER_KINDS",
    "JOB_STATES",
    "ReportJob",
    "PRODUCT_STATES",
    "Product",
    "SearchGapVisit",
    "ProductImage",
    "ProductListing",
    "AuditEvent",
    "RFQ_STATES",
    "Favourite",
    "Inquiry",
    "InquiryMessage",
    "Quote",
    "Rfq",
    "CohortStatsRow",
    "AuthToken",
    "Base",
    "EmailMessage",
    "Firm",
    "Invitation",
    "Membership",
    "TenantScoped",
    "User",
    "UserSession",
    "utcnow",
]


def tenant_models() -> list[type]:
    """Return every mapped class that is firm-owned."""
    return sorted(
        (m.class_ for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)),
        key=lambda cls: cls.__tablename__,
    )
