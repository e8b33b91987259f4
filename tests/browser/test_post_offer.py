"""In a real browser: a member signs in, posts a naloxone offer and a request for a
Spanish-speaking nurse through the forms, and sees them listed (and over the API)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, OrganizationFactory, UserFactory
from tests.listings_support import event_types, future, token_for

pytestmark = pytest.mark.browser


def sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))


def test_member_posts_an_offer_and_a_request_and_sees_them(page, live_server, csrf_on, client):
    org = OrganizationFactory(name="Mott Haven OPC", slug="mott-haven")
    member = UserFactory(organization=org, email="denise@example.org", name="Denise")
    token = token_for(org)
    sign_in(page, live_server, member.email)

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Listings", exact=True
    ).click()
    page.get_by_role("link", name="Post an offer").click()
    page.get_by_label("What").select_option("naloxone-nasal-4mg")
    page.get_by_label("Quantity").fill("0")
    page.get_by_role("button", name="Post offer").click()
    assert page.locator("#quantity-errors").inner_text() == "Enter a whole number of 1 or more."

    page.get_by_label("Quantity").fill("120")
    page.get_by_label("Lot expiry date").fill(future(45))
    page.get_by_label("Notes").fill("Two cases, lot NX-2291")
    page.get_by_role("button", name="Post offer").click()
    expect(page.get_by_text("Your offer is posted.")).to_be_visible()
    heading = page.get_by_role("heading", name=re.compile("Offer: Naloxone nasal spray"))
    expect(heading).to_be_visible()

    page.goto(f"{live_server}/listings/new?direction=request")
    page.get_by_label("What").select_option("registered-nurse")
    page.get_by_label("Quantity").fill("24")
    page.get_by_label("Urgency").select_option("high")
    page.get_by_label("Languages").fill("es")
    page.get_by_label("Availability windows").fill("2027-01-05 10:00 to 18:00")
    page.get_by_role("button", name="Post request").click()
    expect(page.get_by_text("Your request is posted.")).to_be_visible()

    page.get_by_role("link", name="Our listings").click()
    table = page.locator("table")
    expect(table.get_by_role("link", name="Naloxone nasal spray 4 mg")).to_be_visible()
    expect(table.get_by_role("link", name="Registered nurse")).to_be_visible()

    headers = {"Authorization": f"Bearer {token}"}
    offers = client.get("/api/v1/offers", headers=headers).json
    requests = client.get("/api/v1/requests", headers=headers).json
    assert [(o["category"], o["quantity"], o["expires_on"]) for o in offers] == [
        ("naloxone-nasal-4mg", 120, future(45))
    ]
    assert [(r["category"], r["languages"]) for r in requests] == [("registered-nurse", ["es"])]
    assert event_types() == ["offer.posted", "request.posted"]
