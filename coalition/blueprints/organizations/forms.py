"""Forms for an organization's people, settings and API tokens."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from coalition.blueprints.forms import TimezoneField
from coalition.models.users import OrgRole

ROLE_CHOICES = [
    SelectChoice(OrgRole.MEMBER.value, _l("Member")),
    SelectChoice(OrgRole.ORG_ADMIN.value, _l("Organization admin")),
]


class InviteForm(FlaskForm):
    """Invite a colleague."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=OrgRole.MEMBER.value)


class RoleForm(FlaskForm):
    """Change a colleague's role."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class OrgSettingsForm(FlaskForm):
    """What an org admin may change about their organization."""

    contact_email = EmailField(_l("Contact email"), validators=[DataRequired(), Email()])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    service_radius_km = IntegerField(
        _l("Service radius (km)"), validators=[DataRequired(), NumberRange(min=1, max=500)]
    )
    timezone = TimezoneField(_l("Time zone"))
    discreet_wording = BooleanField(_l("Use neutral wording in emails and exports"))
    show_name = BooleanField(_l("Show our name on listings"))


class TokenForm(FlaskForm):
    """A label to recognise the token by."""

    label = StringField(
        _l("Label"),
        validators=[DataRequired(message=_l("Name the tool that will use it.")), Length(max=120)],
    )
