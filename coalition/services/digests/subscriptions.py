"""A member's own digest subscription: defaults, validated settings, subscribe, stop,
and the signed unsubscribe links every digest carries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coalition.actors import Actor
from coalition.i18n import N_
from coalition.models.base import utcnow
from coalition.models.catalog import Category, Kind
from coalition.models.digests import (
    DEFAULT_TIMEZONE,
    DigestFrequency,
    DigestScope,
    DigestSubscription,
)
from coalition.models.organizations import Organization
from coalition.models.users import User
from coalition.security import TokenError, sign, unsign
from coalition.services.accounts import find_user, normalise_email
from coalition.services.audit import audit, diff
from coalition.services.digests.periods import timezone_names
from coalition.services.digests.settings import UNSUBSCRIBE_PURPOSE
from coalition.services.errors import ServiceError
from coalition.sessions import Session


def default_timezone(org: Organization | None) -> str:
    """The organization's zone, or New York's."""
    return org.timezone if org is not None and org.timezone else DEFAULT_TIMEZONE


def subscription_for_user(session: Session, user: User) -> DigestSubscription | None:
    """The user's own subscription, if they ever had one (never one of nobody's)."""
    if user.id is None:  # `user_id == None` would match every email-only recipient
        return None
    return session.scalar(
        sa.select(DigestSubscription).where(DigestSubscription.user_id == user.id)
    )


def draft_for_user(user: User) -> DigestSubscription:
    """Unsaved defaults for a user: daily at 08:00 in their organization's zone."""
    return DigestSubscription(
        user=user,
        user_id=user.id,
        frequency=DigestFrequency.DAILY,
        weekday=0,
        hour=8,
        timezone=default_timezone(user.organization),
        kinds=[],
        categories=[],
        scope=DigestScope.COALITION,
        neutral_wording=bool(user.organization and user.organization.discreet_wording),
        send_empty=False,
        active=True,
    )


def validate_settings(session: Session, values: dict[str, Any], org_id: int | None) -> None:
    """Raise ServiceError naming the field when a setting is not acceptable."""
    if values["timezone"] not in timezone_names():
        raise ServiceError(N_("Choose a time zone from the list."), "timezone")
    if not 0 <= values["hour"] <= 23:
        raise ServiceError(N_("The hour is between 0 and 23."), "hour")
    if not 0 <= values["weekday"] <= 6:
        raise ServiceError(N_("Choose a day of the week."), "weekday")
    if set(values["kinds"]) - {k.value for k in Kind}:
        raise ServiceError(N_("Choose supplies, staffing or both."), "kinds")
    _validate_categories(session, values["categories"])
    _validate_distance(values["max_distance_km"], org_id)


def _validate_categories(session: Session, slugs: list[str]) -> None:
    """Every category must exist."""
    known = set(session.scalars(sa.select(Category.slug).where(Category.slug.in_(slugs))))
    if unknown := sorted(set(slugs) - known):
        raise ServiceError(f"Unknown category: {unknown[0]}.", "categories")


def _validate_distance(distance: float | None, org_id: int | None) -> None:
    """A positive distance, and only for someone whose organization gives the centre."""
    if distance is None:
        return
    if distance <= 0:
        raise ServiceError(N_("The distance must be more than 0 km."), "max_distance_km")
    if org_id is None:
        raise ServiceError(
            N_("A distance needs an organization to measure from."), "max_distance_km"
        )


def save_user_subscription(
    session: Session, user: User, values: dict[str, Any]
) -> DigestSubscription:
    """Create or change the user's subscription; subscribing again reactivates it."""
    validate_settings(session, values, user.organization_id)
    sub = subscription_for_user(session, user)
    if sub is None:
        sub = DigestSubscription(user_id=user.id, confirmed_at=utcnow(), **values)
        session.add(sub)
        session.flush()
        audit(session, user, "digest.subscribed", sub, values)
        return sub
    if not sub.active:  # back after a pause: start afresh, not from the last digest
        values = {**values, "last_period_end": None, "confirmed_at": utcnow()}
    changes = diff(sub, {**values, "active": True, "unsubscribed_at": None})
    session.flush()
    if changes:
        audit(session, user, "digest.updated", sub, changes)
    return sub


def stop_subscription(
    session: Session, actor: Actor | None, sub: DigestSubscription, how: str
) -> bool:
    """Unsubscribe; False when it already was."""
    result = session.execute(
        sa.update(DigestSubscription)
        .where(DigestSubscription.id == sub.id, DigestSubscription.active.is_(True))
        .values(active=False, unsubscribed_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(sub)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    audit(session, actor, f"digest.unsubscribed.{how}", sub, {"address": sub.address})
    return True


def unsubscribe_token(subscription_id: int) -> str:
    """A signed, non-expiring token naming the subscription."""
    return sign(UNSUBSCRIBE_PURPOSE, {"s": subscription_id})


def subscription_from_unsubscribe_token(session: Session, token: str) -> DigestSubscription:
    """The subscription an unsubscribe link names; TokenError when forged."""
    sub = session.get(DigestSubscription, payload_id(unsign(UNSUBSCRIBE_PURPOSE, token, None)))
    if sub is None:
        raise TokenError("This link is not valid.")
    return sub


def payload_id(payload: Any) -> int:
    """The subscription id inside a signed payload."""
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise TokenError("This link is not valid.")
    return int(payload["s"])


def find_subscription(session: Session, email: str) -> DigestSubscription | None:
    """A user's or an email-only recipient's subscription by address."""
    email = normalise_email(email)
    user = find_user(session, email)
    if user is not None:
        return subscription_for_user(session, user) or draft_for_user(user)
    return session.scalar(sa.select(DigestSubscription).where(DigestSubscription.email == email))
