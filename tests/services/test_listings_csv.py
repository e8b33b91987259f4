"""Inventory import (all or nothing, every error reported), export, and the CLI forms."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import pytest

from coalition.extensions import db
from coalition.models.listings import Kind
from coalition.services.listings_csv import (
    EXPORT_COLUMNS,
    ImportFailed,
    export_csv,
    import_offers,
    parse_flag,
    parse_windows,
    split_list,
)
from tests.factories import OrganizationFactory, UserFactory
from tests.listings_support import counts, event_types, future, post

NEW_YORK = ZoneInfo("America/New_York")
HEADER = "category,quantity,expires_on,lat,lon,max_distance_km,notes,visibility"
GOOD = [
    f"naloxone-nasal-4mg,120,{future(60)},,,,lot NX-1,coalition",
    "fentanyl-test-strips,500,,40.70,-73.93,15,,",
    f"syringes-1ml-28g,2000,{future(300)},,,,,coordinators",
]


def _csv(*lines: str, header: str = HEADER) -> io.StringIO:
    return io.StringIO("\n".join([header, *lines]) + "\n")


def test_import_posts_every_row_with_events(app):
    admin = UserFactory()
    result = import_offers(db.session, admin, admin.organization, _csv(*GOOD))
    db.session.commit()

    assert len(result.listings) == 3
    assert counts()["listings"] == 3
    assert event_types() == ["offer.posted"] * 3
    second = result.listings[1]
    assert (second.lat, second.lon, second.max_distance_km) == (40.70, -73.93, 15)
    assert result.listings[0].lat == admin.organization.lat
    assert result.listings[2].visibility.value == "coordinators"


def test_import_with_a_bad_row_imports_nothing_and_reports_every_error(app):
    admin = UserFactory()
    lines = [
        GOOD[0],
        "naloxone-nasal-4mg,0,,,,,,",
        "unicorn-horns,10,,95,,,,",
        "registered-nurse,4.5,,,,,,",
        GOOD[1],
    ]
    with pytest.raises(ImportFailed) as excinfo:
        import_offers(db.session, admin, admin.organization, _csv(*lines))
    db.session.rollback()

    assert counts() == {"listings": 0, "revisions": 0, "outbox": 0, "audit": 0}
    errors = excinfo.value.errors
    assert "row 3: quantity: must be a positive integer" in errors
    assert "row 4: category: unknown category" in errors
    assert "row 4: lat: must be between -90 and 90" in errors
    assert "row 5: quantity: must be a positive integer" in errors
    assert not any(e.startswith(("row 2:", "row 6:")) for e in errors)


def test_import_staffing_rows_parse_lists_and_windows(app):
    admin = UserFactory()
    header = "category,quantity,credentials,languages,remote_ok,windows"
    line = (
        "registered-nurse,8,rn-license;ny-license,en;es,yes,"
        '"2027-01-05 09:00 to 17:00; 2027-01-06 09:00 to 2027-01-06 13:00"'
    )
    result = import_offers(db.session, admin, admin.organization, _csv(line, header=header))
    listing = result.listings[0]
    assert listing.kind == Kind.STAFFING
    assert listing.credentials == ["rn-license", "ny-license"]
    assert listing.languages == ["en", "es"]
    assert listing.remote_ok is True
    assert listing.windows == [
        {"start": "2027-01-05T09:00:00-05:00", "end": "2027-01-05T17:00:00-05:00"},
        {"start": "2027-01-06T09:00:00-05:00", "end": "2027-01-06T13:00:00-05:00"},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("quantity,notes\n5,x\n", "missing column: category"),
        ("category,quantity,colour\nnaloxone-nasal-4mg,5,red\n", "unknown column: colour"),
        ("category,quantity\n", "the file has no rows below its header"),
    ],
)
def test_import_refuses_bad_headers_and_empty_files(app, text, message):
    admin = UserFactory()
    with pytest.raises(ImportFailed) as excinfo:
        import_offers(db.session, admin, admin.organization, io.StringIO(text))
    assert message in excinfo.value.errors
    assert counts()["listings"] == 0


def test_import_for_another_organization_is_refused(app):
    from coalition.services.errors import ServiceError

    admin = UserFactory()
    other = OrganizationFactory()
    with pytest.raises(ServiceError) as excinfo:
        import_offers(db.session, admin, other, _csv(GOOD[0]))
    assert excinfo.value.status == 403
    assert counts()["listings"] == 0


def test_export_writes_one_row_per_listing_with_neutral_labels_on_request(app):
    org = OrganizationFactory()
    post(org, "offer", None, notes="=HYPERLINK(evil)")
    post(org, "request", None, category="syringes-3ml-25g")
    from coalition.models import Listing

    listings = db.session.query(Listing).order_by(Listing.id).all()
    rows = list(csv.DictReader(io.StringIO("".join(export_csv(listings, discreet=True)))))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [r["direction"] for r in rows] == ["offer", "request"]
    assert rows[0]["category_label"] == "Medical supplies"
    assert rows[0]["notes"] == "'=HYPERLINK(evil)"
    assert rows[1]["urgency"] == "high"
    plain = list(csv.DictReader(io.StringIO("".join(export_csv(listings)))))
    assert plain[0]["category_label"] == "Naloxone nasal spray 4 mg"


def test_text_forms():
    assert split_list("en; es") == ["en", "es"]
    assert split_list('["en", "es"]') == ["en", "es"]
    assert split_list("a, b") == ["a", "b"]
    assert split_list("") == []
    assert parse_flag("Yes") is True
    assert parse_flag("") is False
    with pytest.raises(ValueError):
        parse_flag("maybe")
    assert parse_windows("2026-12-01 09:00 to 12:30", NEW_YORK) == [
        {"start": "2026-12-01T09:00:00-05:00", "end": "2026-12-01T12:30:00-05:00"}
    ]
    assert parse_windows("2026-12-01T09:00:00+00:00/2026-12-01T10:00:00+00:00", NEW_YORK) == [
        {"start": "2026-12-01T09:00:00+00:00", "end": "2026-12-01T10:00:00+00:00"}
    ]
    assert parse_windows('[["a", "b"]]', NEW_YORK) == [{"start": "a", "end": "b"}]
    with pytest.raises(ValueError, match="window 2"):
        parse_windows("2026-12-01 09:00 to 10:00\ntomorrow morning", NEW_YORK)
