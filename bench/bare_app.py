"""The baseline bench/api.py compares the project with: bare Flask on the same gunicorn.

`GET /read` returns 20 listing-sized JSON objects; `POST /write` parses the JSON body and
does one INSERT and a commit on the database of BENCH_BARE_DATABASE (SQLite with the same
WAL pragmas as the project, or PostgreSQL).
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify, request

app = Flask(__name__)
engine = sa.create_engine(os.environ["BENCH_BARE_DATABASE"], pool_size=8)
metadata = sa.MetaData()
rows = sa.Table(
    "bare_rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)


@sa.event.listens_for(engine, "connect")
def _pragmas(dbapi_connection: Any, record: Any) -> None:
    """The project's SQLite settings (WAL, synchronous=NORMAL, a busy timeout)."""
    if engine.dialect.name == "sqlite":
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


ITEM = {
    "id": 1, "org": None, "kind": "supply", "category": "naloxone-nasal-4mg", "unit": "kits",
    "quantity": None, "reserved": None, "fulfilled": None, "available": 120, "status": "open",
    "lat": 40.71, "lon": -74.0, "max_distance_km": 25.0, "notes": "bench", "visibility":
    "coalition", "version": 1, "created_at": "2026-12-04T12:00:00+00:00", "updated_at":
    "2026-12-04T12:00:00+00:00", "withdrawn_at": None, "expires_on": None,
}  # fmt: skip


@app.get("/read")
def read() -> Any:
    """Twenty listing-sized objects."""
    return jsonify([{**ITEM, "id": n} for n in range(20)])


@app.post("/write")
def write() -> Any:
    """One INSERT and a commit."""
    body = request.get_json()
    with engine.begin() as conn:
        result = conn.execute(rows.insert().values(body=str(body)))
        new_id = result.inserted_primary_key[0]  # type: ignore[index]
    return jsonify({"id": new_id}), 201
