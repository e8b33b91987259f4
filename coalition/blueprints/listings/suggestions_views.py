"""Live suggestions while a listing is being written: who the matcher would propose now."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import gettext
from flask_login import current_user, login_required

from coalition.blueprints.listings.forms import ListingForm, form_input
from coalition.blueprints.listings.views import _direction, _load, _require_poster, _zone, bp
from coalition.extensions import db
from coalition.models.listings import Direction
from coalition.models.organizations import Organization
from coalition.services import catalog
from coalition.services.discretion import Viewer
from coalition.services.listing_input import SuggestionSchema
from coalition.services.suggestions import Draft, suggest


@bp.post("/suggestions")
@login_required
def suggestions() -> Any:
    """What the matcher would propose now for the listing form's values: an htmx fragment.

    Nothing is posted or reserved. Incomplete input gets a hint (200), invalid input its
    messages (422); counterparts are shown as before approval (see services.suggestions).
    """
    _require_poster()
    direction = _direction(request.args.get("direction"))
    form = ListingForm()  # no choices needed: the schema checks the category
    org = current_user.organization or db.session.scalar(
        sa.select(Organization).where(Organization.slug == (form.org.data or ""))
    )
    if org is None or not (form.category.data or "").strip():
        hint = (
            gettext("Choose the organization to see who could use this.") if org is None else None
        )
        return render_template("listings/_suggestions.html", hint=hint or _hint(direction))
    draft, errors = _draft(form, direction, org)
    if draft is None:
        return render_template("listings/_suggestions.html", errors=errors, form=form), 422
    found = suggest(db.session, Viewer.of(current_user), org, draft, date.today())
    return render_template("listings/_suggestions.html", found=found, direction=direction)


def _hint(direction: Direction) -> str:
    """What to fill in before suggestions can show."""
    if direction == Direction.OFFER:
        return gettext("Choose what you offer to see who nearby could use it.")
    return gettext("Choose what you need to see who nearby could give it.")


def _draft(
    form: ListingForm, direction: Direction, org: Organization
) -> tuple[Draft | None, dict[str, list[str]]]:
    """The form's values as a draft listing (the organization's site by default), or errors."""
    category = catalog.category_by_slug(db.session, form.category.data or "")
    kind = category.kind.value if category else None
    raw, errors = form_input(form, direction.value, kind, _zone(org), editing=False)
    data, schema_errors = _load(SuggestionSchema, raw)
    errors = {**schema_errors, **errors}
    if errors:
        return None, errors
    urgency = data.get("urgency")
    windows = tuple((w["start"], w["end"]) for w in data.get("windows") or ())
    return Draft(
        direction=direction,
        category=data["category"],
        quantity=data.get("quantity"),
        lat=_given(data, "lat", org.lat),
        lon=_given(data, "lon", org.lon),
        max_distance_km=_given(data, "max_distance_km", float(org.service_radius_km)),
        urgency=urgency.value if urgency else "normal",
        expires_on=data.get("expires_on") if direction == Direction.OFFER else None,
        need_by=data.get("need_by") if direction == Direction.REQUEST else None,
        accepts_expired=bool(data.get("accepts_expired")),
        remote_ok=bool(data.get("remote_ok")),
        credentials=frozenset(data.get("credentials") or ()),
        languages=frozenset(data.get("languages") or ()),
        windows=windows,
    ), {}


def _given(data: dict[str, Any], name: str, default: float) -> float:
    """A number from the form, or the organization's."""
    value = data.get(name)
    return float(value) if value is not None else default
