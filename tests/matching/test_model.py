"""Parsing: valid problems become dataclasses; invalid ones name the listing and the field."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from coalition.matching import Offer, ProblemError, Request, parse_problem

SUPPLY_OFFER = {
    "id": "o1",
    "org": "A",
    "kind": "supply",
    "category": "naloxone",
    "quantity": 10,
    "lat": 40.7,
    "lon": -73.9,
    "max_distance_km": 25,
    "expires_on": "2027-01-10",
}
STAFF_OFFER = {
    "id": "o2",
    "org": "A",
    "kind": "staffing",
    "category": "nurse",
    "quantity": 8,
    "lat": 40.7,
    "lon": -73.9,
    "max_distance_km": 25,
    "credentials": ["ny-license"],
    "languages": ["en"],
    "remote_ok": True,
    "windows": [["2026-12-01T09:00:00+00:00", "2026-12-01T17:00:00-05:00"]],
}
SUPPLY_REQUEST = {
    "id": "r1",
    "org": "B",
    "kind": "supply",
    "category": "naloxone",
    "quantity": 5,
    "urgency": "high",
    "lat": 40.6,
    "lon": -73.9,
    "max_distance_km": 10,
    "need_by": "2026-12-05",
    "accepts_expired": False,
}
STAFF_REQUEST = {
    "id": "r2", "org": "B", "kind": "staffing", "category": "nurse", "quantity": 4,
    "urgency": "critical", "lat": 40.6, "lon": -73.9, "max_distance_km": 10,
    "credentials": [], "languages": [], "remote_ok": False,
    "windows": [{"start": "2026-12-01T12:00:00Z", "end": "2026-12-01T20:00:00Z"}],
}  # fmt: skip


def problem(**changes: Any) -> dict[str, Any]:
    """A valid problem with some listings' fields changed: `r1={"quantity": 0}`."""
    raw: dict[str, Any] = {
        "today": "2026-11-26",
        "offers": [copy.deepcopy(SUPPLY_OFFER), copy.deepcopy(STAFF_OFFER)],
        "requests": [copy.deepcopy(SUPPLY_REQUEST), copy.deepcopy(STAFF_REQUEST)],
    }
    for listing in raw["offers"] + raw["requests"]:
        for key, value in changes.get(listing["id"], {}).items():
            if value is ...:
                del listing[key]
            else:
                listing[key] = value
    return raw


def test_a_valid_problem_becomes_dataclasses() -> None:
    parsed = parse_problem(problem())
    o1, o2 = parsed.offers
    r1, r2 = parsed.requests
    assert parsed.today == date(2026, 11, 26)
    assert isinstance(o1, Offer) and o1.expires_on == date(2027, 1, 10) and o1.quantity == 10
    assert o2.credentials == frozenset({"ny-license"}) and o2.remote_ok
    utc5 = timezone(timedelta(hours=-5))
    assert o2.windows == (
        (datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 17, tzinfo=utc5)),
    )
    assert isinstance(r1, Request) and r1.urgency == "high" and r1.need_by == date(2026, 12, 5)
    assert r2.windows[0][1] == datetime(2026, 12, 1, 20, tzinfo=UTC)  # object form


def test_optional_fields_default_sensibly() -> None:
    parsed = parse_problem(
        problem(o1={"expires_on": None}, r1={"need_by": ..., "accepts_expired": ...},
                r2={"credentials": ..., "languages": None, "remote_ok": ...})
    )  # fmt: skip
    assert parsed.offers[0].expires_on is None
    assert parsed.requests[0].need_by is None and not parsed.requests[0].accepts_expired
    assert parsed.requests[1].credentials == frozenset() and not parsed.requests[1].remote_ok


def test_the_same_id_may_name_an_offer_and_a_request() -> None:
    parse_problem(problem(r1={"id": "o1"}))


