"""Programme CLI commands: ``flask audit-verify`` and ``flask create-expert``."""

from __future__ import annotations

import click
from flask import Flask

from saas.core.extensions import db
from saas.core.links import public_request_context
from saas.core.security import password_problem
from saas.core.tenancy import set_staff_scope
from saas.models import utcnow
from saas.programme.audit import verify_chain
from saas.programme.experts import create_expert_user, send_reminders
from saas.reference import COUNTIES


def register(app: Flask) -> None:
    """Attach the programme's commands to ``app.cli`` (called from ``saas/cli.py``)."""

    @app.cli.command("audit-verify")
    def audit_verify() -> None:
        """Recompute the programme audit chain; exit 1 naming the first broken link."""

        report = verify_chain(db.session)
        if report.ok:
            click.echo(f"audit chain intact: {report.entries} entries, head {report.head_hash}")
            return
        if report.decision_id is not None:
            click.echo(
                f"audit chain BROKEN: decision {report.decision_id} ({report.problem}) does not match its "
                f"decision.confirmed entry {report.broken_seq}; the {report.entries} entries themselves verify",
                err=True,
            )
            raise SystemExit(1)
        click.echo(
            f"audit chain BROKEN at entry {report.broken_seq} ({report.problem}); "
            f"{report.entries} entries before it verify, last good hash {report.head_hash}",
            err=True,
        )
        raise SystemExit(1)

    @app.cli.command("programme-remind")
    @click.option("--days-before", default=3, show_default=True)
    def programme_remind(days_before: int) -> None:
        """Email experts about reviews due within DAYS_BEFORE days (once per assignment; run daily)."""

        set_staff_scope(db.session, "*")  # a system job reading every firm's assignments (RLS staff-read)
        with public_request_context(app):
            sent = send_reminders(db.session, now=utcnow(), days_before=days_before)
        db.session.commit()
        click.echo(f"sent {sent} reminders")

    @app.cli.command("create-expert")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--county", default=None, help="The expert's own county (used by the same-county conflict rule).")
    @click.option("--affiliation", "affiliations", multiple=True, help="USCC of a firm the expert is linked to.")
    @click.password_option()
    def create_expert(email: str, name: str, county: str | None, affiliations: tuple[str, ...], password: str) -> None:
        """Create a 评审专家 with TOTP enrolled (printed once); TOTP is mandatory for experts."""

        if county is not None and county not in COUNTIES:
            raise click.BadParameter(f"county must be one of {', '.join(COUNTIES)}", param_hint="--county")
        problem = password_problem(password, email=email)
        if problem:
            raise click.BadParameter(problem, param_hint="--password")
        try:
            user, uri = create_expert_user(
                db.session, email=email, name=name, county=county, affiliation_usccs=affiliations, password=password
            )
        except LookupError as exc:
            raise click.BadParameter(str(exc), param_hint="--affiliation") from exc
        db.session.commit()
        click.echo(f"created expert {user.email} (county: {county or '-'})")
        click.echo(f"TOTP secret: {user.totp_secret}")
        click.echo(f"Authenticator URI: {uri}")
