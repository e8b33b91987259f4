"""Plain data for the matching problem of MATCHING.md and its validating parser.

`parse_problem` (or `parse_offer` / `parse_request`) checks every field; code that builds the
dataclasses directly (from database rows) must keep to the same rules: positive integer
quantities, coordinates in range, a positive radius, a known kind and urgency, and windows
with UTC offsets that do not end before they start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, TypeVar

KINDS: Final = frozenset({"supply", "staffing"})
URGENCY_WEIGHTS: Final[Mapping[str, int]] = {"critical": 8, "high": 4, "normal": 2, "low": 1}
MAX_QUANTITY: Final = 10**9  # keeps every sum of quantities far inside 64-bit integers

Window = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """Fields shared by offers and requests; staffing fields stay empty on supply listings."""

    id: str
    org: str
    kind: str
    category: str
    quantity: int
    lat: float
    lon: float
    max_distance_km: float
    credentials: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    remote_ok: bool = False
    windows: tuple[Window, ...] = ()


L = TypeVar("L", bound=Listing)


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer(Listing):
    """What an organization can give: units of a supply or hours of staff time."""

    expires_on: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Request(Listing):
    """What an organization needs, and how urgently."""

    urgency: str
    need_by: date | None = None
    accepts_expired: bool = False
    # why the requesting organization may not receive this category ("" when it may), e.g.
    # "not eligible: no standing order on file"; such a request is never paired
    ineligible: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """A snapshot of open listings on a given day."""

    today: date
    offers: tuple[Offer, ...]
    requests: tuple[Request, ...]


@dataclass(frozen=True, slots=True)
class Allocation:
    """`quantity` units (or hours) moved from one offer to one request."""

    offer: str
    request: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Solution:
    """Allocations and their total value."""

    allocations: tuple[Allocation, ...]
    objective: float

    def as_dict(self) -> dict[str, Any]:
        """The output JSON of MATCHING.md, objective rounded to 6 decimals."""
        return {
            "allocations": [
                {"offer": a.offer, "request": a.request, "quantity": a.quantity}
                for a in self.allocations
            ],
            "objective": round(self.objective, 6),
        }


def pair_of(a: Listing, b: Listing) -> tuple[Offer, Request]:
    """The offer and the request among two listings, whichever order they come in."""
    if isinstance(a, Offer) and isinstance(b, Request):
        return a, b
    if isinstance(a, Request) and isinstance(b, Offer):
        return b, a
    raise TypeError(f"need one offer and one request, got {a.id!r} and {b.id!r}")


class ProblemError(ValueError):
    """Invalid input, naming the listing (when there is one) and the field."""

    def __init__(self, listing_id: str | None, field: str, message: str) -> None:
        self.listing_id = listing_id
        self.field = field
        self.message = message
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line such as `listing r3 field quantity: must be a positive integer`."""
        where = f"listing {self.listing_id} " if self.listing_id is not None else ""
        return f"{where}field {self.field}: {self.message}"


def parse_problem(raw: object) -> Problem:
    """Validate a problem in the JSON shape of MATCHING.md and build a `Problem`."""
    if not isinstance(raw, Mapping):
        raise ProblemError(None, "problem", "must be a JSON object")
    today = _date_value(raw.get("today"), None, "today", nullable=False)
    assert today is not None
    offers = _parse_side(raw, "offers", parse_offer)
    requests = _parse_side(raw, "requests", parse_request)
    return Problem(today=today, offers=offers, requests=requests)


def parse_offer(raw: Mapping[str, Any], label: str = "offer") -> Offer:
    """Validate one offer; `label` names it in errors when its id is unusable."""
    lid = _listing_id(raw, label)
    common = _common_fields(raw, lid)
    expires_on = None
    if common["kind"] == "supply":
        expires_on = _date_value(raw.get("expires_on"), lid, "expires_on", nullable=True)
    return Offer(**common, expires_on=expires_on)


def parse_request(raw: Mapping[str, Any], label: str = "request") -> Request:
    """Validate one request; `label` names it in errors when its id is unusable."""
    lid = _listing_id(raw, label)
    common = _common_fields(raw, lid)
    urgency = _required(raw, "urgency", lid)
    if urgency not in URGENCY_WEIGHTS:
        raise ProblemError(lid, "urgency", f"must be one of {', '.join(URGENCY_WEIGHTS)}")
    ineligible = str(raw.get("ineligible") or "")
    if common["kind"] != "supply":
        return Request(**common, urgency=urgency, ineligible=ineligible)
    need_by = _date_value(raw.get("need_by"), lid, "need_by", nullable=True)
    accepts_expired = _flag(raw, "accepts_expired", lid)
    return Request(
        **common,
        urgency=urgency,
        need_by=need_by,
        accepts_expired=accepts_expired,
        ineligible=ineligible,
    )


def _parse_side(
    raw: Mapping[str, Any], key: str, parse: Callable[[Mapping[str, Any], str], L]
) -> tuple[L, ...]:
    """Parse the `offers` or `requests` array, rejecting duplicate ids within it."""
    items = raw.get(key)
    if not isinstance(items, list):
        raise ProblemError(None, key, "must be an array of listings")
    parsed = tuple(
        parse(_object(item, f"{key}[{i}]"), f"{key}[{i}]") for i, item in enumerate(items)
    )
    _reject_duplicates(item.id for item in parsed)
    return parsed


def _reject_duplicates(ids: Iterable[str]) -> None:
    """Raise on the first id seen twice."""
    seen: set[str] = set()
    for lid in ids:
        if lid in seen:
            raise ProblemError(lid, "id", "is used by another listing on the same side")
        seen.add(lid)


