"""Organizations, read-only."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from coalition.api_support import api_login_required
from coalition.auth import actor, is_coordinator
from coalition.blueprints.organizations.schemas import (
    OrganizationContactSchema,
    OrganizationSchema,
)
from coalition.extensions import db
from coalition.models.organizations import Organization, OrgStatus
from coalition.services.discretion import Viewer, sees_name

blp = Blueprint(
    "organizations_api",
    __name__,
    url_prefix="/organizations",
    description="Active member organizations; contacts only for coordinators.",
)


def _schema(many: bool = False) -> OrganizationSchema:
    """Coordinators get contacts; members get the public view."""
    cls = OrganizationContactSchema if is_coordinator() else OrganizationSchema
    return cls(many=many)


@blp.route("")
class Organizations(MethodView):
    """The active member organizations."""

    decorators = [api_login_required]

    @blp.alt_response(
        200, schema=OrganizationSchema(many=True), description="Organizations", success=True
    )
    def get(self) -> Any:
        """List active member organizations."""
        orgs = db.session.scalars(
            sa.select(Organization)
            .where(Organization.status == OrgStatus.ACTIVE)
            .order_by(Organization.name)
        ).all()
        # ordered only by what the caller sees: the order of names it does not see is hidden
        return sorted(_schema(many=True).dump(orgs), key=_seen_order)


def _readable(org: Organization | None) -> bool:
    """Coordinators read any; others an active one that is theirs or shows its name."""
    if org is None or (org.status != OrgStatus.ACTIVE and not is_coordinator()):
        return False
    return sees_name(org, Viewer.of(actor()))


def _seen_order(org: dict[str, Any]) -> tuple[Any, ...]:
    """Named organizations by name, then the others by area and grid cell."""
    return (org["name"] is None, org["name"] or "", org["borough"], org["lat"], org["lon"])


@blp.route("/<slug>")
class OrganizationBySlug(MethodView):
    """One organization."""

    decorators = [api_login_required]

    @blp.alt_response(200, schema=OrganizationSchema, description="The organization", success=True)
    def get(self, slug: str) -> Any:
        """Read one active organization (coordinators see any; members see others only when
        they show their name, as a slug would give the name back)."""
        org = db.session.scalar(sa.select(Organization).where(Organization.slug == slug))
        if not _readable(org):
            abort(404, message="No such organization.")
        return _schema().dump(org)
