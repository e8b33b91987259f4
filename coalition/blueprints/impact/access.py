"""Who may see which impact figures, and what a request's parameters ask for.

Coordinators see the coalition (or any one organization) with every name; a member sees
its own organization and the coalition's totals, with other organizations summed as
'Other member organizations' unless they chose to show their name
(`Organization.show_name`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date, gettext

from coalition.auth import actor, is_coordinator
from coalition.extensions import db
from coalition.i18n import N_
from coalition.models.catalog import Category
from coalition.models.organizations import Organization
from coalition.services.impact import TIMEZONE, Scope, Wording


class Refused(Exception):
    """The caller may not see these figures (status 403 or 404), or asked badly (422)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


@dataclass(frozen=True)
class Report:
    """What one request for impact figures resolves to."""

    scope: Scope
    wording: Wording
    group_by: str
    organization: Organization | None
    # the coalition's totals a member also sees beside its own figures
    coalition_scope: Scope | None

    @property
    def neutral(self) -> bool:
        """Whether the report uses neutral wording."""
        return self.wording.neutral

    @property
    def is_coalition(self) -> bool:
        """Whether the figures are the whole coalition's."""
        return self.organization is None

    @property
    def title(self) -> str:
        """The report's title, in its wording."""
        who = self.organization.name if self.organization else coalition_description(self.neutral)
        return gettext("Shared impact: %(who)s", who=who)

    @property
    def period_label(self) -> str:
        """'1 Jul 2026 to 30 Sep 2026', in the reader's language."""
        start, end = self.scope.start, self.scope.end
        if not (start and end):
            return ""
        return gettext(
            "%(start)s to %(end)s",
            start=format_date(start, "d MMM y"),
            end=format_date(end, "d MMM y"),
        )

    def filename(self, extension: str) -> str:
        """A file name in the report's wording."""
        if self.organization:
            stem = self.organization.slug
        else:
            stem = "health-programs" if self.neutral else "harm-reduction-coalition"
        tag = f"-{slug(self.scope.tag)}" if self.scope.tag else ""
        return f"{stem}-impact{tag}-{self.scope.start}-{self.scope.end}.{extension}"

    def for_coalition(self) -> Report:
        """The same request, for the coalition's totals."""
        assert self.coalition_scope is not None
        return replace(self, scope=self.coalition_scope, organization=None, coalition_scope=None)


def coalition_description(neutral: bool) -> str:
    """How the coalition describes itself, or its neutral label."""
    key = "COALITION_NEUTRAL_DESCRIPTION" if neutral else "COALITION_DESCRIPTION"
    return str(current_app.config.get(key) or gettext(DESCRIPTIONS[neutral]))


DESCRIPTIONS = {
    False: N_("a coalition of harm-reduction organizations"),
    True: N_("a coalition of health programs"),
}


def slug(text: str) -> str:
    """A file-name-safe form of a tag."""
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(part for part in cleaned.split("-") if part)[:40]


def today() -> date:
    """Today on the coalition's calendar."""
    from coalition.models.base import utcnow

    return utcnow().astimezone(TIMEZONE).date()


def default_period() -> tuple[date, date]:
    """The last twelve months, from the first of the month eleven months ago."""
    end = today()
    month = end.month - 11
    start = date(end.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return start, end


def quick_periods(now: date | None = None) -> list[tuple[str, date, date]]:
    """One-click periods: this quarter, last quarter, this year, last year, 12 months (their
    labels in the reader's language)."""
    now = now or today()
    quarter_start = date(now.year, 3 * ((now.month - 1) // 3) + 1, 1)
    last_end = quarter_start - timedelta(days=1)
    last_start = date(last_end.year, 3 * ((last_end.month - 1) // 3) + 1, 1)
    start12, _ = default_period()
    return [
        (_quarter(now), quarter_start, now),
        (_quarter(last_end), last_start, last_end),
        (f"{now.year}", date(now.year, 1, 1), now),
        (f"{now.year - 1}", date(now.year - 1, 1, 1), date(now.year - 1, 12, 31)),
        (gettext("Last 12 months"), start12, now),
    ]


def _quarter(day: date) -> str:
    """'Q3 2026'."""
    return gettext("Q%(quarter)s %(year)s", quarter=(day.month - 1) // 3 + 1, year=day.year)


def resolve(args: dict[str, Any]) -> Report:
    """The report the caller asked for and may see; raises Refused otherwise."""
    who = actor()
    start, end = args.get("start"), args.get("end")
    if not (start and end):
        default_start, default_end = default_period()
        start, end = start or default_start, end or default_end
    if end < start:
        raise Refused(422, "must not be before from", "to")
    organization = _organization(who, args.get("organization"))
    own = getattr(who, "organization_id", None)
    base = Scope(
        start=start,
        end=end,
        category_id=_category_id(args.get("category")),
        borough=args.get("borough") or None,
        tag=(args.get("tag") or "").strip() or None,
        tag_org_id=None if is_coordinator() else own,
    )
    neutral = args.get("neutral")
    if neutral is None:
        neutral = bool(organization and organization.discreet_wording)
    named = None if is_coordinator() else named_organizations(own)
    scope = replace(base, organization_id=organization.id) if organization else base
    coalition_scope = None if is_coordinator() else base
    return Report(scope, Wording(neutral, named), args.get("group_by", "category"),
                  organization, coalition_scope)  # fmt: skip


def named_organizations(own: int | None) -> frozenset[int]:
    """Whom a member's breakdowns name: its own organization and those that chose to be named."""
    shown = db.session.scalars(sa.select(Organization.id).where(Organization.show_name.is_(True)))
    return frozenset({*shown, *([own] if own else [])})


def _organization(who: Any, slug_: str | None) -> Organization | None:
    """The organization whose figures are asked for: any for coordinators, else one's own."""
    if is_coordinator():
        if not slug_:
            return None
        org = db.session.scalar(sa.select(Organization).where(Organization.slug == slug_))
        if org is None:
            raise Refused(404, "No such organization.", "organization")
        return org
    own_id = getattr(who, "organization_id", None)
    if own_id is None:
        raise Refused(403, "Only coordinators and members of an organization see impact.")
    own = db.session.get(Organization, own_id)
    if own is None or (slug_ and slug_ != own.slug):
        raise Refused(403, "You may see only your own organization's figures.", "organization")
    return own


def _category_id(slug_: str | None) -> int | None:
    """The id of a category slug; 422 when unknown."""
    if not slug_:
        return None
    category_id = db.session.scalar(sa.select(Category.id).where(Category.slug == slug_))
    if category_id is None:
        raise Refused(422, "unknown category", "category")
    return category_id
