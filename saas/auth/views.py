"""Login, logout, two-factor, registration, email verification, password reset and invitation acceptance."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import segno
from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from saas.auth import services
from saas.auth.forms import (
    AcceptInvitationForm,
    BuyerRegistrationForm,
    FirmRegistrationForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    TwoFactorForm,
)
from saas.auth.sessions import login_user, logout_user, switch_firm
from saas.core.audit import record_event
from saas.core.extensions import db, limiter
from saas.core.links import referrer_path, safe_redirect_target
from saas.core.ratelimit import account_key, login_limit_account, login_limit_ip, sensitive_limit
from saas.core.security import burn_password_check, new_totp_secret, totp_uri, verify_password
from saas.models import User
from saas.orgs import services as org_services
from saas.reference import PARKS
from saas.web.forms import ConfirmForm

bp = Blueprint("auth", __name__, url_prefix="/auth")

MFA_PENDING_SECONDS = 300


def home_for(user: User) -> str:
    """Return the landing page for a user's kind."""
    if user.is_staff:
        return url_for("bureau.home")
    if user.kind == "firm":
        return url_for("orgs.dashboard")
    if user.kind == "expert":
        return url_for("programme.expert_home")
    return url_for("account.overview")


def _finish_login(user: User, next_url: str | None) -> Any:
    login_user(user)
    record_event(db.session, user, "login.succeeded")
    db.session.commit()
    return redirect(safe_redirect_target(next_url) or home_for(user))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit_ip, methods=["POST"])
@limiter.limit(login_limit_account, methods=["POST"], key_func=account_key)
def login() -> Any:
    form = LoginForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        user = services.find_user(db.session, form.email.data)
        if user is None:
            burn_password_check(form.password.data)
        if user is None or not verify_password(user, form.password.data) or not user.is_active:
            if user is not None:
                record_event(db.session, user, "login.failed")
                db.session.commit()
            form.password.errors.append(_("The email or password is incorrect."))
            return render_template("auth/login.html", form=form), 200
        db.session.commit()  # keeps an upgraded hash
        if user.totp_enabled or user.mfa_required:
            session["mfa_pending"] = {
                "uid": str(user.id),
                "at": int(time.time()),
                "next": safe_redirect_target(next_url),
            }
            if not user.totp_enabled:
                return redirect(url_for("auth.two_factor_setup"))
            return redirect(url_for("auth.two_factor"))
        return _finish_login(user, next_url)
    return render_template("auth/login.html", form=form)


def _pending_user() -> User | None:
    pending = session.get("mfa_pending")
    if not pending or time.time() - pending["at"] > MFA_PENDING_SECONDS:
        session.pop("mfa_pending", None)
        return None
    return db.session.get(User, uuid.UUID(pending["uid"]))


def _pending_account_key() -> str:
    pending = session.get("mfa_pending") or {}
    return f"mfa:{pending.get('uid', '-')}"


@bp.route("/two-factor", methods=["GET", "POST"])
@limiter.limit(sensitive_limit, methods=["POST"])
@limiter.limit(sensitive_limit, methods=["POST"], key_func=_pending_account_key)
def two_factor() -> Any:
    user = _pending_user()
    if user is None or not user.totp_enabled:
        flash(_("Please log in again."), "warning")
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        if services.check_totp(db.session, user, form.code.data):
            next_url = session.pop("mfa_pending")["next"]
            return _finish_login(user, next_url)
        record_event(db.session, user, "login.totp_failed")
        db.session.commit()
        form.code.errors.append(_("The code is wrong or already used. Wait for the next code and try again."))
    return render_template("auth/two_factor.html", form=form)


