"""Live suggestions on the listing form: who the matcher would propose now, as before approval."""

from __future__ import annotations

from datetime import date, timedelta

from coalition.extensions import db
from coalition.models.listings import Visibility
from tests.factories import (
    CoordinatorFactory,
    ListingFactory,
    OrganizationFactory,
    RequestFactory,
    UserFactory,
    category,
)

URL = "/listings/suggestions?direction=offer"


def offer_form(**fields: str) -> dict[str, str]:
    """The offer form's fields as the browser sends them."""
    return {"category": "naloxone-nasal-4mg", "quantity": "120", **fields}


def needy_neighbours():
    """A member in Brooklyn and two requests from others nearby, one far away."""
    mine = OrganizationFactory(name="Bushwick Exchange", slug="bushwick")
    member = UserFactory(organization=mine)
    near = OrganizationFactory(name="Secret Clinic", slug="secret", borough="Queens", lat=40.71)
    RequestFactory(organization=near, quantity=80, urgency="critical")
    RequestFactory(organization=near, quantity=10, urgency="low")
    other = OrganizationFactory(name="Hidden Outreach", slug="hidden", lat=40.68, lon=-73.95)
    RequestFactory(organization=other, quantity=25)
    far = OrganizationFactory(name="Albany Program", slug="albany", lat=42.65, lon=-73.75)
    RequestFactory(organization=far, quantity=500, urgency="critical")
    ListingFactory(organization=near, quantity=999)  # an offer: not a counterpart of an offer
    return member


def test_a_member_sees_the_best_requests_nearby_without_names(login):
    member = needy_neighbours()
    response = login(member).post(URL, data=offer_form())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 organizations within 30 km need this." in html
    assert "Open requests could take 115 of your 120 units (4 mg nasal spray)." in html
    first = html.index("Critical need")
    assert first < html.index("High need") < html.index("Low need")
    assert "Queens, less than 2 km away" in html
    for secret in ("Secret Clinic", "Hidden Outreach", "Albany", "secret", "/listings/"):
        assert secret not in html


def test_an_organization_that_shows_its_name_is_named(login):
    member = needy_neighbours()
    open_org = OrganizationFactory(name="Open Door Program", show_name=True)
    RequestFactory(organization=open_org, quantity=5)
    html = login(member).post(URL, data=offer_form()).get_data(as_text=True)
    assert "Open Door Program, Brooklyn" in html
    assert "Secret Clinic" not in html and "Hidden Outreach" not in html


def test_the_quantity_limits_what_the_proposal_would_move(login):
    member = needy_neighbours()
    html = login(member).post(URL, data=offer_form(quantity="50")).get_data(as_text=True)
    assert "Open requests could take 50 of your 50 units (4 mg nasal spray)." in html
    assert (
        "could take 50 units (4 mg nasal spray)" in html
    )  # the critical request first, up to what we have


def test_the_drafts_own_place_and_radius_count(login):
    member = needy_neighbours()
    far_away = offer_form(lat="42.6", lon="-73.7", max_distance_km="20")
    html = login(member).post(URL, data=far_away).get_data(as_text=True)
    assert "1 organization within 20 km needs this." in html
    assert "could take 120 units (4 mg nasal spray)" in html


def test_expired_stock_goes_only_to_requests_that_accept_it(login):
    member = needy_neighbours()
    accepting = OrganizationFactory(slug="accepting")
    RequestFactory(organization=accepting, quantity=7, accepts_expired=True)
    expired = (date.today() - timedelta(days=3)).isoformat()
    html = login(member).post(URL, data=offer_form(expires_on=expired)).get_data(as_text=True)
    assert "1 organization within 30 km needs this." in html
    assert "Open requests could take 7 of your 120 units (4 mg nasal spray)." in html


def test_our_own_and_coordinator_only_requests_are_not_suggested_to_members(login):
    member = UserFactory()
    RequestFactory(organization=member.organization, quantity=30)
    RequestFactory(visibility=Visibility.COORDINATORS, quantity=30)
    html = login(member).post(URL, data=offer_form()).get_data(as_text=True)
    assert "No open request nearby fits this right now." in html


def test_a_request_sees_offers_and_their_expiry(login):
    member = UserFactory()
    lot = date.today() + timedelta(days=40)
    ListingFactory(quantity=60, expires_on=lot)
    data = {"category": "naloxone-nasal-4mg", "quantity": "100", "urgency": "high"}
    url = "/listings/suggestions?direction=request"
    html = login(member).post(url, data=data).get_data(as_text=True)
    assert "1 organization within 30 km has this to give." in html
    assert "Open offers could cover 60 of the 100 units (4 mg nasal spray) you need." in html
    assert "could give 60 units (4 mg nasal spray)" in html and "lot expires" in html


def test_coordinators_see_names_exact_distances_and_links(login):
    needy_neighbours()
    coordinator = CoordinatorFactory()
    data = offer_form(org="bushwick")
    html = login(coordinator).post(URL, data=data).get_data(as_text=True)
    assert "Secret Clinic, Queens" in html and "/listings/" in html
    assert "1.4 km away" in html


def test_coordinators_choose_the_organization_first(login):
    html = login(CoordinatorFactory()).post(URL, data=offer_form()).get_data(as_text=True)
    assert "Choose the organization to see who could use this." in html


def test_no_category_yet_is_a_hint_not_an_error(login):
    response = login(UserFactory()).post(URL, data={"quantity": "5"})
    assert response.status_code == 200
    assert "Choose what you offer to see who nearby could use it." in response.get_data(
        as_text=True
    )


def test_bad_input_is_a_422_with_the_fields_messages(login):
    signed_in = login(UserFactory())
    response = signed_in.post(URL, data=offer_form(quantity="-3", lat="95"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Suggestions will show once these are right:" in html
    assert "Quantity: Enter a whole number of 1 or more." in html
    assert "Latitude: Enter a latitude between -90 and 90." in html
    unknown = signed_in.post(URL, data=offer_form(category="unicorns"))
    assert unknown.status_code == 422
    assert "What: Choose a category from the list." in unknown.get_data(as_text=True)


def test_a_wrong_direction_is_a_404(login):
    response = login(UserFactory()).post("/listings/suggestions?direction=x", data=offer_form())
    assert response.status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.post(URL, data=offer_form())
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_form_asks_for_suggestions_with_htmx_and_works_without(login):
    html = login(UserFactory()).get("/listings/new?direction=offer").get_data(as_text=True)
    assert 'hx-post="/listings/suggestions?direction=offer"' in html
    assert "/static/vendor/htmx.min.js" in html and "cdn" not in html.lower()
    assert "data-needs-script hidden" in html  # the form posts as before without scripts


def test_suggestions_are_in_spanish(login):
    member = needy_neighbours()
    member.locale = "es"
    db.session.commit()
    html = login(member).post(URL, data=offer_form()).get_data(as_text=True)
    assert "2 organizaciones a menos de 30 km lo necesitan." in html
    assert category("naloxone-nasal-4mg") is not None


def test_form_errors_are_in_plain_spanish(login):
    member = UserFactory(locale="es")
    data = {**offer_form(quantity="0"), "lat": "95"}
    page = login(member).post("/listings/new?direction=offer", data=data)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Escriba un número entero de 1 o más." in html
    assert "Escriba una latitud entre -90 y 90." in html
    assert "must be" not in html and "Not a valid" not in html
