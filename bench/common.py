"""What the database benchmarks share: the project on the import path, the five boroughs the
built coalitions spread over and their organizations, bulk inserts that return ids, and a
scratch PostgreSQL database.

Each benchmark runs as a script (`python bench/<name>.py`), so this folder is on the import
path and `import common` finds this module; importing it puts the project there too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from coalition.extensions import db  # noqa: E402

BOROUGHS = [
    ("Manhattan", 40.7831, -73.9712),
    ("Brooklyn", 40.6782, -73.9442),
    ("Queens", 40.7282, -73.7949),
    ("Bronx", 40.8448, -73.8648),
    ("Staten Island", 40.5795, -74.1502),
]


def organization_row(rng: Any, number: int) -> dict[str, Any]:
    """An active syringe service program near the centre of a random borough (three draws of
    `rng`; callers draw what they add afterwards, so seeded runs stay the same)."""
    borough, lat, lon = rng.choice(BOROUGHS)
    return {
        "name": f"Harm Reduction Org {number}",
        "slug": f"org-{number}",
        "type": "syringe_service_program",
        "borough": borough,
        "lat": lat + rng.gauss(0, 0.04),
        "lon": lon + rng.gauss(0, 0.04),
        "status": "active",
    }


def insert(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert; the new ids in order."""
    result = db.session.execute(
        sa.insert(model).returning(model.id, sort_by_parameter_order=True), rows
    )
    return list(result.scalars())


def database_url(postgres: bool, pg_url: str, folder: Path, name: str) -> str:
    """The benchmark's database: a scratch PostgreSQL one named `name`, or SQLite in `folder`."""
    return scratch_postgres_url(pg_url, name) if postgres else f"sqlite:///{folder / 'bench.db'}"


def scratch_postgres_url(base: str, name: str) -> str:
    """A fresh, empty database `name` on the PostgreSQL server of `base`; its URL."""
    url = sa.engine.make_url(base)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)
