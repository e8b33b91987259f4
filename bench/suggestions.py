"""Live-suggestion benchmark: the listing form's suggestion endpoint with 20,000 open listings.

Run `.venv/bin/python bench/suggestions.py` (SQLite in a temporary folder) or add `--postgres`
(a scratch database on the PostgreSQL of `--pg-url`). The coalition it builds: 150
organizations around New York City and 20,000 open listings (half offers, half requests; half
of them in the three most asked-for categories, so a naloxone draft weighs thousands of
counterparts; one in ten for coordinators only; supply lots expiring over the next 200 days).

Each sample is one POST of the offer or request form by a signed-in member of a random
organization, through the whole app (session, CSRF off, the engine's weighing, the template),
as htmx sends it while someone types. The baseline, in the same run and on the same drafts, is
the bare query of the same counterpart rows (`counterpart_query`), fetched and nothing more.
Goal: p95 of the endpoint under 150 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import database_url, insert, organization_row  # puts the project on the path

from coalition import create_app
from coalition.extensions import db
from coalition.models.catalog import Category
from coalition.models.listings import Direction, Listing
from coalition.models.organizations import Organization
from coalition.models.users import User
from coalition.seeds import SEEDS
from coalition.services.discretion import Viewer
from coalition.services.suggestions import Draft, counterpart_query

POPULAR = ("naloxone-nasal-4mg", "fentanyl-test-strips", "syringes-1ml-28g")
GOAL_MS = 150.0


def build(rng: random.Random, listings: int) -> list[tuple[int, int]]:
    """Organizations, one member each, and the open listings; (user id, org id) pairs."""
    orgs = []
    for i in range(150):
        row = organization_row(rng, i)
        row["service_radius_km"] = rng.choice([10, 25, 30])
        orgs.append(row)
    for row, org_id in zip(orgs, insert(Organization, orgs), strict=True):
        row["id"] = org_id
    people = [
        dict(email=f"person{i}@example.org", name=f"Person {i}", organization_id=o["id"])
        for i, o in enumerate(orgs)
    ]
    users = insert(User, [{**p, "org_role": "member", "disabled": False} for p in people])
    categories = db.session.execute(sa.select(Category.id, Category.slug, Category.kind)).all()
    popular = [c for c in categories if c.slug in POPULAR]
    insert(Listing, [_listing(rng, orgs, categories, popular) for _ in range(listings)])
    db.session.commit()
    return list(zip(users, [o["id"] for o in orgs], strict=True))


def _listing(
    rng: random.Random, orgs: list[dict[str, Any]], categories: list[Any], popular: list[Any]
) -> dict[str, Any]:
    """One open listing of a random organization."""
    org = rng.choice(orgs)
    category = rng.choice(popular if rng.random() < 0.5 else categories)
    offer = rng.random() < 0.5
    supply = category.kind.value == "supply"
    today = date.today()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    return dict(
        organization_id=org["id"],
        direction="offer" if offer else "request",
        kind=category.kind.value,
        category_id=category.id,
        quantity=rng.randint(5, 500),
        reserved=0,
        fulfilled=0,
        lat=org["lat"] + rng.gauss(0, 0.005),
        lon=org["lon"] + rng.gauss(0, 0.005),
        max_distance_km=rng.choice([10.0, 25.0, 50.0]),
        notes="",
        visibility="coordinators" if rng.random() < 0.1 else "coalition",
        status="open",
        urgency=None if offer else rng.choice(["critical", "high", "normal", "low"]),
        expires_on=today + timedelta(days=rng.randint(-10, 200)) if offer and supply else None,
        need_by=None if offer or not supply else today + timedelta(days=rng.randint(3, 30)),
        accepts_expired=not offer and rng.random() < 0.2,
        credentials=[],
        languages=[] if supply else (["es"] if rng.random() < 0.3 else []),
        remote_ok=not supply and rng.random() < 0.3,
        windows=[]
        if supply
        else [
            {
                "start": (start + timedelta(days=d)).isoformat(),
                "end": (start + timedelta(days=d, hours=8)).isoformat(),
            }
            for d in range(0, 14, 3)
        ],
    )


def drafts(rng: random.Random, people: list[tuple[int, int]], n: int) -> list[dict[str, Any]]:
    """What people type: direction, category (mostly popular ones), quantity, sometimes more."""
    slugs = list(db.session.scalars(sa.select(Category.slug).where(Category.kind == "supply")))
    found = []
    for _ in range(n):
        user_id, org_id = rng.choice(people)
        direction = rng.choice(["offer", "request"])
        form = {
            "category": rng.choice(list(POPULAR) if rng.random() < 0.7 else slugs),
            "quantity": str(rng.randint(1, 600)),
        }
        if direction == "offer" and rng.random() < 0.5:
            form["expires_on"] = (date.today() + timedelta(days=rng.randint(-5, 120))).isoformat()
        if direction == "request":
            form["urgency"] = rng.choice(["critical", "high", "normal"])
        if rng.random() < 0.3:
            form["max_distance_km"] = str(rng.choice([5, 10, 50]))
        found.append({"user": user_id, "org": org_id, "direction": direction, "form": form})
    return found


def endpoint_times(app: Any, samples: list[dict[str, Any]]) -> tuple[list[float], int]:
    """Milliseconds of each POST to the endpoint, and how many found a counterpart."""
    times, found = [], 0
    clients: dict[int, Any] = {}
    for sample in samples:
        client = clients.get(sample["user"])
        if client is None:
            client = clients[sample["user"]] = app.test_client()
            with app.app_context():
                user = db.session.get(User, sample["user"])
                assert user is not None
                session_id = user.get_id()
            with client.session_transaction() as session:
                session["_user_id"] = session_id
                session["_fresh"] = True
        url = f"/listings/suggestions?direction={sample['direction']}"
        started = time.perf_counter()
        response = client.post(url, data=sample["form"])
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        found += "suggestion-summary" in response.get_data(as_text=True)
    return times, found


def baseline_times(app: Any, samples: list[dict[str, Any]]) -> tuple[list[float], int]:
    """Milliseconds of the bare query of the same counterpart rows, and the rows' mean count."""
    times, rows = [], 0
    with app.app_context():
        categories = {c.slug: c for c in db.session.scalars(sa.select(Category))}
        for sample in samples:
            org = db.session.get(Organization, sample["org"])
            assert org is not None
            form = sample["form"]
            draft = Draft(
                direction=Direction(sample["direction"]),
                category=categories[form["category"]],
                quantity=int(form["quantity"]),
                lat=org.lat,
                lon=org.lon,
                max_distance_km=float(form.get("max_distance_km", org.service_radius_km)),
            )
            query = counterpart_query(Viewer(org_id=org.id), org, draft)
            started = time.perf_counter()
            rows += len(db.session.execute(query).all())
            times.append((time.perf_counter() - started) * 1000)
    return times, rows // max(len(samples), 1)


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def make_app(url: str, folder: Path) -> Any:
    """The app on the benchmark's database, CSRF off (the test client sends no token)."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "BROKER_FOLDER": str(folder / "queue"),
            "EVENTS_NUDGE": False,
            "RATELIMIT_ENABLED": False,
        }
    )


def main() -> None:
    """Build the coalition, time the endpoint and the baseline, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL, not SQLite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = database_url(args.postgres, args.pg_url, folder, "coalition_bench_suggest")
        app = make_app(url, folder)
        with app.app_context():
            db.create_all()
            for seed in SEEDS:
                seed(db.session)
            people = build(rng, args.listings)
            samples = drafts(rng, people, args.samples)
            open_count = db.session.scalar(sa.select(sa.func.count()).select_from(Listing))
        endpoint_times(app, samples[:20])  # warm up: templates compiled, caches filled
        endpoint, found = endpoint_times(app, samples)
        base, mean_rows = baseline_times(app, samples)
        with app.app_context():
            db.engine.dispose()
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"suggestions benchmark: {open_count} open listings, {database}, {date.today()}")
    print(f"  {len(samples)} drafts, {found} with suggestions, {mean_rows} counterpart rows each")
    print(f"  {'':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, times in (("endpoint (POST, whole app)", endpoint), ("baseline (bare query)", base)):
        print(f"  {name:34} {statistics.median(times):8.1f} {p95(times):8.1f} {max(times):8.1f}")
    print(f"  ratio endpoint/baseline p95: {p95(endpoint) / max(p95(base), 1e-9):.1f}x")
    verdict = "met" if p95(endpoint) < GOAL_MS else "not met"
    print(f"  goal (p95 < {GOAL_MS:.0f} ms): {verdict}")


if __name__ == "__main__":
    main()
