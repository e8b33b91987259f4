"""`flask reports …`: impact reports to a file, and rebuilding the impact summary table."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy as sa
from flask_babel import gettext

from coalition.extensions import db
from coalition.models.organizations import Organization
from coalition.services import impact

if TYPE_CHECKING:
    from coalition.blueprints.impact.access import Report

reports_cli = click.Group("reports", help="Impact figures and reports.")


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """A YYYY-MM-DD option."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


@reports_cli.command("impact")
@click.option("--from", "start", required=True, callback=_day, help="first day (YYYY-MM-DD)")
@click.option("--to", "end", required=True, callback=_day, help="last day (YYYY-MM-DD)")
@click.option("--format", "fmt", type=click.Choice(["pdf", "csv", "transfers-csv"]), default="pdf")
@click.option("--neutral", is_flag=True, help="Neutral wording for categories and the coalition.")
@click.option("--organization", help="One organization's slug (default: the coalition).")
@click.option("--tag", help="Only matches whose listings carry this program or funder tag.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def impact_command(
    start: date,
    end: date,
    fmt: str,
    neutral: bool,
    organization: str | None,
    tag: str | None,
    output: Path,
) -> None:
    """Write the impact report of a period to a file, as PDF or CSV."""
    from coalition.blueprints.impact.access import Report

    if end < start:
        raise click.ClickException("--to must not be before --from")
    org = _organization(organization)
    scope = impact.Scope(start=start, end=end, organization_id=org.id if org else None, tag=tag)
    rep = Report(scope, impact.Wording(neutral, None), "category", org, None)
    if fmt == "transfers-csv":
        _write_transfers(rep, output)
    else:
        _write_report(rep, fmt, output)
    click.echo(gettext("%(file)s written.", file=output))


def _organization(slug: str | None) -> Organization | None:
    """The organization named on the command line, if any."""
    if not slug:
        return None
    org = db.session.scalar(sa.select(Organization).where(Organization.slug == slug))
    if org is None:
        raise click.ClickException(f"no organization with slug {slug}")
    return org


def _write_report(rep: Report, fmt: str, output: Path) -> None:
    """The figures (CSV) or the whole report (PDF), with a progress bar over its steps."""
    from coalition.blueprints.impact import report as reports

    built: list[reports.Built] = []
    steps: list[tuple[str, Callable[[], object]]] = [
        ("figures", lambda: built.append(reports.build(rep))),
        ("document", lambda: output.write_bytes(_document(reports, built[0], fmt))),
    ]
    with click.progressbar(steps, label="Impact report", file=sys.stderr) as bar:
        for _name, step in bar:
            step()


def _document(reports: Any, built: Any, fmt: str) -> bytes:
    """The PDF, or every figure as CSV."""
    return reports.pdf(built) if fmt == "pdf" else "".join(reports.figures_csv(built)).encode()


def _write_transfers(rep: Report, output: Path) -> None:
    """Every transfer of the scope, with a progress bar over the rows."""
    from coalition.blueprints.impact import report as reports

    total = impact.fact_count(db.session, rep.scope)
    with (
        click.progressbar(length=total + 1, label="Transfers", file=sys.stderr) as bar,
        output.open("w", newline="") as out,
    ):
        for line in reports.transfers_csv(rep, progress=bar.update):
            out.write(line)


@reports_cli.command("rebuild-impact")
def rebuild_command() -> None:
    """Re-create the impact summary (impact_facts) from every fulfilled match."""
    total = impact.fulfilled_count(db.session)
    with click.progressbar(length=total, label="Rebuilding impact facts", file=sys.stderr) as bar:
        written = impact.rebuild_facts(db.session, progress=bar.update)
    db.session.commit()
    click.echo(gettext("%(num)s fulfilled matches counted.", num=written))
