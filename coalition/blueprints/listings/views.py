"""Listings pages: browse and search, detail, post, quick-post, edit, withdraw, export (the
live suggestions and the CSV import are in their own modules, on the same blueprint)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import selectinload

from coalition.blueprints.listings.forms import (
    BrowseForm,
    ListingForm,
    QuickPostForm,
    attach_errors,
    category_choices,
    form_data,
    form_input,
    org_choices,
)
from coalition.blueprints.listings.tagging import save_tags
from coalition.blueprints.stock.present import suggestion_text
from coalition.extensions import db
from coalition.matching.geo import haversine_km
from coalition.models.catalog import Kind
from coalition.models.listings import Direction, Listing
from coalition.models.organizations import Organization, OrgStatus
from coalition.services import catalog, credentials, proactive
from coalition.services import listings as service
from coalition.services.discretion import Viewer
from coalition.services.errors import ServiceError
from coalition.services.listing_input import (
    CREATE_SCHEMAS,
    UPDATE_SCHEMAS,
    load_errors,
)
from coalition.services.listings_csv import (
    export_csv,
)

bp = Blueprint("listings", __name__, url_prefix="/listings", template_folder="templates")

PAGE_SIZE = 50
MAX_BROWSE = 2000
ACTIVE = ["open", "partly_matched"]
QUICK_WINDOW_DAYS = 30


# ---------------------------------------------------------------- helpers


def _zone(org: Organization | None) -> ZoneInfo:
    """The organization's time zone (New York when unknown)."""
    try:
        return ZoneInfo(getattr(org, "timezone", None) or "America/New_York")
    except (ValueError, KeyError):
        return ZoneInfo("America/New_York")


def _listing_or_404(listing_id: int) -> Listing:
    """A listing the current person may see, or 404."""
    return service.visible_listing(db.session, current_user, listing_id)


def _editable(listing_id: int) -> Listing:
    """A listing the current person may change: 404 if hidden, 403 if another org's."""
    listing = _listing_or_404(listing_id)
    if not service.can_edit(current_user, listing):
        abort(403)
    return listing


def _require_poster() -> None:
    """Only staff of an organization and coordinators post listings."""
    if not (current_user.is_coordinator or current_user.organization_id):
        abort(403)


def _active_orgs() -> list[Organization]:
    """Active member organizations, by name."""
    return list(
        db.session.scalars(
            sa.select(Organization)
            .where(Organization.status == OrgStatus.ACTIVE)
            .order_by(Organization.name)
        )
    )