@pytest.mark.parametrize(
    ("changes", "listing", "field", "message"),
    [
        ({"r1": {"quantity": 0}}, "r1", "quantity", "must be a positive integer"),
        ({"r1": {"quantity": -3}}, "r1", "quantity", "must be a positive integer"),
        ({"r1": {"quantity": 2.5}}, "r1", "quantity", "must be a positive integer"),
        ({"r1": {"quantity": 5.0}}, "r1", "quantity", "must be a positive integer"),
        ({"r1": {"quantity": True}}, "r1", "quantity", "must be a positive integer"),
        ({"r1": {"quantity": "5"}}, "r1", "quantity", "must be a positive integer"),
        ({"r1": {"quantity": 10**12}}, "r1", "quantity", "must be at most 1,000,000,000"),
        ({"o1": {"quantity": ...}}, "o1", "quantity", "is required"),
        ({"o1": {"kind": "food"}}, "o1", "kind", "must be supply or staffing"),
        ({"o1": {"org": ""}}, "o1", "org", "must be a non-empty string"),
        ({"o1": {"category": 7}}, "o1", "category", "must be a non-empty string"),
        ({"o1": {"lat": 91}}, "o1", "lat", "must be between -90 and 90"),
        ({"o1": {"lon": -180.5}}, "o1", "lon", "must be between -180 and 180"),
        ({"o1": {"lat": "40.7"}}, "o1", "lat", "must be a finite number"),
        ({"o1": {"lon": float("nan")}}, "o1", "lon", "must be a finite number"),
        ({"o1": {"max_distance_km": 0}}, "o1", "max_distance_km", "must be a positive number"),
        ({"o1": {"expires_on": "2027-13-01"}}, "o1", "expires_on", "must be an ISO date"),
        ({"o1": {"expires_on": 20270110}}, "o1", "expires_on", "must be an ISO date"),
        ({"r1": {"need_by": "soon"}}, "r1", "need_by", "must be an ISO date"),
        ({"r1": {"urgency": "urgent"}}, "r1", "urgency", "must be one of critical, high"),
        ({"r1": {"urgency": ...}}, "r1", "urgency", "is required"),
        ({"r1": {"accepts_expired": "no"}}, "r1", "accepts_expired", "must be true or false"),
        ({"o2": {"remote_ok": 1}}, "o2", "remote_ok", "must be true or false"),
        ({"o2": {"credentials": "ny-license"}}, "o2", "credentials", "array of non-empty"),
        ({"r2": {"languages": ["en", 3]}}, "r2", "languages", "array of non-empty strings"),
        ({"o2": {"windows": ...}}, "o2", "windows", "is required on staffing listings"),
        ({"o2": {"windows": "9-5"}}, "o2", "windows", "must be an array of [start, end]"),
        ({"o2": {"windows": [["2026-12-01T09:00:00+00:00"]]}}, "o2", "windows[0]", "pair"),
        (
            {"o2": {"windows": [["2026-12-01T17:00:00+00:00", "2026-12-01T09:00:00+00:00"]]}},
            "o2", "windows[0]", "ends before it starts",
        ),
        (
            {"o2": {"windows": [["2026-12-01T09:00:00", "2026-12-01T17:00:00"]]}},
            "o2", "windows[0]", "must include a UTC offset",
        ),
        (
            {"r2": {"windows": [["2026-12-01T09:00:00Z", "2026-12-01T17:00:00Z"], ["x", "y"]]}},
            "r2", "windows[1]", "ISO 8601",
        ),
        ({"r2": {"id": "r1"}}, "r1", "id", "used by another listing on the same side"),
        ({"r2": {"id": ""}}, "requests[1]", "id", "must be a non-empty string"),
        ({"r2": {"id": ...}}, "requests[1]", "id", "must be a non-empty string"),
    ],
)  # fmt: skip
def test_invalid_listings_name_the_listing_and_field(
    changes: dict[str, Any], listing: str, field: str, message: str
) -> None:
    with pytest.raises(ProblemError) as caught:
        parse_problem(problem(**changes))
    assert (caught.value.listing_id, caught.value.field) == (listing, field)
    assert message in caught.value.message
    assert str(caught.value).startswith(f"listing {listing} field {field}: ")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "problem"),
        ({"offers": [], "requests": []}, "today"),
        ({"today": "26/11/2026", "offers": [], "requests": []}, "today"),
        ({"today": "2026-11-26", "requests": []}, "offers"),
        ({"today": "2026-11-26", "offers": [], "requests": {}}, "requests"),
    ],
)
def test_invalid_problems_name_the_field(raw: Any, field: str) -> None:
    with pytest.raises(ProblemError) as caught:
        parse_problem(raw)
    assert caught.value.listing_id is None and caught.value.field == field
    assert str(caught.value).startswith(f"field {field}: ")


def test_a_listing_that_is_not_an_object_is_named_by_position() -> None:
    raw = problem()
    raw["offers"].append("o3")
    with pytest.raises(ProblemError, match=r"^listing offers\[2\] field listing: "):
        parse_problem(raw)


def test_an_empty_problem_is_valid() -> None:
    parsed = parse_problem({"today": "2026-11-26", "offers": [], "requests": []})
    assert parsed.offers == () and parsed.requests == ()