def qr_data_uri(uri: str) -> str:
    """Return an SVG QR code for ``uri`` as a data: URI (allowed by the CSP's img-src)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@limiter.limit(sensitive_limit, methods=["POST"])
def two_factor_setup() -> Any:
    """Mandatory enrolment for staff who have no authenticator yet, before their first session starts."""
    user = _pending_user()
    if user is None or user.totp_enabled:
        return redirect(url_for("auth.login"))
    secret = session.setdefault("mfa_setup_secret", new_totp_secret())
    form = TwoFactorForm()
    if form.validate_on_submit():
        if services.enable_totp(db.session, user, secret, form.code.data):
            session.pop("mfa_setup_secret", None)
            next_url = session.pop("mfa_pending")["next"]
            return _finish_login(user, next_url)
        form.code.errors.append(_("The code does not match. Check the time on your phone and try again."))
    uri = totp_uri(user, secret)
    return render_template("auth/two_factor_setup.html", form=form, secret=secret, qr=qr_data_uri(uri), forced=True)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if g.get("user") is not None:
        record_event(db.session, g.user, "logout")
        logout_user()
        db.session.commit()
    flash(_("You have logged out."), "info")
    return redirect(url_for("public.home"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(sensitive_limit, methods=["POST"])
def register() -> Any:
    form = FirmRegistrationForm()
    if form.validate_on_submit():
        firm, user = services.register_firm(
            db.session,
            firm_name=form.firm_name.data,
            uscc=form.uscc.data,
            industry=form.industry.data,
            county=form.county.data,
            park=form.park.data,
            employees=form.employees.data,
            revenue_wan=form.revenue_wan.data,
            contact_name=form.contact_name.data,
            contact_phone=form.contact_phone.data,
            owner_name=form.owner_name.data,
            email=form.email.data,
            password=form.password.data,
        )
        login_user(user)
        switch_firm(firm)
        db.session.commit()
        flash(
            _(
                "Welcome! %(firm)s is registered. We sent a confirmation link to %(email)s.",
                firm=firm.name,
                email=user.email,
            ),
            "success",
        )
        return redirect(url_for("orgs.dashboard"))
    return render_template("auth/register.html", form=form, parks=PARKS)


@bp.route("/register/buyer", methods=["GET", "POST"])
@limiter.limit(sensitive_limit, methods=["POST"])
def register_buyer() -> Any:
    form = BuyerRegistrationForm()
    if form.validate_on_submit():
        user = services.create_user(
            db.session, email=form.email.data, name=form.name.data, password=form.password.data, kind="buyer"
        )
        record_event(db.session, user, "buyer.registered", company=form.company.data or "")
        services.send_verification(db.session, user)
        login_user(user)
        db.session.commit()
        flash(_("Welcome! We sent a confirmation link to %(email)s.", email=user.email), "success")
        return redirect(url_for("account.overview"))
    return render_template("auth/register_buyer.html", form=form)


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str) -> Any:
    """GET shows a confirm button (links are prefetched by mail scanners); POST uses the token."""
    form = ConfirmForm()
    if services.peek_token(db.session, token, "verify_email") is None:
        return render_template("auth/token_invalid.html"), 400
    if form.validate_on_submit():
        services.verify_email(db.session, token)
        db.session.commit()
        flash(_("Thank you: your email address is confirmed."), "success")
        return redirect(home_for(g.user) if g.get("user") else url_for("auth.login"))
    return render_template("auth/verify_email.html", form=form)


@bp.route("/verify/resend", methods=["POST"])
@limiter.limit(sensitive_limit)
def resend_verification() -> Any:
    if g.get("user") is None:
        return redirect(url_for("auth.login"))
    form = ConfirmForm()
    if form.validate_on_submit() and g.user.email_verified_at is None:
        services.send_verification(db.session, g.user)
        db.session.commit()
        flash(_("We sent a new confirmation link to %(email)s.", email=g.user.email), "info")
    return redirect(referrer_path() or home_for(g.user))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(sensitive_limit, methods=["POST"])
@limiter.limit(sensitive_limit, methods=["POST"], key_func=account_key)
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(db.session, form.email.data)
        db.session.commit()
        # Identical answer whether or not the account exists.
        return render_template("auth/forgot_sent.html", email=form.email.data)
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(sensitive_limit, methods=["POST"])
def reset_password(token: str) -> Any:
    if services.peek_token(db.session, token, "reset_password") is None:
        return render_template("auth/token_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(db.session, token, form.password.data)
        logout_user()
        db.session.commit()
        flash(_("Your password is changed and every session is signed out. Please log in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.route("/invitation/<uuid:firm_id>/<token>", methods=["GET", "POST"])
@limiter.limit(sensitive_limit, methods=["POST"])
def accept_invitation(firm_id: uuid.UUID, token: str) -> Any:
    invitation = org_services.find_invitation(db.session, firm_id, token)
    if invitation is None:
        return render_template("auth/token_invalid.html"), 400
    existing = services.find_user(db.session, invitation.email)
    form = AcceptInvitationForm() if existing is None else ConfirmForm()
    if existing is not None and g.get("user") is not None and g.user.id != existing.id:
        flash(_("This invitation is for %(email)s. Log out first to accept it.", email=invitation.email), "warning")
        return render_template("auth/invitation.html", invitation=invitation, form=None, existing=existing)
    if form.validate_on_submit():
        if existing is None:
            user = services.create_user(
                db.session, email=invitation.email, name=form.name.data, password=form.password.data, kind="firm"
            )
            user.email_verified_at = invitation.created_at  # the emailed link proved the address
        elif g.get("user") is None:
            flash(_("Log in as %(email)s, then open the invitation link again.", email=existing.email), "info")
            return redirect(url_for("auth.login", next=request.path))
        else:
            user = existing
        try:
            org_services.accept_invitation(db.session, invitation, user)
        except org_services.MembershipError:
            db.session.rollback()
            flash(_("This account is a buyer or staff account and cannot join a firm. Use another email."), "error")
            return render_template("auth/invitation.html", invitation=invitation, form=None, existing=existing), 409
        if g.get("user") is None:
            login_user(user)
        switch_firm(invitation.firm)
        db.session.commit()
        flash(_("You have joined %(firm)s.", firm=invitation.firm.name), "success")
        return redirect(url_for("orgs.dashboard"))
    return render_template("auth/invitation.html", invitation=invitation, form=form, existing=existing)
