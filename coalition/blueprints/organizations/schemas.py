"""Output schemas for organizations."""

from typing import Any

from marshmallow import Schema, fields, post_dump

from coalition.auth import actor
from coalition.services.discretion import Viewer, discreet_organization


class OrganizationSchema(Schema):
    """What every signed-in member may see of an organization."""

    slug = fields.String(
        allow_none=True,
        metadata={"description": "null for others unless the organization shows its name"},
    )
    name = fields.String(allow_none=True)
    show_name = fields.Boolean(
        metadata={"description": "whether it shows its name on listings before approval"}
    )
    type = fields.Function(lambda org: org.type.value)
    borough = fields.Function(lambda org: org.area)
    lat = fields.Float(metadata={"description": "its 3 km grid cell's centre, for others"})
    lon = fields.Float()
    service_radius_km = fields.Integer()

    @post_dump(pass_original=True)
    def _discreet(self, data: dict[str, Any], org: Any, **kwargs: Any) -> dict[str, Any]:
        """Other organizations see the area of a site, not the site, and no name unless it is
        shown."""
        return discreet_organization(data, org, Viewer.of(actor()))


class OrganizationContactSchema(OrganizationSchema):
    """Coordinators also see contacts and standing."""

    address = fields.String()
    contact_email = fields.String()
    contact_phone = fields.String()
    timezone = fields.String()
    status = fields.Function(lambda org: org.status.value)