def _load(schema_cls: type[Schema], raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load input with a schema: the data, or the errors by field."""
    try:
        return schema_cls().load(raw), {}
    except ValidationError as exc:
        return {}, load_errors(exc)


def _service_error(form: Any, exc: ServiceError) -> None:
    """Refusals become error pages; invalid input goes onto the form's fields."""
    if exc.status in (403, 404):
        raise exc
    attach_errors(form, getattr(exc, "errors", None) or {exc.field or "_": [exc.message]})


# ---------------------------------------------------------------- browse, search, export


def _browse_form() -> BrowseForm:
    """The filter form from the query string, with its choices."""
    form = BrowseForm(request.args)
    form.category.choices = [
        ("", gettext("Any")),
        *category_choices(catalog.all_categories(db.session)),
    ]
    orgs = _active_orgs()
    if not current_user.is_coordinator:  # others' listings carry no name unless shown
        orgs = [org for org in orgs if org.id == current_user.organization_id or org.show_name]
    form.org.choices = [("", gettext("Any")), *org_choices(orgs)]
    return form


def _filters(form: BrowseForm) -> service.ListingFilters:
    """Filters from the valid fields of the form (invalid ones are shown and ignored)."""
    form.validate()

    def value(name: str) -> str | None:
        field = getattr(form, name)
        return (field.data or None) if not field.errors else None

    status = value("status") or "active"
    org = current_user.organization
    return service.ListingFilters(
        direction=value("direction"),
        kind=value("kind"),
        category=value("category"),
        urgency=value("urgency"),
        org=value("org"),
        statuses=ACTIVE if status == "active" else ([] if status == "all" else [status]),
        q=(form.q.data or "").strip() or None,
        within_km=_within_km(form),
        origin=(org.lat, org.lon) if org is not None else None,
    )


def _within_km(form: BrowseForm) -> float | None:
    """A positive distance, or None (with a message when it is not one)."""
    text = (form.within_km.data or "").strip()
    if not text:
        return None
    try:
        km = float(text)
    except ValueError:
        km = -1.0
    if not 0 < km <= 20_000:
        form.within_km.errors = ["must be a positive number of km"]
        return None
    if current_user.organization is None:
        form.within_km.errors = ["only for members of an organization"]
        return None
    return km


def _search(
    filters: service.ListingFilters, limit: int | None = None
) -> list[tuple[Listing, float | None]]:
    """Visible listings matching the filters, with their distance from my organization."""
    query = service.filtered_query(current_user, filters).options(
        selectinload(Listing.organization), selectinload(Listing.category)
    )
    if limit:
        query = query.limit(limit)
    return service.with_distances(list(db.session.scalars(query)), filters)


@bp.get("/")
@login_required
def browse() -> Any:
    """Offers and requests across the coalition, filtered and searched."""
    form = _browse_form()
    rows = _search(_filters(form), MAX_BROWSE)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pages = max((len(rows) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "listings/browse.html",
        form=form,
        rows=rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(rows),
        truncated=len(rows) >= MAX_BROWSE,
        page=page,
        pages=pages,
        args=args,
    )


@bp.get("/export.csv")
@login_required
def export() -> Any:
    """The filtered list as CSV (neutral labels for organizations that chose them)."""
    rows = _search(_filters(_browse_form()))
    discreet = bool(getattr(current_user.organization, "discreet_wording", False))
    viewer = Viewer.of(current_user)
    body = "".join(export_csv((listing for listing, _ in rows), discreet, viewer))
    filename = f"listings-{date.today():%Y%m%d}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/mine")
@login_required
def mine() -> Any:
    """Every listing of my organization, newest first, whatever its status."""
    org = current_user.organization
    if org is None:
        return redirect(url_for("listings.browse"))
    listings = db.session.scalars(
        sa.select(Listing)
        .where(Listing.organization_id == org.id)
        .options(selectinload(Listing.category))
        .order_by(Listing.created_at.desc(), Listing.id.desc())
    ).all()
    rows = [(listing, None) for listing in listings]
    return render_template("listings/mine.html", org=org, rows=rows)


@bp.get("/<int:listing_id>")
@login_required
def detail(listing_id: int) -> Any:
    """One listing; its owners and coordinators also see its history."""
    listing = _listing_or_404(listing_id)
    editable = service.can_edit(current_user, listing)
    org = current_user.organization
    distance = haversine_km(org.lat, org.lon, listing.lat, listing.lon) if org else None
    suggestion = proactive.for_listing(db.session, listing.id) if editable else None
    return render_template(
        "listings/detail.html",
        listing=listing,
        can_edit=editable and listing.is_changeable,
        history=service.revisions(db.session, listing) if editable else [],
        distance=distance,
        zone=_zone(listing.organization),
        not_eligible=_not_eligible(listing) if editable else "",
        suggestion=suggestion,
        suggestion_note=suggestion_text(suggestion) if suggestion else "",
    )


def _not_eligible(listing: Listing) -> str:
    """Why matching proposes nothing to this request: a credential its receivers need."""
    if listing.is_offer or not listing.is_changeable:
        return ""
    kind = listing.category.requires_credential
    if not kind or credentials.may_receive(db.session, listing, date.today()):
        return ""
    return gettext("Not eligible: no %(what)s on file.", what=gettext(credentials.KINDS[kind]))


# ---------------------------------------------------------------- posting


def _direction(value: str | None) -> Direction:
    """Offer or request from the query string; anything else is a 404."""
    try:
        return Direction(value or "offer")
    except ValueError:
        abort(404)


def _setup_listing_form(form: ListingForm, kind: Kind | None = None) -> None:
    """Category and organization choices."""
    categories = catalog.all_categories(db.session, kind.value if kind else None)
    form.category.choices = category_choices(categories)
    form.org.choices = org_choices(_active_orgs())


def _posting_org(form: ListingForm) -> Organization | None:
    """My organization, or the one a coordinator chose."""
    if current_user.organization is not None:
        return current_user.organization
    org = db.session.scalar(sa.select(Organization).where(Organization.slug == form.org.data))
    if org is None:
        form.org.errors = [*form.org.errors, "choose the organization"]
    return org


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    """Post an offer or a request with every field."""
    _require_poster()
    direction = _direction(request.args.get("direction"))
    form = ListingForm()
    _setup_listing_form(form)
    if form.validate_on_submit():
        listing = _save_new(form, direction)
        if listing is not None:
            db.session.commit()
            flash(
                gettext("Your offer is posted.")
                if direction == Direction.OFFER
                else gettext("Your request is posted."),
                "success",
            )
            return redirect(url_for("listings.detail", listing_id=listing.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "listings/form.html",
        form=form,
        direction=direction,
        listing=None,
        org=current_user.organization,
    ), status


def _save_new(form: ListingForm, direction: Direction) -> Listing | None:
    """Check the form through the create schema and post; None when it has errors."""
    org = _posting_org(form)
    if org is None:
        return None
    category = catalog.category_by_slug(db.session, form.category.data or "")
    kind = category.kind.value if category else None
    raw, errors = form_input(form, direction.value, kind, _zone(org), editing=False)
    data, schema_errors = _load(CREATE_SCHEMAS[direction], raw)
    errors = {**schema_errors, **errors}
    if not errors:
        try:
            listing = service.post_listing(db.session, current_user, direction, data, org=org)
        except ServiceError as exc:
            _service_error(form, exc)
            return None
        save_tags(listing, data)
        return listing
    attach_errors(form, errors)
    return None


@bp.route("/quick", methods=["GET", "POST"])
@login_required
def quick_post() -> Any:
    """A short form for a phone: what, how many, how urgent; the rest from my organization."""
    org = current_user.organization
    if org is None:
        abort(403)
    form = QuickPostForm()
    form.category.choices = category_choices(catalog.all_categories(db.session))
    if form.validate_on_submit():
        listing = _save_quick(form, org)
        if listing is not None:
            db.session.commit()
            flash(gettext("Posted. Add details any time from “Edit”."), "success")
            return redirect(url_for("listings.detail", listing_id=listing.id))
    status = 422 if request.method == "POST" else 200
    return render_template("listings/quick.html", form=form, org=org), status


def _save_quick(form: QuickPostForm, org: Organization) -> Listing | None:
    """Post the quick form with defaults; staff time defaults to the next 30 days."""
    try:
        direction = Direction(form.direction.data)
    except ValueError:
        attach_errors(form, {"direction": ["choose give or need"]})
        return None
    raw: dict[str, Any] = {"category": form.category.data or "", "quantity": form.quantity.data}
    if direction == Direction.REQUEST:
        raw["urgency"] = form.urgency.data or "normal"
    category = catalog.category_by_slug(db.session, raw["category"])
    if category is not None and category.kind == Kind.STAFFING:
        raw["windows"] = [_next_days_window(org)]
    data, errors = _load(CREATE_SCHEMAS[direction], raw)
    if not errors:
        try:
            return service.post_listing(db.session, current_user, direction, data, org=org)
        except ServiceError as exc:
            _service_error(form, exc)
            return None
    attach_errors(form, errors)
    return None


def _next_days_window(org: Organization) -> dict[str, str]:
    """From the next whole hour for QUICK_WINDOW_DAYS days, in the organization's zone."""
    start = datetime.now(_zone(org)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    end = start + timedelta(days=QUICK_WINDOW_DAYS)
    return {"start": start.isoformat(), "end": end.isoformat()}


# ---------------------------------------------------------------- changing


@bp.route("/<int:listing_id>/edit", methods=["GET", "POST"])
@login_required
def edit(listing_id: int) -> Any:
    """Change a listing of my organization (coordinators: any)."""
    listing = _editable(listing_id)
    if not listing.is_changeable:
        abort(409, f"This listing is {listing.status.label} and can no longer change.")
    zone = _zone(listing.organization)
    form = ListingForm(data=None if request.method == "POST" else form_data(listing, zone))
    _setup_listing_form(form, listing.kind)
    if form.validate_on_submit() and _save_edit(form, listing):
        db.session.commit()
        flash(gettext("Saved."), "success")
        return redirect(url_for("listings.detail", listing_id=listing.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "listings/form.html",
        form=form,
        direction=listing.direction,
        listing=listing,
        org=listing.organization,
    ), status


def _save_edit(form: ListingForm, listing: Listing) -> bool:
    """Check the form through the update schema and apply what changed."""
    zone = _zone(listing.organization)
    raw, errors = form_input(form, listing.direction.value, listing.kind.value, zone, editing=True)
    data, schema_errors = _load(UPDATE_SCHEMAS[listing.direction], raw)
    errors = {**schema_errors, **errors}
    if errors:
        attach_errors(form, errors)
        return False
    current = service.current_values(listing)
    changed = {k: v for k, v in data.items() if current.get(k) != v}
    try:
        service.update_listing(db.session, current_user, listing, changed)
    except ServiceError as exc:
        _service_error(form, exc)
        return False
    save_tags(listing, data)
    return True


@bp.post("/<int:listing_id>/withdraw")
@login_required
def withdraw(listing_id: int) -> Any:
    """Withdraw a listing; it stays in the history."""
    listing = _editable(listing_id)
    service.withdraw_listing(db.session, current_user, listing)
    db.session.commit()
    flash(
        gettext("The offer is withdrawn.")
        if listing.is_offer
        else gettext("The request is withdrawn."),
        "info",
    )
    return redirect(url_for("listings.detail", listing_id=listing.id))
