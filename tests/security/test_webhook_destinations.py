"""Finding 3 of issue 11: webhooks never reach loopback, private, link-local, multicast or
reserved addresses, neither when the URL is saved nor when it is sent (after resolving)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from coalition import outbound
from coalition.extensions import db
from coalition.models.notifications import DeliveryState, Webhook, WebhookDelivery
from coalition.notify.notifications import notify_match_event
from tests.conftest import count
from tests.matches_support import events_of, make_pair
from tests.notify.servers import webhook_receiver
from worker import jobs

INTERNAL = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"]
REFUSED_URLS = [
    "http://127.0.0.1:1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:5300/",
    "http://localhost:8080/hook",
    "https://10.0.0.5/hook",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
]


@pytest.fixture
def guarded(app: Any) -> Iterator[None]:
    """The production setting: internal destinations refused."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    yield
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused(address):
    assert outbound.refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert outbound.refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_internal_webhook_urls_are_refused_on_the_form(login, guarded, url):
    pair = make_pair()
    response = login(pair.giver_member).post("/notifications/webhook", data={"url": url})
    assert response.status_code == 422
    assert b"internal addresses" in response.data
    assert count(Webhook) == 0


def test_public_webhook_urls_still_save(login, guarded):
    pair = make_pair()
    response = login(pair.giver_member).post(
        "/notifications/webhook", data={"url": "https://93.184.216.34/hook", "active": "y"}
    )
    assert response.status_code == 302 and count(Webhook) == 1


def _stored_hook(org: Any, url: str) -> Webhook:
    """A webhook row as it would be left from before the check (or saved while allowed)."""
    hook = Webhook(organization_id=org.id, url=url, secret="s" * 64, active=True)
    db.session.add(hook)
    db.session.commit()
    return hook


def _propose_and_deliver() -> None:
    """Record the webhook deliveries of the pair's proposal, and send them."""
    from coalition.events.envelope import from_envelope
    from coalition.models.events import OutboxEvent

    assert events_of("match.proposed")
    row = db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "match.proposed"))
    notify_match_event(db.session, from_envelope(row.one().payload))
    db.session.commit()
    jobs.deliver_due(db.session)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_send_time_refuses_an_internal_destination_after_resolving(guarded, host):
    pair = make_pair()
    with webhook_receiver() as receiver:
        port = receiver.base.rsplit(":", 1)[1]
        _stored_hook(pair.giver, f"http://{host}:{port}/hook")
        _propose_and_deliver()
        assert receiver.received == []  # nothing reached the internal listener
    row = db.session.scalars(sa.select(WebhookDelivery)).one()
    assert row.state != DeliveryState.SENT and row.response_code is None
    assert "refused destination" in (row.last_error or "")


def test_the_setting_lets_tests_reach_their_local_receiver(app):
    pair = make_pair()
    with webhook_receiver() as receiver:
        _stored_hook(pair.giver, receiver.base + "/hook")
        _propose_and_deliver()
        assert [r.path for r in receiver.received] == ["/hook"]
