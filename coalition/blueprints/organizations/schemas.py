"""Output schemas for organizations."""

from typing import Any

from marshmallow import Schema, fields, post_dump

from coalition.auth import actor
from coalition.services.discretion import Viewer, discreet_organization


class OrganizationSchema(Schema):
    """What every signed-in member may see of an organization."""

    slug = fields.String()
    name = fields.String()
    type = fields.Function(lambda org: org.type.value)
    borough = fields.Function(lambda org: org.area)
    lat = fields.Float(metadata={"description": "its 3 km grid cell's centre, for others"})
    lon = fields.Float()
    service_radius_km = fields.Integer()

    @post_dump(pass_original=True)
    def _discreet(self, data: dict[str, Any], org: Any, **kwargs: Any) -> dict[str, Any]:
        """Other organizations see the area of a site, not the site."""
        return discreet_organization(data, org.id, Viewer.of(actor()))


class OrganizationContactSchema(OrganizationSchema):
    """Coordinators also see contacts and standing."""

    address = fields.String()
    contact_email = fields.String()
    contact_phone = fields.String()
    timezone = fields.String()
    status = fields.Function(lambda org: org.status.value)
