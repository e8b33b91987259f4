"""Event names (`<noun>.<past-tense verb>`, also the routing keys) and who takes which."""

from collections.abc import Mapping

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
STOCK_COUNTED = "stock.counted"

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
        STOCK_COUNTED,
    }
)

LISTING_EVENTS = (
    OFFER_POSTED,
    OFFER_UPDATED,
    OFFER_WITHDRAWN,
    REQUEST_POSTED,
    REQUEST_UPDATED,
    REQUEST_WITHDRAWN,
)
MATCH_EVENTS = (
    MATCH_PROPOSED,
    MATCH_APPROVED,
    MATCH_REJECTED,
    MATCH_ACCEPTED,
    MATCH_DECLINED,
    MATCH_HANDED_OFF,
    MATCH_FULFILLED,
    MATCH_CANCELLED,
    MATCH_EXPIRED,
)

# Handler group (one durable queue each) -> the event types bound to its queue. The broker
# topology is built from this table; worker/handlers.py binds a function to every entry.
ROUTES: Mapping[str, tuple[str, ...]] = {
    # proposals for a new or changed listing
    "matching": LISTING_EVENTS,
    # in-app notifications, pending emails and webhooks (sent after commit by a periodic job)
    "notifications": MATCH_EVENTS,
    "auto-approval": (MATCH_PROPOSED,),
    # the impact figures' summary table (impact_facts), one row per fulfilled match
    "impact": (MATCH_FULFILLED,),
    # stock on hand: a fulfilled transfer leaves the giver's stock and joins the receiver's
    "stock": (MATCH_FULFILLED,),
    # the forecast of an organization x category, after its stock changed
    "forecast": (STOCK_COUNTED,),
}


def listing_event(direction: str, verb: str) -> str:
    """Name the event for an offer or request change, e.g. ('offer', 'posted')."""
    name = f"{direction}.{verb}"
    if name not in ALL_EVENTS:
        raise ValueError(f"unknown event {name}")
    return name
