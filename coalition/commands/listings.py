"""`flask listings …`: import offers from CSV, export listings to CSV, run the expiry sweep."""

from __future__ import annotations

import csv
import sys
from datetime import date
from typing import Any, TextIO

import click
import sqlalchemy as sa
from flask_babel import gettext, ngettext
from sqlalchemy.orm import selectinload

from coalition.extensions import db
from coalition.models.listings import Listing
from coalition.models.organizations import Organization
from coalition.services import listings as service
from coalition.services.errors import ServiceError
from coalition.services.listings_csv import (
    ImportFailed,
    check_offer_rows,
    export_csv,
    post_offer_rows,
    read_rows,
)

listings_cli = click.Group("listings", help="Import, export and expire listings.")


class _System:
    """The operator at the command line: acts for any organization, like a coordinator."""

    is_coordinator = True
    is_authenticated = True
    id = None
    email = "cli"
    organization_id = None
    organization = None


def _org(slug: str) -> Organization:
    """The organization with that slug, or exit non-zero."""
    org = db.session.scalar(sa.select(Organization).where(Organization.slug == slug))
    if org is None:
        raise click.ClickException(f"no organization with slug {slug}")
    return org


@listings_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--org", "org_slug", required=True, help="Slug of the organization offering.")
def import_command(file: TextIO, org_slug: str) -> None:
    """Import offers from a CSV FILE for one organization: every row, or none."""
    org = _org(org_slug)
    try:
        rows = read_rows(file)
        with click.progressbar(rows, label="Checking rows", file=sys.stderr) as bar:
            loaded = check_offer_rows(db.session, _System(), org, bar)
        with click.progressbar(loaded, label="Posting offers", file=sys.stderr) as bar:
            listings = post_offer_rows(db.session, _System(), org, bar)
    except ImportFailed as exc:
        db.session.rollback()
        _report(exc)
    except (ServiceError, csv.Error, UnicodeDecodeError) as exc:
        db.session.rollback()
        raise click.ClickException(getattr(exc, "message", str(exc))) from exc
    db.session.commit()
    click.echo(
        gettext(
            "Imported %(num)s offers for %(organization)s.",
            num=len(listings),
            organization=org.slug,
        )
    )


def _report(exc: ImportFailed) -> None:
    """One line per problem on stderr, then a summary; exit 1."""
    for line in exc.errors:
        click.echo(line, err=True)
    problems = len(exc.errors)
    if exc.rows:
        message = gettext(
            "%(num)s problem(s) in %(rows)s rows; nothing was imported", num=problems, rows=exc.rows
        )
    else:
        message = gettext("%(num)s problem(s); nothing was imported", num=problems)
    raise click.ClickException(message)


@listings_cli.command("export")
@click.option("--direction", type=click.Choice(["offer", "request"]))
@click.option("--kind", type=click.Choice(["supply", "staffing"]))
@click.option("--category", help="Category slug.")
@click.option("--org", "org_slug", help="Organization slug.")
@click.option("--status", "statuses", multiple=True, help="Status (repeatable; default: all).")
@click.option("--neutral", is_flag=True, help="Use neutral category labels.")
@click.option("-o", "--output", type=click.File("w"), default="-", help="File (default stdout).")
def export_command(output: TextIO, neutral: bool, org_slug: str | None, **filters: Any) -> None:
    """Write listings as CSV, filtered like the browse page."""
    wanted = service.ListingFilters(org=org_slug, **filters)
    for status in wanted.statuses:
        if status not in {s.value for s in service.ListingStatus}:
            raise click.ClickException(gettext("unknown status %(status)s", status=status))
    query = service.filtered_query(_System(), wanted).options(
        selectinload(Listing.organization), selectinload(Listing.category)
    )
    for chunk in export_csv(db.session.scalars(query), neutral):
        output.write(chunk)


@listings_cli.command("expire")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Pretend today is this date.")
def expire_command(today: Any) -> None:
    """Mark listings past their lot expiry, need-by date or last window as expired."""
    day = today.date() if today else date.today()
    count = service.expire_listings(db.session, day)
    db.session.commit()
    click.echo(ngettext("%(num)s listing expired.", "%(num)s listings expired.", count))
