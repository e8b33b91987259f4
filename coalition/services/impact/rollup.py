"""The monthly rollups of `impact_facts`: recounted group by group, never incremented.

Each rollup row is the aggregate of the facts of its key, so rewriting a fact recounts the
rows of its old and new keys: the result is the same however often an event is handled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from coalition.models.catalog import Kind
from coalition.models.impact import (
    ImpactFact,
    ImpactMonth,
    ImpactMonthOrg,
    ImpactMonthOrgBorough,
    ImpactMonthRequest,
    ImpactMonthRequestBorough,
)
from coalition.sessions import Session

F = ImpactFact


@dataclass(frozen=True)
class Keys:
    """The rollup rows one fact is counted in."""

    month: str
    category_id: int
    giver_borough: str
    receiver_borough: str
    giver_id: int
    receiver_id: int
    request_id: int


def keys_of(fact: ImpactFact) -> Keys:
    """The rollup keys of a fact."""
    return Keys(fact.month, fact.category_id, fact.giver_borough, fact.receiver_borough,
                fact.giver_id, fact.receiver_id, fact.request_id)  # fmt: skip


def _units(kind: Kind) -> Any:
    """The quantity of facts of one kind (units of supplies, hours of staffing)."""
    return sa.func.coalesce(sa.func.sum(sa.case((F.kind == kind, F.quantity), else_=0)), 0)


def _months_select(where: list[Any]) -> sa.Select[*tuple[Any, ...]]:
    """impact_months rows from the facts."""
    keys = (F.month, F.category_id, F.giver_borough, F.receiver_borough)
    return (
        sa.select(
            *keys,
            sa.func.min(F.kind),
            sa.func.count(),
            sa.func.sum(F.quantity),
            sa.func.sum(F.short_dated),
        )  # fmt: skip
        .where(*where)
        .group_by(*keys)
    )


def _orgs_select(side: str, where: list[Any]) -> sa.Select[*tuple[Any, ...]]:
    """impact_month_orgs rows of one side from the facts."""
    org = F.giver_id if side == "gave" else F.receiver_id
    return (
        sa.select(
            F.month,
            sa.literal(side),
            org,
            sa.func.count(),
            _units(Kind.SUPPLY),
            _units(Kind.STAFFING),
        )  # fmt: skip
        .where(*where)
        .group_by(F.month, org)
    )


def _org_boroughs_select(side: str, where: list[Any]) -> sa.Select[*tuple[Any, ...]]:
    """impact_month_org_boroughs rows of one side from the facts."""
    org, own, other = (
        (F.giver_id, F.giver_borough, F.receiver_borough)
        if side == "gave"
        else (F.receiver_id, F.receiver_borough, F.giver_borough)
    )
    return (
        sa.select(
            F.month,
            sa.literal(side),
            org,
            own,
            other,
            sa.func.count(),
            _units(Kind.SUPPLY),
            _units(Kind.STAFFING),
        )  # fmt: skip
        .where(*where)
        .group_by(F.month, org, own, other)
    )


def _requests_select(where: list[Any], by_borough: bool = False) -> sa.Select[*tuple[Any, ...]]:
    """impact_month_requests rows (or impact_month_request_boroughs rows) from the facts."""
    on_time = sa.func.max(sa.case((F.on_time.is_(True), 1), else_=0))
    need_by = sa.func.max(sa.case((F.need_by.is_not(None), 1), else_=0))
    keys = [F.month, F.request_id, *([F.giver_borough, F.receiver_borough] if by_borough else [])]
    return (
        sa.select(*keys, sa.func.count(), on_time == 1, need_by == 1).where(*where).group_by(*keys)
    )


MONTH_COLUMNS = ("month", "category_id", "giver_borough", "receiver_borough", "kind",
                 "transfers", "quantity", "short_dated")  # fmt: skip
ORG_COLUMNS = ("month", "side", "organization_id", "transfers", "units", "hours")
REQUEST_COLUMNS = ("month", "request_id", "transfers", "on_time", "has_need_by")
ORG_BOROUGH_COLUMNS = ("month", "side", "organization_id", "borough", "other_borough",
                       "transfers", "units", "hours")  # fmt: skip
REQUEST_BOROUGH_COLUMNS = ("month", "request_id", "giver_borough", "receiver_borough",
                           "transfers", "on_time", "has_need_by")  # fmt: skip


def recount(session: Session, keys: Iterable[Keys]) -> None:
    """Recount the rollup rows of these keys from the facts; flush, never commit."""
    for key in set(keys):
        _recount_month(session, key)
        for side, org_id in (("gave", key.giver_id), ("received", key.receiver_id)):
            _recount_org(session, key.month, side, org_id)
        _recount_request(session, key.month, key.request_id)
    session.flush()


def _recount_month(session: Session, key: Keys) -> None:
    """The impact_months row of a month, category and pair of boroughs."""

    def same(table: Any) -> list[sa.ColumnElement[bool]]:
        return [
            table.month == key.month,
            table.category_id == key.category_id,
            table.giver_borough == key.giver_borough,
            table.receiver_borough == key.receiver_borough,
        ]

    session.execute(sa.delete(ImpactMonth).where(*same(ImpactMonth)))
    session.execute(sa.insert(ImpactMonth).from_select(MONTH_COLUMNS, _months_select(same(F))))


def _recount_org(session: Session, month: str, side: str, org_id: int) -> None:
    """The impact_month_orgs row (and impact_month_org_boroughs rows) of an organization's
    side of a month."""
    column = F.giver_id if side == "gave" else F.receiver_id
    where = [F.month == month, column == org_id]
    for Org, select, columns in (
        (ImpactMonthOrg, _orgs_select(side, where), ORG_COLUMNS),
        (ImpactMonthOrgBorough, _org_boroughs_select(side, where), ORG_BOROUGH_COLUMNS),
    ):
        session.execute(
            sa.delete(Org).where(
                Org.month == month, Org.side == side, Org.organization_id == org_id
            )
        )
        session.execute(sa.insert(Org).from_select(columns, select))


def _recount_request(session: Session, month: str, request_id: int) -> None:
    """The impact_month_requests row (and impact_month_request_boroughs rows) of a request in
    a month."""
    where = [F.month == month, F.request_id == request_id]
    for R, by_borough, columns in (
        (ImpactMonthRequest, False, REQUEST_COLUMNS),
        (ImpactMonthRequestBorough, True, REQUEST_BOROUGH_COLUMNS),
    ):
        session.execute(sa.delete(R).where(R.month == month, R.request_id == request_id))
        session.execute(sa.insert(R).from_select(columns, _requests_select(where, by_borough)))


ROLLUPS = (ImpactMonth, ImpactMonthOrg, ImpactMonthRequest, ImpactMonthOrgBorough,
           ImpactMonthRequestBorough)  # fmt: skip


def rebuild(session: Session) -> None:
    """Re-create every rollup row from the facts; flush, never commit."""
    for model in ROLLUPS:
        session.execute(sa.delete(model))
    session.execute(sa.insert(ImpactMonth).from_select(MONTH_COLUMNS, _months_select([])))
    for side in ("gave", "received"):
        session.execute(sa.insert(ImpactMonthOrg).from_select(ORG_COLUMNS, _orgs_select(side, [])))
        session.execute(
            sa.insert(ImpactMonthOrgBorough).from_select(
                ORG_BOROUGH_COLUMNS, _org_boroughs_select(side, [])
            )
        )
    session.execute(
        sa.insert(ImpactMonthRequest).from_select(REQUEST_COLUMNS, _requests_select([]))
    )
    session.execute(
        sa.insert(ImpactMonthRequestBorough).from_select(
            REQUEST_BOROUGH_COLUMNS, _requests_select([], by_borough=True)
        )
    )
    session.flush()
