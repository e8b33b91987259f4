"""Forms for notification and webhook settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, URLField
from wtforms.validators import DataRequired, Length


class WebhookForm(FlaskForm):
    """An organization's webhook."""

    url = URLField("Webhook URL", validators=[DataRequired("Enter a URL."), Length(max=500)])
    active = BooleanField("Send events to this URL", default=True)
    rotate = BooleanField("Make a new secret")
