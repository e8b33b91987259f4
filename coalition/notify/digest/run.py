"""A digest run: schedule what is due, then claim, render and send it batch by batch.

Delivered messages are recorded as soon as the SMTP server has taken them, and every
attempt at a period's digest carries the same Message-ID, so the copy a crash between the
two could cause is recognisable as one. Also the dry run and the preview, which render in
memory and write nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import joinedload

from coalition.config import current_settings
from coalition.i18n import DEFAULT_LOCALE
from coalition.models.base import utcnow
from coalition.models.digests import DigestSend, DigestSubscription, SendState
from coalition.models.users import User
from coalition.notify import digest as render
from coalition.notify.smtp import Mailer
from coalition.services.digests.claims import (
    Claim,
    backoff,
    claim_batch,
    claimable,
    extend_claim,
    mark_retry,
    mark_sent,
    mark_skipped,
    release,
)
from coalition.services.digests.periods import window_start
from coalition.services.digests.scheduling import due_rows, schedule_due
from coalition.services.digests.settings import FILTER_FIELDS
from coalition.services.digests.subscriptions import unsubscribe_token
from coalition.sessions import Session

log = logging.getLogger("coalition.digests")


@dataclass
class RunReport:
    """What one run did."""

    scheduled: int = 0
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Rows this run finished one way or another."""
        return self.sent + self.skipped + self.retrying + self.failed + self.released

    def as_dict(self) -> dict[str, int]:
        """Counts, for logs."""
        keys = ("scheduled", "sent", "skipped", "retrying", "failed", "released")
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True)
class Job:
    """A claimed send and its reader as plain values, so commits do not reload anything."""

    id: int
    subscription_id: int
    period_key: str
    period_start: datetime
    period_end: datetime
    attempts: int
    reader: render.Recipient


JOB_COLUMNS = (
    DigestSend.id,
    DigestSend.subscription_id,
    DigestSend.period_key,
    DigestSend.period_start,
    DigestSend.period_end,
    DigestSend.attempts,
    DigestSend.recipient,
    sa.func.coalesce(User.name, DigestSubscription.name).label("name"),
    sa.func.coalesce(User.organization_id, DigestSubscription.organization_id).label("org_id"),
    User.coalition_role,
    sa.func.coalesce(User.locale, DigestSubscription.locale).label("locale"),
    *(getattr(DigestSubscription, name) for name in FILTER_FIELDS),
)


