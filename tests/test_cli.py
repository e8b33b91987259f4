"""`flask coalition …` commands: demo, create-coordinator, api-token."""

import pytest
from flask_babel import refresh

from coalition.extensions import db
from coalition.models.organizations import Organization, OrgStatus
from coalition.models.users import ApiToken, User
from coalition.security import verify_password
from tests.conftest import count
from tests.factories import CoordinatorFactory, OrganizationFactory


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_demo_loads_a_coalition_across_new_york_and_prints_sign_in_details(cli):
    result = cli.invoke(args=["coalition", "demo"])
    assert result.exit_code == 0, result.output
    assert "Coordinator: coordinator@coalition.example.org / coalition-demo-2026" in result.output
    orgs = db.session.query(Organization).all()
    assert sum(o.status == OrgStatus.ACTIVE for o in orgs) == 8
    assert {o.borough for o in orgs} >= {
        "Manhattan",
        "Bronx",
        "Brooklyn",
        "Queens",
        "Staten Island",
    }
    assert all(40.4 < o.lat < 41.0 and -74.3 < o.lon < -73.6 for o in orgs)
    assert count(User) > 20


def test_demo_refuses_a_database_with_organizations_unless_if_empty(cli):
    OrganizationFactory()
    result = cli.invoke(args=["coalition", "demo"])
    assert result.exit_code != 0
    assert "already has organizations" in result.output
    assert cli.invoke(args=["coalition", "demo", "--if-empty"]).exit_code == 0
    assert count(Organization) == 1


def test_create_coordinator_reads_the_password_from_stdin(cli):
    result = cli.invoke(
        args=["coalition", "create-coordinator", "Lead@Example.org"], input="a very good password\n"
    )
    assert result.exit_code == 0, result.output
    user = db.session.query(User).filter_by(email="lead@example.org").one()
    assert user.is_coordinator
    assert verify_password(user.password_hash, "a very good password")


@pytest.mark.parametrize("password,reason", [("short\n", "at least 10 characters")])
def test_create_coordinator_refuses_a_short_password(cli, password, reason):
    result = cli.invoke(args=["coalition", "create-coordinator", "x@example.org"], input=password)
    assert result.exit_code != 0
    assert reason in result.output
    assert count(User) == 0


def test_create_coordinator_refuses_a_duplicate_email(cli):
    CoordinatorFactory(email="taken@example.org")
    result = cli.invoke(
        args=["coalition", "create-coordinator", "taken@example.org"],
        input="a very good password\n",
    )
    assert result.exit_code != 0
    assert "already has an account" in result.output


def test_api_token_for_an_organization_works_once_printed(cli, client):
    org = OrganizationFactory(slug="harbor")
    result = cli.invoke(args=["coalition", "api-token", "harbor"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert db.session.query(ApiToken).one().token_hash != token  # stored hashed
    response = client.get("/api/v1/organizations", headers={"Authorization": f"Bearer {token}"})
    assert [o["slug"] for o in response.json] == [org.slug]


def test_api_token_for_a_coordinator(cli, client):
    CoordinatorFactory(email="coord@example.org")
    OrganizationFactory()
    result = cli.invoke(args=["coalition", "api-token", "--coordinator", "coord@example.org"])
    assert result.exit_code == 0, result.output
    headers = {"Authorization": f"Bearer {result.output.strip()}"}
    assert "contact_email" in client.get("/api/v1/organizations", headers=headers).json[0]


@pytest.mark.parametrize(
    "args,reason",
    [
        (["nope"], "no organization with slug nope"),
        (["--coordinator", "nobody@example.org"], "no coordinator with email"),
        ([], "give either ORG_SLUG or --coordinator"),
    ],
)
def test_api_token_errors_are_one_line_and_non_zero(cli, args, reason):
    result = cli.invoke(args=["coalition", "api-token", *args])
    assert result.exit_code != 0
    assert reason in result.output
    assert count(ApiToken) == 0


def test_the_command_line_speaks_the_terminals_language(app, monkeypatch):
    monkeypatch.setenv("COALITION_LANGUAGE", "es")
    result = app.test_cli_runner().invoke(args=["listings", "expire"])
    assert result.exit_code == 0
    assert "Vencieron 0 publicaciones." in result.output
    refresh()  # the language is kept for the app context, as for one command's run
    monkeypatch.setenv("COALITION_LANGUAGE", "en")
    assert "0 listings expired." in app.test_cli_runner().invoke(args=["listings", "expire"]).output
    refresh()
