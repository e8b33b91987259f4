"""What each person may see of a match: the discretion rule in one place.

Before a coordinator approves a match, each organization sees the other only as "a member
organization in Brooklyn, 8 km away": no name, slug, contact, address or listing id. From
approval on, names and contacts are shared with both sides. Coordinators see everything.
Pages, API responses, emails and webhooks all build on `match_view`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from coalition.actors import Actor
from coalition.models.listings import Listing
from coalition.models.matches import Match
from coalition.models.organizations import Organization

SIDES = ("offer", "request")


@dataclass(frozen=True)
class Viewer:
    """Who looks: a coordinator, or someone acting for one organization (or neither)."""

    org_id: int | None = None
    coordinator: bool = False

    @classmethod
    def of(cls, actor: Actor | None) -> Viewer:
        """The viewer for a User, an org token principal, or anyone else."""
        return cls(
            org_id=getattr(actor, "organization_id", None),
            coordinator=bool(getattr(actor, "is_coordinator", False)),
        )


def side_of(match: Match, viewer: Viewer) -> str | None:
    """'offer' or 'request' when the viewer acts for that side, else None."""
    if viewer.org_id is None:
        return None
    if match.offer.organization_id == viewer.org_id:
        return "offer"
    if match.request.organization_id == viewer.org_id:
        return "request"
    return None


def sees_names(match: Match, listing: Listing, viewer: Viewer) -> bool:
    """Coordinators, the listing's own organization, and both sides once approved."""
    return viewer.coordinator or listing.organization_id == viewer.org_id or match.names_shared


# Before approval a distance is a band under 5 km and whole km above: precise enough to
# judge a trip, too coarse to pick one organization out of the directory by its distance.
BANDS_KM = (2.0, 5.0)
HIDDEN_FACTORS = ("D", "value_per_unit")  # the distance factor (and what it feeds) undo rounding


def rounded_km(distance_km: float) -> float:
    """The distance as shown before approval: the top of its band under 5 km, else whole km."""
    for top in BANDS_KM:
        if distance_km < top:
            return top
    return float(round(distance_km))


def distance_phrase(distance_km: float) -> str:
    """'8 km away', 'less than 2 km away', '2 to 5 km away'."""
    if distance_km < BANDS_KM[0]:
        return gettext("less than %(km)s km away", km=int(BANDS_KM[0]))
    if distance_km < BANDS_KM[1]:
        return gettext("%(low)s to %(high)s km away", low=int(BANDS_KM[0]), high=int(BANDS_KM[1]))
    return gettext("%(km)s km away", km=round(distance_km))


STOCK_FIELDS = ("quantity", "reserved", "fulfilled")
GRID_KM = 3.0  # other organizations see a site as the centre of its 3 km grid cell
KM_PER_DEGREE = 111.32


def coarse_point(lat: float, lon: float) -> tuple[float, float]:
    """The centre of the grid cell of about GRID_KM x GRID_KM holding the point."""
    lat_step = GRID_KM / KM_PER_DEGREE
    cell_lat = (math.floor(lat / lat_step) + 0.5) * lat_step
    lon_step = GRID_KM / (KM_PER_DEGREE * max(math.cos(math.radians(cell_lat)), 0.01))
    cell_lon = (math.floor(lon / lon_step) + 0.5) * lon_step
    return round(cell_lat, 4), round(cell_lon, 4)


def sees_site(org_id: int | None, viewer: Viewer) -> bool:
    """Exact sites, stock held and names of listings: the organization itself, coordinators."""
    return viewer.coordinator or (org_id is not None and org_id == viewer.org_id)


def sees_name(org: Organization, viewer: Viewer) -> bool:
    """Which organization posted a listing: its own people, coordinators, and everyone when
    the organization chose to show its name on listings (`Organization.show_name`)."""
    return sees_site(org.id, viewer) or bool(org.show_name)


def discreet_listing(data: dict[str, Any], org: Organization, viewer: Viewer) -> dict[str, Any]:
    """A dumped listing as another organization may see it: no organization unless it shows
    its name, a coarse site, and only what is available (quantity, reserved and fulfilled
    would tell open matches)."""
    if sees_site(org.id, viewer):
        return data
    hidden = {key: None for key in STOCK_FIELDS if key in data}
    if not sees_name(org, viewer):
        hidden.update({key: None for key in NAME_FIELDS if key in data})
    return _coarse_site({**data, **hidden})


NAME_FIELDS = ("org", "org_name", "organization", "slug", "name")


def discreet_organization(
    data: dict[str, Any], org: Organization, viewer: Viewer
) -> dict[str, Any]:
    """A dumped organization as another may see it: its area, not its exact site, and its
    name and slug only when it chose to show them."""
    if sees_site(org.id, viewer):
        return data
    if not sees_name(org, viewer):
        data = {**data, **{key: None for key in NAME_FIELDS if key in data}}
    return _coarse_site(dict(data))


