"""Coordinators manage member organizations and read the audit log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from coalition.auth import coordinator_required
from coalition.blueprints.coordinator.forms import OrganizationForm
from coalition.extensions import db
from coalition.labels import label
from coalition.models.audit import AuditEntry
from coalition.models.organizations import Organization, OrgStatus, OrgType
from coalition.models.users import OrgRole
from coalition.services import accounts
from coalition.services.errors import ServiceError

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator", template_folder="templates")

ORG_FIELDS = (
    "name",
    "type",
    "address",
    "borough",
    "lat",
    "lon",
    "service_radius_km",
    "contact_email",
    "contact_phone",
)
STATUS_ACTIONS = {
    "approve": OrgStatus.ACTIVE,
    "suspend": OrgStatus.SUSPENDED,
    "reactivate": OrgStatus.ACTIVE,
}


@bp.get("/organizations")
@coordinator_required
def organizations() -> Any:
    """All member organizations, filterable by status."""
    status = request.args.get("status") or None
    query = sa.select(Organization).order_by(Organization.status, Organization.name)
    if status in {s.value for s in OrgStatus}:
        query = query.where(Organization.status == OrgStatus(status))
    orgs = db.session.scalars(query).all()
    return render_template(
        "coordinator/organizations.html", orgs=orgs, status=status, form=OrganizationForm()
    )


@bp.post("/organizations")
@coordinator_required
def create_organization() -> Any:
    """Add an organization (pending) and invite its first admin."""
    form = OrganizationForm()
    if form.validate_on_submit():
        try:
            _create_with_admin(form)
        except ServiceError as exc:
            getattr(form, exc.field or "name").errors.append(exc.message)
        else:
            db.session.commit()
            flash(
                gettext(
                    "%(organization)s added; invitation sent to %(email)s.",
                    organization=form.name.data,
                    email=form.admin_email.data,
                ),
                "success",
            )
            return redirect(url_for("coordinator.organizations"))
    orgs = db.session.scalars(sa.select(Organization).order_by(Organization.name)).all()
    return render_template(
        "coordinator/organizations.html", orgs=orgs, status=None, form=form, open_form=True
    ), 422


def _create_with_admin(form: OrganizationForm) -> Organization:
    """Create the organization and its first admin's invitation."""
    values = {name: getattr(form, name).data for name in ORG_FIELDS}
    values["type"] = OrgType(values["type"])
    if form.slug.data:
        values["slug"] = form.slug.data
    org = accounts.create_organization(db.session, current_user, **values)
    try:
        accounts.invite(
            db.session,
            current_user,
            org,
            form.admin_email.data or "",
            form.admin_name.data or "",
            OrgRole.ORG_ADMIN,
        )
    except ServiceError as exc:
        raise ServiceError(exc.message, "admin_email") from exc
    return org


@bp.post("/organizations/<int:org_id>/<any(approve, suspend, reactivate):action>")
@coordinator_required
def set_status(org_id: int, action: str) -> Any:
    """Approve, suspend or reactivate an organization."""
    org = db.get_or_404(Organization, org_id)
    accounts.set_organization_status(db.session, current_user, org, STATUS_ACTIONS[action])
    db.session.commit()
    flash(
        gettext(
            "%(organization)s is now %(status)s.", organization=org.name, status=label(org.status)
        ),
        "success",
    )
    return redirect(request.referrer or url_for("coordinator.organizations"))


@bp.get("/audit")
@coordinator_required
def audit_log() -> Any:
    """Who did what to which record, newest first, filterable by record type."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    target = request.args.get("target") or None
    query = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if target:
        query = query.where(AuditEntry.target_type == target)
    entries = db.paginate(query, page=page, per_page=50, error_out=False)
    targets = db.session.scalars(sa.select(AuditEntry.target_type).distinct()).all()
    return render_template(
        "coordinator/audit.html", entries=entries, target=target, targets=sorted(targets)
    )
