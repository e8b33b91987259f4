"""The quick-count form: category, count, and optionally the lot, its expiry and distribution."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import NumberInput

from coalition.models.organizations import Organization


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


def org_choices(orgs: list[Organization]) -> list[SelectChoice]:
    """Organizations a coordinator may record for (by slug)."""
    return [SelectChoice(org.slug, org.name) for org in orgs]


def attach_errors(form: FlaskForm, errors: dict[str, list[str]]) -> None:
    """Put each message on the field it is about (or on the form when there is none)."""
    for name, messages in errors.items():
        field = getattr(form, name.split(".")[0], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(f"{name}: {m}" for m in messages)
