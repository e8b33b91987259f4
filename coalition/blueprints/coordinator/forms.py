"""Forms coordinators use to add organizations."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, FloatField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

from coalition.models.organizations import OrgType


class OrganizationForm(FlaskForm):
    """A new member organization and the email of its first admin."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Short name (slug)"),
        validators=[
            Optional(),
            Length(max=80),
            Regexp(r"^[a-z0-9-]+$", message=_l("Use lowercase letters, digits and dashes.")),
        ],
    )
    type = SelectField(_l("Type"), choices=[SelectChoice(t.value, t.label) for t in OrgType])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    borough = StringField(_l("Borough or city"), validators=[DataRequired(), Length(max=80)])
    lat = FloatField(_l("Latitude"), validators=[DataRequired(), NumberRange(min=-90, max=90)])
    lon = FloatField(_l("Longitude"), validators=[DataRequired(), NumberRange(min=-180, max=180)])
    service_radius_km = IntegerField(
        _l("Service radius (km)"), default=25, validators=[DataRequired(), NumberRange(1, 500)]
    )
    contact_email = EmailField(_l("Contact email"), validators=[DataRequired(), Email()])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    admin_email = EmailField(_l("First admin's email"), validators=[DataRequired(), Email()])
    admin_name = StringField(_l("First admin's name"), validators=[Optional(), Length(max=200)])
