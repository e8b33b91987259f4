"""`flask stock …`: import an inventory sheet of counts, show an organization's stock."""

from __future__ import annotations

import sys
from typing import TextIO

import click
from flask_babel import gettext, ngettext

from coalition.commands.listings import _org, _report, _System
from coalition.extensions import db
from coalition.services import catalog, credentials, inventory
from coalition.services.errors import ServiceError
from coalition.services.inventory_csv import ImportFailed, check_rows, read_rows, record_rows

stock_cli = click.Group("stock", help="Stock on hand: import counts, show levels.")


@stock_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--org", "org_slug", required=True, help="Slug of the organization counting.")
def import_command(file: TextIO, org_slug: str) -> None:
    """Import stock counts from a CSV FILE for one organization: every row, or none."""
    org = _org(org_slug)
    try:
        rows = read_rows(file)
        with click.progressbar(rows, label=gettext("Checking rows"), file=sys.stderr) as bar:
            loaded = check_rows(db.session, _System(), org, bar)
        with click.progressbar(loaded, label=gettext("Recording counts"), file=sys.stderr) as bar:
            entries = record_rows(db.session, _System(), org, bar)
    except ImportFailed as exc:
        db.session.rollback()
        _report(exc)
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    flagged = sum(1 for e in entries if e.flag)
    recorded = ngettext(
        "Recorded %(num)s stock entry for %(org)s.",
        "Recorded %(num)s stock entries for %(org)s.",
        len(entries),
        org=org.slug,
    )
    if flagged:
        recorded += " " + ngettext(
            "%(num)s is flagged for a second look.",
            "%(num)s are flagged for a second look.",
            flagged,
        )
    click.echo(recorded)


@stock_cli.command("show")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
def show_command(org_slug: str) -> None:
    """Print the organization's stock on hand per category and lot."""
    org = _org(org_slug)
    names = {c.id: c.slug for c in inventory.supply_categories(db.session)}
    for category_id, level in sorted(inventory.levels(db.session, org.id).items()):
        click.echo(f"{names.get(category_id, category_id)}\t{level.total}")
        for lot in level.lot_rows():
            expiry = lot["expires_on"] or "-"
            click.echo(f"  {lot['lot'] or '-'}\t{expiry}\t{lot['quantity']}")


@stock_cli.command("require")
@click.argument("category_slug")
@click.argument("kind")
def require_command(category_slug: str, kind: str) -> None:
    """Make receivers of CATEGORY hold a credential KIND (`none` to lift it)."""
    category = catalog.category_by_slug(db.session, category_slug)
    if category is None:
        raise click.ClickException(gettext("no category with slug %(slug)s", slug=category_slug))
    try:
        credentials.require(db.session, category, "" if kind == "none" else kind)
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    if category.requires_credential:
        needed = gettext(
            "%(category)s: receivers need %(credential)s.",
            category=category.slug,
            credential=category.requires_credential,
        )
    else:
        needed = gettext("%(category)s: receivers need no credential.", category=category.slug)
    click.echo(needed)
