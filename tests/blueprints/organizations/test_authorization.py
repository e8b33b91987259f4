"""Who may see and change an organization's people, invitations and settings."""

import pytest

from coalition.extensions import db
from coalition.models.audit import AuditEntry
from coalition.models.users import Invitation, OrgRole
from tests.conftest import count
from tests.factories import CoordinatorFactory, OrgAdminFactory, UserFactory

SETTINGS = {
    "contact_email": "new@example.org",
    "contact_phone": "",
    "address": "Somewhere",
    "service_radius_km": "12",
    "timezone": "America/New_York",
}


@pytest.fixture
def org_admin():
    return OrgAdminFactory()


def actions(org_id, member_id):
    return [
        ("post", f"/org/{org_id}/invitations", {"email": "x@example.org", "role": "member"}),
        ("post", f"/org/{org_id}/settings", SETTINGS),
        ("post", f"/org/{org_id}/members/{member_id}/role", {"role": "org_admin"}),
        ("post", f"/org/{org_id}/members/{member_id}/disable", {}),
    ]


def test_another_organizations_people_cannot_see_or_change_it(login, org_admin):
    member = UserFactory(organization=org_admin.organization)
    outsider_admin = login(OrgAdminFactory())
    assert outsider_admin.get(f"/org/{org_admin.organization_id}").status_code == 403
    before = (count(Invitation), count(AuditEntry))
    for method, url, data in actions(org_admin.organization_id, member.id):
        assert getattr(outsider_admin, method)(url, data=data).status_code == 403, url
    assert (count(Invitation), count(AuditEntry)) == before


def test_plain_members_cannot_manage_their_own_organization(login, org_admin):
    member = UserFactory(organization=org_admin.organization)
    client = login(member)
    assert client.get(f"/org/{org_admin.organization_id}").status_code == 200
    for method, url, data in actions(org_admin.organization_id, org_admin.id):
        assert getattr(client, method)(url, data=data).status_code == 403, url


def test_org_admin_manages_roles_and_settings_with_audit(login, org_admin):
    member = UserFactory(organization=org_admin.organization)
    client = login(org_admin)
    assert (
        client.post(
            f"/org/{org_admin.organization_id}/members/{member.id}/role", data={"role": "org_admin"}
        ).status_code
        == 302
    )
    assert (
        client.post(f"/org/{org_admin.organization_id}/settings", data=SETTINGS).status_code == 302
    )
    db.session.expire_all()
    assert member.org_role == OrgRole.ORG_ADMIN
    assert org_admin.organization.service_radius_km == 12
    logged = {e.action for e in db.session.query(AuditEntry)}
    assert {"user.role_changed", "organization.updated"} <= logged


def test_bad_settings_are_refused_on_their_field(login, org_admin):
    before = count(AuditEntry)
    response = login(org_admin).post(
        f"/org/{org_admin.organization_id}/settings", data={**SETTINGS, "service_radius_km": "0"}
    )
    assert response.status_code == 422
    assert b'id="service_radius_km-errors"' in response.data
    assert count(AuditEntry) == before


def test_coordinator_manages_any_organization(login, org_admin):
    response = login(CoordinatorFactory()).post(
        f"/org/{org_admin.organization_id}/invitations",
        data={"email": "y@example.org", "role": "org_admin"},
    )
    assert response.status_code == 302


def test_disabled_member_is_signed_out(login, org_admin):
    member = UserFactory(organization=org_admin.organization)
    member_client = login(member)
    login(org_admin).post(f"/org/{org_admin.organization_id}/members/{member.id}/disable")
    assert member_client.get(f"/org/{org_admin.organization_id}").status_code == 302


def test_anonymous_visitors_are_sent_to_sign_in(client, org_admin):
    response = client.get(f"/org/{org_admin.organization_id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
