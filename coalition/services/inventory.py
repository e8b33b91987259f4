"""Stock on hand: record counts, deliveries and distributions, replay them into levels,
flag what looks wrong, and move stock when a transfer is fulfilled.

Every entry is a new row of `stock_entries`; levels are replayed from them in the order they
were observed (see `coalition.models.inventory` for what each entry type does). A count much
higher than the level it replaces, or a transfer out that leaves less than nothing, is kept
and flagged for a second look, never silently accepted. Flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from coalition.actors import Actor
from coalition.events import names
from coalition.events.outbox import emit
from coalition.i18n import N_
from coalition.models.base import utcnow
from coalition.models.catalog import Category, Kind
from coalition.models.inventory import EntryType, StockEntry, StockFlag
from coalition.models.listings import Listing
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import Organization
from coalition.services.errors import ServiceError
from coalition.services.listing_input import CategoryField, WholeNumber, load_errors
from coalition.sessions import Session

MAX_UNITS = 10_000_000
# a count is flagged when it is more than JUMP_FACTOR times the level it replaces plus JUMP_MIN
JUMP_FACTOR = 3
JUMP_MIN = 100
NOT_NEGATIVE = N_("must be a whole number, 0 or more")
SUPPLIES_ONLY = N_("stock is counted for supplies only")
NOT_IN_FUTURE = N_("cannot be in the future")
PERIOD_NEEDS_DISTRIBUTED = N_("give what was distributed in that period")
PERIOD_ORDER = N_("must be on or before the count date")
LOT_TOO_LONG = N_("at most 60 characters")
ENTERED_BY_HAND = (EntryType.COUNT, EntryType.DELIVERY, EntryType.DISTRIBUTED)
UNLABELLED: tuple[str, date | None] = ("", None)


class StockInvalid(ServiceError):
    """The input breaks a stock rule; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Some fields are not valid.", next(iter(errors), None), 422)
        self.errors = errors


# ---------------------------------------------------------------- input


def _count_field(required: bool) -> WholeNumber:
    """A number of units, 0 or more."""
    return WholeNumber(
        required=required,
        validate=validate.Range(min=0, max=MAX_UNITS, error=NOT_NEGATIVE),
        error_messages={"invalid": NOT_NEGATIVE},
        metadata={"description": "units"},
    )


class StockEntrySchema(Schema):
    """A count (the default), a delivery or a distribution report for one category."""

    org = fields.String(metadata={"description": "organization slug (coordinators only)"})
    entry_type = fields.String(
        load_default=EntryType.COUNT.value,
        validate=validate.OneOf([t.value for t in ENTERED_BY_HAND]),
        metadata={"description": "count (sets the level), delivery (adds) or distributed"},
    )
    category = CategoryField(required=True, metadata={"description": "category slug"})
    quantity = _count_field(required=True)
    lot = fields.String(load_default="", validate=validate.Length(max=60, error=LOT_TOO_LONG))
    expires_on = fields.Date(allow_none=True, metadata={"description": "lot expiry"})
    counted_on = fields.Date(
        allow_none=True, metadata={"description": "day of the count (default today)"}
    )
    distributed = _count_field(required=False)
    period_start = fields.Date(
        allow_none=True,
        metadata={"description": "first day of the period `distributed` covers"},
    )
    note = fields.String(load_default="", validate=validate.Length(max=300))

    @validates_schema
    def _rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Supplies only; a period needs a distribution and ends on the count's day."""
        errors: dict[str, list[str]] = {}
        category = data.get("category")
        if isinstance(category, Category) and category.kind != Kind.SUPPLY:
            errors["category"] = [SUPPLIES_ONLY]
        distribution = data.get("entry_type") == EntryType.DISTRIBUTED.value
        if data.get("period_start") and data.get("distributed") is None and not distribution:
            errors["distributed"] = [PERIOD_NEEDS_DISTRIBUTED]
        start, day = data.get("period_start"), data.get("counted_on")
        if start and day and start > day:
            errors["period_start"] = [PERIOD_ORDER]
        if errors:
            raise ValidationError(errors)


