"""In a real browser: signing in, and accepting an invitation."""

import re

import pytest
from playwright.sync_api import expect

from coalition.extensions import db
from coalition.models.users import User
from tests.factories import PASSWORD, CoordinatorFactory, OrganizationFactory, UserFactory
from tests.mail import deliver_emails, last_link

pytestmark = pytest.mark.browser


def sign_in(page, base, email, password=PASSWORD):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_coordinator_signs_in_sees_organizations_and_signs_out(page, live_server):
    OrganizationFactory(name="Mott Haven Overdose Prevention Center")
    CoordinatorFactory(email="coord@example.org", name="Cora Ordinator")
    sign_in(page, live_server, "coord@example.org")
    expect(page.get_by_role("heading", name="Welcome, Cora Ordinator")).to_be_visible()
    page.get_by_role("link", name="Organizations", exact=True).click()
    expect(page.get_by_role("link", name="Mott Haven Overdose Prevention Center")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_wrong_password_shows_the_message_on_the_form(page, live_server):
    UserFactory(email="member@example.org")
    sign_in(page, live_server, "member@example.org", "not the password")
    expect(page.get_by_text("Email or password is wrong.", exact=True)).to_be_visible()


def test_invited_colleague_accepts_and_lands_signed_in(page, live_server, login, caplog):
    admin = UserFactory(org_role="org_admin", organization=OrganizationFactory(name="Harbor"))
    sign_in(page, live_server, admin.email)
    page.get_by_role("link", name="My organization").click()
    page.get_by_label("Email", exact=True).fill("newcomer@example.org")
    page.get_by_label("Name", exact=True).fill("Nia Newcomer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to newcomer@example.org.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    deliver_emails()  # what the worker does once the request committed
    page.goto(live_server + last_link(caplog))
    expect(page.get_by_role("heading", name="Join Harbor")).to_be_visible()
    page.get_by_label("New password").fill("a long enough password")
    page.get_by_label("Repeat the password").fill("a long enough password")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(re.compile(r".*/$"))
    expect(page.get_by_role("heading", name="Welcome, Nia Newcomer")).to_be_visible()
    assert db.session.query(User).filter_by(email="newcomer@example.org").one().organization_id
