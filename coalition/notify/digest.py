"""Digest content and delivery: what each recipient sees, rendered and handed to SMTP.

Content that many recipients share (new listings of the period, who may see each, the
coalition's impact, matches waiting and stock expiring per organization) is loaded once into
a `Snapshot` with a handful of queries; each recipient's digest is then filtered in Python.
Visibility comes from the listings service's own query, run once per kind of viewer (a
coordinator, a member of one organization, someone of no organization).
"""

from __future__ import annotations

import binascii
import logging
import queue
import random
import smtplib
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.header import Header
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from jinja2 import Template
from sqlalchemy.orm import aliased

from coalition.matching.geo import haversine_km
from coalition.models.catalog import Category, Kind
from coalition.models.digests import DEFAULT_TIMEZONE, DigestScope
from coalition.models.listings import ACTIVE_STATUSES, Direction, Listing
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import Organization
from coalition.notify.mail import SmtpSettings, smtp_connection
from coalition.services.listings import visible_listings_query
from coalition.sessions import Session

log = logging.getLogger("coalition.mail")

MAX_ITEMS = 10  # per section; the rest is a count and a link
EXPIRY_DAYS = 30
WIRE = compat32.clone(linesep="\r\n")  # smtplib sends bytes as they are: CRLF is ours to write


# ---------------------------------------------------------------- links


class Links:
    """Absolute links built on BASE_URL without a request, so the worker can build them."""

    TARGETS: dict[str, str] = {
        "listing": "listings.detail",
        "browse": "listings.browse",
        "match": "matches.show",
        "matches": "matches.index",
        "queue": "matches.queue",
        "settings": "digests.settings",
        "unsubscribe": "digests.unsubscribe",
        "home": "main.dashboard",
    }

    def __init__(self, app: Flask) -> None:
        self.base = app.config["BASE_URL"].rstrip("/")
        self.adapter = app.url_map.bind("localhost")

    def url(self, target: str, **values: Any) -> str:
        """The absolute URL of a named page."""
        return self.base + self.adapter.build(self.TARGETS[target], values)


# ---------------------------------------------------------------- who reads


@dataclass(frozen=True)
class Viewer:
    """What the listings service needs to decide visibility, for any kind of recipient."""

    organization_id: int | None
    is_coordinator: bool = False
    is_authenticated: bool = True


@dataclass
class Recipient:
    """A digest's reader and their filters, detached from the session."""

    subscription_id: int
    address: str
    name: str
    organization_id: int | None
    is_coordinator: bool
    kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    max_distance_km: float | None = None
    scope: DigestScope = DigestScope.COALITION
    neutral: bool = False
    send_empty: bool = False
    timezone: str = DEFAULT_TIMEZONE
    unsubscribe_url: str = ""
    unsubscribe_mailto: str = ""

    @property
    def viewer(self) -> Viewer:
        """The viewer whose visibility this recipient has."""
        return Viewer(self.organization_id, self.is_coordinator)


# ---------------------------------------------------------------- shared content


@dataclass(frozen=True)
class ListingRow:
    """A new listing, as every digest of the period may show it."""

    category_slug: str
    url: str
    id: int
    direction: Direction
    kind: Kind
    category_id: int
    organization_id: int
    lat: float
    lon: float
    created_at: datetime
    available: int
    urgency: str | None
    need_by: date | None
    expires_on: date | None


@dataclass(frozen=True)
class OrgRow:
    """An organization, as digests name it."""

    id: int
    name: str
    area: str
    lat: float
    lon: float
    timezone: str
    discreet: bool


@dataclass(frozen=True)
class CategoryRow:
    """A category's labels and unit."""

    id: int
    slug: str
    kind: Kind
    unit: str
    plain: str
    neutral: str

    def label(self, neutral: bool) -> str:
        """Plain or neutral label."""
        return self.neutral if neutral else self.plain

    def unit_for(self, neutral: bool) -> str:
        """The unit; neutral wording says only units or hours."""
        if neutral:
            return "hours" if self.kind == Kind.STAFFING else "units"
        return self.unit


@dataclass
class Impact:
    """What the coalition shared in a period."""

    units: list[tuple[int, int]] = field(default_factory=list)  # (category id, units)
    staff_hours: int = 0
    fulfilled: int = 0

    @property
    def is_empty(self) -> bool:
        """Nothing was handed over."""
        return self.fulfilled == 0


