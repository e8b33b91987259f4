"""Forms for digest settings and email-only recipients."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from coalition.blueprints.organizations.forms import timezone_choices
from coalition.models.catalog import Category, Kind
from coalition.models.digests import DigestFrequency, DigestScope
from coalition.models.organizations import Organization
from coalition.services.digests import WEEKDAYS

FREQUENCY_CHOICES = [
    SelectChoice(DigestFrequency.DAILY.value, "Every day"),
    SelectChoice(DigestFrequency.WEEKLY.value, "Once a week"),
]
SCOPE_CHOICES = [
    SelectChoice(DigestScope.COALITION.value, "The whole coalition"),
    SelectChoice(DigestScope.OWN_ORG.value, "My organization only"),
]
KIND_CHOICES = [
    SelectChoice(Kind.SUPPLY.value, "Supplies"),
    SelectChoice(Kind.STAFFING.value, "Staffing"),
]


class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DigestSettingsForm(FlaskForm):
    """When a digest comes and what it covers."""

    frequency = SelectField("How often", choices=FREQUENCY_CHOICES)
    weekday = SelectField(
        "Day (weekly digests)",
        choices=[SelectChoice(str(i), day) for i, day in enumerate(WEEKDAYS)],
        coerce=int,
    )
    hour = SelectField(
        "Time of day", choices=[SelectChoice(str(h), f"{h:02d}:00") for h in range(24)], coerce=int
    )
    timezone = SelectField("Time zone", choices=[])
    kinds = CheckboxesField("Kinds (none ticked: both)", choices=KIND_CHOICES)
    categories = SelectMultipleField("Categories (none chosen: all)", choices=[])
    max_distance_km = FloatField(
        "Only listings within (km of the organization)",
        validators=[Optional(), NumberRange(min=0.1, max=5000)],
    )
    scope = SelectField("Listings from", choices=SCOPE_CHOICES)
    neutral_wording = BooleanField('Use neutral wording (for example "medical supplies")')
    send_empty = BooleanField("Send the digest even when there is nothing new")

    def set_choices(self, categories: list[Category]) -> None:
        """Time zones and categories come from the data."""
        self.timezone.choices = timezone_choices()
        groups = {Kind.SUPPLY: "Supplies", Kind.STAFFING: "Staffing"}
        self.categories.choices = [
            SelectChoice(c.slug, c.plain_label, optgroup=groups[c.kind]) for c in categories
        ]

    def values(self) -> dict[str, Any]:
        """The settings, typed for the service."""
        return {
            "frequency": DigestFrequency(self.frequency.data),
            "weekday": self.weekday.data,
            "hour": self.hour.data,
            "timezone": self.timezone.data,
            "kinds": sorted(self.kinds.data or []),
            "categories": sorted(self.categories.data or []),
            "max_distance_km": self.max_distance_km.data,
            "scope": DigestScope(self.scope.data),
            "neutral_wording": bool(self.neutral_wording.data),
            "send_empty": bool(self.send_empty.data),
        }


class RecipientForm(DigestSettingsForm):
    """Someone without an account who should receive the digest."""

    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    organization = SelectField("Organization", choices=[])

    def set_organizations(self, orgs: list[Organization], allow_none: bool) -> None:
        """The organizations the person adding may choose from."""
        choices = [SelectChoice(str(o.id), o.name) for o in orgs]
        if allow_none:
            choices.insert(0, SelectChoice("", "None (the whole coalition)"))
        self.organization.choices = choices
