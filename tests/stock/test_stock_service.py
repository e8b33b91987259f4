"""Stock on hand: counts, lots, deliveries, flags, transfers from fulfilled matches."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.events import OutboxEvent
from coalition.models.inventory import EntryType, StockEntry, StockFlag
from coalition.services import inventory
from coalition.services import match_lifecycle as matches
from tests.conftest import count
from tests.factories import OrganizationFactory, UserFactory
from tests.matches_support import make_pair
from worker.handlers import HANDLERS
from worker.processing import Outcome, RetryPolicy, process

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _count(org, quantity, slug="naloxone-nasal-4mg", when=None, **extra):
    data = inventory.load_entry({"category": slug, "quantity": quantity, **extra})
    entries = inventory.record(db.session, None, org, data, "test", now=when or NOW)
    db.session.commit()
    return entries[-1]


def _total(org, slug="naloxone-nasal-4mg"):
    from tests.factories import category

    return inventory.level(db.session, org.id, category(slug).id).total


def test_every_count_is_a_row_and_the_latest_sets_the_level(app):
    org = OrganizationFactory()
    _count(org, 120, when=NOW - timedelta(days=2))
    _count(org, 90, when=NOW - timedelta(days=1))
    _count(org, 75)
    assert count(StockEntry) == 3
    assert _total(org) == 75
    history = inventory.history(db.session, org.id)
    assert [e.quantity for e in history] == [75, 90, 120]
    assert [e.on_hand_after for e in history] == [75, 90, 120]


def test_lots_are_counted_apart_and_shown_soonest_expiry_first(app):
    org = OrganizationFactory()
    _count(org, 40, lot="A", expires_on="2027-03-01")
    _count(org, 25, lot="B", expires_on="2027-01-15")
    entry = _count(org, 30, lot="A", expires_on="2027-03-01")
    level = inventory.level(db.session, org.id, entry.category_id)
    assert level.total == 55
    assert [(r["lot"], r["quantity"]) for r in level.lot_rows()] == [("B", 25), ("A", 30)]


def test_a_count_without_a_lot_is_the_whole_categorys_level(app):
    org = OrganizationFactory()
    _count(org, 40, lot="A", expires_on="2027-03-01")
    _count(org, 25, lot="B")
    _count(org, 50)
    assert _total(org) == 50


def test_a_count_with_what_was_given_out_records_both(app):
    org = OrganizationFactory()
    _count(org, 100, when=NOW - timedelta(days=7))
    _count(org, 60, distributed=40, period_start="2026-11-24")
    kinds = db.session.scalars(sa.select(StockEntry.entry_type).order_by(StockEntry.id)).all()
    assert kinds == [EntryType.COUNT, EntryType.DISTRIBUTED, EntryType.COUNT]
    assert _total(org) == 60


def test_a_count_far_above_the_last_is_kept_and_flagged(app):
    org = OrganizationFactory()
    _count(org, 20, when=NOW - timedelta(days=1))
    jump = _count(org, 900)
    assert jump.flag == StockFlag.JUMP
    assert _total(org) == 900
    assert inventory.flagged_entries(db.session) == [jump]
    assert _count(org, 950).flag == StockFlag.NONE


def test_a_first_count_and_a_delivery_are_never_flagged(app):
    org = OrganizationFactory()
    assert _count(org, 5000).flag == StockFlag.NONE
    delivery = _count(org, 4000, entry_type="delivery")
    assert delivery.flag == StockFlag.NONE
    assert _total(org) == 9000


@pytest.mark.parametrize(
    "raw,field,message",
    [
        ({"quantity": -1}, "quantity", "must be a whole number, 0 or more"),
        ({"quantity": "ten"}, "quantity", "must be a whole number, 0 or more"),
        ({"category": "mystery"}, "category", "unknown category"),
        ({"category": "peer-specialist"}, "category", "stock is counted for supplies only"),
        ({"expires_on": "soon"}, "expires_on", "Not a valid date."),
        ({"lot": "x" * 61}, "lot", "at most 60 characters"),
        ({"period_start": "2026-11-01"}, "distributed", "give what was distributed"),
    ],
)
def test_bad_input_names_the_field_and_records_nothing(app, raw, field, message):
    with pytest.raises(inventory.StockInvalid) as caught:
        inventory.load_entry({"category": "naloxone-nasal-4mg", "quantity": 5, **raw})
    assert any(message in m for m in caught.value.errors[field])


def test_a_count_in_the_future_is_refused(app):
    org = OrganizationFactory()
    data = inventory.load_entry(
        {"category": "naloxone-nasal-4mg", "quantity": 5, "counted_on": "2026-12-09"}
    )
    with pytest.raises(inventory.StockInvalid) as caught:
        inventory.record(db.session, None, org, data, now=NOW)
    assert caught.value.errors == {"counted_on": ["cannot be in the future"]}
    assert count(StockEntry) == 0


def test_members_count_only_their_own_organizations_stock(app):
    member = UserFactory()
    other = OrganizationFactory()
    with pytest.raises(inventory.ServiceError) as caught:
        inventory.acting_org(db.session, member, other.slug)
    assert caught.value.status == 403
    assert inventory.acting_org(db.session, member, None) == member.organization


def _fulfil(pair):
    steps = [
        ("approve", pair.coordinator),
        ("accept", pair.giver_member),
        ("accept", pair.receiver_member),
        ("handoff", pair.giver_member),
        ("receive", pair.receiver_member),
    ]
    for action, who in steps:
        matches.perform(db.session, who, pair.match, action)
        db.session.commit()


def test_a_fulfilled_transfer_moves_stock_once_however_often_the_event_comes(app):
    pair = make_pair(offered=120, requested=40)
    _count(pair.giver, 100)
    _count(pair.receiver, 5)
    _fulfil(pair)
    body = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.type == "match.fulfilled")
    ).one()
    assert process(db.session, "stock", body, HANDLERS, RetryPolicy()).outcome == Outcome.DONE
    inventory.apply_fulfilled(db.session, pair.match.id)  # a redelivery under another id
    db.session.commit()
    assert _total(pair.giver) == 60
    assert _total(pair.receiver) == 45
    received = db.session.scalar(
        sa.select(StockEntry).where(StockEntry.entry_type == EntryType.TRANSFER_IN)
    )
    assert received.expires_on == date(2027, 1, 10) and received.match_id == pair.match.id
    assert count(StockEntry) == 4


def test_giving_more_than_was_counted_is_flagged_negative(app):
    pair = make_pair(offered=120, requested=40)
    _count(pair.giver, 10)
    _fulfil(pair)
    out = inventory.apply_fulfilled(db.session, pair.match.id)
    db.session.commit()
    giver_side = [e for e in out if e.entry_type == EntryType.TRANSFER_OUT]
    assert giver_side[0].flag == StockFlag.NEGATIVE
    assert _total(pair.giver) == 0


def test_a_match_not_yet_fulfilled_moves_nothing(app):
    pair = make_pair()
    assert inventory.apply_fulfilled(db.session, pair.match.id) == []
