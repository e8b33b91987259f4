"""The full journey through a real worker: one organization offers naloxone, another
requests it, the worker proposes, a coordinator approves, both accept, hand-off and receipt
are confirmed. Quantities are checked at each step; emails arrive at a real SMTP server and
webhooks at a real HTTP receiver that verifies their signatures; the worker is restarted in
the middle (once cleanly, once after handling events but before sending, with every event
delivered again) and nothing is sent twice. Runs on filesystem:// and, in the server leg,
on RabbitMQ."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from coalition.events.names import ROUTES
from coalition.events.topology import groups_for
from coalition.extensions import db
from coalition.models.events import InboxMessage, OutboxEvent
from coalition.models.listings import Listing
from coalition.models.matches import Match
from coalition.models.notifications import (
    DUE_STATES,
    DeliveryState,
    EmailDelivery,
    WebhookDelivery,
)
from coalition.notify import webhooks
from coalition.services.accounts import issue_api_token
from tests.factories import CoordinatorFactory, OrgAdminFactory
from tests.matches_support import leaks, organizations
from tests.notify.servers import smtp_server, webhook_receiver
from tests.worker.support import bus_for, wait_for
from worker.handlers import HANDLERS
from worker.jobs import JOBS

BROKERS = ["filesystem", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)]
DELIVERY_JOBS = tuple(job for job in JOBS if job.name == "deliver-notifications")


@pytest.fixture(params=BROKERS)
def bus(request: pytest.FixtureRequest, app: Any, tmp_path: Path) -> Iterator[Any]:
    """The app wired to a fresh broker namespace, delivering notifications every 50 ms."""
    with bus_for(app, request.param, tmp_path) as wired:
        saved = app.config["NOTIFY_INTERVAL"]
        app.config["NOTIFY_INTERVAL"] = 0.05
        wired.use(HANDLERS)
        try:
            yield wired
        finally:
            app.config["NOTIFY_INTERVAL"] = saved


class Person:
    """Someone calling the API with their own token."""

    def __init__(self, client: Any, user: Any) -> None:
        _, token = issue_api_token(db.session, None, user=user)
        db.session.commit()
        self.client, self.user = client, user
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, url: str, json: Any = None) -> Any:
        response = self.client.post(url, json=json, headers=self.headers)
        assert response.status_code in (200, 201), (url, response.json)
        return response.json

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self.headers).json


def counts(listing_id: int) -> tuple[int, int, int]:
    """(available, reserved, fulfilled), read fresh."""
    listing = db.session.get(Listing, listing_id, populate_existing=True)
    return listing.available, listing.reserved, listing.fulfilled


def everything_handled() -> bool:
    """Every recorded event is handled by every group that subscribes to it, and no email
    or webhook waits to be sent."""
    db.session.expire_all()
    events = db.session.execute(sa.select(OutboxEvent.event_id, OutboxEvent.type)).all()
    done = set(db.session.execute(sa.select(InboxMessage.event_id, InboxMessage.handler)).all())
    for event_id, type_ in events:
        if any((event_id, group) not in done for group in groups_for(ROUTES, type_)):
            return False
    waiting = [
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(model)
            .where(model.state.in_((*DUE_STATES, DeliveryState.SENDING)))
        )
        for model in (EmailDelivery, WebhookDelivery)
    ]
    return waiting == [0, 0]


def settle() -> None:
    """Wait until the worker has handled and sent everything so far."""
    wait_for(everything_handled, timeout=60)


def test_naloxone_from_offer_to_receipt_notifies_everyone_exactly_once(bus, client):
    giver_org, receiver_org = organizations()
    giver = Person(client, OrgAdminFactory(organization=giver_org, name="Gia Giver"))
    receiver = Person(client, OrgAdminFactory(organization=receiver_org, name="Rey Receiver"))
    coordinator = Person(client, CoordinatorFactory(name="Cora Ordinator"))

    with smtp_server(bus.app) as inbox, webhook_receiver() as hooks:
        for org, path in ((giver_org, "/giver"), (receiver_org, "/receiver")):
            hook = webhooks.save_webhook(db.session, None, org, hooks.base + path, active=True)
            hooks.secrets[path] = hook.secret
        db.session.commit()

        worker = bus.start(HANDLERS, parts=("consume", "relay", "schedule"), jobs=DELIVERY_JOBS)
        offer = giver.post(
            "/api/v1/offers",
            {
                "kind": "supply",
                "category": "naloxone-nasal-4mg",
                "quantity": 120,
                "max_distance_km": 50,
                "expires_on": "2027-06-30",
            },
        )
        request = receiver.post(
            "/api/v1/requests",
            {
                "kind": "supply",
                "category": "naloxone-nasal-4mg",
                "quantity": 40,
                "urgency": "high",
                "max_distance_km": 30,
                "need_by": "2027-01-15",
            },
        )
        match_id = wait_for(lambda: db.session.scalar(sa.select(Match.id)), timeout=60)
        settle()
        assert counts(offer["id"]) == (80, 40, 0) and counts(request["id"]) == (0, 40, 0)
        base = f"/api/v1/matches/{match_id}"
        assert receiver.get(base)["offer"]["organization"] is None
        for person, org in ((giver, giver_org), (receiver, receiver_org)):
            (proposal,) = inbox.to(person.user.email)
            assert leaks(str(proposal), org) == []
        assert "Harlem Harm Reduction" in str(inbox.to(coordinator.user.email)[0])

        assert coordinator.post(f"{base}/approve")["state"] == "approved"
        settle()
        assert "Harlem Harm Reduction" in str(inbox.to(receiver.user.email)[-1])

        # restart: stop the worker cleanly; both organizations accept while it is down
        worker.request_stop()
        assert worker.join(30)
        giver.post(f"{base}/accept")
        assert receiver.post(f"{base}/accept")["state"] == "accepted"
        assert counts(offer["id"]) == (80, 40, 0) and counts(request["id"]) == (0, 40, 0)

        # a worker handles the events, then stops before sending anything ...
        handler_only = bus.start(HANDLERS, parts=("consume", "relay"), jobs=())
        wait_for(lambda: _handled("match.accepted", 2), timeout=60)
        assert _emails_in("match.accepted", DeliveryState.PENDING) == 2
        handler_only.request_stop()
        assert handler_only.join(30)
        sent_before = len(inbox.messages)
        # ... and every event is delivered once more to the next worker (as after a crash)
        db.session.execute(sa.update(OutboxEvent).values(published_at=None))
        db.session.commit()
        bus.start(HANDLERS, parts=("consume", "relay", "schedule"), jobs=DELIVERY_JOBS)
        settle()
        assert len(inbox.messages) == sent_before + 2  # only the two pending acceptances

        assert giver.post(f"{base}/handoff")["state"] == "handed_off"
        settle()
        assert receiver.post(f"{base}/receive")["state"] == "fulfilled"
        settle()
        assert counts(offer["id"]) == (80, 0, 40) and counts(request["id"]) == (0, 0, 40)

    subjects = collections.Counter((m["To"], m["Subject"]) for m in inbox.messages)
    assert all(n == 1 for n in subjects.values()), subjects
    per_person = collections.Counter(m["To"] for m in inbox.messages)
    assert per_person == {
        giver.user.email: 4,  # proposed, approved, receiver accepted, fulfilled
        receiver.user.email: 4,  # proposed, approved, giver accepted, handed off
        coordinator.user.email: 2,  # proposed, fulfilled
    }
    for path in ("/giver", "/receiver"):
        received = hooks.valid_for(path)
        types = collections.Counter(r.headers["X-Coalition-Event"] for r in received)
        assert types == {
            "match.proposed": 1,
            "match.approved": 1,
            "match.accepted": 2,
            "match.handed_off": 1,
            "match.fulfilled": 1,
        }, (path, types)
        deliveries = collections.Counter(r.headers["X-Coalition-Delivery"] for r in received)
        assert set(deliveries.values()) == {1}
    assert all(r.valid for r in hooks.received)


def _emails_in(event_type: str, state: DeliveryState) -> int:
    """Emails about one event type in one state."""
    db.session.expire_all()
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(EmailDelivery)
            .where(EmailDelivery.event_type == event_type, EmailDelivery.state == state)
        )
    )


def _handled(event_type: str, n: int) -> bool:
    """Whether `n` events of a type are in the notifications group's inbox."""
    db.session.expire_all()
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(InboxMessage)
            .join(OutboxEvent, OutboxEvent.event_id == InboxMessage.event_id)
            .where(InboxMessage.handler == "notifications", OutboxEvent.type == event_type)
        )
        == n
    )
