"""Digest subscriptions and sends: due periods, exactly-once claims, retries with backoff.

A digest for (subscription, period) exists once: its `digest_sends` row is inserted under a
unique key, so any number of schedulers insert it at most once, and its window of time is
fixed then (windows follow one another without gap or overlap). A worker sends only rows it
claimed by moving them from pending to sending with a conditional UPDATE that stamps its claim
token and a lease; a crashed worker's rows become claimable again when the lease runs out.
Delivered messages are recorded (committed) as soon as the SMTP server has taken them, and
every attempt at a period's digest carries the same Message-ID, so the copy a crash between
the two could cause is recognisable as one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from coalition.events import names
from coalition.events.outbox import emit
from coalition.models.base import utcnow
from coalition.models.catalog import Category, Kind
from coalition.models.digests import (
    DEFAULT_TIMEZONE,
    DigestFrequency,
    DigestScope,
    DigestSend,
    DigestSubscription,
    SendState,
)
from coalition.models.organizations import Organization, OrgStatus
from coalition.models.users import User
from coalition.notify import digest as render
from coalition.notify.mail import build_message, parse_smtp_url, send_after_commit
from coalition.security import TokenError, sign, unsign
from coalition.services.accounts import external_url, find_user, normalise_email
from coalition.services.audit import audit, diff
from coalition.services.errors import ServiceError
from coalition.sessions import Session

log = logging.getLogger("coalition.digests")

UNSUBSCRIBE_PURPOSE = "digest-unsubscribe"
CONFIRM_PURPOSE = "digest-confirm"
FILTER_FIELDS = (
    "kinds",
    "categories",
    "max_distance_km",
    "scope",
    "neutral_wording",
    "send_empty",
    "timezone",
)
# Hot-path updates run on the tables: Core statements skip the ORM's bulk-update
# bookkeeping, which costs more than the UPDATE itself when it runs once per message.
SENDS = cast(sa.Table, DigestSend.__table__)
SUBSCRIPTIONS = cast(sa.Table, DigestSubscription.__table__)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def setting(name: str) -> Any:
    """A digest setting from the app config (defaults in `coalition.config.digests_config`)."""
    return current_app.config[name]


# ---------------------------------------------------------------- periods


SCHEDULE_FIELDS = ("frequency", "weekday", "hour", "timezone", "confirmed_at", "last_period_end")


class Schedule(Protocol):
    """When a subscription's digests are due: a subscription, or a row of its columns."""

    @property
    def frequency(self) -> DigestFrequency:
        """Daily or weekly."""

    @property
    def weekday(self) -> int:
        """Monday is 0."""

    @property
    def hour(self) -> int:
        """Local hour."""

    @property
    def timezone(self) -> str:
        """IANA name."""

    @property
    def confirmed_at(self) -> datetime | None:
        """Since when it is due."""

    @property
    def last_period_end(self) -> datetime | None:
        """Where the next window starts."""


@dataclass(frozen=True)
class Period:
    """A calendar period in the recipient's zone, and when its digest is due."""

    key: str
    due_at: datetime  # UTC


@cache
def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name (cached)."""
    return ZoneInfo(name)


@cache
def timezone_names() -> frozenset[str]:
    """Every IANA time zone name."""
    return frozenset(available_timezones())


def period_key(frequency: DigestFrequency, day: date) -> str:
    """'2026-11-26' for a daily digest, '2026-W48' (ISO week) for a weekly one."""
    if frequency == DigestFrequency.DAILY:
        return day.isoformat()
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def period_length(frequency: DigestFrequency) -> timedelta:
    """A day or a week."""
    return timedelta(days=1 if frequency == DigestFrequency.DAILY else 7)


def local_moment(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """`hour`:00 on `day` in the zone, in UTC (a time skipped by DST lands an hour later)."""
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def current_period(
    frequency: DigestFrequency, weekday: int, hour: int, timezone: str, now: datetime
) -> Period:
    """The period `now` falls in, in the recipient's zone, and its due moment."""
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    day = today
    if frequency == DigestFrequency.WEEKLY:
        day = today - timedelta(days=today.weekday()) + timedelta(days=weekday)
    return Period(period_key(frequency, today), local_moment(day, hour, tz))


def due_period(sub: Schedule, now: datetime) -> Period | None:
    """The period whose digest is due now, if any (never one that began before subscribing)."""
    period = current_period(sub.frequency, sub.weekday, sub.hour, sub.timezone, now)
    if period.due_at > now or sub.confirmed_at is None or period.due_at < sub.confirmed_at:
        return None
    return period