def _object(item: object, label: str) -> Mapping[str, Any]:
    """Each listing must be a JSON object."""
    if not isinstance(item, Mapping):
        raise ProblemError(label, "listing", "must be a JSON object")
    return item


def _listing_id(raw: Mapping[str, Any], label: str) -> str:
    """The listing's id, a non-empty string."""
    lid = raw.get("id")
    if not isinstance(lid, str) or not lid.strip():
        raise ProblemError(label, "id", "must be a non-empty string")
    return lid


def _common_fields(raw: Mapping[str, Any], lid: str) -> dict[str, Any]:
    """Fields every listing has, plus the staffing fields when it is a staffing listing."""
    kind = _required(raw, "kind", lid)
    if kind not in KINDS:
        raise ProblemError(lid, "kind", "must be supply or staffing")
    fields: dict[str, Any] = {
        "id": lid,
        "org": _text(raw, "org", lid),
        "kind": kind,
        "category": _text(raw, "category", lid),
        "quantity": _positive_int(raw, "quantity", lid),
        "lat": _number(raw, "lat", lid, -90.0, 90.0),
        "lon": _number(raw, "lon", lid, -180.0, 180.0),
        "max_distance_km": _positive_number(raw, "max_distance_km", lid),
    }
    if kind == "staffing":
        fields.update(_staffing_fields(raw, lid))
    return fields


def _staffing_fields(raw: Mapping[str, Any], lid: str) -> dict[str, Any]:
    """Credentials, languages, remote flag and availability windows."""
    return {
        "credentials": _names(raw, "credentials", lid),
        "languages": _names(raw, "languages", lid),
        "remote_ok": _flag(raw, "remote_ok", lid),
        "windows": _windows(raw, lid),
    }


def _required(raw: Mapping[str, Any], key: str, lid: str) -> Any:
    """The value under `key`; absent or null is an error."""
    value = raw.get(key)
    if value is None:
        raise ProblemError(lid, key, "is required")
    return value


def _text(raw: Mapping[str, Any], key: str, lid: str) -> str:
    """A non-empty string."""
    value = _required(raw, key, lid)
    if not isinstance(value, str) or not value.strip():
        raise ProblemError(lid, key, "must be a non-empty string")
    return value


def _positive_int(raw: Mapping[str, Any], key: str, lid: str) -> int:
    """A whole number above zero (JSON floats such as 5.0 are rejected), at most MAX_QUANTITY."""
    value = _required(raw, key, lid)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ProblemError(lid, key, "must be a positive integer")
    if value > MAX_QUANTITY:
        raise ProblemError(lid, key, f"must be at most {MAX_QUANTITY:,}")
    return value


def _real(raw: Mapping[str, Any], key: str, lid: str) -> float:
    """A finite JSON number."""
    value = _required(raw, key, lid)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProblemError(lid, key, "must be a finite number")
    return float(value)


def _number(raw: Mapping[str, Any], key: str, lid: str, low: float, high: float) -> float:
    """A finite number within [low, high]."""
    value = _real(raw, key, lid)
    if not low <= value <= high:
        raise ProblemError(lid, key, f"must be between {low:g} and {high:g}")
    return value


def _positive_number(raw: Mapping[str, Any], key: str, lid: str) -> float:
    """A finite number above zero."""
    value = _real(raw, key, lid)
    if value <= 0:
        raise ProblemError(lid, key, "must be a positive number")
    return value


def _flag(raw: Mapping[str, Any], key: str, lid: str) -> bool:
    """A boolean; absent or null means false."""
    value = raw.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ProblemError(lid, key, "must be true or false")
    return value


def _names(raw: Mapping[str, Any], key: str, lid: str) -> frozenset[str]:
    """A list of non-empty strings; absent or null means none."""
    value = raw.get(key)
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ProblemError(lid, key, "must be an array of non-empty strings")
    return frozenset(value)


def _date_value(value: object, lid: str | None, key: str, *, nullable: bool) -> date | None:
    """An ISO date string (YYYY-MM-DD), or None when allowed."""
    if value is None and nullable:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ProblemError(lid, key, "must be an ISO date (YYYY-MM-DD)") from None


def _windows(raw: Mapping[str, Any], lid: str) -> tuple[Window, ...]:
    """Availability windows: `[[start, end], ...]` (or `{"start", "end"}` objects)."""
    value = raw.get("windows")
    if value is None:
        raise ProblemError(lid, "windows", "is required on staffing listings")
    if not isinstance(value, list):
        raise ProblemError(lid, "windows", "must be an array of [start, end] pairs")
    return tuple(_window(item, lid, f"windows[{i}]") for i, item in enumerate(value))


def _window(item: object, lid: str, key: str) -> Window:
    """One window with both ends carrying a UTC offset, ending no earlier than it starts."""
    if isinstance(item, Mapping):
        item = [item.get("start"), item.get("end")]
    if not isinstance(item, list | tuple) or len(item) != 2:
        raise ProblemError(lid, key, "must be a [start, end] pair")
    start, end = (_datetime(v, lid, key) for v in item)
    if end < start:
        raise ProblemError(lid, key, "ends before it starts")
    return start, end


def _datetime(value: object, lid: str, key: str) -> datetime:
    """An ISO 8601 date-time string with a UTC offset."""
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ProblemError(lid, key, "must hold ISO 8601 date-times") from None
    if moment.utcoffset() is None:
        raise ProblemError(lid, key, "date-times must include a UTC offset")
    return moment
