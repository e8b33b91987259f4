"""`/api/v1/organizations`, errors as JSON, bearer tokens."""

from coalition.extensions import db
from coalition.models.organizations import OrgStatus
from coalition.services.accounts import issue_api_token, revoke_api_token
from tests.factories import CoordinatorFactory, OrganizationFactory, UserFactory


def test_anonymous_gets_a_json_401(client):
    response = client.get("/api/v1/organizations")
    assert response.status_code == 401
    assert response.json["code"] == 401
    assert response.json["message"]
    assert response.json["errors"] == {}


def test_members_see_active_organizations_without_contacts(login):
    member = UserFactory()
    OrganizationFactory(status=OrgStatus.PENDING, slug="pending-org")
    body = login(member).get("/api/v1/organizations").json
    assert [o["slug"] for o in body] == [member.organization.slug]
    assert "contact_email" not in body[0]
    assert body[0]["borough"] == "Brooklyn"


def test_coordinators_see_contacts(login):
    UserFactory()
    body = login(CoordinatorFactory()).get("/api/v1/organizations").json
    assert body[0]["contact_email"].startswith("info@")


def test_pending_organization_is_a_404_to_members(login):
    OrganizationFactory(status=OrgStatus.PENDING, slug="pending-org")
    response = login(UserFactory()).get("/api/v1/organizations/pending-org")
    assert response.status_code == 404
    assert response.json["code"] == 404


def test_bearer_token_authenticates_and_revocation_ends_it(client):
    org = OrganizationFactory()
    row, token = issue_api_token(db.session, None, org=org)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/organizations/{org.slug}", headers=headers).json["slug"] == org.slug
    revoke_api_token(db.session, None, row)
    db.session.commit()
    assert client.get("/api/v1/organizations", headers=headers).status_code == 401


def test_unknown_token_is_a_401(client):
    response = client.get("/api/v1/organizations", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["code"] == 404


def test_unknown_page_is_an_html_404(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert b"<h1>Not found</h1>" in response.data


def test_openapi_document_is_served(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/organizations" in document["paths"]
