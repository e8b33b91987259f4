"""Where a scope's figures are read from: the facts, or the monthly rollups.

Both answer the same questions with the same rows. `FactsSource` groups the facts of any
scope. `RollupSource` answers a scope of days only: its whole months from the rollups, its
first and last part-months from the facts (a `FactsSource` of those days); counts of
distinct organizations and requests take the union of both, and medians read the middle
receipts in order from an index instead of ranking them all.
"""

from __future__ import annotations

import operator
from dataclasses import replace
from datetime import date
from typing import Any, Protocol

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
from coalition.services.impact.scope import Scope
from coalition.sessions import Session

F, M, MO, R = ImpactFact, ImpactMonth, ImpactMonthOrg, ImpactMonthRequest
OB, RB = ImpactMonthOrgBorough, ImpactMonthRequestBorough
# side -> (the facts' organization column, its borough column)
SIDES = {"gave": (F.giver_id, F.giver_borough), "received": (F.receiver_id, F.receiver_borough)}
Row = tuple[Any, ...]


class Source(Protocol):
    """What the figures ask of a source."""

    def month_category_rows(self, organization_id: int | None) -> list[Row]: ...
    def people_total(self) -> Row: ...
    def people_by_month(self) -> list[Row]: ...
    def median_total(self) -> float | None: ...
    def medians_by_month(self) -> dict[str, float]: ...
    def side_totals(self, side: str, by: str) -> list[Row]: ...


def source_for(session: Session, scope: Scope) -> Source:
    """The rollups for a scope of days (optionally of a category or borough) with whole
    months in it, else the facts."""
    months = scope.whole_months() if scope.rolled_up else None
    if months is None:
        return FactsSource(session, scope.conditions(scan=scope.wide))
    return RollupSource(session, scope, months)


def _int(value: Any) -> int:
    """SUM() of no rows is NULL."""
    return int(value or 0)


def _distinct_columns() -> list[Any]:
    """Organizations that gave and received, requests filled, on time and with a need-by."""
    return [
        sa.func.count(sa.distinct(F.giver_id)),
        sa.func.count(sa.distinct(F.receiver_id)),
        sa.func.count(sa.distinct(F.request_id)),
        sa.func.count(sa.distinct(sa.case((F.on_time.is_(True), F.request_id)))),
        sa.func.count(sa.distinct(sa.case((F.need_by.is_not(None), F.request_id)))),
    ]


def _middle_days(hours: list[int]) -> float | None:
    """The mean of the middle one or two hours, in days (as the window-function median)."""
    if not hours:
        return None
    return round(float(sum(hours)) / len(hours) / 24, 1)


class FactsSource:
    """The figures of any scope, grouped from the facts."""

    def __init__(self, session: Session, where: list[Any]) -> None:
        self.session, self.where = session, where

    def month_category_rows(self, organization_id: int | None) -> list[Row]:
        """(month, category, transfers, quantity, short-dated, quantity given by the org)."""
        gave = (
            sa.func.sum(sa.case((F.giver_id == organization_id, F.quantity), else_=0))
            if organization_id
            else sa.literal(0)
        )
        query = sa.select(
            F.month, F.category_id, sa.func.count(), sa.func.sum(F.quantity),
            sa.func.sum(F.short_dated), gave,
        ).where(*self.where).group_by(F.month, F.category_id)  # fmt: skip
        return list(self.session.execute(query).all())

    def people_total(self) -> Row:
        """(givers, receivers, requests filled, on time, with a need-by)."""
        row = self.session.execute(sa.select(*_distinct_columns()).where(*self.where)).one()
        return tuple(_int(v) for v in row)

    def people_by_month(self) -> list[Row]:
        """(month, givers, receivers, requests filled, on time, with a need-by)."""
        query = sa.select(F.month, *_distinct_columns()).where(*self.where).group_by(F.month)
        return list(self.session.execute(query).all())

    def median_total(self) -> float | None:
        """Median days from request posted to receipt."""
        return self._medians(None).get("")

    def medians_by_month(self) -> dict[str, float]:
        """Median days of each month."""
        return self._medians(F.month)

    def _medians(self, partition: Any) -> dict[str, float]:
        """The middle one or two hours-to-receipt of each partition (window functions)."""
        columns = [partition.label("key")] if partition is not None else []
        ranked = (
            sa.select(
                *columns,
                F.hours_to_receipt.label("hours"),
                sa.func.row_number()
                .over(partition_by=partition, order_by=F.hours_to_receipt)
                .label("rank"),
                sa.func.count().over(partition_by=partition).label("n"),
            )
            .where(*self.where)
            .subquery()
        )
        middle = ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
        if partition is None:
            hours = self.session.scalar(sa.select(sa.func.avg(ranked.c.hours)).where(middle))
            return {} if hours is None else {"": round(float(hours) / 24, 1)}
        query = sa.select(ranked.c.key, sa.func.avg(ranked.c.hours)).where(middle)
        rows = self.session.execute(query.group_by(ranked.c.key)).all()
        return {str(k): round(float(h) / 24, 1) for k, h in rows if h is not None}

    def side_totals(self, side: str, by: str) -> list[Row]:
        """(borough or organization, transfers, units, hours) of one side."""
        org, borough = SIDES[side]
        column = borough if by == "borough" else org
        units = sa.func.sum(sa.case((F.kind == Kind.SUPPLY, F.quantity), else_=0))
        hours = sa.func.sum(sa.case((F.kind == Kind.STAFFING, F.quantity), else_=0))
        query = sa.select(column, sa.func.count(), units, hours).where(*self.where)
        return list(self.session.execute(query.group_by(column)).all())


