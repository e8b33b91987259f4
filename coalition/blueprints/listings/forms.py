"""Web forms for listings; their rules are the marshmallow schemas' (see `form_input`)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Form,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import DateInput, NumberInput

from coalition.extensions import db
from coalition.labels import VALUE_LABELS, translated
from coalition.models.catalog import Category, Kind
from coalition.models.listings import Direction, ListingStatus, Urgency, Visibility
from coalition.models.organizations import Organization
from coalition.services.impact import TAG_MAX, listing_tags, normalize_tag
from coalition.services.listings_csv import format_list, format_windows, parse_windows, split_list

URGENCY_CHOICES = [
    SelectChoice(Urgency.CRITICAL.value, _l("Critical: people are at risk today")),
    SelectChoice(Urgency.HIGH.value, _l("High: within days")),
    SelectChoice(Urgency.NORMAL.value, _l("Normal")),
    SelectChoice(Urgency.LOW.value, _l("Low: whenever possible")),
]
VISIBILITY_CHOICES = [
    SelectChoice(Visibility.COALITION.value, _l("The whole coalition")),
    SelectChoice(Visibility.COORDINATORS.value, _l("Coordinators only")),
]
DIRECTION_CHOICES = [
    SelectChoice(Direction.OFFER.value, _l("We can give")),
    SelectChoice(Direction.REQUEST.value, _l("We need")),
]
TEXT_FIELDS = ("category", "quantity", "lat", "lon", "max_distance_km", "visibility")
CLEARABLE_FIELDS = ("expires_on", "need_by", "notes")


def category_choices(categories: list[Category]) -> list[SelectChoice]:
    """Categories grouped into supplies and staffing roles, with their unit."""
    groups = {Kind.SUPPLY: gettext("Supplies"), Kind.STAFFING: gettext("Staffing (hours)")}
    return [
        SelectChoice(
            c.slug,
            f"{translated(c.plain_label)} ({translated(c.unit)})",
            optgroup=groups[c.kind],
            render_kw={"data-kind": c.kind.value},
        )
        for c in categories
    ]


def org_choices(orgs: list[Organization]) -> list[SelectChoice]:
    """Organizations a coordinator may post for."""
    return [SelectChoice(org.slug, org.name) for org in orgs]


class ListingForm(FlaskForm):
    """Every field of an offer or a request; fields that do not apply stay empty."""

    org = SelectField(_l("For organization"), choices=[], validate_choice=False)
    category = SelectField(_l("What"), choices=[], validate_choice=False)
    quantity = StringField(
        _l("Quantity"), widget=NumberInput(min=1), description=_l("units or hours")
    )
    expires_on = StringField(_l("Lot expiry date"), widget=DateInput())
    need_by = StringField(_l("Needed by"), widget=DateInput())
    urgency = SelectField(
        _l("Urgency"), choices=URGENCY_CHOICES, default="normal", validate_choice=False
    )
    accepts_expired = BooleanField(_l("Expired stock is acceptable"))
    credentials = StringField(_l("Credentials"), description=_l("separated by ; e.g. rn-license"))
    languages = StringField(_l("Languages"), description=_l("codes separated by ; e.g. en; es"))
    remote_ok = BooleanField(_l("Remote work is fine"))
    windows = TextAreaField(
        _l("Availability windows"),
        description=_l("one per line: 2026-12-01 09:00 to 2026-12-01 17:00 (your time zone)"),
    )
    lat = StringField(_l("Latitude"), widget=NumberInput(step="any"))
    lon = StringField(_l("Longitude"), widget=NumberInput(step="any"))
    max_distance_km = StringField(_l("Maximum distance (km)"), widget=NumberInput(step="any"))
    visibility = SelectField(
        _l("Who can see it"), choices=VISIBILITY_CHOICES, default="coalition", validate_choice=False
    )
    notes = TextAreaField(_l("Notes"))
    tags = StringField(
        _l("Programs and funders"),
        description=_l("your own tags, separated by ; e.g. County grant; Foundation X"),
    )


class QuickPostForm(FlaskForm):
    """Direction, category, quantity and (for requests) urgency; the rest is defaulted."""

    direction = SelectField(_l("I want to"), choices=DIRECTION_CHOICES, validate_choice=False)
    category = SelectField(_l("What"), choices=[], validate_choice=False)
    quantity = StringField(_l("How many (units or hours)"), widget=NumberInput(min=1))
    urgency = SelectField(
        _l("How urgent (requests)"),
        choices=URGENCY_CHOICES,
        default="normal",
        validate_choice=False,
    )


class ImportForm(FlaskForm):
    """A CSV file of offers, for one organization."""

    org = SelectField(_l("For organization"), choices=[], validate_choice=False)
    file = FileField(_l("CSV file"))


STATUS_CHOICES = [
    SelectChoice("active", _l("Open or partly matched")),
    SelectChoice("all", _l("Any status")),
    *[SelectChoice(s.value, _l(VALUE_LABELS[s.value])) for s in ListingStatus],
]


class BrowseForm(Form):
    """Filters of the browse page and the CSV export (query string, no CSRF)."""

    q = StringField(_l("Search"))
    direction = SelectField(
        _l("Offers or requests"),
        choices=[
            SelectChoice("", _l("Both")),
            SelectChoice("offer", _l("Offers")),
            SelectChoice("request", _l("Requests")),
        ],
        default="",
    )
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice("supply", _l("Supplies")),
            SelectChoice("staffing", _l("Staffing")),
        ],
        default="",
    )
    category = SelectField(_l("Category"), choices=[], default="")
    urgency = SelectField(
        _l("Urgency"), choices=[SelectChoice("", _l("Any")), *URGENCY_CHOICES], default=""
    )
    org = SelectField(_l("Organization"), choices=[], default="")
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, default="active")
    within_km = StringField(_l("Within km of us"), widget=NumberInput(min=1, step="any"))


# ---------------------------------------------------------------- form ⇄ schema input


def form_input(
    form: ListingForm, direction: str, kind: str | None, zone: tzinfo, editing: bool
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form as API-style input for the schemas, and errors of fields it cannot read."""
    raw: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        value = (getattr(form, name).data or "").strip()
        if value:
            raw[name] = value
    for name in CLEARABLE_FIELDS:
        value = (getattr(form, name).data or "").strip()
        if value or editing:
            raw[name] = value or (None if name != "notes" else "")
    if direction == Direction.REQUEST.value:
        raw["urgency"] = form.urgency.data or "normal"
    _list_fields(form, raw, errors, zone, editing)
    _tags(form, raw, errors, editing)
    _flags(form, raw, direction, kind)
    return raw, errors


