"""Eligibility credentials: organizations add them, coordinators verify them, matching checks
them, and the worker reminds before they expire.

A category with `requires_credential` is proposed only to receivers holding that kind,
verified and unexpired; otherwise the engine's reason is "not eligible: no standing order
on file". Reminders go 30 days before the expiry, once, to the organization's people; an
expired credential tells the organization and the coordinators, once. Flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale, gettext
from marshmallow import Schema, ValidationError, fields, validate

from coalition.actors import Actor
from coalition.i18n import N_
from coalition.models.base import utcnow
from coalition.models.catalog import Category
from coalition.models.credentials import Credential
from coalition.models.listings import Listing
from coalition.models.notifications import Notification
from coalition.models.users import User
from coalition.services.errors import ServiceError
from coalition.services.listing_input import load_errors
from coalition.sessions import Session

# kind -> what it is called ("not eligible: no <name> on file")
KINDS: dict[str, str] = {
    "naloxone-standing-order": N_("standing order"),
    "ssp-authorization": N_("syringe service program authorization"),
}
REMIND_DAYS = 30
REMINDER_BODY = N_(
    "Renew it and add the new document, or matching stops proposing this category to you."  # noqa: E501
)
EXPIRED_BODY = N_(
    "No new proposals of the categories it covers go to this organization until a renewed credential is verified."  # noqa: E501
)
Holdings = set[tuple[int, str]]


class CredentialInvalid(ServiceError):
    """The input of a credential breaks a rule; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Some fields are not valid.", next(iter(errors), None), 422)
        self.errors = errors


def reason(kind: str) -> str:
    """The engine's (English) reason for a receiver without the credential."""
    return f"not eligible: no {KINDS.get(kind, kind)} on file"


# ---------------------------------------------------------------- who may receive


def holdings(session: Session, today: date, org_ids: Iterable[int] | None = None) -> Holdings:
    """(organization, kind) of every verified, unexpired credential (of those organizations)."""
    query = sa.select(Credential.organization_id, Credential.kind).where(
        Credential.verified_at.is_not(None), Credential.expires_on >= today
    )
    if org_ids is not None:
        query = query.where(Credential.organization_id.in_(list(org_ids)))
    return {(org_id, kind) for org_id, kind in session.execute(query)}


def ineligible_reason(listing: Listing, held: Holdings) -> str:
    """Why the listing's organization may not receive its category ("" when it may)."""
    kind = listing.category.requires_credential
    if listing.is_offer or not kind or (listing.organization_id, kind) in held:
        return ""
    return reason(kind)


def may_receive(session: Session, listing: Listing, today: date) -> bool:
    """Whether the request's organization may receive its category today."""
    if listing.is_offer or not listing.category.requires_credential:
        return True
    return not ineligible_reason(listing, holdings(session, today, [listing.organization_id]))


# ---------------------------------------------------------------- adding and verifying


class CredentialSchema(Schema):
    """A credential as an organization adds it."""

    kind = fields.String(
        required=True, validate=validate.OneOf(list(KINDS), error=N_("choose a kind"))
    )
    document_ref = fields.String(
        required=True,
        validate=validate.Length(min=2, max=200, error=N_("give the document's number or name")),
    )
    expires_on = fields.Date(required=True)


def add(
    session: Session, actor: Actor | None, org_id: int, raw: dict[str, Any], today: date
) -> Credential:
    """Record a credential for the organization; it counts once a coordinator verifies it."""
    try:
        data = CredentialSchema().load(raw)
    except ValidationError as exc:
        raise CredentialInvalid(load_errors(exc)) from exc
    if data["expires_on"] < today:
        raise CredentialInvalid({"expires_on": [N_("this date has passed")]})
    if actor is not None and not (
        getattr(actor, "is_coordinator", False) or actor.organization_id == org_id
    ):
        raise ServiceError(
            N_("You can only add credentials for your own organization."), status=403
        )
    credential = Credential(organization_id=org_id, **data)
    session.add(credential)
    session.flush()
    return credential


def verify(session: Session, actor: Actor, credential: Credential) -> Credential:
    """A coordinator confirms the document."""
    if not getattr(actor, "is_coordinator", False):
        raise ServiceError(N_("Only coordinators verify credentials."), status=403)
    credential.verified_at = utcnow()
    credential.verified_by_id = getattr(actor, "id", None)
    session.flush()
    return credential


def of_org(session: Session, org_id: int) -> list[Credential]:
    """The organization's credentials, latest expiry first."""
    query = sa.select(Credential).where(Credential.organization_id == org_id)
    return list(session.scalars(query.order_by(Credential.expires_on.desc())))


def all_credentials(session: Session) -> list[Credential]:
    """Every credential: unverified first, then by expiry."""
    query = sa.select(Credential).order_by(
        Credential.verified_at.is_not(None), Credential.expires_on
    )
    return list(session.scalars(query))


def require(session: Session, category: Category, kind: str) -> None:
    """Make receivers of a category hold `kind` ("" for none)."""
    if kind and kind not in KINDS:
        raise ServiceError(f"unknown credential kind {kind}; known: {', '.join(KINDS)}")
    category.requires_credential = kind
    session.flush()


# ---------------------------------------------------------------- reminders


def _people(session: Session, org_id: int | None) -> list[User]:
    """The organization's active people, or (None) the coordinators."""
    query = sa.select(User).where(User.disabled.is_(False))
    if org_id is None:
        query = query.where(User.coalition_role.is_not(None))
    else:
        query = query.where(User.organization_id == org_id)
    return list(session.scalars(query.order_by(User.id)))


def _notify(session: Session, people: list[User], key: str, title: str, body: str) -> None:
    """One in-app notification per person, in their language; none twice for the same key."""
    done = set(session.scalars(sa.select(Notification.user_id).where(Notification.event_id == key)))
    for person in people:
        if person.id in done:
            continue
        with force_locale(person.locale or "en"):
            session.add(
                Notification(
                    user_id=person.id,
                    event_id=key,
                    event_type="credential.expiring",
                    title=gettext(title),
                    body=gettext(body),
                    link="/stock/credentials",
                )
            )


def send_reminders(session: Session, today: date, now: datetime | None = None) -> dict[str, int]:
    """Remind 30 days before expiry and announce expiry, each once per credential."""
    now = now or utcnow()
    soon = today + timedelta(days=REMIND_DAYS)
    due = session.scalars(
        sa.select(Credential).where(
            Credential.verified_at.is_not(None),
            Credential.reminder_sent_at.is_(None),
            Credential.expires_on >= today,
            Credential.expires_on <= soon,
        )
    ).all()
    for credential in due:
        _notify(
            session,
            _people(session, credential.organization_id),
            f"credential-{credential.id}-reminder",
            N_("A credential expires within 30 days"),
            REMINDER_BODY,
        )
        credential.reminder_sent_at = now
    expired = session.scalars(
        sa.select(Credential).where(
            Credential.expired_notice_at.is_(None), Credential.expires_on < today
        )
    ).all()
    for credential in expired:
        people = _people(session, credential.organization_id) + _people(session, None)
        _notify(
            session,
            people,
            f"credential-{credential.id}-expired",
            N_("A credential has expired"),
            EXPIRED_BODY,
        )
        credential.expired_notice_at = now
    session.flush()
    return {"reminded": len(due), "expired": len(expired)}
