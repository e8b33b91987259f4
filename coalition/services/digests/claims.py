"""Send rows through their states: claimed under a token and a lease by one worker, then
sent, skipped, retried with backoff, failed or released; a lapsed lease makes a row
claimable again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from coalition.actors import Actor
from coalition.backoff import Backoff
from coalition.config import current_settings
from coalition.leases import claim_rows, extend_lease, lease_until, new_token
from coalition.models.base import utcnow
from coalition.models.digests import DigestSend, SendState
from coalition.services.audit import audit
from coalition.services.errors import ServiceError
from coalition.sessions import Session

log = logging.getLogger("coalition.digests")

# Hot-path updates run on the table: Core statements skip the ORM's bulk-update
# bookkeeping, which costs more than the UPDATE itself when it runs once per message.
SENDS = cast(sa.Table, DigestSend.__table__)


def claimable(now: datetime) -> Any:
    """Pending rows whose time has come, and sending rows whose claim lapsed."""
    return sa.or_(
        sa.and_(DigestSend.state == SendState.PENDING, DigestSend.next_attempt_at <= now),
        sa.and_(DigestSend.state == SendState.SENDING, DigestSend.lease_expires_at < now),
    )


@dataclass
class Claim:
    """Rows this worker alone may send until the lease ends."""

    token: str
    ids: list[int]
    lease_until: datetime


def claim_batch(session: Session, now: datetime, limit: int, lease_seconds: float) -> Claim:
    """Move up to `limit` claimable rows to sending under a new token (`coalition.leases`)."""
    token, until = new_token(), lease_until(now, lease_seconds)
    values = {
        DigestSend.state: SendState.SENDING,
        DigestSend.claim_token: token,
        DigestSend.lease_expires_at: until,
        DigestSend.updated_at: now,
    }
    ids = claim_rows(session, DigestSend.id, claimable(now), values, limit=limit)
    return Claim(token, ids, until)


def extend_claim(session: Session, claim: Claim, now: datetime, lease_seconds: float) -> None:
    """Keep the rows of a long batch ours."""
    claim.lease_until = lease_until(now, lease_seconds)
    held = sa.and_(DigestSend.claim_token == claim.token, DigestSend.state == SendState.SENDING)
    extend_lease(session, DigestSend.lease_expires_at, held, claim.lease_until)


def _finish(session: Session, send_id: int, token: str, **values: Any) -> bool:
    """Update a row we still hold; False when our claim was lost."""
    result = session.execute(
        SENDS.update()
        .where(
            SENDS.c.id == send_id,
            SENDS.c.claim_token == token,
            SENDS.c.state == SendState.SENDING,
        )
        .values(claim_token=None, lease_expires_at=None, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("digest send %s: claim lost before it was recorded", send_id)
        return False
    return True


class SendRef(Protocol):
    """A send row, or a plain copy of one."""

    @property
    def id(self) -> int:
        """The row's id."""

    @property
    def attempts(self) -> int:
        """Attempts so far."""


# Built once: recording deliveries is the hot path of a run.
MARK_SENT = (
    SENDS.update()
    .where(
        SENDS.c.id == sa.bindparam("b_id"),
        SENDS.c.claim_token == sa.bindparam("b_token"),
        SENDS.c.state == SendState.SENDING,
    )
    .values(
        state=SendState.SENT,
        sent_at=sa.bindparam("b_sent_at"),
        message_id=sa.bindparam("b_message_id"),
        attempts=SENDS.c.attempts + 1,
        last_error=None,
        claim_token=None,
        lease_expires_at=None,
        updated_at=sa.bindparam("b_updated_at"),
    )
)


def mark_sent(
    session: Session, delivered: list[tuple[SendRef, str]], token: str, now: datetime
) -> None:
    """The SMTP server took these messages (send, Message-ID): one statement for all."""
    if not delivered:
        return
    params = [
        {"b_id": send.id, "b_token": token, "b_message_id": message_id, "b_sent_at": now,
         "b_updated_at": now}
        for send, message_id in delivered
    ]  # fmt: skip
    result = session.execute(MARK_SENT, params)
    if result.rowcount != len(params):  # type: ignore[attr-defined]
        log.warning("%d digest sends lost their claim before being recorded", len(params))


def mark_skipped(session: Session, send: SendRef, token: str, now: datetime) -> None:
    """Nothing to say and the recipient did not ask for empty digests."""
    _finish(session, send.id, token, state=SendState.SKIPPED_EMPTY, updated_at=now)


def backoff(attempts: int) -> float:
    """Seconds before attempt number `attempts + 1`: base × 2^(attempts−1), capped."""
    retry = Backoff(current_settings().digest_retry_base, current_settings().digest_retry_max)
    return retry.seconds(attempts)


def mark_retry(
    session: Session, send: SendRef, token: str, error: str, now: datetime, permanent: bool
) -> SendState:
    """Try again later with backoff, or give up after a permanent refusal or too many tries."""
    attempts = send.attempts + 1
    failed = permanent or attempts >= current_settings().digest_max_attempts
    state = SendState.FAILED if failed else SendState.PENDING
    _finish(
        session,
        send.id,
        token,
        state=state,
        attempts=attempts,
        last_error=error[:2000],
        next_attempt_at=now + timedelta(seconds=backoff(attempts)),
        updated_at=now,
    )
    return state


def release(session: Session, send_ids: list[int], token: str, until: datetime) -> None:
    """Give untried rows back, to be tried at `until` (the server is unreachable)."""
    if not send_ids:
        return
    session.execute(
        sa.update(DigestSend)
        .where(DigestSend.id.in_(send_ids), DigestSend.claim_token == token)
        .values(
            state=SendState.PENDING,
            claim_token=None,
            lease_expires_at=None,
            next_attempt_at=until,
        )
        .execution_options(synchronize_session=False)
    )


def retry_now(session: Session, actor: Actor | None, send: DigestSend) -> None:
    """A coordinator sends a failed digest again."""
    if send.state != SendState.FAILED:
        raise ServiceError("Only failed digests can be sent again.", status=409)
    send.state = SendState.PENDING
    send.next_attempt_at = utcnow()
    send.attempts = 0
    session.flush()
    audit(session, actor, "digest.retried", send, {"period": send.period_key})


def recent_sends(session: Session, state: SendState | None, limit: int = 100) -> list[DigestSend]:
    """The newest sends, optionally in one state."""
    query = (
        sa.select(DigestSend)
        .options(joinedload(DigestSend.subscription))
        .order_by(DigestSend.updated_at.desc(), DigestSend.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(DigestSend.state == state)
    return list(session.scalars(query))


def send_counts(session: Session, since: datetime) -> dict[SendState, int]:
    """Sends by state, created since a moment."""
    rows = session.execute(
        sa.select(DigestSend.state, sa.func.count())
        .where(DigestSend.created_at >= since)
        .group_by(DigestSend.state)
    )
    counts = {state: 0 for state in SendState}
    counts.update({state: n for state, n in rows})
    return counts