def window_start(sub: Schedule, end: datetime) -> datetime:
    """Since the last digest, or one period back for the first."""
    return sub.last_period_end or end - period_length(sub.frequency)


def next_due(sub: Schedule, now: datetime) -> datetime | None:
    """When the next digest is due after `now` (for the settings page)."""
    tz = zone(sub.timezone)
    today = now.astimezone(tz).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if sub.frequency == DigestFrequency.WEEKLY and day.weekday() != sub.weekday:
            continue
        moment = local_moment(day, sub.hour, tz)
        if moment > now:
            return moment
    return None


# ---------------------------------------------------------------- settings and subscriptions


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
        raise ServiceError("Choose a time zone from the list.", "timezone")
    if not 0 <= values["hour"] <= 23:
        raise ServiceError("The hour is between 0 and 23.", "hour")
    if not 0 <= values["weekday"] <= 6:
        raise ServiceError("Choose a day of the week.", "weekday")
    if set(values["kinds"]) - {k.value for k in Kind}:
        raise ServiceError("Choose supplies, staffing or both.", "kinds")
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
        raise ServiceError("The distance must be more than 0 km.", "max_distance_km")
    if org_id is None:
        raise ServiceError("A distance needs an organization to measure from.", "max_distance_km")


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


def stop_subscription(session: Session, actor: Any, sub: DigestSubscription, how: str) -> bool:
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


# ---------------------------------------------------------------- email-only recipients


def add_recipient(
    session: Session,
    actor: Any,
    email: str,
    name: str,
    org: Organization | None,
    values: dict[str, Any],
) -> DigestSubscription:
    """Add someone without an account; they receive nothing until they confirm by email."""
    email = normalise_email(email)
    if find_user(session, email) is not None:
        raise ServiceError(
            "This person has an account: they subscribe from their own digest settings.", "email"
        )
    validate_settings(session, values, org.id if org else None)
    sub = session.scalar(sa.select(DigestSubscription).where(DigestSubscription.email == email))
    if sub is not None and not can_manage_recipient(actor, sub):  # never take another's over
        raise ServiceError("This address is a recipient of another organization.", "email")
    if sub is not None and sub.is_receiving:
        raise ServiceError("This address already receives the digest.", "email")
    if sub is None:
        sub = DigestSubscription(email=email)
        session.add(sub)
    _set_recipient(sub, actor, name, org, values)
    session.flush()
    audit(session, actor, "digest.recipient_added", sub, {"email": email, "name": name})
    send_after_commit(session, confirmation_message(sub))
    return sub


def _set_recipient(
    sub: DigestSubscription, actor: Any, name: str, org: Organization | None, values: dict[str, Any]
) -> None:
    """Fill an email-only subscription, unconfirmed."""
    for key, value in values.items():
        setattr(sub, key, value)
    sub.name = name
    sub.organization = org
    sub.added_by_id = getattr(actor, "id", None)
    sub.active = True
    sub.unsubscribed_at = None
    sub.confirmed_at = None
    sub.last_period_end = None
    sub.confirmation_sent_at = utcnow()


def confirmation_message(sub: DigestSubscription) -> Any:
    """The double opt-in email with its signed link."""
    token = sign(CONFIRM_PURPOSE, {"s": sub.id, "e": sub.email})
    org = sub.organization
    return build_message(
        sub.email or "",
        "Confirm your Coalition digest subscription",
        "digest_confirm",
        sub=sub,
        org_name=org.name if org else "the coalition",
        link=external_url("digests.confirm", token=token),
        days=setting("DIGEST_CONFIRM_MAX_AGE") // 86400,
        weekday=WEEKDAYS[sub.weekday],
    )


def subscription_from_confirm_token(session: Session, token: str) -> DigestSubscription:
    """The email-only subscription a confirmation link names; TokenError if it is not valid."""
    payload = unsign(CONFIRM_PURPOSE, token, setting("DIGEST_CONFIRM_MAX_AGE"))
    sub = session.get(DigestSubscription, _payload_id(payload))
    if sub is None or sub.email != payload.get("e"):
        raise TokenError("This link is not valid.")
    return sub


