"""The right people get the right digest, over real SMTP, with the right headers."""

from __future__ import annotations

from datetime import date, timedelta
from email.utils import parseaddr
from typing import Any

import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.digests import DigestScope, DigestSend, SendState
from coalition.models.listings import ListingStatus, Visibility
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import OrgStatus
from coalition.security import unsign
from coalition.services import impact
from coalition.services.digests import UNSUBSCRIBE_PURPOSE
from tests.digests.conftest import FlakySmtp, World, run, subscribe

BASE = "http://coalition.test"


def digest_of(smtp: FlakySmtp, address: str) -> tuple[Any, str, str]:
    """The one digest an address received: message, plain text, HTML."""
    received = [m for m in smtp.messages if parseaddr(str(m["To"]))[1] == address]
    assert len(received) == 1, f"{address} received {len(received)} digests"
    plain, html = smtp.texts(received[0])
    return received[0], plain, html


def listing_url(listing: Any) -> str:
    """The link a digest gives to a listing."""
    return f"{BASE}/listings/{listing.id}"


def test_each_subscriber_gets_one_digest_with_one_click_unsubscribe_headers(
    world: World, smtp: FlakySmtp
) -> None:
    offer = world.listing(world.bushwick, quantity=240)
    sub = subscribe(world.harlem_member)
    report = run(utcnow() + timedelta(minutes=1))

    assert report.sent == 1
    message, plain, html = digest_of(smtp, "hana@harlem.example.org")
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "Coalition digest: 1 new offer"
    unsubscribe = str(message["List-Unsubscribe"])
    web, mailto = [part.strip(" <>") for part in unsubscribe.split(",")]
    assert web.startswith(f"{BASE}/digests/unsubscribe/")
    assert mailto.startswith("mailto:no-reply@coalition.local?subject=unsubscribe")
    token = web.rsplit("/", 1)[1]
    assert unsign(UNSUBSCRIBE_PURPOSE, token, None) == {"s": sub.id}
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    send = db.session.scalar(sa.select(DigestSend))
    assert (
        message["Message-ID"]
        == send.message_id
        == f"<digest.{sub.id}.{send.period_key}@coalition.local>"
    )
    for body in (plain, html):
        assert "Naloxone nasal spray 4 mg" in body
        assert "240" in body
        assert "a member organization in Brooklyn" in body and "15 km away" in body  # discretion
        assert "Bushwick" not in body
        assert listing_url(offer) in body
        assert web in body
    assert "<table" in html and 'style="' in html


def test_only_active_confirmed_subscribers_of_active_organizations_receive(
    world: World, smtp: FlakySmtp
) -> None:
    world.listing(world.harlem)
    subscribe(world.harlem_member)
    subscribe(world.coordinator)
    subscribe(None, email="director@board.example.org", name="Dee Rector",
              organization_id=world.bushwick.id)  # fmt: skip
    subscribe(None, email="unconfirmed@board.example.org", confirmed_at=None)
    subscribe(world.harlem_admin, active=False, unsubscribed_at=utcnow())
    subscribe(world.bushwick_member)
    world.bushwick.status = OrgStatus.SUSPENDED  # its people and its recipients stay out
    db.session.commit()

    run(utcnow() + timedelta(minutes=1))

    assert sorted(smtp.addresses()) == ["cora@coalition.example.org", "hana@harlem.example.org"]


def test_listings_of_a_suspended_organization_are_left_out(world: World, smtp: FlakySmtp) -> None:
    from tests.factories import OrganizationFactory

    kept = world.listing(OrganizationFactory(name="Astoria Care", borough="Queens"), quantity=11)
    dropped = world.listing(world.bushwick, quantity=22)
    subscribe(world.harlem_member)
    subscribe(world.coordinator)
    world.bushwick.status = OrgStatus.SUSPENDED
    db.session.commit()

    run(utcnow() + timedelta(minutes=1))

    for address in ("hana@harlem.example.org", "cora@coalition.example.org"):
        _, plain, html = digest_of(smtp, address)
        for body in (plain, html):
            assert listing_url(kept) in body and listing_url(dropped) not in body, address


def test_a_digest_names_another_organization_only_if_it_shows_its_name(
    world: World, smtp: FlakySmtp
) -> None:
    from tests.factories import OrganizationFactory

    named = OrganizationFactory(
        name="Astoria Care", borough="Queens", lat=40.7644, lon=-73.9235, show_name=True
    )
    world.listing(world.bushwick, quantity=240)
    world.listing(named, quantity=12)
    subscribe(world.harlem_member)
    subscribe(world.coordinator)
    run(utcnow() + timedelta(minutes=1))
    _, member_text, _ = digest_of(smtp, "hana@harlem.example.org")
    _, coordinator_text, _ = digest_of(smtp, "cora@coalition.example.org")
    assert "a member organization in Brooklyn, 15 km away" in member_text
    assert "Bushwick" not in member_text and "14.7" not in member_text
    assert "Astoria Care (Queens), 6 km away" in member_text  # it shows its name
    assert "Bushwick Outreach (Brooklyn)" in coordinator_text