class DigestRun:
    """Schedule what is due, then claim, render and send it batch by batch.

    `send()` is a generator: it stops at every point where what happened so far must be
    durable before going on (a claim before its messages go out, delivered messages before
    more do) and yields how many rows it finished since the last stop. The caller commits
    at each stop: the worker's digests job and `flask digests send` are the entry points.
    """

    def __init__(self, session: Session, now: datetime | None = None, force: bool = False) -> None:
        self.session = session
        self.now = now or utcnow()
        self.force = force
        self.app = current_app._get_current_object()  # type: ignore[attr-defined]
        self.links = render.Links(self.app)
        self.templates = render.Templates.load(self.app)
        self.snapshot: render.Snapshot | None = None
        self.report = RunReport()
        self.lease = current_settings().digest_lease_seconds
        self.stopped = False

    def schedule(self) -> int:
        """Insert the rows due now (the caller commits)."""
        self.report.scheduled = schedule_due(self.session, self.now, self.force)
        return self.report.scheduled

    def pending_count(self) -> int:
        """Rows this run could claim now."""
        query = sa.select(sa.func.count()).select_from(DigestSend).where(claimable(self.now))
        return self.session.scalar(query) or 0

    def send(self) -> Iterator[int]:
        """Send until nothing claimable is left or the server is unreachable."""
        timeout = current_settings().digest_smtp_timeout
        batch = current_settings().digest_batch_size
        with Mailer.from_config(self.app.config, timeout) as mailer:
            while not self.stopped:
                claim = claim_batch(self.session, self.now, batch, self.lease)
                yield 0  # the claim is durable before anything is sent
                if not claim.ids:
                    break
                yield from self.deliver(claim, mailer)

    def deliver(self, claim: Claim, mailer: Mailer) -> Iterator[int]:
        """Render one claimed batch while a second thread sends it over one connection."""
        jobs = self.load(claim.ids)
        snapshot = self._snapshot(jobs)
        untried: list[Job] = []
        with render.Pipeline(mailer) as pipeline:
            for job in jobs:
                if pipeline.broken.is_set():
                    untried.append(job)
                    continue
                if self._keep_lease(claim):
                    yield 0
                if rendered := self._render_or_skip(snapshot, job, claim):
                    pipeline.submit(job, rendered)
                else:
                    yield 1  # an empty digest skipped, or one that could not be rendered
                if finished := self._record_all(pipeline.outcomes(), claim, untried):
                    yield finished
        if finished := self._record_all(pipeline.outcomes(), claim, untried):
            yield finished
        if untried:
            yield self._release(untried, claim)

    def _release(self, untried: list[Job], claim: Claim) -> int:
        """Put back what was not tried because the server went away, and stop the run."""
        until = self.now + timedelta(seconds=backoff(1))
        release(self.session, [j.id for j in untried], claim.token, until)
        self.report.released += len(untried)
        self.stopped = True
        return len(untried)

    def load(self, ids: list[int]) -> list[Job]:
        """The claimed rows with their readers and filters, in one query."""
        query = (
            sa.select(*JOB_COLUMNS)
            .join(DigestSubscription, DigestSend.subscription_id == DigestSubscription.id)
            .outerjoin(User, DigestSubscription.user_id == User.id)
            .where(DigestSend.id.in_(ids))
            .order_by(DigestSend.id)
        )
        jobs = []
        for row in self.session.execute(query):
            reader = make_recipient(
                self.app, self.links, row.subscription_id, row, row.recipient, row.name,
                row.org_id, row.coalition_role, row.locale,
            )  # fmt: skip
            jobs.append(
                Job(row.id, row.subscription_id, row.period_key, row.period_start,
                    row.period_end, row.attempts, reader)
            )  # fmt: skip
        return jobs

    def _snapshot(self, jobs: list[Job]) -> render.Snapshot:
        """The shared content, reused while it covers the batch's windows."""
        since = min(j.period_start for j in jobs)
        until = max(j.period_end for j in jobs)
        if self.snapshot is None or not self.snapshot.covers(since, until):
            if self.snapshot is not None:
                since, until = min(since, self.snapshot.since), max(until, self.snapshot.until)
            self.snapshot = render.Snapshot(self.session, self.links, since, until)
        return self.snapshot

    def _keep_lease(self, claim: Claim) -> bool:
        """Extend the claim when half the lease is gone; True when it did."""
        now = max(utcnow(), self.now)
        if (claim.lease_until - now).total_seconds() >= self.lease / 2:
            return False
        extend_claim(self.session, claim, now, self.lease)
        return True

    def _render_or_skip(
        self, snapshot: render.Snapshot, job: Job, claim: Claim
    ) -> render.Rendered | None:
        """The message to send; an empty digest or a rendering error is recorded instead."""
        try:
            rendered = self._render(snapshot, job)
        except Exception as exc:  # noqa: BLE001 - one bad digest must not stop the batch
            log.exception("digest %s could not be rendered", job.id)
            self._note_failure(job, claim, render.DeliveryError("transient", repr(exc)))
            return None
        if rendered is None:
            mark_skipped(self.session, job, claim.token, self.now)
            self.report.skipped += 1
        return rendered

    def _render(self, snapshot: render.Snapshot, job: Job) -> render.Rendered | None:
        """The message, or None for an empty digest nobody asked for."""
        with force_locale(job.reader.locale or DEFAULT_LOCALE):  # the reader's language
            content = render.build_content(snapshot, job.reader, job.period_start, job.period_end)
            if content.is_empty and not job.reader.send_empty:
                return None
            message_id = render.digest_message_id(self.app, job.subscription_id, job.period_key)
            return render.build_digest_message(self.app, self.templates, content, message_id)

    def _record_all(self, outcomes: list[render.Outcome], claim: Claim, untried: list[Job]) -> int:
        """Record what the SMTP server did with the messages finished since the last look.

        Returns how many rows that finished: one commit covers them, at once, since they are
        already delivered and waiting would only widen the window in which a crash could
        send a digest twice.
        """
        delivered, failed = [], 0
        for outcome in outcomes:
            if outcome.error is None:
                delivered.append((outcome.key, outcome.message.message_id))
            elif outcome.error.kind == render.UNTRIED:
                untried.append(outcome.key)
            else:
                self._note_failure(outcome.key, claim, outcome.error)
                self.stopped = self.stopped or outcome.error.kind == "connection"
                failed += 1
        mark_sent(self.session, delivered, claim.token, utcnow())
        self.report.sent += len(delivered)
        return len(delivered) + failed

    def _note_failure(self, job: Job, claim: Claim, error: render.DeliveryError) -> None:
        """Retry later, or fail for good; visible on the coordinators' page."""
        permanent = error.kind == "permanent"
        state = mark_retry(self.session, job, claim.token, error.message, self.now, permanent)
        if state == SendState.FAILED:
            self.report.failed += 1
        else:
            self.report.retrying += 1
        self.report.errors.append(f"{job.reader.address}: {error.message}")


