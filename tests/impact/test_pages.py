"""Impact pages, API and reports: who sees what, bad input, charts with tables, exports."""

from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader

from coalition.extensions import db
from coalition.services import impact
from coalition.services.accounts import issue_api_token
from tests.factories import CoordinatorFactory, OrganizationFactory, UserFactory
from tests.impact.support import build_ledger

Q3 = {"from": "2026-07-01", "to": "2026-09-30"}
PLAIN = ("Naloxone nasal spray 4 mg", "Wound-care kits", "Registered nurse")


@pytest.fixture
def ledger(app):
    return build_ledger()


@pytest.fixture
def coordinator(login):
    return login(CoordinatorFactory())


@pytest.fixture
def member(login, ledger):
    return login(UserFactory(organization=ledger.bushwick))


def test_the_coalition_page_shows_charts_with_their_tables(coordinator, ledger, unit_costs):
    response = coordinator.get("/impact/", query_string=Q3)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('class="pygal-chart"') == 3 and page.count("<figcaption>") == 3
    assert "supplies redistributed worth about $5,775" in page
    for label in (*PLAIN, "Manhattan", "Harlem HR", "2026-09"):
        assert label in page
    assert "<script" not in page.split("</head>", 1)[1]  # the layout loads /static/app.js only


def test_charts_fetch_nothing(coordinator, ledger):
    page = coordinator.get("/impact/", query_string=Q3).get_data(as_text=True)
    for svg in page.split('<svg aria-hidden="true"')[1:]:
        body = svg.split("</svg>")[0]
        assert "<script" not in body and "kozea.github.io" not in body


def test_neutral_wording_replaces_category_names_everywhere_on_the_page(coordinator, ledger):
    page = coordinator.get("/impact/", query_string={**Q3, "neutral": "1"}).get_data(as_text=True)
    assert "Medical supplies" in page and "Clinical staff" in page
    assert "a coalition of health programs" in page
    for label in PLAIN:
        assert label not in page
    assert "harm-reduction" not in page


def test_a_member_sees_its_organization_and_the_coalition_totals(member, ledger):
    assert member.get("/impact/", query_string=Q3).status_code == 302
    response = member.get("/impact/organization", query_string=Q3)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Bushwick Outreach" in page and "The whole coalition in this period" in page
    assert "Harlem HR" not in page and "Bronx Drop-in" not in page


def test_a_member_may_not_ask_for_another_organization(member, ledger):
    other = member.get("/impact/organization", query_string={**Q3, "organization": "harlem"})
    assert other.status_code == 403
    api = member.get("/api/v1/impact", query_string={**Q3, "organization": "harlem"})
    assert api.status_code == 403
    csv_ = member.get("/reports/impact.csv", query_string={"organization": "harlem"})
    assert csv_.status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, ledger):
    assert client.get("/impact/").status_code == 302
    assert client.get("/reports/impact.pdf").status_code == 302
    assert client.get("/api/v1/impact").status_code == 401


def test_bad_dates_re_show_the_page_with_messages(coordinator, ledger):
    response = coordinator.get("/impact/", query_string={"from": "2026-09-30", "to": "2026-07-01"})
    assert response.status_code == 422
    assert "must not be before from" in response.get_data(as_text=True)
    garbled = coordinator.get("/impact/", query_string={"from": "soon"})
    assert garbled.status_code == 422 and "Not a valid date." in garbled.get_data(as_text=True)


def test_the_api_groups_the_figures(coordinator, ledger, unit_costs):
    body = coordinator.get("/api/v1/impact", query_string={**Q3, "group_by": "month"}).json
    assert body["scope"] == "coalition" and body["coalition"] is None
    assert body["totals"]["transfers"] == 3 and body["totals"]["value_usd"] == 6495.0
    assert [(g["key"], g["units"], g["hours"]) for g in body["groups"]] == [
        ("2026-07", 120, 0),
        ("2026-08", 30, 0),
        ("2026-09", 0, 12),
    ]
    orgs = coordinator.get("/api/v1/impact", query_string={**Q3, "group_by": "organization"}).json
    names = {g["label"] for g in orgs["groups"]}
    assert names == {"Harlem HR", "Bushwick Outreach", "Bronx Drop-in"}


