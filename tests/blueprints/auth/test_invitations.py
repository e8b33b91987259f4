"""Invitations: coordinators invite first admins, org admins invite colleagues."""

import pytest

from coalition.extensions import db
from coalition.models.audit import AuditEntry
from coalition.models.organizations import Organization, OrgStatus
from coalition.models.users import Invitation, OrgRole, User
from tests.conftest import count
from tests.factories import CoordinatorFactory, OrgAdminFactory, UserFactory
from tests.mail import deliver_emails, last_link, logged_emails

NEW_ORG = {
    "name": "Red Hook Peer Collective",
    "slug": "red-hook-peers",
    "type": "outreach_team",
    "address": "Van Brunt St, Brooklyn, NY",
    "borough": "Brooklyn",
    "lat": "40.6755",
    "lon": "-74.0110",
    "service_radius_km": "20",
    "contact_email": "info@redhook.example.org",
    "contact_phone": "",
    "admin_email": "Director@RedHook.example.org",
    "admin_name": "Ada Director",
}


def test_coordinator_adds_an_organization_and_invites_its_first_admin(login, client, caplog):
    coordinator = login(CoordinatorFactory())
    response = coordinator.post("/coordinator/organizations", data=NEW_ORG)
    assert response.status_code == 302
    org = db.session.query(Organization).filter_by(slug="red-hook-peers").one()
    assert org.status == OrgStatus.PENDING
    invitation = db.session.query(Invitation).one()
    assert invitation.email == "director@redhook.example.org"
    assert invitation.org_role == OrgRole.ORG_ADMIN
    assert deliver_emails() == 1
    assert "Red Hook Peer Collective" in logged_emails(caplog)[-1]

    link = last_link(caplog)
    page = client.get(link)
    assert b"Join Red Hook Peer Collective" in page.data
    done = client.post(
        link, data={"name": "Ada", "password": "a long password", "confirm": "a long password"}
    )
    assert done.status_code == 302
    user = db.session.query(User).filter_by(email="director@redhook.example.org").one()
    assert user.org_role == OrgRole.ORG_ADMIN and user.organization_id == org.id
    assert client.get(link).status_code == 400  # single use


@pytest.mark.parametrize(
    "field,value",
    [
        ("lat", "91"),
        ("lon", "-181"),
        ("name", ""),
        ("admin_email", "not-an-email"),
        ("slug", "Bad Slug"),
    ],
)
def test_bad_organization_input_is_refused_and_writes_nothing(login, field, value):
    coordinator = login(CoordinatorFactory())
    before = (count(Organization), count(Invitation), count(AuditEntry))
    response = coordinator.post("/coordinator/organizations", data={**NEW_ORG, field: value})
    assert response.status_code == 422
    assert f'id="{field}-errors"'.encode() in response.data
    assert (count(Organization), count(Invitation), count(AuditEntry)) == before


def test_inviting_an_existing_account_is_refused_on_the_email_field(login):
    admin = OrgAdminFactory()
    other = UserFactory()
    response = login(admin).post(
        f"/org/{admin.organization_id}/invitations", data={"email": other.email, "role": "member"}
    )
    assert response.status_code == 422
    assert b"already has an account" in response.data
    assert count(Invitation) == 0


def test_org_admin_invites_a_colleague_who_joins_as_member(login, client, caplog):
    admin = OrgAdminFactory()
    response = login(admin).post(
        f"/org/{admin.organization_id}/invitations",
        data={"email": "new@example.org", "name": "New", "role": "member"},
    )
    assert response.status_code == 302
    deliver_emails()
    link = last_link(caplog)
    client.post(
        link,
        data={"name": "New Person", "password": "another long one", "confirm": "another long one"},
    )
    user = db.session.query(User).filter_by(email="new@example.org").one()
    assert user.organization_id == admin.organization_id
    assert user.org_role == OrgRole.MEMBER
    assert client.get(f"/org/{admin.organization_id}").status_code == 200


def test_accepting_with_mismatched_passwords_is_refused(login, client, caplog):
    admin = OrgAdminFactory()
    login(admin).post(
        f"/org/{admin.organization_id}/invitations",
        data={"email": "new@example.org", "role": "member"},
    )
    deliver_emails()
    users = count(User)
    response = client.post(
        last_link(caplog),
        data={"name": "N", "password": "a long password", "confirm": "something else"},
    )
    assert response.status_code == 422
    assert b"The passwords differ." in response.data
    assert count(User) == users


def test_expired_and_forged_invitation_links_are_refused(app, login, client, caplog):
    admin = OrgAdminFactory()
    login(admin).post(
        f"/org/{admin.organization_id}/invitations",
        data={"email": "new@example.org", "role": "member"},
    )
    deliver_emails()
    link = last_link(caplog)
    assert client.get(link[:-3] + "abc").status_code == 400
    app.config["INVITATION_MAX_AGE"] = -1
    try:
        response = client.get(link)
    finally:
        app.config["INVITATION_MAX_AGE"] = 7 * 24 * 3600
    assert response.status_code == 400
    assert b"expired" in response.data


def test_revoked_invitation_cannot_be_used(login, client, caplog):
    admin = OrgAdminFactory()
    signed_in = login(admin)
    signed_in.post(
        f"/org/{admin.organization_id}/invitations",
        data={"email": "new@example.org", "role": "member"},
    )
    deliver_emails()
    invitation = db.session.query(Invitation).one()
    signed_in.post(f"/org/{admin.organization_id}/invitations/{invitation.id}/revoke")
    assert client.get(last_link(caplog)).status_code == 400


def test_invitation_is_written_to_the_log_when_no_smtp_is_configured(login, caplog):
    admin = OrgAdminFactory()
    login(admin).post(
        f"/org/{admin.organization_id}/invitations",
        data={"email": "new@example.org", "role": "member"},
    )
    deliver_emails()
    (email,) = logged_emails(caplog)
    assert "To: new@example.org" in email
    assert "/invitations/" in email
