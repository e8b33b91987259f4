"""Listings use cases: post, update, withdraw and expire offers and requests.

Every change bumps the listing's version, keeps a revision snapshot, records the
`offer.*` / `request.*` event in the outbox and writes the audit log, all in the caller's
transaction (flush, never commit). `data` is input already loaded by a create or update
schema of `coalition.services.listing_input`.

Who may see and change a listing lives in `listing_access`, browsing in `listing_browse`,
and a listing as plain data (snapshot, history, the engine's shape) in `listing_data`;
their public names are re-exported here so callers keep importing from `listings`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.sql import Select

from coalition.actors import Actor
from coalition.events.names import listing_event
from coalition.events.outbox import emit
from coalition.models.base import utcnow
from coalition.models.catalog import Category, Kind
from coalition.models.listings import (
    ACTIVE_STATUSES,
    Direction,
    Listing,
    ListingRevision,
    ListingStatus,
    Urgency,
    Visibility,
)
from coalition.models.organizations import Organization
from coalition.services.audit import audit, diff
from coalition.services.errors import ServiceError
from coalition.services.listing_access import (
    acts_for,
    can_edit,
    can_view,
    is_coordinator,
    require_edit,
    visible_listing,
    visible_listings_query,
)
from coalition.services.listing_browse import ListingFilters, filtered_query, with_distances
from coalition.services.listing_data import listing_to_problem_dict, revisions, snapshot
from coalition.services.listing_input import rule_errors
from coalition.sessions import Session

__all__ = [
    "COLUMN_FIELDS",
    "ListingFilters",
    "ListingInvalid",
    "acting_organization",
    "actor_label",
    "acts_for",
    "can_edit",
    "can_view",
    "current_values",
    "expire_listings",
    "filtered_query",
    "is_coordinator",
    "listing_to_problem_dict",
    "org_today",
    "post_listing",
    "prepare_listing",
    "revisions",
    "snapshot",
    "status_for_counts",
    "update_listing",
    "visible_listing",
    "visible_listings_query",
    "with_distances",
    "withdraw_listing",
]

COLUMN_FIELDS = (
    "quantity", "lat", "lon", "max_distance_km", "notes", "expires_on", "need_by",
    "accepts_expired", "credentials", "languages", "remote_ok",
)  # fmt: skip


class ListingInvalid(ServiceError):
    """The input breaks a listing rule; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Some fields are not valid.", next(iter(errors), None), 422)
        self.errors = errors


# ---------------------------------------------------------------- posting


def post_listing(
    session: Session,
    actor: Actor | None,
    direction: str,
    data: dict[str, Any],
    org: Organization | None = None,
) -> Listing:
    """Post an offer or a request for the actor's organization (or `org`); record the event."""
    direction = Direction(direction)
    org = acting_organization(session, actor, data.get("org"), org)
    values = prepare_listing(org, direction, data)
    listing = Listing(
        organization=org,
        direction=direction,
        created_by_id=getattr(actor, "id", None),
        version=1,
        **values,
    )
    session.add(listing)
    session.flush()
    _record(session, actor, listing, "posted", _posted_changes(listing))
    return listing


def acting_organization(
    session: Session, actor: Actor | None, slug: str | None, org: Organization | None = None
) -> Organization:
    """The organization a new listing belongs to, checking the actor may post for it."""
    if org is None and slug:
        org = session.scalar(sa.select(Organization).where(Organization.slug == slug))
        if org is None:
            raise ListingInvalid({"org": ["unknown organization"]})
    if org is None:
        org = getattr(actor, "organization", None)
    if org is None:
        raise ListingInvalid({"org": ["name the organization this listing is for"]})
    if actor is not None and not (is_coordinator(actor) or acts_for(actor, org.id)):
        raise ServiceError("You can only post listings for your own organization.", status=403)
    if not org.is_active:
        raise ServiceError(f"{org.name} is not an active member organization.", "org", 409)
    return org


def prepare_listing(
    org: Organization, direction: Direction, data: dict[str, Any]
) -> dict[str, Any]:
    """Column values for a new listing: input plus the organization's defaults, checked."""
    values = _defaults(org, direction, data)
    given = set(data) - {"org"}
    errors = rule_errors(direction, values, given, creating=True, today=org_today(org))
    if errors:
        raise ListingInvalid(errors)
    return _columns(values)


