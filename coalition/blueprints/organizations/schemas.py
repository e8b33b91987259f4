"""Output schemas for organizations."""

from marshmallow import Schema, fields


class OrganizationSchema(Schema):
    """What every signed-in member may see of an organization."""

    slug = fields.String()
    name = fields.String()
    type = fields.Function(lambda org: org.type.value)
    borough = fields.Function(lambda org: org.area)
    lat = fields.Float()
    lon = fields.Float()
    service_radius_km = fields.Integer()


class OrganizationContactSchema(OrganizationSchema):
    """Coordinators also see contacts and standing."""

    address = fields.String()
    contact_email = fields.String()
    contact_phone = fields.String()
    timezone = fields.String()
    status = fields.Function(lambda org: org.status.value)