@dataclass(frozen=True)
class Waiting:
    """A match waiting for one organization's action."""

    match_id: int
    action: str
    category_id: int
    quantity: int
    counterpart_id: int
    url: str


@dataclass(frozen=True)
class Expiring:
    """A lot of the recipient's organization expiring soon."""

    category_id: int
    available: int
    expires_on: date
    url: str


class Snapshot:
    """Everything digests of one run share, loaded with a fixed number of queries."""

    def __init__(self, session: Session, links: Links, since: datetime, until: datetime) -> None:
        self.session = session
        self.links = links
        self.since = since
        self.until = until
        self.today = until.date()
        self.categories = self._categories()
        self.orgs = self._orgs()
        self.listings = self._listings()
        self._visible: dict[Viewer, frozenset[int]] = {}
        self._impact: dict[tuple[datetime, datetime], Impact] = {}
        self._waiting: dict[int, list[Waiting]] | None = None
        self._proposals: tuple[int, list[Waiting]] | None = None
        self._expiring: dict[int, list[Expiring]] | None = None
        self._candidates: dict[
            tuple[Viewer, datetime, datetime], list[tuple[ListingRow, float | None]]
        ] = {}
        self.sections: dict[tuple[Any, ...], tuple[Section, Section]] = {}

    def covers(self, since: datetime, until: datetime) -> bool:
        """Whether a window lies within what this snapshot loaded."""
        return self.since <= since and until <= self.until

    def _categories(self) -> dict[int, CategoryRow]:
        """Every category by id."""
        rows = self.session.execute(
            sa.select(
                Category.id,
                Category.slug,
                Category.kind,
                Category.unit,
                Category.plain_label,
                Category.neutral_label,
            )
        )
        return {r[0]: CategoryRow(*r) for r in rows}

    def _orgs(self) -> dict[int, OrgRow]:
        """Every organization by id."""
        rows = self.session.execute(
            sa.select(
                Organization.id,
                Organization.name,
                Organization.borough,
                Organization.lat,
                Organization.lon,
                Organization.timezone,
                Organization.discreet_wording,
            )
        )
        return {r[0]: OrgRow(r[0], r[1], r[2] or "New York City", *r[3:]) for r in rows}

    def _window(self) -> list[Any]:
        """Conditions of the listings new in the snapshot's window and still open."""
        return [
            Listing.created_at >= self.since,
            Listing.created_at < self.until,
            Listing.status.in_(ACTIVE_STATUSES),
        ]

    def _listings(self) -> list[ListingRow]:
        """New listings of the window, newest first."""
        rows = self.session.execute(
            sa.select(
                Listing.id,
                Listing.direction,
                Listing.kind,
                Listing.category_id,
                Listing.organization_id,
                Listing.lat,
                Listing.lon,
                Listing.created_at,
                Listing.available,
                Listing.urgency,
                Listing.need_by,
                Listing.expires_on,
            )
            .where(*self._window())
            .order_by(Listing.created_at.desc(), Listing.id.desc())
        )
        slugs = {category_id: c.slug for category_id, c in self.categories.items()}
        url = self.links.url
        return [
            ListingRow(slugs[r[3]], url("listing", listing_id=r[0]), *cast(tuple[Any, ...], r))
            for r in rows
        ]

    def visible_ids(self, viewer: Viewer) -> frozenset[int]:
        """Ids of the window's listings this kind of viewer may see (one query per kind)."""
        if viewer not in self._visible:
            query = visible_listings_query(viewer).with_only_columns(Listing.id)
            ids = self.session.scalars(query.where(*self._window()))
            self._visible[viewer] = frozenset(ids)
        return self._visible[viewer]

    def impact(self, since: datetime, until: datetime) -> Impact:
        """Units by category, staff hours and fulfilled matches received in the window."""
        key = (since, until)
        if key not in self._impact:
            self._impact[key] = self._load_impact(since, until)
        return self._impact[key]

    def _load_impact(self, since: datetime, until: datetime) -> Impact:
        """One grouped query over the matches received in the window."""
        offer = aliased(Listing)
        rows = self.session.execute(
            sa.select(offer.category_id, offer.kind, sa.func.sum(Match.quantity), sa.func.count())
            .join(offer, Match.offer_id == offer.id)
            .where(
                Match.state == MatchState.FULFILLED,
                Match.received_at >= since,
                Match.received_at < until,
            )
            .group_by(offer.category_id, offer.kind)
        ).all()
        impact = Impact()
        for category_id, kind, quantity, count in rows:
            impact.fulfilled += count
            if kind == Kind.STAFFING:
                impact.staff_hours += int(quantity)
            else:
                impact.units.append((category_id, int(quantity)))
        impact.units.sort(key=lambda pair: -pair[1])
        return impact

    def waiting(self, org_id: int) -> list[Waiting]:
        """Approved matches the organization has not accepted, and hand-offs and receipts due."""
        if self._waiting is None:
            self._waiting = self._load_waiting()
        return self._waiting.get(org_id, [])

    def _load_waiting(self) -> dict[int, list[Waiting]]:
        """Every open match after approval, filed under the organization that must act."""
        offer, request = aliased(Listing), aliased(Listing)
        rows = self.session.execute(
            sa.select(
                Match.id,
                Match.state,
                Match.quantity,
                Match.offer_accepted_at,
                Match.request_accepted_at,
                offer.organization_id,
                request.organization_id,
                offer.category_id,
            )
            .join(offer, Match.offer_id == offer.id)
            .join(request, Match.request_id == request.id)
            .where(
                Match.state.in_((MatchState.APPROVED, MatchState.ACCEPTED, MatchState.HANDED_OFF))
            )
            .order_by(Match.created_at)
        ).all()
        waiting: dict[int, list[Waiting]] = defaultdict(list)
        for row in rows:
            for org_id, counterpart, action in _actions_due(*row[1:7]):
                url = self.links.url("match", match_id=row[0])
                waiting[org_id].append(Waiting(row[0], action, row[7], row[2], counterpart, url))
        return waiting

    def proposals(self) -> tuple[int, list[Waiting]]:
        """Proposed matches waiting for a coordinator: how many, and the oldest few."""
        if self._proposals is None:
            self._proposals = self._load_proposals()
        return self._proposals

    def _load_proposals(self) -> tuple[int, list[Waiting]]:
        """The count and the oldest proposals."""
        offer = aliased(Listing)
        base = sa.select(Match).where(Match.state == MatchState.PROPOSED)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
        rows = self.session.execute(
            sa.select(Match.id, Match.quantity, offer.category_id, offer.organization_id)
            .join(offer, Match.offer_id == offer.id)
            .where(Match.state == MatchState.PROPOSED)
            .order_by(Match.created_at, Match.id)
            .limit(MAX_ITEMS)
        ).all()
        url = self.links.url("queue")
        items = [Waiting(r[0], "approve or reject", r[2], r[1], r[3], url) for r in rows]
        return total, items

    def expiring(self, org_id: int) -> list[Expiring]:
        """The organization's open supply offers whose lot expires within 30 days."""
        if self._expiring is None:
            self._expiring = self._load_expiring()
        return self._expiring.get(org_id, [])

    def _load_expiring(self) -> dict[int, list[Expiring]]:
        """Every such offer, filed by organization, soonest first."""
        rows = self.session.execute(
            sa.select(
                Listing.id,
                Listing.organization_id,
                Listing.category_id,
                Listing.available,
                Listing.expires_on,
            )
            .where(
                Listing.direction == Direction.OFFER,
                Listing.kind == Kind.SUPPLY,
                Listing.status.in_(ACTIVE_STATUSES),
                Listing.available > 0,
                Listing.expires_on >= self.today,
                Listing.expires_on <= self.today + timedelta(days=EXPIRY_DAYS),
            )
            .order_by(Listing.expires_on, Listing.id)
        )
        expiring: dict[int, list[Expiring]] = defaultdict(list)
        for listing_id, org_id, category_id, available, expires_on in rows:
            if expires_on is None:  # excluded by the query; says so to the type checker
                continue
            url = self.links.url("listing", listing_id=listing_id)
            expiring[org_id].append(Expiring(category_id, available, expires_on, url))
        return expiring

    def candidates(
        self, viewer: Viewer, since: datetime, until: datetime
    ) -> list[tuple[ListingRow, float | None]]:
        """The window's listings this kind of viewer may see, newest first, each with its
        distance from the viewer's organization (computed once per kind of viewer)."""
        key = (viewer, since, until)
        if key not in self._candidates:
            visible = self.visible_ids(viewer)
            origin = self.orgs.get(viewer.organization_id or 0)
            self._candidates[key] = [
                (row, _distance(origin, row))
                for row in self.listings
                if row.id in visible and since <= row.created_at < until
            ]
        return self._candidates[key]


