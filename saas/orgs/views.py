"""The firm's own area: dashboard, profile, members and invitations. Every route needs a firm membership."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from saas.auth.sessions import switch_firm
from saas.core.extensions import db
from saas.core.security import require_firm_member, require_owner
from saas.core.tenancy import get_in_tenant_or_404
from saas.models import Invitation, Membership
from saas.orgs import services
from saas.orgs.forms import FirmProfileForm, InviteForm, RoleForm
from saas.web.forms import ConfirmForm

bp = Blueprint("orgs", __name__, url_prefix="/firm")
bp.before_request(require_firm_member)


@bp.route("/")
def dashboard() -> Any:
    return render_template("orgs/dashboard.html", firm=g.tenant, confirm=ConfirmForm())


@bp.route("/profile", methods=["GET", "POST"])
def profile() -> Any:
    form = FirmProfileForm(obj=g.tenant)
    if form.validate_on_submit():
        require_owner()
        services.update_profile(
            db.session,
            g.tenant,
            g.user,
            name=form.name.data,
            park=form.park.data,
            employees=form.employees.data,
            revenue_wan=form.revenue_wan.data,
            contact_name=form.contact_name.data,
            contact_phone=form.contact_phone.data,
            certifications=form.certifications.data or [],
        )
        db.session.commit()
        flash(_("The firm profile is saved."), "success")
        return redirect(url_for("orgs.profile"))
    return render_template("orgs/profile.html", form=form, firm=g.tenant)


@bp.route("/members")
def members() -> Any:
    return render_template(
        "orgs/members.html",
        firm=g.tenant,
        members=services.list_members(db.session, g.tenant),
        invitations=services.list_open_invitations(db.session, g.tenant),
        invite_form=InviteForm(),
        role_form=RoleForm(),
        confirm=ConfirmForm(),
    )


@bp.route("/members/invite", methods=["POST"])
def invite() -> Any:
    require_owner()
    form = InviteForm()
    if form.validate_on_submit():
        services.invite_member(db.session, g.tenant, g.user, form.email.data, form.role.data)
        db.session.commit()
        flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
        return redirect(url_for("orgs.members"))
    return render_template(
        "orgs/members.html",
        firm=g.tenant,
        members=services.list_members(db.session, g.tenant),
        invitations=services.list_open_invitations(db.session, g.tenant),
        invite_form=form,
        role_form=RoleForm(),
        confirm=ConfirmForm(),
    ), 400


@bp.route("/invitations/<uuid:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id: uuid.UUID) -> Any:
    invitation = get_in_tenant_or_404(db.session, Invitation, invitation_id, g.tenant.id)
    require_owner()
    if ConfirmForm().validate_on_submit():
        services.revoke_invitation(db.session, g.tenant, g.user, invitation)
        db.session.commit()
        flash(_("The invitation is revoked."), "info")
    return redirect(url_for("orgs.members"))


@bp.route("/members/<uuid:membership_id>/role", methods=["POST"])
def change_role(membership_id: uuid.UUID) -> Any:
    membership = get_in_tenant_or_404(db.session, Membership, membership_id, g.tenant.id)
    require_owner()
    form = RoleForm()
    if form.validate_on_submit():
        try:
            services.change_role(db.session, g.tenant, g.user, membership, form.role.data)
        except services.MembershipError:
            flash(_("A firm needs at least one owner."), "error")
        else:
            db.session.commit()
            flash(_("The role is changed."), "success")
    return redirect(url_for("orgs.members"))


@bp.route("/members/<uuid:membership_id>/remove", methods=["POST"])
def remove_member(membership_id: uuid.UUID) -> Any:
    membership = get_in_tenant_or_404(db.session, Membership, membership_id, g.tenant.id)
    require_owner()
    if ConfirmForm().validate_on_submit():
        try:
            services.remove_member(db.session, g.tenant, g.user, membership)
        except services.MembershipError:
            flash(_("A firm needs at least one owner."), "error")
        else:
            db.session.commit()
            flash(_("The member is removed."), "info")
    return redirect(url_for("orgs.members"))


@bp.route("/switch/<uuid:firm_id>", methods=["POST"])
def switch(firm_id: uuid.UUID) -> Any:
    membership = next((m for m in g.get("memberships", []) if m.firm_id == firm_id), None)
    if membership is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        switch_firm(membership.firm)
    return redirect(url_for("orgs.dashboard"))
