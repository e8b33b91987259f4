"""Finding 2 of issue 11: before approval a counterpart's distance is coarse, in the match,
its explanation and its alternatives, and no factor gives the exact distance back."""

from __future__ import annotations

import pytest

from coalition.extensions import db
from coalition.services.discretion import distance_phrase, rounded_km
from coalition.services.match_lifecycle import approve
from tests.matches_support import leaks, make_pair


@pytest.mark.parametrize(
    ("km", "shown", "phrase"),
    [
        (0.3, 2.0, "less than 2 km away"),
        (1.99, 2.0, "less than 2 km away"),
        (2.0, 5.0, "2 to 5 km away"),
        (4.9, 5.0, "2 to 5 km away"),
        (5.0, 5.0, "5 km away"),
        (14.64, 15.0, "15 km away"),
        (16.37, 16.0, "16 km away"),
    ],
)
def test_distances_before_approval_are_bands_under_five_km_and_whole_km_above(km, shown, phrase):
    assert (rounded_km(km), distance_phrase(km)) == (shown, phrase)


def test_before_approval_the_api_gives_no_exact_distance(login):
    pair = make_pair()
    seen = login(pair.receiver_member).get(f"/api/v1/matches/{pair.match.id}").json
    assert seen["distance_km"] == 15.0
    explanation = seen["explanation"]
    assert explanation["distance_km"] == 15.0
    assert "D" not in explanation["factors"] and "value_per_unit" not in explanation["factors"]
    assert "value" not in explanation
    assert [alt["distance_km"] for alt in explanation["alternatives"]] == [22.0]
    assert all("value_per_unit" not in alt for alt in explanation["alternatives"])
    assert "14.6" not in login(pair.receiver_member).get(f"/matches/{pair.match.id}").text


def test_coordinators_and_both_sides_after_approval_see_exact_distances(login):
    pair = make_pair()
    coordinator = login(pair.coordinator).get(f"/api/v1/matches/{pair.match.id}").json
    assert coordinator["explanation"]["distance_km"] == 14.64
    assert coordinator["explanation"]["factors"]["D"] == 0.7559
    approve(db.session, pair.coordinator, pair.match)
    db.session.commit()
    member = login(pair.receiver_member).get(f"/api/v1/matches/{pair.match.id}").json
    assert (member["distance_km"], member["explanation"]["distance_km"]) == (14.6, 14.64)


def _everything_read(client, pair) -> dict[str, str]:
    """Every page and API answer the receiving organization can read before approval."""
    paths = [
        "/api/v1/offers",
        "/api/v1/requests",
        "/api/v1/organizations",
        f"/api/v1/organizations/{pair.giver.slug}",
        "/api/v1/matches",
        f"/api/v1/matches/{pair.match.id}",
        f"/api/v1/offers/{pair.offer.id}",
        f"/api/v1/offers?org={pair.giver.slug}",
        "/listings/",
        f"/listings/?q={pair.giver.name}",
        f"/listings/?org={pair.giver.slug}",
        f"/listings/{pair.offer.id}",
        "/listings/export.csv",
        "/matches",
        f"/matches/{pair.match.id}",
    ]
    return {path: client.get(path).get_data(as_text=True) for path in paths}


def test_from_what_it_can_read_before_approval_the_counterpart_cannot_be_singled_out(login):
    pair = make_pair()
    client = login(pair.receiver_member)
    read = _everything_read(client, pair)
    exact_site = (f"{pair.giver.lat}", f"{pair.giver.lon}")
    for path, text in read.items():
        assert not any(coordinate in text for coordinate in exact_site), path
        assert "14.6" not in text, path  # the exact distance, to any precision shown
    for path in ("/api/v1/offers", f"/api/v1/offers/{pair.offer.id}"):
        listing = client.get(path).json
        listing = listing[0] if isinstance(listing, list) else listing
        assert listing["org"] is None  # nothing ties the offer to the directory's entry
        assert (listing["quantity"], listing["reserved"], listing["fulfilled"]) == (None,) * 3
        assert listing["available"] == pair.offer.available
    for path in ("/listings/", f"/listings/{pair.offer.id}", f"/matches/{pair.match.id}"):
        assert pair.giver.name not in read[path], path
    assert client.get(f"/api/v1/offers?org={pair.giver.slug}").json == []  # no filter by name
    assert "No listings match" in read[f"/listings/?q={pair.giver.name}"]  # no search by name
    assert pair.giver.slug not in read["/listings/export.csv"]
    assert leaks(read[f"/api/v1/matches/{pair.match.id}"], pair.receiver) == []


