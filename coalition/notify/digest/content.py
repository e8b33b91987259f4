"""One reader's digest: the snapshot filtered in Python by the reader's kinds, categories,
scope and distance, in plain or neutral wording."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask_babel import format_number, get_locale, gettext, ngettext

from coalition.labels import translated
from coalition.models.digests import DigestScope
from coalition.models.listings import Direction
from coalition.notify.digest.readers import Links, Recipient
from coalition.notify.digest.snapshot import MAX_ITEMS, Impact, ListingRow, Snapshot, Waiting
from coalition.services.discretion import BANDS_KM, distance_phrase


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a digest section (attributes, which templates read fastest)."""

    label: str
    quantity: int
    unit: str
    url: str = ""
    org: str = ""
    action: str = ""
    distance: str | None = None  # "16 km away"; bands and whole km unless a coordinator
    urgency: str | None = None
    need_by: date | None = None
    expires_on: date | None = None
    days: int | None = None


@dataclass(frozen=True, slots=True)
class Fold:
    """Many similar postings as one line: '40 offers of naloxone nasal spray, 1,000 units'."""

    category_id: int
    label: str
    count: int
    units: int
    unit: str


@dataclass
class Section:
    """Items shown, and how many there were in all."""

    items: list[Item]
    total: int
    folds: list[Fold] = field(default_factory=list)  # categories with FOLD_AT or more
    ours: int = 0  # the reader's own organization's postings, left out of the section
    per_category: list[tuple[int, int]] = field(default_factory=list)  # (category, postings)

    @property
    def more(self) -> int:
        """Items not shown."""
        return self.total - len(self.items)


@dataclass
class DigestContent:
    """Everything one digest says."""

    recipient: Recipient
    since: datetime
    until: datetime
    offers: Section
    requests: Section
    waiting: Section
    proposals: Section
    expiring: Section
    impact: list[Item]
    staff_hours: int
    fulfilled: int
    org_name: str
    links: dict[str, str]
    headlines: list[str] = field(default_factory=list)  # what concerns this reader, first

    @property
    def is_empty(self) -> bool:
        """Nothing new, nothing waiting, nothing expiring (shared impact alone is no news)."""
        sections = (self.offers, self.requests, self.waiting, self.proposals, self.expiring)
        return all(s.total == 0 for s in sections) and not (self.offers.ours or self.requests.ours)

    @property
    def period_label(self) -> str:
        """The window in the recipient's time zone and the reader's language."""
        zone = ZoneInfo(self.recipient.timezone)
        start, end = self.since.astimezone(zone), self.until.astimezone(zone)
        return gettext(
            "%(start)s to %(end)s (%(zone)s)",
            start=_moment(start),
            end=_moment(end),
            zone=self.recipient.timezone,
        )

    @property
    def subject(self) -> str:
        """A subject that says what is inside without naming any supply."""
        waiting = self.waiting.total + self.proposals.total
        said = [
            part
            for n, part in (
                (
                    self.offers.total,
                    ngettext("%(num)s new offer", "%(num)s new offers", self.offers.total),
                ),
                (
                    self.requests.total,
                    ngettext("%(num)s new request", "%(num)s new requests", self.requests.total),
                ),
                (waiting, ngettext("%(num)s match waiting", "%(num)s matches waiting", waiting)),
                (
                    self.expiring.total,
                    ngettext("%(num)s lot expiring", "%(num)s lots expiring", self.expiring.total),
                ),
            )
            if n
        ]
        if not said:
            return gettext("Coalition digest: nothing new")
        return gettext("Coalition digest: %(news)s", news=", ".join(said))


def _moment(moment: datetime) -> str:
    """'Thu 03 Dec 17:12' in the reader's language."""
    return format_datetime(moment, "EEE dd MMM HH:mm", tzinfo=moment.tzinfo, locale=_locale())


def _locale() -> str:
    """The language being written in."""
    return str(get_locale() or "en")