def _distance(origin: OrgRow | None, row: ListingRow) -> float | None:
    """Kilometres from an organization to another's listing; None for its own or for nobody's."""
    if origin is None or origin.id == row.organization_id:
        return None
    return haversine_km(origin.lat, origin.lon, row.lat, row.lon)


def _actions_due(
    state: MatchState,
    quantity: int,
    offer_accepted: datetime | None,
    request_accepted: datetime | None,
    offer_org: int,
    request_org: int,
) -> list[tuple[int, int, str]]:
    """(organization that must act, counterpart, what to do) for one match."""
    if state == MatchState.APPROVED:
        due = []
        if offer_accepted is None:
            due.append((offer_org, request_org, "accept or decline"))
        if request_accepted is None:
            due.append((request_org, offer_org, "accept or decline"))
        return due
    if state == MatchState.ACCEPTED:
        return [(offer_org, request_org, "hand over")]
    return [(request_org, offer_org, "confirm receipt")]


# ---------------------------------------------------------------- one recipient's digest


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a digest section (attributes, which templates read fastest)."""

    label: str
    quantity: int
    unit: str
    url: str = ""
    org: str = ""
    action: str = ""
    distance: float | None = None
    urgency: str | None = None
    need_by: date | None = None
    expires_on: date | None = None
    days: int | None = None


@dataclass
class Section:
    """Items shown, and how many there were in all."""

    items: list[Item]
    total: int

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

    @property
    def is_empty(self) -> bool:
        """Nothing new, nothing waiting, nothing expiring (shared impact alone is no news)."""
        sections = (self.offers, self.requests, self.waiting, self.proposals, self.expiring)
        return all(s.total == 0 for s in sections)

    @property
    def period_label(self) -> str:
        """The window in the recipient's time zone."""
        zone = ZoneInfo(self.recipient.timezone)
        start, end = self.since.astimezone(zone), self.until.astimezone(zone)
        return f"{start:%a %d %b %H:%M} to {end:%a %d %b %H:%M} ({self.recipient.timezone})"

    @property
    def subject(self) -> str:
        """A subject that says what is inside without naming any supply."""
        parts = [
            _count(self.offers.total, "new offer"),
            _count(self.requests.total, "new request"),
            _count(self.waiting.total + self.proposals.total, "match waiting", "matches waiting"),
            _count(self.expiring.total, "lot expiring", "lots expiring"),
        ]
        said = [p for p in parts if p]
        return "Coalition digest: " + (", ".join(said) if said else "nothing new")