def load_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """Checked input of one entry, or StockInvalid with every field's messages."""
    try:
        return StockEntrySchema().load(raw)
    except ValidationError as exc:
        raise StockInvalid(load_errors(exc)) from exc


# ---------------------------------------------------------------- who may count


def acting_org(
    session: Session, actor: Actor | None, slug: str | None, org: Organization | None = None
) -> Organization:
    """The organization whose stock this is; members count their own, coordinators any."""
    if org is None and slug:
        org = session.scalar(sa.select(Organization).where(Organization.slug == slug))
        if org is None:
            raise StockInvalid({"org": [N_("unknown organization")]})
    if org is None:
        org = getattr(actor, "organization", None)
    if org is None:
        raise StockInvalid({"org": [N_("name the organization this stock belongs to")]})
    if actor is not None and not _may_act(actor, org.id):
        raise ServiceError(N_("You can only record stock for your own organization."), status=403)
    return org


def _may_act(actor: Actor, org_id: int) -> bool:
    """Coordinators act for every organization; members and org tokens for their own."""
    return bool(getattr(actor, "is_coordinator", False)) or actor.organization_id == org_id


def may_see(actor: Actor | None, org_id: int) -> bool:
    """Stock is seen by its organization and by coordinators."""
    return actor is None or _may_act(actor, org_id)


# ---------------------------------------------------------------- levels


@dataclass
class Level:
    """A category's stock on hand: by lot, in all, and when it was last counted."""

    category_id: int
    lots: dict[tuple[str, date | None], int] = field(default_factory=dict)
    last_counted_at: datetime | None = None
    flagged: int = 0

    @property
    def total(self) -> int:
        """Units on hand (never shown below zero)."""
        return max(0, sum(self.lots.values()))

    @property
    def raw_total(self) -> int:
        """Units on hand as the entries add up, negative when more went out than was there."""
        return sum(self.lots.values())

    def lot_rows(self) -> list[dict[str, Any]]:
        """Lots with units on hand, soonest expiry first (lots without expiry last)."""
        rows = [
            {"lot": lot, "expires_on": expires, "quantity": qty}
            for (lot, expires), qty in self.lots.items()
            if qty > 0
        ]
        return sorted(rows, key=lambda r: (r["expires_on"] is None, r["expires_on"], r["lot"]))

    def apply(self, entry: StockEntry) -> None:
        """Change the level as one entry says."""
        key = entry.lot_key
        if entry.entry_type == EntryType.COUNT:
            self.last_counted_at = entry.observed_at
            if key == UNLABELLED:
                self.lots = {UNLABELLED: entry.quantity}
            else:
                self.lots[key] = entry.quantity
        elif entry.entry_type in (EntryType.DELIVERY, EntryType.TRANSFER_IN):
            self.lots[key] = self.lots.get(key, 0) + entry.quantity
        elif entry.entry_type == EntryType.TRANSFER_OUT:
            self._take(key, entry.quantity)
        if entry.flag != StockFlag.NONE:
            self.flagged += 1

    def _take(self, key: tuple[str, date | None], quantity: int) -> None:
        """Take from the named lot, then the soonest-expiring ones; a shortfall goes negative."""
        order = [key] if key in self.lots else []
        order += sorted(
            (k for k in self.lots if k != key and self.lots[k] > 0),
            key=lambda k: (k[1] is None, k[1] or date.max),
        )
        for lot in order:
            taken = min(quantity, max(self.lots[lot], 0))
            self.lots[lot] -= taken
            quantity -= taken
        if quantity:
            self.lots[UNLABELLED] = self.lots.get(UNLABELLED, 0) - quantity


def _entries(session: Session, org_id: int, category_id: int | None = None) -> list[StockEntry]:
    """An organization's entries in the order they were observed."""
    query = sa.select(StockEntry).where(StockEntry.organization_id == org_id)
    if category_id is not None:
        query = query.where(StockEntry.category_id == category_id)
    return list(session.scalars(query.order_by(StockEntry.observed_at, StockEntry.id)))


def replay(entries: Iterable[StockEntry]) -> dict[int, Level]:
    """Levels by category from entries in observation order."""
    levels: dict[int, Level] = {}
    for entry in entries:
        levels.setdefault(entry.category_id, Level(entry.category_id)).apply(entry)
    return levels


