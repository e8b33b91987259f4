"""Who hears about each match event, and what they are told.

`notify_match_event` is called by the worker (group `notifications`) for every `match.*` event.
In the handler's transaction it writes, per recipient, an in-app `Notification`, a pending
`EmailDelivery` (unless the person opted out of that event type) and, per organization with
an active webhook, a pending `WebhookDelivery`. Each of those has a unique key per
(event, recipient), and the worker's inbox runs the handler once per event, so a redelivered
event writes nothing new. Emails and webhooks are sent after the commit by the worker's
delivery job (`worker.jobs.deliver_due`), which claims each row before sending it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale, gettext

from coalition.config import current_settings
from coalition.events import names
from coalition.events.envelope import Event
from coalition.i18n import DEFAULT_LOCALE, N_
from coalition.labels import label, translated
from coalition.models.base import utcnow
from coalition.models.matches import Match, MatchState
from coalition.models.notifications import (
    EmailDelivery,
    Notification,
    NotificationPreference,
    Webhook,
    WebhookDelivery,
)
from coalition.models.organizations import Organization
from coalition.models.users import User
from coalition.notify import emails, proposal_emails, webhooks
from coalition.notify.links import match_path
from coalition.notify.message import Message
from coalition.services.discretion import Viewer, counterpart, match_view, side_of
from coalition.sessions import Session

log = logging.getLogger("coalition.notify")


@dataclass(frozen=True)
class Audience:
    """Whether members of both organizations and the coordinators hear about an event."""

    orgs: bool = True
    coordinators: bool = False


AUDIENCE: dict[str, Audience] = {
    names.MATCH_PROPOSED: Audience(orgs=True, coordinators=True),
    names.MATCH_APPROVED: Audience(),
    names.MATCH_REJECTED: Audience(),
    names.MATCH_ACCEPTED: Audience(),
    names.MATCH_DECLINED: Audience(coordinators=True),
    names.MATCH_HANDED_OFF: Audience(),
    names.MATCH_FULFILLED: Audience(coordinators=True),
    names.MATCH_CANCELLED: Audience(coordinators=True),
    names.MATCH_EXPIRED: Audience(coordinators=True),
}
MATCH_EVENTS = tuple(AUDIENCE)

# What each event is called on the preferences page.
EVENT_LABELS: dict[str, str] = {
    names.MATCH_PROPOSED: N_("A match is proposed"),
    names.MATCH_APPROVED: N_("A match is approved"),
    names.MATCH_REJECTED: N_("A proposal is rejected"),
    names.MATCH_ACCEPTED: N_("An organization accepts"),
    names.MATCH_DECLINED: N_("An organization declines"),
    names.MATCH_HANDED_OFF: N_("A hand-off is reported"),
    names.MATCH_FULFILLED: N_("A match is fulfilled"),
    names.MATCH_CANCELLED: N_("A match is cancelled"),
    names.MATCH_EXPIRED: N_("A match expires"),
}


@dataclass(frozen=True)
class Recipient:
    """A person to notify, how they see the match, and in which wording."""

    user: User
    viewer: Viewer
    discreet: bool


# ---------------------------------------------------------------- the handler


def notify_match_event(session: Session, event: Event) -> None:
    """Write in-app notifications and pending emails and webhooks for a match event."""
    match = session.get(Match, int(event.data["id"]))
    if match is None or not should_notify(match, event):
        return
    people = recipients(session, match, event)
    add_in_app(session, event, match, people)
    add_emails(session, event, match, people)
    add_webhooks(session, event, match)
    session.flush()


def should_notify(match: Match, event: Event) -> bool:
    """Skip news that is already stale or internal to the matcher."""
    if event.type not in AUDIENCE:
        return False
    if event.type == names.MATCH_CANCELLED and event.data.get("superseded"):
        return False  # the global re-solve replaced an unapproved proposal
    # an auto-approved (or already decided) proposal is announced by its next event
    return not (event.type == names.MATCH_PROPOSED and match.state != MatchState.PROPOSED)


def recipients(session: Session, match: Match, event: Event) -> list[Recipient]:
    """Members of both organizations and/or coordinators, minus the person who acted."""
    audience = AUDIENCE[event.type]
    people: list[Recipient] = []
    if audience.orgs:
        for org in (match.offer.organization, match.request.organization):
            people += [
                Recipient(u, Viewer(org_id=org.id), org.discreet_wording)
                for u in active_members(session, org)
            ]
    if audience.coordinators:
        people += [Recipient(u, Viewer(coordinator=True), False) for u in coordinators(session)]
    return [r for r in people if r.user.email != event.actor]


def active_members(session: Session, org: Organization) -> list[User]:
    """People of an organization who can sign in."""
    return list(
        session.scalars(
            sa.select(User)
            .where(User.organization_id == org.id, User.disabled.is_(False))
            .order_by(User.id)
        )
    )


def coordinators(session: Session) -> list[User]:
    """Coordinators and coalition admins who can sign in."""
    return list(
        session.scalars(
            sa.select(User)
            .where(User.coalition_role.is_not(None), User.disabled.is_(False))
            .order_by(User.id)
        )
    )


# ---------------------------------------------------------------- channels


def add_in_app(session: Session, event: Event, match: Match, people: list[Recipient]) -> None:
    """One in-app notification per person not yet notified of this event."""
    done = set(
        session.scalars(sa.select(Notification.user_id).where(Notification.event_id == event.id))
    )
    for person in people:
        if person.user.id in done:
            continue
        with force_locale(person.user.locale or DEFAULT_LOCALE):
            message = message_for(event, match, person.viewer, discreet=False)
        session.add(
            Notification(
                user_id=person.user.id,
                event_id=event.id,
                event_type=event.type,
                match_id=match.id,
                title=message.title,
                body="\n".join(message.lines),
                link=match_path(match.id),
            )
        )
        done.add(person.user.id)


def opted_out(session: Session, event_type: str) -> set[int]:
    """People who turned off the email for this event type."""
    return set(
        session.scalars(
            sa.select(NotificationPreference.user_id).where(
                NotificationPreference.event_type == event_type,
                NotificationPreference.email.is_(False),
            )
        )
    )


def add_emails(session: Session, event: Event, match: Match, people: list[Recipient]) -> None:
    """A pending email per person who wants it and has none for this event yet."""
    skip = opted_out(session, event.type)
    skip |= set(
        session.scalars(sa.select(EmailDelivery.user_id).where(EmailDelivery.event_id == event.id))
    )
    for person in people:
        if person.user.id in skip or not person.user.email:
            continue
        with force_locale(person.user.locale or DEFAULT_LOCALE):  # the reader's language
            message = message_for(event, match, person.viewer, discreet=person.discreet)
            row = emails.pending_email(event, match, person.user, message, person.discreet)
        if event.type == names.MATCH_PROPOSED:
            row.next_attempt_at = proposal_emails.due_at(utcnow())  # calm: see proposal_emails
        session.add(row)
        skip.add(person.user.id)


def add_webhooks(session: Session, event: Event, match: Match) -> None:
    """A pending delivery to each organization's active webhook, once per event."""
    done = set(
        session.scalars(
            sa.select(WebhookDelivery.webhook_id).where(WebhookDelivery.event_id == event.id)
        )
    )
    for org in (match.offer.organization, match.request.organization):
        hook = session.scalar(
            sa.select(Webhook).where(Webhook.organization_id == org.id, Webhook.active.is_(True))
        )
        if hook is None or hook.id in done:
            continue
        payload = webhooks.payload_for(event, match, org)
        session.add(
            WebhookDelivery(
                webhook_id=hook.id, event_id=event.id, event_type=event.type, payload=payload
            )
        )


