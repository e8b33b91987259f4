"""`flask reports …`: impact reports to a file, and rebuilding the impact summary table."""

from __future__ import annotations

import sys

import click

from coalition.extensions import db
from coalition.services import impact

reports_cli = click.Group("reports", help="Impact figures and reports.")


@reports_cli.command("rebuild-impact")
def rebuild_command() -> None:
    """Re-create the impact summary (impact_facts) from every fulfilled match."""
    total = impact.fulfilled_count(db.session)
    with click.progressbar(length=total, label="Rebuilding impact facts", file=sys.stderr) as bar:
        written = impact.rebuild_facts(db.session, progress=bar.update)
    db.session.commit()
    click.echo(f"{written} fulfilled matches counted.")