def _edge_days(scope: Scope, first: str, last: str) -> sa.ColumnElement[bool]:
    """The period's days before its first whole month and after its last (two index ranges)."""
    ranges = []
    if scope.start is not None:
        ranges.append(sa.and_(F.received_on >= scope.start, F.received_on < _first_day(first)))
    if scope.end is not None:
        after = _first_day(_next_month(last))
        ranges.append(sa.and_(F.received_on >= after, F.received_on <= scope.end))
    return sa.or_(sa.false(), *ranges)


def _first_day(month: str) -> date:
    """The first day of a "YYYY-MM" month."""
    return date(int(month[:4]), int(month[5:7]), 1)


def _next_month(month: str) -> str:
    """The month after a "YYYY-MM" month."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


# (column, operator, value); ("borough", "either", name): given or received in the borough
Condition = tuple[str, str, Any]


def _sqlite_condition(column: str, op: str, n: int) -> str:
    """One condition in SQL, its value bound as :column_n."""
    if op == "either":
        return f"(giver_borough = :{column}_{n} OR receiver_borough = :{column}_{n})"
    return f"{column} {op} :{column}_{n}"


def _condition_type(column: str) -> Any:
    """The type a condition's value is bound as."""
    return F.__table__.c["giver_borough" if column == "borough" else column].type


def _clause(column: str, op: str, value: Any) -> sa.ColumnElement[bool]:
    """One condition as an SQLAlchemy clause."""
    if op == "either":
        return sa.or_(F.giver_borough == value, F.receiver_borough == value)
    operators = {">=": operator.ge, "<=": operator.le, "=": operator.eq}
    return operators[op](F.__table__.c[column], value)  # type: ignore[no-any-return]


def _middle_hours(session: Session, where: list[Condition], count: int, index: str) -> list[int]:
    """The middle one or two hours-to-receipt of the `count` facts matching `where`, read in
    order from `index`: in SQLite by name (its planner, with no statistics, prefers the
    period's index and a sort); PostgreSQL chooses for itself."""
    offset, limit = (count - 1) // 2, 2 - count % 2
    if session.get_bind().dialect.name == "sqlite":
        conditions = " AND ".join(
            _sqlite_condition(column, op, n) for n, (column, op, _) in enumerate(where)
        )
        sql = sa.text(
            # only our own column and index names are formatted in; the values are bound
            f"SELECT hours_to_receipt FROM impact_facts INDEXED BY {index} "  # noqa: S608  # nosec B608
            f"WHERE {conditions or '1 = 1'} ORDER BY hours_to_receipt LIMIT :limit OFFSET :offset"
        ).bindparams(
            *(sa.bindparam(f"{column}_{n}", value, type_=_condition_type(column))
              for n, (column, _, value) in enumerate(where)),
            limit=limit, offset=offset,
        )  # fmt: skip
        return list(session.scalars(sql))
    clauses = [_clause(column, op, value) for column, op, value in where]
    query = sa.select(F.hours_to_receipt).where(*clauses).order_by(F.hours_to_receipt)
    return list(session.scalars(query.offset(offset).limit(limit)))


def _filters(scope: Scope) -> list[sa.ColumnElement[bool]]:
    """The facts' conditions of a scope's category and borough (none of its days)."""
    return replace(scope, start=None, end=None).conditions()


def _either(own: Any, other: Any, borough: str | None) -> list[Any]:
    """A rollup's rows given or received in the borough (all rows for no borough)."""
    return [] if borough is None else [sa.or_(own == borough, other == borough)]


