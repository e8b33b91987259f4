"""Forms and fields shared by several feature blueprints."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class ActionForm(FlaskForm):
    """A bare action button (only the CSRF token)."""


class MultiCheckboxField(SelectMultipleField):
    """Several choices shown as checkboxes (the form macro lays them out as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TimezoneField(StringField):
    """A time zone typed with suggestions (`<input list>` and the `timezone_list` macro)."""

    data: str | None

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        render_kw = {"list": "timezones", "autocomplete": "off", "spellcheck": "false"}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def pre_validate(self, form: Any) -> None:
        """Only names of the time zone database, such as America/New_York."""
        value = str(self.data or "").strip()
        self.data = value
        if value not in available_timezones():
            raise ValidationError(
                str(_l("Choose a time zone from the list, such as America/New_York."))
            )
