"""Event names: `<noun>.<past-tense verb>`, also the routing keys."""

OFFER_POSTED = "offer.posted"
OFFER_UPDATED = "offer.updated"
OFFER_WITHDRAWN = "offer.withdrawn"
REQUEST_POSTED = "request.posted"
REQUEST_UPDATED = "request.updated"
REQUEST_WITHDRAWN = "request.withdrawn"
MATCH_PROPOSED = "match.proposed"
MATCH_APPROVED = "match.approved"
MATCH_REJECTED = "match.rejected"
MATCH_ACCEPTED = "match.accepted"
MATCH_DECLINED = "match.declined"
MATCH_HANDED_OFF = "match.handed_off"
MATCH_FULFILLED = "match.fulfilled"
MATCH_CANCELLED = "match.cancelled"
MATCH_EXPIRED = "match.expired"
LISTING_EXPIRING = "listing.expiring"
DIGEST_DUE = "digest.due"

ALL_EVENTS = frozenset(
    {
        OFFER_POSTED,
        OFFER_UPDATED,
        OFFER_WITHDRAWN,
        REQUEST_POSTED,
        REQUEST_UPDATED,
        REQUEST_WITHDRAWN,
        MATCH_PROPOSED,
        MATCH_APPROVED,
        MATCH_REJECTED,
        MATCH_ACCEPTED,
        MATCH_DECLINED,
        MATCH_HANDED_OFF,
        MATCH_FULFILLED,
        MATCH_CANCELLED,
        MATCH_EXPIRED,
        LISTING_EXPIRING,
        DIGEST_DUE,
    }
)


def listing_event(direction: str, verb: str) -> str:
    """Name the event for an offer or request change, e.g. ('offer', 'posted')."""
    name = f"{direction}.{verb}"
    if name not in ALL_EVENTS:
        raise ValueError(f"unknown event {name}")
    return name
