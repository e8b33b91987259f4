"""Inventory import and export: offers from CSV (all or nothing), any filtered list to CSV.

Also the text forms of list fields that the CSV columns and the web forms share:
credentials and languages as `a;b` (or a JSON list), windows as `START to END` items
separated by `;` or new lines (or a JSON list of `{"start", "end"}` objects).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from typing import Any, TextIO

from marshmallow import ValidationError

from coalition.actors import Actor
from coalition.models.listings import Direction, Listing
from coalition.models.organizations import Organization
from coalition.services.discretion import Viewer, discreet_listing
from coalition.services.listing_input import OfferCreateSchema, load_errors
from coalition.services.listings import ListingInvalid, acting_organization, post_listing
from coalition.services.listings import prepare_listing as _prepare
from coalition.sessions import Session

IMPORT_COLUMNS = (
    "category", "quantity", "expires_on", "lat", "lon", "max_distance_km", "notes",
    "visibility", "credentials", "languages", "remote_ok", "windows",
)  # fmt: skip
REQUIRED_COLUMNS = ("category", "quantity")
MAX_IMPORT_ROWS = 5000
EXPORT_COLUMNS = (
    "id", "direction", "org", "kind", "category", "category_label", "unit", "quantity",
    "reserved", "fulfilled", "available", "status", "urgency", "expires_on", "need_by",
    "accepts_expired", "lat", "lon", "max_distance_km", "credentials", "languages",
    "remote_ok", "windows", "visibility", "notes", "created_at", "updated_at",
)  # fmt: skip
TRUE_WORDS = {"1", "true", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "off", ""}


class ImportFailed(Exception):
    """The file was refused; `errors` holds one line per problem, e.g. `row 3: quantity: …`."""

    def __init__(self, errors: list[str], rows: int = 0) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing was imported")
        self.errors = errors
        self.rows = rows


# ---------------------------------------------------------------- text forms of list fields


def split_list(text: str | None) -> list[str]:
    """`a; b` or `a, b` or a JSON list, as a list of trimmed non-empty strings."""
    text = (text or "").strip()
    if text.startswith("["):
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError("must be a list")
        return [str(v).strip() for v in value if str(v).strip()]
    separator = ";" if ";" in text else ","
    return [part.strip() for part in text.split(separator) if part.strip()]


def parse_flag(text: str | None) -> bool:
    """yes/no, true/false, 1/0."""
    word = (text or "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("must be yes or no")


def parse_windows(text: str | None, zone: tzinfo) -> list[dict[str, str]]:
    """Windows from text; times without an offset are in `zone`."""
    text = (text or "").strip()
    if not text:
        return []
    if text.startswith("["):
        return _json_windows(text)
    items = [item.strip() for item in text.replace("\n", ";").split(";") if item.strip()]
    return [_window_item(item, number, zone) for number, item in enumerate(items, start=1)]


def _json_windows(text: str) -> list[dict[str, str]]:
    """A JSON list of `{"start", "end"}` objects or `[start, end]` pairs."""
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError("must be a list of windows")
    windows = []
    for item in value:
        pair = [item.get("start"), item.get("end")] if isinstance(item, dict) else item
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("each window needs a start and an end")
        windows.append({"start": str(pair[0]), "end": str(pair[1])})
    return windows


def _window_item(item: str, number: int, zone: tzinfo) -> dict[str, str]:
    """`2026-12-01 09:00 to 2026-12-01 17:00`, `… to 17:00` or `START/END`."""
    separator = " to " if " to " in item else "/"
    if separator not in item:
        raise ValueError(f"window {number}: write it as START to END")
    start_text, end_text = (part.strip() for part in item.split(separator, 1))
    try:
        start = _moment(start_text, zone)
        end = _end_moment(end_text, start, zone)
    except ValueError:
        raise ValueError(f"window {number}: use YYYY-MM-DD HH:MM to YYYY-MM-DD HH:MM") from None
    return {"start": start.isoformat(), "end": end.isoformat()}


def _moment(text: str, zone: tzinfo) -> datetime:
    """A date-time; without an offset it is local to `zone`."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _end_moment(text: str, start: datetime, zone: tzinfo) -> datetime:
    """The end: a full date-time, or only a time on the start's day."""
    if len(text) <= 5 and ":" in text:
        return datetime.combine(start.date(), time.fromisoformat(text), tzinfo=start.tzinfo)
    return _moment(text, zone)