def test_nobody_sees_a_listing_outside_its_visibility(world: World, smtp: FlakySmtp) -> None:
    open_offer = world.listing(world.bushwick, quantity=11)
    private = world.listing(world.bushwick, quantity=22, visibility=Visibility.COORDINATORS)
    withdrawn = world.listing(world.bushwick, quantity=33, status=ListingStatus.WITHDRAWN)
    for user in (world.harlem_member, world.bushwick_member, world.coordinator):
        subscribe(user)
    subscribe(None, email="board@harlem.example.org", organization_id=world.harlem.id)
    subscribe(None, email="board@bushwick.example.org", organization_id=world.bushwick.id)
    subscribe(None, email="friend@coalition.example.org")

    run(utcnow() + timedelta(minutes=1))

    sees_private = {"cora@coalition.example.org"}
    others = sees_private | {"hana@harlem.example.org", "board@harlem.example.org",
                             "friend@coalition.example.org"}  # fmt: skip
    for address in others:
        _, plain, html = digest_of(smtp, address)
        for body in (plain, html):
            assert listing_url(open_offer) in body
            assert (listing_url(private) in body) == (address in sees_private), address
            assert listing_url(withdrawn) not in body
    for address in ("bo@bushwick.example.org", "board@bushwick.example.org"):  # their own
        _, plain, html = digest_of(smtp, address)
        assert "(2 posted by your organization are left out.)" in plain, address
        assert all(listing_url(x) not in plain + html for x in (open_offer, private, withdrawn))


def test_kind_category_distance_and_scope_filters(world: World, smtp: FlakySmtp) -> None:
    near = world.listing(world.harlem, category="fentanyl-test-strips")
    far = world.listing(world.bushwick, category="fentanyl-test-strips")  # 14.7 km from Harlem
    nurse = world.listing(world.bushwick, category="registered-nurse", request=True)
    naloxone = world.listing(world.bushwick, category="naloxone-nasal-4mg")
    subscribe(world.harlem_member, categories=["fentanyl-test-strips"], max_distance_km=10)
    subscribe(world.harlem_admin, kinds=["staffing"])
    subscribe(world.bushwick_member, scope=DigestScope.OWN_ORG)

    run(utcnow() + timedelta(minutes=1))

    _, strips_only, _ = digest_of(smtp, "hana@harlem.example.org")
    assert listing_url(near) not in strips_only  # our own posting is one line, not news
    assert "(1 posted by your organization is left out.)" in strips_only
    assert listing_url(far) not in strips_only and listing_url(naloxone) not in strips_only
    _, staffing_only, _ = digest_of(smtp, "abe@harlem.example.org")
    assert listing_url(nurse) in staffing_only
    assert all(listing_url(x) not in staffing_only for x in (near, far, naloxone))
    _, own_only, _ = digest_of(smtp, "bo@bushwick.example.org")
    assert all(listing_url(x) in own_only for x in (far, nurse, naloxone))
    assert listing_url(near) not in own_only


def test_neutral_wording_names_no_supply_and_no_organization(world: World, smtp: FlakySmtp) -> None:
    world.listing(world.bushwick, category="syringes-1ml-28g")
    subscribe(world.harlem_member, neutral_wording=True)

    run(utcnow() + timedelta(minutes=1))

    message, plain, html = digest_of(smtp, "hana@harlem.example.org")
    for body in (plain, html, str(message["Subject"])):
        assert "Syringe" not in body and "syringe" not in body
        assert "Bushwick Outreach" not in body
    assert "Medical supplies" in plain and "a member organization in Brooklyn" in plain


def test_an_empty_digest_is_skipped_unless_asked_for(world: World, smtp: FlakySmtp) -> None:
    quiet = subscribe(world.harlem_member)
    wants_it = subscribe(world.bushwick_member, send_empty=True)

    report = run(utcnow() + timedelta(minutes=1))

    assert (report.sent, report.skipped) == (1, 1)
    assert smtp.addresses() == ["bo@bushwick.example.org"]
    states = dict(db.session.execute(sa.select(DigestSend.subscription_id, DigestSend.state)).all())
    assert states == {quiet.id: SendState.SKIPPED_EMPTY, wants_it.id: SendState.SENT}
    _, plain, _ = digest_of(smtp, "bo@bushwick.example.org")
    assert "No offers that match your settings." in plain


def test_listings_are_new_since_the_last_digest(world: World, smtp: FlakySmtp) -> None:
    old = world.listing(world.bushwick, created_at=utcnow() - timedelta(hours=30))
    subscribe(world.harlem_member, last_period_end=utcnow() - timedelta(hours=2))
    fresh = world.listing(world.bushwick)

    run(utcnow() + timedelta(minutes=1))

    _, plain, _ = digest_of(smtp, "hana@harlem.example.org")
    assert listing_url(fresh) in plain and listing_url(old) not in plain


def match(offer: Any, request: Any, state: MatchState, **values: Any) -> Match:
    """A match in a given state."""
    row = Match(offer_id=offer.id, request_id=request.id, quantity=values.pop("quantity", 10),
                state=state, value_per_unit=1.0, **values)  # fmt: skip
    db.session.add(row)
    db.session.flush()
    impact.record_fulfilled(db.session, row.id)  # as the worker's impact group does
    db.session.commit()
    return row


