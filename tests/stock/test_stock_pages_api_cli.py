"""Stock on the web (quick count), over the API (documented) and on the CLI (CSV import)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import refresh
from jsonschema import Draft202012Validator

from coalition.extensions import db
from coalition.models.inventory import StockEntry
from tests.blueprints.test_openapi import response_validator
from tests.conftest import count
from tests.factories import CoordinatorFactory, OrganizationFactory, UserFactory
from tests.listings_support import token_for

NALOXONE = "naloxone-nasal-4mg"


def _bearer(org):
    return {"Authorization": f"Bearer {token_for(org)}"}


# ---------------------------------------------------------------- web


def test_the_quick_count_records_a_count_and_shows_the_level(login):
    member = UserFactory()
    client = login(member)
    page = client.get("/stock/count")
    assert page.status_code == 200 and 'inputmode="numeric"' in page.get_data(as_text=True)
    answer = client.post(
        "/stock/count",
        data={"category": NALOXONE, "quantity": "48", "lot": "K-7", "expires_on": "2027-02-01"},
    )
    assert answer.status_code == 302
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Counted: 48" in html and "K-7" in html
    entry = db.session.query(StockEntry).one()
    assert (entry.quantity, entry.lot, entry.organization_id) == (48, "K-7", member.organization_id)
    assert entry.created_by_id == member.id and entry.source == "web"


def test_a_bad_count_reshows_the_form_with_the_reason_in_spanish(login):
    client = login(UserFactory(locale="es"))
    answer = client.post("/stock/count", data={"category": NALOXONE, "quantity": "-3"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "debe ser un número entero, 0 o más" in html
    assert count(StockEntry) == 0


def test_a_jump_is_saved_with_a_warning(login):
    client = login(UserFactory())
    client.post("/stock/count", data={"category": NALOXONE, "quantity": "10"})
    answer = client.post("/stock/count", data={"category": NALOXONE, "quantity": "800"})
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "marked for a second look" in html and "check" in html
    assert count(StockEntry) == 2


def test_stock_pages_are_for_members_and_coordinators(login):
    org = OrganizationFactory(slug="bronx-hr")
    member = UserFactory(organization=org)
    login(member).post("/stock/count", data={"category": NALOXONE, "quantity": "10"})
    coordinator = login(CoordinatorFactory())
    html = coordinator.get("/stock/?org=bronx-hr").get_data(as_text=True)
    assert "stock-" + NALOXONE in html
    assert coordinator.get("/stock/history?org=bronx-hr").status_code == 200
    outsider = login(UserFactory())
    assert "stock-" + NALOXONE not in outsider.get("/stock/?org=bronx-hr").get_data(as_text=True)


# ---------------------------------------------------------------- API


def test_the_api_records_and_lists_stock_as_documented(app, client):
    org = OrganizationFactory()
    headers = _bearer(org)
    doc = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/stock", "/api/v1/stock/entries"} <= set(doc["paths"])
    made = client.post(
        "/api/v1/stock/entries",
        json={"category": NALOXONE, "quantity": 30, "distributed": 12, "lot": "Q1"},
        headers=headers,
    )
    assert made.status_code == 201, made.json
    assert [e["entry_type"] for e in made.json] == ["distributed", "count"]
    levels = client.get("/api/v1/stock", headers=headers)
    assert levels.json[0]["on_hand"] == 30 and levels.json[0]["lots"][0]["lot"] == "Q1"
    history = client.get("/api/v1/stock/entries", headers=headers)
    for response, path, method in (
        (made, "/api/v1/stock/entries", "post"),
        (levels, "/api/v1/stock", "get"),
        (history, "/api/v1/stock/entries", "get"),
    ):
        validator: Draft202012Validator = response_validator(
            doc, path, method, 201 if method == "post" else 200
        )
        assert not list(validator.iter_errors(response.json))


@pytest.mark.parametrize(
    "body,field",
    [
        ({"category": NALOXONE, "quantity": -5}, "quantity"),
        ({"category": "nope", "quantity": 5}, "category"),
        ({"quantity": 5}, "category"),
        (
            {"category": NALOXONE, "quantity": 5, "counted_on": str(date.today() + timedelta(9))},
            "counted_on",
        ),
    ],
)
def test_bad_api_input_is_a_422_naming_the_field_and_changes_nothing(app, client, body, field):
    answer = client.post("/api/v1/stock/entries", json=body, headers=_bearer(OrganizationFactory()))
    assert answer.status_code == 422
    assert field in str(answer.json["errors"])
    assert count(StockEntry) == 0


def test_a_token_cannot_count_another_organizations_stock(app, client):
    other = OrganizationFactory(slug="elsewhere")
    answer = client.post(
        "/api/v1/stock/entries",
        json={"category": NALOXONE, "quantity": 5, "org": other.slug},
        headers=_bearer(OrganizationFactory()),
    )
    assert answer.status_code == 403 and count(StockEntry) == 0


# ---------------------------------------------------------------- CLI


def _sheet(tmp_path, text):
    path = tmp_path / "stock.csv"
    path.write_text(text)
    return str(path)


def test_the_cli_imports_a_sheet(app, tmp_path):
    org = OrganizationFactory(slug="east-harlem")
    path = _sheet(
        tmp_path,
        "category,count,lot,expires_on,counted_on,distributed\n"
        f"{NALOXONE},120,A,2027-03-01,2026-11-20,\n"
        "fentanyl-test-strips,300,,,,25\n",
    )
    result = app.test_cli_runner().invoke(args=["stock", "import", path, "--org", org.slug])
    assert result.exit_code == 0, result.output
    assert "Recorded 3 stock entries for east-harlem." in result.output
    shown = app.test_cli_runner().invoke(args=["stock", "show", "--org", org.slug])
    assert f"{NALOXONE}\t120" in shown.output and "fentanyl-test-strips\t300" in shown.output


def test_the_stock_commands_speak_the_terminals_language(app, tmp_path, monkeypatch):
    org = OrganizationFactory(slug="east-harlem")
    path = _sheet(tmp_path, f"category,count\n{NALOXONE},120\n")
    monkeypatch.setenv("COALITION_LANGUAGE", "es")
    cli = app.test_cli_runner()
    result = cli.invoke(args=["stock", "import", path, "--org", org.slug])
    assert result.exit_code == 0, result.output
    assert "Se registró 1 conteo de existencias para east-harlem." in result.output
    assert "Revisando filas" in result.output
    required = cli.invoke(args=["stock", "require", NALOXONE, "none"])
    assert f"{NALOXONE}: quienes reciben no necesitan ninguna credencial." in required.output
    unknown = cli.invoke(args=["stock", "require", "unicorns", "none"])
    assert unknown.exit_code != 0
    assert "no hay ninguna categoría con el identificador unicorns" in unknown.output
    refresh()  # the language is kept for the app context, as for one command's run


def test_a_sheet_with_bad_rows_reports_every_one_and_records_nothing(app, tmp_path):
    org = OrganizationFactory()
    path = _sheet(
        tmp_path,
        f"category,count,expires_on\n{NALOXONE},10,\n{NALOXONE},-2,\nmystery,5,\n{NALOXONE},4,someday\n",
    )
    result = app.test_cli_runner().invoke(args=["stock", "import", path, "--org", org.slug])
    assert result.exit_code == 1
    assert "row 3: count: must be a whole number, 0 or more" in result.output
    assert "row 4: category: unknown category" in result.output
    assert "row 5: expires_on: Not a valid date." in result.output
    assert "3 problem(s) in 4 rows; nothing was imported" in result.output
    assert count(StockEntry) == 0


@pytest.mark.parametrize(
    "text,reason",
    [
        ("category,amount\nx,1\n", "missing column: count"),
        ("category,count\n", "the file has no rows below its header"),
    ],
)
def test_a_bad_sheet_exits_with_the_reason(app, tmp_path, text, reason):
    org = OrganizationFactory()
    result = app.test_cli_runner().invoke(
        args=["stock", "import", _sheet(tmp_path, text), "--org", org.slug]
    )
    assert result.exit_code == 1 and reason in result.output
    assert count(StockEntry) == 0
