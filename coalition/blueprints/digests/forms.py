"""Forms for digest settings and email-only recipients."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from coalition.blueprints.forms import MultiCheckboxField, TimezoneField
from coalition.i18n import DEFAULT_LOCALE, LANGUAGES
from coalition.labels import translated
from coalition.models.catalog import Category, Kind
from coalition.models.digests import DigestFrequency, DigestScope
from coalition.models.organizations import Organization

WEEKDAY_LABELS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]
FREQUENCY_CHOICES = [
    SelectChoice(DigestFrequency.DAILY.value, _l("Every day")),
    SelectChoice(DigestFrequency.WEEKLY.value, _l("Once a week")),
]
SCOPE_CHOICES = [
    SelectChoice(DigestScope.COALITION.value, _l("The whole coalition")),
    SelectChoice(DigestScope.OWN_ORG.value, _l("My organization only")),
]
KIND_CHOICES = [
    SelectChoice(Kind.SUPPLY.value, _l("Supplies")),
    SelectChoice(Kind.STAFFING.value, _l("Staffing")),
]


class DigestSettingsForm(FlaskForm):
    """When a digest comes and what it covers."""

    frequency = SelectField(_l("How often"), choices=FREQUENCY_CHOICES)
    weekday = SelectField(
        _l("Day (weekly digests)"),
        choices=[SelectChoice(str(i), day) for i, day in enumerate(WEEKDAY_LABELS)],
        coerce=int,
    )
    hour = SelectField(
        _l("Time of day"),
        choices=[SelectChoice(str(h), f"{h:02d}:00") for h in range(24)],
        coerce=int,
    )
    timezone = TimezoneField(_l("Time zone"))
    kinds = MultiCheckboxField(_l("Kinds (none ticked: both)"), choices=KIND_CHOICES)
    categories = MultiCheckboxField(_l("Categories (none ticked: all)"), choices=[])
    max_distance_km = FloatField(
        _l("Only listings within (km of the organization)"),
        validators=[Optional(), NumberRange(min=0.1, max=5000)],
    )
    scope = SelectField(_l("Listings from"), choices=SCOPE_CHOICES)
    neutral_wording = BooleanField(_l('Use neutral wording (for example "medical supplies")'))
    send_empty = BooleanField(_l("Send the digest even when there is nothing new"))

    def set_choices(self, categories: list[Category]) -> None:
        """Time zones and categories come from the data."""
        self.categories.choices = [
            SelectChoice(c.slug, translated(c.plain_label)) for c in categories
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

    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    organization = SelectField(_l("Organization"), choices=[])
    locale = SelectField(
        _l("Language of the digest"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        default=DEFAULT_LOCALE,
    )

    def set_organizations(self, orgs: list[Organization], allow_none: bool) -> None:
        """The organizations the person adding may choose from."""
        choices = [SelectChoice(str(o.id), o.name) for o in orgs]
        if allow_none:
            choices.insert(0, SelectChoice("", _l("None (the whole coalition)")))
        self.organization.choices = choices
