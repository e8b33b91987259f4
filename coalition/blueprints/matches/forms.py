"""Forms for deciding matches and for auto-approval rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from coalition.models.catalog import Kind
from coalition.services.match_lifecycle import MAX_REASON

KIND_CHOICES = [
    SelectChoice(Kind.SUPPLY.value, _l("Supplies")),
    SelectChoice(Kind.STAFFING.value, _l("Staffing (people's time)")),
]


class RejectForm(FlaskForm):
    """A coordinator's reason for rejecting a proposal."""

    reason = StringField(
        _l("Reason"), validators=[DataRequired(_l("Give a reason.")), Length(max=MAX_REASON)]
    )


class ReasonForm(FlaskForm):
    """An optional reason (declining, cancelling)."""

    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=MAX_REASON)])


class RuleForm(FlaskForm):
    """An auto-approval rule."""

    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default=Kind.SUPPLY.value)
    category = SelectField(_l("Category"), choices=[], default="")
    max_quantity = IntegerField(
        _l("Up to (units or hours)"),
        validators=[DataRequired(_l("Enter a quantity.")), NumberRange(min=1, max=1_000_000)],
    )