def _count(n: int, one: str, many: str | None = None) -> str:
    """'3 new offers', '' for zero."""
    if n == 0:
        return ""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def build_content(
    snapshot: Snapshot, recipient: Recipient, since: datetime, until: datetime
) -> DigestContent:
    """One recipient's digest for the window [since, until)."""
    offers, requests = _new_listings(snapshot, recipient, since, until)
    impact = snapshot.impact(since, until)
    org = snapshot.orgs.get(recipient.organization_id or 0)
    return DigestContent(
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
        recipient.max_distance_km, recipient.scope, recipient.neutral,
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
    for row, distance in snapshot.candidates(recipient.viewer, since, until):
        if not _passes(recipient, row, distance):
            continue
        totals[row.direction] += 1
        if len(found[row.direction]) < MAX_ITEMS:
            found[row.direction].append(_listing_item(snapshot, recipient, row, distance))
    return (
        Section(found[Direction.OFFER], totals[Direction.OFFER]),
        Section(found[Direction.REQUEST], totals[Direction.REQUEST]),
    )


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


def _org_label(snapshot: Snapshot, org_id: int, recipient: Recipient) -> str:
    """The organization's name; neutral wording names only where it is."""
    org = snapshot.orgs[org_id]
    if org_id == recipient.organization_id:
        return "your organization"
    if recipient.neutral:
        return f"a member organization in {org.area}"
    return f"{org.name} ({org.area})"


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
        org=_org_label(snapshot, row.organization_id, recipient),
        distance=None if distance is None else round(distance, 1),
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


# ---------------------------------------------------------------- the message


@dataclass(frozen=True)
class Templates:
    """The compiled digest templates, fetched once per run."""

    text: Template
    html: Template

    @classmethod
    def load(cls, app: Flask) -> Templates:
        """From the app's Jinja environment (HTML autoescaped)."""
        env = app.jinja_env
        return cls(env.get_template("email/digest.txt"), env.get_template("email/digest.html"))


@dataclass(frozen=True)
class Rendered:
    """A digest ready to send."""

    message_id: str
    to: str
    subject: str
    text: str
    html: str
    data: bytes


def render_parts(templates: Templates, content: DigestContent) -> tuple[str, str]:
    """The plain-text and HTML bodies."""
    context = {"d": content, "r": content.recipient}
    return templates.text.render(context), templates.html.render(context)


def build_digest_message(
    app: Flask, templates: Templates, content: DigestContent, message_id: str
) -> Rendered:
    """A multipart/alternative message with one-click unsubscribe headers (RFC 8058)."""
    text, html = render_parts(templates, content)
    recipient = content.recipient
    headers: list[tuple[str, str | Header]] = [
        ("From", app.config["MAIL_FROM"]),
        ("To", formataddr((recipient.name, recipient.address), charset="utf-8")),
        ("Subject", _header(content.subject)),
        ("Date", format_datetime(content.until)),
        ("Message-ID", message_id),
        ("List-Id", f"Coalition digest <digest.{_domain(app)}>"),
        ("List-Unsubscribe", f"<{recipient.unsubscribe_url}>, <{recipient.unsubscribe_mailto}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Auto-Submitted", "auto-generated"),
    ]
    data = mime_alternative(headers, text, html)
    return Rendered(message_id, recipient.address, content.subject, text, html, data)


def mime_alternative(headers: list[tuple[str, str | Header]], text: str, html: str) -> bytes:
    """The message on the wire: folded headers, then a quoted-printable text and HTML part.

    Built by hand because the email package's generator encodes quoted-printable in Python,
    several times slower than binascii; the boundary starts with "=_", which quoted-printable
    text can never contain.
    """
    boundary = f"=_digest_{random.getrandbits(96):024x}".encode()
    head = b"".join(_fold(name, value) for name, value in headers)
    mime = b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="%s"\r\n' % boundary
    return b"".join(
        [head, mime, b"\r\n", *_part(boundary, b"plain", text), *_part(boundary, b"html", html),
         b"--", boundary, b"--\r\n"]
    )  # fmt: skip


def _fold(name: str, value: str | Header) -> bytes:
    """One header line; long ASCII lists break after their commas, the rest go to `email`."""
    if isinstance(value, str):
        value = " ".join(value.splitlines())  # a name with a line break must not add a header
    if isinstance(value, str) and value.isascii():
        if len(name) + len(value) > 76:
            value = value.replace(", ", ",\r\n ")
        return f"{name}: {value}\r\n".encode("ascii")
    return WIRE.fold_binary(name, value)  # type: ignore[arg-type]  # compat32 folds Headers


def _part(boundary: bytes, subtype: bytes, body: str) -> list[bytes]:
    """One body part after its boundary line."""
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    return [
        b'--%s\r\nContent-Type: text/%s; charset="utf-8"\r\n' % (boundary, subtype),
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
        encoded,
        b"\r\n",
    ]


def _header(value: str) -> str | Header:
    """ASCII as is; anything else encoded."""
    return value if value.isascii() else Header(value, "utf-8")


@cache
def _sender(mail_from: str) -> tuple[str, str]:
    """The sender's address and domain (parsed once per MAIL_FROM)."""
    address = parseaddr(mail_from)[1] or "no-reply@coalition.local"
    return address, address.rpartition("@")[2] or "coalition.local"


def _domain(app: Flask) -> str:
    """The domain of the sender address."""
    return _sender(app.config["MAIL_FROM"])[1]


def digest_message_id(app: Flask, subscription_id: int, period_key: str) -> str:
    """The same Message-ID for every attempt at one period's digest, so copies can be deduped."""
    return f"<digest.{subscription_id}.{period_key}@{_domain(app)}>"


def unsubscribe_mailto(app: Flask, token: str) -> str:
    """The mailto alternative of List-Unsubscribe."""
    return f"mailto:{_sender(app.config['MAIL_FROM'])[0]}?subject=unsubscribe%20{token}"


# ---------------------------------------------------------------- delivery


class DeliveryError(Exception):
    """A message was not accepted: `kind` is transient, permanent or connection."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def classify(exc: Exception) -> DeliveryError:
    """Turn an smtplib or socket error into a retry decision."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DeliveryError("connection", f"connection lost: {exc}")
    code, text = _smtp_code(exc)
    if code == 421 or (code is None and not isinstance(exc, smtplib.SMTPException)):
        return DeliveryError("connection", f"{code or ''} {text}".strip())
    if code is not None and code >= 500:
        return DeliveryError("permanent", f"{code} {text}")
    return DeliveryError("transient", f"{code or ''} {text}".strip())


def _smtp_code(exc: Exception) -> tuple[int | None, str]:
    """The SMTP reply code and text of an error, when it has one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (None, b""))
        return code, _text(reply)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, _text(exc.smtp_error)
    return None, f"{type(exc).__name__}: {exc}"


def _text(reply: bytes | str) -> str:
    """An SMTP reply as text."""
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


class Mailer:
    """Deliver many messages over one SMTP connection, or to the log without SMTP_URL."""

    def __init__(self, settings: SmtpSettings | None, sender: str, timeout: float = 10.0) -> None:
        self.settings = settings
        self.sender = parseaddr(sender)[1]
        self.timeout = timeout
        self._context: Any = None
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, message: Rendered) -> None:
        """Deliver one message; raise DeliveryError when the server does not take it."""
        if self.settings is None:
            log.info(
                "email (no SMTP_URL configured):\nTo: %s\nSubject: %s\n\n%s",
                message.to,
                message.subject,
                message.text,
            )
            return
        try:
            self._connection().sendmail(self.sender, [message.to], message.data)
        except (OSError, smtplib.SMTPException) as exc:
            error = classify(exc)
            if error.kind == "connection":
                self.close()
            raise error from exc

    def _connection(self) -> smtplib.SMTP:
        """The open connection, opened on first use."""
        if self._conn is None:
            assert self.settings is not None
            self._context = smtp_connection(self.settings, timeout=self.timeout)
            self._conn = self._context.__enter__()
        return self._conn

    def close(self) -> None:
        """Say QUIT, or just drop a broken connection."""
        context, self._context, self._conn = self._context, None, None
        if context is not None:
            try:
                context.__exit__(None, None, None)
            except (OSError, smtplib.SMTPException):
                log.debug("closing a broken SMTP connection", exc_info=True)


UNTRIED = "untried"


@dataclass(frozen=True)
class Outcome:
    """What became of one message handed to the pipeline: `error` None means accepted."""

    key: Any
    message: Rendered
    error: DeliveryError | None


class Pipeline:
    """Deliver on a second thread, so the next digest renders while the server takes this one.

    Messages go out in order over the mailer's one connection. Once the connection breaks,
    the rest come back untried. Only the caller's thread touches the database.
    """

    def __init__(self, mailer: Mailer, depth: int = 16) -> None:
        self.mailer = mailer
        self.todo: queue.Queue[tuple[Any, Rendered] | None] = queue.Queue(maxsize=depth)
        self.done: queue.Queue[Outcome] = queue.Queue()
        self.broken = threading.Event()
        self.thread = threading.Thread(target=self._work, name="digest-smtp", daemon=True)
        self.thread.start()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:  # the caller cannot record outcomes: send nothing more
            self.broken.set()
        self.close()

    def submit(self, key: Any, message: Rendered) -> None:
        """Queue a message (waits while the queue is full)."""
        self.todo.put((key, message))

    def outcomes(self) -> list[Outcome]:
        """The outcomes known so far."""
        ready = []
        while True:
            try:
                ready.append(self.done.get_nowait())
            except queue.Empty:
                return ready

    def close(self) -> None:
        """Finish what is queued."""
        if self.thread.is_alive():
            self.todo.put(None)
            self.thread.join()

    def _work(self) -> None:
        """Send until told to stop."""
        while (item := self.todo.get()) is not None:
            key, message = item
            self.done.put(Outcome(key, message, self._send(message)))

    def _send(self, message: Rendered) -> DeliveryError | None:
        """One delivery attempt, unless the connection is already gone."""
        if self.broken.is_set():
            return DeliveryError(UNTRIED, "not tried: the connection was lost")
        try:
            self.mailer.send(message)
        except DeliveryError as error:
            if error.kind == "connection":
                self.broken.set()
            return error
        except Exception as exc:  # noqa: BLE001 - the thread must live to report every message
            log.exception("unexpected error sending %s", message.message_id)
            return DeliveryError("transient", repr(exc))
        return None


def deliver_all(mailer: Mailer, messages: Iterable[Rendered]) -> int:
    """Send pre-rendered messages one after another (the benchmark's baseline)."""
    sent = 0
    for message in messages:
        mailer.send(message)
        sent += 1
    return sent