def make_recipient(
    app: Any,
    links: render.Links,
    subscription_id: int,
    sub: Any,
    address: str,
    name: str,
    organization_id: int | None,
    coalition_role: Any,
    locale: str | None = None,
) -> render.Recipient:
    """A reader with the filters of `sub` (a subscription or a row) and unsubscribe links."""
    token = unsubscribe_token(subscription_id)
    return render.Recipient(
        subscription_id=subscription_id,
        address=address,
        name=name,
        organization_id=organization_id,
        is_coordinator=coalition_role is not None,
        kinds=frozenset(sub.kinds or ()),
        categories=frozenset(sub.categories or ()),
        max_distance_km=sub.max_distance_km,
        scope=sub.scope,
        neutral=sub.neutral_wording,
        send_empty=sub.send_empty,
        timezone=sub.timezone,
        unsubscribe_url=links.url("unsubscribe", token=token),
        unsubscribe_mailto=render.unsubscribe_mailto(app, token),
        locale=locale,
    )


def recipient_for(
    app: Any, links: render.Links, sub: DigestSubscription, address: str = ""
) -> render.Recipient:
    """The reader of a subscription loaded with its user."""
    user = sub.user
    org_id = user.organization_id if user is not None else sub.organization_id
    role = user.coalition_role if user is not None else None
    address = address or sub.address
    locale = user.locale if user is not None else sub.locale
    return make_recipient(app, links, sub.id, sub, address, sub.display_name, org_id, role, locale)


def dry_run(session: Session, now: datetime, force: bool = False) -> RunReport:
    """What a run would do now, rendered in memory; writes and sends nothing."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    rows = due_rows(session, now, force)
    report = RunReport(scheduled=len(rows))
    if rows:
        links, templates = render.Links(app), render.Templates.load(app)
        subs = _subscriptions(session, [r.subscription_id for r in rows])
        since = min(r.period_start for r in rows)
        snapshot = render.Snapshot(session, links, since, max(r.period_end for r in rows))
        for row in rows:
            recipient = recipient_for(app, links, subs[row.subscription_id], row.recipient)
            content = render.build_content(snapshot, recipient, row.period_start, row.period_end)
            if content.is_empty and not recipient.send_empty:
                report.skipped += 1
            else:
                render.build_digest_message(app, templates, content, "<dry-run@coalition.local>")
                report.sent += 1
    return report


def _subscriptions(session: Session, ids: list[int]) -> dict[int, DigestSubscription]:
    """Subscriptions with their readers, by id."""
    query = (
        sa.select(DigestSubscription)
        .where(DigestSubscription.id.in_(ids))
        .options(joinedload(DigestSubscription.user).joinedload(User.organization))
    )
    return {sub.id: sub for sub in session.scalars(query).unique()}


def preview(session: Session, sub: DigestSubscription, now: datetime | None = None) -> Any:
    """The next digest as it would be now: (content, rendered message); writes nothing."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = now or utcnow()
    since = window_start(sub, now)
    links = render.Links(app)
    snapshot = render.Snapshot(session, links, since, now)
    recipient = recipient_for(app, links, sub)
    content = render.build_content(snapshot, recipient, since, now)
    message_id = render.digest_message_id(app, sub.id or 0, "preview")
    return content, render.build_digest_message(
        app, render.Templates.load(app), content, message_id
    )
