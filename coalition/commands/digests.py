"""`flask digests …`: send what is due, or preview someone's next digest."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext

from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.notify.digest import run as digest_run
from coalition.services import digests as service

digests_cli = click.Group("digests", help="Email digests.")


@digests_cli.command("send")
@click.option("--dry-run", is_flag=True, help="Render what is due; write and send nothing.")
@click.option(
    "--now", "force", is_flag=True, help="Treat every subscription as due for its current period."
)
def send_command(dry_run: bool, force: bool) -> None:
    """Send the digests that are due (each recipient and period at most once)."""
    now = utcnow()
    if dry_run:
        report = digest_run.dry_run(db.session, now, force)
        db.session.rollback()
        click.echo(
            gettext(
                "Dry run: %(due)s digests due; %(sent)s would be sent, %(skipped)s empty ones "
                "skipped. Nothing was written or sent.",
                due=report.scheduled,
                sent=report.sent,
                skipped=report.skipped,
            )
        )
        return
    run = digest_run.DigestRun(db.session, now, force)
    run.schedule()
    db.session.commit()
    with click.progressbar(
        length=run.pending_count(), label=gettext("Sending digests"), file=sys.stderr
    ) as bar:
        for finished in run.send():
            db.session.commit()  # each step's outcome is durable before the next goes out
            bar.update(finished)
    report = run.report
    click.echo(
        gettext(
            "%(sent)s sent, %(skipped)s empty skipped, %(retrying)s to retry, %(failed)s failed, "
            "%(released)s put back.",
            sent=report.sent,
            skipped=report.skipped,
            retrying=report.retrying,
            failed=report.failed,
            released=report.released,
        )
    )
    if report.retrying or report.failed or report.released:
        raise click.ClickException(
            gettext("not every digest went out: %(error)s", error=report.errors[-1])
        )


@digests_cli.command("preview")
@click.argument("email")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the digest (default: instance/digest-preview-<email>.html).",
)
@click.option("--text", "as_text", is_flag=True, help="Write the plain-text part instead.")
def preview_command(email: str, output: Path | None, as_text: bool) -> None:
    """Render EMAIL's next digest to a file and print its path."""
    sub = service.find_subscription(db.session, email)
    if sub is None:
        raise click.ClickException(f"no user or digest recipient with email {email}")
    _, message = digest_run.preview(db.session, sub)
    suffix = ".txt" if as_text else ".html"
    path = output or Path(current_app.instance_path) / f"digest-preview-{email.lower()}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(message.text if as_text else message.html, encoding="utf-8")
    db.session.rollback()
    click.echo(str(path.resolve()))
