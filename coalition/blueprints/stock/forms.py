"""The quick-count form: category, count, and optionally the lot, its expiry and distribution."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional
from wtforms.widgets import NumberInput


class CountForm(FlaskForm):
    """A count on a phone in under a minute; the optional fields can stay empty."""

    org = SelectField(_l("For organization"), choices=[], validate_choice=False)
    category = SelectField(_l("What"), choices=[], validate_choice=False)
    quantity = StringField(_l("How many on the shelf now"), widget=NumberInput(min=0))
    lot = StringField(_l("Lot (optional)"))
    expires_on = DateField(_l("Lot expiry (optional)"), validators=[Optional()])
    distributed = StringField(
        _l("Given out since the last count (optional)"), widget=NumberInput(min=0)
    )


class CredentialForm(FlaskForm):
    """A credential the organization holds: what, which document, until when."""

    org = SelectField(_l("For organization"), choices=[], validate_choice=False)
    kind = SelectField(_l("Credential"), choices=[], validate_choice=False)
    document_ref = StringField(_l("Document number or name"))
    expires_on = DateField(_l("Expires on"), validators=[Optional()])