def confirm_recipient(session: Session, sub: DigestSubscription) -> bool:
    """Confirm once; False when it already was confirmed or was removed since."""
    if not sub.active:
        raise TokenError("This subscription was cancelled; ask for a new invitation.")
    if sub.confirmed_at is not None:
        return False
    sub.confirmed_at = utcnow()
    session.flush()
    audit(session, None, "digest.confirmed", sub, {"email": sub.email})
    return True


def _payload_id(payload: Any) -> int:
    """The subscription id inside a signed payload."""
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise TokenError("This link is not valid.")
    return int(payload["s"])


def managed_recipients(session: Session, actor: Any) -> list[DigestSubscription]:
    """The email-only recipients the actor manages: all for coordinators, their org's else."""
    query = (
        sa.select(DigestSubscription)
        .where(DigestSubscription.user_id.is_(None))
        .options(joinedload(DigestSubscription.organization))
        .order_by(DigestSubscription.active.desc(), DigestSubscription.email)
    )
    if not getattr(actor, "is_coordinator", False):
        query = query.where(DigestSubscription.organization_id == actor.organization_id)
    return list(session.scalars(query))


def can_manage_recipient(actor: Any, sub: DigestSubscription) -> bool:
    """Coordinators, and admins of the recipient's organization."""
    if getattr(actor, "is_coordinator", False):
        return True
    return (
        sub.user_id is None
        and bool(getattr(actor, "is_org_admin", False))
        and sub.organization_id == actor.organization_id
    )


# ---------------------------------------------------------------- unsubscribe links


def unsubscribe_token(subscription_id: int) -> str:
    """A signed, non-expiring token naming the subscription."""
    return sign(UNSUBSCRIBE_PURPOSE, {"s": subscription_id})


def subscription_from_unsubscribe_token(session: Session, token: str) -> DigestSubscription:
    """The subscription an unsubscribe link names; TokenError when forged."""
    sub = session.get(DigestSubscription, _payload_id(unsign(UNSUBSCRIBE_PURPOSE, token, None)))
    if sub is None:
        raise TokenError("This link is not valid.")
    return sub


# ---------------------------------------------------------------- scheduling


@dataclass(frozen=True)
class DueRow:
    """A digest that should exist for one subscription and one period."""

    subscription_id: int
    period_key: str
    period_start: datetime
    period_end: datetime
    recipient: str


def receiving_query() -> sa.Select[Any]:
    """Active, confirmed subscriptions whose reader may still act on the platform."""
    user_org, sub_org = aliased(Organization), aliased(Organization)
    user_ok = sa.or_(
        DigestSubscription.user_id.is_(None),
        sa.and_(
            User.disabled.is_(False),
            sa.or_(User.coalition_role.is_not(None), user_org.status == OrgStatus.ACTIVE),
        ),
    )
    org_ok = sa.or_(
        DigestSubscription.organization_id.is_(None), sub_org.status == OrgStatus.ACTIVE
    )
    return (
        sa.select(
            DigestSubscription.id,
            *(getattr(DigestSubscription, name) for name in SCHEDULE_FIELDS),
            sa.func.coalesce(User.email, DigestSubscription.email).label("address"),
        )
        .outerjoin(User, DigestSubscription.user_id == User.id)
        .outerjoin(user_org, User.organization_id == user_org.id)
        .outerjoin(sub_org, DigestSubscription.organization_id == sub_org.id)
        .where(
            DigestSubscription.active.is_(True),
            DigestSubscription.confirmed_at.is_not(None),
            user_ok,
            org_ok,
        )
    )


def due_rows(session: Session, now: datetime, force: bool = False) -> list[DueRow]:
    """The digests due now that do not exist yet; `force` takes every current period as due.

    A digest covers what happened from the end of the previous one until it is composed.
    """
    candidates = []
    for sub in session.execute(receiving_query()):
        period = (
            current_period(sub.frequency, sub.weekday, sub.hour, sub.timezone, now)
            if force
            else due_period(sub, now)
        )
        if period is not None:
            candidates.append(DueRow(sub.id, period.key, window_start(sub, now), now, sub.address))
    existing = _existing_keys(session, {row.period_key for row in candidates})
    return [r for r in candidates if (r.subscription_id, r.period_key) not in existing]


def _existing_keys(session: Session, keys: set[str]) -> set[tuple[int, str]]:
    """(subscription, period) pairs that already have a send row."""
    if not keys:
        return set()
    rows = session.execute(
        sa.select(DigestSend.subscription_id, DigestSend.period_key).where(
            DigestSend.period_key.in_(sorted(keys))
        )
    )
    return {(r[0], r[1]) for r in rows}


