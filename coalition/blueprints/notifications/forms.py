"""Forms for notification and webhook settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, URLField
from wtforms.validators import DataRequired, Length


class WebhookForm(FlaskForm):
    """An organization's webhook."""

    url = URLField(
        _l("Webhook URL"), validators=[DataRequired(_l("Enter a URL.")), Length(max=500)]
    )
    active = BooleanField(_l("Send events to this URL"), default=True)
    rotate = BooleanField(_l("Make a new secret"))