def test_a_member_api_call_names_only_its_own_organization(member, ledger):
    body = member.get("/api/v1/impact", query_string={**Q3, "group_by": "organization"}).json
    assert body["scope"] == "bushwick"
    assert body["totals"]["transfers"] == 2 and body["coalition"]["transfers"] == 3
    assert {g["label"] for g in body["groups"]} == {"Bushwick Outreach", impact.OTHER_ORGS}


def test_a_member_sees_by_name_the_organizations_that_chose_to_show_it(member, ledger):
    ledger.harlem.show_name = True
    db.session.commit()
    body = member.get("/api/v1/impact", query_string={**Q3, "group_by": "organization"}).json
    groups = {g["label"]: g for g in body["groups"]}
    # Bushwick received from Harlem (named) and from Bronx (not named)
    assert set(groups) == {"Bushwick Outreach", "Harlem HR", impact.OTHER_ORGS}
    rows = member.get("/reports/impact-transfers.csv", query_string=Q3).get_data(as_text=True)
    assert "Harlem HR" in rows and "Bronx Drop-in" not in rows


def test_an_organization_token_reads_its_figures(client, ledger):
    token = issue_api_token(db.session, "test", org=ledger.bushwick, label="reports")[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get("/api/v1/impact", query_string=Q3, headers=headers).json
    assert body["scope"] == "bushwick" and body["totals"]["hours"] == 12


def test_the_api_refuses_bad_parameters_with_field_messages(coordinator, ledger):
    bad = coordinator.get("/api/v1/impact", query_string={"group_by": "planet", "from": "x"})
    assert bad.status_code == 422
    errors = bad.json["errors"]
    assert "group_by" in errors and "from" in errors
    unknown = coordinator.get("/api/v1/impact", query_string={"category": "unicorns"})
    assert unknown.status_code == 422
    assert unknown.json["errors"] == {"category": ["unknown category"]}


def test_the_api_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/impact"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"from", "to", "group_by", "tag"} <= names


def test_a_tag_report_is_one_click_from_the_organization_page(member, ledger):
    impact.set_listing_tags(db.session, ledger.matches["july"].request, ["County grant"])
    db.session.commit()
    page = member.get("/impact/organization").get_data(as_text=True)
    assert "County grant, Q" in page and "tag=County+grant" in page
    body = member.get("/api/v1/impact", query_string={**Q3, "tag": "County grant"}).json
    assert body["totals"]["transfers"] == 1 and body["tag"] == "County grant"


def test_the_figures_csv_holds_every_figure(coordinator, ledger, unit_costs):
    response = coordinator.get("/reports/impact.csv", query_string=Q3)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert 'filename="harm-reduction-coalition-impact-2026-07-01-2026-09-30.csv"' in disposition
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    totals = {r["figure"]: r["value"] for r in rows if r["section"] == "totals"}
    assert totals["transfers"] == "3" and totals["median_days_to_receipt"] == "42.0"
    assert totals["value_usd"] == "6495.0" and totals["short_dated_units"] == "120"
    sections = {r["section"] for r in rows}
    assert {"category", "month", "borough", "organization"} <= sections


def test_the_transfers_csv_lists_each_fulfilled_match(coordinator, ledger):
    response = coordinator.get("/reports/impact-transfers.csv", query_string={**Q3, "neutral": "1"})
    disposition = response.headers["Content-Disposition"]
    assert 'filename="health-programs-transfers-2026-07-01' in disposition
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    labels = [r["category"] for r in rows]
    assert labels == ["Medical supplies", "First-aid supplies", "Clinical staff"]


def test_the_pdf_is_real_and_holds_the_totals(coordinator, ledger, unit_costs):
    response = coordinator.get("/reports/impact.pdf", query_string=Q3)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    assert "supplies redistributed worth about $5,775" in text
    assert "Naloxone nasal spray 4 mg" in text and "harm-reduction" in text


def test_the_neutral_pdf_never_names_a_plain_category(coordinator, ledger):
    response = coordinator.get("/reports/impact.pdf", query_string={**Q3, "neutral": "1"})
    text = pdf_text(response.data)
    assert "Medical supplies" in text and "health programs" in text
    assert (
        'filename="health-programs-impact-2026-07-01-2026-09-30.pdf"'
        in (response.headers["Content-Disposition"])
    )
    for label in (*PLAIN, "harm-reduction", "Harm reduction"):
        assert label not in text


def test_the_printable_page_has_a_print_stylesheet(coordinator, ledger):
    page = coordinator.get("/reports/impact.html", query_string=Q3).get_data(as_text=True)
    assert "@media print" in page and "@page" in page


def test_an_organization_that_chose_discreet_wording_gets_it_by_default(login, ledger):
    ledger.bushwick.discreet_wording = True
    db.session.commit()
    client = login(UserFactory(organization=ledger.bushwick))
    page = client.get("/impact/organization", query_string=Q3).get_data(as_text=True)
    assert "Medical supplies" in page and "Naloxone nasal spray 4 mg" not in page


def test_a_person_of_no_organization_who_is_not_a_coordinator_is_refused(login, ledger):
    loner = login(UserFactory(organization=OrganizationFactory()))
    assert loner.get("/impact/organization", query_string=Q3).status_code == 200
    assert loner.get("/api/v1/impact").json["totals"]["transfers"] == 0


def pdf_text(data: bytes) -> str:
    """Every page's text, with line breaks turned to spaces."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_a_member_tags_its_listings_and_filters_by_the_tag(member, ledger):
    request = ledger.matches["july"].request
    page = member.get("/impact/tags")
    assert page.status_code == 200 and f'name="tags-{request.id}"' in page.get_data(as_text=True)
    too_long = member.post("/impact/tags", data={f"tags-{request.id}": "x" * 61})
    assert too_long.status_code == 422 and "at most 60 characters" in too_long.get_data(
        as_text=True
    )
    saved = member.post("/impact/tags", data={f"tags-{request.id}": "County grant; Foundation X"})
    assert saved.status_code == 302
    assert impact.listing_tags(db.session, request.id) == ["County grant", "Foundation X"]
    body = member.get("/api/v1/impact", query_string={**Q3, "tag": "Foundation X"}).json
    assert body["totals"]["units"] == 120


def test_only_an_organization_or_a_coordinator_tags_its_listings(login, coordinator, ledger):
    outsider = login(UserFactory(organization=OrganizationFactory()))
    other = ledger.matches["july"].request
    outsider.post("/impact/tags", data={f"tags-{other.id}": "Mine now"})
    assert impact.listing_tags(db.session, other.id) == []
    assert coordinator.get("/impact/tags").status_code == 403
    assert (
        coordinator.get("/impact/tags", query_string={"organization": "bushwick"}).status_code
        == 200
    )
    assert coordinator.get("/impact/tags", query_string={"organization": "nope"}).status_code == 404


def test_the_pages_and_the_pdf_speak_spanish(member, ledger):
    spanish = {"Accept-Language": "es"}
    page = member.get("/impact/organization", query_string=Q3, headers=spanish)
    text = page.get_data(as_text=True)
    assert "Impacto compartido: Bushwick Outreach" in text and "Mes a mes" in text
    assert "Toda la coalición en este periodo" in text
    pdf = member.get("/reports/impact.pdf", query_string=Q3, headers=spanish)
    assert "insumos redistribuidos por un valor aproximado de" in pdf_text(pdf.data)


def test_dates_periods_and_empty_charts_speak_spanish_too(member, ledger):
    impact.set_listing_tags(db.session, ledger.matches["july"].request, ["County grant"])
    db.session.commit()
    spanish = {"Accept-Language": "es"}
    page = member.get("/impact/organization", query_string=Q3, headers=spanish)
    text = page.get_data(as_text=True)
    assert "1 jul 2026 a 30 sept 2026" in text and " to " not in text.split("<main", 1)[1]
    assert "Últimos 12 meses" in text and ">T" in text and "Q1 " not in text
    assert "County grant, T" in text and "(PDF)" in text
    empty = {"from": "2020-01-01", "to": "2020-01-31"}
    nothing = member.get("/impact/organization", query_string=empty, headers=spanish)
    assert "Sin datos" in nothing.get_data(as_text=True)
    english = member.get("/impact/organization", query_string=empty).get_data(as_text=True)
    assert "No data" in english and "1 Jan 2020 to 31 Jan 2020" in english
