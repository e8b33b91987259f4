"""Coordinators approve, suspend and reactivate organizations; the audit log records it."""

import pytest

from coalition.extensions import db
from coalition.models.audit import AuditEntry
from coalition.models.organizations import OrgStatus
from tests.factories import CoordinatorFactory, OrganizationFactory, UserFactory


@pytest.mark.parametrize(
    "start,action,end",
    [
        (OrgStatus.PENDING, "approve", OrgStatus.ACTIVE),
        (OrgStatus.ACTIVE, "suspend", OrgStatus.SUSPENDED),
        (OrgStatus.SUSPENDED, "reactivate", OrgStatus.ACTIVE),
    ],
)
def test_status_changes_are_applied_and_audited(login, start, action, end):
    coordinator = CoordinatorFactory()
    org = OrganizationFactory(status=start)
    response = login(coordinator).post(f"/coordinator/organizations/{org.id}/{action}")
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.status == end
    entry = db.session.query(AuditEntry).filter_by(target_type="organizations").one()
    assert entry.actor_id == coordinator.id
    assert entry.changes == {"status": [start.value, end.value]}


def test_repeating_a_status_change_is_a_conflict(login):
    org = OrganizationFactory(status=OrgStatus.ACTIVE)
    response = login(CoordinatorFactory()).post(f"/coordinator/organizations/{org.id}/approve")
    assert response.status_code == 409


def test_members_cannot_use_coordinator_pages(login, client):
    org = OrganizationFactory(status=OrgStatus.PENDING)
    member = login(UserFactory())
    assert member.get("/coordinator/organizations").status_code == 403
    assert member.get("/coordinator/audit").status_code == 403
    assert member.post(f"/coordinator/organizations/{org.id}/approve").status_code == 403
    assert client.get("/coordinator/audit").status_code == 302
    db.session.refresh(org)
    assert org.status == OrgStatus.PENDING


def test_unknown_organization_is_a_404_page(login):
    response = login(CoordinatorFactory()).post("/coordinator/organizations/999/approve")
    assert response.status_code == 404
    assert b"Not found" in response.data


def test_audit_log_shows_who_did_what(login):
    coordinator = CoordinatorFactory(email="coord@example.org")
    org = OrganizationFactory(status=OrgStatus.PENDING, name="Harbor House")
    client = login(coordinator)
    client.post(f"/coordinator/organizations/{org.id}/approve")
    page = client.get("/coordinator/audit?target=organizations").data
    assert b"coord@example.org" in page
    assert b"organization active" in page


def test_suspended_organization_user_cannot_act_through_the_api(client):
    from coalition.services.accounts import issue_api_token

    org = OrganizationFactory()
    _, token = issue_api_token(db.session, None, org=org)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/organizations", headers=headers).status_code == 200
    org.status = OrgStatus.SUSPENDED
    db.session.commit()
    assert client.get("/api/v1/organizations", headers=headers).status_code == 401
