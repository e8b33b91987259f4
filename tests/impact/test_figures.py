"""Every impact figure against a fixture ledger: the Q3 boundaries in New York time, a
cancelled match excluded, staffing counted in hours, an expired lot not waste avoided."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.events import OutboxEvent
from coalition.models.impact import ImpactFact
from coalition.models.matches import MatchState
from coalition.services import impact
from coalition.services import match_lifecycle as matches
from coalition.services.impact import Scope, Wording
from tests.impact.support import Q3, build_ledger
from tests.matches_support import make_pair
from worker.handlers import HANDLERS
from worker.processing import Outcome, RetryPolicy, process


def q3(**kw):
    return Scope(start=Q3[0], end=Q3[1], **kw)


def by_label(categories):
    return {c.label: (c.quantity, c.unit, c.transfers) for c in categories}


def test_quarter_totals_come_from_fulfilled_matches_only(unit_costs):
    build_ledger()
    figures = impact.compute(db.session, q3())
    assert figures.transfers == 3  # June 30 and Oct 1 (New York) and the cancelled one are out
    assert (figures.units, figures.hours) == (150, 12)
    assert by_label(figures.supplies) == {
        "Naloxone nasal spray 4 mg": (120, "units (4 mg nasal spray)", 1),
        "Wound-care kits": (30, "kits", 1),
    }
    assert by_label(figures.staffing) == {"Registered nurse": (12, "hours", 1)}
    assert figures.value_cents == 120 * 4500 + 30 * 1250 + 12 * 6000
    assert figures.value_dollars == 6495


def test_short_dated_stock_counts_only_lots_not_yet_expired(app):
    build_ledger()
    figures = impact.compute(db.session, q3())
    # 120 naloxone units handed over 53 days before their lot expired; the kits' lot had expired
    assert figures.short_dated == 120
    assert {c.label: c.short_dated for c in figures.supplies}["Wound-care kits"] == 0


def test_organizations_requests_and_need_by(app):
    build_ledger()
    figures = impact.compute(db.session, q3())
    assert (figures.givers, figures.receivers) == (2, 2)
    assert figures.requests_filled == 3
    assert (figures.requests_on_time, figures.requests_with_need_by) == (1, 2)


def test_median_days_from_request_posted_to_receipt(app):
    build_ledger()
    # requests posted June 20 at noon; received after 20, 42 and 102.46 days
    assert impact.compute(db.session, q3()).median_days == 42.0
    assert impact.compute(db.session, Scope(start=Q3[1], end=Q3[0])).median_days is None
    # with June's 251 hours, four receipts: the mean of the middle two (480 and 1,008 hours)
    assert impact.compute(db.session, Scope(start=date(2026, 6, 1), end=Q3[1])).median_days == 31.0


def test_month_by_month_series(unit_costs):
    build_ledger()
    months = impact.compute(db.session, q3()).months
    assert [(m.month, m.transfers, m.units, m.hours) for m in months] == [
        ("2026-07", 1, 120, 0),
        ("2026-08", 1, 30, 0),
        ("2026-09", 1, 0, 12),
    ]
    assert [m.value_cents for m in months] == [540000, 37500, 72000]
    assert [m.short_dated for m in months] == [120, 0, 0]
    assert [m.median_days for m in months] == [20.0, 42.0, 102.5]  # 2,459 hours


def test_borough_breakdown(app):
    build_ledger()
    boroughs = {
        b.name: (b.gave_transfers, b.gave_units, b.gave_hours, b.received_transfers,
                 b.received_units, b.received_hours)
        for b in impact.compute(db.session, q3()).boroughs
    }  # fmt: skip
    assert boroughs == {
        "Manhattan": (2, 150, 0, 0, 0, 0),
        "Bronx": (1, 0, 12, 1, 30, 0),
        "Brooklyn": (0, 0, 0, 2, 120, 12),
    }


def test_filters_by_category_organization_and_borough(app):
    ledger = build_ledger()
    naloxone = ledger.matches["july"].offer.category_id
    assert impact.compute(db.session, q3(category_id=naloxone)).units == 120
    mine = impact.compute(db.session, q3(organization_id=ledger.bushwick.id))
    assert (mine.transfers, mine.units, mine.hours) == (2, 120, 12)
    assert {c.label: (c.gave, c.received) for c in mine.categories} == {
        "Naloxone nasal spray 4 mg": (0, 120),
        "Registered nurse": (0, 12),
    }
    assert impact.compute(db.session, q3(borough="Bronx")).transfers == 2


def test_filter_by_a_program_tag(app):
    ledger = build_ledger()
    request = ledger.matches["july"].request
    assert impact.set_listing_tags(db.session, request, [" County  grant ", ""]) == ["County grant"]
    db.session.commit()
    tagged = impact.compute(db.session, q3(tag="County grant"))
    assert (tagged.transfers, tagged.units) == (1, 120)
    # a tag is the organization's own: another organization's tag of that name is not it
    assert (
        impact.compute(db.session, q3(tag="County grant", tag_org_id=ledger.harlem.id)).units == 0
    )
    assert impact.organization_tags(db.session, ledger.bushwick.id) == ["County grant"]


def test_neutral_wording_merges_categories_under_their_neutral_labels(app):
    build_ledger()
    figures = impact.compute(db.session, q3(), Wording(neutral=True))
    assert by_label(figures.categories) == {
        "Medical supplies": (120, "units", 1),
        "First-aid supplies": (30, "units", 1),
        "Clinical staff": (12, "hours", 1),
    }


def test_organizations_are_named_only_when_allowed(app):
    ledger = build_ledger()
    everyone = impact.compute(db.session, q3(), Wording(named_ids=None), with_orgs=True)
    assert [o.name for o in everyone.organizations] == [
        "Bronx Drop-in", "Bushwick Outreach", "Harlem HR",
    ]  # fmt: skip
    own = Wording(named_ids=frozenset({ledger.bushwick.id}))
    rows = {o.name: o for o in impact.compute(db.session, q3(), own, with_orgs=True).organizations}
    assert set(rows) == {"Bushwick Outreach", impact.OTHER_ORGS}
    assert rows[impact.OTHER_ORGS].gave_transfers == 3


def test_transfers_list_every_fulfilled_match_of_the_scope(unit_costs):
    ledger = build_ledger()
    rows = list(impact.transfers(db.session, q3(), Wording(neutral=True)))
    assert [r["match"] for r in rows] == [ledger.matches[k].id for k in ("july", "kits", "nurse")]
    assert rows[0]["category"] == "Medical supplies" and rows[0]["value_usd"] == "5400.00"
    assert rows[0]["giver"] == "A member organization" and rows[1]["on_time"] == "no"
    assert rows[2]["received_on"] == "2026-09-30"


def test_rebuild_writes_the_same_facts(app):
    build_ledger()
    before = impact.compute(db.session, q3())
    db.session.execute(sa.delete(ImpactFact))
    assert impact.rebuild_facts(db.session, batch=2) == 5
    db.session.commit()
    assert impact.compute(db.session, q3()) == before


def test_a_fact_is_removed_when_its_match_is_no_longer_fulfilled(app):
    ledger = build_ledger()
    match = ledger.matches["july"]
    match.state = MatchState.CANCELLED
    assert impact.record_fulfilled(db.session, match.id) is None
    assert db.session.get(ImpactFact, match.id) is None


@pytest.mark.parametrize("run_twice", [False, True])
def test_the_worker_counts_a_receipt_once(app, run_twice):
    pair = make_pair()
    for action in ("approve", "accept", "accept", "handoff", "receive"):
        actor = {
            "approve": pair.coordinator,
            "handoff": pair.giver_member,
            "receive": pair.receiver_member,
        }.get(action)
        if action == "accept":
            actor = (
                pair.giver_member if pair.match.offer_accepted_at is None else pair.receiver_member
            )
        matches.perform(db.session, actor, pair.match, action)
        db.session.commit()
    body = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.type == "match.fulfilled")
    ).one()
    first = process(db.session, "impact", body, HANDLERS, RetryPolicy())
    assert first.outcome == Outcome.DONE
    if run_twice:
        assert process(db.session, "impact", body, HANDLERS, RetryPolicy()).outcome == (
            Outcome.DUPLICATE
        )
    facts = db.session.scalars(sa.select(ImpactFact)).all()
    assert [(f.match_id, f.quantity, f.receiver_id) for f in facts] == [
        (pair.match.id, 40, pair.receiver.id)
    ]


def test_the_rebuild_command_counts_every_fulfilled_match(app):
    build_ledger()
    db.session.execute(sa.delete(ImpactFact))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-impact"])
    assert result.exit_code == 0, result.output
    assert "5 fulfilled matches counted." in result.output
    assert impact.compute(db.session, q3()).transfers == 3


def test_the_report_command_writes_a_neutral_pdf_and_csvs(app, tmp_path, unit_costs):
    from tests.impact.test_pages import PLAIN, pdf_text

    build_ledger()
    runner = app.test_cli_runner()
    pdf = tmp_path / "q3.pdf"
    args = ["reports", "impact", "--from", "2026-07-01", "--to", "2026-09-30"]
    result = runner.invoke(args=[*args, "--format", "pdf", "--neutral", "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    text = pdf_text(pdf.read_bytes())
    assert "supplies redistributed worth about $5,775" in text and "Medical supplies" in text
    assert not any(label in text for label in PLAIN)
    figures = tmp_path / "q3.csv"
    assert runner.invoke(args=[*args, "--format", "csv", "-o", str(figures)]).exit_code == 0
    assert "totals,,,transfers,3" in figures.read_text()
    rows = tmp_path / "rows.csv"
    result = runner.invoke(args=[*args, "--format", "transfers-csv", "-o", str(rows)])
    assert result.exit_code == 0 and len(rows.read_text().splitlines()) == 4


def test_the_report_command_refuses_bad_input_in_one_line(app, tmp_path):
    runner = app.test_cli_runner()
    out = str(tmp_path / "x.pdf")
    backwards = runner.invoke(
        args=["reports", "impact", "--from", "2026-09-30", "--to", "2026-07-01", "-o", out]
    )
    assert backwards.exit_code != 0 and "--to must not be before --from" in backwards.output
    garbled = runner.invoke(args=["reports", "impact", "--from", "soon", "--to", "x", "-o", out])
    assert garbled.exit_code != 0 and "use YYYY-MM-DD" in garbled.output
    unknown = runner.invoke(
        args=["reports", "impact", "--from", "2026-07-01", "--to", "2026-09-30",
              "--organization", "nobody", "-o", out]
    )  # fmt: skip
    assert unknown.exit_code != 0 and "no organization with slug nobody" in unknown.output