def _defaults(org: Organization, direction: Direction, data: dict[str, Any]) -> dict[str, Any]:
    """Fill location, distance, visibility, urgency and credentials from sensible defaults."""
    values = {k: v for k, v in data.items() if k != "org"}
    category: Category | None = values.get("category")
    values.setdefault("kind", category.kind.value if category else Kind.SUPPLY.value)
    for name, default in (
        ("lat", org.lat),
        ("lon", org.lon),
        ("max_distance_km", float(org.service_radius_km)),
    ):
        if values.get(name) is None:
            values[name] = default
    values.setdefault("visibility", Visibility.COALITION.value)
    if direction == Direction.REQUEST:
        values.setdefault("urgency", Urgency.NORMAL.value)
    if values["kind"] == Kind.STAFFING.value and "credentials" not in values and category:
        values["credentials"] = list(category.credentials or [])
    return values


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    """Turn loaded input into model attribute values."""
    columns = {name: values[name] for name in COLUMN_FIELDS if name in values}
    if "category" in values:
        columns["category"] = values["category"]
    if "kind" in values:
        columns["kind"] = Kind(values["kind"])
    if "visibility" in values:
        columns["visibility"] = Visibility(values["visibility"])
    if "urgency" in values:
        columns["urgency"] = Urgency(values["urgency"]) if values["urgency"] else None
    if "windows" in values:
        columns["windows"] = [_stored_window(w) for w in values["windows"] or []]
    if columns.get("notes") is None and "notes" in columns:
        columns["notes"] = ""
    return columns


def _stored_window(window: dict[str, Any]) -> dict[str, str]:
    """A window as JSON: ISO-8601 strings with their offsets."""
    return {"start": _iso(window["start"]), "end": _iso(window["end"])}


def _iso(value: Any) -> str:
    """An ISO-8601 string from a datetime (or a string already in that form)."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _posted_changes(listing: Listing) -> dict[str, Any]:
    """What the audit log keeps about a new listing."""
    return {
        "organization": listing.organization.slug,
        "category": listing.category.slug,
        "quantity": listing.quantity,
    }


def org_today(org: Organization) -> date:
    """Today's date where the organization is."""
    try:
        zone = ZoneInfo(org.timezone or "America/New_York")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


# ---------------------------------------------------------------- changing


def update_listing(
    session: Session, actor: Actor | None, listing: Listing, data: dict[str, Any]
) -> bool:
    """Apply a change to a listing; return whether anything changed."""
    require_edit(actor, listing)
    errors = rule_errors(
        listing.direction,
        {**current_values(listing), **data},
        set(data),
        today=org_today(listing.organization),
    )
    if "kind" in data and data["kind"] != listing.kind.value:
        errors.setdefault("kind", []).append("cannot change; withdraw and post a new listing")
    if errors:
        raise ListingInvalid(errors)
    columns = _columns({k: v for k, v in data.items() if k != "kind"})
    changes = _change_quantity(session, listing, columns.pop("quantity", None))
    changes.update(diff(listing, columns))
    if not changes:
        return False
    _bump(listing)
    session.flush()
    _record(session, actor, listing, "updated", changes)
    return True


def current_values(listing: Listing) -> dict[str, Any]:
    """The listing's fields in the shape a schema loads them, for checking a change."""
    values = {name: getattr(listing, name) for name in COLUMN_FIELDS}
    values.update(
        kind=listing.kind.value,
        category=listing.category,
        visibility=listing.visibility.value,
        urgency=listing.urgency.value if listing.urgency else None,
        windows=[_loaded_window(w) for w in listing.windows or []],
    )
    return values


def _loaded_window(window: dict[str, str]) -> dict[str, datetime]:
    """A stored window back as datetimes."""
    return {k: datetime.fromisoformat(window[k]) for k in ("start", "end")}


def _change_quantity(session: Session, listing: Listing, quantity: int | None) -> dict[str, Any]:
    """Set a new quantity only if it still covers what is reserved and handed over."""
    if quantity is None or quantity == listing.quantity:
        return {}
    old = listing.quantity
    result = session.execute(
        sa.update(Listing)
        .where(Listing.id == listing.id, Listing.reserved + Listing.fulfilled <= quantity)
        .values(quantity=quantity)
        .execution_options(synchronize_session=False)
    )
    session.refresh(listing, ["quantity", "reserved", "fulfilled"])
    if result.rowcount != 1:  # type: ignore[attr-defined]
        committed = listing.reserved + listing.fulfilled
        raise ListingInvalid(
            {"quantity": [f"must be at least {committed}: that much is reserved or handed over"]}
        )
    changes: dict[str, Any] = {"quantity": [old, quantity]}
    status = status_for_counts(listing)
    if status != listing.status:
        changes["status"] = [listing.status.value, status.value]
        listing.status = status
    return changes


