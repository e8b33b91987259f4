"""End-to-end matching quality of the platform against the optimum of the final snapshot.

Each contract sample is loaded into a fresh database as organizations and listings; every
listing is then announced in file order (offers first, then requests), exactly as the worker's
matching handler does on `offer.posted` / `request.posted` (greedy proposals that reserve
stock); then one global re-solve runs. The value of the standing proposals is compared with
the sample's optimum (the final snapshot: nothing was approved, so it is the whole problem).

    .venv/bin/python bench/end_to_end.py [--postgres URL] [--samples small-50,medium-300]
    .venv/bin/python bench/end_to_end.py --problem PATH [--postgres URL]

Besides the table it prints, last, one line of JSON per run: `per_event_quality` (standing
proposals after every event, before any re-solve, over the optimum of the final snapshot
computed in the same run), `final_quality`, `resolve_s` (the global re-solve and its commit;
the relay publishes its events, so the after-commit nudge is off), `engine_s` (the pure
engine's `solve_optimal` on the same snapshot, same run), `resolve_vs_engine` (goal <= 10),
`churn` (proposals cancelled per standing proposal, re-solve included) and `peak_rss_mib`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
from coalition.matching import solve_optimal  # noqa: E402
from coalition.models.catalog import Category, Kind  # noqa: E402
from coalition.models.listings import Direction, Listing, Urgency  # noqa: E402
from coalition.models.matches import Match, MatchState  # noqa: E402
from coalition.models.organizations import Organization, OrgStatus, OrgType  # noqa: E402
from coalition.seeds import SEEDS  # noqa: E402
from coalition.services.proposals import (  # noqa: E402
    _proposed,
    propose_for_listing,
    resolve,
    snapshot,
)

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


def cancelled_count() -> int:
    """Proposals cancelled so far (superseded or otherwise)."""
    query = sa.select(sa.func.count()).where(Match.state == MatchState.CANCELLED)
    return db.session.scalar(query) or 0


def engine_seconds(today: date) -> tuple[float, float]:
    """The engine alone on the snapshot the re-solve sees: seconds and objective."""
    problem = snapshot(db.session, _proposed(db.session), today)
    started, cpu = time.perf_counter(), time.process_time()
    solution = solve_optimal(problem)
    ENGINE_CPU.append(time.process_time() - cpu)
    return time.perf_counter() - started, solution.objective


ENGINE_CPU: list[float] = []  # this process's CPU seconds, less disturbed by a busy machine


def run_sample(name: str, problem: dict[str, Any], url: str) -> dict[str, Any]:
    """Load, announce, re-solve one problem; measure quality, time and churn."""
    today = date.fromisoformat(problem["today"])
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "EVENTS_NUDGE": False})
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
        engine_s, optimum = engine_seconds(today)
        db.session.rollback()
        started, cpu = time.perf_counter(), time.process_time()
        result = resolve(db.session, margin=0.002, today=today)
        db.session.commit()
        resolve_seconds = time.perf_counter() - started
        resolve_cpu = time.process_time() - cpu
        final = proposal_value()
        standing = len(_proposed(db.session))
        churn = cancelled_count() / max(standing, 1)
        db.session.remove()
        db.engine.dispose()
    return {
        "sample": name,
        "listings": len(ids),
        "optimum": optimum,
        "per_event_quality": greedy / optimum if optimum else 1.0,
        "final_quality": final / optimum if optimum else 1.0,
        "per_event_ms": per_event * 1000,
        "resolve_s": resolve_seconds,
        "engine_s": engine_s,
        "resolve_vs_engine": resolve_seconds / max(engine_s, 1e-9),
        "resolve_cpu_s": resolve_cpu,
        "engine_cpu_s": ENGINE_CPU[-1],
        "resolve_vs_engine_cpu": resolve_cpu / max(ENGINE_CPU[-1], 1e-9),
        "churn": churn,
        "replaced": result.replaced,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """Print one row per problem, then the JSON of every run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of SQLite")
    parser.add_argument("--samples", default="edge-cases,small-50,medium-300,scarce-500,large-1500")
    parser.add_argument("--problem", help="a problem file in the matching contract's format")
    args = parser.parse_args()
    problems = (
        [(Path(args.problem).stem, Path(args.problem))]
        if args.problem
        else [(name, SAMPLES / f"{name}.json") for name in args.samples.split(",")]
    )
    print(
        f"{'problem':<22} {'listings':>8} {'greedy/opt':>10} {'final/opt':>10} "
        f"{'per-event ms':>12} {'re-solve s':>10} {'engine s':>9} {'ratio':>7} {'cpu ratio':>9}"
        f" {'churn':>6} (goal: re-solve <= 10 x engine)"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in problems:
            url = args.postgres or f"sqlite:///{tmp}/{name}.db"
            row = run_sample(name, json.loads(path.read_text()), url)
            rows.append(row)
            met = "met" if row["resolve_vs_engine"] <= 10 else "NOT met"
            print(
                f"{row['sample']:<22} {row['listings']:>8} {row['per_event_quality']:>10.4f} "
                f"{row['final_quality']:>10.4f} {row['per_event_ms']:>12.2f} "
                f"{row['resolve_s']:>10.3f} {row['engine_s']:>9.3f} "
                f"{row['resolve_vs_engine']:>6.1f}x {row['resolve_vs_engine_cpu']:>8.1f}x"
                f" {row['churn']:>6.2f} {met}"
            )
    print(f"load {os.getloadavg()[0]:.2f} (1-min average) on {os.cpu_count()} cores")
    print(json.dumps(rows[0] if len(rows) == 1 else rows))


if __name__ == "__main__":
    main()