class RollupSource:
    """A scope of days, optionally of a category or borough: whole months from the rollups,
    the part-months from the facts. A category's organizations and requests are read from
    the facts (by the category's index: a category is a small part of them)."""

    def __init__(self, session: Session, scope: Scope, months: tuple[str, str]) -> None:
        self.session, self.scope = session, scope
        self.first, self.last = months
        self.edges = FactsSource(session, [_edge_days(scope, self.first, self.last),
                                           *_filters(scope)])  # fmt: skip
        self.by_category = (
            FactsSource(session, scope.conditions(scan=scope.wide)) if scope.category_id else None
        )
        self.borough = scope.borough or None

    def _whole(self, column: Any) -> sa.ColumnElement[bool]:
        """A rollup's months within the whole months of the period."""
        return column.between(self.first, self.last)

    def _months(self) -> list[Any]:
        """impact_months rows of the whole months, the category and the borough."""
        where = [self._whole(M.month), *_either(M.giver_borough, M.receiver_borough,
                                                 self.borough)]  # fmt: skip
        if self.scope.category_id:
            where.append(M.category_id == self.scope.category_id)
        return where

    def month_category_rows(self, organization_id: int | None) -> list[Row]:
        """As FactsSource (no organization: a scope of days only)."""
        query = sa.select(
            M.month, M.category_id, sa.func.sum(M.transfers), sa.func.sum(M.quantity),
            sa.func.sum(M.short_dated), sa.literal(0),
        ).where(*self._months()).group_by(M.month, M.category_id)  # fmt: skip
        return [*self.session.execute(query).all(), *self.edges.month_category_rows(None)]

    def _org_rows(self) -> tuple[Any, list[Any]]:
        """The organizations' rollup of the scope, and its rows of the whole months."""
        if self.borough is None:
            return MO, [self._whole(MO.month)]
        return OB, [self._whole(OB.month),
                    *_either(OB.borough, OB.other_borough, self.borough)]  # fmt: skip

    def _request_rows(self) -> tuple[Any, list[Any]]:
        """The requests' rollup of the scope, and its rows of the whole months."""
        if self.borough is None:
            return R, [self._whole(R.month)]
        return RB, [self._whole(RB.month),
                    *_either(RB.giver_borough, RB.receiver_borough, self.borough)]  # fmt: skip

    def people_total(self) -> Row:
        """Distinct organizations and requests of the rollups' months and the facts' days."""
        if self.by_category is not None:
            return self.by_category.people_total()
        edges = self.edges.where
        org_table, org_where = self._org_rows()
        orgs = sa.union_all(
            sa.select(org_table.side, org_table.organization_id.label("org")).where(*org_where),
            sa.select(sa.literal("gave"), F.giver_id).where(*edges),
            sa.select(sa.literal("received"), F.receiver_id).where(*edges),
        ).subquery()
        givers, receivers = self.session.execute(sa.select(
            sa.func.count(sa.distinct(sa.case((orgs.c.side == "gave", orgs.c.org)))),
            sa.func.count(sa.distinct(sa.case((orgs.c.side == "received", orgs.c.org)))),
        )).one()  # fmt: skip
        req_table, req_where = self._request_rows()
        requests = sa.union_all(
            sa.select(req_table.request_id.label("request"), req_table.on_time.label("on_time"),
                      req_table.has_need_by.label("need_by")).where(*req_where),
            sa.select(F.request_id, F.on_time, F.need_by.is_not(None)).where(*edges),
        ).subquery()  # fmt: skip
        filled, on_time, with_need_by = self.session.execute(sa.select(
            sa.func.count(sa.distinct(requests.c.request)),
            sa.func.count(sa.distinct(sa.case((requests.c.on_time.is_(True), requests.c.request)))),
            sa.func.count(sa.distinct(sa.case((requests.c.need_by.is_(True), requests.c.request)))),
        )).one()  # fmt: skip
        return tuple(_int(v) for v in (givers, receivers, filled, on_time, with_need_by))

    def _each(self, column: Any, condition: Any = True) -> Any:
        """How many rows of a month meet the condition: each is one organization's side, or
        one request (a borough's rollups count them distinct: one per pair of boroughs)."""
        if self.borough is None:
            return sa.func.sum(sa.case((condition, 1), else_=0))
        return sa.func.count(sa.distinct(sa.case((condition, column))))

    def people_by_month(self) -> list[Row]:
        """(month, givers, receivers, requests filled, on time, with a need-by)."""
        if self.by_category is not None:
            return self.by_category.people_by_month()
        org_table, org_where = self._org_rows()
        req_table, req_where = self._request_rows()
        org = org_table.organization_id
        orgs = sa.select(
            org_table.month, self._each(org, org_table.side == "gave"),
            self._each(org, org_table.side == "received"),
        ).where(*org_where).group_by(org_table.month)  # fmt: skip
        request = req_table.request_id
        requests = sa.select(
            req_table.month, self._each(request, sa.true()),
            self._each(request, req_table.on_time.is_(True)),
            self._each(request, req_table.has_need_by.is_(True)),
        ).where(*req_where).group_by(req_table.month)  # fmt: skip
        people = {m: [m, _int(g), _int(r), 0, 0, 0] for m, g, r in self.session.execute(orgs)}
        for month, filled, on_time, need_by in self.session.execute(requests):
            people.setdefault(month, [month, 0, 0, 0, 0, 0])[3:] = [
                _int(filled),
                _int(on_time),
                _int(need_by),
            ]
        return [tuple(row) for row in people.values()] + self.edges.people_by_month()

    def _counts(self) -> dict[str, int]:
        """Transfers of each whole month."""
        query = sa.select(M.month, sa.func.sum(M.transfers)).where(*self._months())
        return {m: _int(n) for m, n in self.session.execute(query.group_by(M.month))}

    def _narrowed(self) -> list[Condition]:
        """The medians' conditions of the scope's category and borough."""
        where: list[Condition] = []
        if self.scope.category_id:
            where.append(("category_id", "=", self.scope.category_id))
        if self.borough is not None:
            where.append(("borough", "either", self.borough))
        return where

    def _middle(self, where: list[Condition], count: int, index: str) -> float | None:
        """The median of `count` receipts, reading only up to the middle ones in `index`."""
        if count == 0:
            return None
        return _middle_days(_middle_hours(self.session, where, count, index))

    def median_total(self) -> float | None:
        """Median days of the period."""
        edge_count = self.session.scalar(sa.select(sa.func.count()).where(*self.edges.where))
        count = sum(self._counts().values()) + _int(edge_count)
        period: list[Condition] = []
        if self.scope.start is not None:
            period.append(("received_on", ">=", self.scope.start))
        if self.scope.end is not None:
            period.append(("received_on", "<=", self.scope.end))
        return self._middle([*period, *self._narrowed()], count, "ix_impact_facts_hours")

    def medians_by_month(self) -> dict[str, float]:
        """Median days of each month: whole months read by index (on PostgreSQL one
        percentile_cont per month, the same mean of the middle two), part-months ranked."""
        if self.session.get_bind().dialect.name == "postgresql":
            return {**self._percentiles(), **self.edges.medians_by_month()}
        medians = {}
        for month, count in self._counts().items():
            where: list[Condition] = [("month", "=", month), *self._narrowed()]
            value = self._middle(where, count, "ix_impact_facts_month_hours")
            if value is not None:
                medians[month] = value
        return {**medians, **self.edges.medians_by_month()}

    def _percentiles(self) -> dict[str, float]:
        """PostgreSQL: the median hours of each whole month in one grouped query."""
        clauses = [_clause(column, op, value) for column, op, value in self._narrowed()]
        median = sa.func.percentile_cont(0.5).within_group(F.hours_to_receipt)
        query = sa.select(F.month, median).where(self._whole(F.month), *clauses)
        rows = self.session.execute(query.group_by(F.month)).all()
        return {str(m): round(float(h) / 24, 1) for m, h in rows if h is not None}

    def side_totals(self, side: str, by: str) -> list[Row]:
        """As FactsSource, summing the rollups' months and the facts' days."""
        column: Any
        if by == "borough":
            column = M.giver_borough if side == "gave" else M.receiver_borough
            units = sa.func.sum(sa.case((M.kind == Kind.SUPPLY, M.quantity), else_=0))
            hours = sa.func.sum(sa.case((M.kind == Kind.STAFFING, M.quantity), else_=0))
            query = sa.select(column, sa.func.sum(M.transfers), units, hours).where(*self._months())
        elif self.by_category is not None:
            return self.by_category.side_totals(side, by)
        else:
            table, where = self._org_rows()
            column = table.organization_id
            query = sa.select(
                column, sa.func.sum(table.transfers), sa.func.sum(table.units),
                sa.func.sum(table.hours),
            ).where(*where, table.side == side)  # fmt: skip
        rows = self.session.execute(query.group_by(column)).all()
        return [*rows, *self.edges.side_totals(side, by)]
