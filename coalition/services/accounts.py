"""Organizations, people, invitations and tokens: the account use cases."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for

from coalition.actors import Actor
from coalition.config import current_settings
from coalition.i18n import N_
from coalition.models.base import utcnow
from coalition.models.organizations import Organization, OrgStatus
from coalition.models.users import ApiToken, CoalitionRole, Invitation, OrgRole, User
from coalition.security import (
    TokenError,
    hash_password,
    new_api_token,
    password_fingerprint,
    unsign,
)
from coalition.services.audit import audit, diff
from coalition.services.errors import ServiceError
from coalition.services.mail import TOKEN_PLACEHOLDER, LinkToken, build_message, queue_email
from coalition.sessions import Session

INVITE_PURPOSE = "invite"
RESET_PURPOSE = "reset"


def slugify(name: str) -> str:
    """A URL-safe slug from a name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "org"


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively."""
    return email.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    """Look up a user by email."""
    return session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_organization(session: Session, actor: Actor | None, **fields: Any) -> Organization:
    """Add a member organization (pending until a coordinator approves it)."""
    fields.setdefault("slug", slugify(fields["name"]))
    if session.scalar(sa.select(Organization.id).where(Organization.slug == fields["slug"])):
        raise ServiceError("An organization with this slug already exists.", "slug")
    org = Organization(**fields)
    session.add(org)
    session.flush()
    audit(session, actor, "organization.created", org, {"name": org.name, "slug": org.slug})
    return org


def update_organization(
    session: Session, actor: Actor | None, org: Organization, **values: Any
) -> None:
    """Change an organization's details, auditing what changed."""
    changes = diff(org, values)
    if changes:
        session.flush()
        audit(session, actor, "organization.updated", org, changes)


def set_organization_status(
    session: Session, actor: Actor | None, org: Organization, status: OrgStatus
) -> None:
    """Approve, suspend or reactivate an organization."""
    if org.status == status:
        raise ServiceError(f"The organization is already {status.value}.", status=409)
    old = org.status
    org.status = status
    if status == OrgStatus.SUSPENDED:  # reactivating later must not revive old sessions
        _end_sessions_of(session, org)
    session.flush()
    audit(session, actor, f"organization.{status.value}", org, {"status": [old, status]})


def _end_sessions_of(session: Session, org: Organization) -> None:
    """Sign every person of an organization out everywhere."""
    session.execute(
        sa.update(User)
        .where(User.organization_id == org.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session="fetch")
    )


def create_user(
    session: Session, actor: Actor | None, email: str, name: str, **fields: Any
) -> User:
    """Add a person; emails are unique."""
    email = normalise_email(email)
    if find_user(session, email) is not None:
        raise ServiceError("Someone with this email already has an account.", "email")
    password = fields.pop("password", None)
    user = User(email=email, name=name, **fields)
    if password:
        user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    audit(session, actor, "user.created", user, {"email": email, **_role_fields(user)})
    return user


def _role_fields(user: User) -> dict[str, Any]:
    """The role-bearing fields, for the audit log."""
    return {
        "organization_id": user.organization_id,
        "org_role": user.org_role,
        "coalition_role": user.coalition_role,
    }


def create_coordinator(session: Session, email: str, name: str, password: str) -> User:
    """Create a coalition coordinator account (from the CLI)."""
    return create_user(
        session, None, email, name, password=password, coalition_role=CoalitionRole.COORDINATOR
    )


def invite(
    session: Session, actor: User, org: Organization, email: str, name: str, role: OrgRole
) -> Invitation:
    """Invite someone to an organization and queue the email with a signed link."""
    email = normalise_email(email)
    if find_user(session, email) is not None:
        raise ServiceError("Someone with this email already has an account.", "email")
    _revoke_open_invitations(session, org, email)
    invitation = Invitation(
        email=email, name=name, organization=org, org_role=role, invited_by_id=actor.id
    )
    session.add(invitation)
    session.flush()
    audit(session, actor, "invitation.created", invitation, {"email": email, "org_role": role})
    token = LinkToken(INVITE_PURPOSE, {"id": invitation.id, "email": invitation.email})
    queue_email(
        session, _invitation_email(invitation, actor), "invitation.created", link_token=token
    )
    return invitation


