"""Email-only recipients (a director, a board member): added by an admin, double opt-in by
email, managed by coordinators and their organization's admins."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale, gettext
from sqlalchemy.orm import joinedload

from coalition.actors import Actor
from coalition.config import current_settings
from coalition.i18n import DEFAULT_LOCALE, LANGUAGES, N_
from coalition.models.base import utcnow
from coalition.models.digests import DigestSubscription
from coalition.models.organizations import Organization
from coalition.security import TokenError, sign, unsign
from coalition.services.accounts import external_url, find_user, normalise_email
from coalition.services.audit import audit
from coalition.services.digests.periods import WEEKDAYS
from coalition.services.digests.settings import CONFIRM_PURPOSE
from coalition.services.digests.subscriptions import payload_id, validate_settings
from coalition.services.errors import ServiceError
from coalition.services.mail import build_message, queue_email
from coalition.sessions import Session


def add_recipient(
    session: Session,
    actor: Actor | None,
    email: str,
    name: str,
    org: Organization | None,
    values: dict[str, Any],
    locale: str | None = None,
) -> DigestSubscription:
    """Add someone without an account; they receive nothing until they confirm by email.
    Their digests and the confirmation are in `locale` (English when it is not one we have)."""
    email = normalise_email(email)
    if find_user(session, email) is not None:
        raise ServiceError(
            N_("This person has an account: they subscribe from their own digest settings."),
            "email",
        )
    validate_settings(session, values, org.id if org else None)
    sub = session.scalar(sa.select(DigestSubscription).where(DigestSubscription.email == email))
    if sub is not None and not can_manage_recipient(actor, sub):  # never take another's over
        raise ServiceError(N_("This address is a recipient of another organization."), "email")
    if sub is not None and sub.is_receiving:
        raise ServiceError(N_("This address already receives the digest."), "email")
    if sub is None:
        sub = DigestSubscription(email=email)
        session.add(sub)
    _set_recipient(sub, actor, name, org, values)
    sub.locale = locale if locale in LANGUAGES else DEFAULT_LOCALE
    session.flush()
    audit(session, actor, "digest.recipient_added", sub, {"email": email, "name": name})
    queue_email(session, confirmation_message(sub), "digest.confirmation_requested")
    return sub


def _set_recipient(
    sub: DigestSubscription,
    actor: Actor | None,
    name: str,
    org: Organization | None,
    values: dict[str, Any],
) -> None:
    """Fill an email-only subscription, unconfirmed."""
    for key, value in values.items():
        setattr(sub, key, value)
    sub.name = name
    sub.organization = org
    sub.added_by_id = getattr(actor, "id", None)
    sub.active = True
    sub.unsubscribed_at = None
    sub.confirmed_at = None
    sub.last_period_end = None
    sub.confirmation_sent_at = utcnow()


def confirmation_message(sub: DigestSubscription) -> Any:
    """The double opt-in email with its signed link."""
    token = sign(CONFIRM_PURPOSE, {"s": sub.id, "e": sub.email})
    org = sub.organization
    with force_locale(sub.locale or DEFAULT_LOCALE):  # the recipient's language
        return build_message(
            sub.email or "",
            gettext("Confirm your Coalition digest subscription"),
            "digest_confirm",
            sub=sub,
            org_name=org.name if org else gettext("the coalition"),
            link=external_url("digests.confirm", token=token),
            days=current_settings().digest_confirm_max_age // 86400,
            weekday=WEEKDAYS[sub.weekday],
        )


def subscription_from_confirm_token(session: Session, token: str) -> DigestSubscription:
    """The email-only subscription a confirmation link names; TokenError if it is not valid."""
    payload = unsign(CONFIRM_PURPOSE, token, current_settings().digest_confirm_max_age)
    sub = session.get(DigestSubscription, payload_id(payload))
    if sub is None or sub.email != payload.get("e"):
        raise TokenError("This link is not valid.")
    return sub


def confirm_recipient(session: Session, sub: DigestSubscription) -> bool:
    """Confirm once; False when it already was confirmed or was removed since."""
    if not sub.active:
        raise TokenError("This subscription was cancelled; ask for a new invitation.")
    if sub.confirmed_at is not None:
        return False
    sub.confirmed_at = utcnow()
    session.flush()
    audit(session, None, "digest.confirmed", sub, {"email": sub.email})
    return True


def managed_recipients(session: Session, actor: Actor) -> list[DigestSubscription]:
    """The email-only recipients the actor manages: all for coordinators, their org's else."""
    query = (
        sa.select(DigestSubscription)
        .where(DigestSubscription.user_id.is_(None))
        .options(joinedload(DigestSubscription.organization))
        .order_by(DigestSubscription.active.desc(), DigestSubscription.email)
    )
    if not getattr(actor, "is_coordinator", False):
        query = query.where(DigestSubscription.organization_id == actor.organization_id)
    return list(session.scalars(query))


def can_manage_recipient(actor: Actor | None, sub: DigestSubscription) -> bool:
    """Coordinators, and admins of the recipient's organization."""
    if getattr(actor, "is_coordinator", False):
        return True
    return (
        sub.user_id is None
        and bool(getattr(actor, "is_org_admin", False))
        and sub.organization_id == getattr(actor, "organization_id", None)
    )