def format_list(values: Iterable[str] | None) -> str:
    """A list field as `a; b`."""
    return "; ".join(values or [])


def format_windows(windows: Iterable[dict[str, str]] | None, zone: tzinfo | None = None) -> str:
    """Windows as text, one `START to END` per item, in `zone` when given."""
    parts = []
    for window in windows or []:
        start, end = (datetime.fromisoformat(window[k]) for k in ("start", "end"))
        if zone is not None:
            start, end = start.astimezone(zone), end.astimezone(zone)
            parts.append(f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}")
        else:
            parts.append(f"{start.isoformat()}/{end.isoformat()}")
    return ("\n" if zone is not None else "; ").join(parts)


# ---------------------------------------------------------------- import


@dataclass
class ImportResult:
    """What an import wrote."""

    listings: list[Listing]


def read_rows(stream: TextIO) -> list[dict[str, str]]:
    """CSV rows as dicts; the header must name known columns, category and quantity first."""
    return read_sheet(stream, REQUIRED_COLUMNS, IMPORT_COLUMNS)


def read_sheet(
    stream: TextIO,
    required: Sequence[str],
    known: Sequence[str],
    aliases: Mapping[str, str] | None = None,
) -> list[dict[str, str]]:
    """A CSV sheet's rows as dicts, its column names lower-cased (and `aliases` applied);
    refuses a file that is not CSV, missing or unknown columns, and an empty or huge sheet."""
    aliases = aliases or {}
    try:
        reader = csv.DictReader(stream)
        header = [
            aliases.get(h, h) for h in ((n or "").strip().lower() for n in reader.fieldnames or [])
        ]
        _check_header(header, required, known)
        reader.fieldnames = header
        rows = []
        for row in reader:
            rows.append({k: (v or "").strip() for k, v in row.items() if k is not None})
            if len(rows) > MAX_IMPORT_ROWS:
                raise ImportFailed([f"the file has more than {MAX_IMPORT_ROWS} rows; split it"])
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ImportFailed([f"the file is not valid CSV: {exc}"]) from exc
    if not rows:
        raise ImportFailed(["the file has no rows below its header"])
    return rows


def _check_header(header: list[str], required: Sequence[str], known: Sequence[str]) -> None:
    """Refuse missing required columns and columns this import does not know."""
    problems = [f"missing column: {name}" for name in required if name not in header]
    problems += [f"unknown column: {name}" for name in header if name not in known]
    if problems:
        raise ImportFailed(problems)