def levels(session: Session, org_id: int) -> dict[int, Level]:
    """Every category the organization has stock entries for, with its level now."""
    return replay(_entries(session, org_id))


def level(session: Session, org_id: int, category_id: int, before: datetime | None = None) -> Level:
    """One category's level (as it was just after `before`, when given)."""
    entries = _entries(session, org_id, category_id)
    if before is not None:
        entries = [e for e in entries if e.observed_at <= before]
    return replay(entries).get(category_id, Level(category_id))


# ---------------------------------------------------------------- recording


def _zone(org: Organization) -> ZoneInfo:
    """The organization's time zone."""
    try:
        return ZoneInfo(org.timezone or "America/New_York")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def observed_moment(org: Organization, day: date | None, now: datetime | None = None) -> datetime:
    """Now for today's count; noon in the organization's zone for an earlier day."""
    now = now or utcnow()
    if day is None or day >= now.astimezone(_zone(org)).date():
        return now
    return datetime.combine(day, time(12), tzinfo=_zone(org)).astimezone(UTC)


def check_dates(org: Organization, data: dict[str, Any], now: datetime | None = None) -> None:
    """A count cannot be dated in the future (in the organization's calendar)."""
    today = (now or utcnow()).astimezone(_zone(org)).date()
    errors: dict[str, list[str]] = {}
    for name in ("counted_on", "period_start"):
        if data.get(name) and data[name] > today:
            errors[name] = [NOT_IN_FUTURE]
    if errors:
        raise StockInvalid(errors)


def record(
    session: Session,
    actor: Actor | None,
    org: Organization,
    data: dict[str, Any],
    source: str = "web",
    now: datetime | None = None,
    announce: bool = True,
) -> list[StockEntry]:
    """Record checked input (from `load_entry`): the entry, and a distribution when given.

    `announce` records `stock.counted` for the worker's forecast (an import announces each
    category once, at the end)."""
    check_dates(org, data, now)
    moment = observed_moment(org, data.get("counted_on"), now)
    kind = EntryType(data.get("entry_type") or EntryType.COUNT)
    common = {
        "organization_id": org.id,
        "category_id": data["category"].id,
        "observed_at": moment,
        "source": source,
        "created_by_id": getattr(actor, "id", None) if _is_user(actor) else None,
    }
    made = []
    if data.get("distributed") is not None and kind != EntryType.DISTRIBUTED:
        made.append(
            _add(
                session,
                StockEntry(
                    entry_type=EntryType.DISTRIBUTED,
                    quantity=data["distributed"],
                    period_start=data.get("period_start"),
                    **common,
                ),
            )
        )
    entry = StockEntry(
        entry_type=kind,
        quantity=data["quantity"],
        lot=(data.get("lot") or "").strip(),
        expires_on=data.get("expires_on"),
        period_start=data.get("period_start") if kind == EntryType.DISTRIBUTED else None,
        note=data.get("note") or "",
        **common,
    )
    made.append(_add(session, entry))
    if announce:
        announce_change(session, org.id, entry.category_id, source)
    return made


def announce_change(session: Session, org_id: int, category_id: int, why: str) -> None:
    """Record `stock.counted`, so that the worker forecasts this pair again."""
    data = {"org_id": org_id, "category_id": category_id, "reason": why}
    emit(session, names.STOCK_COUNTED, data, f"system:{why}")


def _is_user(actor: Actor | None) -> bool:
    """Whether the actor is a person (org tokens have no user row)."""
    from coalition.models.users import User

    return isinstance(actor, User)


def _add(session: Session, entry: StockEntry) -> StockEntry:
    """Flag the entry against the level before it, store the level after it, flush."""
    before = level(session, entry.organization_id, entry.category_id, entry.observed_at)
    entry.flag = flag_for(before, entry)
    before.apply(entry)
    entry.on_hand_after = before.raw_total
    session.add(entry)
    session.flush()
    return entry


