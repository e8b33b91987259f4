"""`flask matching …`: run the global re-solve by hand and see the last runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
import sqlalchemy as sa
from flask_babel import gettext

from coalition.config import current_settings
from coalition.extensions import db
from coalition.models.matches import ResolveRun
from coalition.services.proposals import run_resolve

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar  # what click.progressbar() returns

matching_cli = click.Group("matching", help="The matching engine in the platform.")
STEPS = ("snapshot", "solve", "apply")


@matching_cli.command("resolve")
@click.option("--margin", type=float, default=None, help="Replace only when better by more.")
def resolve_command(margin: float | None) -> None:
    """Re-solve the whole snapshot of open listings now, showing progress."""
    margin = current_settings().resolve_margin if margin is None else margin
    with click.progressbar(length=len(STEPS), label="re-solving", show_eta=False) as bar:
        run = run_resolve(db.session, margin, progress=lambda step: _advance(bar, step))
        bar.update(len(STEPS) - bar.pos)
    db.session.commit()
    click.echo(describe(run))


def _advance(bar: ProgressBar[int], step: str) -> None:
    """Move the bar to the step that starts."""
    bar.label = f"re-solving: {step}"
    bar.update(STEPS.index(step) - bar.pos)


def describe(run: ResolveRun) -> str:
    """One line about a run."""
    verdict = (
        f"replaced: {run.cancelled} proposals cancelled, {run.created} created"
        if run.replaced
        else "kept the standing proposals"
    )
    return (
        f"{run.offers} offers × {run.requests} requests in {run.seconds:.2f} s; "
        f"standing {run.current_value:.2f}, optimum {run.optimal_value:.2f}; {verdict}"
    )


@matching_cli.command("status")
@click.option("--limit", default=5, show_default=True)
def status_command(limit: int) -> None:
    """The most recent re-solves."""
    runs = db.session.scalars(
        sa.select(ResolveRun).order_by(ResolveRun.started_at.desc()).limit(limit)
    ).all()
    if not runs:
        click.echo(gettext("No re-solve has run yet."))
    for run in runs:
        click.echo(f"{run.started_at:%Y-%m-%d %H:%M:%S} {run.state}: {describe(run)}")
