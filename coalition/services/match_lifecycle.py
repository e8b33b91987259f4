"""The match lifecycle: approve, reject, accept, decline, hand off, receive, cancel, expire.

Every transition is a conditional UPDATE on the state the caller expects
(`UPDATE matches SET state=:new WHERE id=:id AND state IN (:expected)`) whose row count is
checked, so two people acting at once end in one state and the other gets a 409. Quantities
move only through `coalition.services.stock`; each transition records its `match.*` event
in the outbox and an audit entry in the caller's transaction (flush, never commit).
Releasing transitions (reject, decline, cancel, expire) bump both listings' version and
record `offer.updated` / `request.updated` so that the worker proposes again.

Who may do what lives in `match_policy`, the queue and the ledger in `match_queries`, and
the auto-approval rule settings in `auto_approval_rules`; their public names are
re-exported here so callers keep importing from `match_lifecycle`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from coalition.actors import Actor
from coalition.config import current_settings
from coalition.events import names
from coalition.events.outbox import emit
from coalition.models.base import utcnow
from coalition.models.listings import ACTIVE_STATUSES, Listing
from coalition.models.matches import Match, MatchState
from coalition.models.notifications import AutoApprovalRule
from coalition.services import stock
from coalition.services.audit import audit
from coalition.services.auto_approval_rules import (
    create_rule,
    delete_rule,
    rule_for,
    set_rule_enabled,
)
from coalition.services.errors import ServiceError
from coalition.services.match_policy import (
    COORDINATOR,
    EITHER_ORG,
    OFFER_ORG,
    REQUEST_ORG,
    TRANSITIONS,
    Transition,
    authorize,
    available_actions,
    can_view,
    get_visible,
    may,
    roles_of,
    visible_query,
)
from coalition.services.match_queries import URGENCY_RANK, ledger, queue, urgency_order
from coalition.sessions import Session

__all__ = [
    "ACTIONS",
    "ACTIONS_WITH_REASON",
    "COORDINATOR",
    "EITHER_ORG",
    "MAX_REASON",
    "OFFER_ORG",
    "REQUEST_ORG",
    "TRANSITIONS",
    "URGENCY_RANK",
    "Transition",
    "accept",
    "approve",
    "auto_approve",
    "auto_approve_proposal",
    "available_actions",
    "can_view",
    "cancel",
    "close_for_listing",
    "create_rule",
    "decline",
    "delete_rule",
    "expire_holds",
    "expire_match",
    "get_visible",
    "hand_off",
    "hold_expired_ids",
    "ledger",
    "may",
    "perform",
    "queue",
    "receive",
    "reject",
    "rematch_listing",
    "roles_of",
    "rule_for",
    "set_rule_enabled",
    "urgency_order",
    "visible_query",
]

MAX_REASON = 1000
S = MatchState


# ---------------------------------------------------------------- the conditional update


def _conflict(match: Match, action: str) -> ServiceError:
    """The 409 for an action the match's current state does not allow."""
    return ServiceError(
        f"Match {match.id} cannot be {_past(action)}: it is {match.state.label} now.", status=409
    )


def _past(action: str) -> str:
    """'approve' → 'approved', for messages."""
    return {"handoff": "handed off", "receive": "received"}.get(action, f"{action.rstrip('e')}ed")