def test_matches_waiting_stock_expiring_and_shared_impact(world: World, smtp: FlakySmtp) -> None:
    earlier = utcnow() - timedelta(days=3)
    offer = world.listing(world.harlem, quantity=500, created_at=earlier,
                          expires_on=date.today() + timedelta(days=12))  # fmt: skip
    request = world.listing(world.bushwick, request=True, created_at=earlier)
    approved = match(offer, request, MatchState.APPROVED, quantity=40)
    handed = match(offer, request, MatchState.HANDED_OFF, quantity=7,
                   offer_accepted_at=earlier, request_accepted_at=earlier)  # fmt: skip
    proposed = match(offer, request, MatchState.PROPOSED, quantity=5)
    match(
        offer, request, MatchState.FULFILLED, quantity=30, received_at=utcnow() - timedelta(hours=3)
    )
    nurse_offer = world.listing(world.harlem, category="registered-nurse", created_at=earlier)
    nurse_request = world.listing(world.bushwick, category="registered-nurse", request=True,
                                  created_at=earlier)  # fmt: skip
    match(nurse_offer, nurse_request, MatchState.FULFILLED, quantity=6,
          received_at=utcnow() - timedelta(hours=2))  # fmt: skip
    for user in (world.harlem_member, world.bushwick_member, world.coordinator):
        subscribe(user)

    run(utcnow() + timedelta(minutes=1))

    _, harlem, _ = digest_of(smtp, "hana@harlem.example.org")
    assert "WAITING FOR HARLEM HARM REDUCTION (1)" in harlem
    assert "Accept or decline: 40 units" in harlem
    assert f"{BASE}/matches/{approved.id}" in harlem
    assert "YOUR STOCK EXPIRING WITHIN 30 DAYS (1)" in harlem and "(in 12 days)" in harlem
    assert "2 matches fulfilled, 6 staff hours." in harlem
    assert "- 30 units (4 mg nasal spray) of Naloxone nasal spray 4 mg" in harlem
    _, bushwick, _ = digest_of(smtp, "bo@bushwick.example.org")
    assert "WAITING FOR BUSHWICK OUTREACH (2)" in bushwick
    assert "Confirm receipt: 7 units" in bushwick and f"{BASE}/matches/{handed.id}" in bushwick
    assert "EXPIRING" not in bushwick
    _, coordinator, _ = digest_of(smtp, "cora@coalition.example.org")
    assert "PROPOSALS WAITING FOR A COORDINATOR (1)" in coordinator
    assert f"{BASE}/matches/queue" in coordinator
    assert proposed.id and "WAITING FOR" not in coordinator.replace("PROPOSALS WAITING FOR", "")


def test_a_digest_leads_with_what_concerns_the_reader_and_folds_similar_postings(
    world: World, smtp: FlakySmtp
) -> None:
    earlier = utcnow() - timedelta(days=3)
    world.listing(world.harlem, category="fentanyl-test-strips", created_at=earlier)  # we offer
    world.listing(world.harlem, category="naloxone-nasal-4mg", request=True, created_at=earlier)
    for quantity in (100, 200, 300, 400):
        world.listing(world.bushwick, quantity=quantity)  # naloxone offers: fit our request
    world.listing(world.bushwick, category="fentanyl-test-strips", request=True)  # we can fill
    world.listing(world.harlem, category="condoms")  # our own new posting
    subscribe(world.harlem_member)

    run(utcnow() + timedelta(minutes=1))

    message, plain, html = digest_of(smtp, "hana@harlem.example.org")
    short = plain.split("IN SHORT", 1)[1].split("NEW OFFERS", 1)[0]
    assert "- 1 new request is for something you offer." in short
    assert "- 4 new offers fit what you asked for." in short
    assert (
        "- 4 offers of Naloxone nasal spray 4 mg, 1,000 units (4 mg nasal spray) in all." in short
    )
    assert plain.index("IN SHORT") < plain.index("NEW OFFERS")
    assert "(1 posted by your organization is left out.)" in plain
    assert "4 new offers fit what you asked for." in html
    assert str(message["Subject"]) == "Coalition digest: 4 new offers, 1 new request"


def test_each_reader_gets_the_digest_in_their_language(world: World, smtp: FlakySmtp) -> None:
    world.listing(world.bushwick, quantity=240)
    world.harlem_member.locale = "es"
    db.session.commit()
    subscribe(world.harlem_member)
    subscribe(world.coordinator)

    run(utcnow() + timedelta(minutes=1))

    message, plain, html = digest_of(smtp, "hana@harlem.example.org")
    assert str(message["Subject"]) == "Resumen de Coalition: 1 oferta nueva"
    assert "OFERTAS NUEVAS (1)" in plain and "una organización miembro en Brooklyn" in plain
    assert "Naloxona en aerosol nasal de 4 mg" in plain and 'lang="es"' in html
    _, english, _ = digest_of(smtp, "cora@coalition.example.org")
    assert "NEW OFFERS (1)" in english
