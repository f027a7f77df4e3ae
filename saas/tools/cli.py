"""Flask CLI commands: migrations, staff accounts and demo data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
import pyotp
from flask import Flask, current_app
from sqlalchemy import select

from saas.auth.services import find_user
from saas.benchmarking.services import refresh
from saas.billing import cli as billing_cli
from saas.core.extensions import db
from saas.core.security import password_problem
from saas.models import InstrumentVersion
from saas.programme.cli import register as register_programme_cli
from saas.reference import COUNTIES
from saas.reports.services import sweep
from saas.tools import migrate
from saas.tools.backup import BackupError, create_backup, default_output, restore_backup
from saas.tools.demo import DEMO_PASSWORD, create_staff_user, demo_logins, seed


def _migrations_url() -> str:
    cfg = current_app.config
    return cfg.get("MIGRATIONS_DATABASE_URI") or cfg["SQLALCHEMY_DATABASE_URI"]


def register_cli(app: Flask) -> None:
    """Attach the project's commands to ``app.cli``."""

    billing_cli.register(app)

    @app.cli.group("db")
    def db_group() -> None:
        """Database migrations (Alembic)."""

    @db_group.command("upgrade")
    @click.option("--revision", default="head", show_default=True)
    def db_upgrade(revision: str) -> None:
        """Upgrade the database schema."""
        _ensure_sqlite_dir()
        migrate.upgrade(_migrations_url(), revision)
        click.echo(f"database upgraded to {revision}")

    @db_group.command("downgrade")
    @click.option("--revision", default="-1", show_default=True)
    def db_downgrade(revision: str) -> None:
        """Downgrade the database schema."""
        migrate.downgrade(_migrations_url(), revision)
        click.echo(f"database downgraded to {revision}")

    @app.cli.command("create-staff")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--county", default=None, help="County code for county-scoped staff; omit for city-wide.")
    @click.option("--admin", is_flag=True, help="Create a platform admin instead of bureau staff.")
    @click.password_option()
    def create_staff(email: str, name: str, county: str | None, admin: bool, password: str) -> None:
        """Create a bureau staff member or platform admin, with TOTP enrolled (printed once)."""

        if county is not None and county not in COUNTIES:
            raise click.BadParameter(f"county must be one of {', '.join(COUNTIES)}", param_hint="--county")
        if admin and county:
            raise click.BadParameter("a platform admin is city-wide", param_hint="--county")
        problem = password_problem(password, email=email)
        if problem:
            raise click.BadParameter(problem, param_hint="--password")
        user, uri = create_staff_user(db.session, email=email, name=name, county=county, admin=admin, password=password)
        db.session.commit()
        click.echo(f"created {user.kind} {user.email} (scope: {county or 'city'})")
        click.echo(f"TOTP secret: {user.totp_secret}")
        click.echo(f"Authenticator URI: {uri}")

    @app.cli.command("seed-demo")
    @click.option("--firms", default=200, show_default=True)
    def seed_demo(firms: int) -> None:
        """Load the demo data once (firms, buyers, staff, an admin); a second run changes nothing."""

        created = seed(firms=firms)
        click.echo("demo data loaded" if created else "demo data already present; nothing changed")
        click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")

        for line in demo_logins():
            click.echo("  " + line)

    @app.cli.command("refresh-benchmarks")
    def refresh_benchmarks() -> None:
        """Recompute every cohort statistic of every instrument version from scratch."""

        for version in db.session.scalars(select(InstrumentVersion)).all():
            number = refresh(db.session, version)
            click.echo(f"{version.instrument_key} {version.version}: statistics version {number}")
        db.session.commit()

    @app.cli.command("sweep-reports")
    @click.option("--older-than", default=120, show_default=True, help="Seconds a job may stay queued or rendering.")
    def sweep_reports(older_than: int) -> None:
        """Re-queue report jobs lost by a dead worker or a lost queue message (run every minute)."""

        click.echo(f"re-queued {sweep(db.session, timedelta(seconds=older_than))} report jobs")

    @app.cli.command("backup")
    @click.option(
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Archive to write (default: instance/backups/jx-backup-<UTC time>.tar.gz).",
    )
    def backup(output: Path | None) -> None:
        """Write one .tar.gz with a consistent database dump, every stored file and a manifest (docs/operations.md)."""

        try:
            summary = create_backup(current_app, output or default_output())
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"backup written to {summary.path}: {summary.rows} rows, {summary.files} files")

    @app.cli.command("restore")
    @click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Replace a non-empty instance (its store folders are kept aside).")
    def restore(archive: Path, force: bool) -> None:
        """Verify ARCHIVE against its manifest and restore it into this (empty) instance; stop the app first."""

        try:
            summary = restore_backup(current_app, archive, force=force)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        revision = summary.manifest.get("alembic_revision")
        click.echo(f"restored {summary.rows} rows and {summary.files} files (schema {revision})")
        click.echo("then run `flask db upgrade` if this code is newer than the backup")

    register_programme_cli(app)

    @app.cli.command("totp-now")
    @click.argument("email")
    def totp_now(email: str) -> None:
        """Print the current TOTP code of a demo account (refused in production)."""

        if current_app.config.get("SESSION_COOKIE_SECURE"):
            raise click.ClickException("not available in production")
        user = find_user(db.session, email)
        if user is None or not user.totp_secret:
            raise click.ClickException("no such account with TOTP")
        click.echo(pyotp.TOTP(user.totp_secret).now())


def _ensure_sqlite_dir() -> None:
    url = _migrations_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