def _move(session: Session, match: Match, action: str, **values: Any) -> None:
    """Move the match to the action's state if it is still in an expected one; 409 if not."""
    transition = TRANSITIONS[action]
    result = session.execute(
        sa.update(Match)
        .where(Match.id == match.id, Match.state.in_(transition.from_states))
        .values(state=transition.to, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(match)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _conflict(match, action)


def _label(actor: Actor | None) -> str:
    """How an actor appears in events and `closed_by`."""
    return getattr(actor, "email", None) or "system"


def _record(session: Session, actor: Actor | None, match: Match, event: str, **data: Any) -> None:
    """Record the match's event in the outbox and its audit entry."""
    payload = {
        "id": match.id,
        "offer_id": match.offer_id,
        "request_id": match.request_id,
        "quantity": match.quantity,
        "state": match.state.value,
        **data,
    }
    emit(session, event, payload, None if actor is None else _label(actor))
    audit(session, actor, event, match, {"state": match.state.value, **data})


def _reason(reason: str | None, required: bool) -> str:
    """A trimmed reason; 422 when required and blank or when too long."""
    text = (reason or "").strip()
    if required and not text:
        raise ServiceError("Give a reason.", "reason")
    if len(text) > MAX_REASON:
        raise ServiceError(f"Keep the reason under {MAX_REASON} characters.", "reason")
    return text


def _hold_deadline(now: datetime) -> datetime:
    """When a hold that starts now expires if nobody acts on it."""
    return now + timedelta(hours=current_settings().match_hold_hours)


# ---------------------------------------------------------------- transitions


def approve(session: Session, actor: Actor | None, match: Match) -> Match:
    """A coordinator approves a proposal: names and contacts are now shared with both sides."""
    authorize(actor, match, "approve")
    return _approve(session, actor, match)


def _approve(
    session: Session, actor: Actor | None, match: Match, rule: AutoApprovalRule | None = None
) -> Match:
    """Approve without checking who asks (coordinators, or an auto-approval rule)."""
    now = utcnow()
    _move(
        session,
        match,
        "approve",
        decided_by_id=getattr(actor, "id", None),
        decided_at=now,
        shared_at=now,
        hold_expires_at=_hold_deadline(now),
    )
    extra = {"auto_rule": rule.id} if rule is not None else {}
    _record(session, actor, match, names.MATCH_APPROVED, **extra)
    return match


def reject(session: Session, actor: Actor | None, match: Match, reason: str | None) -> Match:
    """A coordinator rejects a proposal (with a reason); its stock is released."""
    authorize(actor, match, "reject")
    text = _reason(reason, required=True)
    now = utcnow()
    _move(
        session,
        match,
        "reject",
        reason=text,
        decided_by_id=getattr(actor, "id", None),
        decided_at=now,
        closed_at=now,
        closed_by=_label(actor),
    )
    _release(session, actor, match)
    _record(session, actor, match, names.MATCH_REJECTED, reason=text)
    return match


def accept(session: Session, actor: Actor | None, match: Match) -> Match:
    """One side accepts an approved match; once both have, it is accepted."""
    authorize(actor, match, "accept")
    side = OFFER_ORG if OFFER_ORG in roles_of(actor, match) else REQUEST_ORG
    column = Match.offer_accepted_at if side == OFFER_ORG else Match.request_accepted_at
    result = session.execute(
        sa.update(Match)
        .where(Match.id == match.id, Match.state == S.APPROVED, column.is_(None))
        .values({column: utcnow(), Match.updated_at: utcnow()})
        .execution_options(synchronize_session=False)
    )
    session.refresh(match)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _accept_conflict(match, side)
    complete = _complete_acceptance(session, match)
    side_name = "offer" if side == OFFER_ORG else "request"
    _record(session, actor, match, names.MATCH_ACCEPTED, side=side_name, complete=complete)
    return match


def _accept_conflict(match: Match, side: str) -> ServiceError:
    """409: this side already accepted, or the match is no longer approved."""
    accepted = match.offer_accepted_at if side == OFFER_ORG else match.request_accepted_at
    if match.state == S.APPROVED and accepted is not None:
        return ServiceError("Your organization has already accepted this match.", status=409)
    return _conflict(match, "accept")


def _complete_acceptance(session: Session, match: Match) -> bool:
    """Move an approved match that both sides accepted to accepted; True when it moved."""
    result = session.execute(
        sa.update(Match)
        .where(
            Match.id == match.id,
            Match.state == S.APPROVED,
            Match.offer_accepted_at.is_not(None),
            Match.request_accepted_at.is_not(None),
        )
        .values(state=S.ACCEPTED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(match)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def decline(
    session: Session, actor: Actor | None, match: Match, reason: str | None = None
) -> Match:
    """Either side declines an approved match; its stock is released."""
    authorize(actor, match, "decline")
    return _close(session, actor, match, "decline", _reason(reason, required=False))


def cancel(session: Session, actor: Actor | None, match: Match, reason: str | None = None) -> Match:
    """Either side or a coordinator cancels an open match; its stock is released."""
    authorize(actor, match, "cancel")
    return _close(session, actor, match, "cancel", _reason(reason, required=False))


def _close(session: Session, actor: Actor | None, match: Match, action: str, reason: str) -> Match:
    """End an open match without a transfer: release, re-match, record."""
    _move(session, match, action, reason=reason, closed_at=utcnow(), closed_by=_label(actor))
    _release(session, actor, match)
    _record(session, actor, match, TRANSITIONS[action].event, reason=reason)
    return match


def hand_off(session: Session, actor: Actor | None, match: Match) -> Match:
    """The giving organization says it handed the quantity over."""
    authorize(actor, match, "handoff")
    _move(session, match, "handoff", handed_off_at=utcnow())
    _record(session, actor, match, names.MATCH_HANDED_OFF)
    return match


def receive(session: Session, actor: Actor | None, match: Match) -> Match:
    """The receiving organization confirms receipt: the match is fulfilled."""
    authorize(actor, match, "receive")
    now = utcnow()
    _move(session, match, "receive", received_at=now, closed_at=now, closed_by=_label(actor))
    stock.fulfil(session, match)
    _record(session, actor, match, names.MATCH_FULFILLED)
    return match


ACTIONS = {
    "approve": approve,
    "accept": accept,
    "handoff": hand_off,
    "receive": receive,
}
ACTIONS_WITH_REASON = {"reject": reject, "decline": decline, "cancel": cancel}


def perform(
    session: Session, actor: Actor | None, match: Match, action: str, reason: str | None = None
) -> Match:
    """Run a named action (as the web and API name them) on a match."""
    if action in ACTIONS_WITH_REASON:
        return ACTIONS_WITH_REASON[action](session, actor, match, reason)
    if action in ACTIONS:
        return ACTIONS[action](session, actor, match)
    raise ServiceError(f"Unknown action {action}.", status=404)


# ---------------------------------------------------------------- releasing and re-matching


def _release(session: Session, actor: Actor | None, match: Match) -> None:
    """Give the held quantity back and ask the worker to match both listings again."""
    stock.release(session, match)
    for listing_id in (match.offer_id, match.request_id):
        rematch_listing(session, listing_id, None if actor is None else _label(actor))


def rematch_listing(session: Session, listing_id: int, actor: str | None) -> None:
    """Bump an active listing's version and record `<direction>.updated` (reason released)."""
    listing = session.get(Listing, listing_id, populate_existing=True)
    if listing is None or listing.status not in ACTIVE_STATUSES:
        return
    session.execute(
        sa.update(Listing)
        .where(Listing.id == listing_id)
        .values(version=Listing.version + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(listing)
    event = names.listing_event(listing.direction.value, "updated")
    emit(
        session, event, {"id": listing.id, "version": listing.version, "reason": "released"}, actor
    )


def close_for_listing(session: Session, listing: Listing, reason: str) -> int:
    """Cancel the proposed and approved matches of a listing that was withdrawn or expired.

    Matches both sides accepted go on to hand-off: people have committed to them.
    """
    query = sa.select(Match).where(
        sa.or_(Match.offer_id == listing.id, Match.request_id == listing.id),
        Match.state.in_((S.PROPOSED, S.APPROVED)),
    )
    closed = 0
    for match in session.scalars(query).all():
        try:
            _close(session, None, match, "cancel", reason)
        except ServiceError:  # decided by someone else meanwhile
            continue
        closed += 1
    return closed


# ---------------------------------------------------------------- holds and auto-approval


def hold_expired_ids(session: Session, now: datetime) -> list[int]:
    """Proposed or approved matches whose hold ran out with nobody acting on them."""
    hold = timedelta(hours=current_settings().match_hold_hours)
    return list(
        session.scalars(
            sa.select(Match.id)
            .where(
                Match.state.in_((S.PROPOSED, S.APPROVED)),
                sa.or_(
                    Match.hold_expires_at <= now,
                    sa.and_(Match.hold_expires_at.is_(None), Match.created_at <= now - hold),
                ),
            )
            .order_by(Match.id)
        )
    )


def expire_match(session: Session, match: Match) -> bool:
    """Expire one held match (the system acts); False when someone acted first."""
    try:
        _move(session, match, "expire", closed_at=utcnow(), closed_by="system")
    except ServiceError:
        return False
    _release(session, None, match)
    _record(session, None, match, names.MATCH_EXPIRED)
    return True


def expire_holds(session: Session, now: datetime | None = None) -> int:
    """Expire every hold nobody acted on within MATCH_HOLD_HOURS; return how many."""
    expired = 0
    for match_id in hold_expired_ids(session, now or utcnow()):
        match = session.get(Match, match_id)
        if match is not None and expire_match(session, match):
            expired += 1
    return expired


def auto_approve(session: Session, match: Match) -> bool:
    """Approve a proposal that an auto-approval rule covers; True when it did."""
    if match.state != S.PROPOSED:
        return False
    rule = rule_for(session, match)
    if rule is None:
        return False
    try:
        _approve(session, None, match, rule)
    except ServiceError:
        return False
    return True


def auto_approve_proposal(session: Session, match_id: int) -> bool:
    """Approve a proposal if a rule covers it (the worker's `auto-approval` group calls this)."""
    match = session.get(Match, match_id)
    return match is not None and auto_approve(session, match)