def _coarse_site(data: dict[str, Any]) -> dict[str, Any]:
    """`lat` and `lon`, when present, moved to the centre of their grid cell."""
    if data.get("lat") is not None and data.get("lon") is not None:
        data["lat"], data["lon"] = coarse_point(float(data["lat"]), float(data["lon"]))
    return data


def exact_distances(match: Match, viewer: Viewer) -> bool:
    """Coordinators always, the two sides once names are shared."""
    return viewer.coordinator or match.names_shared


def anonymous(org: Organization, distance_km: float) -> str:
    """The only description of a counterpart before approval: its area and a rounded
    distance, and its name only if it chose to show it (`Organization.show_name`)."""
    if org.show_name:
        return gettext(
            "%(name)s, a member organization in %(area)s, %(distance)s",
            name=org.name,
            area=org.area,
            distance=distance_phrase(distance_km),
        )
    return gettext(
        "a member organization in %(area)s, %(distance)s",
        area=org.area,
        distance=distance_phrase(distance_km),
    )


def organization_view(org: Organization) -> dict[str, Any]:
    """Name and contacts of an organization, shown once they may be."""
    return {
        "slug": org.slug,
        "name": org.name,
        "borough": org.area,
        "address": org.address,
        "contact_email": org.contact_email,
        "contact_phone": org.contact_phone,
    }


def side_view(match: Match, listing: Listing, viewer: Viewer) -> dict[str, Any]:
    """One side of a match as the viewer may see it."""
    org = listing.organization
    if sees_names(match, listing, viewer):
        return {
            "listing_id": listing.id,
            "organization": organization_view(org),
            "description": f"{org.name} ({org.area})",
        }
    return {
        "listing_id": None,
        "organization": None,
        "description": anonymous(org, match.distance_km),
    }


def counterpart(match: Match, viewer: Viewer) -> str:
    """How the viewer's counterpart is described (the offer's side for coordinators)."""
    other = "request" if side_of(match, viewer) == "offer" else "offer"
    listing = match.request if other == "request" else match.offer
    return str(side_view(match, listing, viewer)["description"])


def unit_of(match: Match, discreet: bool = False) -> str:
    """The category's unit; plain 'units' or 'hours' in discreet wording (units can tell)."""
    if discreet:
        return "hours" if match.offer.is_staffing else "units"
    return match.offer.category.unit


def explanation_view(match: Match, viewer: Viewer, discreet: bool = False) -> dict[str, Any]:
    """The engine's explanation; members never see ids of listings they may not see."""
    explanation = dict(match.explanation or {})
    if discreet:
        explanation.pop("category", None)
    if viewer.coordinator:
        return explanation
    for key, listing in (("offer", match.offer), ("request", match.request)):
        if not sees_names(match, listing, viewer):
            explanation.pop(key, None)
    explanation["alternatives"] = [
        {k: v for k, v in alt.items() if k not in SIDES}
        for alt in explanation.get("alternatives") or []
    ]
    return explanation if exact_distances(match, viewer) else _coarse(explanation)


def _coarse(explanation: dict[str, Any]) -> dict[str, Any]:
    """Distances rounded, and the factors and values that would give them back left out."""
    factors = explanation.get("factors")
    if isinstance(factors, dict):
        explanation["factors"] = {k: v for k, v in factors.items() if k not in HIDDEN_FACTORS}
    explanation.pop("value", None)
    explanation["alternatives"] = [
        _rounded({k: v for k, v in alt.items() if k != "value_per_unit"})
        for alt in explanation["alternatives"]
    ]
    return _rounded(explanation)


def _rounded(item: dict[str, Any]) -> dict[str, Any]:
    """The item with its `distance_km`, if any, rounded."""
    if item.get("distance_km") is not None:
        item["distance_km"] = rounded_km(float(item["distance_km"]))
    return item


def match_view(
    match: Match, viewer: Viewer, actions: list[str] | None = None, discreet: bool = False
) -> dict[str, Any]:
    """A JSON-ready view of a match for one viewer; `discreet` picks the neutral label."""
    category = match.offer.category
    return {
        "id": match.id,
        "state": match.state.value,
        "kind": match.offer.kind.value,
        "category": None if discreet else category.slug,
        "category_label": category.label(discreet),
        "unit": unit_of(match, discreet),
        "quantity": match.quantity,
        "distance_km": round(match.distance_km, 1)
        if exact_distances(match, viewer)
        else rounded_km(match.distance_km),
        "urgency": match.request.urgency.value if match.request.urgency else None,
        "names_shared": match.names_shared,
        "our_side": side_of(match, viewer),
        "offer": side_view(match, match.offer, viewer),
        "request": side_view(match, match.request, viewer),
        "offer_accepted": match.offer_accepted_at is not None,
        "request_accepted": match.request_accepted_at is not None,
        # a reason is free text that may name someone: members see it once names are shared
        "reason": match.reason if viewer.coordinator or match.names_shared else "",
        "explanation": explanation_view(match, viewer, discreet),
        "actions": list(actions or []),
        "created_at": match.created_at,
        "updated_at": match.updated_at,
        "hold_expires_at": match.hold_expires_at,
    }
