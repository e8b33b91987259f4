"""End-to-end matching quality of the platform against the optimum of the final snapshot.

Each contract sample is loaded into a fresh database as organizations and listings; every
listing is then announced in file order (offers first, then requests), exactly as the worker's
matching handler does on `offer.posted` / `request.posted` (greedy proposals that reserve
stock); then one global re-solve runs. The value of the standing proposals is compared with
the sample's optimum (the final snapshot: nothing was approved, so it is the whole problem).

    .venv/bin/python bench/end_to_end.py [--postgres URL] [--samples small-50,medium-300]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coalition import create_app  # noqa: E402
from coalition.extensions import db  # noqa: E402
from coalition.models.catalog import Category, Kind  # noqa: E402
from coalition.models.listings import Direction, Listing, Urgency  # noqa: E402
from coalition.models.matches import Match, MatchState  # noqa: E402
from coalition.models.organizations import Organization, OrgStatus, OrgType  # noqa: E402
from coalition.seeds import SEEDS  # noqa: E402
from coalition.services.proposals import propose_for_listing, resolve  # noqa: E402

SAMPLES = ROOT / "tests" / "data" / "matching"


def load(problem: dict[str, Any]) -> list[int]:
    """Insert organizations and listings; return listing ids in announcement order."""
    categories = {c.slug: c for c in db.session.scalars(sa.select(Category))}
    orgs: dict[str, Organization] = {}
    ids = []
    for direction, rows in (
        (Direction.OFFER, problem["offers"]),
        (Direction.REQUEST, problem["requests"]),
    ):
        for raw in rows:
            org = orgs.get(raw["org"]) or _org(orgs, raw)
            listing = _listing(direction, raw, org, categories[raw["category"]])
            db.session.add(listing)
            db.session.flush()
            ids.append(listing.id)
    db.session.commit()
    return ids


def _org(orgs: dict[str, Organization], raw: dict[str, Any]) -> Organization:
    """An organization for a sample's org label."""
    org = Organization(
        name=f"Org {raw['org']}",
        slug=f"org-{raw['org']}".lower(),
        type=OrgType.OTHER,
        lat=raw["lat"],
        lon=raw["lon"],
        status=OrgStatus.ACTIVE,
    )
    db.session.add(org)
    db.session.flush()
    orgs[raw["org"]] = org
    return org


def _listing(
    direction: Direction, raw: dict[str, Any], org: Organization, category: Category
) -> Listing:
    """A listing row from a sample listing."""
    staffing = raw["kind"] == "staffing"
    return Listing(
        organization_id=org.id,
        direction=direction,
        kind=Kind(raw["kind"]),
        category_id=category.id,
        quantity=raw["quantity"],
        lat=raw["lat"],
        lon=raw["lon"],
        max_distance_km=raw["max_distance_km"],
        expires_on=_day(raw.get("expires_on")),
        need_by=_day(raw.get("need_by")),
        urgency=Urgency(raw["urgency"]) if "urgency" in raw else None,
        accepts_expired=bool(raw.get("accepts_expired", False)),
        credentials=raw.get("credentials", []) if staffing else [],
        languages=raw.get("languages", []) if staffing else [],
        remote_ok=bool(raw.get("remote_ok", False)),
        windows=[{"start": s, "end": e} for s, e in raw.get("windows", [])],
    )


def _day(value: str | None) -> date | None:
    """An ISO date or None."""
    return date.fromisoformat(value) if value else None


def proposal_value() -> float:
    """Total value of the standing proposals."""
    matches = db.session.scalars(sa.select(Match).where(Match.state == MatchState.PROPOSED))
    return sum(m.value for m in matches)


def run_sample(name: str, url: str) -> dict[str, Any]:
    """Load, announce, re-solve one sample; measure quality and time."""
    problem = json.loads((SAMPLES / f"{name}.json").read_text())
    optimum = json.loads((SAMPLES / "optima.json").read_text())[name]
    today = date.fromisoformat(problem["today"])
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        for seed in SEEDS:
            seed(db.session)
        db.session.commit()
        ids = load(problem)
        started = time.perf_counter()
        for listing_id in ids:
            propose_for_listing(db.session, listing_id, today)
            db.session.commit()
        per_event = (time.perf_counter() - started) / len(ids)
        greedy = proposal_value()
        started = time.perf_counter()
        result = resolve(db.session, margin=0.002, today=today)
        db.session.commit()
        resolve_seconds = time.perf_counter() - started
        final = proposal_value()
        db.session.remove()
        db.engine.dispose()
    return {
        "sample": name,
        "listings": len(ids),
        "optimum": optimum,
        "greedy": greedy / optimum,
        "final": final / optimum,
        "per_event_ms": per_event * 1000,
        "resolve_s": resolve_seconds,
        "replaced": result.replaced,
    }


def main() -> None:
    """Print one row per sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of SQLite")
    parser.add_argument("--samples", default="edge-cases,small-50,medium-300,scarce-500,large-1500")
    args = parser.parse_args()
    print(
        f"{'sample':<12} {'listings':>8} {'greedy/opt':>10} {'final/opt':>10} "
        f"{'per-event ms':>12} {'re-solve s':>10} replaced"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.samples.split(","):
            url = args.postgres or f"sqlite:///{tmp}/{name}.db"
            row = run_sample(name, url)
            print(
                f"{row['sample']:<12} {row['listings']:>8} {row['greedy']:>10.4f} "
                f"{row['final']:>10.4f} {row['per_event_ms']:>12.2f} "
                f"{row['resolve_s']:>10.2f} {row['replaced']}"
            )


if __name__ == "__main__":
    main()