def build_content(
    snapshot: Snapshot, recipient: Recipient, since: datetime, until: datetime
) -> DigestContent:
    """One recipient's digest for the window [since, until)."""
    offers, requests = _new_listings(snapshot, recipient, since, until)
    impact = snapshot.impact(since, until)
    org = snapshot.orgs.get(recipient.organization_id or 0)
    content = DigestContent(
        recipient=recipient,
        since=since,
        until=until,
        offers=offers,
        requests=requests,
        waiting=_waiting(snapshot, recipient),
        proposals=_proposals(snapshot, recipient),
        expiring=_expiring(snapshot, recipient),
        impact=_impact_items(snapshot, impact, recipient.neutral),
        staff_hours=impact.staff_hours,
        fulfilled=impact.fulfilled,
        org_name=org.name if org else "",
        links=_links(snapshot.links, recipient),
    )
    content.headlines = headlines(snapshot, recipient, content, since, until)
    return content


def _links(links: Links, recipient: Recipient) -> dict[str, str]:
    """The links every digest carries."""
    return {
        "browse": links.url("browse"),
        "matches": links.url("matches"),
        "queue": links.url("queue"),
        "settings": links.url("settings"),
        "home": links.url("home"),
        "unsubscribe": recipient.unsubscribe_url,
    }


def _new_listings(
    snapshot: Snapshot, recipient: Recipient, since: datetime, until: datetime
) -> tuple[Section, Section]:
    """New offers and requests for the recipient; readers with the same view, window,
    filters and wording share one result."""
    key = (
        recipient.viewer, since, until, recipient.kinds, recipient.categories,
        recipient.max_distance_km, recipient.scope, recipient.neutral, _locale(),
    )  # fmt: skip
    if key not in snapshot.sections:
        snapshot.sections[key] = _filter_listings(snapshot, recipient, since, until)
    return snapshot.sections[key]


def _filter_listings(
    snapshot: Snapshot, recipient: Recipient, since: datetime, until: datetime
) -> tuple[Section, Section]:
    """New offers and new requests that pass the recipient's filters and visibility."""
    found: dict[Direction, list[Item]] = {Direction.OFFER: [], Direction.REQUEST: []}
    totals = {Direction.OFFER: 0, Direction.REQUEST: 0}
    ours = {Direction.OFFER: 0, Direction.REQUEST: 0}
    counts: dict[Direction, Counter[int]] = {d: Counter() for d in totals}
    units: dict[Direction, Counter[int]] = {d: Counter() for d in totals}
    own_only = recipient.scope == DigestScope.OWN_ORG
    for row, distance in snapshot.candidates(recipient.viewer, since, until):
        if not _passes(recipient, row, distance):
            continue
        if row.organization_id == recipient.organization_id and not own_only:
            ours[row.direction] += 1  # our own postings are no news to us: one line
            continue
        totals[row.direction] += 1
        counts[row.direction][row.category_id] += 1
        units[row.direction][row.category_id] += row.available
        if len(found[row.direction]) < MAX_ITEMS:
            found[row.direction].append(_listing_item(snapshot, recipient, row, distance))
    offers, requests = (
        Section(
            found[d],
            totals[d],
            _folds(snapshot, recipient, counts[d], units[d]),
            ours[d],
            list(counts[d].items()),
        )
        for d in (Direction.OFFER, Direction.REQUEST)
    )
    return offers, requests


FOLD_AT = 3


def _folds(
    snapshot: Snapshot, recipient: Recipient, counts: Counter[int], units: Counter[int]
) -> list[Fold]:
    """Categories posted FOLD_AT times or more, most postings first."""
    folds = []
    for category_id, count in counts.most_common():
        if count < FOLD_AT:
            break
        category = snapshot.categories[category_id]
        folds.append(
            Fold(
                category_id,
                category.label(recipient.neutral),
                count,
                units[category_id],
                category.unit_for(recipient.neutral),
            )
        )
    return folds


