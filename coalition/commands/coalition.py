"""`flask coalition …`: demo data, coordinators and API tokens."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask_babel import gettext

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
            click.echo(gettext("Demo data already loaded (organizations exist); nothing to do."))
            return
        fail(gettext("the database already has organizations; the demo loads into an empty one"))
    summary = load_demo(db.session)
    db.session.commit()
    click.echo(
        gettext(
            "Loaded %(orgs)s organizations and %(people)s people.",
            orgs=summary.organizations,
            people=summary.people,
        )
    )
    click.echo(
        gettext(
            "Coordinator: %(email)s / %(password)s",
            email=summary.coordinator_email,
            password=DEMO_PASSWORD,
        )
    )
    for email in summary.sample_members:
        click.echo(
            gettext("Member:      %(email)s / %(password)s", email=email, password=DEMO_PASSWORD)
        )
    click.echo(gettext("Every demo account uses the same password."))


@coalition_cli.command("create-coordinator")
@click.argument("email")
@click.option("--name", default="", help="Full name (defaults to the email's local part).")
def create_coordinator_command(email: str, name: str) -> None:
    """Create a coordinator; the password is asked for, or read from standard input."""
    password = _read_password()
    if len(password) < 10:
        fail(gettext("the password must have at least 10 characters"))
    try:
        accounts.create_coordinator(db.session, email, name or email.split("@")[0], password)
    except ServiceError as exc:
        fail(exc.message)
    db.session.commit()
    click.echo(gettext("Coordinator %(email)s created.", email=accounts.normalise_email(email)))


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
        fail(gettext("give either ORG_SLUG or --coordinator EMAIL"))
    if coordinator_email:
        user = accounts.find_user(db.session, coordinator_email)
        if user is None or not user.is_coordinator:
            fail(gettext("no coordinator with email %(email)s", email=coordinator_email))
        _, token = accounts.issue_api_token(db.session, None, user=user, label=label)
    else:
        org = db.session.scalar(sa.select(Organization).where(Organization.slug == org_slug))
        if org is None:
            fail(gettext("no organization with slug %(slug)s", slug=org_slug))
        _, token = accounts.issue_api_token(db.session, None, org=org, label=label)
    db.session.commit()
    click.echo(token)