# ---------------------------------------------------------------- wording


def message_for(event: Event, match: Match, viewer: Viewer, discreet: bool) -> Message:
    """What this viewer is told about this event (respecting discretion and wording)."""
    words = _words(match, viewer, discreet)
    builder = WORDING.get(event.type, _generic)
    message = builder(event, match, viewer, words)
    if (match.names_shared or viewer.coordinator) and not any(
        words["other"] in line for line in message.lines
    ):
        message.lines.append(gettext("With: %(other)s.", other=words["other"]))
    return message


def _words(match: Match, viewer: Viewer, discreet: bool) -> dict[str, Any]:
    """The pieces every message uses."""
    view = match_view(match, viewer, discreet=discreet)
    what = gettext(
        "%(quantity)s %(unit)s of %(category)s",
        quantity=match.quantity,
        unit=translated(view["unit"]),
        category=view["category_label"],
    )
    if viewer.coordinator:
        other = f"{view['offer']['description']} → {view['request']['description']}"
    else:
        other = counterpart(match, viewer)
    return {"what": what, "other": other, "side": side_of(match, viewer)}


def _role_line(words: dict[str, Any]) -> str:
    """'You would give …' / 'You would receive …'."""
    if words["side"] == "offer":
        return gettext("You would give %(what)s to %(other)s.", **_pair(words))
    if words["side"] == "request":
        return gettext("You would receive %(what)s from %(other)s.", **_pair(words))
    return f"{words['what']}: {words['other']}."