def _passes(recipient: Recipient, row: ListingRow, distance: float | None) -> bool:
    """Kind, category, scope and distance filters."""
    if recipient.kinds and row.kind not in recipient.kinds:
        return False
    if recipient.categories and row.category_slug not in recipient.categories:
        return False
    if recipient.scope == DigestScope.OWN_ORG and row.organization_id != recipient.organization_id:
        return False
    limit = recipient.max_distance_km
    return limit is None or distance is None or distance <= limit


def _org_label(
    snapshot: Snapshot, org_id: int, recipient: Recipient, names_shared: bool = True
) -> str:
    """`_label_of`, kept per snapshot: digests repeat the same few organizations."""
    key = ("org", org_id, recipient.organization_id, recipient.is_coordinator,
           recipient.neutral, names_shared, _locale())  # fmt: skip
    if key not in snapshot.phrases:
        snapshot.phrases[key] = _label_of(snapshot, org_id, recipient, names_shared)
    return snapshot.phrases[key]


def _label_of(snapshot: Snapshot, org_id: int, recipient: Recipient, names_shared: bool) -> str:
    """The organization's name; neutral wording names only where it is. A listing
    (`names_shared=False`) names another organization only for coordinators or when it
    shows its name on listings (discretion, as on the listings pages)."""
    org = snapshot.orgs[org_id]
    if org_id == recipient.organization_id:
        return gettext("your organization")
    named = names_shared or recipient.is_coordinator or org.show_name
    if recipient.neutral or not named:
        return gettext("a member organization in %(area)s", area=org.area)
    return f"{org.name} ({org.area})"


def _distance_text(snapshot: Snapshot, distance: float | None, recipient: Recipient) -> str | None:
    """Exact to 0.1 km for coordinators; others get bands under 5 km and whole km above."""
    if distance is None:
        return None
    shown = round(distance, 1) if recipient.is_coordinator else _band(distance)
    key = ("km", shown, recipient.is_coordinator, _locale())
    if key not in snapshot.phrases:
        snapshot.phrases[key] = (
            gettext("%(km)s km away", km=shown)
            if recipient.is_coordinator
            else distance_phrase(distance)
        )
    return snapshot.phrases[key]


def _band(distance: float) -> Any:
    """What a member's distance phrase depends on: its band under 5 km, whole km above."""
    if distance < BANDS_KM[-1]:
        return ("band", next(i for i, top in enumerate(BANDS_KM) if distance < top))
    return round(distance)


def _listing_item(
    snapshot: Snapshot, recipient: Recipient, row: ListingRow, distance: float | None
) -> Item:
    """What a digest shows of one listing."""
    category = snapshot.categories[row.category_id]
    return Item(
        label=category.label(recipient.neutral),
        quantity=row.available,
        unit=category.unit_for(recipient.neutral),
        url=row.url,
        org=_org_label(snapshot, row.organization_id, recipient, names_shared=False),
        distance=_distance_text(snapshot, distance, recipient),
        urgency=row.urgency,
        need_by=row.need_by,
        expires_on=row.expires_on,
    )


def _waiting(snapshot: Snapshot, recipient: Recipient) -> Section:
    """Matches waiting for the recipient's organization."""
    if recipient.organization_id is None:
        return Section([], 0)
    items = snapshot.waiting(recipient.organization_id)
    return Section([_waiting_item(snapshot, recipient, w) for w in items[:MAX_ITEMS]], len(items))


def _proposals(snapshot: Snapshot, recipient: Recipient) -> Section:
    """For coordinators: proposals waiting for approval."""
    if not recipient.is_coordinator:
        return Section([], 0)
    total, items = snapshot.proposals()
    return Section([_waiting_item(snapshot, recipient, w) for w in items], total)


def _waiting_item(snapshot: Snapshot, recipient: Recipient, item: Waiting) -> Item:
    """What a digest shows of one match."""
    category = snapshot.categories[item.category_id]
    return Item(
        label=category.label(recipient.neutral),
        quantity=item.quantity,
        unit=category.unit_for(recipient.neutral),
        url=item.url,
        org=_org_label(snapshot, item.counterpart_id, recipient),
        action=item.action,
    )


