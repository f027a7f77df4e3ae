"""Billing: plans, checkout, portal, webhooks and entitlements (issue 13); standin/ is the local Stripe stand-in."""
