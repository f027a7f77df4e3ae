"""The personal account: overview, password, two-factor and active sessions. Sessions are the user's own rows."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from saas.account.forms import ChangePasswordForm
from saas.auth import services
from saas.auth.forms import TwoFactorForm
from saas.auth.sessions import revoke_sessions
from saas.auth.views import qr_data_uri
from saas.core.extensions import db, limiter
from saas.core.ratelimit import sensitive_limit
from saas.core.security import login_required, new_totp_secret, totp_uri, verify_password
from saas.models import UserSession, utcnow
from saas.web.forms import ConfirmForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def _guard() -> None:
    return None


def _live_sessions() -> list[UserSession]:
    stmt = (
        select(UserSession)
        .where(UserSession.user_id == g.user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    )
    return list(db.session.scalars(stmt))


@bp.route("/")
def overview() -> Any:
    return render_template(
        "account/overview.html",
        sessions=_live_sessions(),
        password_form=ChangePasswordForm(),
        confirm=ConfirmForm(),
    )


@bp.route("/password", methods=["POST"])
@limiter.limit(sensitive_limit)
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(g.user, form.current_password.data):
            form.current_password.errors.append(_("The current password is incorrect."))
        else:
            revoked = services.change_password(db.session, g.user, form.password.data, g.user_session)
            db.session.commit()
            flash(_("Your password is changed. %(n)d other sessions were signed out.", n=revoked), "success")
            return redirect(url_for("account.overview"))
    return render_template(
        "account/overview.html", sessions=_live_sessions(), password_form=form, confirm=ConfirmForm()
    ), 400


@bp.route("/sessions/<uuid:session_id>/revoke", methods=["POST"])
def revoke_session(session_id: uuid.UUID) -> Any:
    row = db.session.scalar(select(UserSession).where(UserSession.id == session_id, UserSession.user_id == g.user.id))
    if row is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        row.revoked_at = utcnow()
        db.session.commit()
        flash(_("The session is signed out."), "info")
    return redirect(url_for("account.overview"))


@bp.route("/sessions/revoke-others", methods=["POST"])
def revoke_other_sessions() -> Any:
    if ConfirmForm().validate_on_submit():
        n = revoke_sessions(db.session, g.user, keep=g.user_session)
        db.session.commit()
        flash(_("%(n)d other sessions were signed out.", n=n), "info")
    return redirect(url_for("account.overview"))


@bp.route("/two-factor", methods=["GET", "POST"])
@limiter.limit(sensitive_limit, methods=["POST"])
def two_factor() -> Any:
    if g.user.totp_enabled:
        return render_template("account/two_factor_on.html", confirm=ConfirmForm())
    secret = session.setdefault("totp_setup_secret", new_totp_secret())
    form = TwoFactorForm()
    if form.validate_on_submit():
        if services.enable_totp(db.session, g.user, secret, form.code.data):
            session.pop("totp_setup_secret", None)
            db.session.commit()
            flash(_("Two-factor authentication is on."), "success")
            return redirect(url_for("account.overview"))
        form.code.errors.append(_("The code does not match. Check the time on your phone and try again."))
    return render_template(
        "auth/two_factor_setup.html", form=form, secret=secret, qr=qr_data_uri(totp_uri(g.user, secret)), forced=False
    )


@bp.route("/two-factor/disable", methods=["POST"])
def disable_two_factor() -> Any:
    if g.user.mfa_required:
        abort(403)
    if ConfirmForm().validate_on_submit():
        services.disable_totp(db.session, g.user)
        db.session.commit()
        flash(_("Two-factor authentication is off."), "info")
    return redirect(url_for("account.overview"))
