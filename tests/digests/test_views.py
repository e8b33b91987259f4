"""Digest pages: settings, preview, recipients with double opt-in, unsubscribe, sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.audit import AuditEntry
from coalition.models.base import utcnow
from coalition.models.digests import DigestFrequency, DigestSend, DigestSubscription, SendState
from coalition.security import sign
from coalition.services.digests import CONFIRM_PURPOSE, unsubscribe_token
from tests.conftest import count
from tests.digests.conftest import FlakySmtp, World, run, subscribe
from worker.jobs import deliver_due

SETTINGS = {
    "frequency": "weekly",
    "weekday": "0",
    "hour": "8",
    "timezone": "America/Chicago",
    "kinds": ["supply"],
    "categories": ["naloxone-nasal-4mg", "fentanyl-test-strips"],
    "max_distance_km": "12.5",
    "scope": "coalition",
    "neutral_wording": "y",
}


def recipient_form(**changes: Any) -> dict[str, Any]:
    """An add-recipient form."""
    return {**SETTINGS, "email": "Director@Board.example.org", "name": "Dee Rector", **changes}


# ---------------------------------------------------------------- my digest


def test_a_member_subscribes_from_the_settings_page(world: World, login: Any) -> None:
    member = login(world.harlem_member)
    page = member.get("/digests/settings")
    assert page.status_code == 200 and b"Subscribe" in page.data

    response = member.post("/digests/settings", data=SETTINGS)

    assert response.status_code == 302
    sub = db.session.scalar(sa.select(DigestSubscription))
    assert sub.user_id == world.harlem_member.id and sub.is_receiving
    assert (sub.frequency, sub.weekday, sub.hour) == (DigestFrequency.WEEKLY, 0, 8)
    assert sub.timezone == "America/Chicago" and sub.max_distance_km == 12.5
    assert sub.kinds == ["supply"] and sub.neutral_wording and not sub.send_empty
    assert sub.categories == ["fentanyl-test-strips", "naloxone-nasal-4mg"]
    assert db.session.scalar(sa.select(AuditEntry.action)) == "digest.subscribed"
    assert b"Next one: Monday" in member.get("/digests/settings").data


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus_Mons", b"Choose a time zone from the list"),
        ("hour", "24", b"Choose one of the options."),
        ("frequency", "hourly", b"Choose one of the options."),
        ("kinds", "plutonium", "“plutonium” is not one of the options.".encode()),
        ("categories", "unicorns", "“unicorns” is not one of the options.".encode()),
        ("max_distance_km", "-3", b"Enter a number from 0.1 to 5000."),
        ("max_distance_km", "far", b"Enter a number."),
    ],
)
def test_bad_settings_are_shown_again_and_nothing_is_saved(
    world: World, login: Any, field: str, value: str, message: bytes
) -> None:
    member = login(world.harlem_member)
    response = member.post("/digests/settings", data={**SETTINGS, field: value})
    assert response.status_code == 422
    assert message in response.data
    assert count(DigestSubscription) == 0 and count(AuditEntry) == 0


def test_a_distance_needs_an_organization(world: World, login: Any) -> None:
    response = login(world.coordinator).post("/digests/settings", data=SETTINGS)
    assert response.status_code == 422
    assert b"A distance needs an organization to measure from." in response.data
    assert count(DigestSubscription) == 0


def test_stopping_and_subscribing_again(world: World, login: Any) -> None:
    member = login(world.harlem_member)
    member.post("/digests/settings", data=SETTINGS)
    assert member.post("/digests/settings/stop").status_code == 302
    sub = db.session.scalar(sa.select(DigestSubscription))
    assert not sub.active and sub.unsubscribed_at is not None
    sub.last_period_end = utcnow() - timedelta(days=40)
    db.session.commit()
    member.post("/digests/settings", data={**SETTINGS, "frequency": "daily"})
    db.session.refresh(sub)
    assert sub.active and sub.frequency == DigestFrequency.DAILY and count(DigestSubscription) == 1
    assert sub.last_period_end is None  # the next digest does not cover the pause


def test_preview_my_next_digest_writes_and_sends_nothing(
    world: World, login: Any, smtp: FlakySmtp
) -> None:
    offer = world.listing(world.bushwick, quantity=77)
    member = login(world.harlem_member)
    page = member.get("/digests/preview")
    assert page.status_code == 200
    assert b"Coalition digest: 1 new offer" in page.data
    assert f"/listings/{offer.id}".encode() in page.data
    assert b'src="/digests/preview/email"' in page.data
    frame = member.get("/digests/preview/email")
    assert frame.status_code == 200 and f"/listings/{offer.id}".encode() in frame.data
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    assert count(DigestSubscription) == 0 and count(DigestSend) == 0 and smtp.messages == []


def test_settings_and_preview_need_a_sign_in(client: Any) -> None:
    for path in ("/digests/settings", "/digests/preview", "/digests/preview/email"):
        assert client.get(path).status_code == 302
    assert client.post("/digests/settings", data=SETTINGS).status_code == 302
    assert count(DigestSubscription) == 0


# ---------------------------------------------------------------- email-only recipients


def test_an_org_admin_adds_a_recipient_who_confirms_by_email(
    world: World, login: Any, client: Any, smtp: FlakySmtp
) -> None:
    admin = login(world.harlem_admin)
    form = recipient_form(organization=str(world.harlem.id), max_distance_km="")
    response = admin.post("/digests/recipients", data=form)

    assert response.status_code == 302
    sub = db.session.scalar(sa.select(DigestSubscription))
    assert sub.email == "director@board.example.org" and sub.organization_id == world.harlem.id
    assert sub.confirmed_at is None and not sub.is_receiving
    assert smtp.messages == []  # sent by the worker once the request committed
    assert deliver_due(db.session) == 1
    assert [m["Subject"] for m in smtp.messages] == ["Confirm your Coalition digest subscription"]
    plain, _ = smtp.texts(smtp.messages[0])
    link = plain.split("http://coalition.test", 1)[1].split()[0]
    world.listing(world.bushwick)
    assert run(utcnow() + timedelta(minutes=1)).scheduled == 0  # nothing before confirming

    page = client.get(link)
    assert page.status_code == 200 and b"Confirm the subscription" in page.data
    db.session.refresh(sub)
    assert sub.confirmed_at is None  # a link scanner's GET confirms nothing
    assert client.post(link).status_code == 200
    db.session.refresh(sub)
    assert sub.is_receiving
    assert b"already confirmed" in client.post(link).data

    assert run(utcnow() + timedelta(minutes=1)).sent == 1
    assert str(smtp.messages[-1]["To"]) == "Dee Rector <director@board.example.org>"


def test_a_spanish_email_only_recipient_gets_a_spanish_confirmation_and_digest(
    world: World, login: Any, client: Any, smtp: FlakySmtp
) -> None:
    form = recipient_form(organization="", max_distance_km="", locale="es")
    assert login(world.coordinator).post("/digests/recipients", data=form).status_code == 302
    assert db.session.scalar(sa.select(DigestSubscription.locale)) == "es"
    listed = login(world.coordinator).get("/digests/recipients").get_data(as_text=True)
    assert '<span lang="es">Español</span>' in listed

    assert deliver_due(db.session) == 1
    assert str(smtp.messages[0]["Subject"]) == "Confirme su suscripción al resumen de Coalition"
    plain, html = smtp.texts(smtp.messages[0])
    assert "Hola, Dee Rector:" in plain and "la coalición" in plain
    assert "Confirmar la suscripción" in html
    link = plain.split("http://coalition.test", 1)[1].split()[0]
    assert client.post(link).status_code == 200

    world.listing(world.bushwick, quantity=240)
    assert run(utcnow() + timedelta(minutes=1)).sent == 1
    digest = smtp.messages[-1]
    assert str(digest["Subject"]) == "Resumen de Coalition: 1 oferta nueva"
    assert "OFERTAS NUEVAS (1)" in smtp.texts(digest)[0]


def test_the_recipient_pages_complaints_are_in_the_adding_persons_language(
    world: World, login: Any
) -> None:
    world.coordinator.locale = "es"
    db.session.commit()
    coordinator = login(world.coordinator)
    form = recipient_form(organization="", email="hana@harlem.example.org")
    response = coordinator.post("/digests/recipients", data=form)
    assert response.status_code == 422
    assert "Esta persona tiene una cuenta" in response.get_data(as_text=True)
    response = coordinator.post("/digests/recipients", data=recipient_form(organization=""))
    assert "Una distancia necesita una organización" in response.get_data(as_text=True)
    assert count(DigestSubscription) == 0


def test_the_language_of_a_new_recipient_starts_as_the_adding_persons(
    world: World, login: Any
) -> None:
    world.harlem_admin.locale = "es"
    db.session.commit()
    page = login(world.harlem_admin).get("/digests/recipients").get_data(as_text=True)
    assert '<option selected value="es">Español</option>' in page
    response = login(world.coordinator).get("/digests/recipients").get_data(as_text=True)
    assert '<option selected value="en">English</option>' in response


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"email": "not an email"}, b"Enter an email address, such as name@example.org."),
        ({"email": "hana@harlem.example.org"}, b"This person has an account"),
        ({"organization": "999999"}, b"Choose one of the options."),
        ({"timezone": "Nowhere/Land"}, b"Choose a time zone from the list"),
    ],
)
def test_bad_recipients_are_refused_and_nothing_is_written(
    world: World, login: Any, smtp: FlakySmtp, changes: dict[str, str], field_message: bytes
) -> None:
    form = recipient_form(**{"organization": str(world.harlem.id), **changes})
    response = login(world.harlem_admin).post("/digests/recipients", data=form)
    assert response.status_code == 422 and field_message in response.data
    assert count(DigestSubscription) == 0 and count(AuditEntry) == 0 and smtp.messages == []


def test_an_org_admin_adds_recipients_only_for_their_own_organization(
    world: World, login: Any
) -> None:
    form = recipient_form(organization=str(world.bushwick.id))
    response = login(world.harlem_admin).post("/digests/recipients", data=form)
    assert response.status_code == 422 and count(DigestSubscription) == 0


def test_an_address_already_receiving_is_refused(world: World, login: Any) -> None:
    subscribe(None, email="director@board.example.org", organization_id=world.harlem.id)
    form = recipient_form(organization=str(world.harlem.id))
    response = login(world.harlem_admin).post("/digests/recipients", data=form)
    assert response.status_code == 422 and b"already receives the digest" in response.data
    assert count(DigestSubscription) == 1


def test_a_coordinator_adds_a_recipient_without_an_organization(world: World, login: Any) -> None:
    form = recipient_form(organization="", max_distance_km="")
    response = login(world.coordinator).post("/digests/recipients", data=form)
    assert response.status_code == 302
    assert db.session.scalar(sa.select(DigestSubscription.organization_id)) is None


def test_who_may_manage_recipients(world: World, login: Any, client: Any) -> None:
    theirs = subscribe(None, email="board@bushwick.example.org", organization_id=world.bushwick.id)
    ours = subscribe(None, email="board@harlem.example.org", organization_id=world.harlem.id)
    assert client.get("/digests/recipients").status_code == 302
    assert login(world.harlem_member).get("/digests/recipients").status_code == 403
    member_post = login(world.harlem_member).post("/digests/recipients", data=recipient_form())
    assert member_post.status_code == 403
    admin = login(world.harlem_admin)
    listing = admin.get("/digests/recipients").data
    assert b"board@harlem.example.org" in listing and b"board@bushwick.example.org" not in listing
    assert admin.post(f"/digests/recipients/{theirs.id}/remove").status_code == 403
    assert admin.post(f"/digests/recipients/{ours.id}/remove").status_code == 302
    assert (
        login(world.coordinator).post(f"/digests/recipients/{theirs.id}/remove").status_code == 302
    )
    assert not db.session.get(DigestSubscription, ours.id).active
    assert not db.session.get(DigestSubscription, theirs.id).active
    user_sub = subscribe(world.harlem_member)
    assert admin.post(f"/digests/recipients/{user_sub.id}/remove").status_code == 404


def test_a_forged_or_foreign_confirmation_link_is_refused(world: World, client: Any) -> None:
    sub = subscribe(None, email="x@board.example.org", confirmed_at=None)
    other_email = sign(CONFIRM_PURPOSE, {"s": sub.id, "e": "someone@else.example.org"})
    for token in ("forged", other_email, unsubscribe_token(sub.id)):
        assert client.get(f"/digests/confirm/{token}").status_code == 400
        assert client.post(f"/digests/confirm/{token}").status_code == 400
    db.session.refresh(sub)
    assert sub.confirmed_at is None


# ---------------------------------------------------------------- one-click unsubscribe


def test_one_click_unsubscribe_works_once_without_a_session_or_csrf(
    world: World, client: Any, csrf_on: None
) -> None:
    sub = subscribe(world.harlem_member)
    path = f"/digests/unsubscribe/{unsubscribe_token(sub.id)}"

    page = client.get(path)
    assert page.status_code == 200 and b"Unsubscribe</button>" in page.data
    db.session.refresh(sub)
    assert sub.active  # showing the page changes nothing

    first = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert first.status_code == 200 and b"is unsubscribed" in first.data
    db.session.refresh(sub)
    assert not sub.active and sub.unsubscribed_at is not None

    second = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert second.status_code == 200 and b"already unsubscribed" in second.data
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert actions == ["digest.unsubscribed.link"]


def test_a_forged_unsubscribe_token_is_refused(world: World, client: Any, csrf_on: None) -> None:
    sub = subscribe(world.harlem_member)
    real = unsubscribe_token(sub.id)
    forged = [real[:-2] + ("AA" if not real.endswith("AA") else "BB"), "garbage",
              sign(CONFIRM_PURPOSE, {"s": sub.id}), unsubscribe_token(sub.id + 1000)]  # fmt: skip
    for token in forged:
        assert client.get(f"/digests/unsubscribe/{token}").status_code == 400
        assert client.post(f"/digests/unsubscribe/{token}").status_code == 400
    db.session.refresh(sub)
    assert sub.active and count(AuditEntry) == 0


def test_the_link_in_a_delivered_digest_unsubscribes(
    world: World, client: Any, smtp: FlakySmtp, csrf_on: None
) -> None:
    world.listing(world.bushwick)
    sub = subscribe(world.harlem_member)
    run(utcnow() + timedelta(minutes=1))
    header = str(smtp.messages[0]["List-Unsubscribe"])
    url = header.split(",")[0].strip(" <>")
    response = client.post(
        url.removeprefix("http://coalition.test"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    db.session.refresh(sub)
    assert not sub.active
    assert run(utcnow() + timedelta(days=1, minutes=2)).scheduled == 0


# ---------------------------------------------------------------- coordinators


def test_coordinators_see_recent_sends_and_failures_and_send_again(
    world: World, login: Any, client: Any, smtp: FlakySmtp
) -> None:
    world.listing(world.bushwick)
    subscribe(world.harlem_member)
    smtp.mode = "550 5.1.1 No such mailbox"
    run(utcnow() + timedelta(minutes=1))
    send = db.session.scalar(sa.select(DigestSend))

    assert client.get("/digests/sends").status_code == 302
    assert login(world.harlem_admin).get("/digests/sends").status_code == 403
    assert login(world.harlem_admin).post(f"/digests/sends/{send.id}/retry").status_code == 403
    coordinator = login(world.coordinator)
    page = coordinator.get("/digests/sends?state=failed")
    assert page.status_code == 200
    assert b"hana@harlem.example.org" in page.data and b"550 5.1.1 No such mailbox" in page.data
    assert b"Send again" in page.data

    assert coordinator.post(f"/digests/sends/{send.id}/retry").status_code == 302
    db.session.refresh(send)
    assert send.state == SendState.PENDING and send.attempts == 0
    assert coordinator.post(f"/digests/sends/{send.id}/retry").status_code == 409
    smtp.mode = None
    assert run(utcnow() + timedelta(minutes=2)).sent == 1


def test_confirming_by_the_page_button_passes_csrf(
    world: World, client: Any, csrf_on: None
) -> None:
    sub = subscribe(None, email="x@board.example.org", confirmed_at=None)
    path = f"/digests/confirm/{sign(CONFIRM_PURPOSE, {'s': sub.id, 'e': sub.email})}"
    assert client.post(path).status_code == 400  # no CSRF token: refused
    page = client.get(path).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    db.session.refresh(sub)
    assert sub.is_receiving