def status_for_counts(listing: Listing) -> ListingStatus:
    """Open, partly matched, matched or fulfilled, from quantity, reserved and fulfilled."""
    if listing.fulfilled >= listing.quantity:
        return ListingStatus.FULFILLED
    if listing.reserved + listing.fulfilled == 0:
        return ListingStatus.OPEN
    if listing.available > 0:
        return ListingStatus.PARTLY_MATCHED
    return ListingStatus.MATCHED


def withdraw_listing(session: Session, actor: Actor | None, listing: Listing) -> None:
    """Withdraw a listing: it stays in the history with status `withdrawn`."""
    require_edit(actor, listing)
    old = listing.status
    listing.status = ListingStatus.WITHDRAWN
    listing.withdrawn_at = utcnow()
    _bump(listing)
    session.flush()
    _record(session, actor, listing, "withdrawn", {"status": [old.value, "withdrawn"]})


def expire_listings(session: Session, today: date) -> int:
    """Mark open listings past their lot expiry, need-by date or last window as expired."""
    due = [
        listing
        for listing in session.scalars(_expiry_candidates(today))
        if _is_past(listing, today)
    ]
    for listing in due:
        old = listing.status
        listing.status = ListingStatus.EXPIRED
        _bump(listing)
        session.flush()
        _record(
            session,
            None,
            listing,
            "updated",
            {"status": [old.value, "expired"]},
            extra={"status": ListingStatus.EXPIRED.value},
        )
    return len(due)


def _expiry_candidates(today: date) -> Select[Listing]:
    """Open listings that may be past due; staffing ones are checked window by window."""
    return (
        sa.select(Listing)
        .where(Listing.status.in_(ACTIVE_STATUSES))
        .where(
            sa.or_(
                sa.and_(Listing.direction == Direction.OFFER, Listing.expires_on < today),
                sa.and_(Listing.direction == Direction.REQUEST, Listing.need_by < today),
                Listing.kind == Kind.STAFFING,
            )
        )
        .order_by(Listing.id)
    )


def _is_past(listing: Listing, today: date) -> bool:
    """Whether a listing's dates (or every availability window) are behind `today`."""
    if listing.kind == Kind.STAFFING:
        ends = [_loaded_window(w)["end"].astimezone(UTC).date() for w in listing.windows or []]
        return bool(ends) and max(ends) < today
    limit = listing.expires_on if listing.is_offer else listing.need_by
    return limit is not None and limit < today


def _bump(listing: Listing) -> None:
    """Increase the version in SQL so that concurrent changes each get their own number."""
    listing.version = Listing.version + 1  # type: ignore[assignment]


# ---------------------------------------------------------------- history and events


def actor_label(actor: Actor | None) -> str | None:
    """How an actor is named in events and revisions (None for the system)."""
    return getattr(actor, "email", None) if actor is not None else None


def _record(
    session: Session,
    actor: Actor | None,
    listing: Listing,
    verb: str,
    changes: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> None:
    """Keep a revision, record the event in the outbox and write the audit log."""
    if {"version", "updated_at"} & sa.inspect(listing).unloaded:
        # an UPDATE set them in SQL (version + 1): read what it wrote; a new row knows them
        session.refresh(listing, ["version", "updated_at"])
    action = listing_event(listing.direction.value, verb)
    session.add(
        ListingRevision(
            listing_id=listing.id,
            version=listing.version,
            changed_by_id=getattr(actor, "id", None),
            changed_by=actor_label(actor) or "system",
            action=verb,
            snapshot=snapshot(listing),
        )
    )
    changed = changes if verb == "updated" else {}
    emit(session, action, _event_data(listing, changed, extra), actor_label(actor))
    audit(session, actor, action, listing, changes)


def _event_data(
    listing: Listing, changes: dict[str, Any], extra: dict[str, Any] | None
) -> dict[str, Any]:
    """The event payload: ids and the version, never the whole row."""
    data: dict[str, Any] = {
        "id": listing.id,
        "version": listing.version,
        "direction": listing.direction.value,
        "kind": listing.kind.value,
        "organization_id": listing.organization_id,
        "category_id": listing.category_id,
    }
    if changes:
        data["changed"] = sorted(changes)
    data.update(extra or {})
    return data
