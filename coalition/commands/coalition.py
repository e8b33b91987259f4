"""`flask coalition …`: demo data, coordinators and API tokens."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.organizations import Organization
from coalition.services import accounts
from coalition.services.errors import ServiceError

coalition_cli = click.Group("coalition", help="Set up the coalition.")


def fail(message: str) -> None:
    """Exit non-zero with a one-line reason."""
    raise click.ClickException(message)


@coalition_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when organizations already exist.")
def demo_command(if_empty: bool) -> None:
    """Load a demo coalition across New York City and print the sign-in details."""
    from coalition.demo import DEMO_PASSWORD, load_demo

    if db.session.scalar(sa.select(sa.func.count()).select_from(Organization)):
        if if_empty:
            click.echo("Demo data already loaded (organizations exist); nothing to do.")
            return
        fail("the database already has organizations; the demo loads into an empty one")
    summary = load_demo(db.session)
    db.session.commit()
    click.echo(f"Loaded {summary.organizations} organizations and {summary.people} people.")
    click.echo(f"Coordinator: {summary.coordinator_email} / {DEMO_PASSWORD}")
    for email in summary.sample_members:
        click.echo(f"Member:      {email} / {DEMO_PASSWORD}")
    click.echo("Every demo account uses the same password.")


@coalition_cli.command("create-coordinator")
@click.argument("email")
@click.option("--name", default="", help="Full name (defaults to the email's local part).")
def create_coordinator_command(email: str, name: str) -> None:
    """Create a coordinator; the password is asked for, or read from standard input."""
    password = _read_password()
    if len(password) < 10:
        fail("the password must have at least 10 characters")
    try:
        accounts.create_coordinator(db.session, email, name or email.split("@")[0], password)
    except ServiceError as exc:
        fail(exc.message)
    db.session.commit()
    click.echo(f"Coordinator {accounts.normalise_email(email)} created.")


def _read_password() -> str:
    """Prompt on a terminal; otherwise read the first line of standard input."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@coalition_cli.command("api-token")
@click.argument("org_slug", required=False)
@click.option("--coordinator", "coordinator_email", help="Create a coordinator's own token.")
@click.option("--label", default="cli", help="A label to recognise the token by.")
def api_token_command(org_slug: str | None, coordinator_email: str | None, label: str) -> None:
    """Print a new API token for an organization, or for a coordinator."""
    if bool(org_slug) == bool(coordinator_email):
        fail("give either ORG_SLUG or --coordinator EMAIL")
    if coordinator_email:
        user = accounts.find_user(db.session, coordinator_email)
        if user is None or not user.is_coordinator:
            fail(f"no coordinator with email {coordinator_email}")
        _, token = accounts.issue_api_token(db.session, None, user=user, label=label)
    else:
        org = db.session.scalar(sa.select(Organization).where(Organization.slug == org_slug))
        if org is None:
            fail(f"no organization with slug {org_slug}")
        _, token = accounts.issue_api_token(db.session, None, org=org, label=label)
    db.session.commit()
    click.echo(token)