def flag_for(before: Level, entry: StockEntry) -> StockFlag:
    """A count far above the level it replaces is a jump; stock below zero is negative."""
    if entry.entry_type == EntryType.COUNT and before.last_counted_at is not None:
        replaced = (
            before.raw_total if entry.lot_key == UNLABELLED else before.lots.get(entry.lot_key, 0)
        )
        if entry.quantity > JUMP_FACTOR * max(replaced, 0) + JUMP_MIN:
            return StockFlag.JUMP
    if entry.entry_type == EntryType.TRANSFER_OUT:
        after = Level(before.category_id, dict(before.lots))
        after.apply(entry)
        if after.raw_total < 0:
            return StockFlag.NEGATIVE
    return StockFlag.NONE


def record_many(
    session: Session,
    actor: Actor | None,
    org: Organization,
    rows: Iterable[dict[str, Any]],
    source: str,
) -> list[StockEntry]:
    """Record checked rows in order, then announce each category once (the caller commits
    once, or rolls all back)."""
    made = [e for data in rows for e in record(session, actor, org, data, source, announce=False)]
    for category_id in sorted({e.category_id for e in made}):
        announce_change(session, org.id, category_id, source)
    return made


# ---------------------------------------------------------------- transfers


def apply_fulfilled(session: Session, match_id: int) -> list[StockEntry]:
    """Move a fulfilled supply match's units out of the giver's stock and into the receiver's.

    Idempotent: a side already recorded for this match is not recorded again.
    """
    match = session.get(Match, match_id)
    if match is None or match.state != MatchState.FULFILLED:
        return []
    offer = session.get_one(Listing, match.offer_id)
    request = session.get_one(Listing, match.request_id)
    if offer.kind != Kind.SUPPLY:
        return []
    done = set(
        session.scalars(sa.select(StockEntry.entry_type).where(StockEntry.match_id == match.id))
    )
    moment = match.received_at or utcnow()
    sides = (
        (EntryType.TRANSFER_OUT, offer.organization_id),
        (EntryType.TRANSFER_IN, request.organization_id),
    )
    made = []
    for kind, org_id in sides:
        if kind in done:
            continue
        entry = StockEntry(
            organization_id=org_id,
            category_id=offer.category_id,
            entry_type=kind,
            quantity=match.quantity,
            expires_on=offer.expires_on,
            observed_at=moment,
            match_id=match.id,
            source="transfer",
        )
        made.append(_add(session, entry))
        announce_change(session, org_id, offer.category_id, "transfer")
    return made


# ---------------------------------------------------------------- reading


def history(
    session: Session, org_id: int, category_id: int | None = None, limit: int = 200
) -> list[StockEntry]:
    """The newest entries first."""
    query = sa.select(StockEntry).where(StockEntry.organization_id == org_id)
    if category_id is not None:
        query = query.where(StockEntry.category_id == category_id)
    query = query.order_by(StockEntry.observed_at.desc(), StockEntry.id.desc()).limit(limit)
    return list(session.scalars(query))


def entries_query(org_id: int, category_id: int | None = None) -> sa.Select[Any]:
    """The query of an organization's entries, newest first (for pages of the API)."""
    query = sa.select(StockEntry).where(StockEntry.organization_id == org_id)
    if category_id is not None:
        query = query.where(StockEntry.category_id == category_id)
    return query.order_by(StockEntry.observed_at.desc(), StockEntry.id.desc())


def flagged_entries(session: Session, limit: int = 100) -> list[StockEntry]:
    """Entries across the coalition that need a second look, newest first."""
    return list(
        session.scalars(
            sa.select(StockEntry)
            .where(StockEntry.flag != StockFlag.NONE)
            .order_by(StockEntry.created_at.desc())
            .limit(limit)
        )
    )


def level_rows(session: Session, org_id: int) -> list[dict[str, Any]]:
    """Each category with entries, in catalog order, with its level now."""
    found = levels(session, org_id)
    return [
        {"category": c, "level": found[c.id]} for c in supply_categories(session) if c.id in found
    ]


def supply_categories(session: Session) -> list[Category]:
    """Active supply categories, in catalog order."""
    return list(
        session.scalars(
            sa.select(Category)
            .where(Category.kind == Kind.SUPPLY, Category.active.is_(True))
            .order_by(Category.sort_order, Category.id)
        )
    )