def _expiring(snapshot: Snapshot, recipient: Recipient) -> Section:
    """The recipient's organization's stock expiring within 30 days."""
    if recipient.organization_id is None:
        return Section([], 0)
    lots = snapshot.expiring(recipient.organization_id)
    items = []
    for lot in lots[:MAX_ITEMS]:
        category = snapshot.categories[lot.category_id]
        items.append(
            Item(
                label=category.label(recipient.neutral),
                quantity=lot.available,
                unit=category.unit_for(recipient.neutral),
                url=lot.url,
                expires_on=lot.expires_on,
                days=(lot.expires_on - snapshot.today).days,
            )
        )
    return Section(items, len(lots))


def _impact_items(snapshot: Snapshot, impact: Impact, neutral: bool) -> list[Item]:
    """Units shared by category, largest first."""
    items = []
    for category_id, units in impact.units:
        category = snapshot.categories[category_id]
        items.append(Item(category.label(neutral), units, category.unit_for(neutral)))
    return items


# ---------------------------------------------------------------- the news, first


def headlines(
    snapshot: Snapshot,
    recipient: Recipient,
    content: DigestContent,
    since: datetime,
    until: datetime,
) -> list[str]:
    """What concerns this reader, first: what waits for them, new requests they could fill,
    new offers that fit their open requests, their stock expiring; then the big postings."""
    lines = []
    if content.waiting.total:
        lines.append(
            ngettext(
                "%(num)s match waits for your organization.",
                "%(num)s matches wait for your organization.",
                content.waiting.total,
            )
        )
    if content.proposals.total:
        lines.append(
            ngettext(
                "%(num)s proposal waits for a coordinator.",
                "%(num)s proposals wait for a coordinator.",
                content.proposals.total,
            )
        )
    lines.extend(_fits(snapshot, recipient, content))
    if content.expiring.total:
        lines.append(
            ngettext(
                "%(num)s lot of your stock expires within 30 days.",
                "%(num)s lots of your stock expire within 30 days.",
                content.expiring.total,
            )
        )
    for fold in content.offers.folds[:2]:
        lines.append(_fold_line(fold, Direction.OFFER))
    for fold in content.requests.folds[:2]:
        lines.append(_fold_line(fold, Direction.REQUEST))
    return lines


def _fits(snapshot: Snapshot, recipient: Recipient, content: DigestContent) -> list[str]:
    """New requests in categories we offer, and new offers in categories we asked for."""
    org_id = recipient.organization_id
    if org_id is None:
        return []
    lines = []
    offered = snapshot.open_categories(org_id, Direction.OFFER)
    asked = snapshot.open_categories(org_id, Direction.REQUEST)
    fill = _count_in(content.requests, offered)
    if fill:
        lines.append(
            ngettext(
                "%(num)s new request is for something you offer.",
                "%(num)s new requests are for things you offer.",
                fill,
            )
        )
    fit = _count_in(content.offers, asked)
    if fit:
        lines.append(
            ngettext(
                "%(num)s new offer fits what you asked for.",
                "%(num)s new offers fit what you asked for.",
                fit,
            )
        )
    return lines


def _count_in(section: Section, categories: frozenset[int]) -> int:
    """Postings of the section in these categories (counted per category, all of them)."""
    return sum(count for category_id, count in section.per_category if category_id in categories)


def _fold_line(fold: Fold, direction: Direction) -> str:
    """'40 offers of Naloxone nasal spray 4 mg, 1,000 units in all.'"""
    words = {"label": fold.label, "units": format_number(fold.units), "unit": translated(fold.unit)}
    if direction == Direction.OFFER:
        return gettext(
            "%(num)s offers of %(label)s, %(units)s %(unit)s in all.", num=fold.count, **words
        )
    return gettext(
        "%(num)s requests for %(label)s, %(units)s %(unit)s in all.", num=fold.count, **words
    )