def _tags(
    form: ListingForm, raw: dict[str, Any], errors: dict[str, list[str]], editing: bool
) -> None:
    """Program and funder tags from `a; b` (commas stay inside a tag)."""
    text = (form.tags.data or "").strip()
    if not (text or editing):
        return
    tags = [normalize_tag(t) for t in text.split(";") if t.strip()]
    if any(len(" ".join(t.split())) > TAG_MAX for t in text.split(";")):
        errors["tags"] = [gettext("each tag may have at most %(n)s characters", n=TAG_MAX)]
    else:
        raw["tags"] = tags


def _list_fields(
    form: ListingForm,
    raw: dict[str, Any],
    errors: dict[str, list[str]],
    zone: tzinfo,
    editing: bool,
) -> None:
    """Credentials, languages and windows from their text forms."""
    for name in ("credentials", "languages"):
        text = (getattr(form, name).data or "").strip()
        if text or editing:
            raw[name] = split_list(text)
    text = (form.windows.data or "").strip()
    if text or editing:
        try:
            raw["windows"] = parse_windows(text, zone)
        except ValueError as exc:
            errors["windows"] = [str(exc)]


def _flags(form: ListingForm, raw: dict[str, Any], direction: str, kind: str | None) -> None:
    """Check boxes count only where they apply (an unticked box sends nothing)."""
    if kind == Kind.STAFFING.value:
        raw["remote_ok"] = bool(form.remote_ok.data)
    if kind == Kind.SUPPLY.value and direction == Direction.REQUEST.value:
        raw["accepts_expired"] = bool(form.accepts_expired.data)


def form_data(listing: Any, zone: tzinfo) -> dict[str, Any]:
    """A listing's values for pre-filling the edit form."""
    return {
        "category": listing.category.slug,
        "quantity": str(listing.quantity),
        "expires_on": listing.expires_on.isoformat() if listing.expires_on else "",
        "need_by": listing.need_by.isoformat() if listing.need_by else "",
        "urgency": listing.urgency.value if listing.urgency else "normal",
        "accepts_expired": listing.accepts_expired,
        "credentials": format_list(listing.credentials),
        "languages": format_list(listing.languages),
        "remote_ok": listing.remote_ok,
        "windows": format_windows(listing.windows, zone),
        "lat": f"{listing.lat:g}",
        "lon": f"{listing.lon:g}",
        "max_distance_km": f"{listing.max_distance_km:g}",
        "visibility": listing.visibility.value,
        "notes": listing.notes,
        "tags": "; ".join(listing_tags(db.session, listing.id)),
    }


def attach_errors(form: FlaskForm, errors: dict[str, list[str]]) -> None:
    """Put each message on the field it is about (or on the form when there is none)."""
    for name, messages in errors.items():
        field = getattr(form, name.split(".")[0], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(f"{name}: {m}" for m in messages)
