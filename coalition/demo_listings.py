"""Demo listings across the demo organizations, posted through the listing services."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from coalition.models.organizations import Organization
from coalition.models.users import OrgRole, User
from coalition.services import listings as service
from coalition.services.listing_input import CREATE_SCHEMAS
from coalition.sessions import Session

NEW_YORK = ZoneInfo("America/New_York")

# (org slug, direction, fields); `in_days` become dates and `shifts` become windows.
LISTINGS: list[tuple[str, str, dict[str, Any]]] = [
    ("east-harlem-hrc", "offer", dict(category="naloxone-nasal-4mg", quantity=240, expires_in=45,
     notes="Two cases from the state program, lot NX-2291. Pick-up at 116th St.")),
    ("east-harlem-hrc", "request", dict(category="fentanyl-test-strips", quantity=500,
     urgency="high", need_in=10, notes="Drug checking demand doubled since October.")),
    ("uptown-outreach", "request", dict(category="naloxone-nasal-4mg", quantity=120,
     urgency="critical", need_in=5, notes="Overdose cluster in Washington Heights.")),
    ("uptown-outreach", "offer", dict(category="driver", quantity=16, languages=["en", "es"],
     shifts=[(3, 9, 17), (4, 9, 17)], notes="Van and driver for deliveries in Manhattan.")),
    ("mott-haven-opc", "request", dict(category="registered-nurse", quantity=24,
     urgency="high", languages=["es"], shifts=[(2, 10, 18), (3, 10, 18), (4, 10, 18)],
     notes="Spanish-speaking nurse for the wound-care clinic, three afternoons.")),
    ("mott-haven-opc", "offer", dict(category="xylazine-test-strips", quantity=800,
     expires_in=200)),
    ("mott-haven-opc", "offer", dict(category="wound-care-kit", quantity=150,
     notes="Assembled kits with xeroform and gauze.")),
    ("fordham-drop-in", "offer", dict(category="hygiene-kit", quantity=300)),
    ("fordham-drop-in", "request", dict(category="sharps-container-1qt", quantity=40,
     urgency="normal", need_in=21)),
    ("bushwick-health-exchange", "offer", dict(category="syringes-1ml-28g", quantity=5000,
     expires_in=365)),
    ("bushwick-health-exchange", "request", dict(category="xylazine-test-strips",
     quantity=300, urgency="high", need_in=14)),
    ("bushwick-health-exchange", "offer", dict(category="peer-specialist", quantity=20,
     languages=["en", "es"], remote_ok=True, shifts=[(1, 12, 20), (8, 12, 20)],
     notes="Certified peer; can cover phone lines remotely.")),
    ("sunset-park-clinic", "offer", dict(category="prescriber", quantity=16,
     languages=["en", "zh"], remote_ok=True, shifts=[(2, 9, 17), (9, 9, 17)],
     notes="Buprenorphine prescriber for telehealth inductions.")),
    ("sunset-park-clinic", "offer", dict(category="naloxone-im-vial", quantity=60,
     expires_in=30, notes="Short-dated: please take them before they expire.")),
    ("jamaica-outreach", "request", dict(category="naloxone-nasal-4mg", quantity=200,
     urgency="high", need_in=14)),
    ("jamaica-outreach", "request", dict(category="fentanyl-test-strips", quantity=1000,
     urgency="normal", need_in=30)),
    ("jamaica-outreach", "offer", dict(category="condoms", quantity=2000)),
    ("north-shore-recovery", "request", dict(category="safer-smoking-kit", quantity=100,
     urgency="normal", visibility="coordinators")),
    ("north-shore-recovery", "offer", dict(category="nitrile-gloves", quantity=40)),
]  # fmt: skip


def load_demo_listings(session: Session, summary: Any) -> int:
    """Post the demo listings as each organization's admin; return how many were posted."""
    orgs = {org.slug: org for org in summary.orgs}
    today = date.today()
    posted = []
    for slug, direction, spec in LISTINGS:
        org = orgs.get(slug)
        if org is None or not org.is_active:
            continue
        data = CREATE_SCHEMAS[service.Direction(direction)]().load(_input(spec, today))
        posted.append(service.post_listing(session, _admin(session, org), direction, data))
    _show_history(session, orgs, posted)
    if hasattr(summary, "listings"):
        summary.listings = len(posted)
    return len(posted)


def _input(spec: dict[str, Any], today: date) -> dict[str, Any]:
    """API-style input from a demo spec, with dates relative to today."""
    raw = {k: v for k, v in spec.items() if k not in ("expires_in", "need_in", "shifts")}
    if "expires_in" in spec:
        raw["expires_on"] = (today + timedelta(days=spec["expires_in"])).isoformat()
    if "need_in" in spec:
        raw["need_by"] = (today + timedelta(days=spec["need_in"])).isoformat()
    if "shifts" in spec:
        raw["windows"] = [_shift(today, *shift) for shift in spec["shifts"]]
    return raw


def _shift(today: date, in_days: int, start_hour: int, end_hour: int) -> dict[str, str]:
    """A shift in New York time, `in_days` from today."""
    day = today + timedelta(days=in_days)
    start = datetime.combine(day, time(start_hour), tzinfo=NEW_YORK)
    end = datetime.combine(day, time(end_hour), tzinfo=NEW_YORK)
    return {"start": start.isoformat(), "end": end.isoformat()}


def _admin(session: Session, org: Organization) -> User:
    """The organization's first admin, who posts its demo listings."""
    return session.scalars(
        sa.select(User)
        .where(User.organization_id == org.id, User.org_role == OrgRole.ORG_ADMIN)
        .order_by(User.id)
    ).one()


def _show_history(session: Session, orgs: dict[str, Organization], posted: list[Any]) -> None:
    """An edit and a withdrawal, so that revisions and their events show in the demo."""
    if not posted:
        return
    first = posted[0]
    admin = _admin(session, first.organization)
    service.update_listing(
        session, admin, first, {"quantity": 200, "notes": first.notes + " 40 went to our own van."}
    )
    fordham = [p for p in posted if p.organization.slug == "fordham-drop-in" and not p.is_offer]
    if fordham:
        service.withdraw_listing(session, _admin(session, orgs["fordham-drop-in"]), fordham[0])
