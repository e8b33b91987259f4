"""Forms for an organization's people, settings and API tokens."""

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from coalition.models.users import OrgRole

ROLE_CHOICES = [
    SelectChoice(OrgRole.MEMBER.value, "Member"),
    SelectChoice(OrgRole.ORG_ADMIN.value, "Organization admin"),
]


class InviteForm(FlaskForm):
    """Invite a colleague."""

    email = EmailField("Email", validators=[DataRequired(), Email()])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=OrgRole.MEMBER.value)


class RoleForm(FlaskForm):
    """Change a colleague's role."""

    role = SelectField("Role", choices=ROLE_CHOICES)


def timezone_choices() -> list[SelectChoice]:
    """Time zones, America first."""
    zones = sorted(available_timezones())
    ordered = [z for z in zones if z.startswith("America/")]
    ordered += [z for z in zones if not z.startswith("America/")]
    return [SelectChoice(z, z) for z in ordered]


class OrgSettingsForm(FlaskForm):
    """What an org admin may change about their organization."""

    contact_email = EmailField("Contact email", validators=[DataRequired(), Email()])
    contact_phone = StringField("Contact phone", validators=[Optional(), Length(max=40)])
    address = StringField("Address", validators=[Optional(), Length(max=300)])
    service_radius_km = IntegerField(
        "Service radius (km)", validators=[DataRequired(), NumberRange(min=1, max=500)]
    )
    timezone = SelectField("Time zone", choices=[])
    discreet_wording = BooleanField("Use neutral wording in emails and exports")
    show_name = BooleanField(_l("Show our name on listings"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class TokenForm(FlaskForm):
    """A label to recognise the token by."""

    label = StringField(
        "Label",
        validators=[DataRequired(message="Name the tool that will use it."), Length(max=120)],
    )
