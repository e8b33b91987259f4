"""`flask events status [--json]` and `flask events replay ID`."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app

from coalition.events.extension import routes
from coalition.events.status import ReplayError, events_status, replay
from coalition.extensions import db

events_cli = click.Group("events", help="Watch and repair the event backbone.")


@events_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status_command(as_json: bool) -> None:
    """Outbox backlog, unprocessed events, retries, dead letters and periodic jobs."""
    status = events_status(db.session(), routes(current_app))
    db.session.rollback()
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    for line in status_lines(status):
        click.echo(line)


def status_lines(status: dict[str, Any]) -> list[str]:
    """The human-readable status."""
    lines = [
        f"outbox:       {status['outbox']} events",
        f"unpublished:  {status['unpublished']}"
        f" (oldest {status['oldest_unpublished_seconds']:.1f} s)",
        f"unprocessed:  {status['unprocessed']}"
        f" (oldest pending {status['oldest_unprocessed_seconds']:.1f} s)",
        f"retrying:     {status['retrying']}",
        f"dead letters: {status['dead']}",
    ]
    for group, info in status["groups"].items():
        lines.append(
            f"group {group}: {info['unprocessed']} unprocessed of {', '.join(info['types'])}"
        )
    for job in status["jobs"]:
        lines.append(
            f"job {job['name']}: {job['runs']} runs, next due {job['next_due']}"
            + (f", last error: {job['last_error']}" if job["last_error"] else "")
        )
    for dead in status["dead_letters"]:
        lines.append(
            f"dead #{dead['id']} {dead['type']} {dead['event_id']} in {dead['group']} "
            f"after {dead['attempts']} attempts: {dead['error']}"
        )
    return lines


@events_cli.command("replay")
@click.argument("ident", metavar="ID")
def replay_command(ident: str) -> None:
    """Queue a dead letter again (by its id, or every dead letter of an event id).

    The relay publishes it to its group's queue once the replay is committed.
    """
    try:
        letters = replay(db.session(), ident.strip(), routes(current_app))
    except ReplayError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    for letter in letters:
        click.echo(
            f"replayed dead letter #{letter.id} ({letter.event_type} {letter.event_id}) "
            f"to {letter.handler_group}"
        )
