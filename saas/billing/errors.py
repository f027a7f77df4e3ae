"""Billing's domain errors: one base class, mapped to a localised message once, in the blueprint."""

from __future__ import annotations


class BillingError(Exception):
    """Something a billing action refuses; ``code`` picks the message shown to the user."""

    code = "billing"


class BillingUnavailable(BillingError):
    code = "unavailable"


class UnknownProduct(BillingError):
    code = "unknown_product"


class NoCustomer(BillingError):
    code = "no_customer"


class SnapshotRequired(BillingError):
    code = "snapshot_required"


class AlreadyPro(BillingError):
    """A Pro subscription or pass is refused while the firm already has Pro (it would be charged twice)."""

    code = "already_pro"


class GatewayError(BillingError):
    """Stripe (or the stand-in) failed after the client's retries."""

    code = "gateway"


class SignatureInvalid(BillingError):
    code = "signature"


class VoucherInvalid(BillingError):
    code = "voucher_invalid"


class VoucherUsed(BillingError):
    code = "voucher_used"