def test_the_organization_itself_and_coordinators_see_exact_sites_and_stock(login):
    pair = make_pair()
    for person in (pair.giver_member, pair.coordinator):
        listing = login(person).get(f"/api/v1/offers/{pair.offer.id}").json
        assert (listing["org"], listing["lat"]) == (pair.giver.slug, pair.giver.lat)
        assert listing["reserved"] == pair.match.quantity
        assert pair.giver.name in login(person).get(f"/listings/{pair.offer.id}").text


def test_by_default_the_directory_and_listings_show_no_name_of_another_organization(login):
    pair = make_pair()
    client = login(pair.receiver_member)
    directory = client.get("/api/v1/organizations").json
    giver = next(org for org in directory if org["show_name"] is False and org["name"] is None)
    assert (giver["slug"], giver["borough"]) == (None, pair.giver.area)
    own = next(org for org in directory if org["name"] == pair.receiver.name)
    assert own["slug"] == pair.receiver.slug
    assert client.get(f"/api/v1/organizations/{pair.giver.slug}").status_code == 404
    read = _everything_read(client, pair)
    for path, text in read.items():
        if "?q=" in path:  # the search box and the language switch repeat what was typed
            text = text.replace(f'value="{pair.giver.name}"', "").replace(path, "")
        assert pair.giver.name not in text and f'"{pair.giver.slug}"' not in text, path


def test_an_organization_that_shows_its_name_is_named_on_listings_and_in_the_directory(login):
    pair = make_pair()
    pair.giver.show_name = True
    db.session.commit()
    client = login(pair.receiver_member)
    listing = client.get(f"/api/v1/offers/{pair.offer.id}").json
    assert listing["org"] == pair.giver.slug
    assert (listing["reserved"], listing["lat"]) == (None, pytest.approx(pair.giver.lat, abs=0.03))
    assert listing["lat"] != pair.giver.lat  # still only its area
    assert [item["id"] for item in client.get(f"/api/v1/offers?org={pair.giver.slug}").json] == [
        pair.offer.id
    ]
    directory = client.get("/api/v1/organizations").json
    assert pair.giver.slug in [org["slug"] for org in directory]
    assert client.get(f"/api/v1/organizations/{pair.giver.slug}").json["name"] == pair.giver.name
    for path in ("/listings/", f"/listings/{pair.offer.id}", f"/listings/?q={pair.giver.name}"):
        assert pair.giver.name in client.get(path).text, path
    assert pair.giver.slug in client.get("/listings/export.csv").text
    described = client.get(f"/api/v1/matches/{pair.match.id}").json["offer"]
    assert pair.giver.name in described["description"]
    assert described["organization"] is None  # contacts wait for approval all the same


def test_an_org_admin_turns_showing_the_name_on_in_the_settings(login):
    from tests.factories import OrgAdminFactory

    pair = make_pair()
    admin = OrgAdminFactory(organization=pair.giver)
    client = login(admin)
    page = client.get(f"/org/{pair.giver.id}").text
    assert "Show our name on listings" in page
    form = {
        "contact_email": pair.giver.contact_email,
        "service_radius_km": "25",
        "timezone": "America/New_York",
        "show_name": "y",
    }
    assert client.post(f"/org/{pair.giver.id}/settings", data=form).status_code == 302
    db.session.refresh(pair.giver)
    assert pair.giver.show_name is True
    spanish = client.get(f"/org/{pair.giver.id}", headers={"Accept-Language": "es"}).text
    assert "Mostrar nuestro nombre en las publicaciones" in spanish
