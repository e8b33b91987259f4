"""Signed webhooks: each organization's URL gets a POST per match event concerning it.

The body is JSON; `X-Coalition-Signature: sha256=<hex>` is the HMAC-SHA256 of the raw body
with the webhook's secret. The body carries `timestamp` (Unix seconds, the same as the
`X-Coalition-Timestamp` header) so the signature covers the time too: receivers verify the
signature over the exact bytes received, then reject bodies whose timestamp is too old.
`X-Coalition-Delivery` and `Idempotency-Key` carry the event id, stable across retries and
redeliveries, for receivers to dedup: delivery is at least once (a send a dead worker left
half-done is sent again, and an org admin may redeliver a failed one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from coalition import outbound
from coalition.actors import Actor
from coalition.config import current_settings
from coalition.events.envelope import Event
from coalition.i18n import N_
from coalition.models.base import utcnow
from coalition.models.matches import Match
from coalition.models.notifications import DeliveryState, Webhook, WebhookDelivery
from coalition.models.organizations import Organization
from coalition.notify.outcome import Outcome
from coalition.services.audit import audit
from coalition.services.discretion import Viewer, match_view
from coalition.services.errors import ServiceError
from coalition.sessions import Session

SIGNATURE_HEADER = "X-Coalition-Signature"
TIMESTAMP_HEADER = "X-Coalition-Timestamp"
DELIVERY_HEADER = "X-Coalition-Delivery"
IDEMPOTENCY_HEADER = "Idempotency-Key"  # the same value: the common name receivers know
EVENT_HEADER = "X-Coalition-Event"
MAX_URL = 500


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the raw body with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether a signature header matches the body (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, body), signature or "")


def _jsonable(value: Any) -> Any:
    """Datetimes as ISO-8601, recursively."""
    return json.loads(json.dumps(value, default=lambda o: o.isoformat()))


def payload_for(event: Event, match: Match, org: Organization) -> dict[str, Any]:
    """What an organization's webhook is told: the match as that organization sees it."""
    view = match_view(match, Viewer(org_id=org.id), discreet=org.discreet_wording)
    extra = {k: event.data[k] for k in ("side", "complete") if k in event.data}
    return _jsonable(
        {
            "event": {
                "id": event.id,
                "type": event.type,
                "occurred_at": event.occurred_at,
                **extra,
            },
            "organization": org.slug,
            "match": view,
        }
    )


def body_for(delivery: WebhookDelivery, timestamp: int) -> bytes:
    """The exact bytes POSTed for one attempt."""
    document = {
        "delivery_id": delivery.id,
        "attempt": delivery.attempts,
        "timestamp": timestamp,
        **delivery.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def headers_for(delivery: WebhookDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    """Content type, event, delivery id, timestamp and signature."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "Coalition-Webhooks/1",
        EVENT_HEADER: delivery.event_type,
        DELIVERY_HEADER: delivery.event_id,
        IDEMPOTENCY_HEADER: delivery.event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(delivery.webhook.secret, body),
    }


def send_one(delivery: WebhookDelivery, now: datetime) -> Outcome:
    """POST one attempt with short timeouts; any 2xx is a success."""
    timestamp = int(now.timestamp())
    body = body_for(delivery, timestamp)
    settings = current_settings()
    timeout = settings.webhook_timeout
    allow_private = settings.webhook_allow_private
    try:
        response = outbound.http_session(allow_private).post(
            delivery.webhook.url,
            data=body,
            headers=headers_for(delivery, body, timestamp),
            timeout=(min(3.0, timeout), timeout),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        return Outcome(True, response_code=response.status_code)
    return Outcome(False, f"HTTP {response.status_code}", response.status_code)


# ---------------------------------------------------------------- settings (org admins)


REDELIVERABLE = (DeliveryState.FAILED, DeliveryState.INTERRUPTED)


def redeliver(session: Session, actor: Actor | None, delivery: WebhookDelivery) -> None:
    """Send a failed or interrupted delivery again, soon, with a full set of attempts (the
    same Idempotency-Key, so a receiver that got it already can tell)."""
    if delivery.state not in REDELIVERABLE:
        raise ServiceError(
            N_("Only failed or interrupted deliveries can be sent again."), status=409
        )
    old = delivery.state
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.last_error = ""
    session.flush()
    audit(
        session, actor, "webhook.redelivered", delivery.webhook, {"delivery": delivery.id,
        "state": [old, DeliveryState.PENDING]},
    )  # fmt: skip


def new_secret() -> str:
    """A fresh signing secret."""
    return secrets.token_hex(32)


def check_url(url: str) -> str:
    """An absolute http(s) URL, or a 422 naming the field."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ServiceError("Enter an http:// or https:// URL.", "url")
    if len(url) > MAX_URL:
        raise ServiceError(f"Keep the URL under {MAX_URL} characters.", "url")
    try:
        outbound.check_url(url, current_settings().webhook_allow_private)
    except outbound.RefusedDestination as exc:
        raise ServiceError(f"Webhooks cannot go to internal addresses ({exc}).", "url") from exc
    return url


def webhook_of(session: Session, org: Organization) -> Webhook | None:
    """The organization's webhook, if it set one."""
    from sqlalchemy import select

    return session.scalar(select(Webhook).where(Webhook.organization_id == org.id))


def save_webhook(
    session: Session,
    actor: Actor | None,
    org: Organization,
    url: str,
    active: bool,
    rotate: bool = False,
) -> Webhook:
    """Set the organization's webhook URL (a secret is made the first time or on rotation)."""
    url = check_url(url)
    hook = webhook_of(session, org)
    created = hook is None
    if hook is None:
        hook = Webhook(organization_id=org.id, url=url, secret=new_secret(), active=active)
        session.add(hook)
    else:
        hook.url, hook.active = url, active
        if rotate:
            hook.secret = new_secret()
    session.flush()
    changes = {"url": url, "active": active, "secret_rotated": bool(rotate and not created)}
    audit(session, actor, "webhook.created" if created else "webhook.updated", hook, changes)
    return hook


def delete_webhook(session: Session, actor: Actor | None, hook: Webhook) -> None:
    """Stop sending to a webhook (kept, deactivated, so its delivery log stays)."""
    hook.active = False
    session.flush()
    audit(session, actor, "webhook.deactivated", hook, {"url": hook.url})
