"""``flask stripe-reconcile``: replay undelivered Stripe events through the webhook's handler."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app

from saas.billing import services
from saas.billing.gateway import gateway_for
from saas.core.extensions import db
from saas.core.links import external_url
from saas.core.tenancy import set_tenant
from saas.models import utcnow


def reconcile_now() -> dict[str, int]:
    """Run the reconciliation once; each event commits (or rolls back) on its own."""

    def run(step: Any) -> services.Effects:
        set_tenant(db.session, None)
        try:
            effects = step(db.session)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return effects

    gw = gateway_for(current_app.config)
    return services.reconcile(run, gw, now=utcnow(), portal_link=external_url("billing.index"))


def register(app: Flask) -> None:
    @app.cli.command("stripe-reconcile")
    def stripe_reconcile() -> None:
        """Fetch events Stripe could not deliver (last 30 days) and apply them once (run every few minutes).

        Every event is tried; the exit status is 1 when any failed (they are logged and retried on the next run).
        """
        counts = reconcile_now()
        click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
        if counts["failed"]:
            raise SystemExit(1)
