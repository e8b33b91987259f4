"""`flask digests send [--dry-run] [--now]` and `flask digests preview EMAIL`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from coalition.models.base import utcnow
from coalition.models.digests import DigestSend
from coalition.models.events import OutboxEvent
from coalition.services.digests import zone
from tests.conftest import count
from tests.digests.conftest import FlakySmtp, World, subscribe


def digests(app: Any, *args: str) -> Any:
    """Invoke `flask digests …`."""
    return app.test_cli_runner().invoke(args=["digests", *args])


def test_dry_run_renders_what_is_due_and_writes_and_sends_nothing(
    app: Any, world: World, smtp: FlakySmtp
) -> None:
    world.listing(world.bushwick)
    subscribe(world.harlem_member)
    subscribe(world.bushwick_member, scope="own_org", kinds=["staffing"])

    result = digests(app, "send", "--dry-run", "--now")

    assert result.exit_code == 0, result.output
    assert "2 digests due; 1 would be sent, 1 empty ones skipped" in result.output
    assert count(DigestSend) == 0 and count(OutboxEvent) == 0 and smtp.messages == []


def test_send_now_sends_once_per_period(app: Any, world: World, smtp: FlakySmtp) -> None:
    world.listing(world.bushwick)
    subscribe(world.harlem_member)
    subscribe(world.coordinator)

    first = digests(app, "send", "--now")
    second = digests(app, "send", "--now")

    assert first.exit_code == 0, first.output
    assert "2 sent, 0 empty skipped" in first.output
    assert "Sending digests" in first.output  # the progress bar
    assert second.exit_code == 0 and "0 sent" in second.output
    assert len(smtp.messages) == 2 and count(DigestSend) == 2


def test_send_without_now_waits_for_the_subscribers_hour(
    app: Any, world: World, smtp: FlakySmtp
) -> None:
    world.listing(world.bushwick)
    local_hour = utcnow().astimezone(zone("America/New_York")).hour
    subscribe(world.harlem_member, hour=local_hour, confirmed_at=utcnow())  # due again tomorrow

    result = digests(app, "send")

    assert result.exit_code == 0 and "0 sent" in result.output
    assert count(DigestSend) == 0 and smtp.messages == []


def test_send_fails_with_a_reason_when_digests_could_not_go_out(
    app: Any, world: World, smtp: FlakySmtp
) -> None:
    world.listing(world.bushwick)
    subscribe(world.harlem_member)
    smtp.mode = "451 4.3.0 Try again later"

    result = digests(app, "send", "--now")

    assert result.exit_code == 1
    assert "not every digest went out: hana@harlem.example.org: 451 4.3.0" in result.output


def test_preview_renders_the_next_digest_to_a_file(
    app: Any, world: World, smtp: FlakySmtp, tmp_path: Path
) -> None:
    offer = world.listing(world.bushwick, quantity=321)
    subscribe(world.harlem_member, last_period_end=utcnow() - timedelta(days=2))
    target = tmp_path / "next.html"

    result = digests(app, "preview", "HANA@harlem.example.org", "--output", str(target))

    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(target.resolve())
    html = target.read_text()
    assert "<table" in html and "321" in html and f"/listings/{offer.id}" in html
    text = digests(app, "preview", "hana@harlem.example.org", "--text", "--output",
                   str(tmp_path / "next.txt"))  # fmt: skip
    assert text.exit_code == 0 and "NEW OFFERS (1)" in (tmp_path / "next.txt").read_text()
    assert count(DigestSend) == 0 and smtp.messages == []


def test_preview_for_someone_unknown_fails_with_a_reason(app: Any, tmp_path: Path) -> None:
    result = digests(app, "preview", "nobody@example.org", "--output", str(tmp_path / "x.html"))
    assert result.exit_code == 1
    assert "no user or digest recipient with email nobody@example.org" in result.output
    assert not (tmp_path / "x.html").exists()
