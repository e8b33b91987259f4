"""An organization's own pages: members, invitations, settings."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coalition.auth import can_manage_org, managed_org
from coalition.blueprints.organizations.forms import InviteForm, OrgSettingsForm, RoleForm
from coalition.extensions import db
from coalition.models.organizations import Organization
from coalition.models.users import ApiToken, Invitation, OrgRole, User
from coalition.services import accounts
from coalition.services.errors import ServiceError

bp = Blueprint("orgs", __name__, url_prefix="/org", template_folder="templates")

OrgRow = TypeVar("OrgRow", Invitation, User, ApiToken)


def of_org(model: type[OrgRow], row_id: int, org: Organization) -> OrgRow:
    """A row of that organization, else 404 (other organizations' rows are not revealed)."""
    row = db.get_or_404(model, row_id)
    if row.organization_id != org.id:
        abort(404)
    return row


def _visible_org(org_id: int) -> Organization:
    """Members see their own organization's people; coordinators see all."""
    org = db.get_or_404(Organization, org_id)
    if not (current_user.is_coordinator or current_user.organization_id == org.id):
        abort(403)
    return org


@bp.get("/")
@login_required
def my_organization() -> Any:
    """The current person's organization."""
    if current_user.organization_id is None:
        abort(404)
    return redirect(url_for("orgs.show", org_id=current_user.organization_id))


@bp.get("/<int:org_id>")
@login_required
def show(org_id: int) -> Any:
    """People, invitations and settings of one organization."""
    org = _visible_org(org_id)
    return _render_org(org, InviteForm(), OrgSettingsForm(obj=org))


def _render_org(org: Organization, invite_form: InviteForm, settings_form: OrgSettingsForm) -> Any:
    """Render the organization page with the given forms."""
    members = db.session.scalars(
        sa.select(User).where(User.organization_id == org.id).order_by(User.name)
    ).all()
    invitations = db.session.scalars(
        sa.select(Invitation)
        .where(Invitation.organization_id == org.id)
        .order_by(Invitation.created_at.desc())
        .limit(20)
    ).all()
    return render_template(
        "orgs/show.html",
        org=org,
        members=members,
        invitations=invitations,
        invite_form=invite_form,
        settings_form=settings_form,
        role_form=RoleForm(),
        can_manage=can_manage_org(org),
    )


@bp.post("/<int:org_id>/invitations")
@login_required
def invite(org_id: int) -> Any:
    """Invite a colleague (org admins and coordinators)."""
    org = managed_org(org_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            accounts.invite(
                db.session,
                current_user,
                org,
                form.email.data or "",
                form.name.data or "",
                OrgRole(form.role.data),
            )
        except ServiceError as exc:
            form.email.errors.append(exc.message)
        else:
            db.session.commit()
            flash(gettext("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("orgs.show", org_id=org.id))
    return _render_org(org, form, OrgSettingsForm(obj=org)), 422


@bp.post("/<int:org_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(org_id: int, invitation_id: int) -> Any:
    """Withdraw an open invitation."""
    org = managed_org(org_id)
    invitation = of_org(Invitation, invitation_id, org)
    accounts.revoke_invitation(db.session, current_user, invitation)
    db.session.commit()
    flash(gettext("Invitation withdrawn."), "info")
    return redirect(url_for("orgs.show", org_id=org.id))


@bp.post("/<int:org_id>/members/<int:user_id>/role")
@login_required
def change_role(org_id: int, user_id: int) -> Any:
    """Make a colleague an admin or a member."""
    org = managed_org(org_id)
    user = of_org(User, user_id, org)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(422, "Choose a valid role.")
    if user.id == current_user.id and not current_user.is_coordinator:
        abort(403, "You cannot change your own role.")
    accounts.change_org_role(db.session, current_user, user, OrgRole(form.role.data))
    db.session.commit()
    admin = form.role.data == "org_admin"
    flash(
        gettext("%(name)s is now an admin.", name=user.name)
        if admin
        else gettext("%(name)s is now a member.", name=user.name)
    )
    return redirect(url_for("orgs.show", org_id=org.id))


@bp.post("/<int:org_id>/members/<int:user_id>/<any(disable, enable):action>")
@login_required
def set_member_access(org_id: int, user_id: int, action: str) -> Any:
    """Disable or re-enable a colleague's account."""
    org = managed_org(org_id)
    user = of_org(User, user_id, org)
    if user.id == current_user.id:
        abort(403, "You cannot disable your own account.")
    accounts.set_user_disabled(db.session, current_user, user, action == "disable")
    db.session.commit()
    flash(
        gettext("The account of %(name)s is disabled.", name=user.name)
        if action == "disable"
        else gettext("The account of %(name)s is enabled.", name=user.name),
        "info",
    )
    return redirect(url_for("orgs.show", org_id=org.id))


@bp.post("/<int:org_id>/settings")
@login_required
def update_settings(org_id: int) -> Any:
    """Change contact details, radius, time zone and wording."""
    org = managed_org(org_id)
    form = OrgSettingsForm()
    if form.validate_on_submit():
        # a text field left out of the post is empty, never None (the columns are NOT NULL)
        values = {name: _or_empty(getattr(form, name).data) for name in SETTINGS_FIELDS}
        accounts.update_organization(db.session, current_user, org, **values)
        db.session.commit()
        flash(gettext("Settings saved."), "success")
        return redirect(url_for("orgs.show", org_id=org.id))
    return _render_org(org, InviteForm(), form), 422


def _or_empty(value: Any) -> Any:
    """None as an empty string."""
    return "" if value is None else value


SETTINGS_FIELDS = (
    "contact_email",
    "contact_phone",
    "address",
    "service_radius_km",
    "timezone",
    "discreet_wording",
    "show_name",
)