def schedule_due(session: Session, now: datetime, force: bool = False) -> int:
    """Insert the send rows of every digest due now; another scheduler's rows are kept.

    Each subscription's next window starts where the inserted one ends, so windows are
    contiguous whatever happens to a send; a retry sends its own window again.
    """
    inserted = insert_sends(session, due_rows(session, now, force), now)
    _advance(session, inserted)
    if inserted:
        data = {"count": len(inserted), "at": now.isoformat()}
        emit(session, names.DIGEST_DUE, data, "system:digests")
    return len(inserted)


def insert_sends(session: Session, rows: list[DueRow], now: datetime) -> list[DueRow]:
    """Insert pending rows; a row whose (subscription, period) exists already is skipped."""
    values = [
        {
            "subscription_id": r.subscription_id,
            "period_key": r.period_key,
            "period_start": r.period_start,
            "period_end": r.period_end,
            "recipient": r.recipient,
            "state": SendState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for r in rows
    ]
    if not values:
        return []
    insert = _dialect_insert(session)
    if insert is None:
        keys = _insert_one_by_one(session, values)
    else:
        statement = insert(DigestSend).on_conflict_do_nothing()
        returning = statement.returning(DigestSend.subscription_id, DigestSend.period_key)
        keys = {(r[0], r[1]) for r in session.execute(returning, values)}
    return [r for r in rows if (r.subscription_id, r.period_key) in keys]


def _advance(session: Session, rows: list[DueRow]) -> None:
    """Move each subscription's `last_period_end` to the end of its new window."""
    if not rows:
        return
    last = SUBSCRIPTIONS.c.last_period_end
    statement = (
        SUBSCRIPTIONS.update()
        .where(
            SUBSCRIPTIONS.c.id == sa.bindparam("sub_id"),
            sa.or_(last.is_(None), last < sa.bindparam("end")),
        )
        .values(last_period_end=sa.bindparam("end"))
    )
    session.execute(statement, [{"sub_id": r.subscription_id, "end": r.period_end} for r in rows])


def _dialect_insert(session: Session) -> Callable[..., Any] | None:
    """INSERT … ON CONFLICT DO NOTHING where the database has it."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    return None


def _insert_one_by_one(session: Session, values: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """Elsewhere: one savepoint per row, a duplicate key's IntegrityError skips it."""
    inserted = set()
    for row in values:
        try:
            with session.begin_nested():
                session.execute(sa.insert(DigestSend).values(**row))
            inserted.add((row["subscription_id"], row["period_key"]))
        except IntegrityError:
            continue
    return inserted


# ---------------------------------------------------------------- claiming


def _claimable(now: datetime) -> Any:
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
    """Move up to `limit` claimable rows to sending under a new token (conditional UPDATE).

    PostgreSQL locks the candidates first (`FOR UPDATE SKIP LOCKED`, so workers take
    different rows); the UPDATE re-checks the state, which is what holds on SQLite.
    """
    token = uuid.uuid4().hex
    lease_until = now + timedelta(seconds=lease_seconds)
    candidates = session.scalars(
        sa.select(DigestSend.id)
        .where(_claimable(now))
        .order_by(DigestSend.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        return Claim(token, [], lease_until)
    session.execute(
        SENDS.update()
        .where(SENDS.c.id.in_(candidates), _claimable(now))
        .values(
            state=SendState.SENDING,
            claim_token=token,
            lease_expires_at=lease_until,
            updated_at=now,
        )
    )
    ids = session.scalars(
        sa.select(DigestSend.id).where(DigestSend.claim_token == token).order_by(DigestSend.id)
    ).all()
    return Claim(token, list(ids), lease_until)


def extend_claim(session: Session, claim: Claim, now: datetime, lease_seconds: float) -> None:
    """Keep the rows of a long batch ours."""
    claim.lease_until = now + timedelta(seconds=lease_seconds)
    session.execute(
        sa.update(DigestSend)
        .where(DigestSend.claim_token == claim.token, DigestSend.state == SendState.SENDING)
        .values(lease_expires_at=claim.lease_until)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- outcomes


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
    delay = float(setting("DIGEST_RETRY_BASE")) * 2 ** max(attempts - 1, 0)
    return min(delay, float(setting("DIGEST_RETRY_MAX")))


def mark_retry(
    session: Session, send: SendRef, token: str, error: str, now: datetime, permanent: bool
) -> SendState:
    """Try again later with backoff, or give up after a permanent refusal or too many tries."""
    attempts = send.attempts + 1
    failed = permanent or attempts >= int(setting("DIGEST_MAX_ATTEMPTS"))
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


def retry_now(session: Session, actor: Any, send: DigestSend) -> None:
    """A coordinator sends a failed digest again."""
    if send.state != SendState.FAILED:
        raise ServiceError("Only failed digests can be sent again.", status=409)
    send.state = SendState.PENDING
    send.next_attempt_at = utcnow()
    send.attempts = 0
    session.flush()
    audit(session, actor, "digest.retried", send, {"period": send.period_key})


# ---------------------------------------------------------------- the run


@dataclass
class RunReport:
    """What one run did."""

    scheduled: int = 0
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Rows this run finished one way or another."""
        return self.sent + self.skipped + self.retrying + self.failed + self.released

    def as_dict(self) -> dict[str, int]:
        """Counts, for logs."""
        keys = ("scheduled", "sent", "skipped", "retrying", "failed", "released")
        return {k: getattr(self, k) for k in keys}


Progress = Callable[[int], None]


@dataclass(frozen=True)
class Job:
    """A claimed send and its reader as plain values, so commits do not reload anything."""

    id: int
    subscription_id: int
    period_key: str
    period_start: datetime
    period_end: datetime
    attempts: int
    reader: render.Recipient


JOB_COLUMNS = (
    DigestSend.id,
    DigestSend.subscription_id,
    DigestSend.period_key,
    DigestSend.period_start,
    DigestSend.period_end,
    DigestSend.attempts,
    DigestSend.recipient,
    sa.func.coalesce(User.name, DigestSubscription.name).label("name"),
    sa.func.coalesce(User.organization_id, DigestSubscription.organization_id).label("org_id"),
    User.coalition_role,
    *(getattr(DigestSubscription, name) for name in FILTER_FIELDS),
)


class DigestRun:
    """Schedule what is due, then claim, render and send it batch by batch; commits as it goes."""

    def __init__(
        self,
        session: Session,
        now: datetime | None = None,
        force: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.session = session
        self.now = now or utcnow()
        self.force = force
        self.progress = progress or (lambda n: None)
        self.app = current_app._get_current_object()  # type: ignore[attr-defined]
        self.links = render.Links(self.app)
        self.templates = render.Templates.load(self.app)
        self.snapshot: render.Snapshot | None = None
        self.report = RunReport()
        self.lease = float(setting("DIGEST_LEASE_SECONDS"))
        self.stopped = False

    def schedule(self) -> int:
        """Insert the rows due now and commit."""
        self.report.scheduled = schedule_due(self.session, self.now, self.force)
        self.session.commit()
        return self.report.scheduled

    def pending_count(self) -> int:
        """Rows this run could claim now."""
        query = sa.select(sa.func.count()).select_from(DigestSend).where(_claimable(self.now))
        return self.session.scalar(query) or 0

    def run(self) -> RunReport:
        """Schedule, then send."""
        self.schedule()
        return self.send()

    def send(self) -> RunReport:
        """Send until nothing claimable is left or the server is unreachable."""
        settings = parse_smtp_url(self.app.config["SMTP_URL"])
        timeout = float(setting("DIGEST_SMTP_TIMEOUT"))
        batch = int(setting("DIGEST_BATCH_SIZE"))
        with render.Mailer(settings, self.app.config["MAIL_FROM"], timeout) as mailer:
            while not self.stopped:
                claim = claim_batch(self.session, self.now, batch, self.lease)
                self.session.commit()
                if not claim.ids:
                    break
                self.deliver(claim, mailer)
        return self.report

    def deliver(self, claim: Claim, mailer: render.Mailer) -> None:
        """Render one claimed batch while a second thread sends it over one connection."""
        jobs = self.load(claim.ids)
        snapshot = self._snapshot(jobs)
        untried: list[Job] = []
        with render.Pipeline(mailer) as pipeline:
            for job in jobs:
                if pipeline.broken.is_set():
                    untried.append(job)
                    continue
                self._keep_lease(claim)
                if rendered := self._render_or_skip(snapshot, job, claim):
                    pipeline.submit(job, rendered)
                self._record_all(pipeline.outcomes(), claim, untried)
        self._record_all(pipeline.outcomes(), claim, untried)
        self._release(untried, claim)

    def _release(self, untried: list[Job], claim: Claim) -> None:
        """Put back what was not tried because the server went away, and stop the run."""
        if not untried:
            return
        until = self.now + timedelta(seconds=backoff(1))
        release(self.session, [j.id for j in untried], claim.token, until)
        self.session.commit()
        self.report.released += len(untried)
        self.progress(len(untried))
        self.stopped = True

    def load(self, ids: list[int]) -> list[Job]:
        """The claimed rows with their readers and filters, in one query."""
        query = (
            sa.select(*JOB_COLUMNS)
            .join(DigestSubscription, DigestSend.subscription_id == DigestSubscription.id)
            .outerjoin(User, DigestSubscription.user_id == User.id)
            .where(DigestSend.id.in_(ids))
            .order_by(DigestSend.id)
        )
        jobs = []
        for row in self.session.execute(query):
            reader = make_recipient(
                self.app, self.links, row.subscription_id, row, row.recipient, row.name,
                row.org_id, row.coalition_role,
            )  # fmt: skip
            jobs.append(
                Job(row.id, row.subscription_id, row.period_key, row.period_start,
                    row.period_end, row.attempts, reader)
            )  # fmt: skip
        return jobs

    def _snapshot(self, jobs: list[Job]) -> render.Snapshot:
        """The shared content, reused while it covers the batch's windows."""
        since = min(j.period_start for j in jobs)
        until = max(j.period_end for j in jobs)
        if self.snapshot is None or not self.snapshot.covers(since, until):
            if self.snapshot is not None:
                since, until = min(since, self.snapshot.since), max(until, self.snapshot.until)
            self.snapshot = render.Snapshot(self.session, self.links, since, until)
        return self.snapshot

    def _keep_lease(self, claim: Claim) -> None:
        """Extend the claim when half the lease is gone."""
        now = max(utcnow(), self.now)
        if (claim.lease_until - now).total_seconds() < self.lease / 2:
            extend_claim(self.session, claim, now, self.lease)
            self.session.commit()

    def _render_or_skip(
        self, snapshot: render.Snapshot, job: Job, claim: Claim
    ) -> render.Rendered | None:
        """The message to send; an empty digest or a rendering error is recorded instead."""
        try:
            rendered = self._render(snapshot, job)
        except Exception as exc:  # noqa: BLE001 - one bad digest must not stop the batch
            log.exception("digest %s could not be rendered", job.id)
            self._note_failure(job, claim, render.DeliveryError("transient", repr(exc)))
            self._commit()
            return None
        if rendered is None:
            mark_skipped(self.session, job, claim.token, self.now)
            self.report.skipped += 1
            self._commit()
        return rendered

    def _render(self, snapshot: render.Snapshot, job: Job) -> render.Rendered | None:
        """The message, or None for an empty digest nobody asked for."""
        content = render.build_content(snapshot, job.reader, job.period_start, job.period_end)
        if content.is_empty and not job.reader.send_empty:
            return None
        message_id = render.digest_message_id(self.app, job.subscription_id, job.period_key)
        return render.build_digest_message(self.app, self.templates, content, message_id)

    def _record_all(self, outcomes: list[render.Outcome], claim: Claim, untried: list[Job]) -> None:
        """Record what the SMTP server did with the messages finished since the last look.

        One commit covers them: they are already delivered, so waiting for the next one
        would only widen the window in which a crash could send a digest twice.
        """
        delivered, failed = [], 0
        for outcome in outcomes:
            if outcome.error is None:
                delivered.append((outcome.key, outcome.message.message_id))
            elif outcome.error.kind == render.UNTRIED:
                untried.append(outcome.key)
            else:
                self._note_failure(outcome.key, claim, outcome.error)
                self.stopped = self.stopped or outcome.error.kind == "connection"
                failed += 1
        mark_sent(self.session, delivered, claim.token, utcnow())
        self.report.sent += len(delivered)
        if delivered or failed:
            self._commit(len(delivered) + failed)

    def _note_failure(self, job: Job, claim: Claim, error: render.DeliveryError) -> None:
        """Retry later, or fail for good; visible on the coordinators' page."""
        permanent = error.kind == "permanent"
        state = mark_retry(self.session, job, claim.token, error.message, self.now, permanent)
        if state == SendState.FAILED:
            self.report.failed += 1
        else:
            self.report.retrying += 1
        self.report.errors.append(f"{job.reader.address}: {error.message}")

    def _commit(self, finished: int = 1) -> None:
        """Make outcomes durable before more messages go out."""
        self.session.commit()
        self.progress(finished)


def make_recipient(
    app: Any,
    links: render.Links,
    subscription_id: int,
    sub: Any,
    address: str,
    name: str,
    organization_id: int | None,
    coalition_role: Any,
) -> render.Recipient:
    """A reader with the filters of `sub` (a subscription or a row) and unsubscribe links."""
    token = unsubscribe_token(subscription_id)
    return render.Recipient(
        subscription_id=subscription_id,
        address=address,
        name=name,
        organization_id=organization_id,
        is_coordinator=coalition_role is not None,
        kinds=frozenset(sub.kinds or ()),
        categories=frozenset(sub.categories or ()),
        max_distance_km=sub.max_distance_km,
        scope=sub.scope,
        neutral=sub.neutral_wording,
        send_empty=sub.send_empty,
        timezone=sub.timezone,
        unsubscribe_url=links.url("unsubscribe", token=token),
        unsubscribe_mailto=render.unsubscribe_mailto(app, token),
    )


def recipient_for(
    app: Any, links: render.Links, sub: DigestSubscription, address: str = ""
) -> render.Recipient:
    """The reader of a subscription loaded with its user."""
    user = sub.user
    org_id = user.organization_id if user is not None else sub.organization_id
    role = user.coalition_role if user is not None else None
    address = address or sub.address
    return make_recipient(app, links, sub.id, sub, address, sub.display_name, org_id, role)


def dry_run(session: Session, now: datetime, force: bool = False) -> RunReport:
    """What a run would do now, rendered in memory; writes and sends nothing."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    rows = due_rows(session, now, force)
    report = RunReport(scheduled=len(rows))
    if rows:
        links, templates = render.Links(app), render.Templates.load(app)
        subs = _subscriptions(session, [r.subscription_id for r in rows])
        since = min(r.period_start for r in rows)
        snapshot = render.Snapshot(session, links, since, max(r.period_end for r in rows))
        for row in rows:
            recipient = recipient_for(app, links, subs[row.subscription_id], row.recipient)
            content = render.build_content(snapshot, recipient, row.period_start, row.period_end)
            if content.is_empty and not recipient.send_empty:
                report.skipped += 1
            else:
                render.build_digest_message(app, templates, content, "<dry-run@coalition.local>")
                report.sent += 1
    session.rollback()
    return report


def _subscriptions(session: Session, ids: list[int]) -> dict[int, DigestSubscription]:
    """Subscriptions with their readers, by id."""
    query = (
        sa.select(DigestSubscription)
        .where(DigestSubscription.id.in_(ids))
        .options(joinedload(DigestSubscription.user).joinedload(User.organization))
    )
    return {sub.id: sub for sub in session.scalars(query).unique()}


def run_digests(session: Session, now: datetime | None = None, force: bool = False) -> RunReport:
    """Send every digest due now (the worker's job and `flask digests send`)."""
    report = DigestRun(session, now, force).run()
    log.info("digests run %s", report.as_dict())
    return report


# ---------------------------------------------------------------- previews


def preview(session: Session, sub: DigestSubscription, now: datetime | None = None) -> Any:
    """The next digest as it would be now: (content, rendered message); writes nothing."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = now or utcnow()
    since = window_start(sub, now)
    links = render.Links(app)
    snapshot = render.Snapshot(session, links, since, now)
    recipient = recipient_for(app, links, sub)
    content = render.build_content(snapshot, recipient, since, now)
    message_id = render.digest_message_id(app, sub.id or 0, "preview")
    return content, render.build_digest_message(
        app, render.Templates.load(app), content, message_id
    )


def find_subscription(session: Session, email: str) -> DigestSubscription | None:
    """A user's or an email-only recipient's subscription by address."""
    email = normalise_email(email)
    user = find_user(session, email)
    if user is not None:
        return subscription_for_user(session, user) or draft_for_user(user)
    return session.scalar(sa.select(DigestSubscription).where(DigestSubscription.email == email))


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


def digests_job(ctx: Any) -> dict[str, int]:
    """The worker's periodic job (every minute): send what is due."""
    return run_digests(ctx.session, ctx.now).as_dict()
