"""Who may do what to a match: the roles, the transition table, and which matches one sees.

`TRANSITIONS` says, for every action, the states it starts from, the roles that may take
it, the state it leads to and the event it records; `coalition.services.match_lifecycle`
carries the actions out.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coalition.actors import Actor
from coalition.events import names
from coalition.models.listings import Listing
from coalition.models.matches import OPEN_STATES, Match, MatchState
from coalition.services.errors import ServiceError
from coalition.sessions import Session

COORDINATOR = "coordinator"
OFFER_ORG = "offer_org"
REQUEST_ORG = "request_org"
EITHER_ORG = frozenset({OFFER_ORG, REQUEST_ORG})
S = MatchState


@dataclass(frozen=True)
class Transition:
    """Who may take an action, from which states, and the state and event it leads to."""

    from_states: tuple[MatchState, ...]
    who: frozenset[str]
    to: MatchState
    event: str
    label: str


TRANSITIONS: dict[str, Transition] = {
    "approve": Transition(
        (S.PROPOSED,), frozenset({COORDINATOR}), S.APPROVED, names.MATCH_APPROVED, "Approve"
    ),
    "reject": Transition(
        (S.PROPOSED,), frozenset({COORDINATOR}), S.REJECTED, names.MATCH_REJECTED, "Reject"
    ),
    "accept": Transition((S.APPROVED,), EITHER_ORG, S.ACCEPTED, names.MATCH_ACCEPTED, "Accept"),
    "decline": Transition((S.APPROVED,), EITHER_ORG, S.DECLINED, names.MATCH_DECLINED, "Decline"),
    "handoff": Transition(
        (S.ACCEPTED,), frozenset({OFFER_ORG}), S.HANDED_OFF, names.MATCH_HANDED_OFF, "Handed off"
    ),
    "receive": Transition(
        (S.HANDED_OFF,), frozenset({REQUEST_ORG}), S.FULFILLED, names.MATCH_FULFILLED, "Received"
    ),
    "cancel": Transition(
        OPEN_STATES, EITHER_ORG | {COORDINATOR}, S.CANCELLED, names.MATCH_CANCELLED, "Cancel"
    ),
    # nobody may expire a match by hand: the hold-expiry job does it as the system
    "expire": Transition(
        (S.PROPOSED, S.APPROVED), frozenset(), S.EXPIRED, names.MATCH_EXPIRED, "Expire"
    ),
}


# ---------------------------------------------------------------- who may do what


def roles_of(actor: Actor | None, match: Match) -> set[str]:
    """The roles the actor holds on this match: coordinator, offer_org, request_org."""
    roles: set[str] = set()
    if actor is None or not getattr(actor, "is_authenticated", False):
        return roles
    if getattr(actor, "is_coordinator", False):
        roles.add(COORDINATOR)
    org_id = getattr(actor, "organization_id", None)
    if org_id is not None and org_id == match.offer.organization_id:
        roles.add(OFFER_ORG)
    if org_id is not None and org_id == match.request.organization_id:
        roles.add(REQUEST_ORG)
    return roles


def can_view(actor: Actor | None, match: Match) -> bool:
    """Coordinators and members of either organization see a match."""
    return bool(roles_of(actor, match))


def may(actor: Actor | None, match: Match, action: str) -> bool:
    """Whether the actor's role allows the action (whatever the state)."""
    return bool(roles_of(actor, match) & TRANSITIONS[action].who)


def available_actions(actor: Actor | None, match: Match) -> list[str]:
    """The actions the actor may take on the match in its current state."""
    return [
        action
        for action, transition in TRANSITIONS.items()
        if match.state in transition.from_states
        and may(actor, match, action)
        and not (action == "accept" and _already_accepted(actor, match))
    ]


def _already_accepted(actor: Actor | None, match: Match) -> bool:
    """Whether the actor's side has already accepted."""
    roles = roles_of(actor, match)
    if OFFER_ORG in roles:
        return match.offer_accepted_at is not None
    return REQUEST_ORG in roles and match.request_accepted_at is not None


def authorize(actor: Actor | None, match: Match, action: str) -> None:
    """403 unless the actor's role allows the action."""
    if not may(actor, match, action):
        raise ServiceError("You are not allowed to do that to this match.", status=403)


# ---------------------------------------------------------------- which matches one sees


def get_visible(session: Session, actor: Actor | None, match_id: int) -> Match:
    """A match the actor may see; 404 otherwise (existence is not revealed)."""
    match = session.get(Match, match_id)
    if match is None or not can_view(actor, match):
        raise ServiceError("No such match.", status=404)
    return match


def visible_query(actor: Actor | None) -> sa.Select[Match]:
    """Every match for coordinators; for anyone else, those of their organization."""
    query = sa.select(Match)
    if getattr(actor, "is_coordinator", False):
        return query
    offer, request = aliased(Listing), aliased(Listing)
    org_id = getattr(actor, "organization_id", None)
    return (
        query.join(offer, Match.offer_id == offer.id)
        .join(request, Match.request_id == request.id)
        .where(sa.or_(offer.organization_id == org_id, request.organization_id == org_id))
    )