def _pair(words: dict[str, Any]) -> dict[str, Any]:
    """What moves and the other side."""
    return {"what": words["what"], "other": words["other"]}


def _proposed(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    if viewer.coordinator:
        return Message(
            gettext("New proposal to review: %(what)s", what=words["what"]),
            [gettext("A coordinator's approval is needed before anything is shared.")],
        )
    return Message(
        gettext("Possible match: %(what)s", what=words["what"]),
        [
            _role_line(words),
            gettext("A coordinator reviews it before names and contacts are shared."),
        ],
    )


def _approved(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    return Message(
        gettext("Match approved: %(what)s", what=words["what"]),
        [
            _role_line(words),
            gettext("Both organizations now see each other's contacts. Accept or decline."),
        ],
    )


def _rejected(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    lines = [
        gettext(
            "A coordinator decided this proposal will not go ahead; the quantity is free again."
        )
    ]
    return Message(gettext("Proposal not approved: %(what)s", what=words["what"]), lines)


def _accepted(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    if event.data.get("complete"):
        return Message(
            gettext("Both organizations accepted: %(what)s", what=words["what"]),
            [gettext("Arrange the hand-off; the giving organization confirms it when done.")],
        )
    ours = event.data.get("side") == words["side"]
    title = (
        gettext("Your organization accepted: %(what)s", what=words["what"])
        if ours
        else gettext("The other organization accepted: %(what)s", what=words["what"])
    )
    return Message(title, [gettext("The match goes ahead once both sides accept.")])


def _declined(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    return Message(
        gettext("Match declined: %(what)s", what=words["what"]),
        [gettext("One of the organizations declined; the quantity is free for other matches.")],
    )


def _handed_off(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    lines = [gettext("The giving organization reports the hand-off.")]
    if words["side"] == "request":
        lines.append(gettext("Confirm receipt once it has arrived."))
    return Message(gettext("Handed off: %(what)s", what=words["what"]), lines)


def _fulfilled(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    return Message(
        gettext("Received: %(what)s", what=words["what"]),
        [gettext("The receiving organization confirmed receipt.")],
    )


def _cancelled(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    lines = [gettext("The match was cancelled; the quantity is free for other matches.")]
    if match.reason and (match.names_shared or viewer.coordinator):
        lines.append(gettext("Reason: %(reason)s", reason=match.reason))
    return Message(gettext("Match cancelled: %(what)s", what=words["what"]), lines)


def _expired(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    hours = current_settings().match_hold_hours
    return Message(
        gettext("Match expired: %(what)s", what=words["what"]),
        [
            gettext(
                "Nobody acted on it within %(hours)s hours; the quantity is free again.",
                hours=hours,
            )
        ],
    )


def _generic(event: Event, match: Match, viewer: Viewer, words: dict[str, Any]) -> Message:
    return Message(
        gettext("Match %(state)s: %(what)s", state=label(match.state), what=words["what"])
    )


WORDING = {
    names.MATCH_PROPOSED: _proposed,
    names.MATCH_APPROVED: _approved,
    names.MATCH_REJECTED: _rejected,
    names.MATCH_ACCEPTED: _accepted,
    names.MATCH_DECLINED: _declined,
    names.MATCH_HANDED_OFF: _handed_off,
    names.MATCH_FULFILLED: _fulfilled,
    names.MATCH_CANCELLED: _cancelled,
    names.MATCH_EXPIRED: _expired,
}


# ---------------------------------------------------------------- reading


def unread_count(session: Session, user_id: int) -> int:
    """How many in-app notifications the person has not read."""
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or every) unread notification of a person as read; return how many."""
    query = sa.update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    result = session.execute(
        query.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def email_choices(session: Session, user_id: int) -> dict[str, bool]:
    """Each match event type and whether the person gets its email (on unless turned off)."""
    off = set(
        session.scalars(
            sa.select(NotificationPreference.event_type).where(
                NotificationPreference.user_id == user_id,
                NotificationPreference.email.is_(False),
            )
        )
    )
    return {event_type: event_type not in off for event_type in MATCH_EVENTS}


def set_email_choices(session: Session, user: User, wanted: set[str]) -> dict[str, list[bool]]:
    """Store which match emails a person wants; return what changed (for the audit log)."""
    rows = {
        p.event_type: p
        for p in session.scalars(
            sa.select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    changes: dict[str, list[bool]] = {}
    for event_type in MATCH_EVENTS:
        on = event_type in wanted
        row = rows.get(event_type)
        before = True if row is None else row.email
        if before != on:
            changes[event_type] = [before, on]
        if row is None:
            session.add(NotificationPreference(user_id=user.id, event_type=event_type, email=on))
        else:
            row.email = on
    session.flush()
    return changes