def row_input(row: dict[str, str], zone: tzinfo) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A CSV row as API-style input, and the errors of columns that could not be read."""
    raw: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, text in row.items():
        if text == "":
            continue
        try:
            raw[name] = _column_value(name, text, zone)
        except (ValueError, json.JSONDecodeError) as exc:
            errors[name] = [str(exc) or "cannot be read"]
    return raw, errors


def _column_value(name: str, text: str, zone: tzinfo) -> Any:
    """One cell in the type the schema loads."""
    if name in ("credentials", "languages"):
        return split_list(text)
    if name == "remote_ok":
        return parse_flag(text)
    if name == "windows":
        return parse_windows(text, zone)
    return text


def check_offer_rows(
    session: Session, actor: Actor | None, org: Organization, rows: Iterable[dict[str, str]]
) -> list[dict[str, Any]]:
    """Validate every row; return the loaded rows, or raise ImportFailed listing every error."""
    acting_organization(session, actor, None, org)
    zone = _zone(org)
    loaded: list[dict[str, Any]] = []
    errors: list[str] = []
    count = 0
    for number, row in enumerate(rows, start=2):
        count += 1
        data, row_errors = _check_row(org, row, zone)
        errors += [
            f"row {number}: {name}: {msg}" for name, msgs in row_errors.items() for msg in msgs
        ]
        loaded.append(data)
    if errors:
        raise ImportFailed(errors, rows=count)
    return loaded


def _check_row(
    org: Organization, row: dict[str, str], zone: tzinfo
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """One row: loaded data and its errors (column by column)."""
    raw, errors = row_input(row, zone)
    try:
        data = OfferCreateSchema().load(raw)
    except ValidationError as exc:
        return {}, {**errors, **load_errors(exc)}
    if errors:
        return {}, errors
    try:
        _prepare(org, Direction.OFFER, data)
    except ListingInvalid as exc:
        return {}, exc.errors
    return data, {}


def post_offer_rows(
    session: Session, actor: Actor | None, org: Organization, loaded: Iterable[dict[str, Any]]
) -> list[Listing]:
    """Post checked rows as offers (the caller commits once, or rolls everything back)."""
    return [post_listing(session, actor, Direction.OFFER, data, org=org) for data in loaded]


def import_offers(
    session: Session, actor: Actor | None, org: Organization, stream: TextIO
) -> ImportResult:
    """Read, check and post a CSV of offers for one organization: all rows or none."""
    try:
        rows = read_rows(stream)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ImportFailed([f"the file is not valid CSV: {exc}"]) from exc
    loaded = check_offer_rows(session, actor, org, rows)
    return ImportResult(post_offer_rows(session, actor, org, loaded))


def _zone(org: Organization) -> tzinfo:
    """The organization's time zone, for windows written without an offset."""
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(org.timezone or "America/New_York")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


# ---------------------------------------------------------------- export


def export_row(listing: Listing, discreet: bool = False, viewer: Viewer | None = None) -> list[Any]:
    """One listing as a CSV row of EXPORT_COLUMNS (as `viewer` may see it, when given)."""
    values: dict[str, Any] = {
        "id": listing.id,
        "direction": listing.direction.value,
        "org": listing.organization.slug,
        "kind": listing.kind.value,
        "category": listing.category.slug,
        "category_label": listing.category.label(discreet),
        "unit": listing.category.unit,
        "quantity": listing.quantity,
        "reserved": listing.reserved,
        "fulfilled": listing.fulfilled,
        "available": listing.available,
        "status": listing.status.value,
        "urgency": listing.urgency.value if listing.urgency else "",
        "expires_on": listing.expires_on or "",
        "need_by": listing.need_by or "",
        "accepts_expired": _yes_no(listing.accepts_expired) if not listing.is_offer else "",
        "lat": listing.lat,
        "lon": listing.lon,
        "max_distance_km": listing.max_distance_km,
        "credentials": format_list(listing.credentials),
        "languages": format_list(listing.languages),
        "remote_ok": _yes_no(listing.remote_ok) if listing.is_staffing else "",
        "windows": format_windows(listing.windows),
        "visibility": listing.visibility.value,
        "notes": _safe_cell(listing.notes or ""),
        "created_at": listing.created_at.isoformat(),
        "updated_at": listing.updated_at.isoformat(),
    }
    if viewer is not None:
        values = discreet_listing(values, listing.organization, viewer)
    return ["" if values[name] is None else values[name] for name in EXPORT_COLUMNS]


def _yes_no(flag: bool) -> str:
    """A boolean for a spreadsheet."""
    return "yes" if flag else "no"


def _safe_cell(text: str) -> str:
    """Keep spreadsheets from running free text as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(
    listings: Iterable[Listing], discreet: bool = False, viewer: Viewer | None = None
) -> Iterator[str]:
    """The CSV text of the listings, line by line, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for listing in listings:
        writer.writerow(export_row(listing, discreet, viewer))
        yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    """Take what the writer has written so far."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
