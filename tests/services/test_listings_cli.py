"""`flask listings import | export | expire`."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from coalition.extensions import db
from tests.factories import OrganizationFactory
from tests.listings_support import counts, event_types, future, post


def _write(tmp_path, text):
    path = tmp_path / "inventory.csv"
    path.write_text(text)
    return str(path)


def test_import_command_posts_every_row(app, tmp_path):
    org = OrganizationFactory(slug="east-harlem")
    path = _write(
        tmp_path,
        "category,quantity,expires_on,notes\n"
        f"naloxone-nasal-4mg,120,{future(40)},lot A\n"
        "fentanyl-test-strips,300,,\n",
    )
    result = app.test_cli_runner().invoke(args=["listings", "import", path, "--org", org.slug])
    assert result.exit_code == 0, result.output
    assert "Imported 2 offers for east-harlem." in result.output
    db.session.expire_all()
    assert counts()["listings"] == 2
    assert event_types() == ["offer.posted", "offer.posted"]


def test_import_command_with_a_bad_row_exits_non_zero_and_imports_nothing(app, tmp_path):
    org = OrganizationFactory()
    path = _write(
        tmp_path,
        "category,quantity\nnaloxone-nasal-4mg,10\nnaloxone-nasal-4mg,-2\nmystery,5\n",
    )
    result = app.test_cli_runner().invoke(args=["listings", "import", path, "--org", org.slug])
    assert result.exit_code == 1
    assert "row 3: quantity: must be a positive integer" in result.output
    assert "row 4: category: unknown category" in result.output
    assert "2 problem(s) in 3 rows; nothing was imported" in result.output
    assert counts() == {"listings": 0, "revisions": 0, "outbox": 0, "audit": 0}


def test_import_command_needs_a_known_organization(app, tmp_path):
    path = _write(tmp_path, "category,quantity\nnaloxone-nasal-4mg,10\n")
    result = app.test_cli_runner().invoke(args=["listings", "import", path, "--org", "nope"])
    assert result.exit_code == 1
    assert "no organization with slug nope" in result.output


def test_export_command_filters(app):
    org = OrganizationFactory(slug="bronx-drop-in")
    post(org, "offer")
    post(org, "request")
    result = app.test_cli_runner().invoke(args=["listings", "export", "--direction", "request"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["direction"], r["org"]) for r in rows] == [("request", "bronx-drop-in")]


def test_expire_command(app):
    org = OrganizationFactory()
    post(org, "offer", expires_on=future(2))
    when = (date.today() + timedelta(days=3)).isoformat()
    result = app.test_cli_runner().invoke(args=["listings", "expire", "--today", when])
    assert result.exit_code == 0, result.output
    assert "1 listing expired." in result.output
