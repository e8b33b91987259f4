"""Signing in and out: passwords, suspended organizations, rate limiting, CSRF, cookies."""

import pytest

from coalition.extensions import db
from coalition.models.organizations import OrgStatus
from tests.factories import PASSWORD, CoordinatorFactory, OrganizationFactory, UserFactory


def sign_in(client, email, password=PASSWORD, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def test_sign_in_with_the_right_password_lands_on_the_dashboard(client):
    user = UserFactory(name="Rosa Parks")
    response = sign_in(client, user.email, follow_redirects=True)
    assert response.status_code == 200
    assert b"Welcome, Rosa Parks" in response.data


@pytest.mark.parametrize(
    "email,password", [("person@example.org", "wrong password!"), ("nobody@example.org", PASSWORD)]
)
def test_wrong_email_or_password_gets_one_message(client, email, password):
    UserFactory(email="person@example.org")
    response = sign_in(client, email, password)
    assert response.status_code == 401
    assert b"Email or password is wrong." in response.data


def test_sign_in_form_names_the_missing_field(client):
    response = client.post("/login", data={"email": "not-an-email", "password": ""})
    assert response.status_code == 422
    assert b'id="email-errors"' in response.data
    assert b'id="password-errors"' in response.data


@pytest.mark.parametrize(
    "status,message",
    [(OrgStatus.SUSPENDED, b"suspended"), (OrgStatus.PENDING, b"not been approved")],
)
def test_people_of_inactive_organizations_cannot_sign_in(client, status, message):
    user = UserFactory(organization=OrganizationFactory(status=status))
    response = sign_in(client, user.email)
    assert response.status_code == 401
    assert message in response.data
    assert client.get("/org/").status_code == 302


def test_suspending_an_organization_signs_its_people_out(login):
    user = UserFactory()
    client = login(user)
    assert client.get("/org/", follow_redirects=True).status_code == 200
    user.organization.status = OrgStatus.SUSPENDED
    db.session.commit()
    response = client.get(f"/org/{user.organization_id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_disabled_account_cannot_sign_in(client):
    user = UserFactory(disabled=True)
    response = sign_in(client, user.email)
    assert response.status_code == 401
    assert b"disabled" in response.data


def test_repeated_failures_are_rate_limited_with_a_clear_429(client):
    user = UserFactory()
    for _ in range(5):
        assert sign_in(client, user.email, "wrong password!").status_code == 401
    response = sign_in(client, user.email, "wrong password!")
    assert response.status_code == 429
    assert b"Too many attempts" in response.data
    assert sign_in(client, user.email).status_code == 429


def test_successful_sign_ins_do_not_count_against_the_limit(app):
    user = UserFactory()
    for _ in range(8):
        fresh = app.test_client()
        assert sign_in(fresh, user.email).status_code == 302


def test_forms_need_a_csrf_token(client, csrf_on):
    user = UserFactory()
    response = sign_in(client, user.email)
    assert response.status_code == 400
    assert b"CSRF" in response.data


def test_sign_out_is_a_post(login):
    client = login(UserFactory())
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/org/").status_code == 302


def test_next_parameter_only_redirects_locally(app):
    user = UserFactory()
    response = app.test_client().post(
        "/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"
    response = app.test_client().post(
        "/login?next=/org/", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/org/"


def test_session_cookie_is_http_only_and_same_site(client):
    user = UserFactory()
    response = sign_in(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_coordinator_navigation_shows_coordinator_pages(login):
    page = login(CoordinatorFactory()).get("/").data
    assert b"Organizations" in page and b"Audit log" in page


def test_member_navigation_hides_coordinator_pages(login):
    page = login(UserFactory()).get("/").data
    assert b"My organization" in page
    assert b"Audit log" not in page