def _revoke_open_invitations(session: Session, org: Organization, email: str) -> None:
    """A new invitation replaces older open ones for the same person."""
    session.execute(
        sa.update(Invitation)
        .where(
            Invitation.organization_id == org.id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


def _invitation_email(invitation: Invitation, actor: Actor | None) -> Any:
    """The invitation message with its signed, expiring link."""
    link = external_url("auth.accept_invitation", token=TOKEN_PLACEHOLDER)  # signed when sent
    return build_message(
        invitation.email,
        f"You are invited to join {invitation.organization.name} on Coalition",
        "invitation",
        invitation=invitation,
        inviter=actor,
        link=link,
        hours=current_settings().invitation_max_age // 3600,
    )


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for emails, built on BASE_URL."""
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def invitation_from_token(session: Session, token: str) -> Invitation:
    """Resolve a signed invitation link; refuse forged, expired, used or revoked ones."""
    data = unsign(INVITE_PURPOSE, token, current_settings().invitation_max_age)
    invitation = session.get(Invitation, data.get("id"))
    if invitation is None or invitation.email != data.get("email"):
        raise TokenError(N_("This link is not valid."))
    if not invitation.is_open:
        raise TokenError(N_("This invitation has already been used or was withdrawn."))
    return invitation


def accept_invitation(session: Session, invitation: Invitation, name: str, password: str) -> User:
    """Create the invited person's account; the invitation is single-use."""
    claimed = session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenError(N_("This invitation has already been used."))
    user = create_user(
        session,
        None,
        invitation.email,
        name,
        password=password,
        organization_id=invitation.organization_id,
        org_role=invitation.org_role,
    )
    audit(session, user, "invitation.accepted", invitation, {"user_id": user.id})
    return user


def revoke_invitation(session: Session, actor: Actor | None, invitation: Invitation) -> None:
    """Withdraw an open invitation."""
    if not invitation.is_open:
        raise ServiceError("This invitation is no longer open.", status=409)
    invitation.revoked_at = utcnow()
    session.flush()
    audit(session, actor, "invitation.revoked", invitation, {"email": invitation.email})


def change_org_role(session: Session, actor: Actor | None, user: User, role: OrgRole) -> None:
    """Make someone an org admin or a member."""
    if user.org_role == role:
        return
    audit(session, actor, "user.role_changed", user, {"org_role": [user.org_role, role]})
    user.org_role = role
    session.flush()


def set_user_disabled(session: Session, actor: Actor | None, user: User, disabled: bool) -> None:
    """Disable or re-enable a person's account."""
    if user.disabled == disabled:
        return
    user.disabled = disabled
    user.end_sessions()  # a cookie from before a disable never works again, even once re-enabled
    session.flush()
    audit(session, actor, "user.disabled" if disabled else "user.enabled", user, {})


def sign_out(session: Session, user: User) -> None:
    """End this person's sessions server-side, so a copied cookie dies with the sign-out."""
    user.end_sessions()
    session.flush()


def request_password_reset(session: Session, email: str) -> None:
    """Queue a reset email if the account exists (the page never says whether it does)."""
    user = find_user(session, email)
    if user is None or not user.is_active:
        return
    token = LinkToken(
        RESET_PURPOSE, {"id": user.id, "fp": password_fingerprint(user.password_hash)}
    )
    link = external_url("auth.reset_password", token=TOKEN_PLACEHOLDER)  # signed at send time
    minutes = current_settings().reset_max_age // 60
    message = build_message(
        user.email, "Reset your Coalition password", "reset", user=user, link=link, minutes=minutes
    )
    queue_email(session, message, "password.reset_requested", user.id, link_token=token)


def user_from_reset_token(session: Session, token: str) -> User:
    """Resolve a reset link; it expires and dies once the password has changed."""
    data = unsign(RESET_PURPOSE, token, current_settings().reset_max_age)
    user = session.get(User, data.get("id"))
    if user is None or password_fingerprint(user.password_hash) != data.get("fp"):
        raise TokenError(N_("This link has already been used or is not valid."))
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Store a new password hash; every session signed in before it ends."""
    user.password_hash = hash_password(password)
    user.end_sessions()
    session.flush()
    audit(session, user, "user.password_changed", user, {})


def issue_api_token(
    session: Session,
    actor: Actor | None,
    org: Organization | None = None,
    user: User | None = None,
    label: str = "",
) -> tuple[ApiToken, str]:
    """Create a bearer token for an organization or a coordinator; return it once."""
    token, token_hash = new_api_token()
    row = ApiToken(
        token_hash=token_hash,
        prefix=token[:10],
        label=label,
        organization_id=org.id if org else None,
        user_id=user.id if user else None,
        created_by_id=getattr(actor, "id", None),
    )
    session.add(row)
    session.flush()
    audit(session, actor, "api_token.created", row, {"prefix": row.prefix, "label": label})
    return row, token


def revoke_api_token(session: Session, actor: Actor | None, token: ApiToken) -> None:
    """Revoke a bearer token."""
    if token.revoked_at is not None:
        raise ServiceError("This token is already revoked.", status=409)
    token.revoked_at = utcnow()
    session.flush()
    audit(session, actor, "api_token.revoked", token, {"prefix": token.prefix})
